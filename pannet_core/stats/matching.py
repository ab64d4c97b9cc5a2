"""Greedy nearest-neighbour propensity-score matching with a caliper.

Semantics are fixed by ``shared/CONTRACT.md`` ("Matching semantics") and
documented with formulas in ``docs/methods.md``:

* matching scale: the score (``ps``, ``ps_absolute``) or its logit (``logit``);
* caliper width: ``caliper * SD`` (sample SD, n-1, over every patient with a
  score, both groups) for ``ps`` / ``logit``; ``caliper`` itself for
  ``ps_absolute``; ``caliper=None`` = no caliper;
* treated patients are processed in ``order`` (largest / smallest score,
  file order, or a ``numpy.random.default_rng(seed).permutation``), ties in
  the order broken by file order;
* each takes the nearest still-unused control (ties in distance: file order)
  if ``|difference| <= width`` (plus a relative tolerance of 1e-12, see
  ``CALIPER_TOLERANCE``); ``ratio=k`` repeats the pass k times, a treated
  patient who found no control in a pass drops out of later passes;
  ``replace=True`` lets controls be reused (never twice for one treated);
* ``exact`` columns must be equal within a pair.

The algorithm is O(n log n): controls are sorted once, the nearest available
control is found by bisection plus "next available to the left / right"
pointers with path compression (union-find), never an n_treated x n_control
distance matrix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError, SettingsError
from pannet_core.settings import DEFAULT_CALIPER

__all__ = ["MatchResult", "match", "caliper_width", "matching_scale", "CALIPER_TOLERANCE",
           "REASON_MISSING", "REASON_CALIPER", "REASON_EXACT", "REASON_USED", "REASON_NOT_SELECTED"]

#: A pair is inside the caliper when ``|d| <= width + CALIPER_TOLERANCE * max(1, width)``,
#: so that a difference equal to the width up to float rounding counts as inside.
CALIPER_TOLERANCE = 1e-12

REASON_MISSING = "missing covariate"
REASON_CALIPER = "no control inside the caliper"
REASON_EXACT = "no exact-match partner"
REASON_USED = "no unused control left"
REASON_NOT_SELECTED = "not selected"

#: pandas' default text dtype ("str"): what a frame infers from an object array of str ids
_STR = pd.StringDtype(na_value=np.nan)

_SCALES = ("ps", "logit", "ps_absolute")
_ORDERS = ("largest", "smallest", "data", "random")


@dataclass(frozen=True)
class MatchResult:
    """Result of :func:`match`.

    Attributes
    ----------
    pairs : DataFrame
        One row per matched (treated, control) pair: ``pair`` (matched-set
        number, 1.. in file order of the treated patient; with ``ratio=k`` up
        to k rows share it), ``treated_id``, ``control_id``, ``distance``
        (absolute difference on the matching scale), ``pass`` (1..k).
        Sorted by pair, then pass.
    data : DataFrame
        One row per input row, in input order: ``id``, ``treated``,
        ``score``, ``pair`` (Int64; <NA> if unmatched; for a control reused
        with replacement, its first matched set), ``weight`` (MatchIt-style
        ATT weight, 0 if unmatched), ``matched``, ``reason`` ("" if matched).
    caliper_width : float or None
        Resolved caliper on the matching scale (None = no caliper).
    n_pairs : int
        Number of rows of ``pairs``.
    scale : str
        The caliper scale used.
    pair_rows : ndarray or None
        Row numbers (positions in the input, so in ``data``) of each row of
        ``pairs``: column 0 the treated patient, column 1 the control; int64,
        shape ``(n_pairs, 2)``.  None when not known.
    """

    pairs: pd.DataFrame
    data: pd.DataFrame
    caliper_width: float | None
    n_pairs: int
    scale: str = "ps"
    pair_rows: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n_matched_treated(self) -> int:
        return int(self.data.loc[self.data["treated"], "matched"].sum())

    @property
    def n_matched_control(self) -> int:
        return int(self.data.loc[~self.data["treated"], "matched"].sum())


def matching_scale(score: np.ndarray, caliper_scale: str) -> np.ndarray:
    """The values matched on: the score, or its logit for ``caliper_scale='logit'``."""
    score = np.asarray(score, dtype=float)
    if caliper_scale == "logit":
        with np.errstate(divide="ignore"):
            return np.log(score) - np.log1p(-score)
    return score


def caliper_width(values: np.ndarray, caliper: float | None, caliper_scale: str) -> float | None:
    """Resolve the caliper on the matching scale.

    Parameters
    ----------
    values : ndarray
        Matching-scale values of every analysed patient (NaN = no score, ignored).
    caliper : float or None
    caliper_scale : {"ps", "logit", "ps_absolute"}

    Returns
    -------
    float or None
        ``caliper`` for ``ps_absolute``; ``caliper * SD(values)`` (ddof=1, both
        groups together) otherwise; None when ``caliper`` is None.
    """
    if caliper is None:
        return None
    if caliper_scale == "ps_absolute":
        return float(caliper)
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size < 2:
        raise PanNetError("The caliper cannot be computed: fewer than 2 patients have a propensity score.",
                          "Check the covariates for missing values, or set the caliper to none.")
    return float(caliper) * float(np.std(v, ddof=1))


# --------------------------------------------------------------------------- helpers
def _root(parent: list, j: int) -> int:
    """Union-find root of ``j``, compressing the path to it (called only when ``j`` is not a root)."""
    root = parent[j]
    while parent[root] != root:
        root = parent[root]
    while parent[j] != root:
        parent[j], j = root, parent[j]
    return root


def _control_groups(cpos: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, list, list]:
    """Controls sorted by value (ties by file order), grouped by equal values.

    Returns the sorted positions, each group's value, and the group starts (group g covers sorted
    indices ``[start[g], start[g + 1])``; the last entry is the number of controls).
    """
    cval = x[cpos]
    order = np.lexsort((cpos, cval))
    cval_s = cval[order]
    newgrp = np.empty(cval_s.size, dtype=bool)
    newgrp[0] = True
    newgrp[1:] = cval_s[1:] != cval_s[:-1]
    start = np.flatnonzero(newgrp)
    return cpos[order], cval_s[start].tolist(), start.tolist() + [cval_s.size]


def _match_cell_without_replacement(tpos, cpos, x, width, ratio):
    """Greedy matching without replacement inside one exact cell.

    ``tpos``: treated file positions in processing order; ``cpos``: control
    file positions (any order); ``x``: matching values by file position.
    Returns (list of (pass, t, c, d)), set of treated with no match and
    a dict reason per unmatched treated).
    """
    out = []
    failed: dict[int, str] = {}
    if len(cpos) == 0:
        return out, {int(t): "empty" for t in tpos}
    cpos_s, vals, start_l = _control_groups(np.asarray(cpos), x)
    G = len(vals)
    nxt = start_l[:-1]                     # next unused control within group g (sorted index)
    members = cpos_s.tolist()
    # union-find pointers: right[g] -> first group >= g with unused controls (G = none)
    right = list(range(G + 1))
    # left pointers shifted by one: left[g+1] -> 1 + last group <= g with unused (0 = none)
    left = list(range(G + 1))
    tvals = x[np.asarray(tpos, dtype=np.int64)] if len(tpos) else np.array([])
    ins = np.searchsorted(np.asarray(vals), tvals, side="left").tolist()
    tvals = tvals.tolist()
    tlist = [int(t) for t in tpos]
    alive = list(range(len(tlist)))
    tol = np.inf if width is None else width + CALIPER_TOLERANCE * max(1.0, width)
    append = out.append
    for p in range(1, ratio + 1):
        still = []
        keep = still.append
        for idx in alive:
            xv = tvals[idx]
            j = ins[idx]
            # r = first group >= j with an unused control (G = none); union-find with path compression
            r = right[j]
            if r != j:
                r = _root(right, j)
            # lg + 1 = 1 + last group <= j - 1 with an unused control (0 = none)
            l1 = left[j]
            if l1 != j:
                l1 = _root(left, j)
            lg = l1 - 1
            if r < G:
                bd = vals[r] - xv
                best = r
                if lg >= 0:
                    dl = xv - vals[lg]
                    if dl < bd or (dl == bd and members[nxt[lg]] < members[nxt[r]]):
                        best = lg
                        bd = dl
            elif lg >= 0:
                best = lg
                bd = xv - vals[lg]
            else:
                failed[tlist[idx]] = "used"
                continue
            if bd > tol:
                failed[tlist[idx]] = "caliper"
                continue
            q = nxt[best]
            append((p, tlist[idx], members[q], bd))
            q += 1
            nxt[best] = q
            if q == start_l[best + 1]:   # group exhausted
                right[best] = best + 1
                left[best + 1] = best
            keep(idx)
        alive = still
    # reasons: nearest control of the cell (used or not) inside the caliper -> "used", else "caliper"
    if failed:
        fpos = np.fromiter(failed.keys(), dtype=np.int64, count=len(failed))
        all_vals = np.asarray(vals)
        xv = x[fpos]
        j = np.searchsorted(all_vals, xv)
        d_r = np.where(j < G, all_vals[np.minimum(j, G - 1)] - xv, np.inf)
        d_l = np.where(j > 0, xv - all_vals[np.maximum(j - 1, 0)], np.inf)
        near = np.minimum(d_r, d_l) <= tol
        for pos, inside in zip(fpos.tolist(), near.tolist()):
            failed[pos] = "used" if inside else "caliper"
    return out, failed


def _match_cell_with_replacement(tpos, cpos, x, width, ratio):
    """Each treated takes its ``ratio`` nearest controls (ties: file order); controls reusable."""
    out = []
    failed: dict[int, str] = {}
    if len(cpos) == 0:
        return out, {int(t): "empty" for t in tpos}
    cpos_s, vals, start_l = _control_groups(np.asarray(cpos), x)
    cpos_s = cpos_s.tolist()
    G = len(vals)
    tvals = x[np.asarray(tpos, dtype=np.int64)]
    ins = np.searchsorted(np.asarray(vals), tvals, side="left").tolist()
    tvals = tvals.tolist()
    tol = np.inf if width is None else width + CALIPER_TOLERANCE * max(1.0, width)
    for idx, t in enumerate(tpos):
        t = int(t)
        xv = tvals[idx]
        r = ins[idx]
        lg = r - 1
        chosen = []  # (d, c)
        while len(chosen) < ratio and (r < G or lg >= 0):
            dr = vals[r] - xv if r < G else np.inf
            dl = xv - vals[lg] if lg >= 0 else np.inf
            bd = min(dr, dl)
            if bd > tol:
                break
            cands = []
            if dr == bd:
                cands.extend(cpos_s[start_l[r]:start_l[r + 1]])
                r += 1
            if dl == bd:
                cands.extend(cpos_s[start_l[lg]:start_l[lg + 1]])
                lg -= 1
            cands.sort()
            for c in cands[: ratio - len(chosen)]:
                chosen.append((bd, c))
        if not chosen:
            failed[t] = "caliper"
            continue
        for p, (d, c) in enumerate(chosen, start=1):
            out.append((p, t, c, d))
    return out, failed


def _as_bool(treated, n: int) -> np.ndarray:
    arr = np.asarray(treated)
    if arr.shape != (n,):
        raise PanNetError(f"The treatment indicator has {arr.size} values for {n} patients.",
                          "Pass one treatment value per patient.")
    if arr.dtype == bool:
        return arr
    try:
        f = pd.to_numeric(pd.Series(arr), errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError):
        f = np.full(n, np.nan)
    if np.isnan(f).any() or not np.isin(f, (0.0, 1.0)).all():
        raise PanNetError("The treatment indicator must be 0/1 or true/false for every patient.",
                          "Recode the treatment column as 1 = treated, 0 = control.")
    return f == 1.0


def _id_array(ids) -> "np.ndarray | pd.api.extensions.ExtensionArray":
    """The ids as an array; the ids of a pandas ``str`` column stay that column's (Arrow) array.

    Rows taken from it (:func:`_assemble`) are the same ``str`` columns that
    numpy's object array of the ids would give, without a Python string per id.
    Any other ids become a numpy array.
    """
    if isinstance(ids, (pd.Series, pd.Index)) and ids.dtype == _STR:
        return ids.array
    if isinstance(ids, pd.api.extensions.ExtensionArray) and ids.dtype == _STR:
        return ids
    return np.asarray(ids)


def _processing_order(values: np.ndarray, eligible: np.ndarray, order: str, seed: int) -> np.ndarray:
    """File positions of eligible treated in processing order (stable: ties by file order)."""
    pos = np.flatnonzero(eligible)
    if order == "largest":
        return pos[np.argsort(-values[pos], kind="stable")]
    if order == "smallest":
        return pos[np.argsort(values[pos], kind="stable")]
    if order == "data":
        return pos
    return pos[np.random.default_rng(seed).permutation(pos.size)]


def match(ids: Sequence, treated: Sequence, score: Sequence, *, caliper: float | None = DEFAULT_CALIPER,
          caliper_scale: str = "ps", ratio: int = 1, replace: bool = False, order: str = "largest",
          seed: int = 0, exact: pd.DataFrame | None = None) -> MatchResult:
    """Greedy nearest-neighbour matching on the propensity score.

    Parameters
    ----------
    ids : sequence
        Patient ids in file order (rows already sorted by id).  Must be unique.
    treated : sequence of bool or 0/1
    score : sequence of float
        Propensity score (probability); NaN = not analysable (unmatched,
        reason "missing covariate").
    caliper : float or None
        Caliper (multiple of the SD for ``ps``/``logit``; absolute for
        ``ps_absolute``); None = no caliper.
    caliper_scale : {"ps", "logit", "ps_absolute"}
    ratio : int
        Controls per treated patient (k passes).
    replace : bool
        Allow a control to be matched to several treated patients.
    order : {"largest", "smallest", "data", "random"}
    seed : int
        Seed of ``numpy.random.default_rng`` for ``order="random"``.
    exact : DataFrame or None
        Columns (one row per patient) that must be equal within a pair.  A
        missing value there counts as a missing covariate.

    Returns
    -------
    MatchResult

    Notes
    -----
    With MatchIt (R) the closest call is::

        matchit(f, data, method = "nearest", distance = "glm", caliper = 0.1,
                std.caliper = TRUE, m.order = "largest", ratio = 1, replace = FALSE)

    which gives the same pairs except that MatchIt breaks ties between
    equally distant controls differently (see docs/methods.md).
    """
    if caliper_scale not in _SCALES:
        raise SettingsError(f"caliper_scale is {caliper_scale!r}; it must be one of {', '.join(_SCALES)}.",
                            "Use ps (SD of the score), logit (SD of the logit) or ps_absolute.")
    if order not in _ORDERS:
        raise SettingsError(f"Matching order is {order!r}; it must be one of {', '.join(_ORDERS)}.",
                            "Use largest, smallest, data or random.")
    if not isinstance(ratio, (int, np.integer)) or isinstance(ratio, bool) or ratio < 1:
        raise SettingsError(f"Matching ratio is {ratio!r}; it must be a whole number >= 1.", "Use 1 for 1:1.")
    if caliper is not None and (not np.isfinite(caliper) or caliper <= 0):
        raise SettingsError(f"The caliper is {caliper!r}; it must be a positive number or none.",
                            "A usual choice is 0.1 or 0.2.")
    ids_arr = _id_array(ids)
    n = len(ids_arr)
    t = _as_bool(treated, n)
    try:
        s = np.asarray(score, dtype=float)
    except (TypeError, ValueError):
        raise PanNetError("The propensity scores must be numbers.", "Pass the scores from fit_propensity.") from None
    if s.shape != (n,):
        raise PanNetError(f"There are {s.size} scores for {n} patients.", "Pass one score per patient.")
    dups = pd.Series(ids_arr).duplicated()
    if dups.any():
        dup = pd.Series(ids_arr)[dups.to_numpy()].iloc[0]
        raise PanNetError(f"Patient id {dup!r} occurs more than once.", "Give every patient a unique id.")
    ok = ~np.isnan(s)
    if np.any((s[ok] < 0) | (s[ok] > 1)) and caliper_scale != "ps_absolute":
        raise PanNetError("Propensity scores must lie between 0 and 1.", "Pass the scores from fit_propensity.")
    x = matching_scale(s, caliper_scale)
    if caliper_scale == "logit" and np.any(~np.isfinite(x[ok])):
        raise PanNetError("Some propensity scores are exactly 0 or 1, so their logit is infinite.",
                          "Use caliper_scale 'ps', or revise the propensity model (separation).")

    # exact cells
    if exact is not None and len(getattr(exact, "columns", [])) > 0:
        ex = exact.reset_index(drop=True)
        if len(ex) != n:
            raise PanNetError(f"The exact-matching table has {len(ex)} rows for {n} patients.",
                              "Pass one row per patient.")
        ex_missing = ex.isna().any(axis=1).to_numpy()
        ok = ok & ~ex_missing
        keys = pd.Series(list(ex.astype(object).itertuples(index=False, name=None)), dtype=object)
        cell = pd.factorize(keys)[0]
        cell = np.where(ok, cell, -1)
        use_exact = True
    else:
        cell = np.zeros(n, dtype=np.int64)
        use_exact = False

    width = caliper_width(x[~np.isnan(s)], caliper, caliper_scale)
    proc = _processing_order(x, ok & t, order, seed)
    controls = np.flatnonzero(ok & ~t)
    results = []
    failed: dict[int, str] = {}
    fn = _match_cell_with_replacement if replace else _match_cell_without_replacement
    if use_exact:
        cell_proc = cell[proc]
        cell_ctrl = cell[controls]
        for g in np.unique(cell_proc):
            tp = proc[cell_proc == g]
            cp = controls[cell_ctrl == g]
            r, f = fn(tp, cp, x, width, ratio)
            results.extend(r)
            failed.update(f)
    else:
        results, failed = fn(proc, controls, x, width, ratio)

    return _assemble(ids_arr, t, s, ok, results, failed, width, caliper_scale, use_exact, ratio)


def _assemble(ids, t, s, ok, results, failed, width, scale, use_exact, ratio) -> MatchResult:
    n = ids.shape[0]
    if results:
        p_, t_, c_, d_ = zip(*results)  # (pass, treated row, control row, distance) per pair
        passes = np.array(p_, dtype=np.int64)
        tpos = np.array(t_, dtype=np.int64)
        cpos = np.array(c_, dtype=np.int64)
        dist = np.array(d_, dtype=float)
    else:
        passes = tpos = cpos = np.zeros(0, dtype=np.int64)
        dist = np.zeros(0)
    # matched sets numbered by the treated patient's file order
    matched_t = np.unique(tpos)
    set_no = np.zeros(n, dtype=np.int64)
    set_no[matched_t] = np.arange(1, matched_t.size + 1)
    pair = set_no[tpos]
    o = np.lexsort((passes, pair))
    pair_rows = np.column_stack([tpos[o], cpos[o]]).astype(np.int64, copy=False)
    pairs = pd.DataFrame({
        "pair": pair[o].astype(np.int64),
        "treated_id": ids.take(pair_rows[:, 0]),
        "control_id": ids.take(pair_rows[:, 1]),
        "distance": dist[o],
        "pass": passes[o],
    })
    # MatchIt-style ATT weights: treated 1; control sum over its sets of 1/(controls in set),
    # then controls rescaled to sum to the number of matched controls.
    weight = np.zeros(n)
    weight[matched_t] = 1.0
    k_per_set = np.bincount(pair, minlength=matched_t.size + 1)
    np.add.at(weight, cpos, 1.0 / k_per_set[pair])
    cm = np.zeros(n, dtype=bool)
    cm[cpos] = True
    if cm.any():
        weight[cm] *= cm.sum() / weight[cm].sum()
    first_set = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_set, cpos, pair)
    first_set[matched_t] = set_no[matched_t]
    in_set = first_set != np.iinfo(np.int64).max
    pair_col = pd.array(np.where(in_set, first_set, 0), dtype="Int64")
    pair_col[~in_set] = pd.NA
    reason = np.full(n, "", dtype=object)
    reason[~ok] = REASON_MISSING
    unmatched_controls = ok & ~t & ~in_set
    reason[unmatched_controls] = REASON_NOT_SELECTED
    code = {"caliper": REASON_CALIPER, "used": REASON_USED,
            "empty": REASON_EXACT if use_exact else REASON_USED}
    for pos, why in failed.items():
        if not in_set[pos]:
            reason[pos] = code[why]
    data = pd.DataFrame({
        "id": ids,
        "treated": t,
        "score": s,
        "pair": pair_col,
        "weight": weight,
        "matched": in_set,
        "reason": pd.array(reason, dtype="str"),
    })
    return MatchResult(pairs=pairs, data=data, caliper_width=width, n_pairs=len(pairs), scale=scale,
                       pair_rows=pair_rows)
