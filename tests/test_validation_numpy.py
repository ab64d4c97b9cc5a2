"""validation's numpy helpers give what the pandas expressions they replace gave."""
import numpy as np
import pandas as pd

from pannet_core.io.validation import _all_missing, _dates_after, _dates_before, _duplicated, strictly_increasing


def _dates(rng, n):
    d = pd.Series(pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 9000, n), unit="D"))
    d[rng.random(n) < 0.3] = pd.NaT
    return d.astype("datetime64[ns]")


def test_dates_before_and_after_equal_pandas():
    rng = np.random.default_rng(0)
    e, l_ = _dates(rng, 2000), _dates(rng, 2000)
    want = (e.notna() & l_.notna() & (l_ < e)).to_numpy()
    assert want.any() and (_dates_before(l_, e) == want).all()
    today = pd.Timestamp("2012-06-30")
    want = (e > today).to_numpy(dtype=bool, na_value=False)
    assert want.any() and (_dates_after(e, today) == want).all()
    assert _dates_after(pd.Series([pd.NaT, pd.Timestamp("2030-01-01"), None], dtype="datetime64[ns]"),
                        today).tolist() == [False, True, False]


def test_all_missing_equals_isna_all():
    f = pd.DataFrame({"a": [None, 1.0, None, None], "b": pd.array([None, None, "x", None], dtype="str"),
                      "c": pd.array([None, True, None, None], dtype="boolean")})
    assert _all_missing(f).tolist() == f.isna().all(axis=1).tolist() == [True, False, False, True]
    full = pd.DataFrame({"a": [1.0, 2.0], "b": [None, None]})
    assert _all_missing(full).tolist() == [False, False]


def test_duplicated_equals_pandas_with_and_without_the_increasing_shortcut():
    cases = [
        pd.Series(pd.array(["A1", None, "A2", "B", None, "Ö"], dtype="str")),  # increasing (bytes), missing
        pd.Series(pd.array(["A1", "A2", "A1", None, "A2"], dtype="str")),  # repeats
        pd.Series(pd.array(["b", "a", "c"], dtype="str")),  # distinct, not increasing
        pd.Series(pd.array([None, None], dtype="str")),  # all missing
        pd.Series(pd.array([], dtype="str")),
        pd.Series(pd.array([1, None, 2, 5], dtype="Int64")),
        pd.Series(pd.array([1, 3, 3], dtype="Int64")),
        pd.Series([1.0, np.nan, 1.0]),
        pd.Series([3, 2, 1]),
        pd.Series(["x", None, "x"], dtype=object),
        pd.Series(pd.array(["x", "y", "x", "z"] * 100, dtype="str")).iloc[::2].reset_index(drop=True),
    ]
    for s in cases:
        want = (s.duplicated(keep="first") & s.notna()).to_numpy()
        assert _duplicated(s).tolist() == want.tolist(), s
    assert strictly_increasing(cases[0]) and strictly_increasing(cases[3]) and strictly_increasing(cases[5])
    assert not strictly_increasing(cases[1]) and not strictly_increasing(cases[2])
    assert not strictly_increasing(cases[6]) and not strictly_increasing(cases[9])
