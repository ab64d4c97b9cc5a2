"""Survival and progression of the demo's included patients, built to seed 000's published figures.

The targets are the tables below (seed 000's Results).  They are reached by construction, not by
trying random seeds:

* **Pairs first.**  Matching depends only on the covariates, which Table 1 fixes, so the pairs are
  known before any outcome exists: :func:`matched_pairs` runs the ``primary_tumour_resection``
  preset's own propensity model and matching on them.
* **Nested layers.**  Outcomes are built for the patients of :data:`LAYERS` in turn, each layer
  adding patients to the previous ones: ``sensitivity`` (the matched pairs without a liver
  resection), ``matched`` (plus the pairs holding one of the 15 + 4 liver resections) and ``all``
  (plus the unmatched patients).  The targets of a layer are those of the union.
* **Tracking a target curve** (:func:`track`).  Each arm of a layer has a target cumulative hazard
  through its published points (median, 5-year survival; the published interquartile ranges
  shape the ``all`` curves).  The arm's patients are walked through in time; the next death is
  placed where the target falls half a Kaplan-Meier step below the current estimate, counting the
  deaths already fixed by earlier layers in the coming :data:`LOOKAHEAD` days, on a patient drawn
  among those still at risk with probability proportional to ``exp(risk)`` (older patients, more
  liver metastases ... die first, as under proportional hazards).  A patient whose potential
  follow-up ends first (the cut-off, a last visit before it, or a loss to follow-up) is censored
  there.  When the median is an arm's last published point the step through one half is put on
  it.  So each estimate crosses its target at every step and the medians and 5-year survival land
  within about one step of the published ones.
* **Log-rank P** is not fixed by the points: within each segment between points the hazard may
  rise or fall by the factor ``exp(tilt)`` (resected ``tilt = theta``, not resected ``-theta``).
  The signed log-rank statistic is computed over a grid of ``theta`` and the crossing of the
  published P nearest ``theta = 0`` is refined by bisection (:func:`tuned_layer`).
* **Deaths.**  Where a layer has a death count, patients beyond each arm's last published point
  change, latest first: constructed deaths become losses to follow-up on that day, or censored
  patients die a little before their last visit.
* **Early deaths** within 90 days of baseline are set beforehand (3 resected and 5 not among the
  matched, none among the unmatched resected); no constructed death comes before day 91.
* **Progression** (PFS = first progression or death) is built the same way on top of the overall
  survival, in two layers (matched, all): a death without earlier progression is a PFS event, a
  censored patient is censored for PFS on the same day.

The follow-up itself (stage IV years within 2010-2019, hence the potential follow-up) is set in
:mod:`pannet_core.demo` (``FOLLOW_UP``), tuned once so that the median follow-up and the death
counts come out.  Times are whole days from baseline, as the pipeline computes them from dates.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtri

DAYS = 365.25

#: Seed 000's published survival: points each arm's Kaplan-Meier curve passes through,
#: as (years, survival %) for the resected and the not resected, the log-rank P and the deaths.
OS_TARGETS = {
    "sensitivity": {"resected": ((5, 67.8), (8.3, 50)), "not": ((4.4, 50), (5, 42.3)), "p": 0.028, "deaths": None},
    "matched": {"resected": ((5, 65.4), (7.4, 50)), "not": ((4.6, 50), (5, 47.8)), "p": 0.043, "deaths": 52},
    "all": {"resected": ((5, 67.0), (7.8, 50)), "not": ((5, 51.6), (5.1, 50)), "p": 0.018, "deaths": 115,
            # median "5.0" with 51.6 % at 5 years: the step through one half comes at 5.1 years;
            # the published interquartile ranges of survival shape the curves (not checked)
            "shape": {"resected": ((4.1, 75), (10.6, 25)), "not": ((2.8, 75), (8.4, 25))}},
}
#: Progression-free survival: the paper gives 3-year PFS for the matched and the medians for all;
#: each layer borrows the other's points.
PFS_TARGETS = {
    "matched": {"resected": ((1.4, 50), (3, 27.7)), "not": ((1.6, 50), (3, 24.8)), "p": 0.458},
    "all": {"resected": ((1.4, 50), (3, 27.7)), "not": ((1.6, 50), (3, 24.8)), "p": 0.218},
}
LAYERS = ("sensitivity", "matched", "all")
EARLY_DEATHS = (3, 5)            # matched resected / not: deaths within 90 days of baseline
LIVER_RESECTED = (15, 4)         # matched resected / not with a liver resection (distinct pairs)
EARLY_DAYS = (10, 86)            # day range of those early deaths
FIRST_OS_DAY = 91                # no constructed death within 90 days
FIRST_PFS_DAY = 21               # no constructed progression in the first three weeks
THETA_RANGE = (-3.0, 3.0)  # tilts tried: the hazard may change up to e**3-fold within a segment
GRID = 9
BISECTIONS = 10
LOOKAHEAD = 730  # days of fixed events the construction anticipates


# --------------------------------------------------------------------------- pairs
def matched_pairs(covariates: pd.DataFrame, treated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (treated, control) of the pairs the ``primary_tumour_resection`` preset forms.

    ``covariates`` holds the preset's propensity covariates as the cohort derives them (ordered
    categoricals, first level = reference), one row per included patient in file order.
    """
    from pannet_core.settings import load_preset
    from pannet_core.stats.matching import match
    from pannet_core.stats.propensity import fit_propensity

    s = load_preset("primary_tumour_resection")
    p, m = s.propensity, s.matching
    fit = fit_propensity(covariates, treated, list(p.covariates), list(p.categorical))
    res = match(np.arange(len(treated)), treated, fit.score, caliper=m.caliper, caliper_scale=m.caliper_scale,
                ratio=m.ratio, replace=m.replace, order=m.order, seed=m.seed)
    pairs = res.pairs
    return pairs["treated_id"].to_numpy(np.int64), pairs["control_id"].to_numpy(np.int64)


# --------------------------------------------------------------------------- one arm
def _curve(points, tilt: float):
    """Target cumulative hazard over days and its inverse through ``points``.  Within each segment
    between points the hazard changes by the factor ``exp(tilt)`` (0 = constant); beyond the last
    point the last segment's mean hazard continues."""
    pts = sorted(points)
    tk = np.array([0.0] + [t * DAYS for t, _ in pts])
    hk = np.array([0.0] + [-math.log(s / 100) for _, s in pts])
    tail = (hk[-1] - hk[-2]) / (tk[-1] - tk[-2])
    c = tilt if abs(tilt) > 1e-9 else 1e-9
    ec = math.expm1(c)

    def hazard(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        i = np.clip(np.searchsorted(tk, t, side="right") - 1, 0, len(tk) - 2)
        x = np.clip((t - tk[i]) / (tk[i + 1] - tk[i]), 0, 1)
        inside = hk[i] + (hk[i + 1] - hk[i]) * np.expm1(c * x) / ec
        return np.where(t <= tk[-1], inside, hk[-1] + (t - tk[-1]) * tail)

    def inverse(h: np.ndarray) -> np.ndarray:
        h = np.asarray(h, dtype=float)
        i = np.clip(np.searchsorted(hk, h, side="right") - 1, 0, len(hk) - 2)
        g = np.clip((h - hk[i]) / (hk[i + 1] - hk[i]), 0, 1)
        inside = tk[i] + (tk[i + 1] - tk[i]) * np.log1p(g * ec) / c
        return np.where(h <= hk[-1], inside, tk[-1] + (h - hk[-1]) / tail)
    return hazard, inverse


def _next_event(hazard, inverse, logkm: float, r: int, now: int, ft, fe, bts, alive) -> float:
    """Day of the next constructed event: where the target falls half a step below the estimate,
    counting the drops of the fixed events of the next :data:`LOOKAHEAD` days as already there if
    that keeps the estimate on target after them (so a burst of fixed deaths is not overshot)."""
    half = -math.log(1 - 0.5 / r)
    naive = float(inverse(np.array(logkm + half)))
    soon = ft <= max(naive, now) + LOOKAHEAD
    tk, ek = ft[soon], fe[soon]
    if not len(tk):
        return naive
    free_before = np.concatenate([[0], np.cumsum(alive)])[np.searchsorted(bts, tk, side="left")]
    rk = np.maximum(r - np.arange(len(tk)) - free_before, 1)
    with np.errstate(divide="ignore"):
        inc = np.where(ek == 1, -np.log1p(-1 / np.maximum(rk, 1.0001)), 0.0)
    a = np.cumsum(inc)
    after = hazard(tk) - logkm - a  # free hazard still wanted right after each fixed event
    lowest = np.append(np.minimum.accumulate(after[::-1])[::-1], np.inf)
    cand = inverse(logkm + half + np.concatenate([[0.0], a]))
    start, end = np.concatenate([[now], tk]), np.append(tk, np.inf)
    ok = (lowest >= half) & (cand <= end)
    first = int(np.argmax(ok))
    return max(float(cand[first]), float(start[first]))


def track(points, tilt: float, fixed_t, fixed_e, bound_t, bound_e, risk, u, first_day: int,
          median_day: int | None = None):
    """Times and events of the free patients of one arm so that the arm follows its target.

    Parameters
    ----------
    points : sequence of (years, survival %)
    tilt : float
        Shape of the target between its points (see :func:`_curve`).
    fixed_t, fixed_e : int arrays
        Patients of the arm whose outcome is already set (earlier layers, early deaths).
    bound_t, bound_e : int arrays
        Per free patient: the day their follow-up ends if nothing is placed before, and whether
        that end is an event (for PFS: death without progression).
    risk : float array
        Per free patient, the relative chance ``exp(risk score)`` of being the next placed event.
    u : float array
        Uniform numbers, one per placed event (the draws of who dies).
    first_day : int
        No event is placed before this day.
    median_day : int, optional
        The step through one half is put on this day (the published median, when it is the last
        published point: with few patients left the step would otherwise miss it by months).

    Returns
    -------
    t, e, placed : arrays over the free patients (``placed`` = the event was put there by tracking)
    """
    hazard, inverse = _curve(points, tilt)
    fo = np.lexsort((1 - np.asarray(fixed_e), fixed_t))
    ft, fe = np.asarray(fixed_t, dtype=float)[fo], np.asarray(fixed_e)[fo]
    n = len(bound_t)
    t_out, e_out = np.array(bound_t, dtype=np.int64), np.array(bound_e, dtype=np.int64)
    placed = np.zeros(n, dtype=bool)
    w = np.array(risk, dtype=float)
    bo = np.lexsort((1 - np.asarray(bound_e), bound_t))
    bts = np.asarray(bound_t, dtype=float)[bo]
    alive = np.ones(n, dtype=np.int64)  # in ``bo`` order
    where = np.empty(n, dtype=np.int64)
    where[bo] = np.arange(n)
    bo, bt, be = bo.tolist(), list(map(int, bound_t)), list(map(int, bound_e))
    bi = fi = k = 0
    r, km, now = n + len(ft), 1.0, 0
    while True:
        while bi < n and w[bo[bi]] == 0:
            bi += 1
        if bi == n:
            break
        j = bo[bi]
        te = math.ceil(_next_event(hazard, inverse, -math.log(km), r, now, ft[fi:], fe[fi:], bts, alive))
        if median_day is not None and km > 0.5 >= km * (1 - 1 / r):
            te = median_day
        te = max(te, first_day, now)
        cands = [(bt[j], 1 - be[j], 2), (te, 0, 1)]
        if fi < len(ft):
            cands.append((int(ft[fi]), 1 - int(fe[fi]), 0))
        t, flag, which = min(cands)  # earliest; at one time events before censorings
        if which == 0:
            fi += 1
        else:
            if which == 1:
                c = np.cumsum(w)
                j = min(int(np.searchsorted(c, u[k] * c[-1], side="right")), n - 1)
                k += 1
                t_out[j], e_out[j], placed[j] = t, 1, True
            w[j] = 0.0
            alive[where[j]] = 0
        if flag == 0:
            km *= 1 - 1 / r
        r -= 1
        now = t
    return t_out, e_out, placed


# --------------------------------------------------------------------------- one layer
def _layer(targets: dict, theta: float, arms: list, first_day: int, deaths: int | None):
    """Both arms of a layer for one ``theta`` (resected tilt ``theta``, not resected ``-theta``).

    Returns per arm (t, e, placed) and the signed log-rank statistic of the layer's union
    (positive: more events among the resected than expected)."""
    from pannet_core.stats.logrank import logrank_test

    out = []
    for arm, sign in zip(arms, (1, -1)):
        main = targets[arm["name"]]
        last = max(main)
        median_day = round(last[0] * DAYS) if last[1] == 50 else None
        points = main + targets.get("shape", {}).get(arm["name"], ())
        out.append(list(track(points, sign * theta, arm["fixed_t"], arm["fixed_e"], arm["bound_t"],
                              arm["bound_e"], arm["risk"], arm["u"], first_day, median_day)))
    if deaths is not None:
        _meet_deaths(targets, out, arms, deaths, first_day)
    time = np.concatenate([np.concatenate([a["fixed_t"], o[0]]) for a, o in zip(arms, out)])
    event = np.concatenate([np.concatenate([a["fixed_e"], o[1]]) for a, o in zip(arms, out)])
    group = np.repeat([1, 0], [len(a["fixed_t"]) + len(a["bound_t"]) for a in arms])
    test = logrank_test(time / DAYS, event, group)
    return out, math.copysign(math.sqrt(test.chisq), test.observed[1] - test.expected[1])


def _meet_deaths(targets: dict, out: list, arms: list, deaths: int, first_day: int) -> None:
    """Meet the layer's death count beyond each arm's last published point, latest patients first:
    placed deaths become losses to follow-up on that day, or censored patients die a little earlier."""
    have = sum(int(a["fixed_e"].sum()) + int(o[1].sum()) for a, o in zip(arms, out))
    if have == deaths:
        return
    cand = []  # (time, arm, row) of the patients that may change
    for i, (a, o) in enumerate(zip(arms, out)):
        last = max(t for t, _ in targets[a["name"]]) * DAYS
        mask = (o[0] > last) & (o[2] if have > deaths else o[1] == 0)
        cand += [(int(o[0][j]), i, j, last) for j in np.flatnonzero(mask)]
    cand.sort(reverse=True)
    for t, i, j, last in cand[:abs(have - deaths)]:
        t_e_pl = out[i]
        if have > deaths:
            t_e_pl[1][j], t_e_pl[2][j] = 0, False
        else:
            t_e_pl[0][j] = max(first_day, math.ceil(last) + 1, int(t * arms[i]["late"][j]))
            t_e_pl[1][j], t_e_pl[2][j] = 1, True


def tuned_layer(targets: dict, arms: list, first_day: int, deaths: int | None = None,
                theta: float | None = None):
    """:func:`_layer` at the ``theta`` whose log-rank P is the target's, or at the ``theta`` given.

    The signed statistic is computed on a grid of ``theta``; among the crossings of the target size
    (either sign) the one nearest ``theta = 0`` (the least bent curves) is refined by bisection.
    Returns (arms' outcomes, theta, P)."""
    if theta is not None:
        out, z = _layer(targets, theta, arms, first_day, deaths)
        return out, theta, float(chdtrc(1, z * z))
    size = float(ndtri(1 - targets["p"] / 2))
    runs = [(th, *_layer(targets, th, arms, first_day, deaths)) for th in np.linspace(*THETA_RANGE, GRID)]
    best = min(runs, key=lambda r: abs(abs(r[2]) - size))
    brackets = [(abs(a[0] + b[0]), goal, a, b) for goal in (size, -size) for a, b in itertools.pairwise(runs)
                if (a[2] - goal) * (b[2] - goal) <= 0]
    if brackets:
        _, goal, lo, hi = min(brackets, key=lambda x: x[0])
        for _ in range(BISECTIONS):
            th = (lo[0] + hi[0]) / 2
            mid = (th, *_layer(targets, th, arms, first_day, deaths))
            best = min(best, mid, key=lambda r: abs(abs(r[2]) - size))
            lo, hi = (mid, hi) if (mid[2] - goal) * (lo[2] - goal) > 0 else (lo, mid)
    return best[1], best[0], float(chdtrc(1, best[2] ** 2))


# --------------------------------------------------------------------------- one block
def construct(treated: np.ndarray, pair: np.ndarray, liver: np.ndarray, early_day: np.ndarray,
              follow: np.ndarray, risk: np.ndarray, rng: np.random.Generator, thetas: dict | None = None):
    """Overall survival and progression of one block's included patients.

    Parameters
    ----------
    treated : bool array
    pair : int array
        Matched pair number (-1 = unmatched).
    liver : bool array
        Liver resection (marks the pairs left out of the sensitivity analysis).
    early_day : int array
        Day of a death set in advance (within 90 days), 0 = none.
    follow : int array
        Potential follow-up in days (cut-off or loss to follow-up minus baseline).
    risk : float array
        Risk score (log relative hazard).
    rng : Generator
        For who dies when (the same draws whatever ``theta``).
    thetas : dict, optional
        Shapes to use instead of tuning them (``--n-scale`` blocks after the first).

    Returns
    -------
    os_t, os_e, prog_t (progression day, -1 = none), thetas
    """
    n = len(treated)
    excluded_pairs = np.unique(pair[(pair >= 0) & liver])
    layer_of = np.where(pair < 0, 2, np.where(np.isin(pair, excluded_pairs), 1, 0))
    w = np.exp(risk)
    u = rng.random(n)             # who dies: one uniform per placed event
    late = rng.uniform(0.85, 1.0, n)  # a death moved in from a censoring comes this fraction of the way
    u_pfs = rng.random(n)
    os_t = np.zeros(n, dtype=np.int64)
    os_e = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    early = early_day > 0
    os_t[early], os_e[early] = early_day[early], 1
    thetas = dict(thetas or {})
    for li, name in enumerate(LAYERS):
        arms, rows = [], []
        if not (layer_of == li).any():
            continue
        for arm, grp in (("resected", treated), ("not", ~treated)):
            fixed = grp & (done | (early & (layer_of == li)))
            free = np.flatnonzero(grp & (layer_of == li) & ~early)
            arms.append({"name": arm, "fixed_t": os_t[fixed], "fixed_e": os_e[fixed], "bound_t": follow[free],
                         "bound_e": np.zeros(len(free), np.int64), "risk": w[free], "u": u, "late": late[free]})
            rows.append(free)
        out, thetas[name], _ = tuned_layer(OS_TARGETS[name], arms, FIRST_OS_DAY, OS_TARGETS[name]["deaths"],
                                           thetas.get(name))
        for free, (t, e, _) in zip(rows, out):
            os_t[free], os_e[free] = t, e
        done |= (layer_of == li)
    prog_t = np.full(n, -1, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    pfs_t, pfs_e = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for li, name in enumerate(("matched", "all")):
        member = (layer_of <= 1) if li == 0 else (layer_of == 2)
        if not member.any():
            continue
        arms, rows = [], []
        for arm, grp in (("resected", treated), ("not", ~treated)):
            free = np.flatnonzero(grp & member)
            fixed = grp & done
            arms.append({"name": arm, "fixed_t": pfs_t[fixed], "fixed_e": pfs_e[fixed], "bound_t": os_t[free],
                         "bound_e": os_e[free], "risk": w[free], "u": u_pfs, "late": late[free]})
            rows.append(free)
        out, thetas["pfs_" + name], _ = tuned_layer(PFS_TARGETS[name], arms, FIRST_PFS_DAY, None,
                                                    thetas.get("pfs_" + name))
        for free, (t, e, pl) in zip(rows, out):
            pfs_t[free], pfs_e[free] = t, e
            real = pl & ~((t == os_t[free]) & (os_e[free] == 1))  # a "progression" on the day of death is the death
            prog_t[free[real]] = t[real]
        done |= member
    return os_t, os_e, prog_t, thetas
