"""Proportional-hazards test against R's cox.zph (script: tests/data/r_robust/make_reference.R)."""
import json
from pathlib import Path

import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.stats.cox import cox_zph, coxph
from pannet_core.stats.ph_test import ph_residuals, ph_test

HERE = Path(__file__).parent / "data" / "r_robust"
REF = json.loads((HERE / "reference.json").read_text())["zph"]
W = pd.read_csv(HERE / "weighted.csv")
VET = pd.read_csv(HERE / "veteran.csv")
CASES = {
    "weighted": (W, W["w"]),
    "weighted_unweighted": (W, None),
    "lung": (pd.read_csv(HERE / "lung.csv"), None),
    "veteran": (VET, None),
    "veteran_weighted": (VET, pd.read_csv(HERE / "veteran_weights.csv")["w"]),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_ph_test_matches_r(key):
    """R: cox.zph(coxph(Surv(time, event) ~ group[, weights = w, cluster = cl]), transform = "km")$table."""
    d, w = CASES[key]
    got = ph_test(d["time"], d["event"], d["group"], weights=w)
    assert got["chisq"] == pytest.approx(REF[key]["chisq"], rel=1e-9)
    assert got["p"] == pytest.approx(REF[key]["p"], rel=1e-9)
    assert got["df"] == 1


@pytest.mark.parametrize("key", ["weighted_unweighted", "lung", "veteran"])
def test_ph_test_equals_cox_zph_without_weights(key):
    d, _ = CASES[key]
    z = cox_zph(coxph(d["time"], d["event"], d[["group"]]))
    assert ph_test(d["time"], d["event"], d["group"])["chisq"] == pytest.approx(z["chisq"].iloc[0], rel=1e-9)


def test_cox_zph_ignores_weights_which_is_why_ph_test_exists():
    z = cox_zph(coxph(W["time"], W["event"], W[["group"]], weights=W["w"], cluster=W["id"]))
    assert abs(z["chisq"].iloc[0] - REF["weighted"]["chisq"]) > 0.1


def test_ph_test_bad_input():
    with pytest.raises(PanNetError, match="0/1"):
        ph_test([1, 2, 3], [1, 1, 0], [0, 2, 1])


@pytest.mark.parametrize("key", sorted(CASES))
def test_ph_residuals_match_r(key):
    """R: z <- cox.zph(fit, transform = "km"); z$time, z$x, z$y (the points of plot(z))."""
    d, w = CASES[key]
    got = ph_residuals(d["time"], d["event"], d["group"], weights=w)
    ref = REF[key]
    assert got["time"].tolist() == pytest.approx(ref["time"], rel=1e-12)
    assert got["x"].tolist() == pytest.approx(ref["x"], rel=1e-9, abs=1e-12)
    assert got["residual"].tolist() == pytest.approx(ref["y"], rel=1e-8)
    assert got.attrs["beta"] == pytest.approx(ref["beta"], rel=1e-9)
