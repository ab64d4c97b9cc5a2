"""Early mortality after baseline (90 days in both seeds) per group, with Wald intervals and a test."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from pannet_core.cohort.timezero import date_column
from pannet_core.errors import PanNetError
from pannet_core.stats.table1 import compare_counts


def wald_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """Proportion with the Wald interval truncated to [0, 1] (in percent).

    Seed 000: 3/50 deaths -> "6.0% (95% CI, 0-12.6)".
    """
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    p = k / n
    z = ndtri(0.5 + level / 2)
    half = z * np.sqrt(p * (1 - p) / n)
    return 100 * p, 100 * max(0.0, p - half), 100 * min(1.0, p + half)


def ninety_day_mortality(cohort_frame: pd.DataFrame, *, days: int = 90, group: str = "treated"):
    """Deaths within ``days`` of baseline per group, with Wald CI and a test.

    Parameters
    ----------
    cohort_frame : DataFrame
        Analysis rows with ``baseline_date``, ``death_date`` and ``group``.
    days : int
        Window (90 in both seeds).  A death at day ``days`` counts.

    Returns
    -------
    DataFrame
        One row per group (``treated`` True first): ``group, n, deaths, pct,
        lo, hi``; ``attrs["p"]`` and ``attrs["test"]`` hold the chi-square
        (no continuity correction) or Fisher's exact p (Fisher when any
        expected count < 5), as in :func:`pannet_core.stats.table1.compare_counts`.
    """
    need = [c for c in ("baseline_date", "death_date", group) if c not in cohort_frame]
    if need:
        raise PanNetError(f"90-day mortality needs column(s) {need}.", "Pass the cohort's analysis frame.")
    d = (date_column(cohort_frame, "death_date") - date_column(cohort_frame, "baseline_date")).dt.days
    dead = ((d >= 0) & (d <= days)).fillna(False).to_numpy(dtype=bool)
    g = cohort_frame[group].to_numpy(dtype=bool)
    rows = []
    for val in (True, False):
        m = g == val
        n, k = int(m.sum()), int(dead[m].sum())
        pct, lo, hi = wald_ci(k, n)
        rows.append({"group": "treated" if val else "control", "n": n, "deaths": k, "pct": pct, "lo": lo, "hi": hi})
    out = pd.DataFrame(rows)
    table = np.array([[r["deaths"], r["n"] - r["deaths"]] for r in rows])
    p, test = compare_counts(table)
    out.attrs["p"] = p
    out.attrs["test"] = test
    return out
