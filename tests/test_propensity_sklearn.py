"""The propensity fit on scikit-learn: ties, thread count, non-convergence.

The R references are in test_propensity_reference.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.stats import propensity
from pannet_core.stats.propensity import fit_propensity

ROOT = Path(__file__).resolve().parent.parent


def _categorical(n=5001, seed=3):
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({"a": rng.choice(["x", "y", "z"], n), "b": rng.choice(["p", "q"], n),
                      "c": rng.integers(0, 4, n)})
    lin = (f["a"] == "y") * 0.4 - (f["b"] == "q") * 0.3 + f["c"] * 0.2 - 1
    f["t"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return f


def test_same_covariates_give_bit_identical_scores_wherever_the_row_is():
    # a tie in the score is broken by file order in the matching; it must not be broken by rounding
    f = _categorical()
    fit = fit_propensity(f, "t", ["a", "b", "c"], ["a", "b", "c"])
    groups = pd.Series(fit.score).groupby([f["a"], f["b"], f["c"]])
    assert groups.nunique().max() == 1
    assert pd.Series(fit.logit).groupby([f["a"], f["b"], f["c"]]).nunique().max() == 1


def test_scores_do_not_depend_on_the_blas_thread_count(tmp_path):
    # a fresh process with 2 BLAS threads (what OpenBLAS would use on a 2-core machine) gives the same bits
    rng = np.random.default_rng(5)
    n = 40_000
    f = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"x{i}" for i in range(8)])
    f["t"] = (rng.random(n) < 1 / (1 + np.exp(-(f.to_numpy() @ rng.normal(size=8) * 0.3 - 1)))).astype(int)
    data = tmp_path / "d.parquet"
    f.to_parquet(data)
    code = ("import sys, pandas as pd, numpy as np; from pannet_core.stats.propensity import fit_propensity;"
            f"f = pd.read_parquet({str(data)!r}); fit = fit_propensity(f, 't', [f'x{{i}}' for i in range(8)]);"
            "sys.stdout.write(' '.join(x.hex() for x in fit.score[:2000]))")
    out = {}
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "PYTHONPATH": str(ROOT)}
        out[threads] = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                      check=True).stdout
    assert out["1"] == out["2"] and len(out["1"]) > 1000


def test_a_fit_that_does_not_converge_is_an_error_naming_a_covariate(monkeypatch):
    f = _categorical(800)
    monkeypatch.setattr(propensity, "_MAX_ITER", 1)  # scikit-learn warns: iteration limit reached
    with pytest.raises(PanNetError, match=r"cannot be estimated.*covariate '[abc]'"):
        fit_propensity(f, "t", ["a", "b", "c"], ["a", "b", "c"])


def test_the_default_solver_would_not_do():
    # why newton-cholesky with a tight tolerance: lbfgs (the default) stops short of glm's optimum
    # (R: tests/data/r_glm/make_reference.R, fitted(glm(treat ~ ..., family = binomial)) on lalonde)
    from sklearn.linear_model import LogisticRegression

    from pannet_core.stats.design import design_arrays

    here = ROOT / "tests" / "data" / "r_glm"
    ref = np.array(json.loads((here / "reference.json").read_text())["glm"]["lalonde"]["fitted"])
    data = pd.read_csv(here / "lalonde.csv")
    covs = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
    fit = fit_propensity(data, "treat", covs, ["race"])
    _, block, _, used = design_arrays(data, covs, {"race"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may or may not say that it stopped early
        lbfgs = LogisticRegression(C=np.inf, max_iter=1000).fit(block.T[used], data["treat"][used])
    assert np.abs(fit.score[used] - ref).max() < 1e-12
    assert np.abs(lbfgs.predict_proba(block.T[used])[:, 1] - ref).max() > 1e-6


def test_demo_patients_with_the_same_covariates_have_the_same_score():
    # liver preset, demo cohort: patients with the same covariates; a score one bit apart (from a BLAS
    # product) once put the later of two such patients first in the matching order and changed a pair
    from pannet_core import pipeline
    from pannet_core.demo import make_demo_cohort
    from pannet_core.settings import load_preset

    settings = load_preset("liver_surgery_tha")
    prepared = pipeline.prepare(settings, make_demo_cohort())
    fit = pipeline.fit_scores(settings, prepared)
    cov = list(settings.propensity.covariates)
    keys = prepared.frame[cov].astype(str).agg("|".join, axis=1)
    groups = pd.Series(fit.score).groupby(keys.to_numpy())
    assert groups.size().max() >= 2  # some patients share their covariates ...
    assert groups.nunique().max() == 1  # ... and then their score, to the bit


def _pairwise_c(score: np.ndarray, treated: np.ndarray) -> float:
    """Every treated-control pair: 1 when the treated score is higher, 1/2 on a tie."""
    s1, s0 = score[treated][:, None], score[~treated][None, :]
    return float(((s1 > s0).sum() + 0.5 * (s1 == s0).sum()) / (s1.size * s0.size))


@pytest.mark.parametrize("case", ["lalonde", "pbc", "ties"])
def test_c_statistic_is_the_pairwise_probability_with_ties_one_half(case):
    here = ROOT / "tests" / "data" / "r_glm"
    if case == "lalonde":
        data = pd.read_csv(here / "lalonde.csv")
        fit = fit_propensity(data, "treat", ["age", "educ", "race", "married", "nodegree", "re74", "re75"], ["race"])
        t = data["treat"].to_numpy() == 1
    elif case == "pbc":
        data = pd.read_csv(here / "pbc_trial.csv")
        fit = fit_propensity(data, "treat", ["age", "sex", "edema", "bili", "albumin", "chol", "stage", "hepato"],
                             ["sex", "edema", "stage"])
        t = data["treat"].to_numpy() == 1
    else:  # 24 distinct scores over 5001 patients: nearly every pair of a pattern is a tie
        data = _categorical()
        fit = fit_propensity(data, "t", ["a", "b", "c"], ["a", "b", "c"])
        t = data["t"].to_numpy() == 1
    u = fit.used
    expected = _pairwise_c(fit.score[u], t[u])
    assert fit.c_statistic == pytest.approx(expected, abs=1e-12)
    assert 0.5 < fit.c_statistic < 1
    if case == "ties":  # counting ties as 0 or 1 instead would be visibly different
        s1, s0 = fit.score[u][t[u]][:, None], fit.score[u][~t[u]][None, :]
        assert (s1 == s0).mean() > 0.01


def test_c_statistic_in_results_json_over_every_analysed_patient():
    from pannet_core import pipeline
    from pannet_core.demo import make_demo_cohort
    from pannet_core.report.results import results_json
    from pannet_core.settings import load_preset

    result = pipeline.run_analysis(load_preset("primary_tumour_resection"), make_demo_cohort())
    doc = results_json(result)
    d = result.data
    assert doc["c_statistic"] == result.c_statistic
    assert doc["c_statistic"] == pytest.approx(_pairwise_c(d["score"].to_numpy(), d["treated"].to_numpy(bool)),
                                               abs=1e-12)
