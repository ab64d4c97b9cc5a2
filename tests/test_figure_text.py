"""The sentences that say what is shown: labelled P values, HR direction, balance verdict, summary."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from pannet_core import pipeline
from pannet_core.figures import text


def test_labelled_p_names_the_test_and_the_comparison():
    assert text.labelled_p(0.2112, scope="matched groups") == "Log-rank P (matched groups) = 0.21"
    assert text.labelled_p(0.0004, scope="matched groups") == "Log-rank P (matched groups) < 0.001"
    assert text.labelled_p(0.043) == "Log-rank P = 0.043"


def test_hr_phrase_says_which_group_over_which():
    table = pd.DataFrame([{"hr": 0.561, "lower": 0.323, "upper": 0.977}])
    labels = {"treated": "Resected", "control": "Not resected"}
    assert text.hr_phrase(table, labels) == "HR resected vs not resected 0.56 (95% CI 0.32–0.98)"


@pytest.mark.parametrize("h, label", [(1, "1 year"), (5, "5 years"), (2.5, "2.5 years")])
def test_years_label_is_singular_for_one(h, label):
    assert text.years_label(h) == label


def test_balance_verdict_counts_levels_above_the_threshold():
    bal = pd.DataFrame({"variable": ["age_group=>=70", "liver_mets_group=>=10", "sex=male", "x=a"],
                        "smd_after": [0.05, -0.21, 0.11, np.nan]})
    assert text.balance_verdict(bal, 0.1) == "Balance: 2 of 3 levels above 0.10 (largest 0.21, liver metastases ≥10)"
    assert text.balance_verdict(bal, 0.25) == ("Balance: all 3 levels at or below 0.25 "
                                               "(largest 0.21, liver metastases ≥10)")


@pytest.mark.parametrize("horizons, h", [((1.0, 3.0, 5.0), 5.0), ((1.0, 2.0, 10.0), 2.0), ((10.0,), 10.0)])
def test_summary_horizon_is_the_largest_up_to_five_years(horizons, h):
    assert text.summary_horizon(SimpleNamespace(survival=SimpleNamespace(horizons=horizons))) == h


@pytest.fixture(scope="module")
def demo_result(fitted_demo):
    s, prepared, fit = fitted_demo
    return pipeline.analyse(s, prepared, fit)


def test_demo_verdict_and_summary_come_from_the_result(demo_result, fitted_demo):
    r = demo_result
    a = r.balance["smd_after"].abs()
    n_above = int((a > r.settings.balance.threshold).sum())
    verdict = text.balance_verdict(r.balance, r.settings.balance.threshold)
    assert verdict.startswith(f"Balance: {n_above} of {int(a.notna().sum())} levels above 0.10 (largest {a.max():.2f}")
    sentence = text.summary_sentence(r)
    surv = r.matched.km_treated.survival_at([5.0])["surv"].iloc[0]
    hr = r.matched.cox.table.iloc[0]["hr"]
    assert sentence.startswith(f"In {r.n_sets} matched pairs, 5-year overall survival was {surv * 100:.0f} % "
                               "after resection and ")
    assert f"(log-rank P = {r.matched.logrank.p:.3f})" in sentence  # the primary test: plain log-rank, matched
    assert f"the hazard ratio (primary tumour resected vs not resected) was {hr:.2f} (95% CI " in sentence
    s, prepared, fit = fitted_demo  # the sentence follows the settings
    other = pipeline.analyse(s.with_values("survival", horizons=(1.0, 3.0)), prepared, fit)
    assert "3-year overall survival" in text.summary_sentence(other)


def test_the_001_slide_leads_with_the_multivariable_cox_hr():
    from board import state
    from pannet_core import figures
    from pannet_core.settings import load_preset

    r = pipeline.run_analysis(load_preset("liver_surgery_tha"), state.demo_entry().frame)
    multi = text.multivariable_treated(r)
    t = r.cox_models.table
    row = t[(t.model == "multivariable") & (t.variable == "treated")].iloc[0]
    assert multi is not None and multi["hr"] == row["hr"]
    notes = {a.name: a.text for a in figures.summary_slide(r).layout.annotations}
    assert notes["hr"] == f"<b>{multi['hr']:.2f}</b>"
    assert notes["hr_label"] == "HR liver surgery / THA vs no liver surgery, multivariable Cox (all patients)"
    assert f"Wald P = {multi['p']:.3f} (primary)" in notes["tests"]
    matched = r.matched.cox.table.iloc[0]
    assert f"matched HR {matched['hr']:.2f}" in notes["tests"] and "(secondary)" in notes["tests"]
    # without Cox models (seed 000) the matched HR and the plain log-rank test lead
    r0 = pipeline.run_analysis(load_preset("primary_tumour_resection"), state.demo_entry().frame)
    notes0 = {a.name: a.text for a in figures.summary_slide(r0).layout.annotations}
    assert text.multivariable_treated(r0) is None
    assert notes0["hr"] == f"<b>{r0.matched.cox.table.iloc[0]['hr']:.2f}</b>"
    assert "Log-rank P (matched groups) = " in notes0["tests"] and "stratified on matched sets" in notes0["tests"]
