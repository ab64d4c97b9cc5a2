"""Restricted mean survival time (RMST), equal to R's ``summary(survfit(...), rmean = tau)``.

The mean is lifelines' ``restricted_mean_survival_time`` of a (weighted)
``KaplanMeierFitter``.  The standard error is computed here: lifelines'
``return_variance`` is the variance of min(T, tau) in the population, not the
variance of the estimate, so it cannot give R's ``se(rmean)``.

Checked against R in ``tests/test_rmst.py`` (script
``tests/data/r_robust/make_reference.R``); formulas in ``docs/methods.md``.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtr, ndtri

from pannet_core.errors import PanNetError
from pannet_core.stats.checks import positive_number
from pannet_core.stats.survival import as_time_event


def _check_horizon(horizon) -> float:
    return positive_number(horizon, "RMST horizon (years)", "Give the horizon in years, e.g. 5.")


def _check_weights(weights, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    try:
        w = np.array(weights, dtype=float, copy=True).ravel()
    except (TypeError, ValueError):
        raise PanNetError("The RMST weights are not all numbers.",
                          "Pass one positive number per patient.") from None
    if w.size != n or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise PanNetError(f"The RMST needs {n} weights > 0, one per patient.",
                          "Pass one positive weight per patient (leave unmatched patients out).")
    return w


def _km_table(t: np.ndarray, e: np.ndarray, w: np.ndarray | None):
    """Fitted lifelines KM and its (weighted) numbers at risk / events per distinct time."""
    from lifelines import KaplanMeierFitter  # heavy import, only when an RMST is asked for

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns that matching weights are not integers
        kmf = KaplanMeierFitter().fit(t, e, weights=w)
    ww = np.ones_like(t) if w is None else w
    times, inv = np.unique(t, return_inverse=True)
    n_event = np.bincount(inv, weights=ww * e, minlength=times.size)
    removed = np.bincount(inv, weights=ww, minlength=times.size)
    n_risk = removed[::-1].cumsum()[::-1]
    return kmf, times, n_risk, n_event


def rmst(time, event, *, horizon: float, weights=None) -> dict | None:
    """Restricted mean survival time of one group to ``horizon``.

    Equal to R::

        summary(survfit(Surv(time, event) ~ 1), rmean = horizon)$table[c("rmean", "se(rmean)")]
        summary(survfit(Surv(time, event) ~ 1, weights = w, cluster = id), rmean = horizon)

    The estimate is the area under the Kaplan-Meier curve from 0 to the
    horizon.  The standard error is R's (``survival:::survmean``): with the
    distinct times t_j <= tau, A_j the area under the curve from t_j to tau,
    d_j events and n_j at risk (weighted sums with weights),
    se² = sum_j A_j² d_j / (n_j (n_j - d_j)) (terms with n_j = d_j are 0).
    R's ``se(rmean)`` uses the weighted counts only, never the cluster, so a
    cluster changes nothing here and is not an argument.

    Parameters
    ----------
    time, event : array-like
        Follow-up time (>= 0, same unit as ``horizon``) and 0/1 event.
    horizon : float
        tau, > 0.
    weights : array-like, optional
        Case weights (e.g. matching weights), > 0.

    Returns
    -------
    dict or None
        ``{"est", "se"}``; ``None`` when the horizon is past the last observed
        time (event or censoring), where the curve is not known.

    Raises
    ------
    PanNetError
        Bad times, events, weights or horizon.
    """
    from lifelines.utils import restricted_mean_survival_time

    tau = _check_horizon(horizon)
    t, e = as_time_event(time, event, what="RMST data")
    w = _check_weights(weights, t.size)
    if tau > t.max():
        return None
    kmf, times, n_risk, n_event = _km_table(t, e, w)
    est = float(restricted_mean_survival_time(kmf, t=tau))
    keep = times <= tau
    tt, nr, ne = times[keep], n_risk[keep], n_event[keep]
    surv = np.cumprod(1 - ne / nr)
    # area from each distinct time to tau: rectangles of the step function after t_j
    edges = np.r_[tt, tau]
    rect = np.diff(edges) * surv
    area_after = rect[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(nr - ne > 0, ne / (nr * (nr - ne)), 0.0)
    se = float(np.sqrt(np.sum(area_after ** 2 * hh)))
    return {"est": est, "se": se}


def rmst_difference(time, event, treated, *, horizon: float, weights=None, conf_level: float = 0.95) -> dict | None:
    """RMST per group and treated minus control, as CONTRACT.md's ``rmst`` block.

    Each group's RMST and se are :func:`rmst`; the difference has
    se = sqrt(se1² + se0²), a normal CI and a two-sided P.

    Parameters
    ----------
    time, event : array-like
        Follow-up time and 0/1 event of every patient of both groups.
    treated : array-like
        1 = treated, 0 = control.
    horizon : float
        tau (same unit as ``time``).
    weights : array-like, optional
        Matching weights, > 0.
    conf_level : float
        Confidence level of the difference's interval (default 0.95).

    Returns
    -------
    dict or None
        ``{"horizon", "treated": {"est", "se"}, "control": {"est", "se"},
        "difference": {"est", "lo", "hi", "p"}}``; ``None`` when the horizon is
        past either group's last observed time.

    Raises
    ------
    PanNetError
        Bad input, or a group without patients.
    """
    tau = _check_horizon(horizon)
    t, e = as_time_event(time, event, what="RMST data")
    w = _check_weights(weights, t.size)
    g = np.asarray(treated).ravel()
    if g.size != t.size or not np.isin(g, (0, 1, True, False)).all():
        raise PanNetError(f"The RMST needs one 0/1 treatment flag per patient ({t.size}).",
                          "Code treated as 1 and control as 0.")
    if not 0 < conf_level < 1:
        raise PanNetError(f"The confidence level {conf_level!r} is not between 0 and 1.", "Use e.g. 0.95.")
    g = g.astype(bool)
    if g.all() or not g.any():
        raise PanNetError("The RMST comparison needs patients in both groups.",
                          "Check that the matched sample has treated and control patients.")
    parts = {}
    for name, sel in (("treated", g), ("control", ~g)):
        parts[name] = rmst(t[sel], e[sel], horizon=tau, weights=None if w is None else w[sel])
        if parts[name] is None:
            return None
    diff = parts["treated"]["est"] - parts["control"]["est"]
    se = float(np.hypot(parts["treated"]["se"], parts["control"]["se"]))
    z = ndtri(0.5 + conf_level / 2)
    p = float(2 * ndtr(-abs(diff / se))) if se > 0 else (1.0 if diff == 0 else 0.0)
    return {"horizon": tau, "treated": parts["treated"], "control": parts["control"],
            "difference": {"est": float(diff), "lo": float(diff - z * se), "hi": float(diff + z * se), "p": p}}
