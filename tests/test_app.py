"""The Streamlit dashboard driven headless with ``streamlit.testing.v1.AppTest``.

Covers: every page renders with the demo cohort, the caliper changes the
pairs without refitting the propensity model, settings survive page
switches, a bad upload is an ``st.error`` (never an exception), a saved
settings file loads back identically through the Data page, and the
survival controls (confidence bands, study cut-off date) work.

Note: after ``at.switch_page(...)`` AppTest runs the page file alone, not
``app.py`` (no sidebar, no sign-in gate); the pages therefore also show the
messages queued by widget callbacks themselves.  More bad-input cases are in
``test_app_bad_input.py``, privacy and sign-in in ``test_app_privacy.py``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from board import figs, fmt, matching_ui  # noqa: E402
from pannet_core.settings import Settings, load_preset  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["app_pages/1_data.py", "app_pages/2_eligibility.py", "app_pages/3_matching.py", "app_pages/4_survival.py",
         "app_pages/5_report.py"]
TITLES = ["Data", "Eligibility", "Propensity-score matching", "Survival", "Report"]


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def at():
    return _app()


def _settings(at) -> Settings:
    return at.session_state["pnb_settings"]


def _pairs(at) -> int:
    text = next(m.value for m in at.markdown if m.value.startswith("**Matched: "))
    return int(re.search(r"Matched: (\d+) sets", text).group(1))


def _go(at, i: int) -> AppTest:
    at.switch_page(PAGES[i]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [TITLES[i]]
    return at


# --------------------------------------------------------------------------- smoke
def test_opens_with_demo_and_000_preset(at):
    assert _settings(at) == load_preset("primary_tumour_resection")
    assert any("Synthetic demonstration data" in w.value for w in at.warning)
    assert at.session_state["pnb_table"].is_demo
    assert at.sidebar.selectbox(key="w.sidebar.preset").value == "primary_tumour_resection"


@pytest.mark.parametrize("i", range(len(PAGES)))
def test_every_page_renders_without_error(at, i):
    _go(at, i)
    # the validation summary of the Data page is the only st.error allowed (it reports the file, not the app)
    errors = [e.value for e in at.error if "Each line says the row" not in e.value]
    assert not errors
    assert not [x.value for x in at.info if "not available yet" in x.value]


def test_pages_show_their_key_elements(at):
    _go(at, 0)
    assert at.get("file_uploader")
    _go(at, 2)
    assert at.slider(key="w.matching.caliper").value == pytest.approx(_settings(at).matching.caliper)
    assert _pairs(at) > 0
    assert any(m.value.startswith("**Resolved caliper width: 0.") for m in at.markdown)
    _go(at, 3)
    assert any(fmt.md_text("Log-rank P (matched groups) = ") in m.value for m in at.markdown)
    _go(at, 4)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Slide as PNG" in labels and "Download all (zip)" in labels and "Settings (JSON)" in labels


# --------------------------------------------------------------------------- caliper
def test_caliper_changes_pairs_without_refitting_the_propensity_model():
    from board.cached import CALLS

    at = _app()
    _go(at, 2)
    before = _pairs(at)
    fits = CALLS["fit"]
    at.slider(key="w.matching.caliper").set_value(0.005).run()
    assert not at.exception
    assert _settings(at).matching.caliper == 0.005
    after = _pairs(at)
    assert after != before
    assert CALLS["fit"] == fits  # stage 2 came from the cache


def test_sidebar_counts_follow_the_caliper_and_figures_carry_their_screen_height():
    """The Matching page's fragment draws the sidebar's counts; the charts are sent at the height drawn."""
    import json

    at = _app()
    _go(at, 2)

    def sidebar_pairs():
        values = [m.value for m in at.sidebar.metric if m.label == "Matched sets"]
        assert len(values) == 1, values  # drawn once, by the fragment
        return int(values[0])

    assert sidebar_pairs() == _pairs(at)
    before = _pairs(at)
    at.slider(key="w.matching.caliper").set_value(0.005).run()
    assert not at.exception
    assert _pairs(at) != before and sidebar_pairs() == _pairs(at)
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout = spec["layout"]
        # Streamlit draws a figure without a layout height at 450 px first, then again at its box's height
        assert isinstance(layout.get("height"), int) and layout["height"] >= 420, layout.get("height")
        # ... and one without a width hidden first; a copied template or array counts as new data (board/figs.py)
        assert layout.get("width") == figs.CHART_WIDTH and layout.get("datarevision") is not None
        assert not layout.get("template") and "bdata" not in chart.proto.spec
        assert layout["xaxis"]["ticks"] == "outside"  # the simple_white template's look, written in


# --------------------------------------------------------------------------- page switches
def test_switching_pages_keeps_every_setting():
    at = _app()
    _go(at, 2)
    at.slider(key="w.matching.caliper").set_value(0.2).run()
    at.selectbox(key="w.matching.order").set_value("smallest").run()
    at.toggle(key="w.matching.replace").set_value(True).run()
    at.radio(key="w.propensity.missing").set_value("drop").run()
    _go(at, 3)
    at.selectbox(key="w.survival.ci").set_value("log").run()
    at.radio(key="w.study.endpoint").set_value("pfs").run()
    _go(at, 1)
    at.toggle(key="w.eligibility.1.grade.enabled").set_value(False).run()
    expected = _settings(at)
    for i in (0, 4, 3, 2, 1, 0):
        _go(at, i)
        assert _settings(at) == expected
    assert expected.matching.caliper == 0.2 and expected.matching.order == "smallest"
    assert expected.matching.replace and expected.propensity.missing == "drop"
    assert expected.survival.ci == "log" and expected.study.endpoint == "pfs"
    assert expected.eligibility[1].enabled is False
    # widgets are re-seeded from the settings after the switch
    _go(at, 2)
    assert at.slider(key="w.matching.caliper").value == pytest.approx(0.2)
    assert at.selectbox(key="w.matching.order").value == "smallest"
    _go(at, 3)
    assert at.radio(key="w.study.endpoint").value == "pfs"
    assert at.selectbox(key="w.survival.ci").value == "log"


def test_preset_switch_from_sidebar():
    at = _app()
    at.sidebar.selectbox(key="w.sidebar.preset").set_value("liver_surgery_tha").run()
    assert not at.exception
    assert _settings(at) == load_preset("liver_surgery_tha")
    _go(at, 2)
    assert at.selectbox(key="w.study.comparison").value == "liver_surgery_tha"


# --------------------------------------------------------------------------- uploads
def test_bad_upload_shows_error_and_keeps_demo():
    at = _app()
    at.file_uploader(key="upload_table").set_value(("broken.xlsx", b"this is not a workbook", "text/plain")).run()
    assert not at.exception
    assert at.error and fmt.md_text("broken.xlsx") in at.error[0].value  # the file name, escaped
    assert "Traceback" not in at.error[0].value
    assert at.session_state["pnb_table"].is_demo


def test_good_upload_replaces_the_table():
    from pannet_core.demo import make_demo_cohort

    data = make_demo_cohort().head(300).to_csv(index=False).encode()
    at = _app()
    at.file_uploader(key="upload_table").set_value(("registry.csv", data, "text/csv")).run()
    assert not at.exception
    entry = at.session_state["pnb_table"]
    assert not entry.is_demo and len(entry.frame) == 300 and entry.raw == data
    assert not any("Synthetic demonstration data" in w.value for w in at.warning)


def test_upload_handler_function_reports_problems():
    """The handler the page calls is a plain function (bytes in, st.error text stored)."""
    at = _app()
    at.session_state["pnb_inject_upload"] = ("empty.csv", b"")
    at.run()
    assert not at.exception
    assert any("empty" in e.value for e in at.error)


# --------------------------------------------------------------------------- saved settings
def test_saved_settings_load_back_identically():
    at = _app()
    changed = (load_preset("primary_tumour_resection")
               .with_values("matching", caliper=0.05, order="random", seed=7)
               .with_values("survival", ci="log", horizons=(1.0, 2.0)))
    text = changed.to_json().encode()
    at.file_uploader(key="upload_settings").set_value(("mine.json", text, "application/json")).run()
    assert not at.exception
    assert _settings(at) == changed
    assert Settings.from_json(_settings(at).to_json()) == changed
    _go(at, 2)
    assert at.slider(key="w.matching.caliper").value == pytest.approx(0.05)


def test_utf16_settings_file_loads_in_the_dashboard_as_on_the_command_line(tmp_path):
    changed = load_preset("primary_tumour_resection").with_values("matching", caliper=0.07)
    data = changed.to_json().encode("utf-16")  # with its BOM, as Windows Notepad saves "Unicode"
    (tmp_path / "s.json").write_bytes(data)
    assert Settings.load(tmp_path / "s.json") == changed
    at = _app()
    at.file_uploader(key="upload_settings").set_value(("s.json", data, "application/json")).run()
    assert not at.exception and not at.error
    assert _settings(at) == changed


def test_bad_settings_file_is_an_error_not_an_exception():
    at = _app()
    before = _settings(at)
    at.file_uploader(key="upload_settings").set_value(
        ("bad.json", b'{"study": {"comparison": "nonsense"}, "propensity": {"covariates": ["age"]}}',
         "application/json")).run()
    assert not at.exception
    assert any(fmt.md_text("study.comparison") in e.value for e in at.error)
    assert _settings(at) == before


# --------------------------------------------------------------------------- helpers
def test_number_formats():
    assert fmt.p_value(0.0004) == "<0.001"
    assert fmt.p_value(0.04567) == "0.046"
    assert fmt.p_value(float("nan")) == "–"
    assert fmt.pct(0.12345) == "12.3%"
    assert fmt.pct(45.26, fraction=False) == "45.3%"
    assert fmt.ci(0.5, 0.4, 0.61, percent=True) == "50.0% (40.0–61.0)"
    assert fmt.years(4.23, 3.1, None) == "4.2 y (3.1–NR)"


def test_binned_raw_switch_round_trips():
    s = load_preset("primary_tumour_resection")
    raw = matching_ui.with_binning(s, "raw", None)
    assert "age" in raw.propensity.covariates and "age_group" not in raw.propensity.covariates
    assert "age" not in raw.propensity.categorical
    assert matching_ui.binning_mode(raw) == "raw"
    back = matching_ui.with_binning(raw, "binned", None)
    assert back.propensity.covariates == s.propensity.covariates
    assert set(back.propensity.categorical) == set(s.propensity.categorical)


# --------------------------------------------------------------------------- survival controls
def _km_ci_traces(at) -> int:
    import json

    chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("km_unmatched"))
    return sum(1 for tr in json.loads(chart.proto.spec)["data"] if (tr.get("meta") or [{}])[0].get("role") == "ci")


def test_confidence_bands_can_be_hidden_and_the_choice_survives_page_switches():
    at = _app()
    _go(at, 3)
    assert _km_ci_traces(at) == 4                      # upper and lower edge for each group
    at.toggle(key="w.view.show_ci").set_value(False).run()
    assert not at.exception
    assert _km_ci_traces(at) == 0
    assert _settings(at) == load_preset("primary_tumour_resection")  # a display choice, not an analysis setting
    _go(at, 2)
    _go(at, 3)
    assert at.toggle(key="w.view.show_ci").value is False and _km_ci_traces(at) == 0


def test_study_cutoff_date_control_changes_the_analysis():
    import datetime as dt

    at = _app()
    _go(at, 3)
    preset_cut = load_preset("primary_tumour_resection").study.cutoff_date
    assert at.toggle(key="w.study.cutoff_on").value is (preset_cut is not None)
    if preset_cut is None:
        at.toggle(key="w.study.cutoff_on").set_value(True).run()
    def tests_text():
        return [m.value for m in at.markdown if fmt.md_text("Log-rank P (") in m.value]

    before = tests_text()
    assert before  # the labelled tests are shown
    at.date_input(key="w.study.cutoff_date").set_value(dt.date(2016, 6, 30)).run()
    assert not at.exception
    assert _settings(at).study.cutoff_date == "2016-06-30"
    assert tests_text() != before                      # events after the cut-off are censored: new P values
    assert not at.error, [e.value for e in at.error]
    at.toggle(key="w.study.cutoff_on").set_value(False).run()
    assert _settings(at).study.cutoff_date is None
    _go(at, 2)
    _go(at, 3)
    assert at.toggle(key="w.study.cutoff_on").value is False


def test_table1_numeric_summary_control_writes_the_settings():
    at = _app()
    _go(at, 2)
    radio = at.radio(key="w.balance.numeric_summary")
    assert radio.value == "median"
    radio.set_value("mean").run()
    assert not at.exception, at.exception
    assert _settings(at).balance.numeric_summary == "mean"
    assert any("Welch's t-test" in c.value for c in at.caption)
    _go(at, 3)
    _go(at, 2)                                              # survives a page switch
    assert at.radio(key="w.balance.numeric_summary").value == "mean"


def test_loading_a_settings_file_updates_the_sidebar_at_once():
    """The sidebar (preset, endpoint, counts) follows a loaded settings file in the same interaction."""
    at = _app()
    pfs = load_preset("primary_tumour_resection").with_values("study", endpoint="pfs")
    at.file_uploader(key="upload_settings").set_value(("pfs.json", pfs.to_json().encode(), "application/json")).run()
    assert not at.exception
    endpoint = [r for r in at.sidebar.radio if r.label == "Endpoint"]
    assert endpoint and endpoint[0].value == "pfs"
    assert any(fmt.md_text("Settings loaded from pfs.json") in s.value for s in at.success)
