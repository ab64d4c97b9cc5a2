"""Kaplan-Meier estimates with Greenwood confidence intervals, equal to R's ``survfit``.

Everything here is checked against R's ``survival`` package (3.5.3) to 1e-10
relative in ``tests/test_km_reference.py``; the R script that made the
reference numbers is ``tests/data/r_survival/make_reference.R``.  Formulas are
in ``docs/methods.md``.

Why not lifelines' ``KaplanMeierFitter``: its estimates and log-log limits equal
ours (``tests/test_lifelines_oracle.py``) and it is about as fast (one curve of
110,000 rows: 21 ms here, 35 ms lifelines 0.30.3; ``bench/lifelines_peers.py``,
docs/benchmarks.md), but it has only log-log intervals and takes the first time
S <= 0.5 as the median, while results.json needs R's three ``conf.type`` and
``quantile.survfit``'s rule (the middle of a flat segment at S = 0.5).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri

from pannet_core.errors import PanNetError

CONF_TYPES = ("plain", "log", "log-log")
#: tolerance of R's ``quantile.survfit`` (``sqrt(.Machine$double.eps)``)
QUANTILE_TOL = float(np.sqrt(np.finfo(float).eps))


# ---------------------------------------------------------------- input checks
def as_time_event(time, event, *, what: str = "survival data") -> tuple[np.ndarray, np.ndarray]:
    """Validated float times and 0/1 float events (copies)."""
    try:
        t = np.array(time, dtype=float, copy=True).ravel()
    except (TypeError, ValueError):
        raise PanNetError(f"The follow-up times of the {what} are not all numbers.",
                          "Give the time as a number (years) for every patient.") from None
    try:
        e_raw = np.array(event, dtype=float, copy=True).ravel()
    except (TypeError, ValueError):
        raise PanNetError(f"The event indicator of the {what} is not all 0/1.",
                          "Code the event as 1 (event happened) or 0 (censored).") from None
    if t.size == 0:
        raise PanNetError(f"The {what} has no patients.",
                          "Check that the selection or group is not empty.")
    if t.size != e_raw.size:
        raise PanNetError(f"The {what} has {t.size} times but {e_raw.size} event values.",
                          "Give one time and one event value per patient.")
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise PanNetError(f"{bad.size} follow-up time(s) of the {what} are missing or not finite "
                          f"(first at position {bad[0]}).",
                          "Fill in or drop patients without follow-up time.")
    neg = np.flatnonzero(t < 0)
    if neg.size:
        raise PanNetError(f"{neg.size} follow-up time(s) of the {what} are negative "
                          f"(first {t[neg[0]]!r} at position {neg[0]}).",
                          "Check the dates: the end of follow-up must not be before time zero.")
    badev = np.flatnonzero(~np.isin(e_raw, (0.0, 1.0)))
    if badev.size:
        raise PanNetError(f"{badev.size} event value(s) of the {what} are not 0 or 1 "
                          f"(first {e_raw[badev[0]]!r} at position {badev[0]}).",
                          "Code the event as 1 (event happened) or 0 (censored).")
    return t, e_raw


def _check_conf(conf_type: str, conf_level: float) -> float:
    if conf_type not in CONF_TYPES:
        raise PanNetError(f"Confidence interval type {conf_type!r} is not known.",
                          f"Use one of {', '.join(CONF_TYPES)}.")
    if not isinstance(conf_level, (int, float)) or not 0 < conf_level < 1:
        raise PanNetError(f"Confidence level {conf_level!r} must be a fraction between 0 and 1.",
                          "Use 0.95 for 95 % intervals.")
    return float(ndtri(1 - (1 - conf_level) / 2))


# ---------------------------------------------------------------- core formulas
def confidence_limits(surv: np.ndarray, std_err: np.ndarray, conf_type: str, z: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits exactly as R's ``survival:::survfit_confint`` (``logse=TRUE``).

    ``std_err`` is the standard error of the cumulative hazard (of ``-log S``).
    NaN where R gives ``NA``/``NaN`` (S = 0 for all types, S = 1 for log-log).
    """
    p = np.asarray(surv, dtype=float)
    se = np.asarray(std_err, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if conf_type == "plain":
            se2 = se * p * z
            return np.maximum(p - se2, 0.0), np.minimum(p + se2, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se
            return np.exp(np.log(xx) - se2), np.minimum(np.exp(np.log(xx) + se2), 1.0)
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
            return lower, upper
    raise PanNetError(f"Confidence interval type {conf_type!r} is not known.",
                      f"Use one of {', '.join(CONF_TYPES)}.")


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float = QUANTILE_TOL) -> float | None:
    """R's ``survival:::findq``: the time where the step curve ``y`` (= 1 - S) reaches ``p``.

    ``x`` starts with the origin (0) and ``y`` with 0.  Flat segments at exactly
    ``p`` (within ``tol``) give the midpoint of the segment; a curve that stays
    at ``p`` to its end gives the midpoint up to the last time.  ``None`` when
    not reached.
    """
    if not np.any(np.isfinite(y)) or np.nanmax(y) < p:
        return None
    xmax = x[-1]
    # duplicated(): keep the first of equal values (NaN equal to NaN)
    keep = np.ones(y.size, dtype=bool)
    fin = np.isfinite(y)
    _, first = np.unique(y[fin], return_index=True)
    kf = np.zeros(fin.sum(), dtype=bool)
    kf[first] = True
    keep[fin] = kf
    nan_pos = np.flatnonzero(~fin)
    if nan_pos.size > 1:
        keep[nan_pos[1:]] = False
    x, y = x[keep], y[keep]
    n = y.size
    pos = np.flatnonzero(np.isfinite(y))  # approx() drops NA knots
    # approx() sorts its knots by value: where a pointwise limit is not monotone the
    # answer is the index of the smallest knot >= p, wherever it lies in time
    by_value = pos[np.argsort(y[pos], kind="stable")]

    def index(knots: np.ndarray) -> int | None:
        if p < knots[0] or p > knots[-1]:
            return None
        return int(by_value[np.searchsorted(knots, p, side="left")])

    i1 = index(y[by_value] + tol)
    i2 = index(y[by_value] - tol)
    if p == 0:
        return float(x[0])
    quant = None if (i1 is None or i2 is None) else (x[i1] + x[i2]) / 2
    if np.isfinite(y[n - 1]) and abs(p - y[n - 1]) < tol:
        quant = None if i1 is None else (x[i1] + xmax) / 2
    return None if quant is None or not np.isfinite(quant) else float(quant)


# ---------------------------------------------------------------- result
@dataclass(frozen=True)
class KMResult:
    """A Kaplan-Meier curve (one group).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct time (events or censorings), as
        ``summary(survfit(...), censored=TRUE)``: ``time, n_risk, n_event,
        n_censor, surv, std_err, lower, upper``.  ``std_err`` is R's
        ``fit$std.err``: the Greenwood standard error of the cumulative hazard
        (of log S), not of S.
    n, events : int
        Patients and events.
    conf_type : str
        ``"plain"``, ``"log"`` or ``"log-log"`` (R's ``conf.type``).
    conf_level : float
    """

    table: pd.DataFrame
    n: int
    events: int
    conf_type: str
    conf_level: float
    _arrays: dict = field(repr=False, compare=False, default_factory=dict)
    _medians: list = field(repr=False, compare=False, default_factory=list)  # median()'s answer, once known

    def with_conf_type(self, conf_type: str) -> "KMResult":
        """The same curve with the pointwise limits of another confidence-interval type.

        Equal to ``kaplan_meier(time, event, conf_type=conf_type, conf_level=self.conf_level)`` on the
        data of this curve (the limits come from the same ``surv`` and ``std_err`` by the same
        :func:`confidence_limits`), without going through the data again.

        Parameters
        ----------
        conf_type : {"plain", "log", "log-log"}
            R's ``conf.type``.

        Returns
        -------
        KMResult
            ``self`` when ``conf_type`` is its own type.
        """
        if conf_type == self.conf_type:
            return self
        z = _check_conf(conf_type, self.conf_level)
        a = self._arrays
        lower, upper = confidence_limits(a["surv"], self.table["std_err"].to_numpy(dtype=float), conf_type, z)
        table = self.table.assign(lower=lower, upper=upper)
        return KMResult(table=table, n=self.n, events=self.events, conf_type=conf_type, conf_level=self.conf_level,
                        _arrays={**a, "lower": lower, "upper": upper})

    # -- quantiles -----------------------------------------------------------
    def quantile(self, p: float) -> tuple[float | None, float | None, float | None]:
        """Time by which a fraction ``p`` has had the event, with its confidence limits.

        Equal to ``quantile(survfit(Surv(time, event) ~ 1, conf.type=...), probs=p)``
        (R ``quantile.survfit``): the first time S <= 1 - p; where S equals
        1 - p exactly (to ``sqrt(.Machine$double.eps)``) over a flat segment,
        the midpoint of that segment.  The limits are where the upper and lower
        pointwise curves reach 1 - p.  ``None`` where a curve never gets there.

        Returns
        -------
        (est, lo, hi)
        """
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise PanNetError(f"Quantile probability {p!r} must be between 0 and 1.",
                              "Use 0.5 for the median.")
        a = self._arrays
        x = np.concatenate(([0.0], a["time"]))
        est = _findq(x, np.concatenate(([0.0], 1 - a["surv"])), float(p))
        lo = _findq(x, np.concatenate(([0.0], 1 - a["lower"])), float(p))
        hi = _findq(x, np.concatenate(([0.0], 1 - a["upper"])), float(p))
        return est, lo, hi

    def median(self) -> tuple[float | None, float | None, float | None]:
        """Median survival time and confidence interval (R ``print.survfit`` / ``quantile(fit, 0.5)``)."""
        if not self._medians:  # (the curve never changes: computed once, for the summary, results.json, figures)
            self._medians.append(self.quantile(0.5))
        return self._medians[0]

    # -- values at chosen times ---------------------------------------------
    def n_at_risk(self, times: Sequence[float]) -> np.ndarray:
        """Patients at risk at the start of each time (``time >= t``), as R's ``summary(fit, times=)$n.risk``.

        Past the last observed time this is 0 (R drops those rows).
        """
        t = _times(times)
        sorted_time = self._arrays["sorted_time"]
        return (sorted_time.size - np.searchsorted(sorted_time, t, side="left")).astype(int)

    def survival_at(self, times: Sequence[float]) -> pd.DataFrame:
        """Survival and pointwise limits at chosen times, as R ``summary(fit, times=, extend=FALSE)``.

        The curve is right-continuous (an event at ``t`` counts at ``t``); before
        the first event S = 1 with limits 1 (as R, also for log-log).  Times after the last observed time
        (event or censoring) give NaN, because R's ``extend=FALSE`` drops them.

        Returns
        -------
        pandas.DataFrame with columns ``time, surv, lower, upper``.
        """
        t, surv, lower, upper = self._at(times)
        return pd.DataFrame({"time": t, "surv": surv, "lower": lower, "upper": upper})

    def _at(self, times: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`survival_at`'s columns ``time, surv, lower, upper`` as arrays (no DataFrame)."""
        t = _times(times)
        a = self._arrays
        idx = np.searchsorted(a["time"], t, side="right") - 1
        # before the first event (idx < first event row) R's summary() gives S = 1 with limits 1,
        # although the censored-only rows of the table have NA limits for log-log
        n_ev = self.table["n_event"].to_numpy()
        first_event = int(np.argmax(n_ev > 0)) if n_ev.any() else a["time"].size
        started = idx >= first_event
        j = np.maximum(idx, 0)
        surv = np.where(started, a["surv"][j], 1.0)
        lower = np.where(started, a["lower"][j], 1.0)
        upper = np.where(started, a["upper"][j], 1.0)
        beyond = t > a["time"][-1]
        for arr in (surv, lower, upper):
            arr[beyond] = np.nan
        return t, surv, lower, upper


def _times(times) -> np.ndarray:
    try:
        t = np.array(times, dtype=float, copy=True).ravel()
    except (TypeError, ValueError):
        raise PanNetError("The time points asked for are not all numbers.",
                          "Give time points in years, e.g. [1, 3, 5].") from None
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise PanNetError(f"The time points {t.tolist()} must be finite and not negative.",
                          "Give time points in years, e.g. [1, 3, 5].")
    return t


# ---------------------------------------------------------------- estimator
def kaplan_meier(time, event, *, conf_type: str = "log-log", conf_level: float = 0.95,
                 weights=None, cluster=None) -> KMResult:
    """Kaplan-Meier survival curve with Greenwood confidence intervals.

    Equal to R::

        fit <- survfit(Surv(time, event) ~ 1, conf.type = conf_type, conf.int = conf_level)

    Parameters
    ----------
    time : array-like of float
        Follow-up time (years), >= 0.
    event : array-like of 0/1 (or bool)
        1 = event, 0 = censored.
    conf_type : {"plain", "log", "log-log"}
        R's ``conf.type``: ``plain`` S ± z·S·se clipped to [0, 1] (the linear
        Greenwood interval SPSS prints); ``log`` exp(log S ± z·se) capped at 1;
        ``log-log`` exp(-exp(log(-log S) ∓ z·se/log S)).  ``se`` is the
        Greenwood standard error of the cumulative hazard.
    conf_level : float
        0.95 for 95 % intervals.
    weights, cluster : array-like, optional
        Case weights and cluster ids (matched set or patient): the weighted
        curve with R's robust (infinitesimal jackknife) standard error, as
        ``survfit(Surv(time, event) ~ 1, weights = w, cluster = cl)``; see
        :func:`weighted_kaplan_meier`.

    Returns
    -------
    KMResult

    Raises
    ------
    PanNetError
        Empty input, negative or missing times, events other than 0/1.
    """
    if weights is not None or cluster is not None:
        return weighted_kaplan_meier(time, event, weights, cluster, conf_type=conf_type, conf_level=conf_level)
    z = _check_conf(conf_type, conf_level)
    t, e = as_time_event(time, event)
    ts = np.sort(t)  # sorting two plain float arrays is faster than one argsort
    te = np.sort(t[e == 1])
    last = np.flatnonzero(np.r_[ts[1:] != ts[:-1], True])  # last index of each distinct time
    first = np.r_[0, last[:-1] + 1]
    utime = ts[last]
    n_total = (last - first + 1).astype(float)
    n_event = (np.searchsorted(te, utime, side="right") - np.searchsorted(te, utime, side="left")).astype(float)
    n_risk = ts.size - first.astype(float)
    n_censor = n_total - n_event
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - n_event / n_risk)
        term = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    std_err = np.sqrt(np.cumsum(term))
    lower, upper = confidence_limits(surv, std_err, conf_type, z)
    table = pd.DataFrame({"time": utime, "n_risk": n_risk.astype(int), "n_event": n_event.astype(int),
                          "n_censor": n_censor.astype(int), "surv": surv, "std_err": std_err,
                          "lower": lower, "upper": upper})
    arrays = {"time": utime, "surv": surv, "lower": lower, "upper": upper, "sorted_time": ts}
    return KMResult(table=table, n=int(t.size), events=int(e.sum()), conf_type=conf_type,
                    conf_level=float(conf_level), _arrays=arrays)


def weighted_kaplan_meier(time, event, weights=None, cluster=None, *, conf_type: str = "log-log",
                          conf_level: float = 0.95) -> KMResult:
    """Weighted Kaplan-Meier curve with the robust (clustered) standard error of R's ``survfit``.

    Equal to R::

        survfit(Surv(time, event) ~ 1, weights = w, cluster = cl, conf.type = conf_type)

    S(t) = prod (1 - d_k / n_k) over event times t_k <= t with weighted deaths d_k and
    weighted numbers at risk n_k.  The variance is the infinitesimal jackknife: the
    derivative of S(t) with respect to patient i's weight,
    ``U_i(t) = -S(t) sum_{t_k <= t} (dN_i(t_k) - Y_i(t_k) d_k / n_k) / (n_k - d_k)``,
    is multiplied by ``w_i``, summed within each cluster, and the squares of the
    cluster sums are added (``cluster`` None: each patient its own cluster).  R then
    gives the limits from se(S) / S on the log scale (``logse = FALSE``), which is what
    ``table["std_err"]`` holds here (0 where se(S) is 0).

    ``table`` has the weighted ``n_risk``, ``n_event`` and ``n_censor`` (as R's
    ``fit$n.risk``); ``n`` and ``events`` count patients (rows), not weights.
    """
    z = _check_conf(conf_type, conf_level)
    t, e = as_time_event(time, event)
    n_obs = t.size
    w = np.ones(n_obs) if weights is None else np.array(weights, dtype=float, copy=True).ravel()
    if w.size != n_obs or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise PanNetError(f"The weights of the survival data must be {n_obs} numbers >= 0.",
                          "Pass one matching weight per patient.")
    if cluster is None:
        cl = np.arange(n_obs)
    else:
        cl = pd.factorize(pd.Series(np.asarray(cluster)).reset_index(drop=True))[0]
        if cl.size != n_obs or np.any(cl < 0):
            raise PanNetError("Every patient of the survival data needs one cluster id.",
                              "Pass the matched set (or the patient id) of every patient.")
    utime, k_of = np.unique(t, return_inverse=True)
    K = utime.size
    n_total = np.bincount(k_of, weights=w, minlength=K)
    n_event = np.bincount(k_of, weights=w * e, minlength=K)
    n_risk = np.cumsum(n_total[::-1])[::-1]
    n_censor = n_total - n_event
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n_event > 0, n_event / n_risk, 0.0)
        surv = np.cumprod(1.0 - h)
        left = n_risk - n_event
        steps = (n_event > 0) & (left > 0)  # (where all at risk die S becomes 0 and so does its influence)
        a_k = np.where(steps, h / left, 0.0)     # the at-risk part of each step of the influence
        b_k = np.where(steps, 1.0 / left, 0.0)   # the own-event part
    A = np.cumsum(a_k)
    # U_i(t_k) / -S = b_i [k >= k_i] - A_{min(k, k_i)}.  Per cluster c, the sum of w_i times that
    # is Q_c(k) - A_k R_c(k), R_c = weight of members with k_i > k, Q_c = sum of w_i (b_i e_i - A_{k_i})
    # over members with k_i <= k; sum_c (Q_c - A_k R_c)^2 follows from running sums of R^2, RQ, Q^2.
    wq = w * (e * b_k[k_of] - A[k_of])
    order = np.lexsort((k_of, cl))
    c_s, k_s = cl[order], k_of[order]
    grp = np.r_[True, (c_s[1:] != c_s[:-1]) | (k_s[1:] != k_s[:-1])]
    starts = np.flatnonzero(grp)
    g_c, g_k = c_s[starts], k_s[starts]
    dR = -np.add.reduceat(w[order], starts)
    dQ = np.add.reduceat(wq[order], starts)
    n_cl = int(cl.max()) + 1
    W_c = np.bincount(cl, weights=w, minlength=n_cl)
    new_c = np.r_[True, g_c[1:] != g_c[:-1]]
    # R and Q of the cluster after each change (cumulative within the cluster)
    cum_R = np.cumsum(dR)
    cum_Q = np.cumsum(dQ)
    first = np.flatnonzero(new_c)
    run = np.cumsum(new_c) - 1
    base_R = np.r_[0.0, cum_R][first][run]
    base_Q = np.r_[0.0, cum_Q][first][run]
    R_after = W_c[g_c] + cum_R - base_R
    Q_after = cum_Q - base_Q
    R_before = R_after - dR
    Q_before = Q_after - dQ
    d_rr = np.bincount(g_k, weights=R_after ** 2 - R_before ** 2, minlength=K)
    d_rq = np.bincount(g_k, weights=R_after * Q_after - R_before * Q_before, minlength=K)
    d_qq = np.bincount(g_k, weights=Q_after ** 2 - Q_before ** 2, minlength=K)
    s_rr = np.sum(W_c ** 2) + np.cumsum(d_rr)
    s_rq = np.cumsum(d_rq)
    s_qq = np.cumsum(d_qq)
    var_rel = np.maximum(A * A * s_rr - 2 * A * s_rq + s_qq, 0.0)  # var(S) / S^2
    # constant between event times (a censoring moves R and Q but not the sum): carried from the
    # last event exactly, so that equal limits stay equal for findq's duplicated()
    last_event = np.maximum.accumulate(np.where(n_event > 0, np.arange(K), 0))
    var_rel = var_rel[last_event]
    started = np.cumsum(n_event > 0) > 0
    std_err = np.where(started, np.sqrt(var_rel), 0.0)  # = R's se(S) / S: 0 before the first event
    std_err = np.where(surv == 0, 0.0, std_err)  # se(S) = 0 there, and R's se / S is 0 where se is 0
    lower, upper = confidence_limits(surv, std_err, conf_type, z)
    table = pd.DataFrame({"time": utime, "n_risk": n_risk, "n_event": n_event, "n_censor": n_censor,
                          "surv": surv, "std_err": std_err, "lower": lower, "upper": upper})
    arrays = {"time": utime, "surv": surv, "lower": lower, "upper": upper, "sorted_time": np.sort(t)}
    return KMResult(table=table, n=int(n_obs), events=int(e.sum()), conf_type=conf_type,
                    conf_level=float(conf_level), _arrays=arrays)


def median_followup(time, event) -> float | None:
    """Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith 1996).

    Censoring is treated as the event and events as censoring; equal to R::

        quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5)$quantile

    Returns ``None`` when the reverse curve does not reach 0.5.
    """
    t, e = as_time_event(time, event)
    return kaplan_meier(t, 1.0 - e).median()[0]
