"""pannet_core.stats.propensity / design against R's glm (tests/data/r_glm/make_reference.R)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.stats.design import design_matrix, factor_levels
from pannet_core.stats.propensity import fit_propensity

HERE = Path(__file__).parent / "data" / "r_glm"
REF = json.loads((HERE / "reference.json").read_text())

CASES = {
    "lalonde": ("lalonde.csv", ["age", "educ", "race", "married", "nodegree", "re74", "re75"], ["race"],
                {"racehispan": "race=hispan", "racewhite": "race=white"}),
    "pbc": ("pbc_trial.csv", ["age", "sex", "edema", "bili", "albumin", "chol", "stage", "hepato"],
            ["sex", "edema", "stage"],
            {"factor(sex)m": "sex=m", "factor(edema)0.5": "edema=0.5", "factor(edema)1": "edema=1",
             "factor(stage)2": "stage=2", "factor(stage)3": "stage=3", "factor(stage)4": "stage=4"}),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    name = request.param
    csv, covs, cat, rename = CASES[name]
    data = pd.read_csv(HERE / csv)
    fit = fit_propensity(data, "treat", covs, cat)
    return name, data, fit, REF["glm"][name], rename


def test_coefficients_and_se_match_glm(case):
    """R: glm(formula, family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))."""
    _, _, fit, ref, rename = case
    names = [rename.get(n, n) for n in ref["coef_names"]]
    assert list(fit.coef.index) == names
    np.testing.assert_allclose(fit.coef.to_numpy(), ref["coef"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(fit.se.to_numpy(), ref["se"], rtol=1e-7, atol=0)
    assert fit.deviance == pytest.approx(ref["deviance"], rel=1e-12)
    assert fit.null_deviance == pytest.approx(ref["null_deviance"], rel=1e-12)
    assert fit.converged


def test_scores_match_glm_fitted_values(case):
    """R: fitted(glm(formula, family = binomial, data = d, control = tight))."""
    _, data, fit, ref, _ = case
    ids = data["id"].to_numpy()[fit.used]
    assert ids.tolist() == ref["ids"]                     # same complete cases as na.omit
    np.testing.assert_allclose(fit.score[fit.used], ref["fitted"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(fit.score[fit.used], ref["fitted_default"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.logit[fit.used], ref["linear"], rtol=1e-10, atol=1e-10)
    assert np.isnan(fit.score[~fit.used]).all() and np.isnan(fit.logit[~fit.used]).all()


def test_pbc_drops_rows_with_missing_covariates():
    data = pd.read_csv(HERE / "pbc_trial.csv")
    fit = fit_propensity(data, "treat", CASES["pbc"][1], CASES["pbc"][2])
    assert fit.n == 284 and len(fit.score) == 312


def test_factor_levels_in_r_c_locale_order():
    assert factor_levels(pd.Series([10, 9, 2, None, 9])) == [2, 9, 10]
    assert factor_levels(pd.Series(["b", "B", "a", "10", "9"])) == ["10", "9", "B", "a", "b"]
    assert factor_levels(pd.Series(["<=20", ">20", "N/A"])) == ["<=20", ">20", "N/A"]


def test_design_matrix_names_reference_and_mask():
    f = pd.DataFrame({"size": [">20", "<=20", "N/A", ">20", None], "age": [50, 60, 70, np.nan, 40],
                      "grade": [2.0, 1.0, 3.0, 1.0, 2.0]})
    X, info, used = design_matrix(f, ["age", "size", "grade"], ["size", "grade"])
    assert list(X.columns) == ["age", "size=>20", "size=N/A", "grade=2", "grade=3"]
    assert [tuple(i) for i in info] == [("age", None), ("size", ">20"), ("size", "N/A"), ("grade", "2"),
                                        ("grade", "3")]
    assert info[1].reference == "<=20"
    assert used.tolist() == [True, True, True, False, False]
    assert X.loc[0].tolist() == [50, 1, 0, 1, 0]
    assert X.loc[3].isna().all()


def _toy(n=60, seed=1):
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({"age": rng.normal(60, 10, n), "grade": rng.choice(["G1", "G2", "G3"], n),
                      "t": np.r_[np.ones(n // 2), np.zeros(n - n // 2)].astype(int)})
    return f


def test_error_level_in_one_group_only():
    f = _toy()
    f.loc[0, "grade"] = "NEC"   # a level present only among treated (row 0 is treated)
    with pytest.raises(PanNetError, match=r"'grade', level 'NEC', occurs only in treated.*Merge"):
        fit_propensity(f, "t", ["age", "grade"], ["grade"])


def test_error_numeric_complete_separation():
    f = _toy()
    f["age"] = np.where(f.t == 1, 70.0, 50.0) + np.arange(len(f)) * 0.01
    with pytest.raises(PanNetError, match="'age' separates the groups"):
        fit_propensity(f, "t", ["age", "grade"], ["grade"])


def test_error_quasi_separation_detected_by_the_fit():
    # no single covariate separates, but a combination does -> fitted probabilities 0/1
    x1 = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0.5, 2.5], dtype=float)
    x2 = np.array([3, 2, 1, 0, 0, 1, 2, 3, 1.7, 1.2], dtype=float)
    t = (x1 + x2 > 3.1).astype(int)
    f = pd.DataFrame({"x1": x1, "x2": x2, "t": t})
    with pytest.raises(PanNetError, match="separation") as e:
        fit_propensity(f, "t", ["x1", "x2"])
    assert "covariate 'x" in str(e.value)


def test_error_constant_covariate():
    f = _toy()
    f["centre"] = 3.0
    with pytest.raises(PanNetError, match="'centre' has the same value"):
        fit_propensity(f, "t", ["age", "centre"])
    f["site"] = "A"
    with pytest.raises(PanNetError, match="'site' has only one level"):
        fit_propensity(f, "t", ["age", "site"], ["site"])


def test_error_collinear_columns_named():
    f = _toy()
    f["age_months"] = f["age"] * 12 + 3
    with pytest.raises(PanNetError, match=r"'age_months' is a linear combination of 'age'"):
        fit_propensity(f, "t", ["age", "age_months"])


def test_error_too_few_patients_in_a_group():
    f = _toy()
    f["t"] = 0
    f.loc[0, "t"] = 1
    with pytest.raises(PanNetError, match="1 treated"):
        fit_propensity(f, "t", ["age"])


def test_error_bad_columns():
    f = _toy()
    with pytest.raises(PanNetError, match="not in the data"):
        fit_propensity(f, "t", ["weight"])
    f["txt"] = ["x"] * len(f)
    with pytest.raises(PanNetError, match="categorical"):
        fit_propensity(f, "t", ["age", "txt"])
    with pytest.raises(PanNetError, match="treatment column 'arm'"):
        fit_propensity(f, "arm", ["age"])


def test_calendar_year_scale_is_stable():
    # large offset + small spread: centring keeps the solve accurate
    f = _toy(200)
    f["year"] = 2000 + (np.arange(200) % 20) + f["t"] * 0.5
    fit = fit_propensity(f, "t", ["age", "year"])
    # invariance: shifting year by a constant changes only the intercept
    g = f.assign(year=f["year"] - 2000)
    fit2 = fit_propensity(g, "t", ["age", "year"])
    np.testing.assert_allclose(fit.score, fit2.score, atol=1e-12)
    assert fit.coef["year"] == pytest.approx(fit2.coef["year"], rel=1e-9)


def test_50k_rows_many_columns():  # speed at 200k rows: bench/kernels.py
    rng = np.random.default_rng(1)
    n = 50_000
    X = pd.DataFrame(rng.normal(size=(n, 14)), columns=[f"x{i}" for i in range(14)])
    X["c1"] = rng.choice(["a", "b", "c", "d"], n)
    X["c2"] = rng.choice(["u", "v", "w"], n)
    X["c3"] = rng.integers(0, 3, n)
    lin = X[[f"x{i}" for i in range(14)]].to_numpy() @ (rng.normal(size=14) * 0.3) - 1
    X["t"] = rng.random(n) < 1 / (1 + np.exp(-lin))
    cov = [c for c in X.columns if c != "t"]
    fit = fit_propensity(X, "t", cov, ["c1", "c2", "c3"])
    assert len(fit.design_columns) == 21 and fit.converged
