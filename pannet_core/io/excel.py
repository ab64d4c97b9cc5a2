"""Excel workbooks (.xlsx): the sheet with most rows, cells as text, numbers and dates."""
from __future__ import annotations

import datetime as _dt
import io
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io.schema import canonical_column


def _excel_cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%d") if v.time() == _dt.time(0) else v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, _dt.time):
        return v.isoformat()
    if isinstance(v, float):
        if not np.isfinite(v):
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, int):
        return str(v)
    return str(v)


def parse_xlsx(data: bytes, name: str, notes: list[str]) -> tuple[list[str], pd.DataFrame]:
    import openpyxl
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise PanNetError(f"{name} looks like an Excel workbook but is damaged or incomplete (truncated).",
                          "Upload it again, or open it in Excel and save it again as .xlsx.") from None
    if "xl/workbook.xml" not in names:
        kind = "a Word document" if "word/document.xml" in names else "a zip archive"
        raise PanNetError(f"{name} is {kind}, not an Excel workbook.",
                          "Upload the patient table as .xlsx or CSV.")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets = []
        for ws in wb.worksheets:
            rows = [[_excel_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
            rows = [r for r in rows if any(c is not None and str(c).strip() for c in r)]
            sheets.append((ws.title, rows))
        wb.close()
    except PanNetError:
        raise
    except Exception:  # openpyxl raises many types on damaged files
        raise PanNetError(f"{name} is a damaged or incomplete Excel workbook and cannot be read.",
                          "Open it in Excel and save it again as .xlsx, or save the table as CSV.") from None
    if not sheets or all(not rows for _, rows in sheets):
        raise PanNetError(f"{name} has no data in any sheet.", "Upload the workbook that holds the patient table.")
    def score(i: int) -> tuple[int, int, int]:
        rows = sheets[i][1]
        known = sum(canonical_column(h) is not None for h in rows[0] if h is not None) if rows else 0
        return (known if len(rows) > 1 else -1, len(rows), -i)

    best = max(range(len(sheets)), key=score)
    title, rows = sheets[best]
    if len(sheets) > 1:
        notes.append(f"Read sheet {title!r} of {len(sheets)} sheets (the sheet with most dictionary "
                     "columns, then most rows).")
    width = max(len(r) for r in rows)
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    header = ["" if h is None else str(h) for h in rows[0]]
    body = pd.DataFrame(rows[1:], columns=range(width), dtype=object)
    return header, body
