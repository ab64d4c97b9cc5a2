"""Choices of the Matching page: covariate options, binned/raw switching, wording.

Pure bookkeeping on the Settings object (no statistics): which columns may be
offered, and how a covariate list changes when the user switches between the
binned and the raw form of the continuous covariates.
"""
from __future__ import annotations

import pandas as pd

from pannet_core.cohort import covariates as cohort_covariates
from pannet_core.figures import style as figures_style
from pannet_core.settings import Settings

COMPARISONS = {"primary_resection": "Primary tumour resection vs none (study 000)",
               "liver_surgery_tha": "Liver surgery / thermal ablation vs none (study 001)"}
TIME_ZERO = {
    "primary_resection": "date of primary tumour resection for the resected; stage IV diagnosis for the others "
                         "(no immortal time).",
    "liver_surgery_tha": "first liver resection or ablation for the treated; for the others the date all "
                         "inclusion criteria were met (latest of primary resection, liver metastases, first visit).",
}
SCALES = {"ps": "SD of PS", "logit": "SD of logit PS", "ps_absolute": "absolute"}
ORDERS_TEXT = {"largest": "largest score first", "smallest": "smallest score first", "data": "file order",
               "random": "random (seed)"}
_GENERIC_SKIP = ("treated", "time", "event", "patient_id", "baseline_date", "end_date")


def caliper_label(s: Settings) -> str:
    scale = s.matching.caliper_scale
    if scale == "ps_absolute":
        return "Caliper (absolute difference in probability)"
    return f"Caliper (× {SCALES[scale]})"


def covariate_label(name: str) -> str:
    text = cohort_covariates.COVARIATE_LABELS.get(name)
    text = figures_style.uk_spelling(text) if text else text
    if name in cohort_covariates.BINNED_FROM:
        return f"{text or name} - groups [{name}]"
    return f"{text} [{name}]" if text else name


def _frame(prepared, entry) -> pd.DataFrame | None:
    if prepared is not None:
        return prepared.frame
    return entry.frame if entry is not None else None


def covariate_options(s: Settings, prepared, entry) -> list[str]:
    """Columns that may enter the propensity model (current choice first)."""
    frame = _frame(prepared, entry)
    current = list(s.propensity.covariates)
    if s.is_pannet:
        names = list(cohort_covariates.COVARIATE_LABELS)
        if frame is not None:
            names = [n for n in names if n in frame.columns]
    else:
        c = s.columns
        skip = {c.id, c.treatment, c.time, c.event, *_GENERIC_SKIP}
        names = [n for n in (frame.columns if frame is not None else []) if n not in skip]
    return list(dict.fromkeys(current + names))


def exact_options(s: Settings, prepared) -> list[str]:
    """Categorical columns usable for exact matching."""
    frame = prepared.frame if prepared is not None else None
    cats = list(s.propensity.categorical) + list(s.matching.exact)
    if frame is not None:
        for c in s.propensity.covariates:
            if c in frame and not pd.api.types.is_float_dtype(frame[c]):
                cats.append(c)
    return list(dict.fromkeys(cats))


def _is_categorical(name: str, s: Settings, frame: pd.DataFrame | None) -> bool:
    if name in s.propensity.categorical:
        return True
    if name in cohort_covariates.BINNED_FROM:
        return True
    if frame is not None and name in frame.columns:
        col = frame[name]
        return not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
    return False


def with_covariates(s: Settings, covariates, prepared) -> Settings:
    """Settings with a new covariate list; categorical follows each column's kind."""
    frame = prepared.frame if prepared is not None else None
    covs = tuple(covariates)
    cat = tuple(c for c in covs if _is_categorical(c, s, frame))
    return s.with_values("propensity", covariates=covs, categorical=cat)


def binning_mode(s: Settings) -> str | None:
    """``binned``, ``raw`` or None (mixed / nothing to switch)."""
    raw_of = cohort_covariates.BINNED_FROM
    binned = [c for c in s.propensity.covariates if c in raw_of]
    raw = [c for c in s.propensity.covariates if c in set(raw_of.values()) and c not in raw_of]
    if binned and not raw:
        return "binned"
    if raw and not binned:
        return "raw"
    return None


def with_binning(s: Settings, mode: str, prepared) -> Settings:
    """Switch every continuous covariate to its binned or raw form."""
    raw_of = cohort_covariates.BINNED_FROM
    suffix_001 = s.is_pannet and s.study.comparison == "liver_surgery_tha"
    binned_of: dict[str, str] = {}
    for b, r in raw_of.items():
        if b.endswith("_001") == suffix_001:  # the binning of the chosen study only
            binned_of.setdefault(r, b)
    out = []
    for c in s.propensity.covariates:
        if mode == "raw" and c in raw_of:
            out.append(raw_of[c])
        elif mode == "binned" and c in binned_of and c not in raw_of:
            out.append(binned_of[c])
        else:
            out.append(c)
    out = list(dict.fromkeys(out))
    frame = prepared.frame if prepared is not None else None
    base = s.with_values("propensity", categorical=tuple(c for c in s.propensity.categorical if c in out))
    cat = tuple(c for c in out if _is_categorical(c, base, frame))
    return s.with_values("propensity", covariates=tuple(out), categorical=cat)
