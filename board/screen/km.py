"""The Survival page's Kaplan-Meier charts for a new confidence-interval type, with its bands written in.

A new "Confidence interval" type (plain / log / log-log) changes only the bounds of each curve's
confidence interval.  In a Kaplan-Meier figure (``pannet_core.figures.km``) those show in two
kinds of traces: the two band traces of each group (``meta.role`` "ci": upper, then lower) and
the group's marks at the horizons (role "horizon": error bars and hover texts).  The curves,
censoring marks, numbers at risk, median lines, P value and hazard ratio are the same for every
type.  Building a figure with plotly (``make_subplots``, trace validation) is the slow part of a
change, so each screen figure is built once for every settings and table that differ only in the
CI type, and a new type's bands and marks are written into a copy of its dict, computed by the
functions the figure builder uses (``figures_km.band_xy`` / ``horizon_points``).

The same built figure serves the "Show confidence bands" toggle: without bands the figure is
the one with bands minus the four band traces (nothing else in it depends on the toggle).

The built figure is reused only for a result of the same table and the same settings apart from
``survival.ci`` (everything a figure shows is computed from those two).
``tests/test_km_figures.py`` checks that the result equals a figure built from scratch for every
CI type, with and without bands.  Exports never come from here.
"""
from __future__ import annotations

import copy

import plotly.graph_objects as go
import streamlit as st

from board import cached, state
from board.screen import layout
from pannet_core.figures import km as figures_km
from pannet_core.figures.style import DEFAULT_LABELS
from pannet_core.report import export


@st.cache_resource(show_spinner=False, max_entries=16)
def _base(which: str, key: str, fp: str, _build) -> dict:
    """The screen dict (with bands) built for the first result of these settings but the CI type (shared: copy it)."""
    return _build()


def _role(trace: dict) -> dict:
    meta = trace.get("meta")
    meta = meta[0] if isinstance(meta, list) and meta else meta
    return meta if isinstance(meta, dict) else {}


def write_ci(d: dict, result, which: str) -> dict:
    """Write the confidence bands and horizon marks of ``result.<which>`` into the screen dict ``d`` (in place)."""
    comp = getattr(result, which)
    opts = export.km_figure_options(result, which)
    labels = {**DEFAULT_LABELS, **(opts["labels"] or {})}
    times = figures_km.risk_times_for(comp, opts["risk_times"])
    for group in figures_km.GROUPS:
        km = getattr(comp, f"km_{group}")
        mine = [(t, _role(t).get("role")) for t in d["data"] if _role(t).get("group") == group]
        bands = [t for t, role in mine if role == "ci"]
        if bands:
            upper, lower = bands
            x, hi, lo = figures_km.band_xy(km)
            upper["x"], upper["y"] = x.tolist(), hi.tolist()
            lower["x"], lower["y"] = x.tolist(), lo.tolist()
        for t in (t for t, role in mine if role == "horizon"):
            hx, hy, up, dn, txt = figures_km.horizon_points(km, group, labels=labels,
                                                            horizon_marks=opts["horizon_marks"], times=times)
            t["x"], t["y"], t["text"] = hx, hy, txt
            t["error_y"]["array"], t["error_y"]["arrayminus"] = up, dn
    return d


def screen_dict(result, which: str, show_ci: bool, build_with_bands) -> dict:
    """:func:`layout.km_dict` of ``result.<which>`` (not shared), from the cached figure of its settings but CI type.

    ``build_with_bands()`` builds the figure with confidence bands, when none is cached."""
    entry = state.table()
    base = _base(which, cached.key_but_ci(result.settings), entry.fingerprint if entry else "",
                 lambda: layout.km_dict(build_with_bands()))
    d = dict(base, data=[t for t in base["data"] if show_ci or _role(t).get("role") != "ci"])
    return write_ci(copy.deepcopy(d), result, which)


def km(result, which: str, show_ci: bool, build_with_bands) -> go.Figure:
    """The screen figure of :func:`screen_dict`."""
    return layout.from_dict(screen_dict(result, which, show_ci, build_with_bands))
