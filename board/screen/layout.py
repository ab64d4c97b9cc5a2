"""A figure's dict as the browser should first draw it, and the figure made back from it."""
from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

from board.screen import flat_template, label_margin

CHART_WIDTH = 1120  # px Streamlit gives a full-width chart in a 1600 px window, sidebar open
KM_HEIGHT = 680     # px of the Kaplan-Meier plots on the Survival page


def _plain(value):
    """``value`` with numeric arrays (numpy, or plotly's base64 typed-array objects) as lists of the
    same numbers (dicts and lists walked)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.tolist()
    if isinstance(value, dict):
        if set(value) in ({"dtype", "bdata"}, {"dtype", "bdata", "shape"}):
            flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype("<" + value["dtype"]))
            shape = [int(n) for n in str(value.get("shape", "")).split(",") if n.strip()]
            return (flat.reshape(shape) if shape else flat).tolist()
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def screen_dict(fig: go.Figure, height, full_width: bool, **layout) -> dict:
    """The dict of ``fig`` with ``layout`` changes, laid out for the browser's first draw (not shared).

    * ``layout.width`` = :data:`CHART_WIDTH` for a chart across the main column (``full_width``),
      ``layout.height`` its on-screen height (``height``: px, or a function of the figure): without
      them the first draw is hidden, at no size, and the chart is drawn again once measured.
    * The template written in (a copied template counts as changed), plain lists instead of numpy
      arrays (plotly would send base64 objects, which count as changed too), and a constant
      ``layout.datarevision``: a changed figure is a new chart, so its data never change while mounted.
    """
    d = _plain(fig.to_plotly_json())
    for key, value in layout.items():
        if value is None:
            d["layout"].pop(key, None)
        elif isinstance(value, dict):
            d["layout"][key] = {**(d["layout"].get(key) or {}), **value}
        else:
            d["layout"][key] = value
    flat_template.flatten(d)
    h = height(fig) if callable(height) else height
    d["layout"]["datarevision"] = 1
    if full_width:
        d["layout"]["width"] = CHART_WIDTH
    if h:
        d["layout"]["height"] = int(h)
    return d


def from_dict(d: dict) -> go.Figure:
    """A figure of a :func:`screen_dict` dict (taken over, not copied), unvalidated.

    Every value in the dict comes from a validated figure or template, so validating again only costs.
    """
    out = go.Figure(d, _validate=False)
    out.layout.template = None  # the Figure adds plotly's default template; sent as null (no template)
    return out


def for_screen(fig: go.Figure, height, full_width: bool, **layout) -> go.Figure:
    """:func:`from_dict` of :func:`screen_dict`: the figure as the browser should first draw it."""
    return from_dict(screen_dict(fig, height, full_width, **layout))


def _widen_left(layout: dict, left: int | None) -> None:
    """Set ``layout.margin.l`` to ``left`` (the margin plotly.js's automargin would compute) when wider."""
    if left is not None and left > layout["margin"]["l"]:
        layout["margin"]["l"] = left


def km_dict(fig: go.Figure) -> dict:
    """The screen dict of a Kaplan-Meier figure: untitled, at :data:`KM_HEIGHT`, drawn once.

    Its left margin is the one plotly.js's automargin gives the risk table's group names, and its
    ``meta`` values are one-item lists: plotly.js compares a ``meta`` object by identity, so
    Streamlit's deep copy would count as a change (nothing drawn reads ``meta``)."""
    d = screen_dict(fig, KM_HEIGHT, True, title=None, margin={"t": 90})
    lay = d["layout"]
    for trace in d["data"]:
        if isinstance(trace.get("meta"), dict):
            trace["meta"] = [trace["meta"]]
    if isinstance(lay.get("meta"), dict):
        lay["meta"] = [lay["meta"]]
    _widen_left(lay, label_margin.risk_table_margin(lay))
    return d


def love_dict(fig: go.Figure, height) -> dict:
    """The screen dict of the love plot: untitled, with the left margin its row labels need."""
    d = screen_dict(fig, height, True, title=None, margin={"t": 60})
    lay = d["layout"]
    _widen_left(lay, label_margin.left_margin(lay["yaxis"].get("categoryarray"), lay.get("font")))
    return d


def overlap_dict(fig: go.Figure, height) -> dict:
    """The screen dict of the propensity-score overlap figure (untitled)."""
    return screen_dict(fig, height, True, title=None, margin={"t": 70})
