"""Dictionary columns converted to their types (ids, numbers, yes/no, categories, dates), every bad cell a Problem."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io import arrow_csv, arrow_text
from pannet_core.io.raw_types import to_float
from pannet_core.io.schema import BY_NAME, VALUE_INDEX, Problem, normalise


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask) + 1

_DATE_FIX = ("Write the date as 2019-05-31 (or 31/05/2019, 31.05.2019, 20190531), with a four-digit year, "
             "or leave the cell empty if it is not known.")


def _cell_problems(col: str, values: pd.Series, mask: np.ndarray, problem: str, fix: str,
                   severity: str = "error") -> list[Problem]:
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    vals = values.iloc[idx].tolist()
    return [Problem(int(i) + 1, col, v, problem.format(v=v), fix, severity) for i, v in zip(idx, vals)]


def _text(s: pd.Series, stripped: bool = False) -> pd.Series:
    """Values as stripped text (whole floats without '.0'), missing kept.

    ``stripped=True``: ``str`` cells are already stripped (``read_table`` cleaned them), so
    they are returned as they are instead of being stripped a second time.
    """
    if s.dtype == "str":
        return s if stripped else s.str.strip()
    if pd.api.types.is_bool_dtype(s):
        return s.map(lambda v: v if pd.isna(v) else ("true" if v else "false")).astype("str")
    if pd.api.types.is_numeric_dtype(s):
        def fmt(v):
            if pd.isna(v):
                return v
            v = float(v)
            return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
        return s.map(fmt).astype("str")
    return s.map(lambda v: v if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                                  or v is pd.NaT) else str(v).strip()).astype("str")


def _lookup(s: pd.Series, table: dict[str, str]) -> pd.Series:
    """Map written values through a normalised synonym table (vectorised over distinct values)."""
    codes, uniq = pd.factorize(s)
    hits = np.array([None] + [table.get(normalise(u)) or None for u in uniq], dtype=object)
    return pd.Series(hits[codes + 1], index=s.index, name=s.name)


def _via_uniques(t: pd.Series, fn) -> pd.Series:
    """``fn(t)`` for an elementwise ``fn``, computed once per distinct value (missing stays missing)."""
    codes, uniq = pd.factorize(t)
    res = fn(pd.Series(uniq, dtype=t.dtype))
    return pd.Series(res.array.take(codes, allow_fill=True), index=t.index, name=t.name)


def id_text(s: pd.Series, stripped: bool = False) -> pd.Series:
    """Ids are text, compared and written as in the file (``007`` stays ``007``, long digit ids stay whole)."""
    if pd.api.types.is_integer_dtype(s):
        return s.map(lambda v: v if pd.isna(v) else str(int(v))).astype("str")
    return _text(s, stripped)


def _unit_strip(t: pd.Series, unit: str) -> pd.Series:
    pats = [r"\s*%$"] if unit == "%" else []
    if unit == "cm":
        pats.append(r"\s*cm$")
    if unit.startswith("g/"):
        pats.append(r"\s*g/l$")
    if unit.startswith("×"):
        pats.append(r"\s*(x|×)\s*(uln|ulrv)?$")
        pats.append(r"^(x|×)\s*")
    for p in pats:
        t = t.str.replace(p, "", regex=True, case=False)
    return t


def _coerce_number(col: str, s: pd.Series, integer: bool, stripped: bool = False) -> tuple[pd.Series, list[Problem]]:
    f = BY_NAME[col]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype(float)
        bad = np.zeros(len(s), dtype=bool)
        probs: list[Problem] = []
    else:
        t = _text(s, stripped)
        t2 = _unit_strip(t, f.unit).str.replace(r"^([+-]?\d*),(\d+)$", r"\1.\2", regex=True)
        num = to_float(t2)
        if col in VALUE_INDEX and VALUE_INDEX[col]:
            syn = pd.to_numeric(_lookup(t, VALUE_INDEX[col]), errors="coerce")
            num = num.fillna(syn)
        bad = (t.notna() & num.isna()).to_numpy()
        what = "a whole number" if integer else "a number"
        unit = f" (in {f.unit})" if f.unit else ""
        probs = _cell_problems(col, s, bad, f"{{v!r}} is not {what}.",
                               f"Write {col} as {what}{unit}, e.g. 3{'' if integer else ' or 3.5'}, "
                               "or leave the cell empty if it is not known.")
    if integer:
        arr = num.to_numpy()
        frac = np.isfinite(arr) & (np.floor(arr) != arr)
        if frac.any():
            probs += _cell_problems(col, s, frac, "{v!r} is not a whole number.",
                                    f"{col} counts something; write a whole number such as 2.")
            num = num.mask(frac)
    return num.astype("float64"), probs


def _coerce_yesno(col: str, s: pd.Series, stripped: bool = False) -> tuple[pd.Series, list[Problem]]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean"), []
    t = _text(s, stripped)
    codes, uniq = pd.factorize(t)  # look each distinct spelling up once
    hits = [VALUE_INDEX[col].get(normalise(u)) or None for u in uniq]
    yes = np.array([h == "yes" for h in hits] + [False])[codes]
    no = np.array([h == "no" for h in hits] + [False])[codes]
    miss = np.array([h is None for h in hits] + [True])[codes]
    out = pd.Series(pd.arrays.BooleanArray(yes, ~(yes | no)), index=s.index)
    bad = t.notna().to_numpy() & miss
    probs = _cell_problems(col, s, bad, "{v!r} is not yes or no.",
                           f"Write {col} as yes/no (ja/nej, 1/0, true/false also work), "
                           "or leave the cell empty if it is not known.")
    return out.astype("boolean"), probs


def _coerce_category(col: str, s: pd.Series, stripped: bool = False) -> tuple[pd.Series, list[Problem]]:
    f = BY_NAME[col]
    t = _text(s, stripped)
    if t.isin(f.allowed).to_numpy().sum() == t.notna().to_numpy().sum():  # already canonical
        return t, []
    hit = _lookup(t, VALUE_INDEX[col])
    bad = (t.notna() & hit.isna()).to_numpy()
    probs = _cell_problems(col, s, bad, f"{{v!r}} is not one of the allowed values of {col} "
                                        f"({', '.join(f.allowed)}).",
                           f"Write one of: {', '.join(f.allowed)} (see docs/data-dictionary.md for accepted "
                           "spellings), or leave the cell empty if it is not known.",
                           "error" if f.strict else "warning")
    return hit.astype("str"), probs


_RX_YMD = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_RX_DMY = r"^(\d{1,2})([./-])(\d{1,2})[./-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_RX_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_RX_SERIAL = r"^\d{1,5}(?:[.,]\d+)?$"
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def _ymd(y, m, d, index) -> pd.Series:
    parts = pd.DataFrame({"year": pd.to_numeric(y), "month": pd.to_numeric(m), "day": pd.to_numeric(d)},
                         index=index)
    ok = parts.notna().all(axis=1) & parts["year"].between(1800, 2200) & parts["month"].between(1, 12) \
        & parts["day"].between(1, 31)
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(parts[ok].astype("int64"), errors="coerce").astype("datetime64[ns]")
    return out


def _serial(v: pd.Series) -> pd.Series:
    """Excel serial day numbers (1900 system) and yyyymmdd integers to dates."""
    arr = v.to_numpy(dtype=float)
    out = pd.Series(pd.NaT, index=v.index, dtype="datetime64[ns]")
    compact = np.isfinite(arr) & (arr >= 18000101) & (arr <= 22001231) & (np.floor(arr) == arr)
    if compact.any():
        a = arr[compact].astype(np.int64)
        out[compact] = _ymd(a // 10000, a // 100 % 100, a % 100, v.index[compact]).to_numpy()
    serial = np.isfinite(arr) & (arr >= 1) & (arr < 109575)  # 1900-01-01 .. 2199-12-31
    if serial.any():
        days = np.floor(arr[serial]).astype(np.int64)
        out[serial] = (_EXCEL_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[ns]")
    return out


def _strict_iso(u: pd.Series) -> pd.Series:
    """Cells written yyyy-mm-dd as dates, NaT for the others.

    Also NaT for a day nanosecond dates cannot hold (before 1677-09-22 or after 2262-04-11, such
    as the placeholder 9999-12-31; pandas parses to a coarser unit, where they fit): the cell is
    then reported as not a date instead of stopping the reading.
    """
    d = pd.to_datetime(u, format="%Y-%m-%d", errors="coerce")
    d = d.where((d >= pd.Timestamp.min) & (d <= pd.Timestamp.max))
    return d.astype("datetime64[ns]")


def _coerce_date(col: str, s: pd.Series, stripped: bool = False) -> tuple[pd.Series, list[Problem]]:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.tz_localize(None).dt.normalize().astype("datetime64[ns]") if getattr(s.dt, "tz", None) \
            else s.dt.normalize().astype("datetime64[ns]"), []
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        out = _serial(s.astype(float))
        bad = (s.notna() & out.isna()).to_numpy()
        return out, _cell_problems(col, s, bad, "{v!r} is not a date.", _DATE_FIX)
    t = _text(s, stripped)
    present = t.notna().to_numpy()
    iso = arrow_text.iso_dates(t)  # cells written exactly as yyyy-mm-dd, without hashing every cell
    if iso is None:
        out = _via_uniques(t, _strict_iso)
    else:
        out = pd.Series(iso[0], index=t.index, name=t.name)
        other = present & ~iso[1]
        if other.any():
            out[other] = _via_uniques(t[other], _strict_iso).to_numpy()
    todo = present & out.isna().to_numpy()
    probs: list[Problem] = []
    if todo.any():
        rest = t[todo]
        m = rest.str.extract(_RX_YMD)
        hit = m[0].notna()
        if hit.any():
            out[hit[hit].index] = _ymd(m.loc[hit, 0], m.loc[hit, 1], m.loc[hit, 2], hit[hit].index).to_numpy()
        m = rest.str.extract(_RX_COMPACT)
        hit = m[0].notna()
        if hit.any():
            out[hit[hit].index] = _ymd(m.loc[hit, 0], m.loc[hit, 1], m.loc[hit, 2], hit[hit].index).to_numpy()
        m = rest.str.extract(_RX_DMY)
        hit = m[0].notna()
        if hit.any():
            a = pd.to_numeric(m.loc[hit, 0])
            b = pd.to_numeric(m.loc[hit, 2])
            month_first = bool((b > 12).any() and not (a > 12).any() and (m.loc[hit, 1] == "/").all())
            day, month = (b, a) if month_first else (a, b)
            out[hit[hit].index] = _ymd(m.loc[hit, 3], month, day, hit[hit].index).to_numpy()
            if month_first:
                probs.append(Problem(None, col, None,
                                     f"Dates in {col} were read as month/day/year (US order), because some "
                                     "second numbers are above 12 and no first number is.",
                                     "Check a few dates; write dates as 2019-05-31 to avoid any doubt.", "warning"))
        m = rest.str.fullmatch(_RX_SERIAL)
        left = m & out[rest.index].isna()
        if left.any():
            vals = pd.to_numeric(rest[left].str.replace(",", ".", regex=False), errors="coerce")
            out[vals.index] = _serial(vals).to_numpy()
    bad = present & out.isna().to_numpy()
    probs += _cell_problems(col, s, bad, "{v!r} is not a date.", _DATE_FIX)
    return out, probs


def coerce_to_schema(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Convert every dictionary column of ``frame`` to its dictionary type.

    Columns not in the dictionary are returned untouched.  The input is not
    modified.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns named with canonical names (as :func:`read_table` returns).

    Returns
    -------
    typed : pandas.DataFrame
        Same rows and columns; dates ``datetime64[ns]``, yes/no ``boolean``,
        numbers and integers ``float64``, categories canonical text, ids
        ``Int64`` (when all are whole numbers) or text, text stripped.
    problems : list of Problem
        One per cell that could not be converted (that cell is missing in
        ``typed``), plus a warning when dates were read as month/day/year.
    """
    return coerce_frame(frame, stripped=False)


def coerce_frame(frame: pd.DataFrame, stripped: bool) -> tuple[pd.DataFrame, list[Problem]]:
    """:func:`coerce_to_schema`; ``stripped``: text cells are already stripped (see :func:`_text`)."""
    if not isinstance(frame, pd.DataFrame):
        raise PanNetError(f"Expected a table, got a {type(frame).__name__}.", "Read the file with read_table first.")
    if frame.columns.duplicated().any():
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise PanNetError(f"The table has duplicated column names {dup}.", "Give every column a unique header.")
    def one(k: int) -> tuple[pd.Series, list[Problem]]:
        c = frame.columns[k]
        s = frame.iloc[:, k]
        f = BY_NAME.get(c) if isinstance(c, str) else None
        if f is None:
            return s, []
        if f.type == "id":
            return id_text(s, stripped), []
        if f.type == "text":
            return _text(s, stripped), []
        if f.type in ("number", "integer"):
            return _coerce_number(c, s, f.type == "integer", stripped)
        if f.type == "yesno":
            return _coerce_yesno(c, s, stripped)
        if f.type == "category":
            return _coerce_category(c, s, stripped)
        return _coerce_date(c, s, stripped)

    ks = range(frame.shape[1])
    done = arrow_csv.map_columns(one, ks) if len(frame) >= 50_000 else [one(k) for k in ks]
    cols = {frame.columns[k]: d[0] for k, d in zip(ks, done)}
    problems: list[Problem] = [p for d in done for p in d[1]]
    out = pd.DataFrame(cols, index=frame.index)
    out.columns = frame.columns
    return out, problems
