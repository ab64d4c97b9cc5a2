"""From a canonical Pan-NET registry table to the analysis cohort.

:func:`prepare_cohort` runs, in order,

1. eligibility (:mod:`pannet_core.eligibility`, the rules of
   ``settings.eligibility``; flow steps named after the rules),
2. treatment group, time zero and endpoint (:mod:`pannet_core.timezero`;
   flow step ``time_zero``: rows with missing or contradictory dates),
3. derived covariates (:mod:`pannet_core.covariates`),
4. complete covariates (flow step ``complete_covariates``): rows missing a
   propensity (or Cox) covariate are dropped with a reason.  With
   ``propensity.missing == "level"`` binned and categorical covariates have
   an ``N/A`` level, so only raw numeric covariates can be missing.

The flow always lists steps 2 and 4 (``n_excluded`` may be 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .covariates import DERIVED_COLUMNS, as_levels, derive_covariates
from .schema import BY_NAME
from .eligibility import apply_eligibility
from .errors import PanNetError, SettingsError
from .timezero import STEP as TIME_ZERO_STEP
from .timezero import build_analysis, ninety_day_mortality  # noqa: F401  (re-exported)

COMPLETE_STEP = "complete_covariates"
FRONT = ["patient_id", "treated", "baseline_date", "time", "event"]


@dataclass(frozen=True)
class Cohort:
    """The analysis cohort of a Pan-NET study.

    Attributes
    ----------
    analysis : DataFrame
        One row per analysed patient: ``patient_id, treated (bool),
        baseline_date, time (years), event (0/1)``, then ``end_date`` and the
        derived covariates, then the original canonical columns.
    flow : DataFrame
        ``step, n_in, n_excluded, n_out, label`` - eligibility rules, then
        ``time_zero`` and ``complete_covariates``.
    excluded : DataFrame
        ``patient_id, step, reason`` for every patient left out.
    warnings : list of str
    comparison, endpoint : str
    covariates : tuple of str
        The propensity covariates (all present and complete in ``analysis``).
    """

    analysis: pd.DataFrame
    flow: pd.DataFrame
    excluded: pd.DataFrame
    warnings: list = field(default_factory=list)
    comparison: str = "primary_resection"
    endpoint: str = "os"
    covariates: tuple = ()

    @property
    def n_treated(self) -> int:
        return int(self.analysis["treated"].sum())

    @property
    def n_control(self) -> int:
        return int((~self.analysis["treated"]).sum())


def _flow_row(step: str, label: str, n_in: int, n_excluded: int) -> dict:
    return {"step": step, "n_in": n_in, "n_excluded": n_excluded, "n_out": n_in - n_excluded, "label": label}


def prepare_cohort(frame: pd.DataFrame, settings) -> Cohort:
    """Eligibility, groups, time zero, endpoint and covariates in one call.

    Parameters
    ----------
    frame : DataFrame
        Canonical Pan-NET columns and types (see ``docs/architecture.md``).
    settings : pannet_core.settings.Settings
        Pan-NET settings (with a ``study`` block).

    Returns
    -------
    Cohort

    Raises
    ------
    SettingsError
        No study block, unknown rule or bad rule parameter.
    PanNetError
        A needed column is missing, or a group is left empty.
    """
    if getattr(settings, "study", None) is None:
        raise SettingsError("These settings have no 'study' block, so there is no Pan-NET comparison to build.",
                            "Start from a preset (primary_tumour_resection or liver_surgery_tha).")
    if not isinstance(frame, pd.DataFrame) or "patient_id" not in frame:
        raise PanNetError("The table has no patient_id column.", "Map the patient identifier column to patient_id.")
    if not frame["patient_id"].is_unique:  # (NaN twice counts as a duplicate, as duplicated() says)
        dup = frame.loc[frame["patient_id"].duplicated(), "patient_id"].iloc[0]
        raise PanNetError(f"Patient id {dup!r} occurs more than once.", "Keep one row per patient.")
    study = settings.study
    missing_rule = settings.propensity.missing

    elig = apply_eligibility(frame, settings.eligibility)
    flow_rows = elig.flow.to_dict("records")
    excluded = [elig.excluded]
    if elig.included.empty:
        raise PanNetError("No patient meets the eligibility criteria.",
                          "Check the eligibility rules against the data (see the flow) and relax them.")

    tz = build_analysis(elig.included, study.comparison, study.endpoint, study.cutoff_date)
    flow_rows.append(_flow_row(TIME_ZERO_STEP, "Missing or contradictory dates", len(elig.included),
                               len(tz.excluded)))
    excluded.append(tz.excluded)
    warnings = list(tz.warnings)

    df = derive_covariates(tz.analysis, missing=missing_rule)
    covs = list(settings.propensity.covariates)
    cox_covs = [c for c in settings.cox.covariates if c not in covs]
    categorical = set(settings.propensity.categorical) | set(settings.cox.categorical)
    absent = [c for c in covs + cox_covs if c not in df.columns]
    if absent:
        raise PanNetError(f"The covariate(s) {absent} are neither columns of the table nor derived covariates.",
                          f"Use canonical columns or derived ones such as {list(DERIVED_COLUMNS[:6])}.")
    for c in covs + cox_covs:
        col = df[c]
        if c in DERIVED_COLUMNS:
            continue
        field = BY_NAME.get(c)
        if field is not None and field.type == "category" and not isinstance(col.dtype, pd.CategoricalDtype):
            # dictionary order, so the first allowed value is the reference (e.g. sporadic, G1, female)
            present = set(col.dropna().unique())
            order = [v for v in field.allowed if v in present] + sorted(present - set(field.allowed), key=str)
            col = pd.Series(pd.Categorical(col, categories=order), index=col.index, name=c)
            df[c] = col
        elif field is not None and field.type == "yesno":
            n_na = int(col.isna().sum())
            df[c] = as_levels(col, missing_rule)  # no / yes (/ N/A): "no" is the reference
            if n_na and missing_rule == "level":
                warnings.append(f"Covariate {c!r} has {n_na} missing value(s), analysed as level 'N/A'.")
            continue
        is_text = (pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean"
                   or not pd.api.types.is_numeric_dtype(col))
        if (c in categorical or is_text) and col.isna().any() and missing_rule == "level":
            df[c] = as_levels(col, "level")
            warnings.append(f"Covariate {c!r} has {int(col.isna().sum())} missing value(s), analysed as level 'N/A'.")

    # complete cases on the propensity and Cox covariates
    miss = pd.DataFrame({c: df[c].isna().to_numpy() for c in covs + cox_covs}, index=df.index)
    bad = miss.any(axis=1).to_numpy() if len(miss.columns) else np.zeros(len(df), bool)
    reasons = ["missing " + ", ".join(miss.columns[miss.iloc[i].to_numpy()]) for i in np.flatnonzero(bad)]
    flow_rows.append(_flow_row(COMPLETE_STEP, "Missing covariates", len(df), int(bad.sum())))
    excluded.append(pd.DataFrame({"patient_id": df["patient_id"].to_numpy()[bad], "step": COMPLETE_STEP,
                                  "reason": pd.Series(reasons, dtype=object)}))
    df = df.loc[~bad]

    n_t, n_c = int(df["treated"].sum()), int((~df["treated"]).sum())
    group = "treated (resected)" if study.comparison == "primary_resection" else "treated (liver surgery/THA)"
    if n_t == 0 or n_c == 0:
        empty = group if n_t == 0 else "control"
        raise PanNetError(f"After eligibility and date checks the {empty} group is empty "
                          f"({n_t} treated, {n_c} controls).",
                          "Check the treatment dates and the eligibility rules (see the flow and excluded rows).")

    derived = [c for c in DERIVED_COLUMNS if c in df.columns]
    canonical = [c for c in frame.columns if c not in FRONT and c not in derived]
    order = FRONT + ["end_date"] + derived + canonical
    order += [c for c in df.columns if c not in order]
    analysis = df[order].reset_index(drop=True)

    flow = pd.DataFrame(flow_rows, columns=["step", "n_in", "n_excluded", "n_out", "label"])
    for c in ("n_in", "n_excluded", "n_out"):
        flow[c] = flow[c].astype("int64")
    excl = pd.concat([e for e in excluded if len(e)], ignore_index=True) if any(len(e) for e in excluded) else \
        pd.DataFrame({"patient_id": pd.Series([], dtype=object), "step": pd.Series([], dtype=object),
                      "reason": pd.Series([], dtype=object)})
    return Cohort(analysis=analysis, flow=flow, excluded=excl, warnings=warnings,
                  comparison=study.comparison, endpoint=study.endpoint, covariates=tuple(covs))
