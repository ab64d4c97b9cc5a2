"""Dates written as ``yyyy-mm-dd`` read straight from an Arrow text column.

A registry export of 200,000 rows has about ten date columns, nearly always
written as ``yyyy-mm-dd``.  Reading them the general way hashes every cell
(``pd.factorize``) and parses each distinct value with ``pd.to_datetime``;
:func:`iso_dates` instead reads the digits of every cell from the Arrow
bytes with a few numpy passes, for the cells it can read without any doubt,
and leaves every other cell to the general code.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["iso_dates"]

_FIRST_YEAR, _LAST_YEAR = 1800, 2200
# the first day of each month from January 1800 to January 2201, in days since 1970-01-01,
# and the length of each month from January 1800 to December 2200
_MONTH_START = np.arange(f"{_FIRST_YEAR}-01", f"{_LAST_YEAR + 1}-02", dtype="datetime64[M]").astype(
    "datetime64[D]").astype(np.int64)
_MONTH_LEN = np.diff(_MONTH_START)


def _arrow_text(s: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow data of a ``str`` Series, or None if it is not Arrow text."""
    arr = getattr(s.array, "_pa_array", None)
    if not isinstance(arr, pa.ChunkedArray):
        return None
    if not (pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type)):
        return None
    return arr


def iso_dates(s: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """The cells written exactly as ``yyyy-mm-dd`` as ``datetime64[ns]``.

    Only cells of exactly ten ASCII characters ``dddd-dd-dd`` that name a
    real calendar day with a year from 1800 to 2200 are read; these are the
    cells ``pd.to_datetime(format="%Y-%m-%d")`` reads without any doubt, and
    it gives the same day.  Everything else (missing, other ways of writing
    a date, impossible days) is left to the caller.

    Parameters
    ----------
    s : Series
        A text column.

    Returns
    -------
    (dates, ok) or None
        ``dates`` is ``datetime64[ns]`` with NaT where ``ok`` is False; None
        when ``s`` is not Arrow-backed text.
    """
    arr = _arrow_text(s)
    if arr is None:
        return None
    a = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    n = len(a)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.zeros(n, dtype=bool)
    if n == 0 or a.null_count == n:
        return dates, ok
    _, off_buf, data_buf = a.buffers()[:3]
    wide = np.int64 if pa.types.is_large_string(a.type) else np.int32
    off = np.frombuffer(off_buf, dtype=wide)[a.offset:a.offset + n + 1]
    length = np.diff(off)
    valid = a.is_valid().to_numpy(zero_copy_only=False)
    ten = (length == 10) & valid
    rows = np.flatnonzero(ten)
    if not rows.size:
        return dates, ok
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    if not length[~ten].any():  # every other row is empty: the ten-byte cells lie back to back
        b = data[off[0]:off[-1]]
    else:
        b = data[off[:-1][rows, None] + np.arange(10)].ravel()

    digit = [b[at::10] - np.uint8(48) for at in (0, 1, 2, 3, 5, 6, 8, 9)]  # a non-digit wraps round to >= 10
    highest = digit[0]
    for x in digit[1:]:
        highest = np.maximum(highest, x)
    century, yy, month, day = (digit[i] * np.uint8(10) + digit[i + 1] for i in (0, 2, 4, 6))  # 0..99 if digits
    good = (highest < 10) & (b[4::10] == 45) & (b[7::10] == 45)  # dddd-dd-dd
    good &= (month >= 1) & (month <= 12) & (day >= 1)
    m = (century.astype(np.intp) * 100 + yy - _FIRST_YEAR) * 12 + month - 1  # months since January 1800
    good &= (m >= 0) & (m < _MONTH_LEN.size)
    m[~good] = 0
    late = np.flatnonzero(day > 28)  # only days 29-31 can fall after the end of their month
    good[late] &= day[late] <= _MONTH_LEN[m[late]]
    ns = (_MONTH_START[m] + (day - 1)) * np.int64(86_400_000_000_000)
    if rows.size == n and good.all():  # the usual case: every cell is a plain ISO date
        return ns.view("datetime64[ns]"), good
    dates.view(np.int64)[rows[good]] = ns[good]
    ok[rows[good]] = True
    return dates, ok
