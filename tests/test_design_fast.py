"""design.py's Categorical shortcut gives exactly what the general (factorize) path gives."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pannet_core.stats import design
from pannet_core.stats.design import design_arrays, design_matrix
from pannet_core.stats.propensity import fit_propensity


def _general(monkeypatch, *args):
    with monkeypatch.context() as m:
        m.setattr(design, "_category_codes", lambda col: None)
        return design_matrix(*args)


def _frame(n=400, seed=5):
    rng = np.random.default_rng(seed)
    size = pd.Categorical(rng.choice(["<2", "2-5", ">5", "N/A"], n), categories=["<2", "2-5", ">5", "N/A", "unused"])
    size[::17] = np.nan
    town = pd.Categorical(rng.choice(["Zürich", "Åre", "Ærø", "Bern"], n))  # non-ASCII, sorted by code point
    stage = pd.Categorical(rng.choice([3, 1, 2], n))                       # numeric categories
    ratio = pd.Categorical(rng.choice([2.0, 0.5, 10.0], n))                # whole and fractional floats
    ratio[5] = np.nan
    age = rng.normal(60, 10, n)
    age[::23] = np.nan
    return pd.DataFrame({"size": size, "town": town, "stage": stage, "ratio": ratio, "age": age,
                         "t": (rng.random(n) < 0.4).astype(int)}, index=np.arange(100, 100 + n))


COVS = ["age", "size", "town", "stage", "ratio"]
CATS = ["size", "town", "stage", "ratio"]


def _same(a, b):
    Xa, ia, ua = a
    Xb, ib, ub = b
    pd.testing.assert_frame_equal(Xa, Xb, check_exact=True)
    assert ia == ib
    assert np.array_equal(ua, ub)


def test_categorical_shortcut_equals_general_path(monkeypatch):
    f = _frame()
    fast = design_matrix(f, COVS, CATS)
    _same(fast, _general(monkeypatch, f, COVS, CATS))
    X, info, used = fast
    assert "size=unused" not in X.columns                      # a category that never occurs: no column
    assert list(X.columns[X.columns.str.startswith("town=")]) == ["town=Zürich", "town=Åre", "town=Ærø"]
    assert [c for c in X.columns if c.startswith("ratio=")] == ["ratio=2", "ratio=10"]
    assert info[1].reference == "<2" and not used[0] and X.loc[100].isna().all()


def test_levels_only_in_dropped_rows_and_all_missing(monkeypatch):
    f = _frame(60)
    f["size"] = pd.Categorical(["N/A"] * 5 + ["<2", "2-5"] * 27 + [None], categories=["<2", "2-5", "N/A"])
    f.loc[100:104, "age"] = np.nan                               # "N/A" only occurs where age is missing
    _same(design_matrix(f, COVS, CATS), _general(monkeypatch, f, COVS, CATS))
    assert "size=N/A" not in design_matrix(f, COVS, CATS)[0].columns
    f["size"] = pd.Categorical([None] * len(f), categories=["a", "b"])  # a column all missing
    X, info, used = design_matrix(f, COVS, CATS)
    _same((X, info, used), _general(monkeypatch, f, COVS, CATS))
    assert not used.any() and X.shape[0] == len(f)


def test_shortcut_not_taken_when_labels_could_merge(monkeypatch):
    # bool and mixed-type categories go through the general path (labels merge there)
    f = pd.DataFrame({"flag": pd.Categorical([True, False, True, False]),
                      "mixed": pd.Categorical([2, "2", "b", 2], categories=[2, "2", "b"])})
    assert design._category_codes(f["flag"]) is None and design._category_codes(f["mixed"]) is None
    _same(design_matrix(f, ["flag", "mixed"], ["flag", "mixed"]),
          _general(monkeypatch, f, ["flag", "mixed"], ["flag", "mixed"]))


def test_design_arrays_is_the_design_matrix_transposed():
    f = _frame()
    X, info, used = design_matrix(f, COVS, CATS)
    names, block, info2, used2 = design_arrays(f, COVS, CATS)
    assert names == list(X.columns) and info2 == info and np.array_equal(used2, used)
    assert block.flags["C_CONTIGUOUS"] and block.T.flags["F_CONTIGUOUS"]
    assert block.T.tobytes() == X.to_numpy().tobytes()


@pytest.mark.parametrize("seed", [1, 2])
def test_propensity_fit_identical_bits_either_path(monkeypatch, seed):
    f = _frame(seed=seed)
    fast = fit_propensity(f, "t", COVS, CATS)
    with monkeypatch.context() as m:
        m.setattr(design, "_category_codes", lambda col: None)
        general = fit_propensity(f, "t", COVS, CATS)
    assert fast.coef.to_numpy().tobytes() == general.coef.to_numpy().tobytes()
    assert fast.se.to_numpy().tobytes() == general.se.to_numpy().tobytes()
    assert fast.score.tobytes() == general.score.tobytes()
    assert fast.design_columns == general.design_columns and fast.iterations == general.iterations
    assert np.isnan(fast.score[~fast.used]).all() and not fast.used.all()
