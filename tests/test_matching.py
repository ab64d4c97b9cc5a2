"""pannet_core.stats.matching against MatchIt 4.5.1 (tests/data/r_glm) and hand-made cases."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.errors import PanNetError, SettingsError
from pannet_core.stats.matching import match
from pannet_core.stats.propensity import fit_propensity

HERE = Path(__file__).parent / "data" / "r_glm"
REF = json.loads((HERE / "reference.json").read_text())
LALONDE = pd.read_csv(HERE / "lalonde.csv")
RUNS = {r["label"]: r for r in REF["matchit"]}
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


def _run_ours(run, score=None):
    a = run["args"]
    dist = np.asarray(run["distance"], dtype=float)
    if a.get("link") == "linear.logit":
        score = 1 / (1 + np.exp(-dist)) if score is None else score
        scale = "logit"
    else:
        score = dist if score is None else score
        scale = "ps" if a.get("std.caliper", True) else "ps_absolute"
    ex = LALONDE[["married"]] if "exact" in a else None
    return match(LALONDE["id"], LALONDE["treat"], score, caliper=a.get("caliper"), caliper_scale=scale,
                 ratio=a.get("ratio", 1), replace=a.get("replace", False), order=a.get("m.order", "largest"),
                 exact=ex)


def _sets(m):
    out = {}
    for row in m.pairs.itertuples():
        out.setdefault(int(row.treated_id), []).append(int(row.control_id))
    return out


def _their_sets(run):
    return {s[0]: list(s[1:]) for s in run["sets"] if len(s) > 1}


EXACT_RUNS = [k for k in RUNS if not k.startswith("vecpath") and "replace" not in k]


@pytest.mark.parametrize("label", EXACT_RUNS)
def test_identical_pairs_and_weights_as_matchit(label):
    run = RUNS[label]
    m = _run_ours(run)
    assert m.caliper_width == pytest.approx(run["caliper"], rel=1e-14)
    assert _sets(m) == _their_sets(run)
    np.testing.assert_allclose(m.data["weight"].to_numpy(), run["weights"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("label", ["ps_std_replace_1to1", "ps_std_replace_1to2"])
def test_with_replacement_same_controls_as_matchit(label):
    # MatchIt orders the k controls of one treated with an unstable partial sort; compare as sets
    run = RUNS[label]
    m = _run_ours(run)
    ours = {k: sorted(v) for k, v in _sets(m).items()}
    theirs = {k: sorted(v) for k, v in _their_sets(run).items()}
    assert ours == theirs
    np.testing.assert_allclose(m.data["weight"].to_numpy(), run["weights"], rtol=0, atol=1e-12)


def test_matchit_fast_path_without_caliper_differs_only_in_ties():
    # nn_matchC_vec prefers the lower-score control at equal distance and, among controls with the
    # same score, the one nearest in the sorted order; we take the earliest in file order.  The
    # matched treated and the matched controls' scores must still coincide pair by pair.
    run = RUNS["vecpath_nocaliper_largest_1to1"]
    m = _run_ours(run)
    score = dict(zip(LALONDE["id"], run["distance"]))
    ours, theirs = _sets(m), _their_sets(run)
    assert set(ours) == set(theirs)
    same_score = sum(score[ours[k][0]] == score[theirs[k][0]] for k in theirs)
    assert same_score >= 0.95 * len(theirs)


def test_matchit_fast_path_ignores_caliper_we_do_not():
    run = RUNS["vecpath_caliper_bug_1to1"]
    m = _run_ours(run)
    assert len(_their_sets(run)) == 185               # MatchIt 4.5.1 bug: every treated matched
    assert m.data.loc[m.data.treated, "matched"].sum() == len(_their_sets(RUNS["ps_std_largest_1to1"]))
    assert m.pairs["distance"].max() <= m.caliper_width


def test_end_to_end_with_our_propensity_scores():
    fit = fit_propensity(LALONDE, "treat", COVS, ["race"])
    for label in ("ps_std_largest_1to1", "ps_std_largest_1to2", "ps_abs_largest_1to1"):
        run = RUNS[label]
        m = _run_ours(run, score=fit.score)
        assert _sets(m) == _their_sets(run)


def test_reasons_and_data_frame():
    ids = np.array([1, 2, 3, 4, 5, 6, 7])
    t = np.array([1, 1, 1, 1, 0, 0, 0])
    s = np.array([0.5, 0.9, np.nan, 0.5, 0.5, np.nan, 0.1])
    m = match(ids, t, s, caliper=0.1, caliper_scale="ps_absolute")
    d = m.data.set_index("id")
    assert list(m.pairs[["treated_id", "control_id"]].itertuples(index=False, name=None)) == [(1, 5)]
    assert d.loc[2, "reason"] == "no control inside the caliper"
    assert d.loc[3, "reason"] == "missing covariate"
    assert d.loc[4, "reason"] == "no unused control left"
    assert d.loc[6, "reason"] == "missing covariate"
    assert d.loc[7, "reason"] == "not selected"
    assert d.loc[1, "pair"] == 1 and d.loc[5, "pair"] == 1 and pd.isna(d.loc[2, "pair"])
    assert list(d["weight"]) == [1, 0, 0, 0, 1, 0, 0]
    assert str(m.data["pair"].dtype) == "Int64"


def test_exact_reason_and_cells():
    ids = [1, 2, 3, 4]
    t = [1, 1, 0, 0]
    s = [0.5, 0.5, 0.5, 0.51]
    ex = pd.DataFrame({"sex": ["f", "m", "f", "f"]})
    m = match(ids, t, s, caliper=None, exact=ex)
    d = m.data.set_index("id")
    assert d.loc[2, "reason"] == "no exact-match partner"
    assert m.pairs[["treated_id", "control_id"]].values.tolist() == [[1, 3]]


def test_ties_in_distance_broken_by_file_order():
    # treated 0.5; controls at 0.75 (file position 2) and 0.25 (position 3): equal distance 0.25
    m = match([1, 2, 3], [1, 0, 0], [0.5, 0.75, 0.25], caliper=None)
    assert m.pairs["control_id"].tolist() == [2]
    m = match([1, 2, 3], [1, 0, 0], [0.5, 0.25, 0.75], caliper=None)
    assert m.pairs["control_id"].tolist() == [2]
    # equal scores among controls: the earliest in file order
    m = match([1, 2, 3, 4], [0, 1, 0, 0], [0.25, 0.5, 0.25, 0.25], caliper=None)
    assert m.pairs["control_id"].tolist() == [1]


def test_order_ties_broken_by_file_order_and_random_seed():
    # two treated with equal score compete for one control: the earlier in file order wins
    m = match([1, 2, 3], [1, 1, 0], [0.5, 0.5, 0.5], caliper=None, order="largest")
    assert m.pairs["treated_id"].tolist() == [1]
    m = match([1, 2, 3], [1, 1, 0], [0.5, 0.5, 0.5], caliper=None, order="smallest")
    assert m.pairs["treated_id"].tolist() == [1]
    # random: same seed, same result; the permutation is numpy.random.default_rng(seed).permutation
    ids = np.arange(1, 9)
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.5] * 8)
    for seed in range(4):
        m = match(ids, t, s, caliper=None, order="random", seed=seed, ratio=1)
        first = ids[:4][np.random.default_rng(seed).permutation(4)][0]
        assert m.pairs.set_index("treated_id").loc[first, "control_id"] == 5
        m2 = match(ids, t, s, caliper=None, order="random", seed=seed)
        assert m2.pairs.equals(m.pairs)


def test_largest_versus_smallest_changes_who_gets_the_control():
    m1 = match([1, 2, 3], [1, 1, 0], [0.6, 0.4, 0.5], caliper=None, order="largest")
    m2 = match([1, 2, 3], [1, 1, 0], [0.6, 0.4, 0.5], caliper=None, order="smallest")
    assert m1.pairs["treated_id"].tolist() == [1]
    assert m2.pairs["treated_id"].tolist() == [2]


def test_caliper_scales_and_boundary_tolerance():
    s = np.array([0.3, 0.2, 0.4, 0.7])
    t = np.array([1, 0, 0, 0])
    m = match([1, 2, 3, 4], t, s, caliper=0.1, caliper_scale="ps_absolute")
    assert m.caliper_width == 0.1
    assert m.n_pairs == 1 and m.pairs["distance"].iloc[0] == pytest.approx(0.1)  # 0.4-0.3 > 0.1 in floats
    sd = np.std(s, ddof=1)
    assert match([1, 2, 3, 4], t, s, caliper=0.5).caliper_width == pytest.approx(0.5 * sd, rel=1e-15)
    lg = np.log(s / (1 - s))
    assert match([1, 2, 3, 4], t, s, caliper=0.5, caliper_scale="logit").caliper_width == \
        pytest.approx(0.5 * np.std(lg, ddof=1), rel=1e-14)
    assert match([1, 2, 3, 4], t, s, caliper=None).caliper_width is None


def test_ratio_and_replacement_weights():
    ids = [1, 2, 3, 4, 5]
    t = [1, 1, 0, 0, 0]
    s = [0.5, 0.52, 0.51, 0.49, 0.9]
    m = match(ids, t, s, caliper=None, ratio=2, replace=True)
    assert m.pairs.groupby("treated_id").size().tolist() == [2, 2]
    d = m.data.set_index("id")
    # raw control weights 1/2 + 1/2 each for controls 3 and 4 -> rescaled to sum 2
    assert d.loc[3, "weight"] == pytest.approx(1.0) and d.loc[4, "weight"] == pytest.approx(1.0)
    m = match(ids, t, s, caliper=None, ratio=2, replace=False)
    assert sorted(m.pairs["control_id"]) == [3, 4, 5]


@pytest.mark.parametrize("kw, exc", [
    (dict(caliper_scale="sd"), SettingsError), (dict(order="best"), SettingsError),
    (dict(ratio=0), SettingsError), (dict(caliper=-1.0), SettingsError)])
def test_bad_options(kw, exc):
    with pytest.raises(exc):
        match([1, 2], [1, 0], [0.4, 0.5], **kw)


def test_bad_inputs():
    with pytest.raises(PanNetError, match="more than once"):
        match([1, 1], [1, 0], [0.4, 0.5])
    with pytest.raises(PanNetError, match="0/1"):
        match([1, 2], ["yes", "maybe"], [0.4, 0.5])
    with pytest.raises(PanNetError, match="scores"):
        match([1, 2], [1, 0], [0.4])


def _match_peak_bytes(n: int) -> int:
    import tracemalloc

    rng = np.random.default_rng(0)
    t = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    s = np.r_[rng.beta(3, 2, n), rng.beta(2, 3, n)]
    ids = np.arange(2 * n)
    tracemalloc.start()
    try:
        match(ids, t, s)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_is_linear_in_n():
    # no n x n distance matrix: peak memory grows like n, not n^2 (time: bench/kernels.py)
    small, large = _match_peak_bytes(5_000), _match_peak_bytes(20_000)
    assert large < 6 * small  # 4x the rows: ~4x the memory if O(n), 16x if O(n^2)
    assert large < 2_000 * 40_000  # an n x n float matrix would need 8 * 20_000**2 = 3.2 GB
