"""Pipeline behaviour beyond the R reference: stages, sensitivity analysis, the 001 preset."""
import json

import numpy as np
import pytest

from pannet_core import pipeline
from pannet_core.demo import make_demo_cohort
from pannet_core.report.results import results_json
from pannet_core.settings import load_preset


@pytest.fixture(scope="module")
def demo():
    return make_demo_cohort()


@pytest.fixture(scope="module")
def staged(demo):
    s = load_preset("primary_tumour_resection")
    prepared = pipeline.prepare(s, demo)
    return s, prepared, pipeline.fit_scores(s, prepared)


def test_stages_compose_to_run_analysis(staged, demo):
    s, prepared, fit = staged
    a = pipeline.analyse(s, prepared, fit)
    b = pipeline.run_analysis(s, demo)
    assert results_json(a) == results_json(b)


def test_caliper_change_reuses_the_fit_and_changes_the_pairs(staged):
    s, prepared, fit = staged
    wide = pipeline.analyse(s, prepared, fit)
    narrow = pipeline.analyse(s.with_values("matching", caliper=0.005), prepared, fit)
    assert narrow.n_pairs < wide.n_pairs
    assert np.array_equal(narrow.data["score"], wide.data["score"])
    d = narrow.data[narrow.data["matched"]]
    # every matched set is inside the absolute caliper
    gaps = d.groupby("pair")["score"].agg(lambda x: x.max() - x.min())
    assert (gaps <= 0.005 + 1e-12).all()


def test_sensitivity_drops_whole_pairs_with_a_liver_resection(staged):
    s, prepared, fit = staged
    r = pipeline.analyse(s, prepared, fit)
    m = r.matched_data
    hit = m.loc[m["liver_resection_date"].notna(), "pair"].unique()
    assert len(hit) > 0
    sens = r.sensitivity
    assert sens.km_treated.n == r.n_pairs - len(hit)
    assert sens.km_control.n == r.n_pairs - len(hit)


def test_results_are_strict_json(staged):
    s, prepared, fit = staged
    doc = results_json(pipeline.analyse(s, prepared, fit))
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text)["flow"][0]["n_in"] == 733
    assert doc["follow_up"]["unmatched"]["q1"] < doc["follow_up"]["unmatched"]["median"]


def test_liver_surgery_preset_runs_with_cox_models_and_truncation(demo):
    r = pipeline.run_analysis(load_preset("liver_surgery_tha"), demo)
    assert r.cox_models is not None
    t = r.cox_models.table
    assert set(t["model"]) == {"univariable", "multivariable"}
    assert "treated" in r.cox_models.entered
    assert r.cox_models.truncated_at is not None
    # truncation applies to the KM curves too: nothing beyond t*
    assert r.unmatched.km_treated.table["time"].max() <= r.cox_models.truncated_at + 1e-12


def test_cox_reference_levels_follow_the_dictionary(demo):
    r = pipeline.run_analysis(load_preset("liver_surgery_tha"), demo)
    t = r.cox_models.table
    ref = dict(zip(t.loc[t["reference"] & (t["model"] == "univariable"), "variable"],
                   t.loc[t["reference"] & (t["model"] == "univariable"), "level"]))
    assert ref["hereditary"] == "sporadic"        # 001 Table 2: ref sporadic tumour
    assert ref["sex"] == "female"                 # ref female
    assert ref["functioning"] == "no"
    assert ref["age_group_001"] == "<50"          # ordered bins: the first bin


@pytest.mark.parametrize("how", ["median", "mean"])
def test_table1_numeric_rows_follow_balance_numeric_summary(demo, how):
    """balance.numeric_summary chooses median (IQR) + Mann-Whitney or mean (SD) + Welch for both Table 1s."""
    from pannet_core.stats.table1 import _fmt_num

    s = load_preset("primary_tumour_resection")
    s = s.with_values("propensity", covariates=tuple("age" if c == "age_group" else c for c in s.propensity.covariates),
                      categorical=tuple(c for c in s.propensity.categorical if c != "age_group"))
    s = s.with_values("balance", numeric_summary=how)
    r = pipeline.run_analysis(s, demo)
    treated = r.data.loc[r.data["treated"], "age"].dropna().to_numpy(float)
    if how == "mean":
        expected = f"{_fmt_num(treated.mean())} ({_fmt_num(treated.std(ddof=1))})"
    else:
        q1, med, q3 = np.percentile(treated, [25, 50, 75])
        expected = f"{_fmt_num(med)} ({_fmt_num(q1)}-{_fmt_num(q3)})"
    for t1 in (r.table1, r.table1_matched):
        age = t1.loc[t1["variable"] == "age"]
        assert len(age) == 1
        assert age["test"].iloc[0] == ("t-test (Welch)" if how == "mean" else "Mann-Whitney U")
        assert ("-" in age["treated_summary"].iloc[0]) == (how == "median")
    assert r.table1.loc[r.table1["variable"] == "age", "treated_summary"].iloc[0] == expected
    assert results_json(r)["settings"]["balance"]["numeric_summary"] == how
