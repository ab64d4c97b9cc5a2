"""The specification panel (CONTRACT.md ``robustness``): the matched HR over calipers x matching orders.

The propensity model is fitted once (the ``fit`` given); each row re-runs the
matching and the matched robust Cox model with one caliper and one order, the
other settings as configured.  This is many re-matches, so it is not part of
:func:`pannet_core.pipeline.analyse` (which the dashboard re-runs on every
slider move): ``run --robustness`` calls :func:`robustness_rows` once, and the
dashboard's Robustness page is to call it on demand (cached on the settings).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from pannet_core.errors import PanNetError
from pannet_core.pipeline import Prepared, matched_robust_cox
from pannet_core.settings import Settings
from pannet_core.stats import matching as _matching
from pannet_core.stats import propensity as _propensity

DETERMINISTIC_ORDERS = ("largest", "smallest")


def specifications(settings: Settings) -> list[tuple[float | None, str, int | None]]:
    """(caliper, order, seed) of every row: the grid's calipers (plus the configured one when it is
    not among them) x ``largest``, ``smallest`` and ``random`` with seeds 1..``random_orders`` (plus
    the configured order and seed when they are not among them)."""
    calipers = list(settings.robustness.calipers)
    if settings.matching.caliper not in calipers:
        calipers.append(settings.matching.caliper)
    orders = [(o, None) for o in DETERMINISTIC_ORDERS]
    orders += [("random", k) for k in range(1, settings.robustness.random_orders + 1)]
    configured = (settings.matching.order, settings.matching.seed if settings.matching.order == "random" else None)
    if configured not in orders:  # e.g. file order, or a random seed outside 1..random_orders
        orders.append(configured)
    return [(c, o, seed) for c in calipers for o, seed in orders]


def robustness_rows(settings: Settings, prepared: Prepared, fit: "_propensity.PropensityFit",
                    progress: "Callable[[int, int], object] | None" = None) -> list[dict]:
    """One row per specification: ``{"caliper", "order", "seed", "n_sets", "hr", "lo", "hi", "p"}``.

    ``hr`` .. ``p`` are those of ``cox.matched_robust`` (None when nothing matched or the model
    cannot be fitted); ``n_sets`` counts the matched sets.  The row with the configured caliper and
    order (and seed, for ``random``) equals the main analysis.  ``progress(done, total)``, if given,
    is called after each row.
    """
    frame = prepared.frame
    m = settings.matching
    treated = frame["treated"].to_numpy(dtype=bool)
    exact = frame[list(m.exact)] if m.exact else None
    specs = specifications(settings)
    rows = []
    for i, (caliper, order, seed) in enumerate(specs):
        mres = _matching.match(frame["patient_id"], treated, fit.score, caliper=caliper,
                               caliper_scale=m.caliper_scale, ratio=m.ratio, replace=m.replace,
                               order=order, seed=0 if seed is None else seed, exact=exact)
        n_sets = int((treated & mres.data["matched"].to_numpy(dtype=bool)).sum())
        row = {"caliper": caliper, "order": order, "seed": seed, "n_sets": n_sets,
               "hr": None, "lo": None, "hi": None, "p": None}
        try:
            t = matched_robust_cox(settings, frame, mres).table.iloc[0]
        except (PanNetError, np.linalg.LinAlgError):  # a degenerate matched sample (e.g. one pair): no HR
            pass
        else:
            row.update({k: (float(t[c]) if np.isfinite(t[c]) else None)
                        for k, c in (("hr", "hr"), ("lo", "lower"), ("hi", "upper"), ("p", "p"))})
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(specs))
    return rows
