"""Design matrices for regression models (propensity score, Cox).

A categorical covariate becomes one indicator column per level except the
first (the reference), exactly as R's ``model.matrix`` does with the default
treatment contrasts.  Levels are ordered as R's ``factor()`` orders them in
the C locale: numbers numerically, text by Unicode code point.  Indicator
columns are named ``variable=level`` with the level written as in the file
(whole numbers without a trailing ``.0``).

Only complete cases (no missing value in any covariate) enter the model;
levels are taken from the complete cases, so a level seen only in a row that
is dropped for a missing value does not produce an all-zero column (R would
give that column an ``NA`` coefficient).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError

__all__ = ["design_matrix", "design_arrays", "factor_levels", "level_label", "DesignColumn"]


@dataclass(frozen=True)
class DesignColumn:
    """Where a design column comes from.

    Attributes
    ----------
    name : str
        Column name in the design matrix (``age`` or ``size=<=20``).
    variable : str
        The covariate it comes from.
    level : str or None
        The level for an indicator column, ``None`` for a numeric covariate.
    reference : str or None
        The reference (first) level of a categorical covariate.
    """

    name: str
    variable: str
    level: str | None
    reference: str | None = None

    # allow ``variable, level = info`` unpacking as the (variable, level) pair
    def __iter__(self):
        return iter((self.variable, self.level))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i):
        return (self.variable, self.level)[i]


def require_columns(frame: pd.DataFrame, columns, what: str) -> None:
    """Raise a PanNetError naming the ``columns`` that ``frame`` lacks (``what``: e.g. "covariate column(s)")."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PanNetError(f"The {what} {missing} are not in the data.",
                          "Correct the covariate names in the settings or add the columns to the file.")


def level_label(value) -> str:
    """Write one category value as text, as it appears in the file.

    Whole-number floats lose the ``.0`` (``2.0`` -> ``"2"``); booleans become
    ``"False"``/``"True"``; everything else is ``str(value)``.
    """
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if np.isfinite(v) and v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def _is_missing(series: pd.Series) -> np.ndarray:
    miss = series.isna().to_numpy(dtype=bool, na_value=True)
    return miss


def factor_levels(values: pd.Series | Sequence) -> list:
    """Distinct non-missing values in R ``factor()`` order (C locale).

    Numbers (and booleans) sort numerically; anything else sorts by the code
    points of its text.  A column mixing numbers and text is sorted as text.
    A pandas ``Categorical`` keeps its own category order (R's
    ``factor(x, levels = ...)``), so ordered bins keep their first bin as reference.

    Parameters
    ----------
    values : Series or sequence
        The raw column.

    Returns
    -------
    list
        The distinct values, first = reference level.
    """
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    s = s[~_is_missing(s)]
    if isinstance(s.dtype, pd.CategoricalDtype):
        # a factor with explicit levels (e.g. ordered bins "<50", "50-59", ...): R keeps their order
        present = set(s.unique())
        return [c for c in s.cat.categories if c in present]
    uniq = pd.unique(s.to_numpy(dtype=object))
    if len(uniq) == 0:
        return []
    numeric = all(isinstance(u, (int, float, np.integer, np.floating, bool, np.bool_)) for u in uniq)
    if numeric:
        return sorted(uniq, key=lambda u: float(u))
    # Text (or mixed): C-locale order = code points of the written label;
    # equal labels of different types are merged by label.
    by_label: dict[str, object] = {}
    for u in uniq:
        by_label.setdefault(level_label(u), u)
    return [by_label[k] for k in sorted(by_label)]


def _numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    col = frame[name]
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    converted = pd.to_numeric(col, errors="coerce")
    bad = converted.isna() & ~col.isna()
    if bad.any():
        example = col[bad].iloc[0]
        raise PanNetError(
            f"Covariate '{name}' is used as a number but holds text such as {example!r} "
            f"({int(bad.sum())} row(s)).",
            f"Declare '{name}' as categorical, or correct the values so that they are numbers.")
    return converted.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _category_codes(col: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """Category codes and level labels of a pandas ``Categorical``, or None.

    The fast path of :func:`design_matrix`: a ``Categorical`` already holds
    one integer code per row (-1 = missing) and its levels in R order, so
    nothing needs to be factorized.  Only used when the categories are all
    text or of a numeric dtype and their labels are distinct, i.e. when the
    codes give exactly the levels and indicator columns that the general path
    finds by factorizing the values and matching their labels.
    """
    if not isinstance(col.dtype, pd.CategoricalDtype):
        return None
    cats = col.cat.categories
    if cats.dtype.kind in "iuf":
        pass
    elif not all(isinstance(c, str) for c in cats):
        return None
    labels = [level_label(c) for c in cats]
    if len(set(labels)) != len(labels):
        return None
    return col.cat.codes.to_numpy(), labels


def _categorical_columns(col: pd.Series, c: str, used: np.ndarray, codes_labels,
                         columns: dict[str, np.ndarray], info: list[DesignColumn]) -> None:
    """Add the indicator columns of categorical covariate ``c`` (NaN outside ``used``)."""
    if codes_labels is not None:
        # codes index the categories, which are already in R factor order
        codes, labels = codes_labels
        counts = np.bincount(codes[used] + 1, minlength=len(labels) + 1)[1:]
        present = np.flatnonzero(counts)
        ref = labels[present[0]] if present.size else None
        for j in present[1:]:
            name = f"{c}={labels[j]}"
            x = (codes == j).astype(float)
            x[~used] = np.nan
            columns[name] = x
            info.append(DesignColumn(name, c, labels[j], ref))
        return
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    unique_labels = np.array([level_label(u) for u in uniques], dtype=object)
    levels = factor_levels(col[used])
    ref = level_label(levels[0]) if levels else None
    for lev in levels[1:]:
        lab = level_label(lev)
        name = f"{c}={lab}"
        hit = np.flatnonzero(unique_labels == lab)
        x = (codes == hit[0]).astype(float) if hit.size == 1 else np.isin(codes, hit).astype(float)
        x[~used] = np.nan
        columns[name] = x
        info.append(DesignColumn(name, c, lab, ref))


def design_arrays(frame: pd.DataFrame, covariates: Iterable[str], categorical: Iterable[str] = ()
                  ) -> tuple[list[str], np.ndarray, list[DesignColumn], np.ndarray]:
    """:func:`design_matrix` without the DataFrame: the design as one array.

    Parameters and errors are those of :func:`design_matrix`.

    Returns
    -------
    names : list of str
        Design column names (the columns of ``design_matrix``'s ``X``).
    block : ndarray, shape (len(names), len(frame))
        One C-contiguous row per design column, so ``block.T`` is the
        Fortran-ordered array ``X.to_numpy()`` gives (same values, same
        memory layout).
    info : list of DesignColumn
    used : ndarray of bool
        Complete-case mask.
    """
    covariates = list(covariates)
    categorical = set(categorical)
    require_columns(frame, covariates, "covariate column(s)")
    stray = sorted(categorical - set(covariates))
    if stray:
        raise PanNetError(f"Categorical column(s) {stray} are not among the covariates.",
                          "Every categorical column must also be listed as a covariate.")
    if len(set(covariates)) != len(covariates):
        raise PanNetError(f"A covariate is listed twice: {covariates}.", "List each covariate once.")
    n = len(frame)
    used = np.ones(n, dtype=bool)
    numeric_values: dict[str, np.ndarray] = {}
    cols = {c: frame[c] for c in covariates}
    fast: dict[str, tuple[np.ndarray, list[str]] | None] = {}
    for c in covariates:
        if c in categorical:
            fast[c] = _category_codes(cols[c])
            used &= fast[c][0] >= 0 if fast[c] is not None else ~_is_missing(cols[c])
        else:
            v = _numeric_column(frame, c)
            numeric_values[c] = v
            used &= np.isfinite(v)
    columns: dict[str, np.ndarray] = {}
    info: list[DesignColumn] = []
    for c in covariates:
        if c in categorical:
            _categorical_columns(cols[c], c, used, fast[c], columns, info)
        else:
            x = numeric_values[c].copy()
            x[~used] = np.nan
            columns[c] = x
            info.append(DesignColumn(c, c, None))
    block = np.stack(list(columns.values())) if columns else np.empty((0, n))
    return list(columns), block, info, used


def design_matrix(frame: pd.DataFrame, covariates: Iterable[str],
                  categorical: Iterable[str] = ()) -> tuple[pd.DataFrame, list[DesignColumn], np.ndarray]:
    """Build a model matrix without intercept from named covariates.

    Parameters
    ----------
    frame : DataFrame
        One row per patient.  Not modified.
    covariates : iterable of str
        Columns to put in the model, in this order.
    categorical : iterable of str
        The covariates to expand into indicator columns (first level =
        reference, R ``factor()`` order in the C locale).  Any other covariate
        must be numeric (booleans count as 0/1).

    Returns
    -------
    X : DataFrame
        Float design columns with the same index as ``frame``; rows that are
        not complete cases hold NaN.  Numeric covariates keep their name;
        indicator columns are named ``variable=level``.
    info : list of DesignColumn
        One entry per column of ``X``; each unpacks as ``(variable, level)``
        with ``level`` None for numeric covariates.
    used : ndarray of bool
        Complete-case mask (no missing value in any covariate).

    Raises
    ------
    PanNetError
        A covariate is not a column of ``frame``, a numeric covariate holds
        text, or ``categorical`` names a column that is not a covariate.

    See Also
    --------
    design_arrays : the same design as one numpy array (no DataFrame).
    """
    names, block, info, used = design_arrays(frame, covariates, categorical)
    if not names:
        return pd.DataFrame(index=frame.index), info, used
    return pd.DataFrame(block.T, index=frame.index, columns=names, copy=False), info, used
