"""Table 1: baseline characteristics by group with tests and SMDs.

One row per level of each categorical variable (``n (%)`` per group) and one
row per numeric variable (``median (IQR)`` or ``mean (SD)``).

Tests (column ``test``), as in the seeds ("Chi-square or Fisher's exact as
appropriate"):

* categorical: Pearson chi-square **without** continuity correction (SPSS
  "Pearson Chi-Square", R ``chisq.test(tab, correct = FALSE)``); when any
  expected count is below 5, Fisher's exact test instead (2 x 2:
  ``scipy.stats.fisher_exact``, = R ``fisher.test``; k x 2: exact enumeration
  of every table with the observed margins, two-sided p = sum of the
  probabilities of tables no more probable than the observed one, R's
  relative tolerance 1e-7, = R ``fisher.test``).  A k x 2 table with more
  than :data:`MAX_FISHER_TABLES` candidate tables falls back to chi-square
  and says so in ``test``.
* numeric: Mann-Whitney U (normal approximation with continuity and tie
  correction, R ``wilcox.test(x ~ g, exact = FALSE)``) for ``median``,
  Welch's t-test (R ``t.test``) for ``mean``.

SMD (column ``smd``): absolute standardised difference (Austin 2009), as a
fraction.  Level of a categorical variable:
``|p1 - p0| / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2)``; numeric:
``|m1 - m0| / sqrt((s1^2 + s0^2) / 2)`` with sample variances (n - 1); 0 when
both groups are constant.  Same definitions as CONTRACT.md's ``balance``.
``flag`` is ``smd >= threshold``.

After matching pass ``weights`` (the matching weights: 0 unmatched); counts
and percentages are then weighted sums, numeric summaries weighted (mean and
SD as the SMD's; median and quartiles the smallest value whose cumulative
weight reaches 50 %, 25 %, 75 %), and the tests are computed only when every
weight is 0 or 1 (1:1 matching without replacement), else ``p`` is NaN
(CONTRACT.md: P values after weighted matching are null).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import chdtrc, gammaln

from pannet_core.cohort.covariates import NA_LEVEL, as_levels, label
from pannet_core.errors import PanNetError

MAX_FISHER_TABLES = 5_000_000
COLUMNS = ["variable", "label", "level", "treated_n", "treated_pct", "control_n", "control_pct",
           "treated_summary", "control_summary", "p", "test", "smd", "flag"]


def _log_choose(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def fisher_kx2(table: np.ndarray) -> float | None:
    """Two-sided Fisher exact p for a k x 2 table by full enumeration.

    Same p as R ``fisher.test(table)``.  Returns None when more than
    :data:`MAX_FISHER_TABLES` tables would have to be enumerated.
    """
    t = np.asarray(table, dtype=np.int64)
    rows = t.sum(axis=1)
    n1 = int(t[:, 0].sum())
    total = int(rows.sum())
    k = len(rows)
    remaining = np.concatenate([np.cumsum(rows[::-1])[::-1][1:], [0]])  # capacity of later rows
    s = np.zeros(1, dtype=np.int64)
    lp = np.zeros(1)
    for i in range(k - 1):
        lo = np.maximum(0, n1 - s - remaining[i])
        hi = np.minimum(rows[i], n1 - s)
        cnt = np.maximum(hi - lo + 1, 0)
        if cnt.sum() > MAX_FISHER_TABLES:
            return None
        rep = np.repeat(np.arange(len(s)), cnt)
        offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        x = lo[rep] + offs
        s = s[rep] + x
        lp = lp[rep] + _log_choose(rows[i], x)
    x_last = n1 - s
    lp = lp + _log_choose(rows[-1], x_last) - _log_choose(total, n1)
    obs = float(np.sum(_log_choose(rows, t[:, 0])) - _log_choose(total, n1))
    p = float(np.exp(lp[lp <= obs + np.log1p(1e-7)]).sum())
    return min(1.0, p)


def _chi2_p(t: np.ndarray) -> float:
    """p of Pearson's chi-square without continuity correction, computed as
    ``scipy.stats.chi2_contingency(t, correction=False)`` does (same operations,
    same result) without importing scipy.stats (slow to import)."""
    expected = np.sum(t, axis=1, keepdims=True) * np.sum(t, axis=0, keepdims=True) / t.sum()
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    if dof == 0:
        return 1.0
    stat = ((t - expected) ** 2 / expected).sum(axis=None)
    return float(chdtrc(dof, stat))


def compare_counts(table) -> tuple[float, str]:
    """p value and test name for a contingency table (levels x groups).

    Chi-square without continuity correction; Fisher's exact when any
    expected count is < 5.  Empty rows/columns are dropped first.

    Returns
    -------
    (p, test) : (float, str)
        ``test`` is ``"chi-square"``, ``"fisher"``, ``"chi-square (Fisher too
        large)"`` or ``"none"`` (fewer than 2 levels or groups: p is NaN).
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0] if t.size else t
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        return float("nan"), "none"
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    if np.all(expected >= 5):
        return _chi2_p(t), "chi-square"
    ti = np.rint(t).astype(np.int64)
    if ti.shape == (2, 2):
        from scipy import stats  # imported only when needed: scipy.stats is slow to import

        return float(stats.fisher_exact(ti).pvalue), "fisher"
    if ti.shape[1] != 2 and ti.shape[0] == 2:
        ti = ti.T
    if ti.shape[1] == 2:
        p = fisher_kx2(ti)
        if p is not None:
            return p, "fisher"
    return _chi2_p(t), "chi-square (Fisher too large)"


def smd_proportion(p1: float, p0: float) -> float:
    """Austin (2009) SMD of a proportion: |p1-p0| / sqrt((p1(1-p1)+p0(1-p0))/2)."""
    v = (p1 * (1 - p1) + p0 * (1 - p0)) / 2
    if v <= 0:
        return 0.0 if p1 == p0 else float("inf")
    return abs(p1 - p0) / np.sqrt(v)


def _wmean_var(x, w):
    sw = w.sum()
    if sw <= 0:
        return float("nan"), float("nan")
    m = float(np.sum(w * x) / sw)
    if np.all(np.isin(w, [0, 1])):
        xs = x[w > 0]
        return m, float(np.var(xs, ddof=1)) if len(xs) > 1 else float("nan")
    v = float(np.sum(w * (x - m) ** 2) / (sw - np.sum(w ** 2) / sw)) if sw > 1 else float("nan")
    return m, v


def smd_numeric(x1, x0, w1=None, w0=None) -> float:
    """Austin (2009) SMD of a numeric variable with sample variances."""
    x1, x0 = np.asarray(x1, float), np.asarray(x0, float)
    w1 = np.ones_like(x1) if w1 is None else np.asarray(w1, float)
    w0 = np.ones_like(x0) if w0 is None else np.asarray(w0, float)
    m1, v1 = _wmean_var(x1, w1)
    m0, v0 = _wmean_var(x0, w0)
    v = (v1 + v0) / 2
    if not np.isfinite(v):
        return float("nan")
    if v <= 0:
        return 0.0 if m1 == m0 else float("inf")
    return abs(m1 - m0) / np.sqrt(v)


def _fmt_num(x: float) -> str:
    return f"{x:.1f}"


def _summary(x: np.ndarray, how: str) -> str:
    if len(x) == 0:
        return ""
    if how == "mean":
        sd = np.std(x, ddof=1) if len(x) > 1 else float("nan")
        return f"{_fmt_num(np.mean(x))} ({_fmt_num(sd)})"
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    return f"{_fmt_num(med)} ({_fmt_num(q1)}-{_fmt_num(q3)})"


def _weighted_summary(x: np.ndarray, w: np.ndarray, how: str) -> str:
    """``mean (SD)`` or ``median (Q1-Q3)`` of ``x`` with weights ``w`` (see the module docstring)."""
    if len(x) == 0 or w.sum() <= 0:
        return ""
    if how == "mean":
        m, v = _wmean_var(x, w)
        return f"{_fmt_num(m)} ({_fmt_num(np.sqrt(v))})"
    o = np.argsort(x, kind="stable")
    xs, cw = x[o], np.cumsum(w[o]) / w.sum()
    q1, med, q3 = (xs[min(int(np.searchsorted(cw, q - 1e-12, side="left")), xs.size - 1)] for q in (0.25, 0.5, 0.75))
    return f"{_fmt_num(med)} ({_fmt_num(q1)}-{_fmt_num(q3)})"


def _group_sums(codes: np.ndarray, k: int, w: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Sum of ``w`` per code (0 .. k-1) in the treated (column 0) and control rows (column 1).

    One bincount over both groups: each code's sum adds the same rows in the same
    order as a bincount over one group's rows would.
    """
    both = np.bincount(codes + k * (~g), weights=w, minlength=2 * k)
    return np.ascontiguousarray(both.reshape(2, k).T)


def _category_counts(col: pd.Series, w: np.ndarray, g: np.ndarray, missing: str) -> tuple[list, np.ndarray]:
    """Weighted counts per category (then ``N/A``) by group, for whole-number weights.

    Gives the rows of ``as_levels(col, missing)`` that have any weight, in the same
    order and with the same (exact, integer) sums; levels without weight are
    dropped by the caller in both cases.
    """
    cats = list(col.cat.categories)
    k = len(cats)
    codes = col.cat.codes.to_numpy().astype(np.int64)
    codes[codes < 0] = k
    counts = _group_sums(codes, k + 1, w, g)
    if missing == "level":
        return cats + [NA_LEVEL], counts
    return cats, counts[:k]


def table1(frame: pd.DataFrame, treated, variables, categorical=(), *, threshold: float = 0.10,
           weights=None, numeric_summary: str = "median", missing: str = "level") -> pd.DataFrame:
    """Baseline characteristics of two groups.

    Parameters
    ----------
    frame : DataFrame
        One row per patient.
    treated : str or array-like of bool
        Column name of the group indicator (True = treated) or the values.
    variables : iterable of str
        Columns to describe, in order.
    categorical : iterable of str
        Which of ``variables`` are categorical (booleans and text are
        treated as categorical anyway).
    threshold : float
        SMD at or above this is flagged.
    weights : array-like, optional
        Matching weights (0 = unmatched) for the after-matching table.
    numeric_summary : {"median", "mean"}
    missing : {"level", "drop"}
        Missing values of a categorical variable form an ``N/A`` row
        (``level``) or are left out of the counts (``drop``).

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; percentages in percent of the group's
        (weighted) size; ``p`` repeated on every level row of a variable.
    """
    if isinstance(treated, str):
        if treated not in frame:
            raise PanNetError(f"Table 1: there is no group column {treated!r}.", "Name the treatment column.")
        g = frame[treated]
    else:
        g = pd.Series(np.asarray(treated), index=frame.index)
    if len(g) != len(frame):
        raise PanNetError("Table 1: the group indicator has the wrong length.", "Pass one value per row.")
    g = g.astype("boolean")
    if g.isna().any():
        raise PanNetError("Table 1: the group indicator has missing values.", "Give every row a group.")
    g = g.to_numpy(dtype=bool)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(frame) or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise PanNetError("Table 1: the weights must be one non-negative number per row.", "Pass the matching weights.")
    integer_w = bool(np.all(w == np.round(w)))
    unit_w = bool(np.all((w == 0) | (w == 1)))  # tests only on an unweighted sample
    n1, n0 = float(w[g].sum()), float(w[~g].sum())
    categorical = set(categorical)
    rows = []
    for var in variables:
        if var not in frame:
            raise PanNetError(f"Table 1: the variable {var!r} is not in the data.",
                              "Remove it from the list or add the column.")
        col = frame[var]
        is_cat = (var in categorical or isinstance(col.dtype, pd.CategoricalDtype)
                  or pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean"
                  or not pd.api.types.is_numeric_dtype(col))
        if is_cat and integer_w and isinstance(col.dtype, pd.CategoricalDtype) \
                and NA_LEVEL not in col.cat.categories:
            levels, counts = _category_counts(col, w, g, missing)  # same counts, one pass
            keep = counts.sum(axis=1) > 0
        elif is_cat:
            lv = as_levels(col, missing)
            codes = lv.cat.codes.to_numpy()
            levels = list(lv.cat.categories)
            if integer_w and float(w.sum()) < 2 ** 53:  # whole numbers: exact sums, as the loop's
                counts = _group_sums(np.where(codes < 0, len(levels), codes), len(levels) + 1, w, g)[:-1]
            else:
                counts = np.zeros((len(levels), 2))
                for j in range(len(levels)):
                    m = codes == j
                    counts[j, 0] = w[m & g].sum()
                    counts[j, 1] = w[m & ~g].sum()
            keep = counts.sum(axis=1) > 0
        if is_cat:
            tot1, tot0 = counts[:, 0].sum(), counts[:, 1].sum()
            if unit_w:
                p, test = compare_counts(counts[keep])
            else:
                p, test = float("nan"), "none"
            for j, lev in enumerate(levels):
                if not keep[j]:
                    continue
                c1, c0 = counts[j]
                p1 = c1 / tot1 if tot1 > 0 else float("nan")
                p0 = c0 / tot0 if tot0 > 0 else float("nan")
                smd = smd_proportion(p1, p0) if tot1 > 0 and tot0 > 0 else float("nan")
                rows.append({"variable": var, "label": label(var), "level": str(lev),
                             "treated_n": c1, "treated_pct": 100 * p1, "control_n": c0, "control_pct": 100 * p0,
                             "treated_summary": f"{c1:g} ({100 * p1:.1f})",
                             "control_summary": f"{c0:g} ({100 * p0:.1f})",
                             "p": p, "test": test, "smd": smd})
        else:
            x = pd.to_numeric(col, errors="coerce").astype(float).to_numpy(na_value=np.nan)
            ok = np.isfinite(x) & (w > 0)
            x1, x0 = x[ok & g], x[ok & ~g]
            w1, w0 = w[ok & g], w[ok & ~g]
            smd = smd_numeric(x1, x0, w1, w0) if len(x1) and len(x0) else float("nan")
            if unit_w and len(x1) > 1 and len(x0) > 1:
                r1, r0 = np.repeat(x1, w1.astype(int)), np.repeat(x0, w0.astype(int))
                from scipy import stats  # imported only when a numeric variable needs a test
                if numeric_summary == "mean":
                    p, test = float(stats.ttest_ind(r1, r0, equal_var=False).pvalue), "t-test (Welch)"
                else:
                    p = float(stats.mannwhitneyu(r1, r0, alternative="two-sided", method="asymptotic",
                                                 use_continuity=True).pvalue)
                    test = "Mann-Whitney U"
            else:
                r1, r0 = x1, x0
                p, test = float("nan"), "none"
            s1 = _summary(r1, numeric_summary) if unit_w else _weighted_summary(x1, w1, numeric_summary)
            s0 = _summary(r0, numeric_summary) if unit_w else _weighted_summary(x0, w0, numeric_summary)
            rows.append({"variable": var, "label": label(var), "level": "",
                         "treated_n": float(w1.sum()), "treated_pct": float("nan"),
                         "control_n": float(w0.sum()), "control_pct": float("nan"),
                         "treated_summary": s1,
                         "control_summary": s0,
                         "p": p, "test": test, "smd": smd})
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out["flag"] = (out["smd"] >= threshold).astype(bool)
    out.attrs["n_treated"] = n1
    out.attrs["n_control"] = n0
    return out


__all__ = ["table1", "compare_counts", "fisher_kx2", "smd_proportion", "smd_numeric", "NA_LEVEL", "COLUMNS"]
