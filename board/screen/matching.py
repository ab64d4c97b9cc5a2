"""The Matching page's two charts for a new caliper, with the after-matching numbers written in.

A new caliper changes only the after-matching half of each chart: in the overlap figure the two
after-matching bar traces and their "n = ..." notes, in the love plot the after-matching markers,
the connectors to them and the x-axis end.  Building the figures with plotly (``make_subplots``,
trace validation) is the slow part of a change, so each screen figure is built once for every
set of numbers a caliper does not change, and a new caliper's numbers are written into a copy
of its dict.

The built figure is reused only when everything else it shows is equal: it is cached on those
numbers themselves (score range, before-matching counts, row labels, SMDs before matching,
threshold ...), computed by the same functions the figure builders use
(``figures_balance.overlap_numbers`` / ``love_numbers``).  ``tests/test_matching_figures.py``
checks that the result equals a figure built from scratch.  Exports never come from here.
"""
from __future__ import annotations

import copy
import json

import plotly.graph_objects as go
import streamlit as st

from board.screen import layout
from pannet_core import figures
from pannet_core.figures import balance as figures_balance
from pannet_core.figures.style import DEFAULT_LABELS


@st.cache_resource(show_spinner=False, max_entries=16)
def _base(kind: str, key: str, _build) -> dict:
    """The screen dict built for the first result with these unchanging numbers (shared: copy it)."""
    return _build()


def overlap(result, build_dict) -> go.Figure:
    """The overlap screen figure of ``result``; ``build_dict()`` builds its screen dict when none is cached."""
    labels = {**DEFAULT_LABELS, **figures.group_labels(result.settings)}
    nums = figures_balance.overlap_numbers(result.data)
    before = [[p["group"], p["counts"].tolist(), p["n"]] for p in nums["panels"] if p["col"] == 1]
    key = json.dumps([labels, nums["lo"], nums["hi"], nums["top"], before, figures.is_synthetic(result)])
    d = copy.deepcopy(_base("overlap", key, build_dict))
    notes = {a["yanchor"]: a for a in d["layout"]["annotations"] if a.get("xref") == "x2 domain"}
    for trace, panel in zip(d["data"], nums["panels"]):
        if panel["col"] != 2:
            continue
        counts = panel["counts"]
        trace["y"] = (panel["sign"] * counts).tolist()
        trace["customdata"] = counts.tolist()
        trace["meta"]["n"] = panel["n"]
        note = notes["top" if panel["sign"] > 0 else "bottom"]
        note["text"] = figures_balance.overlap_count_text(labels, panel["group"], panel["n"])
    return layout.from_dict(d)


def love(result, build_dict) -> go.Figure:
    """The love-plot screen figure of ``result``; ``build_dict()`` builds its screen dict when none is cached."""
    threshold = result.settings.balance.threshold
    nums = figures_balance.love_numbers(result.balance, threshold)
    b = nums["table"]
    key = json.dumps([nums["labels"], b["smd_before"].tolist(), nums["paired"], threshold,
                      figures.is_synthetic(result)])
    d = copy.deepcopy(_base("love", key, build_dict))
    connector, _, after = d["data"]
    connector["x"] = nums["connector_x"]
    after["x"] = b["smd_after"].to_numpy(float).tolist()
    d["layout"]["xaxis"]["range"] = [0, nums["xmax"]]
    return layout.from_dict(d)
