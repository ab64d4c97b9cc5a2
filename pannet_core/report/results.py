"""``results.json`` and ``matched_cohort.csv`` exactly as ``shared/CONTRACT.md`` names them,
and ``excluded_patients.csv`` (every patient left out before the analysis, with the reason)."""
from __future__ import annotations

import json
import math
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from pannet_core.pipeline import AnalysisResult, Comparison, Prepared


def _num(x: Any) -> float | int | None:
    """JSON-safe number: NaN/None/inf -> None, numpy scalars -> Python."""
    if x is None or x is pd.NA:
        return None
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _id(x: Any) -> Any:
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)) and float(x).is_integer():
        return int(x)
    return x.item() if hasattr(x, "item") else x


def _ids(col: pd.Series) -> list:
    """``[_id(x) for x in col]``, vectorised for integer columns."""
    if isinstance(col.dtype, pd.StringDtype) and not col.hasnans:
        return col.tolist()  # _id leaves a str as it is
    a = col.to_numpy()
    if a.dtype.kind in "iu":
        return a.tolist()
    if a.dtype.kind == "f":
        return [int(v) if v.is_integer() else v for v in a.tolist()]
    return [_id(x) for x in a]


def _group(km, horizons) -> dict:
    est, lo, hi = km.median()
    surv = {}
    if horizons:
        _, surv_at, lower, upper = km._at(list(horizons))  # = survival_at's columns
        for h, s, s_lo, s_hi in zip(horizons, surv_at, lower, upper):
            surv[f"{h:g}"] = {"est": _num(s), "lo": _num(s_lo), "hi": _num(s_hi)}
    return {"n": int(km.n), "events": int(km.events),
            "median": {"est": _num(est), "lo": _num(lo), "hi": _num(hi)}, "survival": surv}


def _km(c: Comparison, horizons) -> dict:
    return {"treated": _group(c.km_treated, horizons), "control": _group(c.km_control, horizons)}


def _test(t) -> dict | None:
    if t is None or not math.isfinite(t.chisq):  # not computed (pair-stratified with replacement; see warnings)
        return None
    return {"chisq": _num(t.chisq), "df": _num(t.df), "p": _num(t.p)}


def _hr(cox) -> dict:
    row = cox.table.iloc[0]
    return {"hr": _num(row["hr"]), "lo": _num(row["lower"]), "hi": _num(row["upper"]), "p": _num(row["p"])}


def _jsonable(obj: Any) -> Any:
    """Nested dicts/lists of numbers and text as JSON values (NaN/inf -> null, numpy -> Python)."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    return _num(obj)


def robustness_records(rows: list[dict] | None) -> list[dict] | None:
    """The ``robustness`` rows (:func:`pannet_core.specification.robustness_rows`) as JSON values."""
    return None if rows is None else _jsonable(rows)


def _records(df: pd.DataFrame | None) -> list[dict] | None:
    if df is None:
        return None
    return [{k: (_num(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else
                 (bool(v) if isinstance(v, (bool, np.bool_)) else (None if v is None or v is pd.NA or
                  (isinstance(v, float) and math.isnan(v)) else v)))
             for k, v in rec.items()} for rec in df.to_dict(orient="records")]


def _table1_records(df: pd.DataFrame | None) -> list[dict] | None:
    """Table 1 rows for JSON; counts that are whole numbers (unit or whole matching weights) as integers."""
    recs = _records(df)
    for rec in recs or ():
        for key in ("treated_n", "control_n"):
            v = rec.get(key)
            if isinstance(v, float) and v.is_integer():
                rec[key] = int(v)
    return recs


def follow_up(frame: pd.DataFrame) -> dict:
    """Median (IQR) of the observed follow-up time, as the seed papers report it, and the
    reverse Kaplan-Meier median (Schemper & Smith 1996), in years."""
    return _follow_up(frame["time"].to_numpy(dtype=float), frame["event"].to_numpy())


def _follow_up(t: np.ndarray, event: np.ndarray) -> dict:
    """:func:`follow_up` of the times ``t`` (float) and their events."""
    from pannet_core.stats.survival import median_followup

    q1, med, q3 = np.percentile(t, [25, 50, 75]) if len(t) else (np.nan,) * 3
    return {"median": _num(med), "q1": _num(q1), "q3": _num(q3),
            "reverse_km_median": _num(median_followup(t, event))}


def results_json(result: AnalysisResult, robustness: list[dict] | None = None) -> dict:
    """The ``results.json`` document (CONTRACT.md names, plus documented extras).

    ``robustness``: the specification panel's rows (:func:`pannet_core.specification.robustness_rows`),
    which the CLI computes once; ``null`` in the document when not given.
    """
    s = result.settings
    horizons = s.survival.horizons
    pairs = result.matching.pairs
    d = result.data
    matched = d["matched"].to_numpy(dtype=bool)
    time, event = d["time"].to_numpy(dtype=float), d["event"].to_numpy()
    treated = d["treated"].to_numpy(dtype=bool)
    n_sets = int((treated & matched).sum())  # = result.n_sets, without a copy
    out: dict[str, Any] = {
        "n": result.n, "n_treated": result.n_treated, "n_control": result.n_control,
        "caliper_width": _num(result.matching.caliper_width),
        "c_statistic": _num(result.c_statistic),
        "pairs": list(map(list, zip(_ids(pairs["treated_id"]), _ids(pairs["control_id"])))),
        "n_sets": n_sets,
        "balance": [{"variable": r.variable, "smd_before": _num(r.smd_before), "smd_after": _num(r.smd_after)}
                    for r in result.balance.itertuples()],
        "km": {"unmatched": _km(result.unmatched, horizons), "matched": _km(result.matched, horizons)},
        "logrank": {"unmatched": _test(result.unmatched.logrank), "matched": _test(result.matched.logrank),
                    "matched_pair_stratified": _test(result.logrank_pair_stratified)},
        "cox": {"unmatched": _hr(result.unmatched.cox), "matched_robust": _hr(result.matched.cox)},
        # "Is the answer robust?" (CONTRACT.md): null where not applicable
        "rmst": _jsonable(result.rmst),
        "e_value": _jsonable(result.e_value),
        "rosenbaum": _jsonable(result.rosenbaum),
        "time_varying": _jsonable(result.time_varying),
        "landmark": _jsonable(result.landmark),
        "robustness": robustness_records(robustness),
        # extras (not in CONTRACT.md, free to extend)
        # pairs = treated-control links (len(pairs)); patients distinct (docs/methods.md, vocabulary)
        "n_pairs": len(pairs),
        "n_matched_treated": n_sets,
        "n_matched_control": int((~treated & matched).sum()),
        "n_matched_patients": int(matched.sum()),
        "settings": s.to_dict(),
        "warnings": list(result.warnings),
        "unmatched_reasons": result.data.loc[~result.data["matched"], "reason"].value_counts().to_dict(),
        "follow_up": {"unmatched": _follow_up(time, event), "matched": _follow_up(time[matched], event[matched])},
    }
    if s.is_pannet:
        out["flow"] = [{"step": r["step"], "n_in": int(r["n_in"]), "n_excluded": int(r["n_excluded"]),
                        "n_out": int(r["n_out"])} for r in result.flow.to_dict(orient="records")]
        out["table1"] = _table1_records(result.table1)
        out["table1_matched"] = _table1_records(result.table1_matched)
        if result.ninety_day is not None:
            out["ninety_day_mortality"] = _records(result.ninety_day)
        if result.cox_models is not None:
            out["cox_models"] = _records(result.cox_models.table)
            out["cox_ph_test"] = _records(result.cox_models.ph_test)
        if result.sensitivity is not None:
            out["sensitivity"] = {"km": _km(result.sensitivity, horizons),
                                  "logrank": _test(result.sensitivity.logrank),
                                  "cox_robust": _hr(result.sensitivity.cox)}
    return out


def results_text(doc: dict) -> str:
    """The text of ``results.json``: ``json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)``.

    The same characters, faster: with ``indent`` the json module encodes in pure
    Python, and the ``pairs`` list of a registry-scale analysis holds tens of
    thousands of ids.  Here ``pairs`` is written by :func:`_pairs_text`
    and put in the place of a marker; any other document (or a ``pairs`` value that
    function does not handle) goes through ``json.dumps`` whole.

    Parameters
    ----------
    doc : dict
        A :func:`results_json` document (any JSON-able dict).

    Returns
    -------
    str
    """
    def dumps(obj):
        return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)

    pairs = doc.get("pairs")
    pairs_text = _pairs_text(pairs) if isinstance(pairs, list) else None
    if pairs_text is None:
        return dumps(doc)
    text = dumps({**doc, "pairs": _PAIRS_MARK})  # same keys in the same order
    token = json.dumps(_PAIRS_MARK)
    if text.count(token) != 1:  # (a value of the document is the marker itself)
        return dumps(doc)
    return text.replace(token, pairs_text)


#: stands for ``pairs`` in :func:`results_text` (NUL characters: ``"\u0000"`` in JSON)
_PAIRS_MARK = "\x00pairs\x00"


def _pairs_text(pairs: list) -> str | None:
    """``pairs`` (``[[treated_id, control_id], ...]``) as ``json.dumps(indent=2)`` writes a value of a
    top-level key, or None unless every pair is a 2-item list of ids that are all ``str`` or all ``int``."""
    if not pairs:
        return "[]"
    if set(map(type, pairs)) != {list} or set(map(len, pairs)) != {2}:
        return None
    ids = list(chain.from_iterable(pairs))
    kinds = set(map(type, ids))
    if kinds == {str}:
        text = list(map(json.encoder.encode_basestring, ids))  # the encoder's function with ensure_ascii=False
    elif kinds == {int}:  # (not bool, which JSON writes as true/false)
        text = list(map(int.__repr__, ids))
    else:
        return None
    inner = "\n    ],\n    [\n      ".join(map(",\n      ".join, zip(text[0::2], text[1::2])))
    return f"[\n    [\n      {inner}\n    ]\n  ]"


#: ``result.data`` columns matched_cohort.csv starts with (the other analysed columns follow in their order)
MATCHED_COHORT_FRONT = ["patient_id", "treated", "time", "event", "score", "logit", "pair", "weight", "matched",
                        "reason"]
#: ``result.data`` columns that matched_cohort.csv names differently
MATCHED_COHORT_NAMES = {"score": "propensity_score", "time": "time_years"}


def matched_cohort_frame(result: AnalysisResult | pd.DataFrame) -> pd.DataFrame:
    """Every analysed row with its propensity score and pair id (empty for unmatched rows).

    Parameters
    ----------
    result : AnalysisResult or pandas.DataFrame
        A finished analysis, or its ``data`` (as :func:`pannet_core.pipeline.analyse`
        hands it to ``on_data`` before the outcome statistics).

    Returns
    -------
    pandas.DataFrame
        ``patient_id, treated (0/1), time_years, event, propensity_score, logit, pair, weight,
        matched (0/1), reason`` and then the other analysed columns. ``pair`` is a nullable
        integer (``Int64``): written as ``42``, and empty for an unmatched row, whose
        ``reason`` says why it has no pair.
    """
    d = result if isinstance(result, pd.DataFrame) else result.data
    cols = MATCHED_COHORT_FRONT
    rest = [c for c in d.columns if c not in cols]
    out = d[cols + rest]  # a new frame (copy-on-write): the assignments below leave d alone
    out = out.rename(columns=MATCHED_COHORT_NAMES)
    out["treated"] = out["treated"].astype(int)
    out["matched"] = out["matched"].astype(int)
    out["pair"] = out["pair"].astype("Int64")  # 42, not 42.0; <NA> (an empty cell) when unmatched
    return out


MATCHED_SETS_COLUMNS = ["set", "patient_id", "treated"]


def matched_sets_frame(result: AnalysisResult) -> pd.DataFrame:
    """One row per set membership (``matched_sets.csv``): ``set, patient_id, treated (0/1)``.

    Each matched set is its treated patient followed by its controls in the order they were
    taken; a control reused with replacement appears once per set it belongs to.  ``set`` is
    the ``pair`` number of matched_cohort.csv.
    """
    pairs = result.matching.pairs
    set_no = pairs["pair"].to_numpy(dtype=np.int64)
    first = np.r_[True, set_no[1:] != set_no[:-1]] if len(set_no) else np.zeros(0, dtype=bool)
    t_rows = np.flatnonzero(first)
    # the treated patient of each set goes before the set's first pair: stable sort of (set, 0/1)
    sets = np.concatenate([set_no[t_rows], set_no])
    kind = np.concatenate([np.zeros(t_rows.size, dtype=np.int64), np.ones(set_no.size, dtype=np.int64)])
    ids = pd.concat([pairs["treated_id"].iloc[t_rows], pairs["control_id"]], ignore_index=True)
    order = np.lexsort((kind, sets))
    return pd.DataFrame({"set": sets[order], "patient_id": ids.iloc[order].reset_index(drop=True),
                         "treated": 1 - kind[order]})


EXCLUDED_COLUMNS = ["patient_id", "step", "reason"]


def excluded_patients_frame(result: AnalysisResult | Prepared) -> pd.DataFrame:
    """Every patient of the file left out before the analysis, with the step and the reason.

    The ``run`` command writes it as ``excluded_patients.csv`` and the report
    zip holds the same file, so that every patient of the input appears either
    here or in ``matched_cohort.csv`` (where an unmatched patient has the
    matching reason).

    Parameters
    ----------
    result : AnalysisResult or pannet_core.pipeline.Prepared
        A finished analysis, or its stage 1 (the list is complete after it;
        the ``run`` command writes the file while the later stages run).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id, step, reason``: one row per patient excluded by
        an eligibility rule, by time zero (contradictory dates, no follow-up)
        or by missing covariate values (``propensity.missing: drop``), in the
        order of the steps. Empty (with these columns) when nobody was left
        out, as with a generic ``columns`` settings file, which refuses a bad
        row instead of dropping it.
    """
    excluded = result.excluded
    if excluded is None or not len(excluded):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in EXCLUDED_COLUMNS})
    return excluded[EXCLUDED_COLUMNS + [c for c in excluded.columns if c not in EXCLUDED_COLUMNS]]
