"""Excel workbooks (.xlsx): the sheet with most rows, cells as text, numbers and dates."""
from __future__ import annotations

import datetime as _dt
import io
import posixpath
import re
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io.schema import canonical_column

MAX_UNCOMPRESSED = 400 * 2**20  # bytes a workbook may expand to: a registry export is far smaller
MAX_ROWS = 300_000               # rows of one sheet; larger tables travel better as CSV
PROGRESS_EVERY = 5_000           # rows between two progress calls
_CHUNK = 1 << 20
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')
_MERGED = re.compile(rb'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"')
# a formula cell whose cached result is missing or empty: Excel never computed it
_NO_RESULT = re.compile(rb'<c r="([A-Z]+\d+)"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)(?:<v\s*/>|<v></v>)?</c>')
_SHEET = re.compile(rb'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_TARGET = re.compile(rb'<Relationship [^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"|'
                     rb'<Relationship [^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')


def _sheet_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> path of its XML part in the archive."""
    try:
        rels = z.read("xl/_rels/workbook.xml.rels")
        book = z.read("xl/workbook.xml")
    except KeyError:
        return {}
    targets = {}
    for m in _TARGET.finditer(rels):
        target, rid = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        path = target.decode("utf-8", "replace")
        targets[rid.decode()] = path.lstrip("/") if path.startswith("/") else posixpath.normpath("xl/" + path)
    from html import unescape
    return {unescape(name.decode("utf-8", "replace")): targets[rid.decode()]
            for name, rid in _SHEET.findall(book) if rid.decode() in targets}


def _scan_sheet(z: zipfile.ZipFile, path: str) -> tuple[int | None, list[str], list[str]]:
    """The sheet's declared last row, its merged ranges and its formula cells without a result (streamed)."""
    last_row, merged, no_result = None, {}, {}
    tail = b""
    with z.open(path) as fh:
        while chunk := fh.read(_CHUNK):
            buf = tail + chunk
            if last_row is None and (m := _DIMENSION.search(buf[:8192])):
                last_row = int(m.group(1))
                if last_row > MAX_ROWS:
                    break
            merged.update(dict.fromkeys(r.decode() for r in _MERGED.findall(buf)))
            if len(no_result) < 20:
                no_result.update(dict.fromkeys(r.decode() for r in _NO_RESULT.findall(buf)))
            tail = buf[-4096:]  # a tag cut at the chunk's end is whole in the next buffer
    return last_row, sorted(merged), list(no_result)


def _check_workbook(z: zipfile.ZipFile, name: str, notes: list[str]) -> None:
    """Refuse a workbook that would expand beyond the bounds, before any parsing; name what a table loses."""
    size = sum(i.file_size for i in z.infolist())
    if size > MAX_UNCOMPRESSED:
        raise PanNetError(f"{name} expands to {size / 2**20:,.0f} MB when unpacked, more than the "
                          f"{MAX_UNCOMPRESSED // 2**20} MB a registry workbook may take.",
                          "Save the patient table as CSV and upload that, or remove sheets and formatting "
                          "that are not the table.")
    for title, path in _sheet_paths(z).items():
        if path not in z.namelist():
            continue
        last_row, merged, no_result = _scan_sheet(z, path)
        if last_row is not None and last_row > MAX_ROWS:
            raise PanNetError(f"Sheet {title!r} of {name} has {last_row:,} rows, more than the {MAX_ROWS:,} "
                              "a workbook may hold here.",
                              "Save the patient table as CSV (no row limit) and upload that file.")
        if merged:
            shown = ", ".join(merged[:10]) + (" ..." if len(merged) > 10 else "")
            notes.append(f"Sheet {title!r} has merged cells ({shown}): only the first cell of each merged range "
                         "holds the value; the others are read as empty. Unmerge them in Excel and fill in "
                         "every row if those cells belong to more than one patient.")
        if no_result:
            shown = ", ".join(no_result[:10]) + (" ..." if len(no_result) > 10 else "")
            raise PanNetError(f"Sheet {title!r} of {name} has formulas that were never calculated ({shown}): "
                              "the file holds the formula but no value.",
                              "Open and save the file in Excel first (Excel stores the calculated values), "
                              "then upload it again.")


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


def parse_xlsx(data: bytes, name: str, notes: list[str], progress=None) -> tuple[list[str], pd.DataFrame]:
    """The sheet with most dictionary columns (then most rows) as a header and a body of text cells.

    ``progress(rows_read)``, when given, is called every few thousand rows; a BaseException it raises
    stops the read (Streamlit's progress bar raises one when the browser session has gone).
    """
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
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            _check_workbook(z, name, notes)
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheets = []
        for ws in wb.worksheets:
            rows = []
            for k, row in enumerate(ws.iter_rows(values_only=True)):
                if progress is not None and k and k % PROGRESS_EVERY == 0:
                    progress(k)
                if k > MAX_ROWS:  # a sheet without a truthful <dimension>
                    raise PanNetError(f"Sheet {ws.title!r} of {name} has more than {MAX_ROWS:,} rows.",
                                      "Save the patient table as CSV (no row limit) and upload that file.")
                cells = [_excel_cell(v) for v in row]
                if any(c is not None and str(c).strip() for c in cells):
                    rows.append(cells)
            sheets.append((ws.title, rows))
        wb.close()
    except PanNetError:
        raise
    except Exception:  # openpyxl raises many types on damaged files (a stopped session's BaseException passes)
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
