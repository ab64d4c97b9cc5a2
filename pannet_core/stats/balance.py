"""Covariate balance: absolute standardised mean differences and variance ratios.

Formulas (Austin 2009; fixed by shared/CONTRACT.md):

* numeric covariate: ``|m1 - m0| / sqrt((s1^2 + s0^2) / 2)`` with sample
  variances (n - 1);
* each level of a categorical covariate: ``|p1 - p0| / sqrt((p1(1-p1) + p0(1-p0)) / 2)``;
* a covariate constant in both groups (denominator 0, equal means) has SMD 0;
  different constants give ``inf``.

After matching the same formulas are applied to the rows with weight > 0.
When those weights are not all equal to 1 (ratio > 1 or matching with
replacement), means are weighted, ``m = sum(w x) / sum(w)``, and variances are
the unbiased weighted variance with reliability weights,
``sum(w (x - m)^2) / (sum(w) - sum(w^2) / sum(w))`` (equal to the sample
variance when all weights are 1; the formula cobalt's ``col_w_sd`` uses).
The denominator is always computed in the sample being described (matched
sample for ``smd_after``).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.stats.design import factor_levels, level_label, require_columns

__all__ = ["smd", "smd_table", "weighted_mean_var"]


def weighted_mean_var(x: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and unbiased (reliability-weights) variance; NaN variance for < 2 values."""
    x = np.asarray(x, dtype=float)
    if w is None:
        if x.size == 0:
            return float("nan"), float("nan")
        m = float(x.mean())
        v = float(x.var(ddof=1)) if x.size > 1 else float("nan")
        return m, v
    w = np.asarray(w, dtype=float)
    sw = w.sum()
    if x.size == 0 or sw <= 0:
        return float("nan"), float("nan")
    m = float(np.sum(w * x) / sw)
    denom = sw - np.sum(w * w) / sw
    v = float(np.sum(w * (x - m) ** 2) / denom) if denom > 0 else float("nan")
    return m, v


def _ratio(num: float, den: float) -> float:
    if den == 0:
        return 0.0 if num == 0 else float("inf")
    return abs(num) / den


def smd(x_treated, x_control, categorical: bool = False, w_treated=None, w_control=None) -> float:
    """Absolute standardised mean difference of one variable (Austin 2009).

    Parameters
    ----------
    x_treated, x_control : array-like
        Values in each group (NaN ignored).  With ``categorical=True`` they
        are 0/1 indicators of one level.
    categorical : bool
        Use the proportion formula ``|p1 - p0| / sqrt((p1(1-p1) + p0(1-p0))/2)``.
    w_treated, w_control : array-like, optional
        Weights (see module docstring).

    Returns
    -------
    float
        0 if the variable is constant in both groups with equal values.
    """
    a = np.asarray(x_treated, dtype=float)
    b = np.asarray(x_control, dtype=float)
    wa = None if w_treated is None else np.asarray(w_treated, dtype=float)
    wb = None if w_control is None else np.asarray(w_control, dtype=float)
    ka, kb = ~np.isnan(a), ~np.isnan(b)
    a, b = a[ka], b[kb]
    wa = None if wa is None else wa[ka]
    wb = None if wb is None else wb[kb]
    m1, v1 = weighted_mean_var(a, wa)
    m0, v0 = weighted_mean_var(b, wb)
    return _smd_of(m1, v1, m0, v0, categorical)


def _smd_of(m1: float, v1: float, m0: float, v0: float, categorical: bool) -> float:
    """:func:`smd` from the groups' means and variances (the variances are not used for a proportion)."""
    if categorical:
        v1, v0 = m1 * (1 - m1), m0 * (1 - m0)
    if np.isnan(m1) or np.isnan(m0):
        return float("nan")
    v1 = 0.0 if np.isnan(v1) else v1
    v0 = 0.0 if np.isnan(v0) else v0
    return _ratio(m1 - m0, float(np.sqrt((v1 + v0) / 2)))


def _proportion(count: int, n: int) -> float:
    """Mean of ``n`` 0/1 values of which ``count`` are 1, bit for bit as ``weighted_mean_var`` gives it.

    A float sum of 0/1 values is an exact whole number in any order (below 2**53),
    and ``count / n`` rounds the same exact quotient that ``x.mean()`` does.
    """
    return count / n if n else float("nan")


def _variance_ratio(a, b, wa, wb) -> float:
    _, v1 = weighted_mean_var(a, wa)
    _, v0 = weighted_mean_var(b, wb)
    if np.isnan(v1) or np.isnan(v0) or v0 == 0:
        return float("nan")
    return v1 / v0


def smd_table(frame: pd.DataFrame, treated, covariates: Iterable[str], categorical: Iterable[str] = (),
              weights=None, *, matched_weights=None) -> pd.DataFrame:
    """Balance table before and after matching.

    Parameters
    ----------
    frame : DataFrame
        One row per patient.
    treated : str or array-like
        Treatment column name or one bool / 0-1 value per row.
    covariates : iterable of str
    categorical : iterable of str
        Covariates reported per level (all levels, R factor order).  Missing
        values are left out of that covariate; pass them as a level such as
        ``"N/A"`` to report them.
    weights : array-like, optional
        Matching weights per row (``MatchResult.data["weight"]``); rows with
        weight > 0 (NaN = 0) form the matched sample.  None: ``smd_after`` and
        ``vr_after`` are NaN.
    matched_weights : array-like, optional
        Alias of ``weights``.

    Returns
    -------
    DataFrame
        Columns ``variable`` (``age`` or ``size=<=20``), ``covariate``,
        ``level`` (None for numeric), ``smd_before``, ``smd_after``,
        ``vr_before``, ``vr_after`` (variance ratio treated / control for
        numeric covariates, NaN for levels).
    """
    from pannet_core.stats.propensity import treatment_indicator

    if weights is None:
        weights = matched_weights
    covariates = list(covariates)
    categorical = set(categorical)
    require_columns(frame, covariates, "balance covariate(s)")
    t = treatment_indicator(frame, treated)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(frame),):
            raise PanNetError(f"There are {w.size} matching weights for {len(frame)} rows.",
                              "Pass one weight per row (MatchResult.data['weight']).")
        w = np.where(np.isnan(w), 0.0, w)
        after = w > 0
        unit = bool(np.all(w[after] == 1.0))
    rows = []
    group = t.astype(np.int64)  # for the counts of _levels
    if weights is not None:
        sa, sb = after & t, after & ~t
        group += 2 * after

    def _after(xa, xb, cat):
        if weights is None:
            return float("nan"), float("nan")
        wa = None if unit else w[sa]
        wb = None if unit else w[sb]
        val = smd(xa[sa], xb[sb], cat, wa, wb)
        vr = float("nan") if cat else _variance_ratio(*_drop_nan(xa[sa], xb[sb], wa, wb))
        return val, vr

    def _levels(c, codes, miss, levels):
        """One row per level (name, code) of a categorical covariate whose value codes are ``codes``.

        Unweighted proportions come from counts (:func:`_proportion`); weighted
        ones (``smd_after`` when the weights are not all 1) from the 0/1 values.
        """
        k = int(codes.max()) + 1 if codes.size else 0  # (codes of rows not missing are >= 0)
        # rows per (group, code) in one pass: group 0/1 = control/treated, +2 in the matched sample;
        # code k = missing
        key = np.where(miss, k, codes) + (k + 1) * group
        n_code = np.bincount(key, minlength=4 * (k + 1)).reshape(4, k + 1)[:, :k]

        def counts(*groups):  # rows of each code, and rows, in the groups (not missing)
            c = n_code[list(groups)].sum(axis=0)
            return c, int(c.sum())

        def share(counted, j):
            c, n = counted
            return _proportion(int(c[j]) if 0 <= j < k else 0, n)

        before_t, before_c = counts(1, 3), counts(0, 2)
        if weights is not None and unit:
            after_t, after_c = counts(3), counts(2)
        for name, j in levels:
            before = _smd_of(share(before_t, j), np.nan, share(before_c, j), np.nan, True)
            if weights is None:
                a = float("nan")
            elif unit:
                a = _smd_of(share(after_t, j), np.nan, share(after_c, j), np.nan, True)
            else:
                x = np.where(miss, np.nan, (codes == j).astype(float))
                a, _ = _after(x, x, True)
            rows.append({"variable": f"{c}={name}", "covariate": c, "level": name,
                         "smd_before": before, "smd_after": a, "vr_before": float("nan"),
                         "vr_after": float("nan")})

    for c in covariates:
        col = frame[c]
        if c in categorical and isinstance(col.dtype, pd.CategoricalDtype) \
                and all(type(v) is str for v in col.cat.categories):
            # text categories (the covariates stage 1 derives): the codes are the labels
            codes = col.cat.codes.to_numpy()
            miss = codes < 0
            cats = list(col.cat.categories)
            present = np.bincount(codes[~miss], minlength=len(cats)) > 0
            _levels(c, codes, miss, [(cats[j], j) for j in np.flatnonzero(present).tolist()])
        elif c in categorical:
            # one label per distinct value (not per row), then compare label codes
            codes, uniq = pd.factorize(col)
            labels = [level_label(u) for u in uniq]
            label_code = {lab: i for i, lab in reversed(list(enumerate(labels)))}
            lab = np.array([label_code[lab] for lab in labels] + [-1], dtype=np.int64)[codes]
            miss = col.isna().to_numpy(dtype=bool, na_value=True)
            levels = [(name, label_code.get(name, -2)) for name in map(level_label, factor_levels(col))]
            _levels(c, np.where(lab < 0, len(labels), lab), miss, levels)  # (-1: missing, code of no level)
        else:
            if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
                x = col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            else:
                conv = pd.to_numeric(col, errors="coerce")
                if (conv.isna() & ~col.isna()).any():
                    raise PanNetError(f"Covariate '{c}' holds text but is not declared categorical.",
                                      f"Declare '{c}' as categorical or correct its values.")
                x = conv.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            before = smd(x[t], x[~t])
            vr_b = _variance_ratio(*_drop_nan(x[t], x[~t], None, None))
            a, vr_a = _after(x, x, False)
            rows.append({"variable": c, "covariate": c, "level": None, "smd_before": before,
                         "smd_after": a, "vr_before": vr_b, "vr_after": vr_a})
    out = pd.DataFrame(rows, columns=["variable", "covariate", "level", "smd_before", "smd_after",
                                      "vr_before", "vr_after"])
    out["level"] = pd.Series([r["level"] for r in rows], index=out.index, dtype=object)
    return out


def _drop_nan(a, b, wa, wb):
    ka, kb = ~np.isnan(a), ~np.isnan(b)
    return a[ka], b[kb], (None if wa is None else wa[ka]), (None if wb is None else wb[kb])
