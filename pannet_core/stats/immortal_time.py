"""Immortal time: treatment as a time-dependent exposure, a landmark analysis and the naive (biased) one.

All three use every analysed patient before matching, with time measured
from the common origin (Pan-NET: the stage IV diagnosis) and
``exposure_time`` = time from that origin to treatment (NaN = never treated):

* :func:`time_varying_cox` - R ``coxph(Surv(tstart, tstop, event) ~ treated)``
  on ``tmerge(..., treated = tdc(exposure_time))`` data (Efron ties, computed
  here: see its docstring for why not with lifelines);
* :func:`landmark_cox` - R ``coxph(Surv(time - L, event) ~ treated)`` on the
  patients followed longer than the landmark L;
* :func:`naive_cox` - ever-treated counted from the origin, as if treated at
  time 0.  This is biased on purpose (the treated are "immortal" until their
  treatment); it is shown only to teach why the design matters.

Checked against R in ``tests/test_immortal_time.py`` (Stanford heart
transplant data, ``survival::jasa``); formulas in ``docs/methods.md``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from pannet_core.errors import PanNetError
from pannet_core.stats.cox import EPS, MAX_ITER, coxph
from pannet_core.stats.survival import as_time_event

Z975 = float(ndtri(0.975))


def _inputs(time, event, exposure_time) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, e = as_time_event(time, event, what="immortal-time analysis data")
    try:
        x = np.array(pd.to_numeric(pd.Series(np.asarray(exposure_time, dtype=object).ravel()), errors="raise"),
                     dtype=float)
    except (TypeError, ValueError):
        raise PanNetError("The exposure times are not all numbers (empty for never treated).",
                          "Give the time from origin to treatment in the time unit, empty if untreated.") from None
    if x.size != t.size:
        raise PanNetError(f"There are {x.size} exposure times for {t.size} patients.",
                          "Give one exposure time per patient (empty when never treated).")
    if np.isinf(x).any():
        raise PanNetError("An exposure time is infinite.", "Leave it empty when the patient was never treated.")
    return t, e, x


def _hr_block(coef: float, se: float) -> dict:
    z = coef / se
    return {"hr": float(np.exp(coef)), "lo": float(np.exp(coef - Z975 * se)),
            "hi": float(np.exp(coef + Z975 * se)), "p": float(2 * ndtr(-abs(z)))}


def _cox_block(t: np.ndarray, e: np.ndarray, treated: np.ndarray, what: str) -> dict:
    if treated.all() or not treated.any():
        raise PanNetError(f"The {what} needs treated and untreated patients.",
                          "Check the exposure times and the follow-up.")
    fit = coxph(t, e, pd.DataFrame({"treated": treated.astype(float)}))
    row = fit.table.iloc[0]
    return _hr_block(float(row["coef"]), float(row["se"]))


def exposure_intervals(time, event, exposure_time) -> pd.DataFrame:
    """Counting-process rows as R's ``tmerge(..., treated = tdc(exposure_time))``.

    A patient exposed at or before time 0 is treated from the start; one
    exposed strictly inside (0, time) gets an untreated row (0, exposure] and
    a treated row (exposure, time] carrying the event; one exposed at or after
    the end of follow-up, or never, stays untreated.  Patients with zero
    follow-up have no interval (R's ``tmerge`` refuses them) and are left out.

    Returns
    -------
    pandas.DataFrame
        ``id`` (row position in the input), ``start``, ``stop``, ``event``, ``treated``.
    """
    t, e, x = _inputs(time, event, exposure_time)
    if np.any(t < 0):
        raise PanNetError("A follow-up time is negative.", "Check the dates.")
    ids = np.arange(t.size)
    keep = t > 0
    ids, t, e, x = ids[keep], t[keep], e[keep], x[keep]
    with np.errstate(invalid="ignore"):
        from_start = x <= 0
        split = (x > 0) & (x < t)
    n_split = int(split.sum())
    return pd.DataFrame({
        "id": np.r_[ids, ids[split]],
        "start": np.r_[np.zeros(ids.size), x[split]],
        "stop": np.r_[np.where(split, x, t), t[split]],
        "event": np.r_[np.where(split, 0.0, e), e[split]],
        "treated": np.r_[from_start.astype(float), np.ones(n_split)],
    })


def _efron_pieces(beta: float, p: dict) -> tuple[float, float, float]:
    """Log partial likelihood, score and information of one covariate, Efron ties, counting process."""
    r = np.exp(beta * p["x"])
    sums = []
    for v in (r, r * p["x"], r * p["x"] ** 2):
        by_stop = np.r_[np.cumsum(v[p["by_stop"]][::-1])[::-1], 0.0]
        by_start = np.r_[np.cumsum(v[p["by_start"]][::-1])[::-1], 0.0]
        # at risk at s: stop >= s minus start >= s (those rows start later), i.e. start < s <= stop
        sums.append(by_stop[p["i_stop"]] - by_start[p["i_start"]])
    dead = p["dead"]
    tied = [np.bincount(p["dkey"], weights=v[dead], minlength=p["ntimes"]) for v in (r, r * p["x"], r * p["x"] ** 2)]
    k, f = p["ekey"], p["efrac"]  # one entry per death: its time and Efron fraction j/d
    den = sums[0][k] - f * tied[0][k]
    m1 = (sums[1][k] - f * tied[1][k]) / den
    m2 = (sums[2][k] - f * tied[2][k]) / den
    xd = p["x"][dead]
    return (float(beta * xd.sum() - np.log(den).sum()), float(xd.sum() - m1.sum()), float((m2 - m1 ** 2).sum()))


def _counting_cox(start: np.ndarray, stop: np.ndarray, event: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """coef and model-based se of ``coxph(Surv(start, stop, event) ~ x)``, Efron ties, R's Newton steps."""
    dead = event > 0
    times, dkey = np.unique(stop[dead], return_inverse=True)
    by_stop, by_start = np.argsort(stop, kind="stable"), np.argsort(start, kind="stable")
    d = np.bincount(dkey)
    order = np.argsort(dkey, kind="stable")
    rank = np.empty(dkey.size, dtype=int)
    rank[order] = np.arange(dkey.size) - np.repeat(np.cumsum(d) - d, d)
    p = {"x": x, "dead": dead, "dkey": dkey, "ntimes": times.size, "ekey": dkey, "efrac": rank / d[dkey],
         "by_stop": by_stop, "by_start": by_start,
         "i_stop": np.searchsorted(stop[by_stop], times, side="left"),
         "i_start": np.searchsorted(start[by_start], times, side="left")}
    beta = 0.0
    loglik_old, u, imat = _efron_pieces(beta, p)
    if imat <= 0:
        raise PanNetError("The time-varying Cox model needs treated and untreated patients at risk at the events.",
                          "Check the exposure times.")
    newbeta, halving = beta + u / imat, False
    for it in range(1, MAX_ITER + 1):  # coxfit6: the same steps give R's final iterate, not just a nearby one
        newlk, u, imat = _efron_pieces(newbeta, p)
        if abs(1 - loglik_old / newlk) <= EPS and not halving:
            step = abs(u / imat)  # R's check for an infinite coefficient (coxph.fit, toler.inf)
            if step > EPS and step > np.sqrt(EPS) * abs(newbeta):
                break
            return newbeta, 1 / np.sqrt(imat)
        if it == MAX_ITER:
            break
        if not np.isfinite(newlk) or newlk < loglik_old:
            halving, newbeta = True, (newbeta + beta) / 2
        else:
            halving, loglik_old, beta = False, newlk, newbeta
            newbeta = newbeta + u / imat
    raise PanNetError("The time-varying Cox hazard ratio is infinite or zero (monotone likelihood), "
                      f"or the fit did not converge in {MAX_ITER} iterations.",
                      "One group has (almost) no events; report the other analyses.")


def time_varying_cox(time, event, exposure_time) -> dict:
    """Cox model with treatment as a time-dependent exposure.

    Equal to R::

        d <- tmerge(base, base, id = id, event = event(time, event))
        d <- tmerge(d, base, id = id, treated = tdc(exposure_time))
        coxph(Surv(tstart, tstop, event) ~ treated, data = d)   # Efron ties

    Intervals as :func:`exposure_intervals`; model-based variance, Wald P.
    The fit is computed here (R's ``coxfit6`` Newton steps, Efron ties) and
    not with lifelines' ``CoxTimeVaryingFitter``: that one also uses Efron
    ties and gives the same HR, but its standard error differs from R's (by
    about 1e-5 relative with tied event times), so its CI and P are not R's.

    Parameters
    ----------
    time, event : array-like
        Follow-up from the origin and 0/1 event, one per patient.
    exposure_time : array-like
        Time from the origin to treatment, NaN (or empty) when never treated.

    Returns
    -------
    dict
        ``{"hr", "lo", "hi", "p"}``: treated vs untreated, 95 % CI.

    Raises
    ------
    PanNetError
        Bad input, no events, no treated (or no untreated) follow-up, or an
        infinite HR (monotone likelihood).
    """
    rows = exposure_intervals(time, event, exposure_time)
    if rows["event"].sum() == 0:
        raise PanNetError("The time-varying Cox model cannot be fitted: there are no events.",
                          "Check the event column (1 = event) and the follow-up.")
    if rows["treated"].nunique() < 2:
        raise PanNetError("The time-varying Cox model needs treated and untreated follow-up.",
                          "Check the exposure times: none falls inside the follow-up, or all do at time 0.")
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        coef, se = _counting_cox(rows["start"].to_numpy(), rows["stop"].to_numpy(),
                                 rows["event"].to_numpy(), rows["treated"].to_numpy())
    if not (np.isfinite(coef) and np.isfinite(se) and se > 0):
        raise PanNetError("The time-varying Cox hazard ratio is infinite or zero (monotone likelihood).",
                          "Report the other analyses; one group has (almost) no events.")
    return _hr_block(coef, se)


def landmark_cox(time, event, exposure_time, *, landmark: float) -> dict:
    """Landmark analysis: patients followed longer than ``landmark``, treated by then, timed from it.

    Equal to R::

        s <- d[d$time > L, ]
        s$treated <- !is.na(s$exposure_time) & s$exposure_time <= L
        coxph(Surv(time - L, event) ~ treated, data = s)

    Parameters
    ----------
    time, event, exposure_time : array-like
        As :func:`time_varying_cox`.
    landmark : float
        L >= 0, in the unit of ``time``.

    Returns
    -------
    dict
        ``{"hr", "lo", "hi", "p", "n"}``; ``n`` = patients followed longer than L.

    Raises
    ------
    PanNetError
        Bad input or landmark; no events after it; nobody (or everybody) treated by it.
    """
    t, e, x = _inputs(time, event, exposure_time)
    try:
        L = float(landmark)
    except (TypeError, ValueError):
        raise PanNetError(f"The landmark {landmark!r} is not a number.",
                          "Give the landmark in years, e.g. 0.5.") from None
    if not np.isfinite(L) or L < 0:
        raise PanNetError(f"The landmark must be a number of years >= 0, not {landmark!r}.",
                          "Give the landmark in years, e.g. 0.5.")
    keep = t > L
    if not keep.any() or e[keep].sum() == 0:
        raise PanNetError(f"No events after the landmark ({L:g}).", "Choose an earlier landmark.")
    with np.errstate(invalid="ignore"):
        treated = x[keep] <= L
    return {**_cox_block(t[keep] - L, e[keep], treated, f"landmark analysis at {L:g}"), "n": int(keep.sum())}


def naive_cox(time, event, exposure_time) -> dict:
    """The naive, immortal-time-biased analysis: ever-treated vs never, from the origin.

    Equal to R ``coxph(Surv(time, event) ~ !is.na(exposure_time))``.  A
    treated patient had to survive until treatment, and that time counts as
    treated, so the HR is biased in favour of treatment; show it only as the
    wrong answer beside the others.

    Parameters
    ----------
    time, event, exposure_time : array-like
        As :func:`time_varying_cox`; any recorded exposure time counts as treated.

    Returns
    -------
    dict
        ``{"hr", "lo", "hi", "p"}``.
    """
    t, e, x = _inputs(time, event, exposure_time)
    return _cox_block(t, e, ~np.isnan(x), "naive analysis")
