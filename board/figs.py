"""The figures each page draws, built once per (figure, settings, table) and cached.

The arguments mirror ``pannet_core.export.result_figures`` so that the screen
shows exactly what the Report page exports.  :func:`show` draws a figure at
full width with a height that keeps its designed aspect ratio and without
Streamlit's chart theme (which would shrink the projector-sized fonts).
"""
from __future__ import annotations

from typing import Callable

import plotly.graph_objects as go
import streamlit as st

from board import cached, state
from pannet_core import export, figures, figures_style

SHOW_CI = "pnb_show_ci"  # display choice (not part of the analysis settings): draw CI bands on KM plots
SCREEN_WIDTH = 1250      # CSS px of the main column on a 1600 px wide screen (wide layout)


@st.cache_resource(show_spinner=False, max_entries=128)
def _figure(name: str, key: str, fp: str, _build: Callable):
    cached.CALLS[f"figure:{name}"] += 1
    return _build()


def _get(name: str, result, build: Callable):
    """The cached figure ``name`` of ``result`` (shared, never modify it: use :func:`on_screen`)."""
    entry = state.table()
    return _figure(name, cached.stage_key(result.settings), entry.fingerprint if entry else "", build)


def on_screen(name: str, result, build: Callable, *, margin_t: int = 70):
    """The figure without its title (the page's subheader carries it), cached like the figure itself."""
    def strip():
        return build().update_layout(title=None, margin_t=margin_t)  # build() makes a new figure
    return _get(f"{name}:screen", result, strip)


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


def _km_builder(result, which: str, ci: bool) -> Callable:
    s = result.settings
    endpoint = figures.endpoint_name(s)
    horizons = tuple(h for h in s.survival.horizons if h == 5) or tuple(s.survival.horizons[-1:])
    title = f"{endpoint}, {'propensity-matched' if which == 'matched' else 'all analysed patients (unmatched)'}"
    return lambda: figures.km_figure(
        getattr(result, which), title=title, risk_times=list(s.survival.risk_times) or None, show_ci=ci,
        horizon_marks=horizons, labels=figures.group_labels(s), endpoint=endpoint,
        conf_level=s.survival.conf_level)


def km(result, which: str, ci: bool | None = None, *, screen: bool = False):
    """Kaplan-Meier figure of ``result.unmatched`` or ``result.matched`` (as exported; ``screen``: untitled)."""
    ci = show_ci() if ci is None else ci
    build = _km_builder(result, which, ci)
    name = f"km_{which}_ci{int(ci)}"
    return on_screen(name, result, build, margin_t=90) if screen else _get(name, result, build)


def love(result, *, screen: bool = False):
    """Love plot of ``result.balance`` (``screen``: without the title)."""
    build = lambda: figures.love_plot(result.balance, threshold=result.settings.balance.threshold)  # noqa: E731
    return on_screen("love_plot", result, build, margin_t=60) if screen else _get("love_plot", result, build)


def overlap(result, *, screen: bool = False):
    """Propensity-score overlap of ``result.data`` (``screen``: without the title)."""
    build = lambda: figures.ps_overlap(result.data, labels=figures.group_labels(result.settings))  # noqa: E731
    return on_screen("ps_overlap", result, build) if screen else _get("ps_overlap", result, build)


def sensitivity_km(result, ci: bool | None = None):
    """Kaplan-Meier figure of the sensitivity analysis (``result.sensitivity``)."""
    ci = show_ci() if ci is None else ci
    return _get(f"km_sensitivity_ci{int(ci)}", result, lambda: figures.km_figure(
        result.sensitivity, labels=figures.group_labels(result.settings), show_ci=ci))


def forest(result):
    return _get("forest", result, lambda: figures.forest_plot(result.cox_models))


def consort(result):
    return _get("consort", result, lambda: figures.consort_figure(
        result.flow, result.n_treated, result.n_control, result.n_pairs,
        labels=figures.group_labels(result.settings),
        n_matched_control=int((~result.matched_data["treated"].astype(bool)).sum())))
