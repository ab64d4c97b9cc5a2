"""One vocabulary for the matched sample (sets, pairs, distinct patients), counts from one place,
and truncation applied to every statistic of a truncated analysis."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core import figures
from pannet_core.cli import main
from pannet_core.pipeline import analysed_time_event, run_analysis
from pannet_core.report.results import matched_sets_frame, results_json
from pannet_core.settings import Settings
from pannet_core.stats.cox_models import truncate_at_risk
from pannet_core.stats.logrank import logrank_test

DATA = Path(__file__).parent / "data" / "r_weights"
_spec = importlib.util.spec_from_file_location("make_sets", DATA / "make_sets.py")
make_sets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_sets)


def settings(case: str, **survival) -> Settings:
    d = make_sets.settings_for(case).to_dict()
    d["survival"].update(survival)
    return Settings.from_dict(d)


def run(case: str, **survival):
    return run_analysis(settings(case, **survival), pd.read_csv(DATA / make_sets.CASES[case][0]))


@pytest.fixture(scope="module")
def with_replacement():
    return run("colon_r2")


def test_counts_of_a_match_with_replacement(with_replacement):
    r = with_replacement
    m = r.matching
    assert r.n_sets == m.pairs["pair"].nunique() == r.n_matched_treated
    assert r.n_pairs == len(m.pairs) == 2 * r.n_sets  # two controls per set, some reused
    assert r.n_matched_control == m.pairs["control_id"].nunique() < r.n_pairs
    assert r.n_matched_patients == r.n_matched_treated + r.n_matched_control == int(r.data["matched"].sum())
    doc = results_json(r)
    assert (doc["n_sets"], doc["n_pairs"], doc["n_matched_treated"], doc["n_matched_control"],
            doc["n_matched_patients"]) == (r.n_sets, r.n_pairs, r.n_matched_treated, r.n_matched_control,
                                           r.n_matched_patients)
    # every matched-sample analysis counts distinct patients
    assert (r.matched.km_treated.n, r.matched.km_control.n) == (r.n_matched_treated, r.n_matched_control)
    assert r.matched.cox.n == r.n_matched_patients
    assert list(r.matched.summary["n"]) == [r.n_matched_treated, r.n_matched_control]


def test_km_legend_and_slide_show_distinct_patients_and_sets(with_replacement):
    r = with_replacement
    names = [t.name for t in figures.km_figure(r.matched).data if (t.meta or {}).get("role") == "km"]
    assert any(f"(n = {r.n_matched_control})" in n for n in names), names
    assert not any(f"(n = {r.n_pairs})" in n for n in names)
    text = " ".join(a.text for a in figures.summary_slide(r).layout.annotations)
    assert (f"Matched sets: <b>{r.n_sets}</b> ({r.n_pairs} pairs; {r.n_matched_treated} treated and "
            f"{r.n_matched_control} distinct control patients") in text
    assert "Matched pairs" not in text


def test_matched_sets_frame_has_one_row_per_membership(with_replacement):
    r = with_replacement
    sets = matched_sets_frame(r)
    assert list(sets.columns) == ["set", "patient_id", "treated"]
    assert len(sets) == r.n_sets + r.n_pairs
    assert (sets.groupby("set")["treated"].agg(["sum", "size"]).to_numpy() == [1, 3]).all()
    first = sets.groupby("set").head(1)
    assert first["treated"].eq(1).all()  # the treated patient opens its set
    pairs = r.matching.pairs
    assert sorted(zip(sets.loc[sets["treated"] == 0, "set"], sets.loc[sets["treated"] == 0, "patient_id"])) == \
        sorted(zip(pairs["pair"], pairs["control_id"]))


def test_cli_writes_matched_sets_and_prints_sets_pairs_patients(tmp_path, capsys):
    s = tmp_path / "s.json"
    s.write_text(json.dumps(settings("colon_k3").to_dict()))
    out = tmp_path / "out"
    assert main(["run", "--data", str(DATA / "colon.csv"), "--settings", str(s), "--out", str(out),
                 "--no-figures"]) == 0
    doc = json.loads((out / "results.json").read_text())
    printed = capsys.readouterr().out
    assert (f"{doc['n_sets']} matched sets ({doc['n_pairs']} treated-control pairs, "
            f"{doc['n_matched_patients']} distinct patients)") in printed
    assert doc["n_pairs"] == len(doc["pairs"]) > doc["n_sets"]
    sets = pd.read_csv(out / "matched_sets.csv", dtype={"patient_id": str})
    assert list(sets.columns) == ["set", "patient_id", "treated"] and len(sets) == doc["n_sets"] + doc["n_pairs"]
    cohort = pd.read_csv(out / "matched_cohort.csv", dtype={"patient_id": str})
    w = cohort.set_index("patient_id")["weight"]
    assert w[cohort.set_index("patient_id")["matched"] == 0].eq(0).all()
    assert not np.allclose(w[w > 0], 1)  # short sets: control weights differ from 1


@pytest.mark.parametrize("case", ["veteran_k3", "colon_k2"])
def test_truncation_moves_every_statistic(case):
    plain, cut = run(case), run(case, truncate_at_risk=0.333)
    assert cut.logrank_pair_stratified.chisq != plain.logrank_pair_stratified.chisq
    assert cut.matched.logrank.chisq != plain.matched.logrank.chisq
    assert cut.matched.cox.table["hr"].iloc[0] != plain.matched.cox.table["hr"].iloc[0]
    assert cut.matched.km_treated.table["time"].max() < plain.matched.km_treated.table["time"].max()
    # the pair-stratified test is survdiff(... + strata(set)) on the truncated memberships
    rows = cut.matched_data.sort_values("pair", kind="stable")
    t, e, _ = truncate_at_risk(rows["time"].to_numpy(float), rows["event"].to_numpy(int), 0.333)
    direct = logrank_test(t, e, rows["treated"].to_numpy(int), strata=rows["pair"].to_numpy())
    assert cut.logrank_pair_stratified.chisq == pytest.approx(direct.chisq, rel=1e-12)
    t2, _ = analysed_time_event(cut.matched_data, cut.settings)
    assert t2.max() < cut.matched_data["time"].max()


def test_truncation_moves_the_pair_stratified_test_of_a_1to1_match():
    """With 1:1 matching the pair-stratified log-rank moves with truncation, as the plain one does."""
    d = make_sets.settings_for("colon_k2").to_dict()
    d["matching"]["ratio"] = 1
    table = pd.read_csv(DATA / "colon.csv")
    plain = run_analysis(Settings.from_dict(d), table)
    d["survival"]["truncate_at_risk"] = 0.333
    cut = run_analysis(Settings.from_dict(d), table)
    assert cut.matched.logrank.chisq != plain.matched.logrank.chisq
    assert cut.logrank_pair_stratified.chisq != plain.logrank_pair_stratified.chisq


def test_table1_after_weighted_matching_has_no_p_values():
    """CONTRACT.md: Table 1 after matching shows weighted counts; P is null unless every weight is 0 or 1."""
    from pannet_core.stats.table1 import table1

    frame = pd.DataFrame({"sex": ["f", "m", "f", "m", "f", "m", "f", "f"], "age": [50, 60, 55, 65, 70, 40, 45, 52]})
    g = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    unit = table1(frame, g, ["sex", "age"], ["sex"], weights=[1, 1, 1, 1, 1, 1, 0, 1])
    assert unit["p"].notna().all()
    two = table1(frame, g, ["sex", "age"], ["sex"], weights=[1, 1, 1, 1, 2, 2, 0, 1])  # whole numbers, not 1
    assert two["p"].isna().all()
    w = [1, 1, 1, 1, 0.5, 1.5, 0, 1]
    half = table1(frame, g, ["sex", "age"], ["sex"], weights=w)
    assert half["p"].isna().all()
    f_row = half.loc[(half["variable"] == "sex") & (half["level"] == "f")].iloc[0]
    assert f_row["control_n"] == pytest.approx(0.5 + 1) and f_row["control_pct"] == pytest.approx(100 * 1.5 / 3)
    age = half.loc[half["variable"] == "age"].iloc[0]
    assert age["control_n"] == pytest.approx(3.0)
    # weighted: 40 (1.5 of 3), 52 (1), 70 (0.5): cumulative 50 %, 83 %, 100 % -> median 40, Q1 40, Q3 52
    assert age["control_summary"] == "40.0 (40.0-52.0)"
