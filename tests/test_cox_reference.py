"""Cox model against R's coxph / summary.coxph / cox.zph(transform="km").

Reference: tests/data/r_survival/reference.json (make_reference.R, survival 3.5.3).
Tolerance 1e-10 relative: our Newton iteration takes the same steps as R's
coxfit6, so the final iterate is the same (observed differences ~1e-13).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.stats.cox import cox_zph, coxph

DATA = Path(__file__).parent / "data" / "r_survival"
REF = json.loads((DATA / "reference.json").read_text())["cox"]
RTOL = 1e-10


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def cases():
    lung, vet, ova, ret, ties = (csv(n) for n in ("lung", "veteran", "ovarian", "retinopathy", "ties"))
    cc = lung[lung["ph_ecog"].notna()]
    cl = lung[lung["inst"].notna()]
    return {
        "lung_sex_efron": (lung, ["sex"], "efron", None),
        "lung_sex_breslow": (lung, ["sex"], "breslow", None),
        "lung_multi_efron": (cc, ["age", "sex", "ph_ecog"], "efron", None),
        "lung_multi_breslow": (cc, ["age", "sex", "ph_ecog"], "breslow", None),
        "lung_sex_cluster_inst": (cl, ["sex"], "efron", "inst"),
        "veteran_trt_karno": (vet, ["trt", "karno"], "efron", None),
        "ovarian_rx_age": (ova, ["rx", "age"], "efron", None),
        "retinopathy_trt_cluster_efron": (ret, ["trt"], "efron", "id"),
        "retinopathy_trt_cluster_breslow": (ret, ["trt"], "breslow", "id"),
        "ties_group": (ties.assign(g=np.tile([0, 1], 6)), ["g"], "efron", None),
    }


def close(a, b, rtol=RTOL):
    b = np.array([np.nan if v is None else v for v in np.atleast_1d(b)], dtype=float)
    np.testing.assert_allclose(np.atleast_1d(np.asarray(a, dtype=float)), b, rtol=rtol, equal_nan=True)


@pytest.fixture(scope="module")
def fits():
    out = {}
    for key, (d, cols, ties, cl) in cases().items():
        out[key] = coxph(d["time"], d["event"], d[cols], ties=ties, cluster=None if cl is None else d[cl])
    return out


@pytest.mark.parametrize("key", sorted(cases()))
def test_coxph_matches_r(fits, key):
    """R: coxph(formula, data = d, ties = ties[, cluster = cl]): coef, se / robust se, exp(coef), CI, Wald P."""
    fit, ref = fits[key], REF[key]
    tab = fit.table
    assert tab["term"].tolist() == ref["terms"]
    for col in ("coef", "se", "robust_se", "hr", "lower", "upper", "z", "p"):
        close(tab[col], ref[col])
    close(fit.loglik, ref["loglik"])
    assert fit.n == ref["n"] and fit.events == ref["events"]
    assert fit.iterations == ref["iter"] and fit.converged
    for mine, theirs in ((fit.lr_test, ref["lr_test"]), (fit.wald_test, ref["wald_test"]),
                         (fit.score_test, ref["score_test"])):
        close(mine[0], theirs[0], rtol=1e-9)  # LR = difference of two log-likelihoods
        assert mine[1] == theirs[1]
        close(mine[2], theirs[2], rtol=1e-9)
    if ref.get("robust_score_test") is not None:
        close(fit.robust_score_test[0], ref["robust_score_test"][0])
    else:
        assert fit.robust_score_test is None


@pytest.mark.parametrize("key", sorted(cases()))
def test_cox_zph_matches_r(fits, key):
    """R: cox.zph(fit, transform = "km")$table: chisq, df and P per term and GLOBAL."""
    z = cox_zph(fits[key])
    ref = REF[key]["zph"]
    assert z["term"].tolist() == ref["terms"]
    close(z["chisq"], ref["chisq"])
    close(z["p"], ref["p"])
    assert z["df"].tolist() == [int(v) for v in ref["df"]]


def test_stratified_cox_matches_r():
    """R: coxph(Surv(time, event) ~ trt + karno + strata(celltype), data = veteran)."""
    d = csv("veteran")
    fit = coxph(d["time"], d["event"], d[["trt", "karno"]], strata=d["celltype"])
    ref = REF["veteran_strata_celltype"]
    close(fit.table["coef"], ref["coef"])
    close(fit.table["se"], ref["se"])
    close(fit.loglik, ref["loglik"])


def test_monotone_likelihood_names_the_term():
    # every event in group 1: R warns "coefficient may be infinite"
    t = np.arange(1.0, 21.0)
    g = np.r_[np.ones(10), np.zeros(10)]
    e = g.copy()
    X = pd.DataFrame({"age": np.linspace(40, 80, 20) % 17, "treated": g})
    with pytest.raises(PanNetError, match="treated"):
        coxph(t, e, X)


@pytest.mark.parametrize("X, words", [
    (pd.DataFrame({"a": [1.0, 1, 1, 1]}), "same value"),
    (pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 4, 6, 8]}), "collinear"),
    (pd.DataFrame({"a": [1.0, np.nan, 3, 4]}), "missing"),
    (pd.DataFrame({"a": ["x", "y", "x", "y"]}), "not numeric"),
])
def test_bad_covariates(X, words):
    with pytest.raises(PanNetError, match=words):
        coxph([1, 2, 3, 4], [1, 0, 1, 1], X)


def test_no_events_and_bad_ties():
    with pytest.raises(PanNetError, match="no events"):
        coxph([1, 2, 3], [0, 0, 0], pd.DataFrame({"a": [0.0, 1, 0]}))
    with pytest.raises(PanNetError, match="Tie handling"):
        coxph([1, 2, 3], [1, 0, 1], pd.DataFrame({"a": [0.0, 1, 0]}), ties="exact")


def test_robust_cluster_of_singletons_differs_from_naive_but_coef_equal():
    d = csv("veteran")
    naive = coxph(d["time"], d["event"], d[["trt"]])
    rob = coxph(d["time"], d["event"], d[["trt"]], cluster=np.arange(len(d)))
    assert rob.table["coef"].iloc[0] == pytest.approx(naive.table["coef"].iloc[0], rel=1e-14)
    assert rob.table["robust_se"].iloc[0] != pytest.approx(naive.table["se"].iloc[0], rel=1e-3)
    assert np.isnan(naive.table["robust_se"].iloc[0])


def test_200k_single_covariate():  # speed: bench/kernels.py
    rng = np.random.default_rng(7)
    n = 200_000
    g = (rng.random(n) < 0.5).astype(float)
    t = np.round(rng.exponential(np.where(g == 1, 6.0, 4.0)), 2)
    e = (rng.random(n) < 0.7).astype(float)
    fit = coxph(t, e, pd.DataFrame({"treated": g}), cluster=np.arange(n) // 2)
    assert fit.n == n and np.isfinite(fit.table["robust_se"].iloc[0])
    assert fit.table["hr"].iloc[0] == pytest.approx(4 / 6, rel=0.05)
