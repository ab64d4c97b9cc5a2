"""Propensity score: unpenalised logistic regression of treatment on covariates.

The model is the one R fits with::

    glm(treated ~ x1 + x2 + factor(x3), family = binomial, data = d)   # na.action = na.omit

solved by scikit-learn's ``LogisticRegression(C=inf, solver="newton-cholesky")``
(Newton-Raphson, which is IRLS for the canonical logit link) to full double
precision, so that the scores agree with R's ``fitted(glm(...))`` to 1e-8 or
better (tests/data/r_glm holds the reference).  scikit-learn's default
``lbfgs`` solver stops far from that optimum and changes pairs.  The design
matrix, the checks below and the standard errors are ours: scikit-learn
neither names the covariate behind a failure nor reports standard errors.

Problems a user can cause are reported as :class:`~pannet_core.errors.PanNetError`
*before* a meaningless model is returned:

* fewer than 2 complete-case patients in a group;
* a constant covariate (error naming the column; it is not silently dropped,
  because a silently changed model is harder to reproduce);
* collinear design columns (error naming them);
* complete or quasi-complete separation: a category level that occurs in one
  group only, a numeric covariate whose range does not overlap between the
  groups, or a fit whose coefficients diverge / whose fitted probabilities
  reach 0 or 1 (error naming the covariate and level most responsible).
"""
from __future__ import annotations

import contextlib
import functools
import os
import warnings
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.linalg.blas
from scipy.special import expit
from threadpoolctl import ThreadpoolController

from pannet_core.errors import PanNetError
from pannet_core.stats.design import design_arrays, factor_levels, level_label

__all__ = ["PropensityFit", "fit_propensity", "treatment_indicator"]

_MAX_ITER = 100
_TOL = 1e-14
_EPS01 = 10 * np.finfo(float).eps  # R's glm.fit threshold for "fitted probabilities numerically 0 or 1"


@dataclass(frozen=True)
class PropensityFit:
    """A fitted propensity-score model.

    Attributes
    ----------
    coef : Series
        Coefficients by design column, first ``"(Intercept)"``.
    se : Series
        Model-based standard errors (inverse Fisher information), as
        ``summary(glm)``.
    score : ndarray
        Propensity score (probability of treatment) per input row; NaN for
        rows with a missing covariate.
    logit : ndarray
        Linear predictor per input row; NaN where ``score`` is NaN.
    design_columns : tuple of str
        Names of the design columns (without the intercept).
    converged : bool
    iterations : int
        Newton iterations used.
    deviance : float
        Residual deviance ``-2 log L``.
    null_deviance : float
    used : ndarray of bool
        Complete cases that entered the model.
    variables : tuple of (str, str or None)
        ``(variable, level)`` for each design column.
    c_statistic : float
        Area under the ROC curve of the score over the patients in the model:
        the probability that a treated patient's score exceeds a control's,
        ties counting one half.  Near 0.5 the groups overlap well; near 1 the
        covariates nearly separate them, and matching will leave many
        patients without a partner.
    """

    coef: pd.Series
    se: pd.Series
    score: np.ndarray
    logit: np.ndarray
    design_columns: tuple[str, ...]
    converged: bool
    iterations: int
    deviance: float
    used: np.ndarray
    null_deviance: float = float("nan")
    variables: tuple = field(default=())
    c_statistic: float = float("nan")

    @property
    def n(self) -> int:
        """Number of patients in the model."""
        return int(self.used.sum())


def treatment_indicator(frame: pd.DataFrame, treated) -> np.ndarray:
    """Treatment as a bool array from a column name or an array.

    Accepts booleans, 0/1 numbers, or a two-valued column (then the larger
    value in R factor order is "treated", like ``glm`` on a factor).

    Raises
    ------
    PanNetError
        The column does not exist, has missing values, or more than two values.
    """
    if isinstance(treated, str):
        if treated not in frame.columns:
            raise PanNetError(f"The treatment column '{treated}' is not in the data.",
                              "Correct the treatment column name in the settings.")
        values = frame[treated]
        name = treated
    else:
        values = pd.Series(np.asarray(treated) if not isinstance(treated, pd.Series) else treated.to_numpy())
        name = "treatment"
        if len(values) != len(frame):
            raise PanNetError(f"The treatment indicator has {len(values)} values for {len(frame)} rows.",
                              "Pass one treatment value per row.")
    if values.isna().any():
        raise PanNetError(f"The treatment column '{name}' has {int(values.isna().sum())} missing value(s).",
                          "Fill in the treatment for every patient or exclude those rows.")
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool)
    uniq = pd.unique(values.to_numpy(dtype=object))
    try:
        num = pd.to_numeric(values)
        if set(np.unique(num.to_numpy(dtype=float))) <= {0.0, 1.0}:
            return num.to_numpy(dtype=float) == 1.0
    except (ValueError, TypeError):
        pass
    if len(uniq) > 2:
        raise PanNetError(f"The treatment column '{name}' has {len(uniq)} different values; it must have two.",
                          "Recode it as 1 = treated, 0 = control.")
    levels = factor_levels(values)
    top = level_label(levels[-1])
    return values.map(level_label).to_numpy(dtype=object) == top


def _deviance(y: np.ndarray, eta: np.ndarray) -> float:
    # -2 log L for a Bernoulli model, computed stably: log(1+exp(eta)) - y*eta
    return float(2.0 * np.sum(np.logaddexp(0.0, eta) - y * eta))


def _weighted_gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X' diag(w) X`` for a C-ordered X via BLAS dsyrk (half the work of a matmul)."""
    Xw = X * np.sqrt(w)[:, None]
    U = scipy.linalg.blas.dsyrk(1.0, Xw.T, trans=0)  # Xw.T is Fortran-ordered: no copy
    return np.triu(U) + np.triu(U, 1).T


def _check_groups(y: np.ndarray) -> None:
    n1 = int(y.sum())
    n0 = int(y.size - n1)
    if n1 < 2 or n0 < 2:
        raise PanNetError(
            f"The propensity model has {n1} treated and {n0} control patient(s) with complete covariates; "
            "at least 2 are needed in each group.",
            "Check the treatment definition and eligibility, or use fewer covariates so that fewer "
            "patients are dropped for missing values.")


def _check_columns(Bu: np.ndarray, y: np.ndarray, info, categorical: set) -> np.ndarray:
    """Constant columns, single-group levels and non-overlapping numeric covariates.

    ``Bu`` holds one row per design column over the complete cases (the
    transpose of the design), so that every reduction below runs along
    contiguous memory.  Minima, maxima and counts of 0/1 indicators are exact
    whatever the order of the reduction.

    Returns the range (max - min) of each design column, used for scaling.
    """
    for var in categorical:
        if not any(c.variable == var for c in info):
            raise PanNetError(
                f"Categorical covariate '{var}' has only one level among the patients in the model.",
                f"Remove '{var}' from the propensity covariates.")
    if Bu.shape[0] == 0:
        return np.ones(0)
    t = y == 1
    X1, X0 = Bu[:, t], Bu[:, ~t]
    lo1, hi1 = X1.min(axis=1), X1.max(axis=1)
    lo0, hi0 = X0.min(axis=1), X0.max(axis=1)
    for j, c in enumerate(info):
        if c.level is None and min(lo1[j], lo0[j]) == max(hi1[j], hi0[j]):
            raise PanNetError(
                f"Covariate '{c.variable}' has the same value ({lo1[j]:g}) for every patient in the model, "
                "so it cannot predict treatment.",
                f"Remove '{c.variable}' from the propensity covariates.")
    # a level present in one group only -> quasi-complete separation
    n1 = X1.sum(axis=1)  # only read for indicator columns (exact integer counts)
    n0 = X0.sum(axis=1)
    seen: dict[str, list[int]] = {}
    for j, c in enumerate(info):
        if c.level is not None:
            seen.setdefault(c.variable, []).append(j)
    for var, idx in seen.items():
        ref_t = int(t.sum() - n1[idx].sum())
        ref_c = int((~t).sum() - n0[idx].sum())
        levels = [(info[idx[0]].reference, ref_t, ref_c)] + [(info[j].level, int(n1[j]), int(n0[j])) for j in idx]
        for lev, n_t, n_c in levels:
            if n_t + n_c > 0 and (n_t == 0 or n_c == 0):
                who = "treated" if n_c == 0 else "control"
                raise PanNetError(
                    f"Covariate '{var}', level '{lev}', occurs only in {who} patients ({n_t + n_c} patient(s)), "
                    "so the propensity model cannot be estimated (quasi-complete separation).",
                    f"Merge level '{lev}' of '{var}' with a neighbouring level, or remove '{var}' from the "
                    "propensity covariates.")
    for j, c in enumerate(info):
        if c.level is None and (hi1[j] < lo0[j] or hi0[j] < lo1[j]):
            raise PanNetError(
                f"Covariate '{c.variable}' separates the groups completely (the treated and control ranges do "
                "not overlap), so the propensity model cannot be estimated (complete separation).",
                f"Remove '{c.variable}' from the propensity covariates or restrict the cohort to the range "
                "where both groups occur.")
    return np.maximum(hi1, hi0) - np.minimum(lo1, lo0)


def _check_rank(G: np.ndarray, names: list[str]) -> None:
    """Raise if the Gram matrix of the (scaled) design is singular, naming the culprits.

    A sequential Cholesky of ``G = X'X`` gives, for each column, the residual
    sum of squares after regressing it on the columns before it.  A column
    whose residual is below 1e-10 of its own sum of squares (R^2 > 1 - 1e-10)
    is a linear combination of earlier columns, which R's ``glm`` would
    report as an aliased (``NA``) coefficient.
    """
    p = G.shape[0]
    good: list[int] = []
    for j in range(p):
        idx = good
        if idx:
            A = G[np.ix_(idx, idx)]
            b = G[idx, j]
            coef = scipy.linalg.solve(A, b, assume_a="pos", check_finite=False)
            resid = G[j, j] - b @ coef
        else:
            coef = np.array([])
            resid = G[j, j]
        if resid <= 1e-10 * G[j, j]:
            scale = np.sqrt(np.diag(G)[idx] / G[j, j]) if idx else np.array([])
            involved = [names[idx[i]] for i in range(len(idx)) if abs(coef[i] * scale[i]) > 1e-6]
            involved = [c for c in involved if c != "(Intercept)"]
            with_txt = ", ".join(f"'{c}'" for c in involved) if involved else "the intercept (it is constant)"
            raise PanNetError(
                f"The propensity covariates are collinear: design column '{names[j]}' is a linear combination "
                f"of {with_txt}.",
                f"Remove '{names[j].split('=')[0]}' or one of the columns it depends on from the propensity "
                "covariates.")
        good.append(j)


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def _one_blas_thread():
    """One BLAS thread for the fit, so that its partial sums, and so the pairs, do not depend on the core count.

    The command line and the dashboard already start with one (pannet_core.runtime); anyone else
    importing pannet_core gets the limit here (finding the loaded BLAS libraries takes a few ms once).
    """
    if os.environ.get("OPENBLAS_NUM_THREADS") == "1":
        return contextlib.nullcontext()
    return _blas_controller().limit(limits=1, user_api="blas")


def _newton_fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """Unpenalised maximum likelihood by scikit-learn's Newton solver.

    Returns (intercept + coefficients, iterations, converged).

    ``C=inf`` is no penalty (glm's likelihood); ``tol`` bounds the largest gradient component of the
    mean log-likelihood, tight enough for the optimum to double precision.  Any warning from the solver
    (iteration limit, failed line search with its fallback to a first-order solver) means the optimum
    was not reached to that precision, which here is almost always separation.
    """
    # imported here, not at the top: scikit-learn loads scipy.stats, a slow import that the command
    # line runs on a second thread while it reads the data file (cli.preload)
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=_TOL, max_iter=_MAX_ITER,
                               fit_intercept=True)
    with warnings.catch_warnings(record=True) as caught, _one_blas_thread():
        warnings.simplefilter("always")
        model.fit(X, y.astype(np.int8))
    converged = not any(issubclass(w.category, (ConvergenceWarning, scipy.linalg.LinAlgWarning, RuntimeWarning))
                        for w in caught)
    beta = np.concatenate([model.intercept_, model.coef_[0]])
    return beta, int(model.n_iter_[0]), converged and bool(np.all(np.isfinite(beta)))


def _c_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: P(treated score > control score), ties one half."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _linear_predictor(X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``coef[0] + X @ coef[1:]`` with the same operations in the same order for every row.

    A BLAS matrix-vector product may round rows differently by their position (vector body vs
    tail), so two patients with the same covariates could get scores one bit apart and a tie the
    matching breaks by file order would be broken by that bit instead.
    """
    eta = np.full(X.shape[0], coef[0])
    for j in range(X.shape[1]):
        eta += X[:, j] * coef[j + 1]
    return eta


def _separation_culprit(beta: np.ndarray, info) -> str:
    """Name the design column with the largest standardised coefficient."""
    std = np.abs(beta[1:]) if beta.size > 1 else np.array([])
    if std.size == 0:
        return "the intercept"
    j = int(np.argmax(std))
    var, lev = info[j]
    return f"covariate '{var}'" + (f", level '{lev}'" if lev is not None else "")


def fit_propensity(frame: pd.DataFrame, treated, covariates: Iterable[str],
                   categorical: Iterable[str] = ()) -> PropensityFit:
    """Fit the propensity score by maximum likelihood logistic regression.

    Equivalent R call (scores = ``fitted(fit)`` on the complete cases)::

        fit <- glm(treated ~ covariates, family = binomial, data = frame,
                   control = glm.control(epsilon = 1e-14, maxit = 100))

    Parameters
    ----------
    frame : DataFrame
        One row per patient (file order).  Not modified.
    treated : str or array-like
        Name of the treatment column, or one value per row (bool or 0/1).
    covariates : iterable of str
        Covariate columns.
    categorical : iterable of str
        Covariates expanded into indicators, first level (R factor order,
        C locale) = reference.

    Returns
    -------
    PropensityFit

    Raises
    ------
    PanNetError
        Too few patients in a group, constant or collinear covariates, or
        (quasi-)complete separation.  The message names the covariate.
    """
    covariates = list(covariates)
    categorical = set(categorical)
    if not covariates:
        raise PanNetError("The propensity model has no covariates.",
                          "Choose at least one covariate for the propensity score.")
    t_all = treatment_indicator(frame, treated)
    columns, block, info, used = design_arrays(frame, covariates, categorical)
    y = t_all[used].astype(float)
    _check_groups(y)
    # the layouts the reductions and BLAS calls below have always seen: Fortran order as
    # DataFrame.to_numpy() of the design matrix gave, and with incomplete rows dropped the C-ordered
    # copy its row selection gave (so the two subsets below are taken separately, not from one another)
    Xu = block.T
    if not used.all():
        Xu = Xu[used]
        block = block[:, used]
    spread = _check_columns(block, y, info, categorical)

    n, k = Xu.shape
    names = ["(Intercept)"] + columns
    # Centre and scale the columns for numerical stability (e.g. calendar years); the
    # maximum-likelihood fit is invariant to this linear reparametrisation, which is
    # undone exactly below: beta_original = T @ beta_scaled.
    Xs = np.empty((n, k + 1))
    Xs[:, 0] = 1.0
    T = np.eye(k + 1)
    centre = Xu.mean(axis=0)
    sd = spread.copy()  # any positive scale works; the range is cheap and never 0 here
    sd[sd == 0] = 1.0
    Xs[:, 1:] = (Xu - centre) / sd
    T[0, 1:] = -centre / sd
    T[np.arange(1, k + 1), np.arange(1, k + 1)] = 1.0 / sd
    # the Gram matrix of the scaled design: singular = collinear covariates
    _check_rank(_weighted_gram(Xs, np.ones(n)), names)

    pbar = y.mean()
    null_dev = _deviance(y, np.full(n, np.log(pbar / (1 - pbar))))
    beta, it, converged = _newton_fit(Xs[:, 1:], y)
    eta = Xs @ beta

    mu = expit(eta)
    diverged = (not converged) or bool(np.any(mu < _EPS01)) or bool(np.any(mu > 1 - _EPS01))
    if k and np.max(np.abs(beta[1:])) > 40:  # a standardised coefficient of 40 means divergence
        diverged = True
    if diverged:
        culprit = _separation_culprit(beta, info)
        raise PanNetError(
            f"The propensity model cannot be estimated: some fitted probabilities are 0 or 1 "
            f"(complete or quasi-complete separation), driven mainly by {culprit}.",
            "Merge rare levels of that covariate, remove it from the propensity covariates, or restrict "
            "the cohort to patients who could receive either treatment.")

    # inverse Fisher information at the optimum (= summary.glm of a fully converged fit)
    H = _weighted_gram(Xs, mu * (1.0 - mu))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        cov = T @ scipy.linalg.inv(H, check_finite=False) @ T.T
    coef = T @ beta
    se = np.sqrt(np.diag(cov))
    # score from the unscaled design, as R computes it
    eta_u = _linear_predictor(Xu, coef)
    score = np.full(len(frame), np.nan)
    logit = np.full(len(frame), np.nan)
    logit[used] = eta_u
    score[used] = expit(eta_u)
    return PropensityFit(
        coef=pd.Series(coef, index=names, name="coef"),
        se=pd.Series(se, index=names, name="se"),
        score=score, logit=logit, design_columns=tuple(columns), converged=converged,
        iterations=it, deviance=_deviance(y, eta_u), used=used, null_deviance=null_dev,
        variables=tuple((v, lev) for v, lev in info), c_statistic=_c_statistic(y, score[used]))
