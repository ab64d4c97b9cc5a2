"""The love plot's screen copy carries the left margin plotly.js's automargin gives its labels."""
import pytest

from board import label_margin
from pannet_core.figures_style import FONT_FAMILY

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
