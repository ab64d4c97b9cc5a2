"""Cox proportional-hazards regression, equal to R's ``coxph`` and ``cox.zph``.

* Newton-Raphson exactly as R's ``coxph.fit`` (C routine ``coxfit6``): start at
  0, step halving when the log-likelihood falls, stop when
  ``|1 - loglik_old / loglik_new| <= 1e-9`` (at most 20 iterations).  Taking
  the same steps gives the same final iterate, so coefficients agree with R
  to ~1e-12 and not only to the convergence tolerance.
* Efron (default) or Breslow handling of tied event times.
* Robust (sandwich) variance from dfbeta residuals summed within clusters, as
  ``coxph(..., cluster = id)``.
* Risk-set sums are cumulative sums over rows sorted by (stratum, time); the
  Efron correction is expanded to one row per event, so everything is
  vectorised (a 200,000-row fit takes a fraction of a second).
* The information matrix is never formed per death: sum_j V_j is
  X' diag(w) X - m'm with row weights w from cumulative sums of the death
  weights 1/den over the keys (see ``_information``), so a fit takes
  O(n p^2) time and O(n p + p^2) memory (no n x p x p array).

Checked against R in ``tests/test_cox_reference.py``; formulas in
``docs/methods.md``.

Why not lifelines' ``CoxPHFitter``: with ``cluster_col`` it took 43.5 s at
110,000 rows in 55,000 pairs against 0.08 s here (model-based variance: 3.1 s
against 0.07 s; ``bench/lifelines_peers.py``, docs/benchmarks.md); its robust
score residuals have no Efron tie correction, so with tied times its robust SE
differs from R's by up to 3e-3 relative; and its default tolerance stops up to
1e-4 (relative) short of R's coefficients (``tests/test_lifelines_oracle.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtr, ndtri

from pannet_core.errors import PanNetError
from pannet_core.stats.logrank import label_codes, stratum_time_order
from pannet_core.stats.survival import as_time_event, kaplan_meier

EPS = 1e-9             # coxph.control(eps)
TOLER_INF = EPS ** 0.5  # coxph.control(toler.inf)
MAX_ITER = 20           # coxph.control(iter.max)


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per covariate: ``term, coef, se, robust_se, hr, lower, upper, z, p``.
        ``se`` is the model-based (naive) standard error; ``robust_se`` the
        sandwich one (NaN without ``cluster``).  ``lower``/``upper`` (95 % CI of
        the hazard ratio), ``z`` and ``p`` use the robust SE when a cluster was
        given, like ``summary(coxph(..., cluster=))``.
    loglik : tuple(float, float)
        Log partial likelihood at beta = 0 and at the estimate (R ``fit$loglik``).
    n, events : int
    lr_test, wald_test, score_test : tuple(chisq, df, p)
        Likelihood-ratio, Wald (robust variance when clustered) and score
        (log-rank) tests, as ``summary(fit)$logtest / $waldtest / $sctest``.
    robust_score_test : tuple or None
        ``summary(fit)$robscore`` when clustered.
    converged : bool
    iterations : int
    ties : str
    var, naive_var : numpy.ndarray
        Variance matrix used for inference, and the model-based one.
    """

    table: pd.DataFrame
    loglik: tuple
    n: int
    events: int
    lr_test: tuple
    wald_test: tuple
    score_test: tuple
    robust_score_test: tuple | None
    converged: bool
    iterations: int
    ties: str
    var: np.ndarray = field(repr=False, compare=False)
    naive_var: np.ndarray = field(repr=False, compare=False)
    _data: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def coef(self) -> pd.Series:
        return pd.Series(self.table["coef"].to_numpy(), index=self.table["term"].to_numpy())


# ------------------------------------------------------------------ input handling
def _design(X, n: int) -> tuple[np.ndarray, list[str]]:
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if not isinstance(X, pd.DataFrame):
        try:
            X = pd.DataFrame(np.asarray(X, dtype=float).reshape(n, -1))
        except (TypeError, ValueError):
            raise PanNetError("The Cox model covariates are not all numbers.",
                              "Give a table of numeric columns (make indicator columns for categories).") from None
        X.columns = [f"x{i + 1}" for i in range(X.shape[1])]
    if X.shape[1] == 0:
        raise PanNetError("The Cox model has no covariates.", "Give at least one covariate column.")
    if len(X) != n:
        raise PanNetError(f"The Cox model has {n} times but {len(X)} covariate rows.",
                          "Give one covariate row per patient.")
    names = [str(c) for c in X.columns]
    cols = []
    for name, col in zip(names, X.columns):
        s = X[col]
        try:
            v = pd.to_numeric(s, errors="raise").astype(float).to_numpy(copy=True)
        except (TypeError, ValueError):
            raise PanNetError(f"Cox covariate '{name}' is not numeric.",
                              "Make indicator (0/1) columns for categorical covariates.") from None
        if not np.all(np.isfinite(v)):
            raise PanNetError(f"Cox covariate '{name}' has {int((~np.isfinite(v)).sum())} missing value(s).",
                              "Drop those patients or fill in the values before fitting.")
        cols.append(v)
    return np.column_stack(cols), names


@dataclass
class _Prep:
    """Rows sorted by (stratum, time) and the key (distinct stratum-time) structure."""

    t: np.ndarray
    e: np.ndarray
    x: np.ndarray          # centred covariates, sorted
    order: np.ndarray
    key: np.ndarray        # key index of each sorted row
    first: np.ndarray      # first row of each key
    key_stratum_start: np.ndarray  # first key of each key's stratum
    key_s_end: np.ndarray  # exclusive end key of each key's stratum
    d: np.ndarray          # deaths per key
    exp_key: np.ndarray    # expansion: key of each of the sum(d) Efron rows
    exp_f: np.ndarray      # expansion: j/d (0 for Breslow)
    single: bool           # one stratum (no subtraction needed in risk sums)
    w: np.ndarray | None = None       # case weights, sorted (None: all 1)
    exp_mw: np.ndarray | None = None  # mean weight of the deaths at each Efron row's key


def _prepare(t, e, x, strata, ties, weights=None) -> _Prep:
    n = t.size
    s = np.zeros(n, dtype=np.int64) if strata is None else strata
    order = stratum_time_order(t, s)  # = np.lexsort((t, s))
    ts, es, ss = t[order], e[order], s[order]
    xs = x[order] - x.mean(axis=0)
    new_key = np.r_[True, (ts[1:] != ts[:-1]) | (ss[1:] != ss[:-1])]
    first = np.flatnonzero(new_key)
    last = np.r_[first[1:], n]
    key = np.cumsum(new_key) - 1
    new_stratum = np.r_[True, ss[1:] != ss[:-1]]
    s_start_rows = np.flatnonzero(new_stratum)
    s_end_rows = np.r_[s_start_rows[1:], n]
    stratum_row = np.cumsum(new_stratum) - 1
    s_end = s_end_rows[stratum_row[first]]
    key_new_stratum = new_stratum[first]
    key_stratum_start = np.maximum.accumulate(np.where(key_new_stratum, np.arange(first.size), 0))
    ce = np.r_[0.0, np.cumsum(es)]
    d = ce[last] - ce[first]
    ev_keys = np.flatnonzero(d > 0)
    dk = d[ev_keys].astype(np.int64)
    exp_key = np.repeat(ev_keys, dk)
    within = np.arange(exp_key.size) - np.repeat(np.cumsum(dk) - dk, dk)
    exp_f = within / np.repeat(dk, dk) if ties == "efron" else np.zeros(exp_key.size)
    key_s_end = np.r_[key, first.size][s_end]
    w = exp_mw = None
    if weights is not None:  # coxfit6: each Efron row of a key carries the mean weight of its deaths
        w = weights[order]
        dw = np.r_[0.0, np.cumsum(es * w)]
        exp_mw = ((dw[last] - dw[first])[ev_keys] / dk)[np.repeat(np.arange(ev_keys.size), dk)]
    return _Prep(ts, es, xs, order, key, first, key_stratum_start, key_s_end, d, exp_key,
                 exp_f, single=bool(new_stratum.sum() == 1), w=w, exp_mw=exp_mw)


def _key_sum(p: _Prep, v: np.ndarray) -> np.ndarray:
    """Sum of ``v`` (rows sorted) over the rows of each key (keys are runs of rows, none empty)."""
    return np.add.reduceat(v, p.first, axis=0)


def _risk_sum(p: _Prep, v: np.ndarray) -> np.ndarray:
    """Sum of ``v`` (rows sorted) over each key's risk set (same stratum, time >= t).

    Rows are first summed per key, then cumulated over keys from the last one back
    (O(n p) with no cumulative array over rows).
    """
    kv = _key_sum(p, v)
    rc = np.cumsum(kv[::-1], axis=0)[::-1]
    if p.single:
        return rc
    rc = np.concatenate([rc, np.zeros((1,) + v.shape[1:])])
    return rc[:-1] - rc[p.key_s_end]


def _stratum_cumsum(p: _Prep, v: np.ndarray) -> np.ndarray:
    """Per key: sum of ``v`` (one value per key) over the keys of its stratum up to and including it."""
    c = np.cumsum(v)
    if p.single:
        return c
    return c - np.r_[0.0, c][p.key_stratum_start]


def _information(p: _Prep, r: np.ndarray, den: np.ndarray, m: np.ndarray, g: np.ndarray | None = None) -> np.ndarray:
    """Information matrix sum_j g_j V_j over the Efron rows j, without forming any V_j.

    With V_j = (S2[k_j] - f_j D2[k_j]) / den_j - m_j m_j' (k_j the key of row j,
    S2 = risk-set sum of r x x', D2 = sum of e r x x' over the key's rows):

    * sum_j g_j S2[k_j] / den_j = X' diag(r c) X, where c_i sums h_k = sum_{j at k} g_j / den_j
      over the keys k whose risk set holds row i (its stratum's keys up to its own);
    * sum_j g_j f_j D2[k_j] / den_j = X' diag(e r b[key]) X, b_k = sum_{j at k} g_j f_j / den_j;
    * sum_j g_j m_j m_j' = m' diag(g) m.

    O(n p^2) time, O(n p + p^2) memory.  ``g`` (one value per Efron row) is 1 for the
    model's information and g(t), g(t)^2 for cox_zph's blocks.
    """
    k, f = p.exp_key, p.exp_f
    nkeys = p.first.size
    wj = 1 / den if g is None else g / den
    h = np.bincount(k, weights=wj, minlength=nkeys)
    c = _stratum_cumsum(p, h)[p.key]
    w = r * c
    if f.any():  # Efron (Breslow: f = 0)
        b = np.bincount(k, weights=f * wj, minlength=nkeys)
        w = w - p.e * r * b[p.key]
    x = p.x
    a = (x * w[:, None]).T @ x
    mm = (m if g is None else m * g[:, None]).T @ m
    out = a - mm
    return (out + out.T) / 2


def _pieces(p: _Prep, beta: np.ndarray, *, second: bool = True) -> dict:
    """Log-likelihood, score and information at ``beta`` (Efron/Breslow by ``p.exp_f``)."""
    x = p.x
    eta = x @ beta
    r = np.exp(eta)
    wr = r if p.w is None else p.w * r  # weighted sums as coxfit6
    rx = wr[:, None] * x
    S0 = _risk_sum(p, wr)
    S1 = _risk_sum(p, rx)
    er = p.e * wr
    D0 = _key_sum(p, er)
    D1 = _key_sum(p, er[:, None] * x)
    k, f = p.exp_key, p.exp_f
    den = S0[k] - f * D0[k]
    m = (S1[k] - f[:, None] * D1[k]) / den[:, None]
    dead = p.e > 0
    if p.w is None:
        loglik = float(eta[dead].sum() - np.log(den).sum())
        u = x[dead].sum(axis=0) - m.sum(axis=0)
    else:
        mw = p.exp_mw
        wd = p.w[dead]
        loglik = float((wd * eta[dead]).sum() - (mw * np.log(den)).sum())
        u = (wd[:, None] * x[dead]).sum(axis=0) - (mw[:, None] * m).sum(axis=0)
    out = {"loglik": loglik, "u": u, "r": r, "den": den, "m": m}
    if second:
        out["imat"] = _information(p, r, den, m) if p.w is None else _information(p, wr, den, m, p.exp_mw)
    return out


def _score_residuals(p: _Prep, q: dict) -> np.ndarray:
    """Score residuals (sorted rows), R ``residuals(fit, type="score")`` incl. the Efron weights.

    With case weights these are R's unweighted residuals (the hazard steps carry the
    mean death weight); ``weighted=TRUE`` multiplies them by the weights.
    """
    nkeys = p.first.size
    npar = p.x.shape[1]
    k, f, den, m = p.exp_key, p.exp_f, q["den"], q["m"]
    if p.exp_mw is not None:
        den = den / p.exp_mw  # hazard step mean weight / den
    h = np.bincount(k, weights=1 / den, minlength=nkeys)
    hd = np.bincount(k, weights=(1 - f) / den, minlength=nkeys)
    g = np.zeros((nkeys, npar))
    gd = np.zeros((nkeys, npar))
    mbar = np.zeros((nkeys, npar))
    dk = np.maximum(p.d, 1)
    for j in range(npar):
        g[:, j] = np.bincount(k, weights=m[:, j] / den, minlength=nkeys)
        gd[:, j] = np.bincount(k, weights=(1 - f) * m[:, j] / den, minlength=nkeys)
        mbar[:, j] = np.bincount(k, weights=m[:, j], minlength=nkeys) / dk
    # cumulative over keys within stratum, excluding the key itself
    ch = np.r_[0.0, np.cumsum(h)]
    cg = np.vstack([np.zeros(npar), np.cumsum(g, axis=0)])
    start = p.key_stratum_start
    kk = np.arange(nkeys)
    H_before = ch[kk] - ch[start]
    G_before = cg[kk] - cg[start]
    key = p.key
    dead = p.e > 0
    A = H_before[key] + np.where(dead, hd[key], h[key])
    B = G_before[key] + np.where(dead[:, None], gd[key], g[key])
    r = q["r"]
    x = p.x
    return dead[:, None] * (x - mbar[key]) - r[:, None] * (x * A[:, None] - B)


def _newton(p: _Prep, npar: int, maxiter: int = MAX_ITER) -> tuple:
    """coxfit6's iteration; returns (beta, pieces at beta, loglik0, pieces at 0, iterations, converged)."""
    beta = np.zeros(npar)
    q0 = _pieces(p, beta)
    imat = q0["imat"]
    try:
        a = np.linalg.solve(imat, q0["u"])
    except np.linalg.LinAlgError:
        raise PanNetError("The Cox model cannot be fitted: the covariates are collinear or constant "
                          "among patients at risk.", "Remove covariates that repeat others or do not vary.") from None
    loglik_old = q0["loglik"]
    newbeta = beta + a
    halving = False
    q = q0
    for it in range(1, maxiter + 1):
        q = _pieces(p, newbeta)
        newlk = q["loglik"]
        if abs(1 - loglik_old / newlk) <= EPS and not halving:
            return newbeta, q, q0, it, True
        if it == maxiter:
            break
        if not np.isfinite(newlk) or newlk < loglik_old:
            halving = True
            newbeta = (newbeta + beta) / 2
        else:
            halving = False
            loglik_old = newlk
            try:
                step = np.linalg.solve(q["imat"], q["u"])
            except np.linalg.LinAlgError:
                break
            beta = newbeta
            newbeta = newbeta + step
    return newbeta, q, q0, maxiter, False


def _wtest(var: np.ndarray, b: np.ndarray) -> float:
    return float(b @ np.linalg.solve(var, b))


def _test(stat: float, df: int) -> tuple:
    return (float(stat), int(df), float(chdtrc(df, stat)))


# ------------------------------------------------------------------ public
def coxph(time, event, X, *, cluster=None, ties: str = "efron", strata=None, weights=None) -> CoxResult:
    """Fit a Cox proportional-hazards model.

    Equal to R::

        coxph(Surv(time, event) ~ x1 + x2 + ..., ties = "efron")
        coxph(Surv(time, event) ~ x1 + ..., cluster = id)           # robust SE
        coxph(Surv(time, event) ~ x1 + ... + strata(s))             # strata=

    Parameters
    ----------
    time, event : array-like
        Follow-up time (>= 0) and 0/1 event.
    X : pandas.DataFrame
        Numeric covariate columns (make 0/1 indicator columns for categories
        yourself); column names become the terms.
    cluster : array-like, optional
        Cluster id (e.g. matched pair): adds the robust sandwich variance
        (dfbeta residuals summed within clusters, Lin & Wei 1989) and uses it
        for the confidence intervals, z, p and the Wald test.
    ties : {"efron", "breslow"}
    strata : array-like, optional
        Separate baseline hazards per stratum.
    weights : array-like, optional
        Case weights (e.g. matching weights), as ``coxph(..., weights = w)``:
        weighted risk sets, Efron steps weighted by the mean weight of the
        tied deaths; the robust variance and ``robust_score_test`` use the
        weighted score residuals (R's ``weighted = TRUE``).

    Returns
    -------
    CoxResult

    Raises
    ------
    PanNetError
        Bad input; no events; collinear covariates; non-convergence; an
        infinite coefficient (monotone likelihood, e.g. every event in one
        group), naming the covariate.
    """
    if ties not in ("efron", "breslow"):
        raise PanNetError(f"Tie handling {ties!r} is not known.", 'Use "efron" (as R) or "breslow".')
    t, e = as_time_event(time, event, what="Cox model data")
    n = t.size
    x, names = _design(X, n)
    if e.sum() == 0:
        raise PanNetError("The Cox model cannot be fitted: there are no events.",
                          "Check the event column (1 = event) and the follow-up.")
    s = None if strata is None else label_codes(strata, n, "stratum")[0]
    cl = None if cluster is None else label_codes(cluster, n, "cluster")[0]
    wts = None
    if weights is not None:
        wts = np.array(weights, dtype=float, copy=True).ravel()
        if wts.size != n or not np.all(np.isfinite(wts)) or np.any(wts <= 0):
            raise PanNetError(f"The Cox model needs {n} weights > 0.",
                              "Pass one positive weight per patient (leave unmatched patients out).")
    npar = x.shape[1]
    const = [nm for j, nm in enumerate(names) if np.ptp(x[:, j]) == 0]
    if const:
        raise PanNetError(f"Cox covariate(s) {const} have the same value for every patient.",
                          "Remove them from the model.")
    if npar > 1 and np.linalg.matrix_rank(x - x.mean(axis=0)) < npar:
        raise PanNetError(f"The Cox covariates {names} are collinear (one is a combination of the others).",
                          "Remove a covariate or an indicator column (keep a reference level).")
    p = _prepare(t, e, x, s, ties, wts)
    beta, q, q0, iters, converged = _newton(p, npar)
    if not converged:
        raise PanNetError(f"The Cox model did not converge in {MAX_ITER} iterations "
                          f"(terms {names}).", "Check for covariates that separate the events perfectly.")
    try:
        naive_var = np.linalg.inv(q["imat"])
    except np.linalg.LinAlgError:
        raise PanNetError("The Cox model information matrix is singular.",
                          "Remove covariates that repeat others or do not vary.") from None
    if not np.all(np.isfinite(beta)) or not np.all(np.isfinite(naive_var)):
        raise PanNetError(f"The Cox model overflowed (terms {names}).",
                          "Check for covariates that separate the events perfectly.")
    infs = np.abs(q["u"] @ naive_var)
    infs = (infs > EPS) & (infs > TOLER_INF * np.abs(beta))
    if infs.any():
        bad = [names[j] for j in np.flatnonzero(infs)]
        raise PanNetError(f"The hazard ratio of {', '.join(bad)} is infinite or zero (monotone likelihood): "
                          "for example every event is in one group.",
                          "The Cox model cannot estimate it; report the log-rank test and Kaplan-Meier "
                          "curves instead, or remove that covariate.")
    naive_se = np.sqrt(np.diag(naive_var))
    robust_var = None
    robust_score = None
    if cl is not None:
        clu = cl[p.order]
        ncl = int(clu.max()) + 1
        resid = _score_residuals(p, q)
        if p.w is not None:
            resid = resid * p.w[:, None]
        dfb = resid @ naive_var
        D = np.zeros((ncl, npar))
        np.add.at(D, clu, dfb)
        robust_var = D.T @ D
        resid0 = _score_residuals(p, q0)
        if p.w is not None:
            resid0 = resid0 * p.w[:, None]
        D0 = np.zeros((ncl, npar))
        np.add.at(D0, clu, resid0)
        u0 = D0.sum(axis=0)
        robust_score = _test(_wtest(D0.T @ D0, u0), npar)
    var = robust_var if robust_var is not None else naive_var
    se_used = np.sqrt(np.diag(var))
    zq = ndtri(0.975)
    zval = beta / se_used
    table = pd.DataFrame({
        "term": names, "coef": beta, "se": naive_se,
        "robust_se": np.sqrt(np.diag(robust_var)) if robust_var is not None else np.full(npar, np.nan),
        "hr": np.exp(beta), "lower": np.exp(beta - zq * se_used), "upper": np.exp(beta + zq * se_used),
        "z": zval, "p": 2 * ndtr(-np.abs(zval))})
    score = _wtest(q0["imat"], q0["u"])
    data = {"prep": p, "beta": beta, "q": q, "names": names, "t": t, "e": e}
    return CoxResult(table=table, loglik=(q0["loglik"], q["loglik"]), n=n, events=int(e.sum()),
                     lr_test=_test(2 * (q["loglik"] - q0["loglik"]), npar),
                     wald_test=_test(_wtest(var, beta), npar), score_test=_test(score, npar),
                     robust_score_test=robust_score, converged=converged, iterations=iters, ties=ties,
                     var=var, naive_var=naive_var, _data=data)


def cox_zph(result: CoxResult, terms: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Test of proportional hazards (Grambsch & Therneau 1994), KM time scale.

    Equal to R::

        cox.zph(fit, transform = "km")$table

    The score test of gamma = 0 in the model with extra covariates
    x·g(t), g(t) = 1 - S_KM(t-) - mean over events, at (beta_hat, gamma = 0),
    with Efron/Breslow handling of ties as the fit (the survival 3.x method,
    not the older correlation approximation).

    Parameters
    ----------
    result : CoxResult
    terms : mapping term -> list of columns, optional
        Group indicator columns of one categorical covariate into one term
        (R's multi-df terms).  Default: one term per column.

    Returns
    -------
    pandas.DataFrame
        ``term, chisq, df, p``; the last row is ``GLOBAL``.
    """
    d = result._data
    p: _Prep = d["prep"]
    names: list[str] = d["names"]
    npar = len(names)
    if terms is None:
        groups = {nm: [j] for j, nm in enumerate(names)}
    else:
        groups = {}
        for term, cols in terms.items():
            missing = [c for c in cols if c not in names]
            if missing:
                raise PanNetError(f"cox_zph term {term!r} names columns {missing} that are not in the model.",
                                  f"Use columns from {names}.")
            groups[term] = [names.index(c) for c in cols]
    # KM of all rows (strata ignored), left-continuous: 1 - S(t-)
    km = kaplan_meier(d["t"], d["e"])
    kt = km.table["time"].to_numpy()
    ks = np.r_[1.0, km.table["surv"].to_numpy()]
    idx = np.searchsorted(kt, p.t, side="left")  # number of KM times strictly below t
    ttimes = 1 - ks[idx]
    gtime = ttimes - ttimes[p.e > 0].mean()
    q = d["q"]
    gk = gtime[p.first][p.exp_key]  # g at each Efron row
    m = q["m"]
    dead = p.e > 0
    # score for gamma: sum over deaths g (x - m_j averaged) = sum_j g (x_i - m_j) per tie set
    u_g = (gtime[dead][:, None] * p.x[dead]).sum(axis=0) - (gk[:, None] * m).sum(axis=0)
    I11 = q["imat"]
    I12 = _information(p, q["r"], q["den"], m, gk)
    I22 = _information(p, q["r"], q["den"], m, gk ** 2)
    imat = np.block([[I11, I12], [I12.T, I22]])
    u = np.r_[np.zeros(npar), u_g]
    rows = []
    for term, jj in groups.items():
        kk = list(range(npar)) + [npar + j for j in jj]
        stat = float(u[kk] @ np.linalg.solve(imat[np.ix_(kk, kk)], u[kk]))
        rows.append((term, stat, len(jj), float(chdtrc(len(jj), stat))))
    stat = float(u @ np.linalg.solve(imat, u))
    rows.append(("GLOBAL", stat, npar, float(chdtrc(npar, stat))))
    return pd.DataFrame(rows, columns=["term", "chisq", "df", "p"])
