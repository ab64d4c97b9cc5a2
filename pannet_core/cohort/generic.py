"""Cohorts already reduced to one row per patient (the generic ``columns`` block).

``prepare_generic(table, columns)`` turns a table with an id, a treatment, a
duration and an event column into the analysis frame every later step uses:
``patient_id, treated, time (years), event (0/1)`` plus the other columns
untouched.  It checks what R's ``Surv()`` and ``glm()`` would choke on and
says how to fix it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io.coding import binary_codes
from pannet_core.io.coercion import id_text
from pannet_core.settings import ColumnsSettings


def prepare_generic(table: pd.DataFrame, columns: ColumnsSettings) -> pd.DataFrame:
    """Analysis frame from a one-row-per-patient table.

    Returns a new DataFrame sorted by id (the project's "file order") with
    columns ``patient_id, treated (bool), time (years), event (int 0/1)`` and
    every other column of ``table`` unchanged.
    """
    missing = [c for c in (columns.id, columns.treatment, columns.time, columns.event) if c not in table.columns]
    if missing:
        raise PanNetError(f"The data has no column(s) {missing} named in the settings' columns block.",
                          "Rename the columns in the file or in the settings; "
                          f"the file has {list(table.columns)[:20]}.")
    if table.columns.duplicated().any():
        dup = sorted(set(table.columns[table.columns.duplicated()]))
        raise PanNetError(f"The data has duplicated column names {dup}.", "Give every column a unique header.")
    if len(table) == 0:
        raise PanNetError("The data has a header but no patients.", "Upload a file with one row per patient.")
    frame = table.copy()
    ids = frame[columns.id] = id_text(frame[columns.id])
    if ids.isna().any():
        rows = (np.flatnonzero(ids.isna().to_numpy()) + 1)[:5].tolist()
        raise PanNetError(f"The id column '{columns.id}' is empty in data row(s) {rows}.",
                          "Give every patient an id.")
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].astype(str).unique()[:5].tolist()
        raise PanNetError(f"Patient id(s) {dup} appear more than once in '{columns.id}'.",
                          "Keep one row per patient (the generic format is one row per patient).")
    time = pd.to_numeric(frame[columns.time], errors="coerce")
    bad = frame[columns.time].notna() & time.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise PanNetError(f"The time column '{columns.time}' has text {str(frame[columns.time].iloc[i])!r} "
                          f"in data row {i + 1}.",
                          "Times must be numbers; correct or remove those rows.")
    if time.isna().any():
        rows = (np.flatnonzero(time.isna().to_numpy()) + 1)[:5].tolist()
        raise PanNetError(f"The time column '{columns.time}' is empty in data row(s) {rows}.",
                          "Every patient needs a follow-up time.")
    if (time < 0).any() or not np.isfinite(time.to_numpy(dtype=float)).all():
        rows = (np.flatnonzero((time < 0).to_numpy()) + 1)[:5].tolist()
        raise PanNetError(f"The time column '{columns.time}' has negative or infinite times (data rows {rows}).",
                          "Follow-up times must be zero or positive; check the dates they were computed from.")
    treated = binary_codes(frame[columns.treatment], columns.treatment, "treatment", columns.treated_value)
    event = binary_codes(frame[columns.event], columns.event, "event", columns.event_value)
    zero = (time == 0).to_numpy()
    if zero.all():
        raise PanNetError(f"Every time in '{columns.time}' is 0: there is no follow-up to analyse.",
                          "Check the time column (and the time_unit in the settings); times must be the "
                          "follow-up from baseline to the event or the last contact.")
    if (zero & (event == 0)).any():
        # as the Pan-NET path ("censored on the baseline day"): a patient censored at time 0 adds nothing
        rows = (np.flatnonzero(zero & (event == 0)) + 1)[:5].tolist()
        raise PanNetError(f"The time column '{columns.time}' is 0 for patients without an event (data rows "
                          f"{rows}): censored at time 0, they have no follow-up.",
                          "Correct the times (usually the dates they were computed from), or remove these rows; "
                          "an event at time 0 (e.g. death on the day of surgery) is allowed.")
    out = frame.drop(columns=[columns.treatment, columns.time, columns.event])
    out = out.rename(columns={columns.id: "patient_id"}) if columns.id != "patient_id" else out
    out.insert(1, "treated", treated.astype(bool))
    out.insert(2, "time", time.to_numpy(dtype=float) * columns.years_per_unit)
    out.insert(3, "event", event.astype(np.int64))
    return sort_by_id(out)


def missing_as_level(frame: pd.DataFrame, covariates, categorical=()) -> pd.DataFrame:
    """Categorical covariates with missing values get their own ``N/A`` level (``propensity.missing = "level"``).

    Parameters
    ----------
    frame : DataFrame
        The analysis frame of :func:`prepare_generic` (not modified).
    covariates : sequence of str
        The propensity covariates.
    categorical : sequence of str
        Covariates named categorical in the settings; text columns are categorical anyway.

    Returns
    -------
    DataFrame
        ``frame`` itself when no categorical covariate has a missing value, else a copy in
        which those columns are ordered categoricals (levels sorted as text, ``N/A`` last).
        Numeric covariates keep their missing values: those patients stay unmatched with the
        reason "missing covariate", as with ``missing = "drop"``.
    """
    from pannet_core.cohort.covariates import as_levels

    todo = [c for c in covariates if c in frame.columns and frame[c].isna().any()
            and (c in categorical or not pd.api.types.is_numeric_dtype(frame[c])
                 or pd.api.types.is_bool_dtype(frame[c]))]
    if not todo:
        return frame
    out = frame.copy()
    for c in todo:
        col = out[c]
        if not isinstance(col.dtype, pd.CategoricalDtype):
            # levels as text, so that "N/A" never sits among numbers (mixed categories break the design)
            col = col.astype(object).where(col.isna(), col.astype(str)).astype("str")
        out[c] = as_levels(col, "level")
    return out


def sort_by_id(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable sort by ``patient_id`` (numeric ids as numbers): the project's "file order"."""
    ids = frame["patient_id"]
    num = pd.to_numeric(ids, errors="coerce")
    key = num if num.notna().all() else ids.astype(str)
    order = np.argsort(key.to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)
