"""Check a patient table against the data dictionary and list every problem.

``validate(frame, settings=None)`` returns one :class:`~pannet_core.io.schema.Problem`
per problem found (data row, column, value, what is wrong, how to fix it,
severity).  Rows are *data rows*: data row 1 is the first row under the
header (line 2 of a CSV file, row 2 in Excel); messages say "data row N",
as ``reading`` and ``generic`` do.  Errors make the file unusable (:func:`is_usable`);
warnings point at rows that will be left out or values worth checking.

Pan-NET registries (no settings, or settings with a ``study`` block) are
checked against the dictionary: required columns, duplicate ids, values that
are not of the column's type or not allowed, impossible dates and
implausible numbers.  Tables for generic ``columns`` settings are checked for
the four named columns, unique ids, usable survival times and two-valued
treatment and event columns.

All checks are vectorised; only failing rows create ``Problem`` objects.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io.coding import binary_codes
from pannet_core.io.coercion import coerce_to_schema
from pannet_core.io.raw_types import to_float
from pannet_core.io.schema import BY_NAME, FIELDS, PROBLEMS_ATTR, REQUIRED, REQUIRED_ONE_OF, Problem

__all__ = ["Problem", "validate", "validation_report", "is_usable"]

# (earlier column, later column, severity, problem, fix): later must not be before earlier
_DATE_ORDER = (
    ("stage4_date", "death_date", "error", "The date of death ({late}) is before the stage IV diagnosis ({early}).",
     "Check both dates (day and month may be swapped, or the year mistyped)."),
    ("stage4_date", "last_followup_date", "error",
     "The last follow-up ({late}) is before the stage IV diagnosis ({early}).",
     "Check both dates; the last follow-up is the last visit or contact, after the diagnosis."),
    ("stage4_date", "progression_date", "error",
     "The first progression ({late}) is before the stage IV diagnosis ({early}).",
     "Check both dates; progression is counted after stage IV was diagnosed."),
    ("birth_date", "stage4_date", "error", "The date of birth ({early}) is after the stage IV diagnosis ({late}).",
     "Check both dates (a diagnosis date may be in the birth-date column or the other way round)."),
    ("primary_resection_date", "death_date", "error",
     "The primary tumour resection ({early}) is after the date of death ({late}).",
     "Check both dates; a resection cannot come after death."),
    ("liver_resection_date", "death_date", "error",
     "The liver resection ({early}) is after the date of death ({late}).",
     "Check both dates; a resection cannot come after death."),
    ("liver_ablation_date", "death_date", "error",
     "The liver ablation ({early}) is after the date of death ({late}).",
     "Check both dates; an ablation cannot come after death."),
    ("progression_date", "death_date", "error", "The first progression ({early}) is after the date of death ({late}).",
     "Check both dates; progression is recorded while the patient is alive."),
    ("birth_date", "death_date", "error", "The date of birth ({early}) is after the date of death ({late}).",
     "Check both dates."),
    ("last_followup_date", "death_date", "warning",
     "The last follow-up ({early}) is after the date of death ({late}).",
     "For a patient who died, set the last follow-up to the date of death or leave it empty."),
)


def _day(v) -> str:
    return pd.Timestamp(v).strftime("%Y-%m-%d")


def _clean(v):
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return _day(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _problems_at(mask: np.ndarray, column, values, problem, fix: str, severity: str = "error") -> list[Problem]:
    """One Problem per True in ``mask``.

    ``values`` is a Series, an array or None; ``problem`` is a str or a
    function of the 0-based row position.
    """
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    if values is None:
        vals = [None] * len(idx)
    elif isinstance(values, pd.Series):
        vals = values.iloc[idx].tolist()
    else:
        vals = list(np.asarray(values, dtype=object)[idx])
    return [Problem(int(i) + 1, column, _clean(v), problem(i) if callable(problem) else problem, fix, severity)
            for i, v in zip(idx, vals)]


# ---------------------------------------------------------------------------
# Pan-NET registry
def _check_required(frame: pd.DataFrame) -> list[Problem]:
    probs = []
    for col in REQUIRED:
        if col not in frame.columns:
            syn = ", ".join(BY_NAME[col].synonyms[:4])
            probs.append(Problem(None, col, None, f"The table has no column for {col} "
                                 f"({BY_NAME[col].description.rstrip('.')}).",
                                 f"Add a column called {col} (or e.g. {syn}), or map your column to {col} "
                                 "in the column map.", "error"))
    for group in REQUIRED_ONE_OF:
        if not any(c in frame.columns for c in group):
            probs.append(Problem(None, group[0], None, f"The table has none of the columns {', '.join(group)}; "
                                 "survival cannot be computed without them.",
                                 f"Add {group[0]} (empty for patients alive) and {group[1]} (the last visit).",
                                 "error"))
    return probs


def _all_missing(frame: pd.DataFrame) -> np.ndarray:
    """``frame.isna().all(axis=1).to_numpy()``, column by column, stopping once no row can be empty."""
    empty = np.ones(len(frame), dtype=bool)
    for k in range(frame.shape[1]):
        if not empty.any():
            break
        empty &= frame.iloc[:, k].isna().to_numpy()
    return empty


def _duplicated(ids: pd.Series) -> np.ndarray:
    """``(ids.duplicated(keep="first") & ids.notna()).to_numpy()``, without hashing ids in increasing order.

    Registry exports usually list patients by id: when the present ids are
    strictly increasing none repeats, which one comparison of neighbours
    shows without hashing.
    """
    if strictly_increasing(ids):
        return np.zeros(len(ids), dtype=bool)
    return (ids.duplicated(keep="first") & ids.notna()).to_numpy()


def strictly_increasing(s: pd.Series) -> bool:
    """Whether the non-missing values of ``s`` are strictly increasing (False when not cheaply known)."""
    if isinstance(s.dtype, pd.StringDtype) and hasattr(s.array, "_pa_array"):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = s.array._pa_array
        present = arr.drop_null() if arr.null_count else arr
        if isinstance(present, pa.ChunkedArray):
            present = present.combine_chunks()
        if len(present) < 2:
            return True
        # byte-wise order of the UTF-8 text: a strict total order, so increasing means distinct
        return bool(pc.all(pc.less(present.slice(0, len(present) - 1), present.slice(1))).as_py())
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype):
        v = s.dropna().to_numpy()
        return bool((v[1:] > v[:-1]).all())
    return False


def _dates_before(late: pd.Series, early: pd.Series) -> np.ndarray:
    """``(early.notna() & late.notna() & (late < early)).to_numpy()`` (in numpy for datetime64 columns)."""
    if isinstance(late.dtype, np.dtype) and late.dtype.kind == "M" and late.dtype == early.dtype:
        lv, ev = late.to_numpy(), early.to_numpy()
        return ~np.isnat(lv) & ~np.isnat(ev) & (lv < ev)
    return (early.notna() & late.notna() & (late < early)).to_numpy()


def _dates_after(s: pd.Series, today: pd.Timestamp) -> np.ndarray:
    """``(s > today).to_numpy(dtype=bool, na_value=False)`` (in numpy for datetime64[ns] columns)."""
    if s.dtype == "datetime64[ns]":
        a = s.to_numpy()
        return ~np.isnat(a) & (a > today.to_datetime64().astype("datetime64[ns]"))
    return (s > today).to_numpy(dtype=bool, na_value=False)


def _check_rows(typed: pd.DataFrame) -> list[Problem]:
    probs: list[Problem] = []
    empty = _all_missing(typed)
    probs += _problems_at(empty, None, None, "The row is empty.",
                          "Delete the empty row (it is ignored).", "warning")
    live = ~empty
    if "patient_id" in typed.columns:
        ids = typed["patient_id"]
        miss = ids.isna().to_numpy() & live
        probs += _problems_at(miss, "patient_id", ids, "The patient id is empty.",
                              "Give every patient a study id (a number or a code, not the personal "
                              "identity number).")
        dup = _duplicated(ids)
        if dup.any():
            first_row = {}
            for i, v in enumerate(ids.to_numpy(dtype=object)):
                if v is not pd.NA and v not in first_row:
                    first_row[v] = i + 1
            vals = ids.to_numpy(dtype=object)
            probs += _problems_at(dup, "patient_id", vals,
                                  lambda i: f"Patient id {vals[i]!r} is used more than once "
                                            f"(first in data row {first_row.get(vals[i])}).",
                                  "Keep one row per patient: merge the rows or give each patient its own id.")
    if "stage4_date" in typed.columns:
        miss = typed["stage4_date"].isna().to_numpy() & live
        probs += _problems_at(miss, "stage4_date", None,
                              "The stage IV diagnosis date is empty; this patient will be left out.",
                              "Fill in the date of stage IV diagnosis.", "warning")
    ends = [c for c in ("death_date", "last_followup_date") if c in typed.columns]
    if ends:
        miss = np.logical_and.reduce([typed[c].isna().to_numpy() for c in ends]) & live
        probs += _problems_at(miss, ends[0], None,
                              "Neither a date of death nor a last follow-up date is given; this patient "
                              "will be left out.",
                              "Fill in the date of death, or the date of the last follow-up for a patient alive.",
                              "warning")
    return probs


def _check_dates(typed: pd.DataFrame, today: pd.Timestamp) -> list[Problem]:
    probs: list[Problem] = []
    for early, late, severity, text, fix in _DATE_ORDER:
        if early not in typed.columns or late not in typed.columns:
            continue
        e, l_ = typed[early], typed[late]
        bad = _dates_before(l_, e)
        if bad.any():
            ev, lv = e.to_numpy(), l_.to_numpy()
            probs += _problems_at(bad, late, l_,
                                  lambda i, text=text, ev=ev, lv=lv: text.format(early=_day(ev[i]), late=_day(lv[i])),
                                  fix, severity)
    for f in FIELDS:
        if f.type != "date" or f.name not in typed.columns:
            continue
        s = typed[f.name]
        bad = _dates_after(s, today)
        probs += _problems_at(bad, f.name, s, f"The date {f.name} is in the future.",
                              "Check the year (and whether day and month are swapped).")
    age = None
    if "age_at_diagnosis" in typed.columns:
        age = typed["age_at_diagnosis"].astype(float)
    if "birth_date" in typed.columns and "stage4_date" in typed.columns:
        computed = (typed["stage4_date"] - typed["birth_date"]).dt.days / 365.25
        computed = computed.where(computed >= 0)  # birth after diagnosis is reported above
        age = computed if age is None else age.fillna(computed)
    if age is not None:
        a = age.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isfinite(a) & ((a < 0) | (a > 110))
        probs += _problems_at(bad, "age_at_diagnosis", a,
                              lambda i: f"The age at stage IV diagnosis is {a[i]:.1f} years, which is impossible.",
                              "Check the date of birth, the diagnosis date and the age column.")
    if {"resection_before_stage4", "primary_resection_date", "stage4_date"} <= set(typed.columns):
        flag = typed["resection_before_stage4"]
        before = (typed["primary_resection_date"] < typed["stage4_date"]).to_numpy(dtype=bool, na_value=False)
        bad = before & (flag == False).to_numpy(dtype=bool, na_value=False)  # noqa: E712
        probs += _problems_at(bad, "resection_before_stage4", flag,
                              "The primary resection date is before the stage IV diagnosis, but "
                              "resection_before_stage4 says no.",
                              "Correct one of the two: the dates or the yes/no answer.", "warning")
    return probs


def _check_numbers(typed: pd.DataFrame) -> list[Problem]:
    probs: list[Problem] = []
    for f in FIELDS:
        if f.type not in ("number", "integer") or f.name not in typed.columns:
            continue
        s = typed[f.name]
        a = s.to_numpy(dtype=float, na_value=np.nan)
        lo = -np.inf if f.minimum is None else f.minimum
        hi = np.inf if f.maximum is None else f.maximum
        bad = np.isfinite(a) & ((a < lo) | (a > hi))
        if f.name == "age_at_diagnosis":
            continue  # reported with the dates
        unit = f" {f.unit}" if f.unit else ""
        probs += _problems_at(bad, f.name, a,
                              lambda i, f=f, unit=unit, a=a: f"{f.name} is {a[i]:g}{unit}; it must be between "
                                                        f"{f.minimum:g} and {f.maximum:g}{unit}.",
                              f"Correct the value ({f.description.rstrip('.')}).")
    if {"liver_mets", "liver_mets_n"} <= set(typed.columns):
        bad = ((typed["liver_mets"] == False) & (typed["liver_mets_n"] > 0)).to_numpy(  # noqa: E712
            dtype=bool, na_value=False)
        probs += _problems_at(bad, "liver_mets_n", typed["liver_mets_n"],
                              "A number of liver metastases is given but liver_mets says no.",
                              "Correct liver_mets or the number of liver metastases.", "warning")
    return probs


def _validate_pannet(frame: pd.DataFrame, today: pd.Timestamp, typed: bool = False) -> list[Problem]:
    probs: list[Problem] = list(frame.attrs.get(PROBLEMS_ATTR, ()))
    # read_table's frame is already converted (a second conversion returns it unchanged, without problems)
    typed, coerce_probs = (frame, []) if typed else coerce_to_schema(frame)
    probs += _check_required(typed) + coerce_probs
    probs += _check_rows(typed)
    probs += _check_dates(typed, today)
    probs += _check_numbers(typed)
    return probs


# ---------------------------------------------------------------------------
# generic one-row-per-patient tables
def _coding(frame: pd.DataFrame, col: str, role: str, chosen) -> tuple[np.ndarray | None, PanNetError | None]:
    """How ``run`` reads a treatment or event column: 1, 0, or -1 where empty, per row.

    Returns ``(codes, None)``, or ``(None, error)`` with the message ``run`` would stop with when it
    cannot tell which value means treated / event (:func:`~pannet_core.io.coding.binary_codes`).
    """
    s = frame[col]
    known = s.notna().to_numpy()
    try:
        codes = binary_codes(s[known], col, role, chosen)
    except PanNetError as e:
        return None, e
    out = np.full(len(s), -1, dtype=np.int8)
    out[known] = codes
    return out, None


def _time_zero_problems(c, zero: np.ndarray, vals, every: bool, event: np.ndarray | None) -> list[Problem]:
    """Problems of follow-up times of exactly 0, with the same rules as :func:`generic.prepare_generic`.

    A patient censored at time 0 has no follow-up: an error, as ``run``
    refuses the file. An event at time 0 (death on the day of surgery) is
    allowed: a warning to check it. When every time is 0 there is nothing to
    analyse: an error for the file. ``event`` is :func:`_coding` of the event column (None when
    it cannot be read).
    """
    probs: list[Problem] = []
    if every:
        probs.append(Problem(None, c.time, None, f"Every time in {c.time!r} is 0: there is no "
                             "follow-up to analyse.",
                             f"Check the time column and columns.time_unit ({c.time_unit}) in the settings; times "
                             "are the follow-up from baseline to the event or the last contact.", "error"))
    if event is None:  # event coding unknown: cannot tell censored from event
        return probs + _problems_at(zero, c.time, vals, "The follow-up time is 0.",
                                    "Check it: a patient censored at time 0 has no follow-up, and the analysis "
                                    "refuses such rows (an event at time 0 is allowed).", "warning")
    censored = event == 0
    probs += _problems_at(zero & censored, c.time, vals,
                          "The follow-up time is 0 and the patient had no event: censored at time 0, the patient "
                          "has no follow-up.",
                          "Correct the time (usually the dates it was computed from) or remove the row; the "
                          "analysis refuses the file until then. An event at time 0 is allowed.")
    probs += _problems_at(zero & ~censored, c.time, vals, "The follow-up time is 0 with an event (an event on "
                          "the first day).",
                          "Check it; an event at time 0 (e.g. death on the day of surgery) is allowed and counted "
                          "at time 0.", "warning")
    return probs


def _validate_generic(frame: pd.DataFrame, settings) -> list[Problem]:
    c = settings.columns
    probs: list[Problem] = []
    roles = {"id": c.id, "treatment": c.treatment, "time": c.time, "event": c.event}
    for role, col in roles.items():
        if col not in frame.columns:
            probs.append(Problem(None, col, None, f"The {role} column {col!r} named in the settings is not in "
                                 "the table.", f"Rename a column of the file to {col!r}, or change "
                                 f"columns.{role} in the settings. The file has: "
                                 f"{', '.join(map(str, list(frame.columns)[:20]))}.", "error"))
    wanted = list(settings.propensity.covariates) + list(settings.matching.exact)
    for col in dict.fromkeys(wanted):
        if col not in frame.columns:
            probs.append(Problem(None, col, None, f"The covariate {col!r} named in the settings is not in the "
                                 "table.", "Remove it from the settings or add the column.", "error"))
    if c.id in frame.columns:
        ids = frame[c.id]
        vals = ids.to_numpy(dtype=object)
        probs += _problems_at(ids.isna().to_numpy(), c.id, vals, "The id is empty.", "Give every patient an id.")
        probs += _problems_at(_duplicated(ids), c.id, vals,
                              lambda i: f"Id {vals[i]!r} is used more than once.",
                              "Keep one row per patient (this format has one row per patient).")
    # run's reading of the two coded columns, once: (codes or None, run's error or None)
    coding = {role: _coding(frame, col, role, c.treated_value if role == "treatment" else c.event_value)
              for role, col in (("treatment", c.treatment), ("event", c.event)) if col in frame.columns}
    if c.time in frame.columns:
        raw = frame[c.time]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            t = raw.astype(float)
        else:
            text = raw.astype("str").str.strip().str.replace(r"^([+-]?\d*),(\d+)$", r"\1.\2", regex=True)
            t = to_float(text)
        vals = raw.to_numpy(dtype=object)
        a = t.to_numpy(dtype=float, na_value=np.nan)
        text_bad = raw.notna().to_numpy() & ~np.isfinite(a)
        probs += _problems_at(text_bad, c.time, vals, lambda i: f"The time {vals[i]!r} is not a number.",
                              f"Write the follow-up time as a number of {c.time_unit}.")
        probs += _problems_at(raw.isna().to_numpy(), c.time, vals, "The follow-up time is empty.",
                              "Every patient needs a follow-up time; fill it in or remove the row.")
        probs += _problems_at(np.isfinite(a) & (a < 0), c.time, vals,
                              lambda i: f"The follow-up time {a[i]:g} is negative.",
                              "Follow-up times are zero or positive; check the dates they were computed from.")
        zero = np.isfinite(a) & (a == 0)
        if zero.any():
            probs += _time_zero_problems(c, zero, vals, bool(zero[np.isfinite(a)].all()),
                                         coding.get("event", (None, None))[0])
    for role, col in (("treatment", c.treatment), ("event", c.event)):
        if col not in frame.columns:
            continue
        s = frame[col]
        distinct = pd.unique(s.dropna())
        shown = ", ".join(sorted(map(str, distinct))[:6])
        if len(distinct) > 2:
            probs.append(Problem(None, col, None, f"The {role} column {col!r} has {len(distinct)} different values "
                                 f"({shown}); it must have two.",
                                 f"Recode {col!r} to two values such as 0/1 or yes/no.", "error"))
        elif len(distinct) < 2:
            probs.append(Problem(None, col, None, f"The {role} column {col!r} has only one value ({shown}).",
                                 "There is nothing to compare: " + ("both groups must have patients."
                                                                    if role == "treatment" else
                                                                    "no patient had the event, or none was "
                                                                    "censored; check the coding."),
                                 "error" if role == "treatment" else "warning"))
        elif coding[role][1] is not None:  # two values, but run cannot tell which one means treated / event
            e = coding[role][1]
            probs.append(Problem(None, col, None, e.problem, e.fix, "error"))
        probs += _problems_at(s.isna().to_numpy(), col, s, f"The {role} is empty.",
                              f"Fill in the {role} for every patient, or remove the row.")
    return probs


# ---------------------------------------------------------------------------
def validate(frame: pd.DataFrame, settings=None, *, today: _dt.date | None = None,
             typed: bool = False) -> list[Problem]:
    """Every problem in a patient table.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`pannet_core.io.reading.read_table` (``.frame``);
        a table with canonical column names but raw values also works (it is
        converted with :func:`~pannet_core.io.reading.coerce_to_schema`).
    settings : Settings, optional
        With a ``columns`` block the table is checked as a generic one-row-
        per-patient table; otherwise against the Pan-NET dictionary.
    today : datetime.date, optional
        Dates after this are "in the future" (default: today).
    typed : bool, optional
        ``True`` when ``frame`` is exactly the ``.frame`` of a Pan-NET
        :func:`~pannet_core.io.reading.read_table` (already converted to the
        dictionary types): the conversion is not repeated.  Leave it
        ``False`` for a table that was changed after reading.

    Returns
    -------
    list of Problem
        File- and column-level problems first, then by row.
    """
    if not isinstance(frame, pd.DataFrame):
        raise PanNetError(f"Expected a table, got a {type(frame).__name__}.", "Read the file with read_table first.")
    if frame.columns.duplicated().any():
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        return [Problem(None, d, None, f"The column name {d!r} is used more than once.",
                        "Give every column a unique header.", "error") for d in dup]
    if len(frame) == 0:
        return [Problem(None, None, None, "The table has no rows.", "Add one row per patient.", "error")]
    now = pd.Timestamp(today or _dt.date.today())
    if settings is not None and getattr(settings, "columns", None) is not None:
        probs = _validate_generic(frame, settings)
    else:
        probs = _validate_pannet(frame, now, typed)
    return sorted(probs, key=lambda p: (p.row is not None, p.row or 0))


def is_usable(problems: list[Problem]) -> bool:
    """``True`` when no problem is an error (warnings allowed)."""
    return not any(p.severity == "error" for p in problems)


def validation_report(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a tidy table: row (the data row), column, value, problem, fix, severity (one row each)."""
    cols = ["row", "column", "value", "problem", "fix", "severity"]
    if not problems:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else "str") for c in cols})
    out = pd.DataFrame({
        "row": pd.array([p.row for p in problems], dtype="Int64"),
        "column": pd.array([p.column for p in problems], dtype="str"),
        "value": pd.array([None if p.value is None else str(p.value) for p in problems], dtype="str"),
        "problem": pd.array([p.problem for p in problems], dtype="str"),
        "fix": pd.array([p.fix for p in problems], dtype="str"),
        "severity": pd.array([p.severity for p in problems], dtype="str"),
    })
    return out
