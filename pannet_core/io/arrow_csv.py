"""The pyarrow half of CSV reading: text to cleaned Arrow string columns, without pandas.

:mod:`pannet_core.io.reading` parses a "regular" CSV text (no quote character, no
blank line, no lone carriage return) with pyarrow's multi-threaded reader and
cleans every cell (strip, missing markers to null) with pyarrow kernels before
the columns become pandas columns.  Those steps live here, in a module that
imports neither pandas nor numpy, so that the command line can run them on a
background thread (:func:`start_prefetch`) while the main thread is still
importing pandas and scipy: pyarrow releases the GIL while it parses and
computes, imports hold it.

The prefetch is only a cache.  :func:`take_prefetched` hands its result to
:mod:`~pannet_core.io.reading` only for the very bytes object, delimiter and
width the reader computed itself; anything else (another file, a non-UTF-8
file, an Excel workbook, an error) leaves the reader on its usual path.
"""
from __future__ import annotations

import csv
import os
import threading
from functools import lru_cache
from pathlib import Path

#: cells read as missing (compared after stripping, case-insensitively)
MISSING_MARKERS = frozenset({
    "", "na", "n/a", "n.a.", "n.a", "#n/a", "nan", "null", "missing", "unknown", "unk", "okänd", "okänt",
    "okand", "okant", "saknas", "uppgift saknas", "ej känt", "ej känd", "-", "--", "---", ".", "?", "??", "#saknas!",
})
DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 200
UTF8_BOM = b"\xef\xbb\xbf"
_PREFETCH_MIN_BYTES = 2 << 20  # smaller files are read in a blink; not worth a thread
PREFETCH_HEAD_BYTES = 1 << 20


# ---------------------------------------------------------------------------
# text checks
def head_lines(text: str, n: int) -> list[str]:
    """``text.splitlines()[:n]`` without splitting the whole (large) text."""
    size = 65536
    while size < len(text):
        lines = text[:size].splitlines()
        if len(lines) > n:  # line n+1 has started, so the first n lines are complete
            return lines[:n]
        size *= 4
    return text.splitlines()[:n]


def sniff_lines(lines: list[str]) -> str:
    """The delimiter (of :data:`DELIMITERS`) that splits the first lines most consistently."""
    lines = [ln for ln in lines if ln.strip()]
    best, best_key = ",", None
    for d in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistency = sum(c == counts[0] for c in counts) / len(counts)
        key = (round(consistency, 2), counts[0])
        if best_key is None or key > best_key:
            best, best_key = d, key
    return best


def regular_text(text: str) -> bool:
    """No quote, no blank line, no lone carriage return: where pyarrow and pandas' C parser agree."""
    if not text or '"' in text:
        return False
    n_cr = text.count("\r")
    if n_cr and n_cr != text.count("\r\n"):
        return False
    return not (text.startswith(("\n", "\r\n")) or "\n\n" in text or "\n\r\n" in text)


def regular_bytes(data) -> bool:
    """:func:`regular_text` of the text these bytes encode, for UTF-8, Windows-1252 or Latin-1 bytes.

    The characters looked at (quote, CR, LF) are ASCII, which those encodings
    write as the same single bytes and UTF-8 never uses inside a multi-byte
    character, so the answer is the same as on the decoded text, without decoding it.

    Parameters
    ----------
    data : bytes
        The file's bytes after any byte-order mark.

    Returns
    -------
    bool
    """
    if not data or b'"' in data:
        return False
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False
    return not (data.startswith((b"\n", b"\r\n")) or _has_blank_line(data))


def _has_blank_line(data) -> bool:
    """``re.search(rb"\\n\\r?\\n", data) is not None``, by pyarrow's regex engine.

    RE2 on the bytes as one binary value does not hold the GIL (the CSV prefetch runs this beside the imports).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    offsets = pa.py_buffer((0).to_bytes(8, "little") + len(data).to_bytes(8, "little"))
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    return bool(pc.match_substring_regex(whole, "\n\r?\n")[0].as_py())


# ---------------------------------------------------------------------------
# pyarrow
def read_strings(raw, delim: str, width: int):
    """Every cell of a regular CSV text as an Arrow string, or None (let pandas' parsers decide).

    Parameters
    ----------
    raw : bytes or memoryview
        UTF-8 text of the file (no byte-order mark).
    delim : str
        Column separator.
    width : int
        Number of columns of the first line (the reader types 64 more as text).

    Returns
    -------
    pyarrow.Table or None
        Columns ``f0, f1, ...`` of type ``large_string`` (what pandas' ``str``
        dtype stores), or None when pyarrow fails to parse the text
        or finds fewer than two columns.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    try:
        table = pacsv.read_csv(
            pa.py_buffer(raw),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.large_string() for i in range(width + 64)},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    if table.num_columns < 2:
        return None
    return table


def is_text_table(table) -> bool:
    """Whether every column of ``table`` is ``large_string`` and there is a row under the header."""
    import pyarrow as pa

    return table.num_rows > 1 and all(table.column(i).type == pa.large_string() for i in range(table.num_columns))


#: what ``str.strip`` and ``utf8_trim_whitespace`` strip of the ASCII characters (``ascii_trim_whitespace``
#: keeps the separators U+001C to U+001F)
ASCII_WHITESPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"


def plain_ascii(text) -> bool:
    """Whether pyarrow's ASCII strip and lower-case give what its UTF-8 ones give on every cell of ``text``.

    True for ASCII text: there ``ascii_trim`` of :data:`ASCII_WHITESPACE`
    strips what ``utf8_trim_whitespace`` (and Python's ``str.strip``) strips,
    and ``ascii_lower`` lower-cases as ``utf8_lower`` does, without decoding UTF-8.

    Parameters
    ----------
    text : bytes or str
        The whole CSV text (any other type: False).

    Returns
    -------
    bool
    """
    return isinstance(text, (bytes, str)) and text.isascii()


def clean_column(col, ascii: bool = False):
    """Strip every cell and turn missing markers into nulls (the same kernels pandas' ``str`` methods use).

    Parameters
    ----------
    col : pyarrow.ChunkedArray
        String or large_string cells.
    ascii : bool
        The cells come from a text :func:`plain_ascii` accepted: strip and
        lower-case with the ASCII kernels (same result).

    Returns
    -------
    pyarrow.ChunkedArray
        Same type; stripped text, null where the stripped, lower-cased cell is
        in :data:`MISSING_MARKERS` or was null.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if ascii:
        s = pc.ascii_trim(col, characters=ASCII_WHITESPACE)
        marker = pc.is_in(pc.ascii_lower(s), value_set=_markers_arrow())
    else:
        s = pc.utf8_trim_whitespace(col)
        marker = pc.is_in(pc.utf8_lower(s), value_set=_markers_arrow())
    # is_in answers false (never null) for a null cell, as the value set holds no null, so if_else keeps
    # null cells null without or-ing is_null in (which cost more than if_else itself); most columns
    # hold no marker at all and are returned as stripped
    if s.null_count:
        marker = pc.or_kleene(marker, pc.is_null(s))
    if not pc.any(marker).as_py():
        return s
    # pa.nulls(1, type)[0], not pa.scalar(None, type): pa.scalar imports pandas, and the prefetch
    # thread would stop here until the main thread has finished importing it
    return pc.if_else(marker, pa.nulls(1, s.type)[0], s)


@lru_cache(maxsize=1)
def _markers_arrow():
    """:data:`MISSING_MARKERS` as an Arrow ``string`` array, built from its buffers (``pa.array`` imports pandas)."""
    import array

    import pyarrow as pa

    encoded = [m.encode("utf-8") for m in sorted(MISSING_MARKERS)]
    offsets = array.array("i", [0])  # int32, as Arrow's string offsets
    for e in encoded:
        offsets.append(offsets[-1] + len(e))
    if offsets.itemsize != 4 or offsets.tobytes()[4:8] != offsets[1].to_bytes(4, "little"):
        return pa.array(sorted(MISSING_MARKERS), type=pa.string())  # pragma: no cover - not little-endian int32
    return pa.Array.from_buffers(pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(b"".join(encoded))])


def header_and_clean_body(table, ascii: bool = False) -> tuple[list, list]:
    """The first row as the header and every column below it cleaned by :func:`clean_column`.

    Parameters
    ----------
    table : pyarrow.Table
        As :func:`read_strings` returns it, with :func:`is_text_table` true.
    ascii : bool
        :func:`plain_ascii` of the text parsed (passed on to :func:`clean_column`).

    Returns
    -------
    header : list
        First-row cells (str).
    columns : list of pyarrow.ChunkedArray
        Cleaned cells of the rows below, one per column.
    """
    header = [table.column(i)[0].as_py() for i in range(table.num_columns)]
    body = table.slice(1)
    cols = map_columns(lambda i: clean_column(body.column(i), ascii), range(table.num_columns))
    return header, cols


def map_columns(fn, items) -> list:
    """``[fn(i) for i in items]``, on two threads (pyarrow compute releases the GIL)."""
    items = list(items)
    if len(items) < 4:
        return [fn(i) for i in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(fn, items))


# ---------------------------------------------------------------------------
# prefetch on a background thread (command line only)
class _Prefetch:
    """Read one CSV file and parse and clean it with pyarrow, on a thread."""

    def __init__(self, path: Path):
        self.path = path
        self.data: bytes | None = None
        self.key: tuple | None = None  # (offset, delim, width) the parse used
        self.result: tuple | None = None  # (table, header, cleaned columns) or None
        self.read_done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pannet-csv-prefetch", daemon=True)

    def _run(self) -> None:
        try:
            try:
                self.data = self.path.read_bytes()
            finally:
                self.read_done.set()
            self.key, self.result = _parse_for_prefetch(self.data, self.path.name)
        except Exception:  # noqa: BLE001 - a cache: the reader redoes everything and reports errors itself
            self.key, self.result = None, None


def _parse_for_prefetch(data: bytes, name: str) -> tuple[tuple | None, tuple | None]:
    if len(data) < _PREFETCH_MIN_BYTES or Path(name).suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return None, None
    if data[:4] == b"PK\x03\x04" or data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:65536]:
        return None, None
    offset = 3 if data.startswith(UTF8_BOM) else 0
    head = data[offset:offset + PREFETCH_HEAD_BYTES].decode("utf-8", errors="ignore")
    lines = head.splitlines()
    if len(lines) <= SNIFF_LINES:
        return None, None
    body = data[offset:] if offset else data
    if not regular_bytes(body):
        return None, None
    delim = sniff_lines(lines[:SNIFF_LINES])
    width = lines[0].count(delim) + 1
    table = read_strings(body, delim, width)
    if table is None:
        return (offset, delim, width), None
    if not is_text_table(table):
        return (offset, delim, width), (table, None, None)
    header, cols = header_and_clean_body(table, plain_ascii(body))
    return (offset, delim, width), (table, header, cols)


_lock = threading.Lock()
_current: _Prefetch | None = None


def start_prefetch(path) -> None:
    """Start reading and parsing ``path`` on a background thread (for one later :func:`read_table`).

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file the command line is about to read.
    """
    global _current
    p = Path(path)
    try:
        if not p.is_file():
            return
    except OSError:
        return
    pf = _Prefetch(p)
    with _lock:
        _current = pf
    pf.thread.start()


def wait_prefetch() -> None:
    """Wait for a running prefetch to finish (before the process exits)."""
    pf = _current
    if pf is not None:
        pf.thread.join()


def prefetched_bytes(path) -> bytes | None:
    """The bytes the prefetch read from ``path`` (waiting for the read), or None."""
    pf = _current
    if pf is None or str(pf.path) != str(Path(path)):
        return None
    pf.read_done.wait()
    return pf.data


def parsed_as_text(data: bytes) -> bool:
    """Whether the prefetch parsed these very bytes into text columns (waiting for it to finish).

    Then the bytes are valid UTF-8 all through: every byte of a regular CSV
    is a delimiter, a line end or part of a cell, and pyarrow checked every
    cell of the ``large_string`` columns as UTF-8 (as strictly as Python's
    decoder).  The prefetch is not used up.

    Parameters
    ----------
    data : bytes
        The file's bytes, the very object :func:`prefetched_bytes` returned.

    Returns
    -------
    bool
    """
    pf = _current
    if pf is None or pf.data is not data:
        return False
    pf.thread.join()
    return pf.result is not None and pf.result[1] is not None


def take_prefetched(data: bytes, offset: int, delim: str, width: int) -> tuple | None:
    """The prefetch's ``(table, header, cleaned columns)`` for exactly these inputs, else None.

    The prefetch is used once: it is dropped whatever the answer.
    """
    global _current
    with _lock:
        pf, _current = _current, None
    if pf is None:
        return None
    pf.thread.join()
    if pf.data is not data or pf.key != (offset, delim, width) or pf.result is None:
        return None
    return pf.result
