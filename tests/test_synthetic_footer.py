"""Every figure of the demo cohort carries a small "Synthetic demonstration data" footer; real data never do."""
from __future__ import annotations

import pytest

from board import figs
from pannet_core import figures, pipeline
from pannet_core.demo import make_demo_cohort
from pannet_core.report import export
from pannet_core.settings import load_preset

FOOTER = "Synthetic demonstration data"


def _footers(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.name == "synthetic"]


def _real_like(frame):
    """The demo cohort as an uploaded registry would arrive: no synthetic column or flag, real-looking centres."""
    out = frame.drop(columns=["synthetic"]).copy()
    out.attrs = {}
    out["centre"] = out["centre"].astype(str).str.replace(" (synthetic)", "", regex=False)
    return out


@pytest.fixture(scope="module", params=["primary_tumour_resection", "liver_surgery_tha"])
def results(request):
    s = load_preset(request.param)
    demo = make_demo_cohort()
    return pipeline.run_analysis(s, demo), pipeline.run_analysis(s, _real_like(demo))


def test_every_exported_figure_of_the_demo_is_marked_and_none_of_real_data(results):
    demo, real = results
    assert figures.is_synthetic(demo) and not figures.is_synthetic(real)
    marked = export.result_figures(demo)
    assert {"love_plot", "ps_overlap", "summary_slide"} <= set(marked)
    assert any(k.startswith("km_") for k in marked)
    for stem, fig in marked.items():
        assert _footers(fig) == [FOOTER], stem
    for stem, fig in export.result_figures(real).items():
        assert _footers(fig) == [], stem


def test_the_dashboards_figures_are_marked_the_same_way(results):
    demo, real = results
    for result, want in ((demo, [FOOTER]), (real, [])):
        assert _footers(figs.love_builder(result)()) == want
        assert _footers(figs.overlap_builder(result)()) == want
        assert _footers(figs.km_builder(result, "matched", True)()) == want


def test_the_demo_read_back_from_csv_is_still_marked(tmp_path):
    from pannet_core.cli import load_data

    path = tmp_path / "demo.csv"
    make_demo_cohort().to_csv(path, index=False)
    s = load_preset("primary_tumour_resection")
    result = pipeline.run_analysis(s, load_data(path, s))
    assert figures.is_synthetic(result)
