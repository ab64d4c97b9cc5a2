"""The propensity fit on scikit-learn: ties, thread count, non-convergence (R references: test_propensity_reference.py)."""
from __future__ import annotations

import json
import os
import warnings
import subprocess
import sys
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
    # liver preset, demo cohort: DEMO-0070 and DEMO-0730 (both treated) have the same covariates; a score
    # one bit apart (from a BLAS product) once put DEMO-0730 first in the matching order and changed a pair
    from pannet_core import pipeline
    from pannet_core.cohort.demo import make_demo_cohort
    from pannet_core.settings import load_preset

    settings = load_preset("liver_surgery_tha")
    prepared = pipeline.prepare(settings, make_demo_cohort())
    fit = pipeline.fit_scores(settings, prepared)
    cov = list(settings.propensity.covariates)
    keys = prepared.frame[cov].astype(str).agg("|".join, axis=1)
    assert pd.Series(fit.score).groupby(keys.to_numpy()).nunique().max() == 1
    ids = prepared.frame["patient_id"].tolist()
    assert fit.score[ids.index("DEMO-0070")] == fit.score[ids.index("DEMO-0730")]
