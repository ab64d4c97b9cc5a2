"""Tables outside the dictionary (e.g. R data sets): columns that are all numbers become numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pannet_core.io import arrow_csv

_NUM_RX = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"


def _parse_floats(t: pd.Series) -> np.ndarray:
    """Text cells that all match :data:`_NUM_RX` as float64 (pyarrow's correctly rounded cast when it can)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        return pc.cast(pa.array(t.array), pa.float64()).to_numpy(zero_copy_only=False).astype("float64", copy=True)
    except Exception:  # a cell pyarrow will not cast: Python's float() decides
        return t.astype("float64").to_numpy()


def to_float(t: pd.Series) -> pd.Series:
    """Text to float64 (NaN where not a plain number); fast on Arrow-backed strings."""
    ok = t.str.fullmatch(_NUM_RX).fillna(False).astype(bool).to_numpy()
    out = np.full(len(t), np.nan)
    if ok.all():
        out = _parse_floats(t)
    elif ok.any():
        out[ok] = _parse_floats(t[ok])
    out[~np.isfinite(out)] = np.nan
    return pd.Series(out, index=t.index)


def _all_match(t: pd.Series, rx: str) -> bool:
    """Whether every cell of ``t`` matches ``rx`` (a quick look at the first cells first)."""
    if len(t) > 256 and not t.iloc[:64].str.fullmatch(rx).all():
        return False
    return bool(t.str.fullmatch(rx).all())


def _head_is_not_numbers(s: pd.Series) -> bool:
    """Whether the first 64 non-missing cells of ``s`` (found among its first 256) are not all numbers.

    The same answer as :func:`_all_match`'s quick look on ``s.dropna()``.  False
    (not decided) when fewer than 64 are found there or at most 256 cells are
    present; then :func:`_as_numbers` looks at the whole column.
    """
    head = s.iloc[:256].dropna()
    if len(head) < 64 or int(s.count()) <= 256:
        return False
    return not bool(head.iloc[:64].str.fullmatch(_NUM_RX).all())


_NOT_HANDLED = object()


def _as_numbers_arrow(s: pd.Series):
    """:func:`_as_numbers` (no decimal comma) of an Arrow-backed ``str`` column in pyarrow kernels.

    The same answer without dropping the missing cells into a new Series and
    putting the numbers back by label: the text checks (ASCII, then the
    patterns pandas' ``str.fullmatch`` hands pyarrow) run on the column's
    distinct values (every cell matches if every distinct value does; a
    registry column holds few), and the cast keeps the missing cells as NaN.
    :func:`_head_is_not_numbers`' quick look runs first, on the Arrow cells
    (when they are ASCII), so that a text column is not hashed.
    ``_NOT_HANDLED`` when pandas itself would not use pyarrow (non-ASCII text,
    where ``\\d`` follows Python's ``re``) or the cast fails (then
    :func:`_parse_floats` falls back to Python's ``float``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(s.array, "_pa_array", None)
    if arr is None or not isinstance(s.dtype, pd.StringDtype) or not isinstance(s.index, pd.RangeIndex):
        return _NOT_HANDLED
    n_present = len(arr) - arr.null_count
    if n_present == 0:
        return None

    def all_match(cells, rx: str) -> bool:  # nulls are skipped, as in _all_match on the present cells
        return bool(pc.all(pc.match_substring_regex(cells, f"^(({rx})$)")).as_py())

    if n_present > 256:  # = _head_is_not_numbers(s) (non-ASCII cells: the distinct values decide below)
        head = arr.slice(0, 256).drop_null().slice(0, 64)
        if len(head) == 64 and pc.all(pc.string_is_ascii(head)).as_py() and not all_match(head, _NUM_RX):
            return None
    distinct = pc.unique(arr)
    if not pc.all(pc.string_is_ascii(distinct), min_count=0).as_py():
        return _NOT_HANDLED
    if not all_match(distinct, _NUM_RX):
        return None
    try:
        num = pc.cast(arr, pa.float64()).to_numpy().astype("float64", copy=True)
    except Exception:  # noqa: BLE001 - a cell pyarrow will not cast: the pandas path decides
        return _NOT_HANDLED
    if not np.isfinite(num[~np.isnan(num)] if arr.null_count else num).all():
        return None
    full = pd.Series(num, index=s.index)
    if n_present == len(s) and all_match(distinct, r"[+-]?\d{1,15}"):
        return full.astype("int64")
    return full


def _as_numbers(s: pd.Series, decimal_comma: bool) -> pd.Series | None:
    """All non-missing cells as numbers (int64 / float64), or None if any is not a number."""
    if not decimal_comma:
        fast = _as_numbers_arrow(s)
        if fast is not _NOT_HANDLED:
            return fast
        if len(s) > 256 and _head_is_not_numbers(s):
            return None  # = _all_match's quick look below, without dropping the missing cells of the whole column
    present = s.dropna()
    if present.empty:
        return None
    if decimal_comma:
        present = present.str.replace(r"^([+-]?\d*),(\d+)$", r"\1.\2", regex=True)
    if not _all_match(present, _NUM_RX):
        return None
    num = _parse_floats(present)
    if not np.isfinite(num).all():
        return None
    full = pd.Series(np.nan, index=s.index, dtype=float)
    if len(present) == len(s):
        full[:] = num
    else:
        full[present.index] = num
    if len(present) == len(s) and _all_match(present, r"[+-]?\d{1,15}"):
        return full.astype("int64")
    return full


def type_raw_columns(body: pd.DataFrame, decimal_comma: bool, keep_text=()) -> pd.DataFrame:
    """Columns whose every cell is a number as numbers; the ``keep_text`` columns (ids) stay text."""
    keep_text = set(keep_text)

    def one(c):
        if c in keep_text:
            return body[c]
        num = _as_numbers(body[c], decimal_comma)
        return num if num is not None else body[c]

    names = list(body.columns)
    many = len(body) >= 50_000  # threads pay off only on large tables
    typed = arrow_csv.map_columns(one, names) if many else [one(c) for c in names]
    return pd.DataFrame(dict(zip(names, typed)), index=body.index)
