"""The left margin plotly.js will give the love plot's row labels (and the Kaplan-Meier risk table's
group names: :func:`risk_table_margin`), written into the screen figure.

Why: with ``automargin`` plotly.js draws the chart, measures its labels and draws it again when the
margin they need differs by more than 1 px (``Plots.didMarginChange``); a figure that already has
that margin is drawn once, with the same picture.

How: the margin is ``round(widest label + PUSH_BEYOND_LABELS)`` for this axis (left, no ticks, 18 px
labels).  Label widths are the advance widths of Liberation Sans (Arial's metrics; the figure's font
is ``Arial, 'Liberation Sans', ...``), read with Pillow (a Streamlit dependency).  Without the font
file the margin is left as designed and plotly measures and redraws.
"""
from __future__ import annotations

import functools
import re

from pannet_core.figures.style import BASE_FONT, FONT_FAMILY

PUSH_BEYOND_LABELS = 16.599609375  # px plotly.js adds to the widest label: 18 px labels, no ticks
PUSH_BEYOND_RISK_LABELS = 30.984375  # the same for the risk table's bold names (ticklabelstandoff 18)
_RISK_LABEL = re.compile(r"^<span style='color:#[0-9A-Fa-f]{6}'><b>([^<>&]*)</b></span>$")


@functools.lru_cache(maxsize=2)
def _font(bold: bool = False):
    try:
        from PIL import ImageFont

        return ImageFont.truetype("LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf", BASE_FONT)
    except Exception:  # Pillow finds no such font file: no estimate
        return None


def left_margin(labels, font: dict | None) -> int | None:
    """The margin plotly.js computes for y-axis ``labels`` in ``font``; None when it cannot be told."""
    f = _font()
    if f is None or not labels or (font or {}).get("family") != FONT_FAMILY or (font or {}).get("size") != BASE_FONT:
        return None
    return round(max(f.getlength(str(t)) for t in labels) + PUSH_BEYOND_LABELS)


def risk_table_margin(layout: dict) -> int | None:
    """The left margin plotly.js's automargin computes for the Kaplan-Meier risk table's group names.

    ``layout`` is a screen figure's layout (template written in): its ``yaxis2`` is the risk table
    (``pannet_core.figures.km.risk_axis_labels``: bold names in their colours, no ticks, 18 px
    stand-off).  None when the axis is not exactly that, or the font cannot be told."""
    ax = layout.get("yaxis2") or {}
    f = _font(bold=True)
    tickfont = ax.get("tickfont") or {}
    if (f is None or (layout.get("font") or {}).get("family") != FONT_FAMILY or tickfont.get("size") != BASE_FONT
            or tickfont.get("family") not in (None, FONT_FAMILY) or ax.get("ticklabelstandoff") != 18
            or ax.get("ticks") != "" or ax.get("side") not in (None, "left") or not ax.get("automargin")
            or ax.get("showticklabels") is False or not ax.get("ticktext")):
        return None
    names = [_RISK_LABEL.match(str(t)) for t in ax["ticktext"]]
    if not all(names):
        return None
    return round(max(f.getlength(m[1]) for m in names) + PUSH_BEYOND_RISK_LABELS)
