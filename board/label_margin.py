"""The left margin plotly.js will give the love plot's row labels, written into the screen figure.

Why: the love plot's y axis has ``automargin``: plotly.js draws the chart with ``margin.l`` (40 px),
measures the labels, finds they need more and draws the whole tall chart a second time (~30 of a
~55 ms draw, after every caliper change).  plotly.js redraws only when the margin it computes
differs from the one drawn by more than 1 px (``Plots.didMarginChange``), so a figure whose
``margin.l`` already is that margin is drawn once, and the picture is the same (pixels compared).

How: plotly.js's margin is ``round(widest label + 16.6 px)`` for this axis (left, no ticks,
18 px labels; the 16.599609375 px measured in chromium with plotly.js for four label sets).  The
label widths are the font's advance widths: Liberation Sans, which has Arial's metrics (the
figure's font is ``Arial, 'Liberation Sans', ...``), read with Pillow (a Streamlit dependency);
they come within 0.1 px of chromium's.  Without the font file the margin is left as designed
(plotly measures and redraws, as before).  A browser whose font is wider than Arial makes the
labels push and plotly redraws as before (same picture); one narrower by more than 1 px would
keep a few px more left margin than it needs.
"""
from __future__ import annotations

import functools

from pannet_core.figures_style import BASE_FONT, FONT_FAMILY

PUSH_BEYOND_LABELS = 16.599609375  # px from the widest label to the margin, plotly.js, 18 px labels, ticks ""


@functools.lru_cache(maxsize=1)
def _font():
    try:
        from PIL import ImageFont

        return ImageFont.truetype("LiberationSans-Regular.ttf", BASE_FONT)
    except Exception:  # Pillow finds no such font file: no estimate
        return None


def left_margin(labels, font: dict | None) -> int | None:
    """The margin plotly.js computes for y-axis ``labels`` in ``font``; None when it cannot be told."""
    f = _font()
    if f is None or not labels or (font or {}).get("family") != FONT_FAMILY or (font or {}).get("size") != BASE_FONT:
        return None
    return round(max(f.getlength(str(t)) for t in labels) + PUSH_BEYOND_LABELS)
