"""Read messy registry exports (CSV or Excel) into a typed table.

:func:`read_table` accepts a path, bytes or a file-like object (a Streamlit
upload) and copes with what hospital exports look like: ``,`` ``;`` tab or
``|`` separators, decimal commas, UTF-8 with or without BOM, Windows-1252 /
Latin-1 (Swedish å ä ö), CRLF line ends, Excel workbooks (the sheet with most
rows), dates written in many ways and many ways of writing "missing".

Headers are matched to the data dictionary (:mod:`pannet_core.io.schema`) and
renamed to canonical names; dictionary columns are converted to their types by
:func:`coerce_to_schema`.  A table without any dictionary date column (e.g. one
of R's survival data sets used with the generic ``columns`` settings) is read
as it is: headers and values untouched apart from number parsing.

Nothing passed in is modified.  Every problem a user can cause raises
:class:`~pannet_core.errors.PanNetError` with a fix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io.coercion import coerce_frame, coerce_to_schema  # noqa: F401  (coerce_to_schema re-exported)
from pannet_core.io.delimited import CLEAN_HEADER_ATTR, parse_csv
from pannet_core.io.excel import parse_xlsx
from pannet_core.io.headers import clean_cells, fix_header, map_headers, rename_columns, rows_to_keep
from pannet_core.io.raw_types import type_raw_columns
from pannet_core.io.schema import PROBLEMS_ATTR
from pannet_core.io.sources import decode_text, prefetched_head, source_bytes


@dataclass(frozen=True)
class ReadResult:
    """What :func:`read_table` found.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table as read ("raw but typed"): every row of the file, dictionary
        columns renamed to canonical names and converted to their types
        (dates ``datetime64[ns]``, yes/no ``boolean``, numbers ``float64``,
        categories canonical text, ids text exactly as written);
        other columns as read (numbers as numbers, everything else text).
        Values that could not be converted are missing here and listed in
        ``problems`` (also kept in ``frame.attrs["pannet_problems"]`` so that
        :func:`pannet_core.io.validation.validate` reports them).
    mapping : dict
        Original header -> canonical name, for every renamed column.
    unmapped : list of str
        Headers left as they are.
    notes : list of str
        What was guessed (encoding, separator, sheet, date order ...).
    raw : pandas.DataFrame
        The same table before dictionary conversion (renamed headers).
    problems : list of Problem
        Cells that could not be converted to their dictionary type.
    dictionary : bool
        Whether the table was read as a Pan-NET registry.
    """

    frame: pd.DataFrame
    mapping: dict = field(default_factory=dict)
    unmapped: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    raw: pd.DataFrame | None = None
    problems: list = field(default_factory=list)
    dictionary: bool = False


# ---------------------------------------------------------------------------
# public
def read_table(source: Any, filename: str | None = None, column_map: dict | None = None, *,
               dictionary: bool | None = None, text_columns=(), progress=None) -> ReadResult:
    """Read a CSV or Excel patient table.

    Parameters
    ----------
    source : str, pathlib.Path, bytes or file-like
        The file.  A file-like object (e.g. a Streamlit upload) is read but
        left where it was.
    filename : str, optional
        Name used in messages and to recognise ``.xlsx`` (defaults to the
        path's or upload's name).
    column_map : dict, optional
        File header -> dictionary name; overrides the synonyms.
    progress : callable, optional
        ``progress(rows_read)`` during a long workbook read; what it raises stops the read.
    text_columns : iterable of str, optional
        Headers read as text whatever they hold (the id column of a generic
        ``columns`` block; the dictionary's ``patient_id`` always is).
    dictionary : bool, optional
        ``True`` to read as a Pan-NET registry (rename and type dictionary
        columns), ``False`` to read as a generic table (headers and values
        untouched apart from number parsing).  By default a table is a
        registry when it has a dictionary date column or ``column_map`` is
        given.

    Returns
    -------
    ReadResult

    Raises
    ------
    PanNetError
        File missing, empty, binary, a damaged workbook, a header without
        rows, duplicated column names, a row with too many cells.
    """
    data, name = source_bytes(source, filename)
    notes: list[str] = []
    if not data or data.isspace():  # = not data.strip(), without copying a large file
        raise PanNetError(f"{name} is empty.", "Upload the file that holds the patient table.")
    suffix = Path(name).suffix.lower()
    decimal_comma = True
    if data[:4] == b"PK\x03\x04":
        if suffix not in (".xlsx", ".xlsm"):
            notes.append(f"{name} is an Excel workbook although its name does not end in .xlsx; read as Excel.")
        header, body = parse_xlsx(data, name, notes, progress)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise PanNetError(f"{name} is an old Excel 97-2003 workbook (.xls) or a password-protected workbook.",
                          "Open it in Excel, remove any password, and save it as .xlsx (Excel workbook) or CSV.")
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        raise PanNetError(f"{name} is named like an Excel workbook but is not one (or is damaged).",
                          "Open it in Excel and save it again as .xlsx, or upload it as CSV.")
    else:
        head = prefetched_head(data, name)
        if head is None:
            text, utf8 = decode_text(data, name, notes)
            header, body, delim = parse_csv(text, name, notes, data if utf8 else None)
        else:  # the whole text is decoded only if the prefetched parse is not used after all
            header, body, delim = parse_csv(head, name, notes, data, whole=lambda: data.decode("utf-8-sig"))
        decimal_comma = delim != ","
    if body.attrs.pop(CLEAN_HEADER_ATTR, None) is not True:
        body = clean_cells(body)
    names, body = fix_header(header, body, name, notes)
    body = body.iloc[:rows_to_keep(body)].reset_index(drop=True)  # trailing empty rows are formatting, not patients
    if len(body) == 0:
        raise PanNetError(f"{name} has column headers but no data rows.",
                          "Add one row per patient under the header row.")
    mapping, unmapped, is_dict = map_headers(names, column_map, dictionary, notes)
    ids = {h for h, canon in mapping.items() if canon == "patient_id"} if is_dict else set()
    raw = type_raw_columns(body, decimal_comma, keep_text=ids | set(text_columns))
    if not is_dict:
        frame = raw.copy()
        frame.attrs[PROBLEMS_ATTR] = []
        return ReadResult(frame=frame, mapping={}, unmapped=unmapped, notes=notes, raw=raw, problems=[],
                          dictionary=False)
    raw = rename_columns(raw, mapping, unmapped, notes)
    frame, problems = coerce_frame(raw, stripped=True)  # raw's text cells are stripped already
    notes.extend(p.problem for p in problems if p.row is None)
    frame.attrs[PROBLEMS_ATTR] = list(problems)
    return ReadResult(frame=frame, mapping=mapping, unmapped=unmapped, notes=notes, raw=raw,
                      problems=list(problems), dictionary=True)
