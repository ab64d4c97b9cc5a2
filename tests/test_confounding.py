"""E-value and Rosenbaum bounds against R (script: tests/data/r_robust/make_reference.R)."""
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.stats.confounding import e_value, outcome_is_rare, rosenbaum, rosenbaum_gamma, rosenbaum_p

HERE = Path(__file__).parent / "data" / "r_robust"
REF = json.loads((HERE / "reference.json").read_text())


@pytest.mark.parametrize("case", REF["evalue"], ids=lambda c: f"{c['hr']}-{c['lo']}-{c['hi']}-{c['rare']}")
def test_e_value_matches_r_formulas(case):
    """R: ev_point()/ev() in make_reference.R, the EValue::evalues.HR formulas."""
    got = e_value(case["hr"], case["lo"], case["hi"], rare=case["rare"])
    assert got["point"] == pytest.approx(case["point"], rel=1e-12)
    assert got["ci"] == pytest.approx(case["ci"], rel=1e-12)


def test_e_value_by_hand():
    # HR 0.5 rare: RR = 2, E = 2 + sqrt(2) ; CI 0.3-0.8: limit 0.8 -> RR 1.25, E = 1.25 + sqrt(1.25 * 0.25)
    got = e_value(0.5, 0.3, 0.8, rare=True)
    assert got["point"] == pytest.approx(2 + math.sqrt(2))
    assert got["ci"] == pytest.approx(1.25 + math.sqrt(1.25 * 0.25))
    # common outcome: RR = (1 - 0.5^sqrt(0.5)) / (1 - 0.5^sqrt(2)), inverted
    rr = 1 / ((1 - 0.5 ** math.sqrt(0.5)) / (1 - 0.5 ** math.sqrt(2)))
    assert e_value(0.5, 0.3, 0.8, rare=False)["point"] == pytest.approx(rr + math.sqrt(rr * (rr - 1)))
    assert e_value(0.5, 0.3, 1.0, rare=False)["ci"] == 1.0
    assert e_value(1.0, 1.0, 1.0, rare=True) == {"point": 1.0, "ci": 1.0}


def test_rare_rule():
    assert outcome_is_rare(14, 100) and not outcome_is_rare(15, 100)
    with pytest.raises(PanNetError):
        outcome_is_rare(5, 0)


@pytest.mark.parametrize("bad", [(0, 0.5, 1), (0.5, 0.6, 1), (float("nan"), 0.1, 1), ("x", 0.1, 1)])
def test_e_value_bad_input(bad):
    with pytest.raises(PanNetError):
        e_value(*bad, rare=True)


@pytest.mark.parametrize("case", REF["rosenbaum"], ids=lambda c: f"n{c['n']}-t{c['t']}")
def test_rosenbaum_bound_matches_pbinom(case):
    """R: pbinom(t - 1, n, G / (1 + G), lower.tail = FALSE); gamma by a grid search over 1, 1.01, ..., 20."""
    assert rosenbaum_p(case["n"], case["t"], 1.0) == pytest.approx(case["p_gamma1"], rel=1e-10)
    assert rosenbaum_p(case["n"], case["t"], 1.5) == pytest.approx(case["p_gamma15"], rel=1e-10)
    assert rosenbaum_gamma(case["n"], case["t"]) == case["gamma"]


def test_gamma_is_on_the_edge_of_the_grid():
    for n, t in ((50, 35), (200, 130), (1000, 560), (10, 10)):
        g = rosenbaum_gamma(n, t)
        assert rosenbaum_p(n, t, g) < 0.05 <= rosenbaum_p(n, t, round(g + 0.01, 2))
    assert rosenbaum_gamma(0, 0) is None
    assert rosenbaum_gamma(20, 5) is None


def test_rosenbaum_on_pairs_matches_r():
    """R: the pairs block of make_reference.R (informative pairs counted in R)."""
    d = pd.read_csv(HERE / "pairs.csv")
    ref = REF["pairs"]
    got = rosenbaum(d["t_time"], d["t_event"], d["c_time"], d["c_event"], hr=0.7)
    assert got["favoured"] == "treated"
    assert got["n_informative"] == ref["n_informative"]
    assert got["t"] == ref["control_first"]
    assert got["p_gamma1"] == pytest.approx(ref["p_gamma1_control_first"], rel=1e-10)
    assert got["gamma"] == ref["gamma_control_first"]
    other = rosenbaum(d["t_time"], d["t_event"], d["c_time"], d["c_event"], hr=1.0)
    assert other["favoured"] == "control" and other["t"] == ref["treated_first"]


def test_rosenbaum_pair_rules():
    # equal times, censored shorter time: not informative; control event first: counts for treated
    got = rosenbaum([5, 3, 4, 6], [1, 1, 0, 1], [5, 6, 2, 2], [1, 1, 0, 1], hr=0.5)
    assert got["n_informative"] == 2 and got["t"] == 1


def test_rosenbaum_bad_input():
    with pytest.raises(PanNetError, match="different lengths"):
        rosenbaum([1, 2], [1, 0], [1], [1], hr=0.5)
    with pytest.raises(PanNetError, match="0/1"):
        rosenbaum([1], [2], [1], [1], hr=0.5)
    with pytest.raises(PanNetError):
        rosenbaum([1], [1], [1], [1], hr=-1)
