"""Immortal-time analyses against R (script: tests/data/r_robust/make_reference.R).

jasa.csv is survival::jasa (Stanford heart transplant): time from acceptance, transplant as the exposure.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.stats.immortal_time import exposure_intervals, landmark_cox, naive_cox, time_varying_cox

HERE = Path(__file__).parent / "data" / "r_robust"
REF = json.loads((HERE / "reference.json").read_text())
DATA = {name: pd.read_csv(HERE / f"{name}.csv") for name in ("jasa", "edge")}
KEYS = ("hr", "lo", "hi", "p")


def check(got, ref, rel=1e-9):
    for k in KEYS:
        assert got[k] == pytest.approx(ref[k], rel=rel), k


@pytest.mark.parametrize("name", ["jasa", "edge"])
def test_time_varying_matches_r(name):
    """R: coxph(Surv(tstart, tstop, death) ~ treated) on tmerge(..., treated = tdc(exposure))."""
    d = DATA[name]
    check(time_varying_cox(d["time"], d["event"], d["exposure"]), REF[name]["time_varying"])


@pytest.mark.parametrize("name", ["jasa", "edge"])
def test_intervals_as_tmerge(name):
    """R: nrow(tmerge(...)) and its number of events (fit$n, fit$nevent)."""
    d = DATA[name]
    rows = exposure_intervals(d["time"], d["event"], d["exposure"])
    assert len(rows) == REF[name]["time_varying"]["n"]
    assert rows["event"].sum() == REF[name]["time_varying"]["events"]
    assert (rows["stop"] > rows["start"]).all()


def test_tmerge_rule_at_the_edges():
    # exposure at 0: treated from the start; at the end or after it, or never: untreated; inside: split
    rows = exposure_intervals([5, 8, 12, 10, 4], [1, 1, 0, 1, 0], [0, 8, 20, 4, np.nan])
    assert rows.sort_values(["id", "start"])[["id", "start", "stop", "event", "treated"]].values.tolist() == [
        [0, 0, 5, 1, 1], [1, 0, 8, 1, 0], [2, 0, 12, 0, 0], [3, 0, 4, 0, 0], [3, 4, 10, 1, 1], [4, 0, 4, 0, 0]]


def test_lifelines_agrees_but_not_exactly():
    """lifelines' CoxTimeVaryingFitter (Efron) gives R's HR; its se is off in the 6th digit with ties,
    which is why time_varying_cox computes the fit itself."""
    from lifelines import CoxTimeVaryingFitter
    d = DATA["edge"]
    rows = exposure_intervals(d["time"], d["event"], d["exposure"])
    f = CoxTimeVaryingFitter().fit(rows, event_col="event", start_col="start", stop_col="stop", id_col="id")
    ref = REF["edge"]["time_varying"]
    assert np.exp(f.params_["treated"]) == pytest.approx(ref["hr"], rel=1e-6)
    assert f.standard_errors_["treated"] == pytest.approx(ref["se"], rel=1e-4)


@pytest.mark.parametrize("name,i", [("jasa", 0), ("jasa", 1), ("jasa", 2), ("edge", 0)])
def test_landmark_matches_r(name, i):
    """R: coxph(Surv(time - L, event) ~ treated) on d[d$time > L, ], treated = exposure <= L."""
    d, ref = DATA[name], REF[name]["landmark"][i]
    got = landmark_cox(d["time"], d["event"], d["exposure"], landmark=ref["landmark"])
    check(got, ref, rel=1e-8)
    assert got["n"] == ref["n"]


@pytest.mark.parametrize("name", ["jasa", "edge"])
def test_naive_matches_r(name):
    """R: coxph(Surv(time, event) ~ !is.na(exposure)) from the origin (biased on purpose)."""
    d = DATA[name]
    check(naive_cox(d["time"], d["event"], d["exposure"]), REF[name]["naive"], rel=1e-8)


def test_naive_is_biased_towards_treatment_on_jasa():
    d = DATA["jasa"]
    naive = naive_cox(d["time"], d["event"], d["exposure"])
    tv = time_varying_cox(d["time"], d["event"], d["exposure"])
    assert naive["hr"] < 0.5 < 1 < tv["hr"]


def test_bad_input():
    with pytest.raises(PanNetError, match="exposure times"):
        time_varying_cox([1, 2], [1, 1], [1])
    with pytest.raises(PanNetError, match="not all numbers"):
        time_varying_cox([1, 2], [1, 1], ["a", 1])
    with pytest.raises(PanNetError, match="untreated"):
        time_varying_cox([1, 2, 3], [1, 1, 0], [np.nan, np.nan, 5])
    with pytest.raises(PanNetError, match="landmark"):
        landmark_cox([1, 2], [1, 1], [np.nan, 1], landmark=-1)
    with pytest.raises(PanNetError, match="No events after"):
        landmark_cox([1, 2], [1, 1], [np.nan, 1], landmark=5)
    with pytest.raises(PanNetError, match="monotone|infinite"):
        # every event is in untreated time
        time_varying_cox([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0], [np.nan, np.nan, np.nan, 0.5, 0.5, 0.5])
