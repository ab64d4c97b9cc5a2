"""Exported cells that a spreadsheet cannot run as formulas (CSV/formula injection, OWASP).

The rule, the same for every CSV and XLSX file PanNET Board writes (``run``'s
files, the dashboard's downloads, the report zip):

- a *text* cell (a string in a text, object or categorical column, and every
  column header) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return gets a leading single quote ``'``: ``=HYPERLINK(...)`` is written
  ``'=HYPERLINK(...)``, an id ``-5`` held as text is written ``'-5``;
- numbers (int, float, nullable integers), booleans and dates are never
  changed: the float -1.5 is written ``-1.5`` and stays a number;
- CSV cells holding a comma, a double quote or a line break (``\n`` or ``\r``)
  are quoted with ``"`` and inner quotes doubled, so no cell can start a new
  cell or row;
- XLSX text cells are stored as strings (type ``s``), never as formulas.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

#: first characters that make a spreadsheet evaluate a cell (OWASP CSV injection)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = "^[=+\\-@\t\r]"


def neutralise(value: str) -> str:
    """``value`` with a leading ``'`` when it starts with a formula trigger, else unchanged."""
    return "'" + value if value[:1] in TRIGGERS else value


def _text_mask(col: pd.Series) -> np.ndarray | None:
    """Which cells of a text column start with a trigger (None: nothing to change, or not a text column)."""
    dt = col.dtype
    arr = getattr(col.array, "_pa_array", None)
    if arr is not None and isinstance(dt, pd.StringDtype):  # Arrow strings: one vectorised regex
        import pyarrow.compute as pc

        hit = pc.match_substring_regex(arr, _PATTERN)
        if not pc.any(hit).as_py():
            return None
        return hit.to_numpy(zero_copy_only=False).astype(bool, copy=False) if hit.null_count == 0 else \
            pc.fill_null(hit, False).to_numpy(zero_copy_only=False).astype(bool)
    if isinstance(dt, pd.StringDtype) or pd.api.types.is_object_dtype(dt):
        hit = np.fromiter((isinstance(v, str) and v[:1] in TRIGGERS for v in col.tolist()), bool, len(col))
        return hit if hit.any() else None
    return None


def _safe_column(col: pd.Series) -> pd.Series | None:
    """The column with its text cells neutralised, or None when no cell needs it."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if not (cats.dtype == object or isinstance(cats.dtype, pd.StringDtype)):
            return None
        new = [neutralise(c) if isinstance(c, str) else c for c in cats.tolist()]  # per distinct value
        if new == cats.tolist():
            return None
        if len(set(new)) == len(new):
            return col.cat.rename_categories(new)
        col = col.astype(object)  # "=a" and "'=a" both present: neutralise cell by cell
    mask = _text_mask(col)
    if mask is None:
        return None
    values = col.to_numpy(dtype=object, copy=True)
    for i in np.flatnonzero(mask).tolist():
        values[i] = "'" + values[i]
    return pd.Series(pd.array(values, dtype=col.dtype) if isinstance(col.dtype, pd.StringDtype) else values,
                     index=col.index, name=col.name)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell and header neutralised (:func:`neutralise`); ``frame`` itself if none needs it.

    Columns that need no change are shared, not copied, so the check costs one
    vectorised pass per text column (one per category for categoricals).
    """
    changed = {}
    for k in range(frame.shape[1]):
        new = _safe_column(frame.iloc[:, k])
        if new is not None:
            changed[k] = new
    names = [neutralise(c) if isinstance(c, str) else c for c in frame.columns]
    if not changed and names == list(frame.columns):
        return frame
    out = frame.copy(deep=False) if not changed else pd.DataFrame(
        {k: changed.get(k, frame.iloc[:, k]) for k in range(frame.shape[1])}, index=frame.index)
    out.columns = pd.Index(names, dtype=object) if names else frame.columns
    return out


def has_carriage_return(frame: pd.DataFrame) -> bool:
    """Whether a text cell or header holds a ``\r`` (pandas' CSV writer would leave it unquoted)."""
    if any(isinstance(c, str) and "\r" in c for c in frame.columns):
        return True
    for k in range(frame.shape[1]):
        col = frame.iloc[:, k]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = pd.Series(col.cat.categories)
        if isinstance(col.dtype, pd.StringDtype):
            if col.str.contains("\r", regex=False).fillna(False).any():
                return True
        elif col.dtype == object and any(isinstance(v, str) and "\r" in v for v in col.tolist()):
            return True
    return False


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with one sheet per ``name -> frame``; text neutralised and stored as text, never a formula."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            safe_frame(frame).to_excel(xw, sheet_name=name, index=False)
            for row in xw.sheets[name].iter_rows():
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.data_type = "s"  # a string, even if it looked like a formula
    return buf.getvalue()
