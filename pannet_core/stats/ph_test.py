"""Proportional-hazards test of the (weighted) treated-vs-control Cox model, equal to R's ``cox.zph``.

``pannet_core.stats.cox.cox_zph`` equals R for unweighted fits (clustered or
not, so for 1:1 matching without replacement), but ignores case weights:
on a fit with matching weights R's ``cox.zph`` weights each death's score
and information, and this module does the same for the one-covariate
matched model.  Checked against R in ``tests/test_ph_test.py``; formulas in
``docs/methods.md``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from pannet_core.errors import PanNetError
from pannet_core.stats.cox import coxph
from pannet_core.stats.survival import as_time_event, kaplan_meier


def _pieces(time, event, treated, weights) -> dict:
    """Per-death quantities of the weighted one-covariate Cox fit (Efron steps), shared by test and residuals."""
    t, e = as_time_event(time, event, what="proportional-hazards test data")
    x = np.asarray(treated, dtype=float).ravel()
    if x.size != t.size or not np.isin(x, (0, 1)).all():
        raise PanNetError(f"The proportional-hazards test needs one 0/1 treatment flag per patient ({t.size}).",
                          "Code treated as 1 and control as 0.")
    fit = coxph(t, e, pd.DataFrame({"treated": x}), weights=weights)
    beta = float(fit.table["coef"].iloc[0])
    w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=float).ravel()
    km = kaplan_meier(t, e)
    ks = np.r_[1.0, km.table["surv"].to_numpy()]
    ttimes = 1 - ks[np.searchsorted(km.table["time"].to_numpy(), t, side="left")]
    g_all = ttimes - ttimes[e > 0].mean()
    r = w * np.exp(beta * (x - x.mean()))  # centring as R's linear predictors; cancels in the means
    times, inv = np.unique(t, return_inverse=True)
    at = [np.bincount(inv, weights=v, minlength=times.size) for v in (r, r * x)]
    s0, s1 = (a[::-1].cumsum()[::-1] for a in at)  # sums over t_i >= s (x² = x for 0/1)
    dead = e > 0
    dk = inv[dead]
    d = np.bincount(dk, minlength=times.size)
    d0 = np.bincount(dk, weights=r[dead], minlength=times.size)
    d1 = np.bincount(dk, weights=(r * x)[dead], minlength=times.size)
    wbar = np.bincount(dk, weights=w[dead], minlength=times.size)
    g = np.zeros(times.size)
    g[dk] = g_all[dead]
    ev = np.flatnonzero(d)
    key = np.repeat(ev, d[ev])  # one entry per death, Efron step k / d
    step = np.arange(key.size) - np.repeat(np.cumsum(d[ev]) - d[ev], d[ev])
    f = step / d[key]
    xbar = (s1[key] - f * d1[key]) / (s0[key] - f * d0[key])
    mw = wbar[key] / d[key]
    return {"t": t, "e": e, "x": x, "beta": beta, "ttimes": ttimes, "inv": inv, "dead": dead, "d": d, "g": g,
            "ev": ev, "key": key, "xbar": xbar, "mw": mw, "v": mw * (xbar - xbar ** 2),
            "wx": np.bincount(dk, weights=(w * x)[dead], minlength=times.size)}


def ph_test(time, event, treated, *, weights=None) -> dict:
    """Grambsch-Therneau score test of proportional hazards for ``treated``, KM time scale.

    Equal to R::

        fit <- coxph(Surv(time, event) ~ treated, weights = w, cluster = set)  # Efron ties
        cox.zph(fit, transform = "km")$table["treated", ]

    With g(t) = 1 - S_KM(t-) (unweighted KM of all rows) centred on its mean
    over the events, and at each death time s with tied deaths D (d of them,
    mean weight w̄), risk-set weights w_i exp(b x_i) and Efron steps k = 0..d-1
    giving the weighted mean x̄_k and variance v_k:
    U = sum_s g(s) (sum_D w_i x_i - w̄ sum_k x̄_k), I_bb = sum_s w̄ sum_k v_k,
    I_bg = sum_s g(s) w̄ sum_k v_k, I_gg = sum_s g(s)² w̄ sum_k v_k and
    chisq = U² I_bb / (I_bb I_gg - I_bg²) on 1 df.  A cluster does not enter
    (R's ``cox.zph`` uses the model-based information).

    Parameters
    ----------
    time, event : array-like
        Follow-up and 0/1 event of each distinct matched patient.
    treated : array-like
        1 = treated, 0 = control.
    weights : array-like, optional
        Matching weights, > 0.

    Returns
    -------
    dict
        ``{"chisq", "df", "p"}`` (df = 1).

    Raises
    ------
    PanNetError
        Bad input or a Cox model that cannot be fitted.
    """
    q = _pieces(time, event, treated, weights)
    g, key, ev, v, xbar, mw = q["g"], q["key"], q["ev"], q["v"], q["xbar"], q["mw"]
    u_g = float(np.sum(g[ev] * q["wx"][ev]) - np.sum(g[key] * mw * xbar))
    i_bb, i_bg, i_gg = float(v.sum()), float((g[key] * v).sum()), float((g[key] ** 2 * v).sum())
    det = i_bb * i_gg - i_bg ** 2
    if not det > 0:
        raise PanNetError("The proportional-hazards test cannot be computed (too few distinct event times).",
                          "Report the RMST; the test needs events at several times.")
    chisq = u_g ** 2 * i_bb / det
    return {"chisq": float(chisq), "df": 1, "p": float(chdtrc(1, chisq))}


def ph_residuals(time, event, treated, *, weights=None) -> pd.DataFrame:
    """Scaled Schoenfeld residuals of ``treated`` for the proportional-hazards plot.

    Equal to R ``z <- cox.zph(fit, transform = "km")``: ``z$time``, ``z$x``
    (1 - S_KM(t-)) and ``z$y`` (beta + residual x number of events / I_bb,
    the residual being x minus the Efron-averaged risk-set mean at the death
    time), one row per event in time order.  A smooth of ``residual`` against
    ``x`` that is flat at ``beta`` means proportional hazards.

    Parameters
    ----------
    time, event, treated, weights
        As :func:`ph_test`.

    Returns
    -------
    pandas.DataFrame
        ``time, x, residual``, plus the fitted ``beta`` in ``attrs["beta"]``.
    """
    q = _pieces(time, event, treated, weights)
    d, key, ev = q["d"], q["key"], q["ev"]
    tie_mean = np.bincount(key, weights=q["xbar"], minlength=d.size)[ev] / d[ev]  # Efron: mean of the x̄_k
    mean_at = np.zeros(d.size)
    mean_at[ev] = tie_mean
    order = np.argsort(q["t"], kind="stable")
    order = order[q["dead"][order]]
    raw = q["x"][order] - mean_at[q["inv"][order]]
    n_events = int(q["dead"].sum())
    out = pd.DataFrame({"time": q["t"][order], "x": q["ttimes"][order],
                        "residual": q["beta"] + raw * n_events / float(q["v"].sum())})
    out.attrs["beta"] = q["beta"]
    return out
