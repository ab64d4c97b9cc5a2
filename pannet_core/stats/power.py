"""Number of events and patients for a two-group survival comparison.

Schoenfeld (1983) events for the log-rank / Cox test, optionally Freedman
(1982), and the sample size that makes that many events likely.  How the two
seed studies' numbers come out is worked through in
``docs/methods.md`` and checked in ``tests/test_power.py``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri

from pannet_core.errors import PanNetError

METHODS = ("schoenfeld", "freedman")
ROUNDINGS = ("none", "ceil", "nearest")


def _check(hr, power, alpha, allocation) -> None:
    for name, v in (("hazard ratio", hr), ("power", power), ("alpha", alpha), ("allocation", allocation)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise PanNetError(f"The {name} {v!r} is not a number.", "Give a number, e.g. hr=0.5, power=0.8.")
    if hr <= 0 or hr == 1:
        raise PanNetError(f"The hazard ratio {hr!r} must be positive and not 1.",
                          "Give the smallest clinically relevant effect, e.g. 0.5 or 2.")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise PanNetError(f"Power {power!r} and alpha {alpha!r} must be fractions between 0 and 1.",
                          "Use e.g. power=0.8 and alpha=0.05.")
    if not 0 < allocation < 1:
        raise PanNetError(f"The allocation {allocation!r} must be the fraction in one group (0 to 1).",
                          "Use 0.5 for equal groups.")


def events_needed(hr: float, power: float = 0.8, alpha: float = 0.05, allocation: float = 0.5,
                  *, method: str = "schoenfeld") -> float:
    """Number of events needed for a two-sided test of a hazard ratio (not rounded).

    Schoenfeld (1983)::

        D = (z_{1-alpha/2} + z_{power})^2 / (a (1 - a) log(hr)^2)

    with ``a`` the fraction allocated to one group (4 (z+z)^2 / log(hr)^2 for
    equal groups).  Freedman (1982), equal groups only in the classic form,
    here with allocation ratio k = a / (1 - a)::

        D = (z_{1-alpha/2} + z_{power})^2 (1 + k hr)^2 / (k (1 - hr)^2)

    HR 0.5, 80 %, 0.05 gives 65.3 (seed 000: "some 65 events");
    HR 2.5 gives 37.4, i.e. 38 (seed 001).
    """
    _check(hr, power, alpha, allocation)
    if method not in METHODS:
        raise PanNetError(f"Method {method!r} is not known.", f"Use one of {', '.join(METHODS)}.")
    z = ndtri(1 - alpha / 2) + ndtri(power)
    if method == "schoenfeld":
        return float(z ** 2 / (allocation * (1 - allocation) * math.log(hr) ** 2))
    k = allocation / (1 - allocation)
    return float(z ** 2 * (1 + k * hr) ** 2 / (k * (1 - hr) ** 2))


@dataclass(frozen=True)
class SampleSize:
    """Result of :func:`sample_size`.

    Attributes
    ----------
    events : float
        Events needed (after ``events_rounding``).
    prob_event : float
        Probability that a patient has the event during follow-up.
    n_total, n_group1, n_group2 : int
        Patients (total rounded up; groups by allocation, rounded up).
    """

    events: float
    prob_event: float
    n_total: int
    n_group1: int
    n_group2: int


def sample_size(hr: float, power: float = 0.8, alpha: float = 0.05,
                survival_control_at_followup: float | None = None, *, allocation: float = 0.5,
                survival_treated_at_followup: float | None = None, method: str = "schoenfeld",
                events_rounding: str = "none") -> SampleSize:
    """Patients needed so that the expected number of events reaches :func:`events_needed`.

    ``N = D / P(event)``.  ``P(event)`` is ``1 - survival_control_at_followup``
    (the survival at the end of follow-up taken for every patient, as both
    seed studies did), or, when ``survival_treated_at_followup`` is given, the
    allocation-weighted mean ``a (1 - S_1) + (1 - a)(1 - S_0)``
    (under proportional hazards S_1 = S_0 ** hr).

    ``events_rounding``: ``"none"`` (default), ``"ceil"`` or ``"nearest"``
    applied to D before dividing.  Seed 000 (HR 0.5, 35 % 10-year survival)
    gives 100 patients only with D rounded to 65 first (65 / 0.65 = 100);
    unrounded, 65.3 / 0.65 -> 101.  Seed 001 (HR 2.5, 73 % events by 5 years)
    gives 37.4 / 0.73 -> 52 patients in total.
    """
    if survival_control_at_followup is None:
        raise PanNetError("The sample size needs the expected survival at the end of follow-up.",
                          "Give survival_control_at_followup, e.g. 0.35 for 35 % 10-year survival.")
    for name, s in (("control", survival_control_at_followup), ("treated", survival_treated_at_followup)):
        if s is not None and (not isinstance(s, (int, float)) or not 0 <= s < 1):
            raise PanNetError(f"The {name} survival at follow-up {s!r} must be a fraction from 0 to below 1.",
                              "Give e.g. 0.35 for 35 %.")
    if events_rounding not in ROUNDINGS:
        raise PanNetError(f"events_rounding {events_rounding!r} is not known.", f"Use one of {', '.join(ROUNDINGS)}.")
    d = events_needed(hr, power, alpha, allocation, method=method)
    if events_rounding == "ceil":
        d = float(math.ceil(d))
    elif events_rounding == "nearest":
        d = float(math.floor(d + 0.5))
    if survival_treated_at_followup is None:
        pe = 1 - survival_control_at_followup
    else:
        pe = allocation * (1 - survival_treated_at_followup) + (1 - allocation) * (1 - survival_control_at_followup)
    n = math.ceil(d / pe - 1e-9)
    return SampleSize(events=d, prob_event=float(pe), n_total=int(n),
                      n_group1=int(math.ceil(n * allocation - 1e-9)),
                      n_group2=int(math.ceil(n * (1 - allocation) - 1e-9)))
