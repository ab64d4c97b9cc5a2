"""Is the answer robust? The per-analysis sensitivity blocks of CONTRACT.md.

:func:`robust_blocks` gives ``rmst``, ``e_value``, ``rosenbaum``,
``time_varying`` and ``landmark`` for one analysis; :func:`pannet_core.pipeline.analyse`
calls it, so they are part of every :class:`~pannet_core.pipeline.AnalysisResult`.
The specification panel (``robustness``, many re-matches) is not here but in
:mod:`pannet_core.specification`, which only the CLI and the Robustness page call.

This module takes arrays and frames, never the pipeline's objects, so that
the pipeline can import it without a cycle.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.settings import DAYS_PER_YEAR, Settings
from pannet_core.stats.confounding import e_value, outcome_is_rare, rosenbaum
from pannet_core.stats.immortal_time import landmark_cox, time_varying_cox
from pannet_core.stats.rmst import rmst_difference

RMST_CONF_LEVEL = 0.95  # CONTRACT.md: normal 95 % CI of the difference, whatever survival.conf_level says


def exposure_from_origin(settings: Settings, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Time from the common origin, event and exposure time (years, NaN = never treated) of ``frame``'s patients.

    Generic settings: ``time`` is already from the origin and ``columns.exposure_time`` names the
    exposure column (in ``time_unit``); None when it is not set.  Pan-NET settings: the origin is
    the stage IV diagnosis for everyone and the exposure is the treated patients' baseline date (the
    resection, or the first liver resection/ablation: ``cohort.timezero``) minus ``stage4_date``;
    patients whose end of follow-up lies before the stage IV date are left out.

    Raises
    ------
    PanNetError
        The exposure column is missing or not numeric.
    """
    if settings.is_pannet:
        need = ("stage4_date", "baseline_date", "end_date")
        if any(c not in frame for c in need):
            return None
        st4 = pd.to_datetime(frame["stage4_date"], errors="coerce")
        days_end = (pd.to_datetime(frame["end_date"]) - st4).dt.days.to_numpy(dtype=float)
        days_exp = (pd.to_datetime(frame["baseline_date"]) - st4).dt.days.to_numpy(dtype=float)
        treated = frame["treated"].to_numpy(dtype=bool)
        exposure = np.where(treated, days_exp / DAYS_PER_YEAR, np.nan)
        keep = np.isfinite(days_end) & (days_end >= 0)
        return (days_end[keep] / DAYS_PER_YEAR, frame["event"].to_numpy(dtype=float)[keep], exposure[keep])
    col = settings.columns.exposure_time if settings.columns is not None else None
    if col is None:
        return None
    if col not in frame:
        raise PanNetError(f"The exposure time column '{col}' (columns.exposure_time) is not in the data.",
                          "Name an existing column with the time from the origin to treatment, or remove the key.")
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = raw.notna() & values.isna()
    if bad.any():
        raise PanNetError(f"The exposure time column '{col}' has text {str(raw[bad].iloc[0])!r}; it must hold "
                          "numbers (empty for patients never treated).",
                          "Correct the column, or remove columns.exposure_time from the settings.")
    exposure = values.to_numpy(dtype=float) * settings.columns.years_per_unit
    return frame["time"].to_numpy(dtype=float), frame["event"].to_numpy(dtype=float), exposure


def immortal_time_blocks(settings: Settings, frame: pd.DataFrame) -> tuple[dict | None, dict | None, tuple[str, ...]]:
    """``time_varying`` and ``landmark`` over every analysed patient before matching, and warnings.

    A model that cannot be fitted (e.g. nobody treated by the landmark) is None with a warning
    saying why; the rest of the analysis stands.
    """
    data = exposure_from_origin(settings, frame)
    if data is None:
        return None, None, ()
    time, event, exposure = data
    warns = []
    out = []
    for what, fn in (("time-varying Cox model", lambda: time_varying_cox(time, event, exposure)),
                     (f"landmark analysis at {settings.survival.landmark:g} years",
                      lambda: landmark_cox(time, event, exposure, landmark=settings.survival.landmark))):
        try:
            out.append(fn())
        except PanNetError as exc:
            out.append(None)
            warns.append(f"The {what} is not computed: {exc.problem}")
    return out[0], out[1], tuple(warns)


def rmst_block(settings: Settings, time: np.ndarray, event: np.ndarray, treated: np.ndarray,
               weights: np.ndarray | None) -> dict | None:
    """``rmst`` of the matched sample (one row per distinct patient, matching weights or None)."""
    return rmst_difference(time, event, treated.astype(int), horizon=settings.survival.rmst_horizon,
                           weights=weights, conf_level=RMST_CONF_LEVEL)


def e_value_block(hr: float, lo: float, hi: float, event: np.ndarray) -> dict | None:
    """``e_value`` of the matched robust HR; rare outcome decided on the distinct matched patients, unweighted."""
    if not all(np.isfinite(v) and v > 0 for v in (hr, lo, hi)):
        return None
    rare = outcome_is_rare(int(np.sum(event)), len(event))
    return e_value(hr, lo, hi, rare=rare)


def rosenbaum_block(settings: Settings, matched_rows: pd.DataFrame, time: np.ndarray, event: np.ndarray,
                    hr: float) -> dict | None:
    """``rosenbaum`` for 1:1 matching without replacement (else None): one treated and one control per set.

    ``time`` and ``event`` are those of ``matched_rows`` as the matched Cox model uses them.
    """
    m = settings.matching
    if m.ratio != 1 or m.replace or not (np.isfinite(hr) and hr > 0):
        return None
    treated = matched_rows["treated"].to_numpy(dtype=bool)
    pair = matched_rows["pair"].to_numpy()
    t_order = np.argsort(pair[treated], kind="stable")
    c_order = np.argsort(pair[~treated], kind="stable")
    if not np.array_equal(pair[treated][t_order], pair[~treated][c_order]):
        return None  # (1:1 without replacement always gives one treated and one control per set)
    return rosenbaum(time[treated][t_order], event[treated][t_order], time[~treated][c_order],
                     event[~treated][c_order], hr=hr)


def robust_blocks(settings: Settings, frame: pd.DataFrame, patients: pd.DataFrame, time: np.ndarray,
                  event: np.ndarray, weights: np.ndarray | None, hr_row: tuple[float, float, float]) -> dict:
    """Every per-analysis block of "Is the answer robust?" plus the warnings they raise.

    Parameters
    ----------
    settings : Settings
    frame : DataFrame
        Every analysed patient before matching (``Prepared.frame``).
    patients : DataFrame
        One row per distinct matched patient, with ``treated`` and ``pair`` (the matched set).
    time, event : ndarray
        ``patients``' times and events as the matched Cox model uses them.
    weights : ndarray or None
        Matching weights of ``patients`` when the matched analyses are weighted.
    hr_row : (hr, lo, hi)
        ``cox.matched_robust``.

    Returns
    -------
    dict
        ``rmst``, ``e_value``, ``rosenbaum``, ``time_varying``, ``landmark`` and ``robust_warnings``.
    """
    treated = patients["treated"].to_numpy(dtype=bool)
    hr, lo, hi = (float(v) for v in hr_row)
    tv, lm, warns = immortal_time_blocks(settings, frame)
    out = {"time_varying": tv, "landmark": lm}
    for key, what, fn in (
            ("rmst", "restricted mean survival time", lambda: rmst_block(settings, time, event, treated, weights)),
            ("e_value", "E-value", lambda: e_value_block(hr, lo, hi, event)),
            ("rosenbaum", "Rosenbaum sensitivity analysis",
             lambda: rosenbaum_block(settings, patients, time, event, hr))):
        try:
            out[key] = fn()
        except PanNetError as exc:  # a degenerate matched sample: the main analysis still stands
            out[key] = None
            warns += (f"The {what} is not computed: {exc.problem}",)
    return {**out, "robust_warnings": warns}
