"""The love plot's screen copy carries the left margin plotly.js's automargin gives its labels."""
import pytest

from board.screen import label_margin, layout
from pannet_core.figures.style import FONT_FAMILY

FONT = {"family": FONT_FAMILY, "size": 18}
needs_font = pytest.mark.skipif(label_margin._font() is None, reason="Liberation Sans is not installed")


@needs_font
def test_margin_is_what_plotly_js_computed_for_these_labels_in_chromium():
    # gd._fullLayout._size.l after Plotly.newPlot in headless chromium, plotly.js 4.1.1 (bench probe)
    assert label_margin.left_margin(["age: <50", "sex: female"], FONT) == 109
    assert label_margin.left_margin(["calendar period: 2010-2019", "x: 1"], FONT) == 237
    assert label_margin.left_margin(["WWWWWW: MMMM", "iiii: llll", "fi: ffl AV To"], FONT) == 188
    assert label_margin.left_margin(["a very long covariate name for testing: level ≥ 10", "b: 2"], FONT) == 404


def test_no_margin_for_another_font_or_no_labels():
    assert label_margin.left_margin(["age: <50"], {"family": FONT_FAMILY, "size": 20}) is None
    assert label_margin.left_margin(["age: <50"], {"family": "Courier", "size": 18}) is None
    assert label_margin.left_margin([], FONT) is None


def _risk_layout(treated, control, **axis):
    from pannet_core.figures import km as figures_km
    ax = {**figures_km.risk_axis_labels({"treated": treated, "control": control}), "tickfont": {"size": 18},
          "automargin": True, **axis}
    return {"font": {"family": FONT_FAMILY, "size": 18}, "yaxis2": ax}


@needs_font
def test_risk_table_margin_is_what_plotly_js_computed_for_these_group_names_in_chromium():
    # gd._fullLayout._size.l after Plotly.newPlot of the risk table's y axis, headless chromium, plotly.js 4.1.1
    assert label_margin.risk_table_margin(_risk_layout("Treated", "Control")) == 95
    assert label_margin.risk_table_margin(_risk_layout("Primary tumour resected", "Not resected")) == 244
    assert label_margin.risk_table_margin(_risk_layout("Liver surgery / THA", "No liver surgery")) == 197
    assert label_margin.risk_table_margin(_risk_layout("WWWWWWWWWW MMMM", "iiii")) == 266
    assert label_margin.risk_table_margin(_risk_layout("fi ffl AV To Wa", "x")) == 149
    assert label_margin.risk_table_margin(_risk_layout("A much longer group label for testing ≥ 10", "B")) == 391


def test_no_risk_table_margin_for_another_axis():
    assert label_margin.risk_table_margin(_risk_layout("Treated", "Control", ticklabelstandoff=10)) is None
    assert label_margin.risk_table_margin(_risk_layout("Treated", "Control", automargin=False)) is None
    assert label_margin.risk_table_margin(_risk_layout("Treated", "Control", tickfont={"size": 20})) is None
    assert label_margin.risk_table_margin(_risk_layout("Treated", "Control", ticktext=["Treated", "Control"])) is None
    assert label_margin.risk_table_margin({"font": {"family": FONT_FAMILY}, "yaxis2": {}}) is None


@needs_font
def test_km_screen_figure_carries_the_risk_table_margin():
    from board import figs, state
    from board.state import DEFAULT_PRESET
    from pannet_core import pipeline
    from pannet_core.report import export
    from pannet_core.settings import load_preset

    s = load_preset(DEFAULT_PRESET)
    prepared = pipeline.prepare(s, state.demo_entry().frame)
    result = pipeline.analyse(s, prepared, pipeline.fit_scores(s, prepared))
    build = lambda: export.km_figure_of(result, "matched", show_ci=True)  # noqa: E731
    d = figs.km_screen_dict(build)
    plain = layout.screen_dict(build(), figs.KM_HEIGHT, True, title=None, margin={"t": 90})
    assert plain["layout"]["margin"]["l"] == 90  # the figure as designed ...
    assert d["layout"]["margin"]["l"] == label_margin.risk_table_margin(d["layout"]) > 90  # ... and on screen
    d["layout"]["margin"]["l"] = 90
    for item in [*d["data"], d["layout"]]:
        item["meta"] = item["meta"][0]  # one-item lists on screen (the next test)
    assert d == plain  # nothing else differs
    assert build().to_plotly_json()["layout"]["margin"]["l"] == 90  # the exported figure keeps its margin


def test_km_screen_figure_keeps_meta_in_one_item_lists_and_its_export_size():
    # plotly.js compares a meta object by identity: Streamlit's deep copy would redraw the chart
    import plotly.graph_objects as go

    from board import figs
    from pannet_core.figures import style as figures_style
    from pannet_core.report import export

    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0], meta={"role": "km", "group": "treated"}))
    figures_style.set_export_size(fig, 1600, 1000)
    d = figs.km_screen_dict(lambda: go.Figure(fig))
    assert d["data"][0]["meta"] == [{"role": "km", "group": "treated"}]
    assert d["layout"]["meta"] == [{"export_width": 1600, "export_height": 1000}]
    screen = layout.from_dict(d)
    assert figures_style.export_size(screen, default=(1, 1)) == (1600, 1000)
    assert export.plotly_config("x", screen)["toImageButtonOptions"]["width"] == 1600
    assert fig.layout.meta == {"export_width": 1600, "export_height": 1000}  # the exported figure keeps its dict
