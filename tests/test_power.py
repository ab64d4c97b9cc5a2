"""Schoenfeld / Freedman events and sample sizes: hand calculations and the seed studies."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pannet_core.errors import PanNetError
from pannet_core.stats.power import events_needed, sample_size

Z = 1.959963984540054 + 0.8416212335729143  # z_{0.975} + z_{0.80}


def test_schoenfeld_hand_calculation():
    assert events_needed(0.5) == pytest.approx(4 * Z ** 2 / math.log(0.5) ** 2, rel=1e-12)
    assert events_needed(0.5) == pytest.approx(65.34, abs=0.01)  # seed 000: "some 65 events"
    # unequal allocation 1:2 -> a(1-a) = 2/9
    assert events_needed(0.5, allocation=1 / 3) == pytest.approx(Z ** 2 / (2 / 9 * math.log(0.5) ** 2))


def test_freedman_hand_calculation():
    assert events_needed(0.5, method="freedman") == pytest.approx(Z ** 2 * 1.5 ** 2 / 0.5 ** 2, rel=1e-12)


def test_seed_001_38_events_and_52_patients():
    d = events_needed(2.5)
    assert math.ceil(d) == 38
    assert events_needed(0.4) == pytest.approx(d, rel=1e-12)  # HR 2.5 or 0.4: same
    ss = sample_size(2.5, 0.8, 0.05, survival_control_at_followup=1 - 0.73)
    assert ss.n_total == 52


def test_seed_000_100_patients():
    exact = sample_size(0.5, 0.8, 0.05, survival_control_at_followup=0.35)
    assert exact.n_total == 101 and exact.prob_event == pytest.approx(0.65)
    rounded = sample_size(0.5, 0.8, 0.05, survival_control_at_followup=0.35, events_rounding="nearest")
    assert rounded.events == 65 and rounded.n_total == 100 and rounded.n_group1 == 50


def test_treated_survival_averages_event_probability():
    s0 = 0.35
    ss = sample_size(0.5, survival_control_at_followup=s0, survival_treated_at_followup=s0 ** 0.5)
    pe = 0.5 * (1 - s0 ** 0.5) + 0.5 * (1 - s0)
    assert ss.prob_event == pytest.approx(pe)
    assert ss.n_total == math.ceil(events_needed(0.5) / pe)


@pytest.mark.parametrize("kwargs", [dict(hr=1.0), dict(hr=-2), dict(hr=0.5, power=1.2),
                                    dict(hr=0.5, alpha=0), dict(hr=0.5, allocation=1.0),
                                    dict(hr=0.5, method="lachin")])
def test_bad_input(kwargs):
    with pytest.raises(PanNetError):
        events_needed(**kwargs)
    with pytest.raises(PanNetError):
        sample_size(0.5, survival_control_at_followup=1.5)
    with pytest.raises(PanNetError):
        sample_size(0.5)


@given(st.floats(0.1, 0.95), st.floats(0.5, 0.95))
def test_more_power_or_smaller_effect_needs_more_events(hr, power):
    assert events_needed(hr, power + 0.04) > events_needed(hr, power)
    assert events_needed(min(hr + 0.04, 0.99), power) > events_needed(hr, power)
