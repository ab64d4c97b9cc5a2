"""The figures each page draws, built once per (figure, settings, table) and cached.

The arguments mirror ``pannet_core.export.result_figures`` so that the screen
shows exactly what the Report page exports.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from board import cached, state
from board.optional import core


@st.cache_data(show_spinner=False, max_entries=64)
def _figure(name: str, key: str, fp: str, _build: Callable):
    cached.CALLS[f"figure:{name}"] += 1
    return _build()


def _get(name: str, result, build: Callable):
    entry = state.table()
    return _figure(name, cached.stage_key(result.settings), entry.fingerprint if entry else "", build)


def km(result, which: str):
    """Kaplan-Meier figure of ``result.unmatched`` or ``result.matched`` (as exported)."""
    figures = core("figures")
    s = result.settings
    endpoint = figures.endpoint_name(s)
    horizons = tuple(h for h in s.survival.horizons if h == 5) or tuple(s.survival.horizons[-1:])
    title = f"{endpoint}, {'propensity-matched' if which == 'matched' else 'all analysed patients (unmatched)'}"
    return _get(f"km_{which}", result, lambda: figures.km_figure(
        getattr(result, which), title=title, risk_times=list(s.survival.risk_times) or None,
        horizon_marks=horizons, labels=figures.group_labels(s), endpoint=endpoint,
        conf_level=s.survival.conf_level))


def love(result):
    figures = core("figures")
    return _get("love_plot", result, lambda: figures.love_plot(result.balance,
                                                                threshold=result.settings.balance.threshold))


def overlap(result):
    figures = core("figures")
    return _get("ps_overlap", result, lambda: figures.ps_overlap(result.data,
                                                                  labels=figures.group_labels(result.settings)))


def forest(result):
    figures = core("figures")
    return _get("forest", result, lambda: figures.forest_plot(result.cox_models))


def consort(result):
    figures = core("figures")
    return _get("consort", result, lambda: figures.consort_figure(
        result.flow, result.n_treated, result.n_control, result.n_pairs,
        labels=figures.group_labels(result.settings),
        n_matched_control=int((~result.matched_data["treated"].astype(bool)).sum())))
