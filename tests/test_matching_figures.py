"""The Matching page's charts with a new caliper's numbers written in equal the charts built from scratch."""
import dataclasses

import plotly.io
import pytest

from board import figs
from board.screen import layout
from board.screen import matching as matching_figures
from pannet_core import pipeline

CHANGES = [dict(caliper=0.1), dict(caliper=0.02), dict(caliper=0.005), dict(caliper=None),
           dict(caliper=0.05, ratio=2), dict(caliper=0.05, replace=True),
           dict(caliper=0.2, caliper_scale="ps_absolute")]


def _screen(kind, result):
    """What ``figs.<kind>(..., screen=True)`` draws, without its cache."""
    return getattr(matching_figures, kind)(result, lambda: getattr(figs, f"{kind}_screen_dict")(result))


def _results(fitted_demo, changes, section="matching"):
    s, prepared, fit = fitted_demo
    return [pipeline.analyse(s.with_values(section, **c), prepared, fit) for c in changes]


@pytest.mark.parametrize("kind", ["overlap", "love"])
def test_written_in_numbers_equal_a_figure_built_from_scratch(fitted_demo, kind, monkeypatch):
    matching_figures._base.clear()
    scratch = getattr(figs, f"{kind}_screen_dict")
    built = []
    monkeypatch.setattr(figs, f"{kind}_screen_dict", lambda r: built.append(r) or scratch(r))
    sent = set()
    for result in _results(fitted_demo, CHANGES):
        got, want = _screen(kind, result), layout.from_dict(scratch(result))
        assert got.to_plotly_json() == want.to_plotly_json()
        text = plotly.io.to_json(got, validate=False)  # what Streamlit sends
        assert text == plotly.io.to_json(want, validate=False)
        sent.add(text)
    assert len(sent) == len(CHANGES)  # every change really changed the chart ...
    assert len(built) == 1  # ... and all were written into one built figure


@pytest.mark.parametrize("kind", ["overlap", "love"])
def test_a_built_figure_is_not_reused_for_other_unchanging_numbers(fitted_demo, kind, monkeypatch):
    """Numbers a caliper never changes (here: other scores; another threshold) get their own figure."""
    matching_figures._base.clear()
    result = _results(fitted_demo, [dict(caliper=0.03)])[0]
    other_scores = result.data.copy()
    other_scores.loc[other_scores.index[:7], "score"] = 0.97
    other_balance = result.balance.copy()
    other_balance["smd_before"] = other_balance["smd_before"] * 1.5
    variants = [result, dataclasses.replace(result, data=other_scores, balance=other_balance),
                _results(fitted_demo, [dict(threshold=0.2)], "balance")[0]]
    for r in variants:
        got = _screen(kind, r)
        assert got.to_plotly_json() == layout.from_dict(getattr(figs, f"{kind}_screen_dict")(r)).to_plotly_json()
