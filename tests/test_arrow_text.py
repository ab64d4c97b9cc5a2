"""arrow_text.iso_dates: the yyyy-mm-dd shortcut gives exactly what the general date reading gives."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pannet_core.io import arrow_text, coercion

CELLS = ["2019-05-31", "2019-02-29", "2020-02-29", "2000-02-29", "1900-02-29", "2100-02-28", "2019-04-31",
         "2019-04-30", "2019-13-01", "2019-00-10", "2019-05-00", "1799-12-31", "1800-01-01", "2200-12-31",
         "2201-01-01", "2019-5-31", "31/05/2019", "05/31/2019", "2019/05/31", "20190531", "43617", "2019-05-3é",
         "２019-05-31", "2019–05–31", "abcd-ef-gh", "2019-05-31T10:00", "2019-05-31 10:00", None, "åäö", "1980-01-01"]


def _general(monkeypatch, col, s):
    with monkeypatch.context() as m:
        m.setattr(arrow_text, "iso_dates", lambda s: None)
        return coercion._coerce_date(col, s, stripped=True)


def _same(monkeypatch, s):
    fast, probs = coercion._coerce_date("birth_date", s, stripped=True)
    slow, slow_probs = _general(monkeypatch, "birth_date", s)
    pd.testing.assert_series_equal(fast, slow, check_exact=True)
    assert fast.dtype == "datetime64[ns]"
    assert probs == slow_probs
    return fast, probs


def test_edge_cells_same_as_general_path(monkeypatch):
    s = pd.Series(CELLS * 3, dtype="str", index=np.arange(5, 5 + 3 * len(CELLS)))
    out, probs = _same(monkeypatch, s)
    assert out.iloc[0] == pd.Timestamp("2019-05-31") and pd.isna(out.iloc[1])
    assert out.iloc[2] == pd.Timestamp("2020-02-29")
    assert out.iloc[CELLS.index("31/05/2019")] == pd.Timestamp("2019-05-31")  # left to the general code
    assert {p.value for p in probs} >= {"2019-02-29", "abcd-ef-gh", "åäö"}


@pytest.mark.parametrize("cells", [["2019-05-31", "1980-01-01"] * 50,          # all plain: no scatter
                                   ["2019-05-31", None] * 50,                  # missing cells
                                   [None] * 20,                                # a column all missing
                                   ["01.02.2003", "2019-05-31", "2019-02-30"] * 7])
def test_columns_same_as_general_path(monkeypatch, cells):
    _same(monkeypatch, pd.Series(cells, dtype="str"))


def test_sliced_chunked_and_narrow_arrow_data(monkeypatch):
    chunks = [pa.array(CELLS[:10], pa.large_string()), pa.array(CELLS[10:], pa.large_string())]
    s = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks)))
    _same(monkeypatch, s)
    _same(monkeypatch, s.iloc[3:].reset_index(drop=True))     # an Arrow slice: non-zero offset
    narrow = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(CELLS, pa.string())])))
    _same(monkeypatch, narrow)


def test_null_slot_with_bytes_is_missing(monkeypatch):
    # Arrow allows a null cell to span bytes; it must stay missing, and the cells around it read right
    data = b"2019-05-312020-01-011999-12-31"
    offsets = np.array([0, 10, 20, 30], dtype=np.int64)
    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    arr = pa.Array.from_buffers(pa.large_string(), 3, [validity, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)])
    s = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arr])))
    dates, ok = arrow_text.iso_dates(s)
    assert ok.tolist() == [True, False, True] and pd.isna(dates[1])
    assert dates[2] == np.datetime64("1999-12-31")
    _same(monkeypatch, s)


def test_not_arrow_text_is_left_alone():
    assert arrow_text.iso_dates(pd.Series(["2019-05-31"], dtype=object)) is None
    assert arrow_text.iso_dates(pd.Series(["2019-05-31"], dtype=pd.StringDtype("python"))) is None
