"""pannet_core.report.csv_writer.write_csv must write exactly what DataFrame.to_csv(index=False) writes."""
import numpy as np
import pandas as pd
import pytest

from pannet_core.report.csv_writer import write_csv


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    few = rng.choice([0.5, 1.0, 2.25, np.nan, np.inf, 1e16, 1e-5], n)
    many = rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)
    if n >= 3:
        many[:3] = [np.nan, -0.0, 0.0]
    return pd.DataFrame({
        "few": few, "many": many,
        "s": pd.array(rng.choice(["a", 'b"c', "d,e", "f\ng", " h ", None], n), dtype="str"),
        "plain": pd.array(rng.choice(["x", "y", None], n), dtype="str"),
        "c": pd.Categorical(rng.choice(["p", "q,r", None], n)),
        "b": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
        "i": rng.integers(-10**12, 10**12, n),
        "d": pd.to_datetime(rng.choice(["2020-01-03", None, "1999-12-31"], n)),
        "o": np.array(rng.choice(["x", "y"], n), dtype=object),
        "bb": rng.random(n) > .5,
        "k": pd.array(rng.choice(np.array([1, -7, 10**15, None], dtype=object), n), dtype="Int64"),
        "k32": pd.array(rng.choice(np.array([0, 42, None], dtype=object), n), dtype="Int32"),
        # integers in a narrow range are written from labels by code
        "flag": rng.integers(0, 2, n), "neg": rng.integers(-5, 3, n).astype(np.int32),
        "u": pd.array(rng.choice(np.array([2**64 - 1, 2**64 - 2, None], dtype=object), n), dtype="UInt64"),
        "none": pd.array([None] * n, dtype="Int64"),
    })


@pytest.mark.parametrize("n", [0, 5, 3000, 45_000])
def test_bytes_equal_pandas(tmp_path, n):
    f = _frame(n, n)
    f.to_csv(tmp_path / "a.csv", index=False)
    write_csv(f, tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_unsupported_dtype_falls_back_to_pandas(tmp_path):
    f = pd.DataFrame({"t": pd.to_datetime(["2020-01-03 10:30", None]), "k": pd.array([1, None], dtype="Int64")})
    f.to_csv(tmp_path / "a.csv", index=False)
    write_csv(f, tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_arrow_failure_midway_rewrites_the_file_by_the_list_path(tmp_path, monkeypatch):
    import pannet_core.report.csv_writer as co

    f = _frame(3000, 7)
    f.to_csv(tmp_path / "a.csv", index=False)

    def broken(fh, columns, n):
        fh.write(b"partial")
        raise ValueError("boom")

    monkeypatch.setattr(co, "_write_arrow", broken)
    write_csv(f, tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_labelled_columns_give_the_pandas_text():
    from pannet_core.report.csv_writer import _arrow_text, _labelled

    lab = _labelled(pd.Series(pd.array([True, None, False], dtype="boolean")))
    assert [lab.labels[c] for c in lab.codes] == ["True", "", "False"]
    lab = _labelled(pd.Series(pd.Categorical(["b", None, "a,c"])))
    assert [lab.labels[c] for c in lab.codes] == ["b", "", '"a,c"']
    assert _labelled(pd.Series([0.5, 1.5])) is None  # few rows: formatted directly
    assert _arrow_text(pd.Series(pd.array(["x", None], dtype="str"))).to_pylist() == ["x", ""]
    assert _arrow_text(pd.Series(pd.array(["x,y", None], dtype="str"))) is None  # needs quotes


def test_nullable_integers_are_written_without_falling_back(tmp_path, monkeypatch):
    """matched_cohort.csv's pair column is Int64: written as 42 (not 42.0), empty for <NA>, on the fast path."""
    f = pd.DataFrame({"pair": pd.array([42, None, 7, None], dtype="Int64"), "x": [0.5, 1.0, 2.0, np.nan]})
    expected = f.to_csv(index=False)
    assert expected == "pair,x\n42,0.5\n,1.0\n7,2.0\n,\n"

    def no_pandas(*args, **kwargs):
        raise AssertionError("write_csv fell back to DataFrame.to_csv")

    monkeypatch.setattr(pd.DataFrame, "to_csv", no_pandas)
    write_csv(f, tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_text() == expected


def test_labelled_floats_and_dates_with_missing_values():
    from pannet_core.report.csv_writer import _labelled

    a = np.tile([0.5, np.nan, 2.0, 1e16], 500)
    lab = _labelled(pd.Series(a))
    assert [lab.labels[c] for c in lab.codes[:4]] == ["0.5", "", "2.0", "1e+16"]
    d = pd.Series(pd.to_datetime(["2020-01-03", None, "1999-12-31"] * 400))
    lab = _labelled(d)
    assert [lab.labels[c] for c in lab.codes[:3]] == ["2020-01-03", "", "1999-12-31"]


def test_floats_mostly_distinct_are_labelled_once_per_value_with_the_same_text(tmp_path):
    """Half the values distinct (an age in days / 365.25): each formatted once, the bytes of to_csv."""
    from pannet_core.report.csv_writer import _labelled

    rng = np.random.default_rng(5)
    a = np.round(rng.normal(60, 10, 4000), 3)[rng.integers(0, 2000, 4000)]
    a[::97] = np.nan
    assert len(np.unique(a)) * 4 > len(a)  # more distinct values than the old labelling threshold
    lab = _labelled(pd.Series(a))
    assert lab is not None
    assert [lab.labels[c] for c in lab.codes] == ["" if np.isnan(v) else repr(v) for v in a.tolist()]
    f = pd.DataFrame({"x": a, "y": np.arange(4000)})
    f.to_csv(tmp_path / "a.csv", index=False)
    write_csv(f, tmp_path / "b.csv")
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()
    assert _labelled(pd.Series(rng.random(4000))) is None  # all distinct: formatted directly


def test_known_column_texts_are_reused_only_for_the_same_values(tmp_path):
    """write_csv(..., known=column_texts(...)): the bytes of to_csv, whichever columns were computed before."""
    from pannet_core.report.csv_writer import _TAIL, column_texts

    base = _frame(12_000, 3)
    tail = ["o", "bb", "flag", "neg"]
    known = column_texts(base, tail=tail)
    assert _TAIL in known and "many" in known
    same = base[["few", "many", "s", "c"] + tail].copy()  # shares columns and ends with the tail
    changed = same.copy()
    changed["many"] = changed["many"].where(changed["many"] != 0.0, -0.0)  # -0.0 is written differently
    changed["c"] = changed["c"].cat.reorder_categories(list(reversed(changed["c"].cat.categories)))
    changed["flag"] = 1 - changed["flag"]  # a tail column with other values: the joined tail is not used
    changed["s"] = changed["s"].str.upper()
    for frame in (same, changed, same[["few", "s"]]):
        frame.to_csv(tmp_path / "a.csv", index=False)
        write_csv(frame, tmp_path / "b.csv", known=known)
        assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_same_values_tells_bits_apart():
    from pannet_core.report.csv_writer import _same_values

    a = pd.Series([0.0, np.nan, 1.5])
    assert _same_values(a, a.copy())
    assert not _same_values(a, pd.Series([-0.0, np.nan, 1.5]))
    c = pd.Series(pd.Categorical(["x", "y"], categories=["x", "y"]))
    assert not _same_values(c, pd.Series(pd.Categorical(["x", "y"], categories=["y", "x"])))
    s = pd.Series(pd.array(["x", None], dtype="str"))
    assert _same_values(s, s.copy()) and not _same_values(s, pd.Series(pd.array(["x", "y"], dtype="str")))
    assert not _same_values(pd.Series([1, 2]), pd.Series([1.0, 2.0]))


def test_same_bits_of_shared_memory_without_reading_and_of_copies_by_reading(monkeypatch):
    from pannet_core.report import csv_writer as csv_out

    a = np.array([0.0, np.nan, 1.5])
    monkeypatch.setattr(csv_out.np, "array_equal", lambda *args: pytest.fail("read the bytes"))
    assert csv_out._same_bits(a, a[:])
    assert not csv_out._same_bits(a, a[:2]) and not csv_out._same_bits(a, a.view(np.int64))
    monkeypatch.undo()
    assert csv_out._same_bits(a, a.copy()) and not csv_out._same_bits(a, np.array([-0.0, np.nan, 1.5]))
