"""raw_types._head_is_not_numbers: _all_match's quick look, decided before dropping missing cells."""
import numpy as np
import pandas as pd

from pannet_core.io.raw_types import _NUM_RX, _all_match, _as_numbers, _head_is_not_numbers


def _col(values):
    return pd.Series(pd.array(values, dtype="str"))


def test_text_column_is_refused_from_its_head():
    s = _col(["G1", None, "G2"] * 200)
    assert _head_is_not_numbers(s)
    assert _as_numbers(s, False) is None


def test_numbers_are_not_refused():
    s = _col(["1.5", None, "2"] * 200)
    assert not _head_is_not_numbers(s)
    num = _as_numbers(s, False)
    assert num.dtype == np.float64 and num[0] == 1.5 and np.isnan(num[1]) and num[2] == 2.0


def test_undecided_when_the_head_is_mostly_missing_or_the_column_small():
    assert not _head_is_not_numbers(_col([None] * 300 + ["x"] * 300))  # < 64 cells in the first 256
    assert not _head_is_not_numbers(_col(["x"] * 200 + [None] * 200))  # only 200 present


def test_same_answer_as_the_quick_look_of_all_match():
    rng = np.random.default_rng(3)
    for _ in range(200):
        vals = rng.choice(["1", "2.5", "x", None, "-3e4"], size=int(rng.integers(257, 700)),
                          p=rng.dirichlet(np.ones(5)))
        s = _col(list(vals))
        present = s.dropna()
        quick_refuses = len(present) > 256 and not present.iloc[:64].str.fullmatch(_NUM_RX).all()
        if _head_is_not_numbers(s):
            assert quick_refuses and not _all_match(present, _NUM_RX)


def test_rows_to_keep_drops_only_trailing_empty_rows():
    from pannet_core.io.headers import rows_to_keep

    f = pd.DataFrame({0: pd.array(["a", None, "b", None, None], dtype="str"),
                      1: pd.array([None, None, None, None, None], dtype="str")})
    assert rows_to_keep(f) == 3
    assert rows_to_keep(f.iloc[:3]) == 3
    assert rows_to_keep(f.iloc[3:]) == 0
    assert rows_to_keep(f.iloc[:0]) == 0


def test_text_of_already_stripped_cells_is_left_as_it_is():
    from pannet_core.io.coercion import _text

    s = _col(["a", None, "b c"])
    assert _text(s, stripped=True) is s
    padded = _col([" a ", None])
    assert _text(padded).tolist()[0] == "a"
    assert _text(padded, stripped=True).tolist()[0] == " a "  # the caller promised stripped cells


def test_arrow_number_detection_equals_the_pandas_path(monkeypatch):
    """_as_numbers_arrow (checks on distinct values, one cast) gives what dropna/fullmatch/put-back gives."""
    import random

    from pannet_core.io import raw_types

    rng = random.Random(1)
    pieces = ["1", "2.5", "-3", "+4", ".5", "5.", "1e5", "1E-3", "1e1234", "007", "1234567890123456",
              "12345678901234", "abc", "1,5", "\u0661\u0662", "nan", "inf", "-0", "0", "2e308", "1e", "--1"]
    columns = []
    for _ in range(150):
        choice = rng.sample(pieces, rng.randint(1, 3))
        missing = rng.random() < 0.5
        columns.append(_col([rng.choice(choice) if not missing or rng.random() > 0.2 else None
                             for _ in range(rng.choice([3, 300, 2000]))]))
    columns.append(_col([None] * 400))
    fast = [_as_numbers(s, False) for s in columns]
    monkeypatch.setattr(raw_types, "_as_numbers_arrow", lambda s: raw_types._NOT_HANDLED)
    slow = [_as_numbers(s, False) for s in columns]
    assert sum(f is not None for f in fast) > 20  # numbers, whole numbers and refusals all occur
    for f, s in zip(fast, slow):
        if s is None:
            assert f is None
        else:
            pd.testing.assert_series_equal(f, s, check_exact=True)
            assert f.to_numpy().tobytes() == s.to_numpy().tobytes()


def test_arrow_number_detection_refuses_a_text_column_from_its_head_without_hashing(monkeypatch):
    import pyarrow.compute as pc

    from pannet_core.io import raw_types

    text = _col(["G1", None, "G2"] * 200)
    numbers = _col(["1.5", None, "2"] * 200)
    hashed = []
    real_unique = pc.unique
    monkeypatch.setattr(pc, "unique", lambda a: hashed.append(1) or real_unique(a))
    assert raw_types._as_numbers_arrow(text) is None and not hashed
    assert raw_types._as_numbers_arrow(numbers) is not None and hashed
    # a head that is not ASCII is left to the distinct values (Python's re decides, as before)
    arabic = _col(["\u0661\u0662"] * 100 + ["x"] * 300)
    assert raw_types._as_numbers_arrow(arabic) is raw_types._NOT_HANDLED
    assert _as_numbers(arabic, False) is None
