"""Where a table comes from: a path, bytes or an upload, decoded to text, with binary files refused."""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from pannet_core.errors import PanNetError
from pannet_core.io import arrow_csv


def source_bytes(source: Any, filename: str | None) -> tuple[bytes, str]:
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


def decode_text(data: bytes, name: str, notes: list[str]) -> tuple[str, bool]:
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


def prefetched_head(data: bytes, name: str) -> str | None:
    """The head of the text of ``data`` when the command line's prefetch parsed these bytes, else None.

    Such bytes are UTF-8 all through (:func:`~pannet_core.io.arrow_csv.parsed_as_text`),
    so :func:`decode_text` would decode them as UTF-8 without a note.  Only the
    part the reader looks at when it takes the prefetched parse is decoded
    here (the first :data:`arrow_csv.SNIFF_LINES` lines, to sniff the delimiter, and
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
        :data:`arrow_csv.SNIFF_LINES` lines and at least :data:`_SAMPLE_CHARS`
        characters (or the whole text), or None.

    Raises
    ------
    PanNetError
        As :func:`decode_text` for text with many control characters.
    """
    if not arrow_csv.parsed_as_text(data):
        return None
    size = len(arrow_csv.UTF8_BOM) + arrow_csv.PREFETCH_HEAD_BYTES
    if len(data) <= size:
        return _check_text(data.decode("utf-8-sig"), name)
    # final=False: a character cut by the end of the slice is held back, not an error
    head = codecs.getincrementaldecoder("utf-8-sig")().decode(memoryview(data)[:size])
    if len(head) < _SAMPLE_CHARS or head.count("\n") <= arrow_csv.SNIFF_LINES:
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
