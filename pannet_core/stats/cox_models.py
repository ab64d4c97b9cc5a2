"""Univariable and multivariable Cox models as in seed 001 (Table 2).

Every covariate is fitted alone with the treatment's own univariable model
beside it; the multivariable model keeps the covariates whose crude
likelihood-ratio P is below ``p_enter`` (001: 0.100), always with the
treatment.  Categorical covariates show their reference level (HR 1).  The
multivariable model is checked for proportional hazards with
:func:`pannet_core.stats.cox.cox_zph`.  Optionally the follow-up is truncated where
a chosen fraction of the cohort remains at risk (001: one third).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from pannet_core.errors import PanNetError
from pannet_core.stats.cox import CoxResult, cox_zph, coxph
from pannet_core.stats.design import design_matrix, factor_levels, level_label

TREATMENT = "treated"


@dataclass(frozen=True)
class CoxModels:
    """Univariable and multivariable Cox results.

    ``table`` rows: ``model`` (univariable/multivariable), ``variable``,
    ``level`` (None for numbers), ``reference`` (True on the reference row,
    HR 1), ``hr, lower, upper, p`` and ``p_variable`` (likelihood-ratio P of
    the whole variable); ``ph_test`` is ``cox.zph`` of the multivariable model.
    """

    table: pd.DataFrame
    ph_test: pd.DataFrame
    entered: tuple[str, ...]
    truncated_at: float | None
    n: int
    events: int
    warnings: tuple[str, ...] = ()


def truncate_at_risk(time: np.ndarray, event: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Censor follow-up at the first time where at most ``fraction`` of the cohort is still at risk.

    The truncation time t* is the smallest observed time t with
    ``#(time >= t) <= fraction * n``; later times become t* and their events
    are censored (an event exactly at t* is kept).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=np.int64)
    n = len(time)
    ut = np.unique(time)
    at_risk = n - np.searchsorted(np.sort(time), ut, side="left")
    hit = np.flatnonzero(at_risk <= fraction * n)
    if len(hit) == 0:
        return time, event, float(ut[-1]) if len(ut) else 0.0
    t_star = float(ut[hit[0]])
    late = time > t_star
    return np.where(late, t_star, time), np.where(late, 0, event), t_star


def _rows(fit: CoxResult, frame: pd.DataFrame, variables: list[str], categorical: set[str],
          model: str, lr_p: dict[str, float]) -> list[dict]:
    coefs = fit.table.set_index("term")
    rows = []
    for var in variables:
        if var in categorical:
            levels = factor_levels(frame[var])
            rows.append(dict(model=model, variable=var, level=level_label(levels[0]), reference=True,
                             hr=1.0, lower=np.nan, upper=np.nan, p=np.nan, p_variable=lr_p.get(var, np.nan)))
            for lev in levels[1:]:
                term = f"{var}={level_label(lev)}"
                if term not in coefs.index:
                    continue
                r = coefs.loc[term]
                rows.append(dict(model=model, variable=var, level=level_label(lev), reference=False, hr=r["hr"],
                                 lower=r["lower"], upper=r["upper"], p=r["p"], p_variable=lr_p.get(var, np.nan)))
        else:
            r = coefs.loc[var]
            rows.append(dict(model=model, variable=var, level=None, reference=False, hr=r["hr"], lower=r["lower"],
                             upper=r["upper"], p=r["p"], p_variable=lr_p.get(var, np.nan)))
    return rows


def _design(frame, variables, categorical):
    X, _, used = design_matrix(frame, variables, [v for v in variables if v in categorical])
    return X.loc[used], used


def _fit(frame, time, event, variables, categorical) -> CoxResult:
    X, used = _design(frame, variables, categorical)
    return coxph(time[used], event[used], X)


def cox_models(frame: pd.DataFrame, covariates, categorical, *, p_enter: float = 0.10,
               truncate_fraction: float | None = None) -> CoxModels:
    """Univariable Cox model per covariate, then the multivariable model.

    Parameters
    ----------
    frame : DataFrame
        Analysis rows with ``time`` (years), ``event`` and ``treated``.
    covariates, categorical : sequences of str
        Covariates besides the treatment; ``categorical`` ones are expanded
        into indicators against their first level.
    p_enter : float
        Covariates with a crude likelihood-ratio P below this enter the
        multivariable model (001: 0.100).
    truncate_fraction : float, optional
        Truncate where this fraction of the cohort remains at risk.
    """
    covariates = [c for c in covariates if c != TREATMENT]
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise PanNetError(f"The Cox covariate(s) {missing} are not in the data.",
                          "Correct cox.covariates in the settings.")
    # text and category columns are categorical whether or not the settings say so
    categorical = set(categorical) | {c for c in covariates if not pd.api.types.is_numeric_dtype(frame[c])
                                      or pd.api.types.is_bool_dtype(frame[c])}
    time = frame["time"].to_numpy(dtype=float)
    event = frame["event"].to_numpy(dtype=np.int64)
    t_star = None
    if truncate_fraction is not None:
        time, event, t_star = truncate_at_risk(time, event, truncate_fraction)
    data = frame.assign(**{TREATMENT: frame[TREATMENT].astype(float)})
    rows, lr_p, failed = [], {}, []
    for var in [TREATMENT] + covariates:
        X, used = _design(data, [var], categorical)  # a wrong column type is the user's to fix: not caught
        try:
            fit = coxph(time[used], event[used], X)
        except PanNetError as exc:
            if var == TREATMENT:
                raise
            # e.g. every event in one level: say so in the table and leave the covariate out
            failed.append(f"{var}: {exc.problem}")
            rows.append(dict(model="univariable", variable=var, level=None, reference=False, hr=np.nan,
                             lower=np.nan, upper=np.nan, p=np.nan, p_variable=np.nan, note=exc.problem))
            continue
        lr_p[var] = float(fit.lr_test[2])
        rows += _rows(fit, data, [var], categorical, "univariable", lr_p)
    entered = [TREATMENT] + [v for v in covariates if lr_p.get(v, 1.0) < p_enter]
    n_par = sum(max(1, len(factor_levels(data[v])) - 1) if v in categorical else 1 for v in entered)
    events = int(event.sum())
    if events < 2 * n_par:
        raise PanNetError(f"Too few events for the multivariable Cox model: {events} events for {n_par} "
                          f"parameters ({events / n_par:.1f} events per variable; at least 10 is the usual rule).",
                          "Use fewer covariates, merge levels, or raise cox.p_enter's strictness.")
    multi = _fit(data, time, event, entered, categorical)
    lr_multi = {}
    for var in entered:
        if len(entered) == 1:
            lr_multi[var] = float(multi.lr_test[2])
            continue
        reduced = _fit(data, time, event, [v for v in entered if v != var], categorical)
        df = multi.table.shape[0] - reduced.table.shape[0]
        lr_multi[var] = float(chdtrc(df, 2 * (multi.loglik[1] - reduced.loglik[1])))
    rows += _rows(multi, data, entered, categorical, "multivariable", lr_multi)
    groups = {}
    for var in entered:
        groups[var] = [t for t in multi.table["term"] if t == var or t.startswith(f"{var}=")]
    ph = cox_zph(multi, terms=groups)
    table = pd.DataFrame(rows)
    if "note" not in table:
        table["note"] = None
    warnings = [f"Univariable Cox model not estimable, left out of the multivariable model: {f}" for f in failed]
    if events < 10 * n_par:
        warnings.append(f"{events} events for {n_par} parameters in the multivariable model "
                        f"({events / n_par:.1f} per variable; fewer than 10): estimates may be unstable.")
    return CoxModels(table=table, ph_test=ph, entered=tuple(entered), truncated_at=t_star,
                     n=int(multi.n), events=int(multi.events), warnings=tuple(warnings))
