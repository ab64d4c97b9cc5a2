"""Delimited text (CSV, semicolon, tab, vertical bar): the delimiter sniffed and the cells parsed."""
from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io import arrow_csv

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
CLEAN_HEADER_ATTR = "pannet_clean_header"  # frame.attrs key: the header row, its cells already cleaned


def _sniff(text: str) -> str:
    return arrow_csv.sniff_lines(arrow_csv.head_lines(text, arrow_csv.SNIFF_LINES))


def parse_csv(text: str, name: str, notes: list[str], data: bytes | None = None, whole=None
               ) -> tuple[list[str], list[list[Any]] | pd.DataFrame, str]:
    """Header, body and delimiter of a CSV text.

    ``data``: the bytes ``text`` is the UTF-8 decoding of.  ``whole``: when
    ``text`` is only the head of that decoding (:func:`prefetched_head`),
    a function that returns all of it, called only if pyarrow's parse of
    ``data`` is not used.
    """
    delim = _sniff(text)
    if delim != ",":
        notes.append(f"Columns are separated by {DELIMITER_NAMES[delim]}s.")
    df = _parse_csv_arrow(text, delim, data)
    if df is None and whole is not None:
        text = whole()
    try:
        if df is None:
            df = pd.read_csv(io.StringIO(text), sep=delim, header=None, dtype=str, keep_default_na=False,
                             na_filter=False, skip_blank_lines=True, engine="c")
    except pd.errors.EmptyDataError:
        raise PanNetError(f"{name} is empty.", "Upload the file that holds the patient table.") from None
    except (pd.errors.ParserError, ValueError, csv.Error):
        df = _parse_csv_slow(text, delim, name)
    if df.shape[0] == 0:
        raise PanNetError(f"{name} is empty.", "Upload the file that holds the patient table.")
    if CLEAN_HEADER_ATTR in df.attrs:
        header = ["" if h is None else str(h) for h in df.attrs[CLEAN_HEADER_ATTR]]
        df.attrs[CLEAN_HEADER_ATTR] = True
        return header, df, delim
    header = ["" if pd.isna(h) else str(h) for h in df.iloc[0].tolist()]
    body = df.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    return header, body, delim



def _parse_csv_arrow(text: str, delim: str, data: bytes | None = None) -> pd.DataFrame | None:
    """Every cell as text with pyarrow's multi-threaded CSV reader (None: use pandas' C parser).

    Gives the same table as ``pandas.read_csv(..., header=None, dtype=str,
    na_filter=False, engine="c")`` for rectangular files; anything unusual
    (ragged rows, a parse error) returns None so that the C parser and then
    the tolerant csv-module path decide.

    ``data`` (optional) holds the bytes whose UTF-8 decoding ``text`` is (or
    begins with: only ``text``'s first line is used then); the checks run on
    the bytes, pyarrow reads them without a re-encoding,
    and a parse the command line prefetched on a thread
    (:func:`pannet_core.io.arrow_csv.start_prefetch`) is used when it was made
    from these very bytes.
    """
    import pyarrow as pa
    offset = 3 if data is not None and data.startswith(arrow_csv.UTF8_BOM) else 0
    pre = None
    if data is not None and text:
        # a prefetched parse exists only for these very bytes, which the prefetch found regular
        pre = arrow_csv.take_prefetched(data, offset, delim, arrow_csv.head_lines(text, 1)[0].count(delim) + 1)
    if pre is not None:
        table, header, cleaned = pre
    else:
        body_bytes = None if data is None else (data[offset:] if offset else data)
        if not (arrow_csv.regular_text(text) if body_bytes is None else arrow_csv.regular_bytes(body_bytes)):
            return None
        width = arrow_csv.head_lines(text, 1)[0].count(delim) + 1
        raw = text.encode("utf-8") if body_bytes is None else body_bytes
        table = arrow_csv.read_strings(raw, delim, width)
        if table is None:
            return None
        header, cleaned = (None, None)
        if arrow_csv.is_text_table(table):
            ascii_only = arrow_csv.plain_ascii(text if body_bytes is None else body_bytes)
            header, cleaned = arrow_csv.header_and_clean_body(table, ascii_only)
    dtype = pd.StringDtype(na_value=np.nan)
    mapper = {pa.string(): dtype, pa.large_string(): dtype}.get
    if cleaned is not None:
        cols = arrow_csv.map_columns(lambda i: cleaned[i].to_pandas(types_mapper=mapper), range(len(cleaned)))
        df = pd.DataFrame(dict(enumerate(cols)))
        df.attrs[CLEAN_HEADER_ATTR] = header  # cells already cleaned as clean_cells does
        return df
    cols = {i: table.column(i).to_pandas(types_mapper=mapper) for i in range(table.num_columns)}
    df = pd.DataFrame(cols)
    if df.shape[0] == 0 or any(df[c].dtype != dtype for c in df.columns):
        return None
    return df


def _parse_csv_slow(text: str, delim: str, name: str) -> pd.DataFrame:
    """csv-module parse for ragged files: drop empty extra cells, otherwise explain."""
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise PanNetError(f"{name} cannot be read as a table ({exc}).",
                          "Open it in Excel and save it again as CSV or .xlsx.") from None
    if not rows:
        raise PanNetError(f"{name} is empty.", "Upload the file that holds the patient table.")
    width = len(rows[0])
    while width > 1 and not rows[0][width - 1].strip() and all(len(r) < width or not r[width - 1].strip()
                                                                 for r in rows):
        width -= 1
    for i, r in enumerate(rows[1:], start=1):
        extra = [c for c in r[width:] if c.strip()]
        if extra:
            raise PanNetError(f"Data row {i} of {name} has {len(r)} cells but the header has {width} columns "
                              f"(extra value {extra[0]!r}).",
                              "A value probably contains the separator character: put quotes around it, or "
                              "save the file again from Excel. Otherwise add the missing header.")
    rows = [(r + [""] * width)[:width] for r in rows]
    return pd.DataFrame(rows, dtype=str)
