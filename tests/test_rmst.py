"""RMST against R: summary(survfit(...), rmean = tau)$table (script: tests/data/r_robust/make_reference.R)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from pannet_core.errors import PanNetError
from pannet_core.stats.rmst import rmst, rmst_difference

HERE = Path(__file__).parent / "data" / "r_robust"
REF = json.loads((HERE / "reference.json").read_text())
DATA = {name: pd.read_csv(HERE / f"{name}.csv") for name in ("lung", "veteran", "weighted")}


@pytest.mark.parametrize("case", REF["rmst"], ids=lambda c: f"{c['data']}-tau{c['tau']}-g{c['group']}")
def test_rmst_matches_r(case):
    """R: summary(survfit(Surv(time, event) ~ 1[, weights = w, cluster = id]), rmean = tau)$table."""
    d = DATA[case["data"]]
    d = d[d["group"] == case["group"]]
    got = rmst(d["time"], d["event"], horizon=case["tau"], weights=d["w"] if case["weighted"] else None)
    assert got["est"] == pytest.approx(case["est"], rel=1e-9)
    assert got["se"] == pytest.approx(case["se"], rel=1e-9)


def test_difference_combines_the_groups():
    """Difference = treated - control, se = sqrt(se1^2 + se0^2), normal CI, two-sided P."""
    d = DATA["lung"]
    got = rmst_difference(d["time"], d["event"], d["group"], horizon=365)
    r1, r0 = [c for c in REF["rmst"] if c["data"] == "lung" and c["tau"] == 365 and not c["weighted"]][::-1]
    assert (r1["group"], r0["group"]) == (1, 0)
    diff, se = r1["est"] - r0["est"], np.hypot(r1["se"], r0["se"])
    assert got["horizon"] == 365
    assert got["treated"]["est"] == pytest.approx(r1["est"], rel=1e-9)
    assert got["difference"]["est"] == pytest.approx(diff, rel=1e-9)
    assert got["difference"]["lo"] == pytest.approx(diff - 1.959963984540054 * se, rel=1e-9)
    assert got["difference"]["hi"] == pytest.approx(diff + 1.959963984540054 * se, rel=1e-9)
    assert got["difference"]["p"] == pytest.approx(2 * ndtr(-abs(diff / se)), rel=1e-9)
    assert got["difference"]["p"] < 0.001


def test_weighted_difference_uses_weights():
    d = DATA["weighted"]
    got = rmst_difference(d["time"], d["event"], d["group"], horizon=2, weights=d["w"])
    ref = {c["group"]: c for c in REF["rmst"] if c["data"] == "weighted" and c["tau"] == 2}
    assert got["control"]["se"] == pytest.approx(ref[0]["se"], rel=1e-9)
    assert got["treated"]["est"] == pytest.approx(ref[1]["est"], rel=1e-9)


def test_horizon_past_last_time_is_none():
    d = DATA["veteran"]
    last = min(d.loc[d["group"] == g, "time"].max() for g in (0, 1))
    assert rmst_difference(d["time"], d["event"], d["group"], horizon=last + 1) is None
    assert rmst_difference(d["time"], d["event"], d["group"], horizon=last) is not None
    assert rmst([1, 2, 3], [1, 0, 1], horizon=3.5) is None


def test_no_event_before_horizon_gives_full_area_and_zero_se():
    got = rmst([4, 5, 6], [1, 0, 1], horizon=3)
    assert got == {"est": 3.0, "se": 0.0}


@pytest.mark.parametrize("kw", [dict(horizon=0), dict(horizon=float("nan")), dict(horizon="x"),
                                dict(horizon=1, weights=[1, 0, 1]), dict(horizon=1, weights=[1, 1])])
def test_bad_input_raises(kw):
    with pytest.raises(PanNetError):
        rmst([1, 2, 3], [1, 0, 1], **kw)


def test_difference_needs_both_groups():
    with pytest.raises(PanNetError, match="both groups"):
        rmst_difference([1, 2, 3], [1, 0, 1], [1, 1, 1], horizon=1)
    with pytest.raises(PanNetError, match="0/1"):
        rmst_difference([1, 2, 3], [1, 0, 1], [1, 2, 0], horizon=1)
