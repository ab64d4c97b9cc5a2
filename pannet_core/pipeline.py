"""One function runs an analysis: ``run_analysis(settings, table) -> AnalysisResult``.

The work is split into three cached stages so that the dashboard refits only
what a change needs:

1. :func:`prepare` — eligibility, time zero, endpoint and covariates (or the
   generic ``columns`` block) -> :class:`Prepared`;
2. :func:`fit_scores` — the propensity model on the prepared cohort;
3. :func:`analyse` — matching, balance, Kaplan-Meier, log-rank and Cox.

A caliper move re-runs stage 3 only.  The CLI and the pages both call these
functions; :func:`results_json` gives the ``results.json`` of CONTRACT.md.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from pannet_core.cohort.generic import missing_as_level, prepare_generic
from pannet_core.errors import PanNetError
from pannet_core.robust import robust_blocks
from pannet_core.settings import Settings
from pannet_core.stats import balance as _balance
from pannet_core.stats import cox as _cox
from pannet_core.stats import logrank as _logrank
from pannet_core.stats import matching as _matching
from pannet_core.stats import propensity as _propensity
from pannet_core.stats import survival as _survival
from pannet_core.stats.cox_models import CoxModels, cox_models, truncate_at_risk
from pannet_core.stats.mortality import ninety_day_mortality


# --------------------------------------------------------------------------- stage 1
@dataclass(frozen=True)
class Prepared:
    """The analysed cohort before any propensity step.

    ``frame`` has one row per analysed patient in file order with
    ``patient_id, treated, time (years), event`` and the covariates.
    """

    frame: pd.DataFrame
    flow: pd.DataFrame | None = None
    excluded: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()


def prepare(settings: Settings, table: pd.DataFrame) -> Prepared:
    """Stage 1: the analysis cohort from the uploaded table (never modified)."""
    if settings.is_pannet:
        from pannet_core.cohort.prepare import prepare_cohort

        cohort = prepare_cohort(table, settings)
        frame, flow, excluded, warns = cohort.analysis, cohort.flow, cohort.excluded, tuple(cohort.warnings)
    else:
        frame, flow, excluded, warns = prepare_generic(table, settings.columns), None, None, ()
        if settings.propensity.missing == "level":
            frame = missing_as_level(frame, settings.propensity.covariates, settings.propensity.categorical)
    n_t = int(frame["treated"].sum())
    n_c = int(len(frame) - n_t)
    if n_t == 0 or n_c == 0:
        empty = "treated" if n_t == 0 else "control"
        raise PanNetError(f"The {empty} group is empty after the eligibility rules ({n_t} treated, {n_c} controls).",
                          "Relax an eligibility rule or check how treatment is coded.")
    missing = [c for c in settings.propensity.covariates + settings.matching.exact if c not in frame.columns]
    if missing:
        raise PanNetError(f"The covariate(s) {missing} are not in the data.",
                          "Choose covariates among the columns: "
                          f"{[c for c in frame.columns if c not in ('treated', 'time', 'event')][:30]}.")
    return Prepared(frame=frame, flow=flow, excluded=excluded, warnings=warns)


# --------------------------------------------------------------------------- stage 2
def fit_scores(settings: Settings, prepared: Prepared) -> "_propensity.PropensityFit":
    """Stage 2: the propensity model (depends only on the covariate choice)."""
    p = settings.propensity
    return _propensity.fit_propensity(prepared.frame, prepared.frame["treated"].to_numpy(),
                                      list(p.covariates), list(p.categorical))


# --------------------------------------------------------------------------- stage 3
@dataclass(frozen=True)
class Comparison:
    """Treated vs control on one cohort (unmatched or matched)."""

    label: str
    km_treated: "_survival.KMResult"
    km_control: "_survival.KMResult"
    logrank: "_logrank.TestResult"
    cox: "_cox.CoxResult"
    summary: pd.DataFrame  # one row per group: n, events, median (+CI), survival at horizons (+CI)


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis produces.  Immutable; DataFrames are tidy."""

    settings: Settings
    data: pd.DataFrame            # every analysed row + score, logit, pair, weight, matched, reason
    propensity: "_propensity.PropensityFit"
    matching: "_matching.MatchResult"
    balance: pd.DataFrame
    unmatched: Comparison
    matched: Comparison
    # with replacement not computed: NaN chisq and p (results.json null; the reason is in warnings)
    logrank_pair_stratified: "_logrank.TestResult"
    flow: pd.DataFrame | None = None
    excluded: pd.DataFrame | None = None
    table1: pd.DataFrame | None = None
    table1_matched: pd.DataFrame | None = None
    cox_models: "CoxModels | None" = None
    sensitivity: Comparison | None = None
    ninety_day: pd.DataFrame | None = None
    # "Is the answer robust?" (CONTRACT.md; pannet_core.robust): None where not applicable
    rmst: dict | None = None
    e_value: dict | None = None
    rosenbaum: dict | None = None
    time_varying: dict | None = None
    landmark: dict | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def n_treated(self) -> int:
        return int(self.data["treated"].sum())

    @property
    def n_control(self) -> int:
        return self.n - self.n_treated

    # Counts of the matched sample, in one vocabulary (docs/methods.md): a matched *set* is one
    # matched treated patient with its control(s); a *pair* is one treated-control link (a row of
    # ``matching.pairs``, k per set with ratio k); *patients* are distinct people.
    @property
    def n_sets(self) -> int:
        """Matched sets (= matched treated patients); ``n_sets`` in results.json."""
        return self.n_matched_treated

    @property
    def c_statistic(self) -> float:
        """ROC area of the propensity score over every analysed patient (CONTRACT.md ``c_statistic``)."""
        return self.propensity.c_statistic

    @property
    def n_pairs(self) -> int:
        """Pairs: treated-control links, the rows of ``matching.pairs`` (``pairs`` in results.json)."""
        return int(self.matching.n_pairs)

    @property
    def n_matched_treated(self) -> int:
        """Distinct treated patients in the matched sample."""
        d = self.data
        return int((d["treated"].to_numpy(dtype=bool) & d["matched"].to_numpy(dtype=bool)).sum())

    @property
    def n_matched_control(self) -> int:
        """Distinct controls in the matched sample (a control reused with replacement counts once)."""
        d = self.data
        return int((~d["treated"].to_numpy(dtype=bool) & d["matched"].to_numpy(dtype=bool)).sum())

    @property
    def n_matched_patients(self) -> int:
        """Distinct patients in the matched sample (what every matched-sample analysis uses once)."""
        return int(self.data["matched"].to_numpy(dtype=bool).sum())

    @property
    def matched_data(self) -> pd.DataFrame:
        return self.data.loc[self.data["matched"]]


def _summary(km_t, km_c, horizons) -> pd.DataFrame:
    cols: dict[str, list] = {}
    for group, km in (("treated", km_t), ("control", km_c)):
        est, lo, hi = km.median()
        row = {"group": group, "n": km.n, "events": km.events, "median": est, "median_lo": lo, "median_hi": hi}
        if horizons:
            _, surv, lower, upper = km._at(list(horizons))  # = survival_at's columns
            for h, s, s_lo, s_hi in zip(horizons, surv, lower, upper):
                key = f"{h:g}"
                row[f"surv_{key}"], row[f"surv_{key}_lo"], row[f"surv_{key}_hi"] = s, s_lo, s_hi
        for k, v in row.items():
            cols.setdefault(k, []).append(v)
    return pd.DataFrame(cols)  # columns from a dict: same frame as from the two row dicts, cheaper


def analysed_time_event(frame: pd.DataFrame, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Times and events of ``frame`` as every statistic of the analysis uses them: truncated where
    ``survival.truncate_at_risk`` of ``frame``'s patients remain at risk, when that is set."""
    time = frame["time"].to_numpy(dtype=float)
    event = frame["event"].to_numpy(dtype=np.int64)
    fraction = settings.survival.truncate_at_risk
    if fraction is not None:
        time, event, _ = truncate_at_risk(time, event, fraction)
    return time, event


def compare(frame: pd.DataFrame, settings: Settings, label: str, cluster: np.ndarray | None = None,
            weights: np.ndarray | None = None) -> Comparison:
    """KM per group, log-rank and Cox HR (treated vs control) on ``frame``.

    With ``weights`` (matching weights, one row per distinct patient) the analyses of
    CONTRACT.md's weighted matched sample: weighted Kaplan-Meier with the robust standard
    error clustered on ``cluster``, the robust score test of the weighted Cox model as the
    log-rank test, and that Cox model (Efron) with the robust variance.
    """
    s = settings.survival
    time, event = analysed_time_event(frame, settings)
    treated = frame["treated"].to_numpy(dtype=bool)
    if treated.all() or not treated.any():
        raise PanNetError(f"The {label} cohort has patients in one group only.",
                          "Widen the caliper or relax the eligibility rules so both groups keep patients.")
    if event.sum() == 0:
        raise PanNetError(f"Every patient in the {label} cohort is censored: there is no event to compare.",
                          "Check the event column (which value means death) and the follow-up dates.")
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        cl = np.arange(len(frame)) if cluster is None else np.asarray(cluster)
        km_t = _survival.kaplan_meier(time[treated], event[treated], conf_type=s.ci, conf_level=s.conf_level,
                                      weights=w[treated], cluster=cl[treated])
        km_c = _survival.kaplan_meier(time[~treated], event[~treated], conf_type=s.ci, conf_level=s.conf_level,
                                      weights=w[~treated], cluster=cl[~treated])
        cox = _cox.coxph(time, event, pd.DataFrame({"treated": treated.astype(float)}), cluster=cl, weights=w)
        chisq, df, p = cox.robust_score_test
        test = _logrank.TestResult(chisq=chisq, df=df, p=p, groups=(0, 1))
        return Comparison(label=label, km_treated=km_t, km_control=km_c, logrank=test, cox=cox,
                          summary=_summary(km_t, km_c, s.horizons))
    km_t = _survival.kaplan_meier(time[treated], event[treated], conf_type=s.ci, conf_level=s.conf_level)
    km_c = _survival.kaplan_meier(time[~treated], event[~treated], conf_type=s.ci, conf_level=s.conf_level)
    test = _logrank.logrank_test(time, event, treated.astype(int))
    cox = _cox.coxph(time, event, pd.DataFrame({"treated": treated.astype(float)}), cluster=cluster)
    return Comparison(label=label, km_treated=km_t, km_control=km_c, logrank=test, cox=cox,
                      summary=_summary(km_t, km_c, s.horizons))


def analyse(settings: Settings, prepared: Prepared, fit: "_propensity.PropensityFit",
            on_data: "Callable[[pd.DataFrame], object] | None" = None) -> AnalysisResult:
    """Stage 3: matching and every outcome statistic.

    ``on_data``, if given, is called with the analysed rows (what becomes
    ``AnalysisResult.data``) as soon as the matching has made them, before the
    outcome statistics: the ``run`` command starts writing matched_cohort.csv
    then.  It must not modify the frame.
    """
    frame = prepared.frame
    m = settings.matching
    exact = frame[list(m.exact)] if m.exact else None
    mres = _matching.match(frame["patient_id"], frame["treated"].to_numpy(dtype=bool), fit.score,
                           caliper=m.caliper, caliper_scale=m.caliper_scale, ratio=m.ratio, replace=m.replace,
                           order=m.order, seed=m.seed, exact=exact)
    if mres.n_pairs == 0:
        raise PanNetError("No treated patient has a control inside the caliper, so there is no matched cohort.",
                          "Widen the caliper (or change its scale), or use fewer covariates.")
    md = mres.data
    added = {"score": fit.score, "logit": fit.logit, "pair": md["pair"].to_numpy(),
             "weight": md["weight"].to_numpy(), "matched": md["matched"].to_numpy(dtype=bool),
             "reason": md["reason"].to_numpy()}
    if frame.columns.intersection(list(added)).empty:  # one concat instead of six insertions
        data = pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)
    else:
        data = frame.copy()
        for k, v in added.items():
            data[k] = v
    if on_data is not None:
        on_data(data)
    p = settings.propensity
    bal = _balance.smd_table(frame, frame["treated"].to_numpy(dtype=bool), list(p.covariates), list(p.categorical),
                             weights=data["weight"].to_numpy())
    unmatched = compare(frame, settings, "unmatched")
    matched_rows = _expand_matched(data, mres)  # one row per set membership
    patients, cluster, weights = _matched_sample(matched_rows, m)
    weighted = weights is not None
    matched = compare(patients, settings, "matched", cluster=cluster, weights=weights)
    m_time, m_event = analysed_time_event(patients, settings)  # as the matched Cox model uses them
    cox_row = matched.cox.table.iloc[0]
    robust = robust_blocks(settings, frame, patients, m_time, m_event, weights,
                           (cox_row["hr"], cox_row["lower"], cox_row["upper"]))
    robust_warns = robust.pop("robust_warnings")
    warns: tuple[str, ...] = ()
    if m.replace:
        strat = _logrank.TestResult(chisq=float("nan"), df=0, p=float("nan"))
        warns = ("The log-rank test stratified on the matched sets is not computed with matching with "
                 "replacement: a control reused by several sets would sit in several strata at once. "
                 "The matched log-rank test is the robust score test of the weighted Cox model, clustered "
                 "on the patient.",)
    else:
        time, event = analysed_time_event(matched_rows, settings)  # the same truncation as compare()'s
        strat = _logrank.logrank_test(time, event, matched_rows["treated"].to_numpy(int),
                                      strata=matched_rows["pair"].to_numpy())
    extra = _pannet_extras(settings, prepared, data, patients, weighted) if settings.is_pannet else {}
    warnings = prepared.warnings + warns + (extra["cox_models"].warnings if extra.get("cox_models") else ())
    return AnalysisResult(settings=settings, data=data, propensity=fit, matching=mres, balance=bal,
                          unmatched=unmatched, matched=matched, logrank_pair_stratified=strat,
                          flow=prepared.flow, excluded=prepared.excluded, warnings=warnings + robust_warns,
                          **extra, **robust)


def matched_robust_cox(settings: Settings, frame: pd.DataFrame, mres) -> "_cox.CoxResult":
    """``cox.matched_robust`` of a matching ``mres`` of ``frame``, exactly as :func:`analyse` computes it.

    ``frame`` needs ``patient_id, treated, time, event`` (the rows ``mres`` matched, in that order).
    The specification panel (:mod:`pannet_core.specification`) re-runs this for many matchings.

    Raises
    ------
    PanNetError
        Nothing matched, one group only, or no event in the matched sample.
    """
    if mres.n_pairs == 0:
        raise PanNetError("Nothing matched.", "Widen the caliper.")
    md = mres.data
    data = frame[["patient_id", "treated", "time", "event"]].assign(
        pair=md["pair"].to_numpy(), weight=md["weight"].to_numpy(), matched=md["matched"].to_numpy(dtype=bool))
    patients, cluster, weights = _matched_sample(_expand_matched(data, mres), settings.matching)
    time, event = analysed_time_event(patients, settings)
    treated = patients["treated"].to_numpy(dtype=bool)
    if treated.all() or not treated.any() or event.sum() == 0:
        raise PanNetError("The matched sample has one group only or no event.", "Widen the caliper.")
    x = pd.DataFrame({"treated": treated.astype(float)})
    return _cox.coxph(time, event, x, cluster=cluster, weights=weights)


def _matched_sample(matched_rows: pd.DataFrame, m) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """One row per distinct matched patient, its robust-variance cluster and its weights (None for 1:1
    without replacement, where the analyses are the unweighted ones)."""
    # without replacement every set membership is a distinct patient
    patients = matched_rows.loc[~matched_rows["patient_id"].duplicated().to_numpy()] if m.replace else matched_rows
    weights = patients["weight"].to_numpy(dtype=float) if (m.ratio != 1 or m.replace) else None
    return patients, _cluster(patients, m.replace), weights


def _cluster(patients: pd.DataFrame, replace: bool) -> np.ndarray:
    """Cluster of the robust variance: the matched set without replacement, the patient with it."""
    if replace:
        return np.arange(len(patients))  # (the rows are distinct patients)
    return patients["pair"].to_numpy()


def _expand_matched(data: pd.DataFrame, mres) -> pd.DataFrame:
    """One row per member of each matched set (controls reused with replacement appear once per pair)."""
    pairs = mres.pairs
    pair = pairs["pair"].to_numpy()
    if mres.pair_rows is not None:  # the rows of data (= the matched input), as match found them
        t_rows, c_rows = mres.pair_rows[:, 0], mres.pair_rows[:, 1]
    else:
        idx = pd.Index(data["patient_id"].to_numpy())  # ids are unique (matching checks)
        t_rows = idx.get_indexer(pairs["treated_id"].to_numpy())
        c_rows = idx.get_indexer(pairs["control_id"].to_numpy())
    # each treated patient once per matched set; the set is identified by its first pair id
    codes, uniq = pd.factorize(t_rows)  # (row numbers and ids are both unique per patient)
    first_pair = pair.copy()
    if len(pair):
        lowest = np.full(len(uniq), pair.max(), dtype=pair.dtype)
        np.minimum.at(lowest, codes, pair)
        first_pair = lowest[codes]
    t_once = np.zeros(len(codes), dtype=bool)
    t_once[np.unique(codes, return_index=True)[1]] = True
    rows = np.concatenate([t_rows[t_once], c_rows])
    sets = np.concatenate([first_pair[t_once], first_pair])
    return data.iloc[rows].assign(pair=sets).reset_index(drop=True)


def _pannet_extras(settings: Settings, prepared: Prepared, data: pd.DataFrame, matched_rows: pd.DataFrame,
                   weighted: bool = False) -> dict:
    from pannet_core.stats import table1 as _table1

    p = settings.propensity
    variables = list(p.covariates)
    b = settings.balance
    t1 = _table1.table1(data, data["treated"].to_numpy(bool), variables, list(p.categorical),
                        threshold=b.threshold, numeric_summary=b.numeric_summary)
    t1m = _table1.table1(matched_rows, matched_rows["treated"].to_numpy(bool), variables, list(p.categorical),
                         threshold=b.threshold, numeric_summary=b.numeric_summary,
                         weights=matched_rows["weight"].to_numpy(dtype=float) if weighted else None)
    extras = {"table1": t1, "table1_matched": t1m,
              "ninety_day": ninety_day_mortality(matched_rows)}
    if settings.cox.covariates:
        extras["cox_models"] = cox_models(data, settings.cox.covariates, settings.cox.categorical,
                                          p_enter=settings.cox.p_enter,
                                          truncate_fraction=settings.survival.truncate_at_risk)
    extras["sensitivity"] = _sensitivity(settings, matched_rows, weighted)
    return extras


def settings_but_ci(settings: Settings) -> dict:
    """``settings`` as a dict without its name and ``survival.ci``: what every CI type of an analysis shares.

    Two settings with the same dict give analyses that differ only in the Kaplan-Meier limits
    (:func:`with_ci_type`); the dashboard keys its CI-independent caches by it.
    """
    d = settings.to_dict()
    d.pop("name", None)
    d["survival"] = {k: v for k, v in d["survival"].items() if k != "ci"}
    return d


def with_ci_type(result: AnalysisResult, settings: Settings) -> AnalysisResult:
    """:func:`analyse` for ``settings`` that differ from ``result.settings`` only in ``survival.ci``.

    The confidence-interval type changes nothing but the Kaplan-Meier limits and what is computed
    from them (the ``summary`` of each comparison: median and horizon CIs); matching, balance,
    log-rank tests, Cox models and tables stay as they are.  So only those are recomputed
    (:meth:`survival.KMResult.with_conf_type`), in a few ms instead of a whole stage 3.

    Parameters
    ----------
    result : AnalysisResult
        A finished analysis.
    settings : Settings
        ``result.settings`` with another ``survival.ci`` (the name may differ too).

    Returns
    -------
    AnalysisResult
        Equal to ``analyse(settings, prepared, fit)`` for the ``prepared`` and ``fit`` of ``result``.

    Raises
    ------
    ValueError
        When the settings differ in anything else.
    """
    if settings_but_ci(settings) != settings_but_ci(result.settings):
        raise ValueError("with_ci_type: the settings differ in more than survival.ci; run analyse()")
    s = settings.survival

    def redo(comp: Comparison | None) -> Comparison | None:
        if comp is None:
            return None
        km_t, km_c = comp.km_treated.with_conf_type(s.ci), comp.km_control.with_conf_type(s.ci)
        return dataclasses.replace(comp, km_treated=km_t, km_control=km_c, summary=_summary(km_t, km_c, s.horizons))

    return dataclasses.replace(result, settings=settings, unmatched=redo(result.unmatched),
                               matched=redo(result.matched), sensitivity=redo(result.sensitivity))


def _sensitivity(settings: Settings, matched_rows: pd.DataFrame, weighted: bool = False) -> Comparison | None:
    """Seed 000's sensitivity analysis: the matched comparison without sets that hold a liver resection.

    ``matched_rows``: one row per distinct matched patient (weights kept as matched)."""
    if settings.study.comparison != "primary_resection" or "liver_resection_date" not in matched_rows:
        return None
    had = matched_rows["liver_resection_date"].notna().to_numpy()
    pair = matched_rows["pair"].to_numpy()
    keep = ~np.isin(pair, np.unique(pair[had]))
    rest = matched_rows[["time", "event", "treated", "pair", "weight"]].iloc[np.flatnonzero(keep)]  # all compare reads
    replace = settings.matching.replace
    try:
        return compare(rest, settings, "matched, without liver resection", cluster=_cluster(rest, replace),
                       weights=rest["weight"].to_numpy(dtype=float) if weighted else None)
    except PanNetError:
        return None


# --------------------------------------------------------------------------- entry point
def run_analysis(settings: Settings, table: pd.DataFrame) -> AnalysisResult:
    """Run a whole analysis: settings + patient table in, immutable result out."""
    prepared = prepare(settings, table)
    fit = fit_scores(settings, prepared)
    return analyse(settings, prepared, fit)
