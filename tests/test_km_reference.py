"""Kaplan-Meier against R's survfit / quantile.survfit / summary(times=).

Reference numbers: tests/data/r_survival/reference.json, made by make_reference.R
(R 4.2.2, survival 3.5.3).  Tolerance 1e-10 relative (R prints 17 digits; the
only differences are the order of floating-point operations).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pannet_core.errors import PanNetError
from pannet_core.stats.survival import kaplan_meier, median_followup

DATA = Path(__file__).parent / "data" / "r_survival"
REF = json.loads((DATA / "reference.json").read_text())
RTOL = 1e-10

CASES = {  # reference key -> (csv, row filter)
    "lung": ("lung", None), "lung_sex1": ("lung", ("sex", 1)), "lung_sex2": ("lung", ("sex", 2)),
    "lung_90": ("lung", None), "veteran_trt1": ("veteran", ("trt", 1)),
    "veteran_trt2": ("veteran", ("trt", 2)), "ovarian": ("ovarian", None),
    "retinopathy": ("retinopathy", None), "flat": ("flat", None), "flatend": ("flatend", None),
    "ties": ("ties", None),
}


def load(key: str) -> pd.DataFrame:
    csv, flt = CASES[key]
    d = pd.read_csv(DATA / f"{csv}.csv")
    if flt:
        d = d[d[flt[0]] == flt[1]]
    return d


def arr(x) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def close(a, b, rtol=RTOL) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), arr(b), rtol=rtol, atol=1e-14, equal_nan=True)


def opt(v):
    return np.nan if v is None else v


@pytest.mark.parametrize("key", sorted(CASES))
@pytest.mark.parametrize("conf_type", ["plain", "log", "log-log"])
def test_km_matches_r(key, conf_type):
    """R: survfit(Surv(time, event) ~ 1, data = d, conf.type = ct); summary(fit);
    quantile(fit, probs = c(0.25, 0.5, 0.75))."""
    ref = REF["km"][key]
    d = load(key)
    fit = kaplan_meier(d["time"], d["event"], conf_type=conf_type, conf_level=ref["conf_level"])
    r = ref[conf_type]
    tab = fit.table
    for col in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"):
        close(tab[col], r["table"][col])
    assert fit.n == ref["n"] and fit.events == ref["events"]
    # quantiles with CI (quantile.survfit)
    for p, est, lo, hi in zip(r["quantile"]["probs"], r["quantile"]["est"], r["quantile"]["lower"],
                              r["quantile"]["upper"]):
        got = fit.quantile(p)
        close([opt(g) for g in got], [est, lo, hi])
    # summary(fit, times=, extend=FALSE): R drops times past the end, we give NaN
    s = fit.survival_at(ref["times"])
    kept = np.isin(np.asarray(ref["times"], float), arr(r["summary"]["time"]))
    assert np.all(np.isnan(s["surv"][~kept]))
    close(s["time"][kept], r["summary"]["time"])
    for col in ("surv", "lower", "upper"):
        close(s[col][kept], r["summary"][col])
    np.testing.assert_array_equal(fit.n_at_risk(ref["times"])[kept], arr(r["summary"]["n_risk"]))


def test_median_rule_on_flat_segment():
    """R: quantile(survfit(Surv(time, event) ~ 1, data = flat)) gives the midpoint of a flat segment at S = 0.5."""
    # S = 0.5 exactly from t=4 to t=5 -> R reports 4.5, not 4
    d = load("flat")
    assert kaplan_meier(d["time"], d["event"]).median()[0] == pytest.approx(4.5, rel=1e-15)
    # S stays 0.5 until the last (censored) time 4 -> (2 + 4) / 2
    d = load("flatend")
    est, lo, hi = kaplan_meier(d["time"], d["event"]).median()
    assert est == pytest.approx(3.0) and hi is None


def test_survival_at_before_first_event_has_limits_one():
    # R: summary(survfit(Surv(c(1,2,3,4), c(0,1,1,0)) ~ 1), times=c(0.5,1,1.5)) -> surv, lower, upper all 1
    s = kaplan_meier([1, 2, 3, 4], [0, 1, 1, 0]).survival_at([0.5, 1, 1.5, 2])
    assert s[["surv", "lower", "upper"]].iloc[:3].to_numpy().tolist() == [[1.0] * 3] * 3
    assert s["surv"].iloc[3] == pytest.approx(2 / 3) and s["lower"].iloc[3] < 2 / 3


@pytest.mark.parametrize("key", ["lung", "veteran_trt1", "ovarian", "retinopathy", "ties"])
def test_median_followup_reverse_km(key):
    """R: quantile(survfit(Surv(time, 1 - event) ~ 1, data = d), 0.5)$quantile (reverse Kaplan-Meier)."""
    d = load(key)
    close([opt(median_followup(d["time"], d["event"]))], [REF["km"][key]["median_followup"]])


def test_lung_median_known_values():
    # print(survfit(Surv(time, status) ~ 1, lung)): median 310, 95% CI 284-361
    d = load("lung")
    assert kaplan_meier(d["time"], d["event"]).median() == (310.0, 284.0, 361.0)


@pytest.mark.parametrize("bad_time, bad_event, words", [
    ([1.0, -2.0], [1, 0], "negative"),
    ([1.0, np.nan], [1, 0], "missing"),
    ([1.0, 2.0], [1, 2], "not 0 or 1"),
    ([], [], "no patients"),
    ([1.0, 2.0], [1], "event values"),
    (["a", "b"], [1, 0], "not all numbers"),
])
def test_bad_input_raises_pannet_error(bad_time, bad_event, words):
    with pytest.raises(PanNetError, match=words):
        kaplan_meier(bad_time, bad_event)


def test_bad_options():
    with pytest.raises(PanNetError, match="not known"):
        kaplan_meier([1, 2], [1, 0], conf_type="logit")
    with pytest.raises(PanNetError, match="between 0 and 1"):
        kaplan_meier([1, 2], [1, 0], conf_level=95)
    fit = kaplan_meier([1, 2], [1, 0])
    with pytest.raises(PanNetError):
        fit.survival_at([-1])
    with pytest.raises(PanNetError):
        fit.quantile(1.5)


def test_inputs_not_modified_and_bool_events():
    t = np.array([3.0, 1.0, 2.0])
    e = np.array([True, False, True])
    fit = kaplan_meier(t, e)
    assert t.tolist() == [3.0, 1.0, 2.0]
    assert fit.events == 2 and fit.table["time"].tolist() == [1.0, 2.0, 3.0]


def test_200k_rows_one_row_per_distinct_time():  # speed: bench/kernels.py
    rng = np.random.default_rng(1)
    t = np.round(rng.exponential(5, 200_000), 3)
    e = rng.random(200_000) < 0.7
    fit = kaplan_meier(t, e)
    assert len(fit.table) == len(np.unique(t))
    assert int(fit.table["n_event"].sum()) == int(e.sum()) and fit.n == 200_000
    assert fit.median()[0] is not None
    assert np.all(np.diff(fit.table["surv"].to_numpy()) <= 0)


# ----------------------------------------------------------------- properties
samples = st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(samples, st.sampled_from(["plain", "log", "log-log"]))
def test_km_properties(rows, conf_type):
    t = np.array([r[0] for r in rows], dtype=float)
    e = np.array([r[1] for r in rows])
    fit = kaplan_meier(t, e, conf_type=conf_type)
    tab = fit.table
    s = tab["surv"].to_numpy()
    assert np.all(np.diff(s) <= 1e-15) and np.all((s >= 0) & (s <= 1))
    ok = tab["lower"].notna() & tab["upper"].notna()
    assert np.all(tab["lower"][ok] <= tab["surv"][ok] + 1e-12)
    assert np.all(tab["surv"][ok] <= tab["upper"][ok] + 1e-12)
    assert tab["n_event"].sum() == e.sum() and tab["n_event"].sum() + tab["n_censor"].sum() == len(t)
    assert tab["n_risk"].iloc[0] == len(t)
    # order of the rows does not matter
    perm = np.random.default_rng(0).permutation(len(t))
    pd.testing.assert_frame_equal(kaplan_meier(t[perm], e[perm], conf_type=conf_type).table, tab)
    est, lo, hi = fit.median()
    if est is not None and lo is not None:
        assert lo <= est
    if est is not None and hi is not None:
        assert est <= hi
