"""End to end: the 000 preset on the demo cohort gives R's numbers.

R recomputed everything from the analysed cohort (tests/data/r_pipeline/make_reference.R):
glm scores, MatchIt pairs (nearest, caliper 0.1 absolute, largest first), survfit(conf.type="plain"),
survdiff (plain and + strata(pair)), coxph (efron; cluster = pair).
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.demo import make_demo_cohort
from pannet_core.pipeline import run_analysis
from pannet_core.report.results import matched_cohort_frame, results_json
from pannet_core.settings import load_preset

HERE = Path(__file__).parent / "data" / "r_pipeline"
REF = json.loads((HERE / "reference.json").read_text())
TOL = dict(rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def result():
    return run_analysis(load_preset("primary_tumour_resection"), make_demo_cohort())


@pytest.fixture(scope="module")
def doc(result):
    return results_json(result)


def test_analysed_cohort_is_the_one_r_saw(result):
    committed = pd.read_csv(HERE / "demo_analysis.csv")
    ours = matched_cohort_frame(result)
    assert ours["patient_id"].astype(str).tolist() == committed["patient_id"].tolist()
    np.testing.assert_allclose(ours["time_years"], committed["time_years"], rtol=1e-15)
    assert ours["event"].tolist() == committed["event"].tolist()


def test_propensity_scores_equal_glm(result):
    """R: fitted(glm(f, data = d, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100)))."""
    np.testing.assert_allclose(result.data["score"], REF["ps"], rtol=0, atol=1e-8)


def test_pairs_equal_matchit(doc):
    """R: matchit(treated ~ ps, data = d, method = "nearest", distance = d$ps, mahvars = ~ps, caliper = 0.1, ...)."""
    assert sorted(map(tuple, doc["pairs"])) == sorted(map(tuple, REF["pairs"]))


@pytest.mark.parametrize("cohort", ["unmatched", "matched"])
@pytest.mark.parametrize("group", ["treated", "control"])
def test_km_equals_survfit(doc, cohort, group):
    """R: survfit(Surv(time_years, event) ~ treated, data = data, conf.type = "plain"); quantile(fit, 0.5)."""
    ours, ref = doc["km"][cohort][group], REF["km"][cohort][group]
    assert ours["n"] == ref["n"]
    assert [ours["median"][k] for k in ("est", "lo", "hi")] == pytest.approx(ref["median"], **TOL)
    for i, h in enumerate(("1", "3", "5")):
        assert ours["survival"][h]["est"] == pytest.approx(ref["surv"][i], **TOL)
        assert ours["survival"][h]["lo"] == pytest.approx(ref["lo"][i], **TOL)
        assert ours["survival"][h]["hi"] == pytest.approx(ref["hi"][i], **TOL)


@pytest.mark.parametrize("which", ["unmatched", "matched", "matched_pair_stratified"])
def test_logrank_equals_survdiff(doc, which):
    """R: survdiff(Surv(time_years, event) ~ treated [+ strata(pair)], data = d or the matched md)."""
    ours, ref = doc["logrank"][which], REF["logrank"][which]
    assert ours["chisq"] == pytest.approx(ref["chisq"], **TOL)
    assert ours["df"] == ref["df"]
    assert ours["p"] == pytest.approx(ref["p"], **TOL)


@pytest.mark.parametrize("which", ["unmatched", "matched_robust"])
def test_cox_equals_coxph(doc, which):
    """R: coxph(Surv(time_years, event) ~ treated, data = md, ties = "efron"[, cluster = pair])."""
    ours, ref = doc["cox"][which], REF["cox"][which]
    for k in ("hr", "lo", "hi", "p"):
        assert ours[k] == pytest.approx(ref[k], **TOL), k
