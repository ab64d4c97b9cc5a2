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

import codecs
import csv
import datetime as _dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pannet_core.io import arrow_csv, arrow_text
from pannet_core.io.arrow_csv import DELIMITERS, MISSING_MARKERS  # noqa: F401  (re-exported)
from pannet_core.errors import PanNetError
from pannet_core.io.schema import BY_NAME, CANONICAL_COLUMNS, VALUE_INDEX, Problem, canonical_column, normalise

_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_SNIFF_LINES = arrow_csv.SNIFF_LINES
PROBLEMS_ATTR = "pannet_problems"
_CLEAN_ATTR = "pannet_clean_header"
_DATE_FIX = ("Write the date as 2019-05-31 (or 31/05/2019, 31.05.2019, 20190531), with a four-digit year, "
             "or leave the cell empty if it is not known.")


@dataclass(frozen=True)
class ReadResult:
    """What :func:`read_table` found.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table as read ("raw but typed"): every row of the file, dictionary
        columns renamed to canonical names and converted to their types
        (dates ``datetime64[ns]``, yes/no ``boolean``, numbers ``float64``,
        categories canonical text, ids ``Int64`` when all are whole numbers);
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
# bytes in
def _source_bytes(source: Any, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = filename or path.name
        if not path.exists():
            raise PanNetError(f"The file {str(path)!r} does not exist.",
                              "Check the path and the file name (including .csv or .xlsx).")
        if path.is_dir():
            raise PanNetError(f"{str(path)!r} is a folder, not a file.", "Give the path of the CSV or Excel file.")
        try:
            data = arrow_csv.prefetched_bytes(path)
            return (path.read_bytes() if data is None else data), name
        except OSError as exc:
            raise PanNetError(f"The file {str(path)!r} cannot be opened ({exc.strerror}).",
                              "Check that it exists and that you may read it; close it in Excel and retry.") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), filename or "the uploaded file"
    if hasattr(source, "getvalue") or hasattr(source, "read"):
        name = filename or str(getattr(source, "name", "") or "the uploaded file")
        try:
            if hasattr(source, "getvalue"):
                data = source.getvalue()
            else:
                pos = source.tell() if hasattr(source, "tell") else None
                data = source.read()
                if pos is not None and hasattr(source, "seek"):
                    source.seek(pos)
        except (OSError, ValueError) as exc:
            raise PanNetError(f"{name} cannot be read ({exc}).", "Upload the file again.") from None
        if isinstance(data, str):
            data = data.encode("utf-8")
        return bytes(data), Path(name).name if name else name
    raise PanNetError(f"Cannot read a table from a {type(source).__name__}.",
                      "Give a file path, the file's bytes or an open file.")


def _decode(data: bytes, name: str, notes: list[str]) -> tuple[str, bool]:
    """The text of ``data`` and whether it was decoded as UTF-8 (with or without a BOM)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            notes.append(f"{name} is UTF-16 text; read as such.")
            return _check_text(text, name), False
    if b"\x00" in data[:65536]:
        raise _binary_error(name)
    for enc, label in (("utf-8-sig", None), ("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if label:
            notes.append(f"{name} is not UTF-8; read as {label} (Swedish letters such as å ä ö kept).")
        return _check_text(text, name), label is None
    raise _binary_error(name)  # pragma: no cover - latin-1 decodes everything


def _prefetched_head(data: bytes, name: str) -> str | None:
    """The head of the text of ``data`` when the command line's prefetch parsed these bytes, else None.

    Such bytes are UTF-8 all through (:func:`~pannet_core.io.arrow_csv.parsed_as_text`),
    so :func:`_decode` would decode them as UTF-8 without a note.  Only the
    part the reader looks at when it takes the prefetched parse is decoded
    here (the first :data:`_SNIFF_LINES` lines, to sniff the delimiter, and
    the sample :func:`_check_text` checks), not the whole file.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    name : str
        File name for messages.

    Returns
    -------
    str or None
        A prefix of ``data.decode("utf-8-sig")`` holding more than
        :data:`_SNIFF_LINES` lines and at least :data:`_SAMPLE_CHARS`
        characters (or the whole text), or None.

    Raises
    ------
    PanNetError
        As :func:`_decode` for text with many control characters.
    """
    if not arrow_csv.parsed_as_text(data):
        return None
    size = len(arrow_csv.UTF8_BOM) + arrow_csv.PREFETCH_HEAD_BYTES
    if len(data) <= size:
        return _check_text(data.decode("utf-8-sig"), name)
    # final=False: a character cut by the end of the slice is held back, not an error
    head = codecs.getincrementaldecoder("utf-8-sig")().decode(memoryview(data)[:size])
    if len(head) < _SAMPLE_CHARS or head.count("\n") <= _SNIFF_LINES:
        return None  # too few lines to sniff from: decode the whole text as usual
    return _check_text(head, name)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_SAMPLE_CHARS = 65536


def _check_text(text: str, name: str) -> str:
    sample = text[:_SAMPLE_CHARS]
    bad = len(_CONTROL.findall(sample))
    if bad > max(2, len(sample) // 200):
        raise _binary_error(name)
    return text


def _binary_error(name: str) -> PanNetError:
    return PanNetError(f"{name} is not a readable table: it contains binary data or characters in an unknown "
                       "encoding (is it a PDF, an image, a damaged file, or a table saved in an unusual format?).",
                       "Open it in Excel and save it as 'CSV UTF-8 (comma delimited)' or as an Excel workbook "
                       "(.xlsx), then upload that file.")


# ---------------------------------------------------------------------------
# CSV
_head_lines = arrow_csv.head_lines


def _sniff(text: str) -> str:
    return arrow_csv.sniff_lines(_head_lines(text, _SNIFF_LINES))


def _parse_csv(text: str, name: str, notes: list[str], data: bytes | None = None, whole=None
               ) -> tuple[list[str], list[list[Any]] | pd.DataFrame, str]:
    """Header, body and delimiter of a CSV text.

    ``data``: the bytes ``text`` is the UTF-8 decoding of.  ``whole``: when
    ``text`` is only the head of that decoding (:func:`_prefetched_head`),
    a function that returns all of it, called only if pyarrow's parse of
    ``data`` is not used.
    """
    delim = _sniff(text)
    if delim != ",":
        notes.append(f"Columns are separated by {_DELIM_NAMES[delim]}s.")
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
    if _CLEAN_ATTR in df.attrs:
        header = ["" if h is None else str(h) for h in df.attrs[_CLEAN_ATTR]]
        df.attrs[_CLEAN_ATTR] = True
        return header, df, delim
    header = ["" if pd.isna(h) else str(h) for h in df.iloc[0].tolist()]
    body = df.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    return header, body, delim


_regular_text = arrow_csv.regular_text


def _parse_csv_arrow(text: str, delim: str, data: bytes | None = None) -> pd.DataFrame | None:
    """Every cell as text with pyarrow's multi-threaded CSV reader (None: use pandas' C parser).

    Gives the same table as ``pandas.read_csv(..., header=None, dtype=str,
    na_filter=False, engine="c")`` for rectangular files; anything unusual
    (ragged rows, pyarrow missing, a parse error) returns None so that the
    C parser and then the tolerant csv-module path decide, as before.

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
        pre = arrow_csv.take_prefetched(data, offset, delim, _head_lines(text, 1)[0].count(delim) + 1)
    if pre is not None:
        table, header, cleaned = pre
    else:
        body_bytes = None if data is None else (data[offset:] if offset else data)
        if not (_regular_text(text) if body_bytes is None else arrow_csv.regular_bytes(body_bytes)):
            return None
        width = _head_lines(text, 1)[0].count(delim) + 1
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
        cols = _map_columns(lambda i: cleaned[i].to_pandas(types_mapper=mapper), range(len(cleaned)))
        df = pd.DataFrame(dict(enumerate(cols)))
        df.attrs[_CLEAN_ATTR] = header  # cells already cleaned as _clean_cells does
        return df
    cols = {i: table.column(i).to_pandas(types_mapper=mapper) for i in range(table.num_columns)}
    df = pd.DataFrame(cols)
    if df.shape[0] == 0 or any(df[c].dtype != dtype for c in df.columns):
        return None
    return df


_map_columns = arrow_csv.map_columns


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


# ---------------------------------------------------------------------------
# Excel
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


def _parse_xlsx(data: bytes, name: str, notes: list[str]) -> tuple[list[str], pd.DataFrame]:
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


# ---------------------------------------------------------------------------
# cells, headers, types
def _clean_cells(body: pd.DataFrame) -> pd.DataFrame:
    """Strip text, turn missing markers into <NA>; all columns ``str`` dtype."""
    out = {}
    for j in body.columns:
        s = body[j].astype("str") if body[j].dtype != "str" else body[j]
        s = s.str.strip()
        low = s.str.lower()
        out[j] = s.mask(low.isin(MISSING_MARKERS) | s.isna())
    return pd.DataFrame(out, index=body.index)


def _fix_header(header: list[str], body: pd.DataFrame, name: str, notes: list[str]) -> tuple[list[str], pd.DataFrame]:
    header = [str(h).strip() for h in header]
    keep, names = [], []
    for j, h in enumerate(header):
        if h.lower() in ("", "nan", "none") or h.startswith("Unnamed:"):
            if body[j].isna().all():
                continue  # an empty trailing / spacer column
            h = f"column_{j + 1}"
            notes.append(f"Column {j + 1} has no header; it is called {h!r}.")
        keep.append(j)
        names.append(h)
    seen, dups = set(), []
    for h in names:
        if h in seen and h not in dups:
            dups.append(h)
        seen.add(h)
    if dups:
        raise PanNetError(f"{name} has duplicated column name(s) {dups}.",
                          "Give every column a unique header (e.g. rename or delete the copy).")
    if not names:
        raise PanNetError(f"{name} has no column headers.",
                          "The first row of the file must hold the column names.")
    out = body[keep].copy()
    out.columns = names
    return names, out


def _rows_to_keep(body: pd.DataFrame) -> int:
    """Rows up to the last one with any cell filled (the whole table when its last row has one)."""
    n = len(body)
    if n and any(not pd.isna(body.iat[n - 1, j]) for j in range(body.shape[1])):
        return n
    filled = body.notna().any(axis=1).to_numpy()
    return int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0


_NUM_RX = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"


def _parse_floats(t: pd.Series) -> np.ndarray:
    """Text cells that all match :data:`_NUM_RX` as float64 (pyarrow's correctly rounded cast when it can)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        return pc.cast(pa.array(t.array), pa.float64()).to_numpy(zero_copy_only=False).astype("float64", copy=True)
    except Exception:  # no pyarrow, or a cell pyarrow will not cast: Python's float(), as before
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


def _type_raw(body: pd.DataFrame, decimal_comma: bool) -> pd.DataFrame:
    def one(c):
        num = _as_numbers(body[c], decimal_comma)
        return num if num is not None else body[c]

    names = list(body.columns)
    many = len(body) >= 50_000  # threads pay off only on large tables
    typed = _map_columns(one, names) if many else [one(c) for c in names]
    return pd.DataFrame(dict(zip(names, typed)), index=body.index)


def _map_headers(names: list[str], column_map: dict | None, dictionary: bool | None,
                 notes: list[str]) -> tuple[dict[str, str], list[str], bool]:
    column_map = dict(column_map or {})
    for k, v in column_map.items():
        if v not in BY_NAME:
            raise PanNetError(f"The column map sends {k!r} to {v!r}, which is not a data-dictionary column.",
                              f"Use one of: {', '.join(CANONICAL_COLUMNS)}.", exit_code=2)
    cmap_norm = {normalise(k): v for k, v in column_map.items()}
    wanted: dict[str, str] = {}
    for h in names:
        if h in column_map:
            wanted[h] = column_map[h]
        elif normalise(h) in cmap_norm:
            wanted[h] = cmap_norm[normalise(h)]
    missing_keys = [k for k in column_map if k not in wanted and normalise(k) not in {normalise(h) for h in names}]
    if missing_keys:
        notes.append(f"The column map names header(s) {missing_keys} that are not in the file.")
    targets = [wanted.get(h) or canonical_column(h) for h in names]
    found_dates = any(t is not None and BY_NAME[t].type == "date" for t in targets)
    if dictionary is None:
        dictionary = bool(column_map) or found_dates
        if not dictionary:
            notes.append("No Pan-NET date column (e.g. stage IV diagnosis date) was found, so the table is read "
                         "as it is (generic table): headers and values are not changed.")
    if not dictionary:
        return {}, list(names), False
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}

    def take(h: str, canon: str) -> None:
        if canon in taken:
            notes.append(f"Columns {taken[canon]!r} and {h!r} both mean {canon!r}; {taken[canon]!r} is used and "
                         f"{h!r} is left as it is (use the column map to choose).")
            return
        taken[canon] = h
        mapping[h] = canon

    for h in names:  # explicit map first, then exact names, then synonyms
        if h in wanted:
            take(h, wanted[h])
    for h in names:
        if h not in mapping and h in BY_NAME and h not in wanted:
            take(h, h)
    for h in names:
        if h not in mapping and h not in wanted and h not in BY_NAME:
            canon = canonical_column(h)
            if canon:
                take(h, canon)
    unmapped = [h for h in names if h not in mapping]
    return mapping, unmapped, True


def _rename(frame: pd.DataFrame, mapping: dict[str, str], unmapped: list[str], notes: list[str]) -> pd.DataFrame:
    targets = set(mapping.values())
    new = {}
    for h in frame.columns:
        if h in mapping:
            new[h] = mapping[h]
        elif h in targets:
            new[h] = f"{h}_original"
            notes.append(f"Column {h!r} was renamed {new[h]!r} because another column is used as {h!r}.")
        else:
            new[h] = h
    return frame.rename(columns=new)


# ---------------------------------------------------------------------------
# public
def read_table(source: Any, filename: str | None = None, column_map: dict | None = None, *,
               dictionary: bool | None = None) -> ReadResult:
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
    data, name = _source_bytes(source, filename)
    notes: list[str] = []
    if not data or data.isspace():  # = not data.strip(), without copying a large file
        raise PanNetError(f"{name} is empty.", "Upload the file that holds the patient table.")
    suffix = Path(name).suffix.lower()
    decimal_comma = True
    if data[:4] == b"PK\x03\x04":
        if suffix not in (".xlsx", ".xlsm"):
            notes.append(f"{name} is an Excel workbook although its name does not end in .xlsx; read as Excel.")
        header, body = _parse_xlsx(data, name, notes)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise PanNetError(f"{name} is an old Excel 97-2003 workbook (.xls) or a password-protected workbook.",
                          "Open it in Excel, remove any password, and save it as .xlsx (Excel workbook) or CSV.")
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        raise PanNetError(f"{name} is named like an Excel workbook but is not one (or is damaged).",
                          "Open it in Excel and save it again as .xlsx, or upload it as CSV.")
    else:
        head = _prefetched_head(data, name)
        if head is None:
            text, utf8 = _decode(data, name, notes)
            header, body, delim = _parse_csv(text, name, notes, data if utf8 else None)
        else:  # the whole text is decoded only if the prefetched parse is not used after all
            header, body, delim = _parse_csv(head, name, notes, data, whole=lambda: data.decode("utf-8-sig"))
        decimal_comma = delim != ","
    if body.attrs.pop(_CLEAN_ATTR, None) is not True:
        body = _clean_cells(body)
    names, body = _fix_header(header, body, name, notes)
    body = body.iloc[:_rows_to_keep(body)].reset_index(drop=True)  # trailing empty rows are formatting, not patients
    if len(body) == 0:
        raise PanNetError(f"{name} has column headers but no data rows.",
                          "Add one row per patient under the header row.")
    raw = _type_raw(body, decimal_comma)
    mapping, unmapped, is_dict = _map_headers(names, column_map, dictionary, notes)
    if not is_dict:
        frame = raw.copy()
        frame.attrs[PROBLEMS_ATTR] = []
        return ReadResult(frame=frame, mapping={}, unmapped=unmapped, notes=notes, raw=raw, problems=[],
                          dictionary=False)
    raw = _rename(raw, mapping, unmapped, notes)
    frame, problems = _coerce_frame(raw, stripped=True)  # raw's text cells are stripped already
    notes.extend(p.problem for p in problems if p.row is None)
    frame.attrs[PROBLEMS_ATTR] = list(problems)
    return ReadResult(frame=frame, mapping=mapping, unmapped=unmapped, notes=notes, raw=raw,
                      problems=list(problems), dictionary=True)


# ---------------------------------------------------------------------------
# coercion to the dictionary types
def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask) + 1


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


def _coerce_id(s: pd.Series, stripped: bool = False) -> pd.Series:
    if pd.api.types.is_integer_dtype(s):
        return s.astype("Int64")
    t = _text(s, stripped)
    present = t.dropna()
    if len(present) and present.str.fullmatch(r"[+-]?\d{1,15}").all():
        return pd.to_numeric(t).astype("Int64")
    return t


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
    return _coerce_frame(frame, stripped=False)


def _coerce_frame(frame: pd.DataFrame, stripped: bool) -> tuple[pd.DataFrame, list[Problem]]:
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
            return _coerce_id(s, stripped), []
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
    done = _map_columns(one, ks) if len(frame) >= 50_000 else [one(k) for k in ks]
    cols = {frame.columns[k]: d[0] for k, d in zip(ks, done)}
    problems: list[Problem] = [p for d in done for p in d[1]]
    out = pd.DataFrame(cols, index=frame.index)
    out.columns = frame.columns
    return out, problems
