"""Each page shows its controls, figures and tables, checked on what the page draws (AppTest).

``test_app.py`` covers the smoke test, caliper, page switches, uploads and saved settings; this
file checks the page contents: template downloads and the column-mapping step (Data), the CONSORT
figure and the excluded patients (Eligibility), exact matching, unmatched reasons, Table 1 with
flags and the pair browser (Matching), the Cox table, forest plot, sensitivity analysis and
90-day mortality (Survival) and every download (Report).
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from board import fmt  # noqa: E402
from pannet_core.cohort.prepare import prepare_cohort  # noqa: E402
from pannet_core.demo import make_demo_cohort  # noqa: E402
from pannet_core.io import schema  # noqa: E402
from pannet_core.io.reading import read_table  # noqa: E402
from pannet_core.settings import load_preset  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["app_pages/1_data.py", "app_pages/2_eligibility.py", "app_pages/3_matching.py", "app_pages/4_survival.py",
         "app_pages/5_report.py"]
DEMO = make_demo_cohort()


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def _go(at: AppTest, i: int) -> AppTest:
    at.switch_page(PAGES[i]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def _frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    found = [f for f in _frames(at) if set(columns) <= set(f.columns)]
    assert found, f"no table with columns {columns}: {[list(f.columns) for f in _frames(at)]}"
    return found[0]


def _chart(at: AppTest, key: str) -> dict:
    charts = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)]
    assert charts, f"no chart {key!r}"
    return json.loads(charts[0].proto.spec)


def _labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


@pytest.fixture(scope="module")
def at():
    return _app()


# --------------------------------------------------------------------------- 1. Data
def test_data_page_offers_the_template_that_reads_back_as_the_dictionary(at):
    _go(at, 0)
    assert {"Template (CSV)", "Template (XLSX)"} <= set(_labels(at))
    for data, name in ((schema.template_csv_bytes(), "t.csv"), (schema.template_xlsx_bytes(), "t.xlsx")):
        res = read_table(data, name)
        assert list(res.frame.columns) == list(schema.CANONICAL_COLUMNS) and res.unmapped == []


def test_column_mapping_step_maps_an_unknown_header():
    frame = DEMO.rename(columns={"death_date": "Exitus"})
    at = _app()
    _go(at, 0)
    at.file_uploader(key="upload_table").set_value(("export.csv", frame.to_csv(index=False).encode(),
                                                    "text/csv")).run()
    assert not at.exception
    assert "Column mapping" in [s.value for s in at.subheader]
    assert "death_date" not in at.session_state["pnb_table"].frame.columns
    at.selectbox(key="w.map.Exitus").set_value("death_date").run()
    next(b for b in at.button if b.label == "Apply mapping").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.session_state["pnb_table"].frame
    assert table["death_date"].notna().sum() == DEMO["death_date"].notna().sum()
    assert at.session_state["pnb_settings"].column_map == {"Exitus": "death_date"}


# --------------------------------------------------------------------------- 2. Eligibility
def test_eligibility_shows_the_consort_figure_and_every_excluded_patient(at):
    _go(at, 1)
    consort = json.dumps(_chart(at, "consort"))
    assert "733" in consort and "194" in consort           # a figure, with the counts of the flow
    excluded = _frame_with(at, "patient_id", "step", "reason")
    assert len(excluded) == 733 - 194 and excluded["patient_id"].is_unique
    counts = _frame_with(at, "Criterion", "Patients")
    assert counts["Patients"].sum() == 733 - 194


def test_editing_a_criterion_changes_the_flow():
    at = _app()
    _go(at, 1)
    before = len(_frame_with(at, "patient_id", "step", "reason"))
    at.number_input(key="w.eligibility.0.diagnosis_years.start").set_value(2010).run()
    assert not at.exception
    assert at.session_state["pnb_settings"].eligibility[0].params["start"] == 2010
    after = _frame_with(at, "patient_id", "step", "reason")
    assert len(after) > before
    expected = prepare_cohort(DEMO, at.session_state["pnb_settings"])
    assert len(after) == len(expected.excluded)


def test_eligibility_shows_the_flow_when_nothing_is_inside_the_caliper():
    at = _app()
    s = at.session_state["pnb_settings"]
    s = (s.with_values("matching", caliper=1e-9, caliper_scale="ps_absolute")
         .with_values("propensity", covariates=("age_at_diagnosis", "ki67"), categorical=()))
    at.session_state["pnb_settings"] = s
    _go(at, 1)
    assert any("no matched cohort" in c.value for c in at.sidebar.caption)  # the analysis stopped at matching
    cohort = prepare_cohort(DEMO, s).analysis
    n_t = int(cohort["treated"].sum())
    assert f"733 patients in the file, {len(cohort)} analysed ({n_t} treated, {len(cohort) - n_t} controls)." in [
        c.value for c in at.caption]
    assert str(len(cohort)) in json.dumps(_chart(at, "consort"))
    counts = _frame_with(at, "Criterion", "Patients")
    assert counts["Patients"].sum() == 733 - len(cohort) == len(_frame_with(at, "patient_id", "step", "reason"))


# --------------------------------------------------------------------------- 3. Matching
def test_matching_page_shows_overlap_love_plot_reasons_table1_and_pairs(at):
    _go(at, 2)
    overlap, love = _chart(at, "ps_overlap"), _chart(at, "love_plot")
    panels = {(t["meta"]["group"], t["meta"]["panel"]) for t in overlap["data"]
              if (t.get("meta") or {}).get("role") == "ps"}
    assert panels == {(g, p) for g in ("treated", "control") for p in ("before", "after")}
    assert [(s["x0"], s["x1"]) for s in love["layout"]["shapes"] if s.get("name") == "threshold"] == [(0.1, 0.1)]
    assert {t["name"] for t in love["data"]} >= {"Before matching", "After matching"}
    why = _frame_with(at, "group", "reason", "patients")
    assert set(why["reason"]) <= {"no control inside the caliper", "no unused control left", "not selected",
                                  "missing covariate", "no exact-match partner"}
    assert [t.label for t in at.tabs] == ["Before matching", "After matching"]
    t1 = _frame_with(at, "Variable", "Level", "P", "SMD", "Imbalanced")
    assert (t1["Imbalanced"] != "").any()                   # seed 000's Table 1 has SMDs >= 0.1 before matching
    pairs = _frame_with(at, "pair", "treated_id", "control_id")
    assert len(pairs) > 0
    shown = next(m.value for m in at.markdown if m.value.startswith("Pair "))
    first = pairs.iloc[0]
    assert fmt.md_text(first["treated_id"]) in shown and fmt.md_text(first["control_id"]) in shown


def test_exact_matching_on_sex_gives_pairs_of_one_sex():
    at = _app()
    _go(at, 2)
    at.multiselect(key="w.matching.exact").set_value(["sex"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["pnb_settings"].matching.exact == ("sex",)
    pairs = _frame_with(at, "pair", "treated_id", "control_id")
    sex = DEMO.set_index("patient_id")["sex"]
    assert len(pairs) > 0
    assert (sex.loc[pairs["treated_id"]].to_numpy() == sex.loc[pairs["control_id"]].to_numpy()).all()


# --------------------------------------------------------------------------- 4. Survival
def test_survival_page_shows_both_cohorts_tests_sensitivity_and_ninety_day(at):
    _go(at, 3)
    for key in ("km_unmatched", "km_matched", "km_sens"):
        _chart(at, key)
    text = " ".join(m.value for m in at.markdown)
    assert fmt.md_text("Primary: Log-rank P (matched groups) = ") in text
    assert fmt.md_text("Secondary: log-rank stratified on matched sets P = ") in text
    assert fmt.md_text("Log-rank P (all patients) = ") in text
    assert fmt.md_text("HR primary tumour resected vs not resected ") in text
    heads = [s.value for s in at.subheader]
    assert any(h.startswith("Sensitivity analysis") for h in heads) and "90-day mortality" in heads
    nd = _frame_with(at, "Group", "Deaths within 90 days")
    assert len(nd) == 2


def test_survival_page_shows_the_cox_table_and_forest_plot_for_the_001_preset():
    at = _app()
    at.sidebar.selectbox(key="w.sidebar.preset").set_value("liver_surgery_tha").run()
    assert not at.exception
    _go(at, 3)
    assert "Cox regression: univariable and multivariable" in [s.value for s in at.subheader]
    forest = _chart(at, "forest")
    assert forest["data"] and forest["layout"]["xaxis"]["type"] == "log"
    cox = max(_frames(at), key=len)
    assert len(cox) >= len(load_preset("liver_surgery_tha").cox.covariates)


# --------------------------------------------------------------------------- 5. Report
def test_report_offers_every_download(at):
    _go(at, 4)
    labels = set(_labels(at))
    assert {"Slide as PNG", "Slide as PDF", "Kaplan-Meier, unmatched", "Kaplan-Meier, matched",
            "Kaplan-Meier, sensitivity analysis", "CONSORT flow",
            "Love plot (balance)", "Propensity-score overlap", "Table 1 (CSV)", "Table 1 (XLSX)",
            "Matched cohort (CSV)", "Settings (JSON)", "Download all (zip)"} <= labels


def test_table1_downloads_hold_the_table():
    from board import tables
    from pannet_core import pipeline

    result = pipeline.run_analysis(load_preset("primary_tumour_resection"), DEMO)
    csv = pd.read_csv(io.BytesIO(tables.table1_csv(result)))
    xlsx = pd.read_excel(io.BytesIO(tables.table1_xlsx(result)), sheet_name=None)
    assert len(csv) >= len(result.table1)
    assert any(len(sheet) >= len(result.table1) for sheet in xlsx.values())


def test_report_without_chromium_says_how_to_enable_export(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    at = _app()
    _go(at, 4)
    warnings = [w.value for w in at.warning if "PNG and PDF export is switched off" in w.value]
    shown = [re.sub(r"\\(.)", r"\1", w) for w in warnings]  # as the reader sees it
    assert shown and "apt-get install chromium" in shown[0] and "BROWSER_PATH" in shown[0]
    buttons = {b.proto.label: b.proto.disabled for b in at.get("download_button")}
    assert buttons["Slide as PNG"] is True and buttons["Kaplan-Meier, matched"] is True
    assert buttons["Download all (zip)"] is False and buttons["Table 1 (CSV)"] is False
    assert not at.error


def _ci_band_values(at: AppTest) -> list:
    spec = _chart(at, "km_unmatched")
    # the screen figures' meta is a one-item list
    return [tr.get("y") for tr in spec["data"] if (tr.get("meta") or [{}])[0].get("role") == "ci"]


def test_ci_type_and_truncation_controls_change_the_survival_page():
    at = _app()
    _go(at, 3)
    bands_plain = _ci_band_values(at)
    tests_before = [m.value for m in at.markdown if fmt.md_text("Log-rank P (") in m.value]
    at.selectbox(key="w.survival.ci").set_value("log-log").run()
    assert not at.exception and at.session_state["pnb_settings"].survival.ci == "log-log"
    assert bands_plain and _ci_band_values(at) != bands_plain          # other confidence limits drawn
    at.toggle(key="w.survival.truncate_on").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["pnb_settings"].survival.truncate_at_risk == pytest.approx(1 / 3)
    assert [m.value for m in at.markdown if fmt.md_text("Log-rank P (") in m.value] != tests_before
    assert not at.error, [e.value for e in at.error]


def test_validation_report_lists_every_problem_with_row_column_value_and_fix():
    frame = DEMO.copy()
    frame["charlson"] = frame["charlson"].astype(object)
    frame.loc[4, "charlson"] = "many"                       # text in a number column
    frame["ki67"] = frame["ki67"].astype(object)
    frame.loc[9, "ki67"] = "high"
    at = _app()
    at.file_uploader(key="upload_table").set_value(("two.csv", frame.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception
    report = _frame_with(at, "severity", "row", "column", "value", "problem", "fix")
    errors = report[report["severity"] == "error"]
    assert {(int(r), c, str(v)) for r, c, v in zip(errors["row"], errors["column"], errors["value"])} >= \
        {(5, "charlson", "many"), (10, "ki67", "high")}
    assert errors["fix"].str.len().gt(0).all()
    assert at.session_state["pnb_table"].is_demo             # the file with errors was not loaded


def test_survival_page_sends_its_charts_before_the_tables_in_the_same_page_order(monkeypatch):
    # the browser handles a rerun's messages in order: the sensitivity chart no longer waits behind the tables
    from board import figs, tables
    calls = []
    show, display = figs.show, tables.survival_display
    monkeypatch.setattr(figs, "show", lambda fig, key, **kw: calls.append(key) or show(fig, key, **kw))
    monkeypatch.setattr(tables, "survival_display", lambda *a, **kw: calls.append("table") or display(*a, **kw))
    at = _go(_app(), 3)
    assert calls[:4] == ["km_unmatched", "km_matched", "km_sens", "table"]
    heads = [s.value for s in at.subheader]
    assert heads[:4] == ["Kaplan-Meier: all analysed patients (unmatched)", "Kaplan-Meier: propensity-matched",
                         "Median survival and survival at the horizons", heads[3]]
    assert heads[3].startswith("Sensitivity analysis") and heads[-1] == "90-day mortality"
    sens = [f for f in _frames(at) if "Group" in f.columns]
    assert len(sens) >= 3  # unmatched, matched, then the sensitivity table below its chart


def test_matching_page_shows_the_c_statistic_with_its_caution():
    from pannet_core import pipeline

    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/3_matching.py").run()
    assert not at.exception
    shown = [c.value for c in at.caption if c.value.startswith("c-statistic")]
    assert len(shown) == 1 and "overlap" in shown[0]
    expected = pipeline.run_analysis(load_preset("primary_tumour_resection"), make_demo_cohort()).c_statistic
    assert f"**{expected:.2f}**" in shown[0]
