"""The figures each page draws, built once per (figure, settings, table) and cached.

The arguments mirror ``pannet_core.report.export.result_figures`` so that the screen
shows exactly what the Report page exports.  :func:`show` draws a figure at
full width with a height that keeps its designed aspect ratio and without
Streamlit's chart theme (which would shrink the projector-sized fonts).
"""
from __future__ import annotations

import base64
from typing import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from board import cached, flat_template, label_margin, profile, state
from pannet_core.report import export
from pannet_core import figures
from pannet_core.figures import style as figures_style

SHOW_CI = "pnb_show_ci"  # display choice (not part of the analysis settings): draw CI bands on KM plots
SCREEN_WIDTH = 1250      # CSS px of the main column on a 1600 px wide screen (wide layout)
KM_HEIGHT = 680          # px of the Kaplan-Meier plots on the Survival page
CHART_WIDTH = 1120       # px Streamlit gives a full-width chart in a 1600 px window, sidebar open (measured)


@st.cache_resource(show_spinner=False, max_entries=128)
def _figure(name: str, key: str, fp: str, _build: Callable):
    cached.CALLS[f"figure:{name}"] += 1
    with profile.timed(f"figure:{name}"):
        return _build()


def _get(name: str, result, build: Callable):
    """The cached figure ``name`` of ``result`` (shared, never modify it: use :func:`screen_dict`)."""
    entry = state.table()
    return _figure(name, cached.stage_key(result.settings), entry.fingerprint if entry else "", build)


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


def _for_screen(fig: go.Figure, height, full_width: bool, **layout) -> go.Figure:
    """``fig`` with ``layout`` changes, laid out for the browser's first draw; drawn the same.

    Streamlit remounts a chart whose figure changed and then updates it twice: once when it has
    measured the column's width, and once with a deep copy of the same figure (its theme step).
    Each update that Plotly.react takes for a change draws the whole chart again.  So:

    * ``layout.width`` = :data:`CHART_WIDTH` for a chart across the main column (``full_width``):
      without a layout width the first draw is hidden, at no width, and the chart is drawn again
      at the measured width.  With the width of the usual window the first draw is the final
      one; in a window of another width the chart is redrawn at the measured width as before
      (its first draw shows at 1120 px for that moment).
    * ``layout.height`` = its on-screen height (the same for the height).
    * For the copy: its template written into it (:mod:`board.flat_template`: a copied template
      counts as changed), plain lists instead of numpy arrays (plotly would send base64 objects,
      which count as changed too), and a constant ``layout.datarevision``, which tells
      Plotly.react that equal arrays under new names are the same data.  The data never change
      while a chart is mounted (a changed figure is a new chart), so a constant is correct;
      nothing drawn depends on it.

    The new figure is made from the dict without plotly's validation: every value in it comes
    from a validated figure or template (validating it again would cost more than the rest of
    the page's figure work).
    """
    return from_dict(screen_dict(fig, height, full_width, **layout))


def screen_dict(fig: go.Figure, height, full_width: bool, **layout) -> dict:
    """The dict of :func:`_for_screen`'s figure (plain lists and values; not shared)."""
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


def _widen_left(layout: dict, left: int | None) -> None:
    """Set ``layout.margin.l`` to ``left`` (the margin plotly.js's automargin would compute) when wider."""
    if left is not None and left > layout["margin"]["l"]:
        layout["margin"]["l"] = left


def from_dict(d: dict) -> go.Figure:
    """A figure of a :func:`screen_dict` dict (taken over, not copied), unvalidated (see :func:`_for_screen`)."""
    out = go.Figure(d, _validate=False)
    out.layout.template = None  # the Figure adds plotly's default template; sent as null (no template)
    return out


def sized(name: str, result, build: Callable, height, *, full_width: bool = False):
    """The figure with ``layout.height`` set to the height the page draws it at, cached.

    Streamlit's chart takes its height from the page (``st.plotly_chart(height=...)``), but a figure
    without a layout height is first drawn at Plotly's default 450 px and redrawn at the right height
    once the chart has measured its box: one full Plotly draw too many (and a visible jump) after
    every change.  With the height in the layout the first draw is already at the right height
    (Plotly may still redraw once to fit its automatic margins, as before).  The final picture is the
    same; exported figures are never changed (this is a separate cached copy).
    """
    return _get(f"{name}:sized", result, lambda: _for_screen(build(), height, full_width))


def show_ci() -> bool:
    """Whether the Kaplan-Meier plots draw confidence bands (default: yes)."""
    return bool(st.session_state.get(SHOW_CI, True))


def screen_height(fig: go.Figure, width: int = SCREEN_WIDTH, *, lo: int = 420, hi: int = 1400) -> int:
    """Height in px that keeps ``fig``'s designed aspect ratio at ``width`` px."""
    w, h = figures_style.export_size(fig)
    return int(min(max(width * h / w, lo), hi))


def show(fig: go.Figure, key: str, *, filename: str | None = None, height: int | None = None,
         container=None) -> None:
    """Draw a figure as designed: full width, its own fonts, its aspect ratio, PNG button named ``filename``."""
    target = container if container is not None else st
    target.plotly_chart(fig, width="stretch", height=height or screen_height(fig), key=key, theme=None,
                        config=export.plotly_config(filename or key, fig))


def km_builder(result, which: str, ci: bool) -> Callable:
    return lambda: export.km_figure_of(result, which, show_ci=ci)


def km(result, which: str, ci: bool | None = None, *, screen: bool = False):
    """Kaplan-Meier figure of ``result.unmatched``, ``.matched`` or ``.sensitivity`` (as exported; ``screen``: untitled).

    The screen figure of another CI type or band toggle is the cached one of the same settings with
    the new bands written in (:mod:`board.km_figures`); it equals :func:`km_screen_dict`'s."""
    ci = show_ci() if ci is None else ci
    name = f"km_{which}_ci{int(ci)}"
    if screen:
        from board import km_figures  # it builds on this module
        return _get(f"{name}:screen", result, lambda: km_figures.km(result, which, ci))
    return _get(name, result, km_builder(result, which, ci))


def km_screen_dict(build: Callable) -> dict:
    """The dict of a Kaplan-Meier figure as :func:`km` draws it (untitled, at :data:`KM_HEIGHT`; not shared).

    Its left margin is the one plotly.js's automargin gives the risk table's group names
    (:func:`board.label_margin.risk_table_margin`), and its ``meta`` values are one-item lists,
    so the browser draws it once instead of three times; the picture is the same."""
    d = screen_dict(build(), KM_HEIGHT, True, title=None, margin={"t": 90})
    lay = d["layout"]
    # ``meta`` (the traces' roles, the layout's export size) in one-item lists: plotly.js compares a
    # ``meta`` object by identity, so Streamlit's deep copy after mounting would make Plotly.react
    # draw the whole chart again; a list of the same value counts as unchanged under a constant
    # ``datarevision``.  Nothing drawn reads ``meta`` (no template string uses %{meta}).
    for trace in d["data"]:
        if isinstance(trace.get("meta"), dict):
            trace["meta"] = [trace["meta"]]
    if isinstance(lay.get("meta"), dict):
        lay["meta"] = [lay["meta"]]
    _widen_left(lay, label_margin.risk_table_margin(lay))
    return d


def matching_height(fig: go.Figure) -> int:
    """On-screen height of the overlap and love plots of the Matching page."""
    return screen_height(fig) - 40


def love(result, *, screen: bool = False):
    """Love plot of ``result.balance`` (``screen``: without the title, at :func:`matching_height`)."""
    if screen:
        from board import matching_figures  # it builds on this module
        return _get("love_plot:screen", result, lambda: matching_figures.love(result))
    return _get("love_plot", result, love_builder(result))


def love_builder(result) -> Callable:
    return lambda: figures.love_plot(result.balance, threshold=result.settings.balance.threshold)


def love_screen_dict(result) -> dict:
    """The dict of the love plot as :func:`love` draws it, built from scratch (uncached, not shared).

    Its left margin is the one plotly.js's automargin gives the row labels (:mod:`board.label_margin`),
    so the browser draws it once instead of twice; the picture is the same."""
    d = screen_dict(love_builder(result)(), matching_height, True, title=None, margin={"t": 60})
    lay = d["layout"]
    _widen_left(lay, label_margin.left_margin(lay["yaxis"].get("categoryarray"), lay.get("font")))
    return d


def overlap(result, *, screen: bool = False):
    """Propensity-score overlap of ``result.data`` (``screen``: without the title, at :func:`matching_height`)."""
    if screen:
        from board import matching_figures  # it builds on this module
        return _get("ps_overlap:screen", result, lambda: matching_figures.overlap(result))
    return _get("ps_overlap", result, overlap_builder(result))


def overlap_builder(result) -> Callable:
    return lambda: figures.ps_overlap(result.data, labels=figures.group_labels(result.settings))


def overlap_screen_dict(result) -> dict:
    """The dict of the overlap figure as :func:`overlap` draws it, built from scratch (uncached, not shared)."""
    return screen_dict(overlap_builder(result)(), matching_height, True, title=None, margin={"t": 70})


def sensitivity_km(result, ci: bool | None = None, *, screen: bool = False):
    """Kaplan-Meier figure of the sensitivity analysis (``result.sensitivity``), as exported
    (``screen``: untitled, at KM_HEIGHT)."""
    return km(result, "sensitivity", ci, screen=screen)


def forest_height(fig: go.Figure) -> int:
    """On-screen height of the forest plot (Survival page, in a 520 px wide column)."""
    return screen_height(fig, 520)


def forest(result, *, screen: bool = False):
    build = lambda: figures.forest_plot(result.cox_models)  # noqa: E731
    return sized("forest", result, build, forest_height) if screen else _get("forest", result, build)


def consort_height(fig: go.Figure) -> int:
    """On-screen height of the CONSORT diagram (Eligibility page)."""
    return screen_height(fig, 1150, hi=1600)


def consort(result, *, screen: bool = False):
    build = lambda: figures.consort_figure(  # noqa: E731
        result.flow, result.n_treated, result.n_control, result.n_pairs,
        labels=figures.group_labels(result.settings),
        n_matched_control=int((~result.matched_data["treated"].astype(bool)).sum()))
    return (sized("consort", result, build, consort_height, full_width=True) if screen
            else _get("consort", result, build))
