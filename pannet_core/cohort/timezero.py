"""Treatment groups, time zero (baseline) and endpoint of the Pan-NET comparisons.

Immortal time is never counted: each patient's time starts at *their own*
baseline, the date from which they are in the group they are analysed in.

Comparisons (``settings.study.comparison``)
-------------------------------------------
``primary_resection`` (seed 000)
    treated = a ``primary_resection_date`` on or after ``stage4_date`` (and on
    or before the cut-off date).  Baseline = the resection date for the
    treated and ``stage4_date`` for the others.  Patients resected *before*
    stage IV are analysed as controls with a warning (the eligibility rule
    ``no_resection_before_stage4`` normally removes them).
``liver_surgery_tha`` (seed 001)
    treated = a ``liver_resection_date`` or ``liver_ablation_date`` (on or
    before the cut-off); baseline = the first of them.  Control baseline =
    the date all inclusion criteria were met = the latest of
    ``primary_resection_date``, ``liver_mets_date`` and ``first_visit_date``
    (missing ones ignored; all missing -> excluded).

A treatment dated after the cut-off date does not make a patient treated:
at the cut-off they were still untreated (they stay controls).

Endpoints (``settings.study.endpoint``)
---------------------------------------
``os``  event = ``death_date``; otherwise censored at ``last_followup_date``.
``pfs`` event = the first of ``progression_date`` / ``death_date``; otherwise
        censored at ``last_followup_date``.
With ``cutoff_date`` an event after the cut-off is censored at the cut-off and
every censoring date is capped at the cut-off.  A censored patient whose
``last_followup_date`` is missing is censored at the latest known date
(death after the cut-off -> the cut-off).

Rows excluded here (``excluded`` with step ``time_zero``)
--------------------------------------------------------
* no baseline date; baseline after the cut-off date;
* no event and no follow-up date;
* contradictory dates: the event or censoring date is before baseline
  (e.g. death before surgery, progression before baseline);
* censored on the baseline day (time 0 without an event carries no
  information).  Time 0 is kept only when the event happens on the
  baseline day (e.g. death on the day of surgery).

Time is in years: days / 365.25.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError

DAYS_PER_YEAR = 365.25
STEP = "time_zero"


@dataclass(frozen=True)
class TimeZeroResult:
    """Analysis rows and the rows that could not be placed in time.

    Attributes
    ----------
    analysis : DataFrame
        Input columns plus ``treated`` (bool), ``baseline_date``, ``end_date``,
        ``time`` (years, float), ``event`` (int 0/1).
    excluded : DataFrame
        ``patient_id, step, reason``.
    warnings : list of str
    """

    analysis: pd.DataFrame
    excluded: pd.DataFrame
    warnings: list = field(default_factory=list)


_NEEDED = {
    "primary_resection": ("stage4_date", "primary_resection_date"),
    "liver_surgery_tha": ("liver_resection_date", "liver_ablation_date"),
}
_ENDPOINT_NEEDED = {"os": ("death_date", "last_followup_date"),
                    "pfs": ("progression_date", "death_date", "last_followup_date")}
#: Every input column :func:`build_analysis` reads (the cohort hands it only these).
READS = ("patient_id", "stage4_date", "primary_resection_date", "liver_resection_date", "liver_ablation_date",
         "liver_mets_date", "first_visit_date", "death_date", "last_followup_date", "progression_date")


def date_column(frame: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as ``datetime64[ns]`` (all missing when the frame has no such column)."""
    if col not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    s = frame[col]
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, errors="coerce")
    return s.astype("datetime64[ns]")


def _rowmin(*series: pd.Series) -> pd.Series:
    return pd.concat(series, axis=1).min(axis=1).astype("datetime64[ns]")


def _rowmax(*series: pd.Series) -> pd.Series:
    return pd.concat(series, axis=1).max(axis=1).astype("datetime64[ns]")


def assign_groups(frame: pd.DataFrame, comparison: str, cutoff_date=None) -> tuple[pd.Series, pd.Series, list]:
    """Treatment indicator and baseline date for each row.

    Parameters
    ----------
    frame : DataFrame
        Canonical columns.
    comparison : {"primary_resection", "liver_surgery_tha"}
    cutoff_date : str or Timestamp, optional

    Returns
    -------
    treated : Series of bool
    baseline : Series of datetime64 (NaT where no baseline can be set)
    warnings : list of str
    """
    if comparison not in _NEEDED:
        raise PanNetError(f"Unknown comparison {comparison!r}.",
                          "Use primary_resection or liver_surgery_tha in study.comparison.")
    missing = [c for c in _NEEDED[comparison] if c not in frame.columns]
    if comparison == "liver_surgery_tha" and len(missing) < 2:
        missing = []  # one of the two liver dates is enough
    if missing:
        raise PanNetError(f"The comparison {comparison!r} needs column(s) {missing}, which the table lacks.",
                          "Add or map the column(s) (see the data dictionary), or choose another comparison.")
    cut = pd.Timestamp(cutoff_date) if cutoff_date else None
    warnings: list[str] = []
    if comparison == "primary_resection":
        st4 = date_column(frame, "stage4_date")
        res = date_column(frame, "primary_resection_date")
        in_time = res.notna() if cut is None else (res <= cut)
        treated = (in_time & (res >= st4)).fillna(False).astype(bool)
        before = int((res < st4).fillna(False).sum())
        if before:
            warnings.append(f"{before} patient(s) had the primary tumour resected before stage IV and are analysed "
                            "as controls; switch on the eligibility rule no_resection_before_stage4 to exclude them.")
        if cut is not None:
            late = int(((res > cut) & (res >= st4)).fillna(False).sum())
            if late:
                warnings.append(f"{late} patient(s) were resected after the cut-off date and are analysed as controls.")
        baseline = res.where(treated, st4)
    else:
        lr = date_column(frame, "liver_resection_date")
        la = date_column(frame, "liver_ablation_date")
        first = _rowmin(lr, la)
        treated = (first.notna() if cut is None else (first <= cut)).fillna(False).astype(bool)
        if cut is not None:
            late = int((first > cut).fillna(False).sum())
            if late:
                warnings.append(f"{late} patient(s) had liver surgery/ablation after the cut-off date and are "
                                "analysed as controls.")
        ctrl = _rowmax(date_column(frame, "primary_resection_date"), date_column(frame, "liver_mets_date"),
                       date_column(frame, "first_visit_date"))
        baseline = first.where(treated, ctrl)
    return treated, baseline.astype("datetime64[ns]"), warnings


def endpoint_dates(frame: pd.DataFrame, endpoint: str, cutoff_date=None) -> tuple[pd.Series, pd.Series]:
    """End date and event indicator of the endpoint (before the baseline check).

    Returns
    -------
    end_date : Series of datetime64 (NaT = no follow-up at all)
    event : Series of int (0/1)
    """
    if endpoint not in _ENDPOINT_NEEDED:
        raise PanNetError(f"Unknown endpoint {endpoint!r}.", "Use os or pfs in study.endpoint.")
    need = [c for c in _ENDPOINT_NEEDED[endpoint] if c not in frame.columns]
    if endpoint == "os" and len(need) == 2 or endpoint == "pfs" and "progression_date" in need:
        raise PanNetError(f"The endpoint {endpoint!r} needs column(s) {need}, which the table lacks.",
                          "Add or map the date columns, or choose another endpoint.")
    death = date_column(frame, "death_date")
    last = date_column(frame, "last_followup_date")
    ev_date = death if endpoint == "os" else _rowmin(date_column(frame, "progression_date"), death)
    cut = pd.Timestamp(cutoff_date) if cutoff_date else None
    event = ev_date.notna()
    if cut is not None:
        event &= ev_date <= cut
    event = event.fillna(False).astype(bool)
    # censoring: last follow-up, else the latest date known (a death after the cut-off)
    cens = last.where(last.notna(), death)
    if cut is not None:
        cens = cens.where(~(cens > cut), cut)
        # alive at the cut-off with follow-up beyond it, or dead after it
    end = ev_date.where(event, cens)
    return end.astype("datetime64[ns]"), event.astype(int)


def ids_where(ids: pd.Series, mask: np.ndarray) -> np.ndarray:
    """``ids.to_numpy()[mask]``, converting only the rows of ``mask`` when that gives the same array.

    Text ids (any string dtype) always become an object array and numpy ids keep their dtype, so
    only the masked rows are taken first; other dtypes (e.g. nullable integers, whose array is
    object only when a value is missing) convert the whole column.
    """
    if isinstance(ids.dtype, (pd.StringDtype, np.dtype)):
        return ids.iloc[np.flatnonzero(mask)].to_numpy()
    return ids.to_numpy()[mask]


def build_analysis(frame: pd.DataFrame, comparison: str, endpoint: str = "os",
                   cutoff_date=None) -> TimeZeroResult:
    """Groups, baseline, time and event for every row; exclude what cannot be placed.

    Parameters
    ----------
    frame : DataFrame
        Canonical columns (normally the eligibility's ``included``).
    comparison : {"primary_resection", "liver_surgery_tha"}
    endpoint : {"os", "pfs"}
    cutoff_date : str or Timestamp, optional

    Returns
    -------
    TimeZeroResult
    """
    df = frame.copy(deep=False)  # copy-on-write: the new columns below never reach ``frame``
    treated, baseline, warnings = assign_groups(df, comparison, cutoff_date)
    end, event = endpoint_dates(df, endpoint, cutoff_date)
    cut = pd.Timestamp(cutoff_date) if cutoff_date else None
    df["treated"] = treated.to_numpy(dtype=bool)
    df["baseline_date"] = baseline
    df["end_date"] = end
    df["event"] = event.to_numpy(dtype=int)
    days = (end - baseline).dt.days
    df["time"] = (days / DAYS_PER_YEAR).astype(float)

    reason = pd.Series("", index=df.index, dtype=object)

    def flag(mask, text):
        m = mask.fillna(False).to_numpy(dtype=bool) if isinstance(mask, pd.Series) else mask
        m = m & (reason.to_numpy() == "")
        reason.iloc[np.flatnonzero(m)] = text if isinstance(text, str) else np.asarray(text)[m]

    flag(baseline.isna(), "no baseline date (" + ("stage IV / resection date" if comparison == "primary_resection"
                                                  else "primary resection, liver metastases or first visit date")
         + " missing)")
    if cut is not None:
        flag(baseline > cut, "baseline after the cut-off date")
    flag(end.isna(), "no death, progression or last follow-up date")
    ev_name = "death" if endpoint == "os" else "progression/death"
    texts = np.where(df["event"].to_numpy() == 1,
                     f"contradictory dates: {ev_name} before baseline",
                     "contradictory dates: last follow-up before baseline")
    flag(days < 0, texts)
    if endpoint == "pfs":
        prog = date_column(df, "progression_date")
        flag(prog < baseline, "contradictory dates: progression before baseline")
    flag((days == 0) & (df["event"] == 0), "censored on the baseline day (no follow-up after baseline)")

    bad = (reason != "").to_numpy()
    excluded = pd.DataFrame({"patient_id": ids_where(df["patient_id"], bad), "step": STEP,
                             "reason": reason.to_numpy()[bad]})
    analysis = df.loc[~bad].assign(event=lambda d: d["event"].astype("int64"))
    return TimeZeroResult(analysis=analysis, excluded=excluded, warnings=warnings)
