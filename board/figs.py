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


@st.cache_data(show_spinner=False, max_entries=64)
def _figure(name: str, key: str, fp: str, _build: Callable):
    cached.CALLS[f"figure:{name}"] += 1
    return _build()


def _get(name: str, result, build: Callable):
    entry = state.table()
    return _figure(name, cached.stage_key(result.settings), entry.fingerprint if entry else "", build)


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


def km(result, which: str, ci: bool | None = None):
    """Kaplan-Meier figure of ``result.unmatched`` or ``result.matched`` (as exported)."""
    ci = show_ci() if ci is None else ci
    s = result.settings
    endpoint = figures.endpoint_name(s)
    horizons = tuple(h for h in s.survival.horizons if h == 5) or tuple(s.survival.horizons[-1:])
    title = f"{endpoint}, {'propensity-matched' if which == 'matched' else 'all analysed patients (unmatched)'}"
    return _get(f"km_{which}_ci{int(ci)}", result, lambda: figures.km_figure(
        getattr(result, which), title=title, risk_times=list(s.survival.risk_times) or None, show_ci=ci,
        horizon_marks=horizons, labels=figures.group_labels(s), endpoint=endpoint,
        conf_level=s.survival.conf_level))


def love(result):
    return _get("love_plot", result, lambda: figures.love_plot(result.balance,
                                                                threshold=result.settings.balance.threshold))


def overlap(result):
    return _get("ps_overlap", result, lambda: figures.ps_overlap(result.data,
                                                                  labels=figures.group_labels(result.settings)))


def forest(result):
    return _get("forest", result, lambda: figures.forest_plot(result.cox_models))


def consort(result):
    return _get("consort", result, lambda: figures.consort_figure(
        result.flow, result.n_treated, result.n_control, result.n_pairs,
        labels=figures.group_labels(result.settings),
        n_matched_control=int((~result.matched_data["treated"].astype(bool)).sum())))
