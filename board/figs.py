"""The figures each page draws, built once per (figure, settings, table) and cached.

The arguments mirror ``pannet_core.report.export.result_figures`` so that the screen
shows exactly what the Report page exports.  :func:`show` draws a figure at
full width with a height that keeps its designed aspect ratio and without
Streamlit's chart theme (which would shrink the projector-sized fonts).
"""
from __future__ import annotations

from typing import Callable

import plotly.graph_objects as go
import streamlit as st

from board import cached, profile, state
from board.screen import km as screen_km
from board.screen import layout
from board.screen import matching as screen_matching
from board.screen.layout import CHART_WIDTH, KM_HEIGHT  # noqa: F401  (the sizes pages draw at)
from pannet_core import figures
from pannet_core.figures import style as figures_style
from pannet_core.report import export

SHOW_CI = "pnb_show_ci"  # display choice (not part of the analysis settings): draw CI bands on KM plots
SCREEN_WIDTH = 1250      # CSS px of the main column on a 1600 px wide screen (wide layout)


@st.cache_resource(show_spinner=False, max_entries=128)
def _figure(name: str, key: str, fp: str, _build: Callable):
    cached.CALLS[f"figure:{name}"] += 1
    with profile.timed(f"figure:{name}"):
        return _build()


def _get(name: str, result, build: Callable):
    """The cached figure ``name`` of ``result`` (shared, never modify it: the screen copies are separate entries)."""
    entry = state.table()
    return _figure(name, cached.stage_key(result.settings), entry.fingerprint if entry else "", build)


def sized(name: str, result, build: Callable, height, *, full_width: bool = False):
    """The figure laid out for the screen at the height the page draws it at, cached (exports never change)."""
    return _get(f"{name}:sized", result, lambda: layout.for_screen(build(), height, full_width))


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
    """Kaplan-Meier figure of ``result.unmatched``, ``.matched`` or ``.sensitivity`` (``screen``: untitled).

    The screen figure of another CI type or band toggle is the cached one of the same settings with
    the new bands written in (:mod:`board.screen.km`); it equals :func:`km_screen_dict`'s."""
    ci = show_ci() if ci is None else ci
    name = f"km_{which}_ci{int(ci)}"
    if screen:
        return _get(f"{name}:screen", result, lambda: screen_km.km(result, which, ci, km_builder(result, which, True)))
    return _get(name, result, km_builder(result, which, ci))


def km_screen_dict(build: Callable) -> dict:
    """The dict of a Kaplan-Meier figure as :func:`km` draws it, built from scratch (not shared)."""
    return layout.km_dict(build())


def matching_height(fig: go.Figure) -> int:
    """On-screen height of the overlap and love plots of the Matching page."""
    return screen_height(fig) - 40


def love(result, *, screen: bool = False):
    """Love plot of ``result.balance`` (``screen``: without the title, at :func:`matching_height`)."""
    if screen:
        return _get("love_plot:screen", result, lambda: screen_matching.love(result, lambda: love_screen_dict(result)))
    return _get("love_plot", result, love_builder(result))


def love_builder(result) -> Callable:
    return lambda: figures.mark_synthetic(
        figures.love_plot(result.balance, threshold=result.settings.balance.threshold), result)


def love_screen_dict(result) -> dict:
    """The dict of the love plot as :func:`love` draws it, built from scratch (uncached, not shared)."""
    return layout.love_dict(love_builder(result)(), matching_height)


def overlap(result, *, screen: bool = False):
    """Propensity-score overlap of ``result.data`` (``screen``: without the title, at :func:`matching_height`)."""
    if screen:
        return _get("ps_overlap:screen", result,
                    lambda: screen_matching.overlap(result, lambda: overlap_screen_dict(result)))
    return _get("ps_overlap", result, overlap_builder(result))


def overlap_builder(result) -> Callable:
    return lambda: figures.mark_synthetic(
        figures.ps_overlap(result.data, labels=figures.group_labels(result.settings)), result)


def overlap_screen_dict(result) -> dict:
    """The dict of the overlap figure as :func:`overlap` draws it, built from scratch (uncached, not shared)."""
    return layout.overlap_dict(overlap_builder(result)(), matching_height)


def sensitivity_km(result, ci: bool | None = None, *, screen: bool = False):
    """Kaplan-Meier figure of the sensitivity analysis (``result.sensitivity``), as exported
    (``screen``: untitled, at KM_HEIGHT)."""
    return km(result, "sensitivity", ci, screen=screen)


def forest_height(fig: go.Figure) -> int:
    """On-screen height of the forest plot (Survival page, in a 520 px wide column)."""
    return screen_height(fig, 520)


def forest(result, *, screen: bool = False):
    build = lambda: figures.mark_synthetic(figures.forest_plot(result.cox_models), result)  # noqa: E731
    return sized("forest", result, build, forest_height) if screen else _get("forest", result, build)


def consort_height(fig: go.Figure) -> int:
    """On-screen height of the CONSORT diagram (Eligibility page)."""
    return screen_height(fig, 1150, hi=1600)


def consort(result, *, screen: bool = False):
    build = lambda: figures.mark_synthetic(figures.consort_figure(  # noqa: E731
        result.flow, result.n_treated, result.n_control, result.n_sets,
        labels=figures.group_labels(result.settings),
        n_matched_control=result.n_matched_control), result)
    return (sized("consort", result, build, consort_height, full_width=True) if screen
            else _get("consort", result, build))
