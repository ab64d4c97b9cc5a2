"""Fast CSV writing, byte-identical to ``safe_frame(frame).to_csv(path, index=False)``.

Text cells that a spreadsheet would run as a formula are neutralised first
(:mod:`pannet_core.report.safe_cells`); numbers are never changed.

pandas formats every cell through ``ndarray.astype(str)`` and the ``csv`` module,
one Python call per value; ``matched_cohort.csv`` at registry scale has millions
of cells (docs/benchmarks.md, "CSV writer"). Here each column is turned into a list of Python strings with one
vectorised step per dtype (``repr`` of floats is the same shortest round-trip text
numpy writes) and rows are joined with ``str.join``. Columns of any dtype not
handled here make the whole frame go through pandas, so the output never differs.

With pyarrow (:func:`_write_arrow`), a column whose text comes from a few distinct
values (categories, dates, booleans, repeated floats) never becomes a list of Python
strings: its labels are taken by code into an Arrow string array, and the cells of a
row are joined by pyarrow's ``binary_join_element_wise``; the bytes are the same.
"""
from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from pannet_core.report.safe_cells import has_carriage_return, safe_frame

_CHUNK = 10_000
_SPECIAL = ('"', ",", "\n", "\r")


def _quote(s: str) -> str:
    """QUOTE_MINIMAL as the ``csv`` module does it for the pandas defaults."""
    if any(ch in s for ch in _SPECIAL):
        return '"' + s.replace('"', '""') + '"'
    return s


def _quote_all(values: list[str]) -> list[str]:
    joined = "".join(values)
    if not any(ch in joined for ch in _SPECIAL):
        return values
    return [_quote(v) for v in values]


def _floats(a: np.ndarray) -> list[str]:
    out = list(map(repr, a.tolist()))
    nan = np.flatnonzero(np.isnan(a))
    for i in nan.tolist():
        out[i] = ""
    return out


def _float_column(a: np.ndarray):
    """Formatter of a float64 column; few distinct values are formatted once each."""
    if len(a) > 1000 and not (np.signbit(a) & (a == 0)).any():  # -0.0 would merge with 0.0
        uniq, inverse = np.unique(a, return_inverse=True)
        if len(uniq) * 4 < len(a):
            text = np.array(_floats(uniq), dtype=object)
            return lambda i, j: text[inverse[i:j]].tolist()
    return lambda i, j: _floats(a[i:j])


def _with_mask(values: list[str], mask: np.ndarray) -> list[str]:
    for i in np.flatnonzero(mask).tolist():
        values[i] = ""
    return values


def _formatter(col: pd.Series):
    """A function ``(start, stop) -> list[str]`` for one column, or None if unsupported."""
    dt = col.dtype
    if dt == np.float64:
        return _float_column(col.to_numpy())
    if dt == np.int64 or dt == np.int32:
        a = col.to_numpy()
        return lambda i, j: list(map(str, a[i:j].tolist()))
    if dt == np.bool_:
        a = col.to_numpy()
        return lambda i, j: list(map(str, a[i:j].tolist()))
    if isinstance(dt, pd.api.extensions.ExtensionDtype) and dt.kind in "iu" and hasattr(col.array, "_mask"):
        arr = col.array  # nullable integers (Int64 ...): the digits, an empty cell for <NA>
        vals, mask = arr._data, arr._mask
        return lambda i, j: _with_mask(list(map(str, vals[i:j].tolist())), mask[i:j])
    if isinstance(dt, pd.BooleanDtype):
        arr = col.array
        vals, mask = arr._data, arr._mask
        return lambda i, j: _with_mask(list(map(str, vals[i:j].tolist())), mask[i:j])
    if isinstance(dt, pd.CategoricalDtype):
        cats = pd.Series(dt.categories)
        if cats.dtype != object and not isinstance(cats.dtype, pd.StringDtype):
            return None
        if cats.isna().any():
            return None
        labels = np.array(_quote_all([str(c) for c in cats.tolist()]) + [""], dtype=object)
        codes = col.cat.codes.to_numpy()
        return lambda i, j: labels[codes[i:j]].tolist()
    if dt == "datetime64[ns]" or dt == "datetime64[us]" or dt == "datetime64[s]" or dt == "datetime64[ms]":
        a = col.to_numpy()
        nat = np.isnat(a)
        days = a.astype("datetime64[D]")
        if (days[~nat] != a[~nat]).any():
            return None  # times of day: pandas' own formatting
        uniq, inverse = np.unique(days.view("int64"), return_inverse=True)
        labels = np.datetime_as_string(uniq.view("datetime64[D]"), unit="D").astype(object)
        labels[np.isnat(uniq.view("datetime64[D]"))] = ""
        return lambda i, j: labels[inverse[i:j]].tolist()
    if isinstance(dt, pd.StringDtype) or pd.api.types.is_object_dtype(dt):
        if pd.api.types.is_object_dtype(dt) and not all(isinstance(v, str) or v is None or v is pd.NA or
                                    (isinstance(v, float) and np.isnan(v)) for v in col.tolist()):
            return None
        vals = col.tolist()
        vals = ["" if not isinstance(v, str) else v for v in vals]
        vals = _quote_all(vals)
        return lambda i, j: vals[i:j]
    return None


class _Labels:
    """A column's text as ``labels[codes]`` (codes index ``labels``; no negative codes)."""

    __slots__ = ("labels", "codes")

    def __init__(self, labels: list[str], codes: np.ndarray):
        self.labels = labels
        self.codes = codes


def _int_labels(values: np.ndarray, mask: np.ndarray | None):
    """Integers in a narrow range (0/1 flags, pair ids) as ``str`` of each value of the range, by code.

    ``mask`` (optional) marks missing cells, written empty.  None when the range
    is wider than the column is long (then formatting each cell is cheaper).
    """
    n = len(values)
    present = values if mask is None else values[~mask]
    if n <= 1000 or not len(present):
        return None
    lo, hi = int(present.min()), int(present.max())
    if hi - lo >= n or hi > np.iinfo(np.int64).max:  # (codes are int64)
        return None
    labels = [str(v) for v in range(lo, hi + 1)] + [""]
    codes = values.astype(np.int64) - lo
    if mask is not None:
        codes[mask] = len(labels) - 1
    return _Labels(labels, codes)


def _labelled(col: pd.Series):
    """The column's text as :class:`_Labels` when it comes from few distinct values, else None."""
    dt = col.dtype
    n = len(col)
    if dt == np.float64:
        a = col.to_numpy()
        if n > 1000 and not (np.signbit(a) & (a == 0)).any():  # as _float_column
            codes, uniq = pd.factorize(a)  # hashing, not sorting; NaN -> -1
            if len(uniq) * 4 < n * 3:  # formatting each distinct value once pays unless nearly all differ
                labels = _floats(np.asarray(uniq, dtype=np.float64)) + [""]
                return _Labels(labels, np.where(codes < 0, len(labels) - 1, codes))
        return None
    if dt == np.int64 or dt == np.int32:
        return _int_labels(col.to_numpy(), None)
    if isinstance(dt, pd.api.extensions.ExtensionDtype) and dt.kind in "iu" and hasattr(col.array, "_mask"):
        return _int_labels(col.array._data, col.array._mask)  # nullable integers: <NA> is an empty cell
    if dt == np.bool_:
        return _Labels(["False", "True"], col.to_numpy().astype(np.int8))
    if isinstance(dt, pd.BooleanDtype):
        arr = col.array
        codes = arr._data.astype(np.int8)
        codes[arr._mask] = 2
        return _Labels(["False", "True", ""], codes)
    if isinstance(dt, pd.CategoricalDtype):
        cats = pd.Series(dt.categories)
        if (cats.dtype != object and not isinstance(cats.dtype, pd.StringDtype)) or cats.isna().any():
            return None
        labels = _quote_all([str(c) for c in cats.tolist()]) + [""]
        codes = col.cat.codes.to_numpy().astype(np.int64)
        codes[codes < 0] = len(labels) - 1
        return _Labels(labels, codes)
    if dt == "datetime64[ns]" or dt == "datetime64[us]" or dt == "datetime64[s]" or dt == "datetime64[ms]":
        a = col.to_numpy()
        nat = np.isnat(a)
        days = a.astype("datetime64[D]")
        if (days[~nat] != a[~nat]).any():
            return None
        codes, uniq = pd.factorize(days.view("int64"))  # NaT is a value here, labelled ""
        uniq = np.asarray(uniq, dtype=np.int64)
        labels = np.datetime_as_string(uniq.view("datetime64[D]"), unit="D").astype(object)
        labels[np.isnat(uniq.view("datetime64[D]"))] = ""
        return _Labels(labels.tolist(), codes)
    return None


def _arrow_text(col: pd.Series):
    """An Arrow-backed ``str`` column as its CSV text (missing -> ""), or None if a cell needs quotes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(col.array, "_pa_array", None)
    if not isinstance(col.dtype, pd.StringDtype) or arr is None or not pa.types.is_large_string(arr.type):
        return None
    if pc.any(pc.match_substring_regex(arr, '["\n\r,]')).as_py():
        return None
    return pc.fill_null(arr, pa.scalar("", pa.large_string())).combine_chunks()


def _column_texts(frame: pd.DataFrame, known: dict | None = None, parallel: bool = True) -> list:
    """Each column's text as an Arrow ``large_string`` array, or None where the dtype is not handled here.

    ``known`` (name -> ``(column, text)``, from :func:`column_texts`) supplies the
    text of a column that holds the very same values (:func:`_same_values`).
    """
    import pyarrow as pa

    from pannet_core.io.arrow_csv import map_columns

    n = len(frame)
    known = known or {}

    def text(k: int):
        col = frame.iloc[:, k]
        name = frame.columns[k]
        if name in known and _same_values(col, known[name][0]):
            return known[name][1]
        lab = _labelled(col)
        if lab is not None:
            return pa.array(lab.labels, pa.large_string()).take(pa.array(lab.codes))
        arrow = _arrow_text(col)
        if arrow is not None:
            return arrow
        fmt = _formatter(col)
        return None if fmt is None else pa.array(fmt(0, n), pa.large_string())

    # columns on two threads: factorize, take and the regex check release the GIL
    if parallel and n >= 10_000:
        return map_columns(text, range(frame.shape[1]))
    return [text(k) for k in range(frame.shape[1])]


def _arrow_columns(frame: pd.DataFrame, known: dict | None = None) -> list | None:
    """Every column's text as an Arrow ``large_string`` array (None: a dtype is not handled here).

    When ``known`` holds the joined text of the frame's last columns (:data:`_TAIL`,
    see :func:`column_texts`) and they hold the same values, those columns are one
    array of ``a,b,...`` cells: the rows are the same bytes.
    """
    tail = (known or {}).get(_TAIL)
    if tail is not None:
        names, columns, joined = tail
        m = len(names)
        if 0 < m < frame.shape[1] and list(frame.columns[-m:]) == names and all(
                _same_values(frame.iloc[:, frame.shape[1] - m + i], columns[i]) for i in range(m)):
            head = _column_texts(frame.iloc[:, :-m], known)
            return None if any(c is None for c in head) else head + [joined]
    out = _column_texts(frame, known)
    return None if any(c is None for c in out) else out


#: key of :func:`column_texts`'s entry for the joined text of the last columns
_TAIL = ("joined", "tail")


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two 1-d arrays hold the same bytes (so -0.0 differs from 0.0 and NaN equals the same NaN)."""
    if a.dtype != b.dtype or a.shape != b.shape or a.ndim != 1:
        return False
    if not (a.flags.c_contiguous and b.flags.c_contiguous):
        return False
    if a.__array_interface__["data"][0] == b.__array_interface__["data"][0]:
        return True  # the same memory (frames that share a column): the same bytes, without reading them
    return bool(np.array_equal(a.view(np.uint8), b.view(np.uint8)))


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    """Whether ``a`` and ``b`` have the same dtype and values, so the same CSV text (False when unsure)."""
    if a.dtype != b.dtype or len(a) != len(b):
        return False
    x, y = a.array, b.array
    px, py = getattr(x, "_pa_array", None), getattr(y, "_pa_array", None)
    if px is not None or py is not None:  # Arrow: text only, where equal values are equal text
        return (isinstance(a.dtype, pd.StringDtype) and px is not None and py is not None
                and (px is py or px.equals(py)))
    if hasattr(x, "_mask") and hasattr(x, "_data"):  # nullable integers and booleans
        return _same_bits(x._mask, y._mask) and _same_bits(x._data, y._data)
    if isinstance(a.dtype, pd.CategoricalDtype):  # (equal unordered dtypes may list categories in another order)
        return x.categories.equals(y.categories) and _same_bits(x.codes, y.codes)
    if a.dtype == object or isinstance(a.dtype, pd.api.extensions.ExtensionDtype):
        return False
    return _same_bits(a.to_numpy(), b.to_numpy())


def column_texts(frame: pd.DataFrame, tail: list | None = None) -> dict:
    """The CSV text of every column of ``frame`` that :func:`write_csv` writes with pyarrow.

    For a file written later from a frame that shares columns with this one:
    ``write_csv(other, path, known=column_texts(frame))`` reuses the text of
    each column of ``other`` with the same name, dtype and values.  Computed
    on the calling thread only (it is meant to run beside other work).

    Parameters
    ----------
    frame : pandas.DataFrame
        Table with unique string column names.
    tail : list of str, optional
        Columns of ``frame`` that will be the last columns of ``other``, in this
        order: their rows are also joined now (``a,b,...``), so that
        :func:`write_csv` joins only the columns before them.

    Returns
    -------
    dict
        Column name -> ``(column, text)``: the column (a Series) and its cells
        as written, an Arrow ``large_string`` array; and the joined tail.  Empty
        for a frame :func:`write_csv` hands to pandas.
    """
    if not frame.columns.is_unique or len(frame) == 0:
        return {}
    frame = safe_frame(frame)
    texts = _column_texts(frame, parallel=False)
    out = {name: (frame.iloc[:, k], t) for k, (name, t) in enumerate(zip(frame.columns, texts)) if t is not None}
    if tail and len(tail) > 1 and all(name in out for name in tail):
        out[_TAIL] = (list(tail), [out[name][0] for name in tail], _join([out[name][1] for name in tail], ","))
    return out


def _join(columns: list, sep: str):
    """Cell ``i`` of every column joined by ``sep`` (one Arrow ``large_string`` array)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    joined = pc.binary_join_element_wise(*columns, pa.scalar(sep, pa.large_string()))
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _write_arrow(fh, columns: list, n: int) -> None:
    """Write rows ``columns[0][i],...,columns[-1][i]\\n`` (UTF-8) by pyarrow's element-wise join.

    Blocks of rows are joined on two threads (pyarrow releases the GIL) and written in order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from pannet_core.io.arrow_csv import map_columns

    empty, newline = (pa.scalar(t, pa.large_string()) for t in ("", "\n"))

    def block(start: int):
        part = [c.slice(start, _CHUNK) for c in columns]
        last = pc.binary_join_element_wise(part[-1], empty, newline)
        rows = _join([*part[:-1], last], ",")
        if rows.null_count:
            raise ValueError("a null cell")  # not expected: every cell is text
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
        return memoryview(rows.buffers()[2])[int(offsets[0]):int(offsets[-1])]

    for text in map_columns(block, range(0, n, _CHUNK)):
        fh.write(text)


def _open(path, mode: str):
    """``path`` opened for writing, or a binary file object wrapped (and left open)."""
    if isinstance(path, (str, Path)):
        return open(path, mode) if mode == "wb" else open(path, mode, encoding="utf-8", newline="")
    path.seek(0)
    path.truncate()
    if mode == "wb":
        return contextlib.nullcontext(path)
    return contextlib.closing(_Unclosed(path))


class _Unclosed(io.TextIOWrapper):
    """A UTF-8 text view of a binary buffer that leaves the buffer open when done."""

    def __init__(self, buffer):
        super().__init__(buffer, encoding="utf-8", newline="")
        self._done = False

    def close(self):
        if not self._done:
            self._done = True
            self.flush()
            self.detach()


def _pandas_csv(frame: pd.DataFrame, path) -> None:
    """``to_csv`` for the dtypes not handled here; text with a carriage return forces quotes on text.

    (The ``csv`` module quotes only the line terminator, ``\n``: a bare ``\r`` would end a row in a
    spreadsheet, and what follows could start a formula cell.)
    """
    quoting = csv.QUOTE_NONNUMERIC if has_carriage_return(frame) else csv.QUOTE_MINIMAL
    with _open(path, "w") as fh:
        frame.to_csv(fh, index=False, lineterminator="\n", quoting=quoting)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes :func:`write_csv` writes for ``frame`` (the dashboard's downloads, the report zip)."""
    buf = io.BytesIO()
    write_csv(frame, buf)
    return buf.getvalue()


def write_csv(frame: pd.DataFrame, path: str | Path, known: dict | None = None) -> None:
    """Write ``frame`` exactly as ``safe_frame(frame).to_csv(path, index=False)`` would, only faster.

    Text cells starting with a formula trigger get a leading ``'`` (see
    :mod:`pannet_core.report.safe_cells`); numbers are written unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table with unique string column names.
    path : str or pathlib.Path
        File to write (UTF-8, ``\\n`` line ends).
    known : dict, optional
        Column texts computed before (:func:`column_texts`), used for the
        columns of ``frame`` with the same name, dtype and values.
    """
    frame = safe_frame(frame)
    names = [str(c) for c in frame.columns]
    usable = frame.columns.is_unique and all(isinstance(c, str) for c in frame.columns) and frame.shape[1] > 1 \
        and len(frame) > 0
    if not usable:
        _pandas_csv(frame, path)
        return
    n = len(frame)
    try:
        columns = _arrow_columns(frame, known)
    except (OSError, MemoryError):
        raise
    except Exception:  # noqa: BLE001 - anything unusual in pyarrow: the list path below
        columns = None
    if columns is not None:
        try:
            with _open(path, "wb") as fh:
                fh.write((",".join(_quote_all(names)) + "\n").encode("utf-8"))
                _write_arrow(fh, columns, n)
            return
        except (OSError, MemoryError):
            raise
        except Exception:  # noqa: BLE001 - the list path below rewrites the whole file
            pass
    formatters = [_formatter(frame.iloc[:, k]) for k in range(frame.shape[1])]
    if any(f is None for f in formatters):
        _pandas_csv(frame, path)
        return
    with _open(path, "w") as fh:
        fh.write(",".join(_quote_all(names)) + "\n")
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            cols = [f(start, stop) for f in formatters]
            fh.write("\n".join(map(",".join, zip(*cols))))
            fh.write("\n")
