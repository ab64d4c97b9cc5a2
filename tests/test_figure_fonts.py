"""Fonts readable on a projector - no text in any exported figure is smaller than 14 px
(figures_style: base 18 px, "nothing is smaller than 14"), for both presets on the demo cohort."""
from __future__ import annotations

import pytest

from pannet_core import pipeline
from pannet_core.demo import make_demo_cohort
from pannet_core.report import export
from pannet_core.settings import load_preset

FONT_KEYS = ("font", "textfont", "tickfont", "insidetextfont", "outsidetextfont")


def _font_sizes(obj, path=""):
    """(path, size) of every font size set in a figure's JSON, hover labels excepted (not on the slide)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "hoverlabel":
                continue
            if key in FONT_KEYS and isinstance(value, dict) and value.get("size") is not None:
                sizes = value["size"] if isinstance(value["size"], list) else [value["size"]]
                yield from ((f"{path}/{key}", s) for s in sizes if s is not None)
            yield from _font_sizes(value, f"{path}/{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _font_sizes(value, f"{path}[{i}]")


@pytest.mark.parametrize("preset", ["primary_tumour_resection", "liver_surgery_tha"])
def test_no_text_smaller_than_14_px(preset):
    result = pipeline.run_analysis(load_preset(preset), make_demo_cohort())
    figs = export.result_figures(result)
    assert {"summary_slide", "consort", "love_plot", "ps_overlap"} <= set(figs)
    for name, fig in figs.items():
        sizes = list(_font_sizes(fig.to_plotly_json()))
        assert sizes, name
        small = [(p, s) for p, s in sizes if s < 14]
        assert not small, (name, small[:5])
