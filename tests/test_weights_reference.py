"""Matched-sample analyses with matching weights (1:k, with replacement) against R's survival.

CONTRACT.md, "Matched sets, weights and the matched-sample analyses".  The matched sets are made
by our own pipeline (tests/data/r_weights/make_sets.py, committed as sets_<case>.csv); R computed
the weighted, clustered analyses of those sets (tests/data/r_weights/make_reference.R, R 4.2.2,
survival 3.5.3) into reference.json.  Cases: colon (deaths) 1:2 and 1:3 without replacement (sets
left with fewer than k controls), veteran 1:3 without replacement (nearly every set short), veteran
1:1 and colon 1:2 with replacement.  Tolerance 1e-8 relative.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.pipeline import run_analysis, with_ci_type
from pannet_core.report.results import matched_sets_frame, results_json
from pannet_core.stats.matching import match
from pannet_core.stats.survival import kaplan_meier

DATA = Path(__file__).parent / "data" / "r_weights"
REF = json.loads((DATA / "reference.json").read_text())
RTOL, ATOL = 1e-8, 1e-12
_spec = importlib.util.spec_from_file_location("make_sets", DATA / "make_sets.py")
make_sets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_sets)
CASES = list(make_sets.CASES)
REPLACE = {c: make_sets.CASES[c][3]["replace"] for c in CASES}


def close(ours, r, rtol=RTOL):
    ours = np.array([np.nan if v is None else v for v in np.atleast_1d(ours)], dtype=float)
    r = np.array([np.nan if v is None else v for v in np.atleast_1d(r)], dtype=float)
    np.testing.assert_allclose(ours, r, rtol=rtol, atol=ATOL, equal_nan=True)


@pytest.fixture(scope="module", params=CASES)
def case(request):
    name = request.param
    result = run_analysis(make_sets.settings_for(name), pd.read_csv(DATA / make_sets.CASES[name][0]))
    return name, result


def test_the_pipeline_makes_the_committed_sets(case):
    """The sets R analysed are the ones the pipeline makes now (else the reference does not apply)."""
    name, result = case
    sets = pd.read_csv(DATA / f"sets_{name}.csv")
    ours = matched_sets_frame(result)
    assert ours["set"].tolist() == sets["set"].tolist()
    assert ours["patient_id"].astype(int).tolist() == sets["id"].tolist()
    assert ours["treated"].tolist() == sets["treated"].tolist()
    ref = REF[name]
    assert (result.n_sets, result.n_pairs, result.n_matched_patients) == (
        ref["n_sets"], ref["n_pairs"], ref["n_patients"])
    doc = results_json(result)
    assert (doc["n_sets"], doc["n_pairs"], doc["n_matched_patients"]) == (
        ref["n_sets"], ref["n_pairs"], ref["n_patients"])
    assert doc["n_pairs"] == len(doc["pairs"])
    if name != "veteran_r1":  # (1:1 with replacement: one control per set)
        assert doc["n_pairs"] != doc["n_sets"]


@pytest.mark.parametrize("ct", ["plain", "log", "log-log"])
def test_weighted_km_equals_survfit_weights_cluster(case, ct):
    """R: survfit(Surv(time, event) ~ 1, weights = weight, cluster = cl, conf.type = ct), per group,
    cl = set without replacement, patient with replacement; quantile(fit, 0.5); summary(fit, times=)."""
    name, result = case
    res = _redo_ci(result, ct)
    for group, km in (("treated", res.matched.km_treated), ("control", res.matched.km_control)):
        r = REF[name][f"km_{ct}_{group}"]
        t = km.table
        close(t["time"], r["time"])
        close(t["n_risk"], r["n_risk"])
        close(t["n_event"], r["n_event"])
        close(t["surv"], r["surv"])
        close(t["std_err"] * t["surv"], r["std_err"])  # R's std.err with cluster is se(S) (logse = FALSE)
        close(t["lower"], r["lower"])
        close(t["upper"], r["upper"])
        close(km.median(), r["median"])
        at = km.survival_at(r["at_time"])
        close(at["surv"], r["at_surv"])
        close(at["lower"], r["at_lower"])
        close(at["upper"], r["at_upper"])
        # n and events count distinct patients, not weights
        members = result.matched_data
        assert km.n == int((members["treated"] == (group == "treated")).sum())


def _redo_ci(result, ct):
    from pannet_core.settings import Settings

    d = result.settings.to_dict()
    d["survival"]["ci"] = ct
    return with_ci_type(result, Settings.from_dict(d))


def test_matched_cox_and_logrank_equal_weighted_robust_coxph(case):
    """R: fit <- coxph(Surv(time, event) ~ treated, weights = weight, cluster = cl, ties = "efron");
    summary(fit)$conf.int, $coefficients[, "Pr(>|z|)"], sqrt(vcov(fit)), summary(fit)$robscore."""
    name, result = case
    r = REF[name]["cox"]
    cox = result.matched.cox
    row = cox.table.iloc[0]
    close(row["coef"], r["coef"])
    close(row["robust_se"], r["robust_se"])
    close(row["se"], r["naive_se"])
    close([row["hr"], row["lower"], row["upper"], row["p"]], [r["hr"], r["lower"], r["upper"], r["p"]])
    close(cox.robust_score_test, r["robscore"])
    lr = result.matched.logrank
    close([lr.chisq, lr.df, lr.p], r["robscore"])  # logrank.matched = summary(fit)$robscore
    doc = results_json(result)
    close([doc["cox"]["matched_robust"][k] for k in ("hr", "lo", "hi", "p")], [r["hr"], r["lower"], r["upper"], r["p"]])
    close([doc["logrank"]["matched"][k] for k in ("chisq", "df", "p")], r["robscore"])


def test_pair_stratified_only_without_replacement(case):
    """R: survdiff(Surv(time, event) ~ treated + strata(set)) on one row per set membership."""
    name, result = case
    doc = results_json(result)
    if REPLACE[name]:
        assert np.isnan(result.logrank_pair_stratified.p)  # not computed (NaN keeps the pages' formatting)
        assert doc["logrank"]["matched_pair_stratified"] is None
        assert any("stratified" in w for w in doc["warnings"])
    else:
        r = REF[name]["survdiff_strata"]
        close([result.logrank_pair_stratified.chisq, result.logrank_pair_stratified.p], [r["chisq"], r["p"]])


def test_matching_weights_follow_matchit_by_hand():
    """MatchIt's ATT weights (match.data()), worked by hand on a 1:2 match with replacement.

    Scores: treated A .50, B .52; controls c1 .50, c2 .51, c3 .90.  With replacement set 1 (A)
    takes c1, c2 and set 2 (B) takes c2, c1 (nearest first).  Raw control weights: c1 = 1/2 + 1/2
    = 1, c2 = 1, c3 unmatched (0); 2 distinct controls / sum 2 = 1, so c1 = c2 = 1.
    Without replacement, caliper .05, with a fourth control c4 .53: pass 1 gives A c1 and B c2
    (c2 and c4 equally near: file order), pass 2 gives A c4 and B nothing (c3 too far), so set 1
    = {A; c1, c4}, set 2 = {B; c2}: raw c1 = c4 = 1/2, c2 = 1, sum 2 for 3 distinct controls,
    scaled by 3 / 2: c1 = c4 = 0.75, c2 = 1.5.
    """
    ids = ["A", "B", "c1", "c2", "c3"]
    m = match(ids, [1, 1, 0, 0, 0], [0.50, 0.52, 0.50, 0.51, 0.90], caliper=None, ratio=2, replace=True,
              order="data")
    w = dict(zip(m.data["id"], m.data["weight"]))
    assert w == {"A": 1.0, "B": 1.0, "c1": 1.0, "c2": 1.0, "c3": 0.0}
    ids = ["A", "B", "c1", "c2", "c3", "c4"]
    m = match(ids, [1, 1, 0, 0, 0, 0], [0.50, 0.52, 0.50, 0.51, 0.90, 0.53], caliper=0.05,
              caliper_scale="ps_absolute", ratio=2, replace=False, order="data")
    assert m.pairs[["pair", "treated_id", "control_id"]].values.tolist() == [
        [1, "A", "c1"], [1, "A", "c4"], [2, "B", "c2"]]
    w = dict(zip(m.data["id"], m.data["weight"]))
    assert w == pytest.approx({"A": 1.0, "B": 1.0, "c1": 0.75, "c2": 1.5, "c3": 0.0, "c4": 0.75}, rel=1e-15)


@pytest.mark.parametrize("ct", ["plain", "log", "log-log"])
def test_median_where_the_pointwise_limit_is_not_monotone(ct):
    """R: quantile(survfit(Surv(time, event) ~ 1, data = nonmonotone, conf.type = ct), c(.25, .5, .75)).

    With ``log`` the upper limit falls below 0.5 (0.498 at t = 61) and rises to 0.777 at t = 64;
    survival:::findq (approx() over the knots sorted by value) gives the first crossing, 61."""
    d = pd.read_csv(DATA / "nonmonotone.csv")
    r = REF["nonmonotone"][ct]
    km = kaplan_meier(d["time"], d["event"], conf_type=ct)
    close(km.table["upper"], r["upper"])
    assert np.any(np.diff(km.table["upper"].to_numpy()) > 0) == (ct != "plain")  # the curve is what it claims
    got = [km.quantile(p) for p in (0.25, 0.5, 0.75)]
    close([g[0] for g in got], r["quantile"])
    close([g[1] for g in got], r["lo"])
    close([g[2] for g in got], r["hi"])
    if ct == "log":
        assert got[1][2] == 61.0
