"""Cached wrappers of the three pipeline stages.

Each stage is cached on the JSON of exactly the settings sections it depends
on plus the table's fingerprint, so that moving the caliper re-runs matching
and outcomes (stage 3) but never refits the propensity model (stage 2):

=========  ==================================================================
stage      cache key
=========  ==================================================================
prepare    study, eligibility, columns, column_map, propensity, cox + table
fit        the same (the propensity model only sees the prepared cohort)
analyse    the whole settings + table; computed from the analysis of the same
           settings but ``survival.ci`` (cached on :func:`key_but_ci` + table)
           by ``pipeline.with_ci_type`` when only the CI type differs
=========  ==================================================================

The objects themselves (settings, table, earlier stages) are passed as
underscore arguments, which Streamlit does not hash.  The stages use
``st.cache_resource``: a hit hands back the stored (frozen) result object
instead of unpickling a copy, which keeps a rerun cheap when many sessions
move their caliper at once.  Entries are keyed by the table's content hash,
so a session can only ever be given a result computed from an identical
table and identical settings; nothing is written to disk.  :data:`CALLS` counts
real (uncached) computations; the tests use it to prove a caliper move does
not refit the propensity model.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pandas as pd
import streamlit as st

from board import fmt, state, tables
from pannet_core import pipeline
from pannet_core.errors import PanNetError
from pannet_core.report import export
from pannet_core.settings import Settings

CALLS: Counter = Counter()

STAGE1_SECTIONS = ("study", "eligibility", "columns", "column_map", "propensity", "cox")


def stage_key(settings: Settings, sections: tuple[str, ...] | None = None) -> str:
    """JSON text of the given settings sections (all when ``None``), the cache key of a stage."""
    d = settings.to_dict()
    d.pop("name", None)
    if sections is not None:
        d = {k: d.get(k) for k in sections}
    return json.dumps(d, sort_keys=True, default=str)


@st.cache_resource(show_spinner=False, max_entries=32)
def _prepare(key: str, fp: str, _settings: Settings, _table: pd.DataFrame):
    CALLS["prepare"] += 1
    return pipeline.prepare(_settings, _table)


@st.cache_resource(show_spinner=False, max_entries=32)
def _fit(key: str, fp: str, _settings: Settings, _prepared):
    CALLS["fit"] += 1
    return pipeline.fit_scores(_settings, _prepared)


def key_but_ci(settings: Settings) -> str:
    """:func:`stage_key` of ``settings`` without ``survival.ci``: what is the same for every CI type."""
    return json.dumps(pipeline.settings_but_ci(settings), sort_keys=True, default=str)


@st.cache_resource(show_spinner=False, max_entries=96)
def _analyse_any_ci(key: str, fp: str, _settings: Settings, _prepared, _fit):
    """Stage 3 of the first settings asked for with these settings but the CI type."""
    CALLS["analyse"] += 1
    return pipeline.analyse(_settings, _prepared, _fit)


@st.cache_resource(show_spinner=False, max_entries=96)
def _analyse(key: str, fp: str, _settings: Settings, _any_ci):
    result = _any_ci()
    if result.settings.survival.ci == _settings.survival.ci:
        return result
    CALLS["analyse_ci"] += 1
    return pipeline.with_ci_type(result, _settings)  # only the KM limits are recomputed


def prepare(settings: Settings, entry: state.TableEntry):
    """Stage 1 (eligibility, time zero, covariates), cached."""
    return _prepare(stage_key(settings, STAGE1_SECTIONS), entry.fingerprint, settings, entry.frame)


def fit(settings: Settings, entry: state.TableEntry):
    """Stage 2 (propensity model), cached; refits only when the stage-1 sections change."""
    prepared = prepare(settings, entry)
    return _fit(stage_key(settings, STAGE1_SECTIONS), entry.fingerprint, settings, prepared)


def analyse(settings: Settings, entry: state.TableEntry):
    """Stage 3 (matching, balance, survival), cached on the whole settings.

    A new confidence-interval type recomputes only the Kaplan-Meier limits of the cached
    analysis of the same settings but the type (``pipeline.with_ci_type``)."""
    prepared = prepare(settings, entry)
    scores = _fit(stage_key(settings, STAGE1_SECTIONS), entry.fingerprint, settings, prepared)
    fp = entry.fingerprint
    return _analyse(stage_key(settings), fp, settings,
                    lambda: _analyse_any_ci(key_but_ci(settings), fp, settings, prepared, scores))


def current_result() -> tuple[Any, str | None]:
    """The analysis of the session's settings and table.

    Returns
    -------
    (AnalysisResult or None, str or None)
        The result, or ``None`` and the PanNetError's message (what is wrong
        and how to fix it).
    """
    entry = state.table()
    if entry is None:
        return None, "No patient table is loaded. Upload a file on the Data page."
    try:
        return analyse(state.settings(), entry), None
    except PanNetError as exc:
        return None, exc.message


def current_prepared() -> tuple[Any, str | None]:
    """Stage 1 only (eligibility flow even when matching fails)."""
    entry = state.table()
    if entry is None:
        return None, "No patient table is loaded. Upload a file on the Data page."
    try:
        return prepare(state.settings(), entry), None
    except PanNetError as exc:
        return None, exc.message


def result_or_stop():
    """The current result; otherwise show the problem (``st.error``/``st.info``) and stop the page."""
    result, problem = current_result()
    if result is None:
        st.error(fmt.md_text(problem))
        st.stop()
    return result


@st.cache_resource(show_spinner=False, max_entries=64)
def _table1_display(content: str, labels_key: str, _table, _labels):
    return tables.table1_display(_table, _labels)


def table1_display(table1: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """``tables.table1_display``, cached on the table's content (Table 1 before matching does not
    change with the caliper).  Shared between sessions: never modify the returned frame."""
    return _table1_display(state.fingerprint(table1), json.dumps(labels, sort_keys=True), table1, labels)


@st.cache_data(show_spinner=False, max_entries=64)
def png_bytes(name: str, key: str, fp: str, _fig, width: int = 1600, height: int = 1000) -> bytes:
    """A figure as PNG (kaleido), cached on its name, the settings and the table."""
    return export.figure_png(_fig, width=width, height=height)


@st.cache_data(show_spinner=False, max_entries=16)
def pdf_bytes(name: str, key: str, fp: str, _fig, width: int = 1600, height: int = 1000) -> bytes:
    """A figure as PDF, cached like :func:`png_bytes`."""
    return export.figure_pdf(_fig, width=width, height=height)


@st.cache_resource(show_spinner=False, max_entries=16)
def _figures(key: str, fp: str, _result) -> dict:
    CALLS["figures"] += 1
    return export.result_figures(_result)


def result_figures(result) -> dict:
    """File stem -> plotly figure for every figure of ``result`` (export.result_figures), cached."""
    entry = state.table()
    return _figures(stage_key(result.settings), entry.fingerprint if entry else "", result)
