"""eligibility._reasons: the reason texts as np.where(mask, text, "") gave them, without a fixed-width array."""
import numpy as np
import pandas as pd

from pannet_core.eligibility import _reasons


def test_reasons_with_one_text():
    mask = np.array([True, False, True])
    got = _reasons(mask, "deemed inoperable", pd.RangeIndex(3))
    assert got.dtype == object
    assert got.tolist() == ["deemed inoperable", "", "deemed inoperable"]


def test_reasons_with_a_text_per_row_equal_np_where():
    rng = np.random.default_rng(1)
    mask = rng.random(500) > 0.6
    text = np.char.add("centre ", rng.choice(["A", "Bå", "missing"], 500).astype(str))
    got = _reasons(mask, text, pd.RangeIndex(500))
    want = pd.Series(np.where(mask, text, ""), index=pd.RangeIndex(500), dtype=object)
    pd.testing.assert_series_equal(got, want)
    assert all(type(v) is str for v in got)
