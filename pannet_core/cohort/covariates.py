"""Derived covariates of the Pan-NET studies (raw and binned, Table 1 levels).

Raw (float): ``age`` (at stage IV: ``age_at_diagnosis``, else from
``birth_date``), ``calendar_year`` (year of ``stage4_date``), ``age_baseline``
(age at baseline, seed 001), ``baseline_year``; the canonical ``charlson``,
``primary_size_cm``, ``liver_mets_n`` are used as they are.

Binned (ordered categoricals, FIRST level = reference; ASCII labels):

=======================  ==========================================  ========================
column                   levels                                      from
=======================  ==========================================  ========================
age_group                <50, 50-59, 60-69, >=70                     age (000)
calendar_period          2000-2009, 2010-2019                        calendar_year (000)
charlson_group           0-1, 2-3, >=4                               charlson (000)
primary_size_group       <2, 2-5, >5                                 primary_size_cm (000)
liver_mets_group         1-3, 4-9, >=10                              liver_mets_n (000)
age_group_001            <50, 50-59, 60-70, >70                      age_baseline, whole years
time_period_001          1995-2005, 2006-2018                        baseline_year
who_grade_001            G1, G2, G3                                  who_grade (NEC -> G3)
liver_mets_group_001     0-3, 4-9, >=10                              liver_mets_n
liver_met_size_group_001 0-3, 4-9, >=10                              liver_met_max_cm
primary_size_group_001   0-3, 4-9, >=10                              primary_size_cm
cga_group_001            within ref, 1-3x ref, >=3x ref              cga_uln (multiples of ULN)
charlson_group_001       0, 1, 2, 3, >=4                             charlson
=======================  ==========================================  ========================

Boundaries: ``2-5`` cm includes 2 and 5; ``<2`` is below 2; ``>5`` above 5.
The 001 size bins read "0-3" as below 4 cm, "4-9" as 4 to below 10 cm (the
seed reports whole centimetres).  A liver metastasis count of 0 falls in
``1-3`` (000's table has no 0 row).  ``who_grade`` "unknown" is missing for
``who_grade_001``.  CgA: <= 1 x ULN within reference, below 3 x ULN "1-3x".
Calendar years outside 2000-2019 get the levels ``<2000`` / ``>2019`` (and
1995-2018 outside get ``<1995`` / ``>2018``) so nothing is silently mislabelled.

Missing values become the last level ``N/A`` when ``missing == "level"``
(only when a value is missing, so no empty level is created); with
``"drop"`` they stay missing and the cohort drops the row with a reason.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25
NA_LEVEL = "N/A"

#: Display names (dashboard, Table 1).
COVARIATE_LABELS: dict[str, str] = {
    "age": "Age",
    "age_group": "Age",
    "age_baseline": "Age at baseline",
    "age_group_001": "Age (years)",
    "sex": "Sex",
    "functioning": "Hormonal expression (functioning)",
    "calendar_year": "Calendar year",
    "calendar_period": "Calendar year",
    "baseline_year": "Year of baseline",
    "time_period_001": "Time period",
    "charlson": "Charlson comorbidity index",
    "charlson_group": "Charlson CI",
    "charlson_group_001": "Charlson co-morbidity index",
    "primary_size_cm": "Size primary tumour (cm)",
    "primary_size_group": "Size primary tumor (cm)",
    "primary_size_group_001": "Size primary tumour (cm)",
    "liver_mets_n": "Number of liver metastases",
    "liver_mets_group": "No liver met",
    "liver_mets_group_001": "Number of liver metastases",
    "liver_met_max_cm": "Size of largest metastasis (cm)",
    "liver_met_size_group_001": "Size of largest metastasis (cm)",
    "extra_abdominal_mets": "Extra-abdominal metastases",
    "extrahepatic_mets": "Extrahepatic metastases",
    "who_grade": "WHO grade",
    "who_grade_001": "WHO grade",
    "hereditary": "Genetics",
    "cga_uln": "Chromogranin A (x ULN)",
    "cga_group_001": "Chromogranin A",
    "albumin": "Serum albumin",
    "ki67": "Ki-67 index (%)",
}

_LEVELS: dict[str, tuple[str, ...]] = {
    "age_group": ("<50", "50-59", "60-69", ">=70"),
    "calendar_period": ("<2000", "2000-2009", "2010-2019", ">2019"),
    "charlson_group": ("0-1", "2-3", ">=4"),
    "primary_size_group": ("<2", "2-5", ">5"),
    "liver_mets_group": ("1-3", "4-9", ">=10"),
    "age_group_001": ("<50", "50-59", "60-70", ">70"),
    "time_period_001": ("<1995", "1995-2005", "2006-2018", ">2018"),
    "who_grade_001": ("G1", "G2", "G3"),
    "liver_mets_group_001": ("0-3", "4-9", ">=10"),
    "liver_met_size_group_001": ("0-3", "4-9", ">=10"),
    "primary_size_group_001": ("0-3", "4-9", ">=10"),
    "cga_group_001": ("within ref", "1-3x ref", ">=3x ref"),
    "charlson_group_001": ("0", "1", "2", "3", ">=4"),
}

#: Binned covariates and the raw column each is made from.
BINNED_FROM: dict[str, str] = {
    "age_group": "age", "calendar_period": "calendar_year", "charlson_group": "charlson",
    "primary_size_group": "primary_size_cm", "liver_mets_group": "liver_mets_n",
    "age_group_001": "age_baseline", "time_period_001": "baseline_year", "who_grade_001": "who_grade",
    "liver_mets_group_001": "liver_mets_n", "liver_met_size_group_001": "liver_met_max_cm",
    "primary_size_group_001": "primary_size_cm", "cga_group_001": "cga_uln",
    "charlson_group_001": "charlson",
}

DERIVED_COLUMNS = ("age", "calendar_year", "age_baseline", "baseline_year") + tuple(_LEVELS)

#: Every input column :func:`derive_covariates` reads besides ``baseline_col`` (the cohort hands it only these).
READS = ("age_at_diagnosis", "stage4_date", "birth_date", "charlson", "primary_size_cm", "liver_mets_n",
         "liver_met_max_cm", "cga_uln", "who_grade")


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").astype(float).to_numpy(na_value=np.nan)


def _date(frame: pd.DataFrame, col: str) -> pd.Series | None:
    if col not in frame:
        return None
    s = frame[col]
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, errors="coerce")
    return s


def _as_datetime64(*series: pd.Series | None) -> list[np.ndarray] | None:
    """The columns' numpy datetime64 values when all are of one numpy datetime64 dtype, else None."""
    if any(s is None for s in series):
        return None
    dtype = series[0].dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind == "M" and all(s.dtype == dtype for s in series)):
        return None
    return [s.to_numpy() for s in series]


def _year(d: pd.Series) -> np.ndarray:
    """``d.dt.year`` as float (NaN where missing)."""
    return d.dt.year.to_numpy(dtype=float, na_value=np.nan)


def _days(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    """``(later - earlier).dt.days`` as float (NaN where either is missing): whole days, rounded down."""
    v = _as_datetime64(later, earlier)
    if v is None:
        return (later - earlier).dt.days.astype(float).to_numpy(na_value=np.nan)
    diff = v[0] - v[1]
    per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(diff.dtype)[0])
    days = (diff.view(np.int64) // per_day).astype(float)
    days[np.isnat(diff)] = np.nan
    return days


def _before_birthday(st4: pd.Series, birth: pd.Series) -> np.ndarray:
    """Whether ``st4``'s month and day come before ``birth``'s (False where either is missing).

    The month and day fields (pandas' field extraction) compared as numpy arrays.
    """
    s_month, b_month = st4.dt.month.to_numpy(), birth.dt.month.to_numpy()  # float with NaN where missing
    s_day, b_day = st4.dt.day.to_numpy(), birth.dt.day.to_numpy()
    return (s_month < b_month) | ((s_month == b_month) & (s_day < b_day))


def _categorical(codes: np.ndarray, name: str, missing: str, index) -> pd.Series:
    """codes: int level index, -1 = missing. Drops unused outer levels (<2000 ...)."""
    levels = list(_LEVELS[name])
    # drop the out-of-range guard levels when unused
    for guard in ("<2000", ">2019", "<1995", ">2018"):
        if guard in levels and not np.any(codes == levels.index(guard)):
            pos = levels.index(guard)
            codes = np.where(codes > pos, codes - 1, codes)
            levels.pop(pos)
    if missing == "level" and np.any(codes < 0):
        codes = np.where(codes < 0, len(levels), codes)
        levels.append(NA_LEVEL)
    cat = pd.Categorical.from_codes(codes, categories=levels, ordered=True, validate=False)  # codes in range
    return pd.Series(cat, index=index, name=name)


def _bin(values: np.ndarray, edges: list[float], right: bool = False) -> np.ndarray:
    """Level index as ``np.digitize`` gives it (increasing ``edges``); NaN -> -1.

    Counted as the edges at or below each value (``right``: below it), one comparison per edge,
    instead of a binary search per value.
    """
    codes = np.zeros(len(values), dtype=np.intp)
    for edge in edges:
        codes += (values > edge) if right else (values >= edge)
    return np.where(np.isnan(values), -1, codes)


def age_at_stage4(frame: pd.DataFrame) -> np.ndarray:
    """Age at stage IV: ``age_at_diagnosis``, else from ``birth_date``.

    From dates: completed years (the birthday counts on the day, so a patient
    born 1950-01-01 is 50 on 2000-01-01) plus the fraction of the year since,
    (days / 365.25) clipped to [0, 1).
    """
    age = _num(frame, "age_at_diagnosis")
    st4, birth = _date(frame, "stage4_date"), _date(frame, "birth_date")
    if st4 is not None and birth is not None:
        # completed calendar years (a birthday counts on the day) + the fraction since then
        y = _year(st4) - _year(birth)
        completed = y - _before_birthday(st4, birth)
        exact = _days(st4, birth) / DAYS_PER_YEAR
        calc = completed + np.clip(exact - completed, 0.0, 0.9999)
        age = np.where(np.isnan(age), calc, age)
    return age


def derive_covariates(frame: pd.DataFrame, missing: str = "level", baseline_col: str = "baseline_date") -> pd.DataFrame:
    """Add every derived covariate to a copy of ``frame``.

    Parameters
    ----------
    frame : DataFrame
        Canonical columns; ``baseline_col`` (from :mod:`pannet_core.cohort.timezero`)
        is used for the seed-001 covariates when present, else stage IV.
    missing : {"level", "drop"}
        ``level``: missing values of binned covariates become level ``N/A``;
        ``drop``: they stay missing.

    Returns
    -------
    DataFrame
        ``frame`` plus the columns in :data:`DERIVED_COLUMNS`.
    """
    idx = frame.index
    new = {}  # the derived columns, added to the frame at once
    age = new["age"] = age_at_stage4(frame)
    st4 = _date(frame, "stage4_date")
    year = new["calendar_year"] = _year(st4) if st4 is not None else np.full(len(frame), np.nan)
    base = _date(frame, baseline_col)
    if base is None:
        base = st4
    if base is not None and st4 is not None:
        shift = _days(base, st4) / DAYS_PER_YEAR
        age_b = age + np.where(np.isnan(shift), 0.0, shift)
    else:
        age_b = age
    new["age_baseline"] = age_b
    new["baseline_year"] = _year(base) if base is not None else np.full(len(frame), np.nan)

    charlson = _num(frame, "charlson")
    size = _num(frame, "primary_size_cm")
    nmets = _num(frame, "liver_mets_n")
    codes = {
        "age_group": _bin(age, [50, 60, 70]),
        "calendar_period": _bin(year, [2000, 2010, 2020]),
        "charlson_group": _bin(charlson, [2, 4]),
        "primary_size_group": np.where(np.isnan(size), -1, np.where(size < 2, 0, np.where(size <= 5, 1, 2))),
        "liver_mets_group": _bin(nmets, [4, 10]),
        "age_group_001": _bin(np.floor(age_b), [50, 60, 71]),
        "time_period_001": _bin(new["baseline_year"], [1995, 2006, 2019]),
        "liver_mets_group_001": _bin(nmets, [4, 10]),
        "liver_met_size_group_001": _bin(_num(frame, "liver_met_max_cm"), [4, 10]),
        "primary_size_group_001": _bin(size, [4, 10]),
        "charlson_group_001": _bin(charlson, [1, 2, 3, 4]),
    }
    cga = _num(frame, "cga_uln")
    codes["cga_group_001"] = np.where(np.isnan(cga), -1, np.where(cga <= 1, 0, np.where(cga < 3, 1, 2)))
    if "who_grade" in frame:
        codes["who_grade_001"] = _grade_001(frame["who_grade"])
    else:
        codes["who_grade_001"] = np.full(len(frame), -1)
    for name in _LEVELS:
        new[name] = _categorical(np.asarray(codes[name], dtype=int), name, missing, idx).array
    if any(c in frame.columns for c in new):  # replaced where they are
        out = frame.copy(deep=False)  # copy-on-write: the new columns never reach ``frame``
        for name, values in new.items():
            out[name] = values
        return out
    return pd.concat([frame, pd.DataFrame(new, index=idx)], axis=1).__finalize__(frame)  # frame's attrs


def _grade_001(grade: pd.Series) -> np.ndarray:
    """``who_grade_001`` codes: G1 0, G2 1, G3 or NEC 2, anything else or missing -1 (decided per distinct value)."""
    codes, uniq = pd.factorize(grade)
    level = {"G1": 0, "G2": 1, "G3": 2, "NEC": 2}
    lookup = np.array([level.get(u, -1) if isinstance(u, str) else -1 for u in uniq] + [-1], dtype=np.int64)
    return lookup[codes]


def _from_codes(codes: np.ndarray, categories: list, missing: str, default: list | None = None) -> pd.Categorical:
    """Ordered categorical of the categories that occur (in their order), plus ``N/A`` for code -1."""
    used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0 if len(categories) else np.zeros(0, bool)
    levels = [c for c, u in zip(categories, used) if u]
    if not levels and default is not None:
        levels = list(default)
    new = np.full(len(categories) + 1, -1, dtype=np.int64)  # last slot: old code -1
    new[np.flatnonzero(used)] = np.arange(int(used.sum()))
    out = new[codes]
    if missing == "level" and (codes < 0).any():
        out[codes < 0] = len(levels)
        levels = levels + [NA_LEVEL]
    return pd.Categorical.from_codes(out, dtype=pd.CategoricalDtype(levels, ordered=True), validate=False)


def as_levels(series: pd.Series, missing: str = "level") -> pd.Series:
    """A canonical categorical column (bool or text) as an ordered categorical.

    Booleans become ``no``/``yes`` (``no`` first = reference); text keeps the
    order of first sorted appearance (``who_grade`` G1 < G2 < ...).  Missing
    values become ``N/A`` when ``missing == "level"``.
    """
    s = series
    if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
        b = s.astype("boolean")
        na = b.isna().to_numpy()
        old = np.where(na, -1, b.fillna(False).to_numpy(dtype=bool).astype(np.int64))
        cat = _from_codes(old, ["no", "yes"], missing, default=["no"])
    elif isinstance(s.dtype, pd.CategoricalDtype):
        cat = _from_codes(s.cat.codes.to_numpy().astype(np.int64), list(s.cat.categories), missing)
    elif s.dtype == "str":
        fcodes, uniq = pd.factorize(s)
        uniq = list(uniq)
        levels = sorted(set(uniq), key=str)
        pos = {v: i for i, v in enumerate(levels)}
        remap = np.array([pos[v] for v in uniq] + [-1], dtype=np.int64)
        cat = _from_codes(remap[fcodes], levels, missing)
    else:
        vals = s.astype(object).where(s.notna(), None).to_numpy()
        levels = sorted({v for v in vals if v is not None}, key=str)
        none = np.fromiter((v is None for v in vals), dtype=bool, count=len(vals))
        if none.any() and missing == "level":
            vals = np.array(vals, dtype=object)
            vals[none] = NA_LEVEL
            levels = levels + [NA_LEVEL]
        cat = pd.Categorical(np.asarray(vals, dtype=object), categories=levels, ordered=True)
    return pd.Series(cat, index=series.index, name=series.name)


def label(name: str) -> str:
    """Display name of a covariate (the name itself if unknown)."""
    return COVARIATE_LABELS.get(name, name.replace("_", " "))
