"""Unmeasured confounding: the E-value and Rosenbaum's sensitivity Γ for matched pairs.

* E-value (VanderWeele & Ding 2017), the formulas of R's ``EValue::evalues.HR``.
* Rosenbaum's bound for the sign test on the informative pairs of a 1:1
  matching (Rosenbaum 2002, ch. 4): the upper bound of the one-sided P at
  sensitivity Γ is P(Binomial(n, Γ/(1+Γ)) >= t).

Definitions in CONTRACT.md ("Is the answer robust?"); checked against R in
``tests/test_confounding.py``.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import betaincinv
from scipy.stats import binom

from pannet_core.errors import PanNetError
from pannet_core.stats.checks import finite_array, positive_number

#: outcome counted as rare below this fraction with the event (EValue's ``rare`` rule of thumb)
RARE_FRACTION = 0.15
#: one-sided level of the Rosenbaum bound
ALPHA = 0.05
GRID_STEP = 0.01


def _positive(name: str, value) -> float:
    return positive_number(value, name, "Pass the hazard ratio and its confidence limits as positive numbers.")


def outcome_is_rare(events: int, n: int) -> bool:
    """True when fewer than 15 % of the ``n`` patients had the event (``events / n < 0.15``)."""
    if n <= 0 or events < 0 or events > n:
        raise PanNetError(f"Cannot tell whether the outcome is rare from {events} events in {n} patients.",
                          "Pass the number of distinct matched patients and how many had the event.")
    return events / n < RARE_FRACTION


def _rr(hr: float, rare: bool) -> float:
    rr = hr if rare else (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
    return 1 / rr if rr < 1 else rr


def _e(rr: float) -> float:
    return rr + math.sqrt(rr * (rr - 1))


def e_value(hr: float, lo: float, hi: float, *, rare: bool) -> dict:
    """E-value of a hazard ratio and of its confidence limit.

    Equal to R ``EValue::evalues.HR(hr, lo, hi, rare = rare)`` (row "E-values"):
    RR = HR when the outcome is rare, else
    RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)); an RR below 1 is
    inverted; E = RR + sqrt(RR (RR - 1)).

    Parameters
    ----------
    hr, lo, hi : float
        Hazard ratio and its confidence limits (lo <= hr <= hi), all > 0.
    rare : bool
        Outcome rare (see :func:`outcome_is_rare`).

    Returns
    -------
    dict
        ``{"point", "ci"}``: ``ci`` is the E-value of the limit closer to 1,
        and 1 when the interval contains 1.

    Raises
    ------
    PanNetError
        A value that is not a positive number, or limits that do not bracket the HR.
    """
    hr, lo, hi = _positive("hazard ratio", hr), _positive("lower limit", lo), _positive("upper limit", hi)
    if not lo <= hr <= hi:
        raise PanNetError(f"The confidence interval {lo:g} to {hi:g} does not contain the hazard ratio {hr:g}.",
                          "Pass the lower limit, the hazard ratio and the upper limit in that order.")
    if lo <= 1 <= hi:
        ci = 1.0
    else:
        ci = _e(_rr(hi if hr < 1 else lo, rare))
    return {"point": _e(_rr(hr, rare)), "ci": ci}


def rosenbaum_p(n: int, t: int, gamma: float) -> float:
    """Upper bound of the one-sided sign-test P at sensitivity Γ: P(Binomial(n, Γ/(1+Γ)) >= t).

    R: ``pbinom(t - 1, n, gamma / (1 + gamma), lower.tail = FALSE)``.
    """
    return float(binom.sf(t - 1, n, gamma / (1 + gamma)))


def rosenbaum_gamma(n: int, t: int) -> float | None:
    """Largest Γ on the grid 1.00, 1.01, ... with :func:`rosenbaum_p` below 0.05.

    The bound rises with Γ, so the grid point is found from the root of
    I_p(t, n - t + 1) = 0.05 (p = Γ/(1+Γ)) and then checked on the grid itself.
    ``None`` when P is not below 0.05 at Γ = 1.
    """
    if n == 0 or rosenbaum_p(n, t, 1.0) >= ALPHA:
        return None
    p_star = float(betaincinv(t, n - t + 1, ALPHA))
    k = 0 if p_star >= 1 else max(0, int(math.floor((p_star / (1 - p_star) - 1) / GRID_STEP)))
    grid = lambda j: round(1 + j * GRID_STEP, 2)  # noqa: E731 - grid values as R's round(seq(...), 2)
    while k > 0 and rosenbaum_p(n, t, grid(k)) >= ALPHA:
        k -= 1
    while rosenbaum_p(n, t, grid(k + 1)) < ALPHA:
        k += 1
    return grid(k)


def rosenbaum(treated_time, treated_event, control_time, control_event, *, hr: float) -> dict:
    """Rosenbaum's sensitivity analysis of 1:1 matched pairs (sign test on informative pairs).

    A pair is informative when the shorter of its two times is an event and
    the other time is strictly longer.  ``favoured`` is ``treated`` when the
    matched HR is below 1, else ``control``; ``t`` counts the informative
    pairs in which the patient of the other group had the event first.

    Parameters
    ----------
    treated_time, treated_event, control_time, control_event : array-like
        One entry per pair: the treated and the control member's time and 0/1 event.
    hr : float
        Matched hazard ratio (treated vs control), which sets the favoured group.

    Returns
    -------
    dict
        ``{"n_informative", "favoured", "t", "p_gamma1", "gamma"}``;
        ``gamma`` is :func:`rosenbaum_gamma` (``None`` when P >= 0.05 at Γ = 1).

    Raises
    ------
    PanNetError
        Arrays of different lengths, non-numeric or negative times, events not 0/1, or an HR that is not positive.
    """
    hr = _positive("hazard ratio", hr)
    arrs = []
    for name, v in (("treated times", treated_time), ("treated events", treated_event),
                    ("control times", control_time), ("control events", control_event)):
        arrs.append(finite_array(v, f"{name} of the matched pairs", "Pass one number per pair."))
    tt, te, ct, ce = arrs
    if not tt.size == te.size == ct.size == ce.size:
        raise PanNetError("The matched pairs' times and events have different lengths.",
                          "Pass one treated and one control time and event per pair.")
    if np.any(tt < 0) or np.any(ct < 0):
        raise PanNetError("A follow-up time of a matched pair is negative.", "Check the dates.")
    if not (np.isin(te, (0, 1)).all() and np.isin(ce, (0, 1)).all()):
        raise PanNetError("The events of the matched pairs are not all 0/1.",
                          "Code the event as 1 (event happened) or 0 (censored).")
    control_first = (ct < tt) & (ce == 1)
    treated_first = (tt < ct) & (te == 1)
    n = int(control_first.sum() + treated_first.sum())
    favoured = "treated" if hr < 1 else "control"
    t = int(control_first.sum() if favoured == "treated" else treated_first.sum())
    return {"n_informative": n, "favoured": favoured, "t": t,
            "p_gamma1": rosenbaum_p(n, t, 1.0), "gamma": rosenbaum_gamma(n, t)}
