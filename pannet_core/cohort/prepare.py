"""From a canonical Pan-NET registry table to the analysis cohort.

:func:`prepare_cohort` runs, in order,

1. eligibility (:mod:`pannet_core.cohort.eligibility`, the rules of
   ``settings.eligibility``; flow steps named after the rules),
2. treatment group, time zero and endpoint (:mod:`pannet_core.cohort.timezero`;
   flow step ``time_zero``: rows with missing or contradictory dates),
3. derived covariates (:mod:`pannet_core.cohort.covariates`),
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

from pannet_core.cohort.covariates import DERIVED_COLUMNS, as_levels, derive_covariates
from pannet_core.cohort.covariates import READS as COVARIATES_READ
from pannet_core.cohort.eligibility import eligible_rows
from pannet_core.cohort.timezero import READS as TIME_ZERO_READS
from pannet_core.cohort.timezero import STEP as TIME_ZERO_STEP
from pannet_core.cohort.timezero import build_analysis, ids_where
from pannet_core.errors import PanNetError, SettingsError
from pannet_core.io.schema import BY_NAME
from pannet_core.io.validation import strictly_increasing

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


def _missing_covariates(df: pd.DataFrame, names: list) -> tuple[np.ndarray, list]:
    """Rows missing any of the columns ``names``, and for each such row "missing a, b" (in ``names`` order)."""
    names = list(dict.fromkeys(names))
    if not names:
        return np.zeros(len(df), bool), []
    miss = np.column_stack([df[c].isna().to_numpy() for c in names])
    bad = miss.any(axis=1)
    # one text per pattern of missing columns, not per row
    patterns, which = np.unique(miss[bad], axis=0, return_inverse=True)
    texts = ["missing " + ", ".join(n for n, m in zip(names, p) if m) for p in patterns]
    return bad, [texts[i] for i in which.ravel()]


def _unique(ids: pd.Series) -> bool:
    """``ids.is_unique`` (two missing ids are a duplicate), without hashing ids listed in increasing order.

    Registry exports usually list patients by id: present ids strictly increasing repeat none
    (validation's neighbour comparison), so the ids are unique unless two are missing.
    """
    if strictly_increasing(ids):
        return int(ids.isna().sum()) < 2
    return ids.is_unique


def _in_dictionary_order(col: pd.Series, allowed) -> pd.Series:
    """``col`` as a categorical of the values present: ``allowed`` ones in that order, then others sorted.

    So the first allowed value present is the reference (e.g. sporadic, G1, female).  The same as
    ``pd.Categorical(col, categories=order)``, with the values hashed once (factorize) instead of twice.
    """
    codes, uniq = pd.factorize(col)  # missing -> -1
    present = set(uniq)
    order = [v for v in allowed if v in present] + sorted(present - set(allowed), key=str)
    pos = {v: i for i, v in enumerate(order)}
    remap = np.array([pos[v] for v in uniq] + [-1], dtype=np.int64)  # the last entry: code -1 stays -1
    cat = pd.Categorical.from_codes(remap[codes], categories=order)
    return pd.Series(cat, index=col.index, name=col.name)


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
    if not _unique(frame["patient_id"]):  # (NaN twice counts as a duplicate, as duplicated() says)
        dup = frame.loc[frame["patient_id"].duplicated(), "patient_id"].iloc[0]
        raise PanNetError(f"Patient id {dup!r} occurs more than once.", "Keep one row per patient.")
    study = settings.study
    missing_rule = settings.propensity.missing

    covs = list(settings.propensity.covariates)
    cox_covs = [c for c in settings.cox.covariates if c not in covs]

    rows, elig_flow, elig_excluded = eligible_rows(frame, settings.eligibility)
    flow_rows = elig_flow.to_dict("records")
    excluded = [elig_excluded]
    if not len(rows):
        raise PanNetError("No patient meets the eligibility criteria.",
                          "Check the eligibility rules against the data (see the flow) and relax them.")
    # Time zero, covariates and complete cases work on the columns they read, indexed by position
    # in ``frame``; the other columns are taken once, for the rows analysed, at the end.
    reads = set(TIME_ZERO_READS) | set(COVARIATES_READ) | set(covs) | set(cox_covs)
    work = frame[[c for c in frame.columns if c in reads]]
    work = work.iloc[rows] if len(rows) < len(frame) else work
    work.index = pd.Index(rows)

    tz = build_analysis(work, study.comparison, study.endpoint, study.cutoff_date)
    flow_rows.append(_flow_row(TIME_ZERO_STEP, "Missing or contradictory dates", len(rows), len(tz.excluded)))
    excluded.append(tz.excluded)
    warnings = list(tz.warnings)

    df = derive_covariates(tz.analysis, missing=missing_rule)
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
            df[c] = _in_dictionary_order(col, field.allowed)
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
    bad, reasons = _missing_covariates(df, covs + cox_covs)
    flow_rows.append(_flow_row(COMPLETE_STEP, "Missing covariates", len(df), int(bad.sum())))
    excluded.append(pd.DataFrame({"patient_id": ids_where(df["patient_id"], bad), "step": COMPLETE_STEP,
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
    rest = [c for c in frame.columns if c not in df.columns]  # read by no step: as in the table
    df = pd.concat([df.reset_index(drop=True), frame[rest].iloc[df.index.to_numpy()].reset_index(drop=True)],
                   axis=1)
    analysis = df[order]

    flow = pd.DataFrame(flow_rows, columns=["step", "n_in", "n_excluded", "n_out", "label"])
    for c in ("n_in", "n_excluded", "n_out"):
        flow[c] = flow[c].astype("int64")
    excl = pd.concat([e for e in excluded if len(e)], ignore_index=True) if any(len(e) for e in excluded) else \
        pd.DataFrame({"patient_id": pd.Series([], dtype=object), "step": pd.Series([], dtype=object),
                      "reason": pd.Series([], dtype=object)})
    return Cohort(analysis=analysis, flow=flow, excluded=excl, warnings=warnings,
                  comparison=study.comparison, endpoint=study.endpoint, covariates=tuple(covs))
