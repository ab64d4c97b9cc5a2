"""Fast CSV writing, byte-identical to ``DataFrame.to_csv(path, index=False)``.

pandas formats every cell through ``ndarray.astype(str)`` and the ``csv`` module,
which costs ~2 µs per value; ``matched_cohort.csv`` at registry scale has millions
of cells. Here each column is turned into a list of Python strings with one
vectorised step per dtype (``repr`` of floats is the same shortest round-trip text
numpy writes) and rows are joined with ``str.join``. Columns of any dtype not
handled here make the whole frame go through pandas, so the output never differs.

With pyarrow (:func:`_write_arrow`), a column whose text comes from a few distinct
values (categories, dates, booleans, repeated floats) never becomes a list of Python
strings: its labels are taken by code into an Arrow string array, and the cells of a
row are joined by pyarrow's ``binary_join_element_wise``; the bytes are the same.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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
    if isinstance(dt, pd.StringDtype) or dt == object:
        if dt == object and not all(isinstance(v, str) or v is None or v is pd.NA or
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
            if len(uniq) * 4 < n:
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


def _arrow_columns(frame: pd.DataFrame) -> list | None:
    """Every column's text as an Arrow ``large_string`` array (None: a dtype is not handled here)."""
    import pyarrow as pa

    from .arrow_csv import map_columns

    n = len(frame)

    def text(k: int):
        col = frame.iloc[:, k]
        lab = _labelled(col)
        if lab is not None:
            return pa.array(lab.labels, pa.large_string()).take(pa.array(lab.codes))
        arrow = _arrow_text(col)
        if arrow is not None:
            return arrow
        fmt = _formatter(col)
        return None if fmt is None else pa.array(fmt(0, n), pa.large_string())

    # columns on two threads: factorize, take and the regex check release the GIL
    out = map_columns(text, range(frame.shape[1])) if n >= 10_000 else [text(k) for k in range(frame.shape[1])]
    return None if any(c is None for c in out) else out


def _write_arrow(fh, columns: list, n: int) -> None:
    """Write rows ``columns[0][i],...,columns[-1][i]\\n`` (UTF-8) by pyarrow's element-wise join.

    Blocks of rows are joined on two threads (pyarrow releases the GIL) and written in order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from .arrow_csv import map_columns

    empty, newline, comma = (pa.scalar(t, pa.large_string()) for t in ("", "\n", ","))

    def block(start: int):
        part = [c.slice(start, _CHUNK) for c in columns]
        last = pc.binary_join_element_wise(part[-1], empty, newline)
        rows = pc.binary_join_element_wise(*part[:-1], last, comma)
        if isinstance(rows, pa.ChunkedArray):
            rows = rows.combine_chunks()
        if rows.null_count:
            raise ValueError("a null cell")  # not expected: every cell is text
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
        return memoryview(rows.buffers()[2])[int(offsets[0]):int(offsets[-1])]

    for text in map_columns(block, range(0, n, _CHUNK)):
        fh.write(text)


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` exactly as ``frame.to_csv(path, index=False)`` would, only faster.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table with unique string column names.
    path : str or pathlib.Path
        File to write (UTF-8, ``\\n`` line ends).
    """
    names = [str(c) for c in frame.columns]
    usable = frame.columns.is_unique and all(isinstance(c, str) for c in frame.columns) and frame.shape[1] > 1 \
        and len(frame) > 0
    if not usable:
        frame.to_csv(path, index=False)
        return
    n = len(frame)
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - pyarrow ships with pandas 3 installs
        pass
    else:
        try:
            columns = _arrow_columns(frame)
        except (OSError, MemoryError):
            raise
        except Exception:  # noqa: BLE001 - anything unusual in pyarrow: the list path below
            columns = None
        if columns is not None:
            try:
                with open(path, "wb") as fh:
                    fh.write((",".join(_quote_all(names)) + "\n").encode("utf-8"))
                    _write_arrow(fh, columns, n)
                return
            except (OSError, MemoryError):
                raise
            except Exception:  # noqa: BLE001 - the list path below rewrites the whole file
                pass
    formatters = [_formatter(frame.iloc[:, k]) for k in range(frame.shape[1])]
    if any(f is None for f in formatters):
        frame.to_csv(path, index=False)
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(_quote_all(names)) + "\n")
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            cols = [f(start, stop) for f in formatters]
            fh.write("\n".join(map(",".join, zip(*cols))))
            fh.write("\n")
