"""Eligibility criteria of the Pan-NET studies as named, switchable rules.

Each criterion is a :class:`pannet_core.settings.Rule` (``name``, ``enabled``,
``params``).  :func:`apply_eligibility` applies the enabled rules in the order
given and records, for every step, how many patients entered, how many were
excluded and how many remained (the CONSORT flow), and for every excluded
patient the step and a reason in words.

Two rule sets reproduce the seeds:

* :data:`RULES_000` - primary tumour resection study (seed 000): diagnosis of
  stage IV 2000-2019, WHO grade G1/G2, sporadic tumour, no primary resection
  before stage IV, not inoperable, no other liver malignancy, no liver
  transplantation, follow-up available.
* :data:`RULES_001` - liver surgery / thermal hepatic ablation study (seed 001):
  primary tumour resected, liver metastases, no other liver malignancy,
  follow-up available, baseline from 1995.

:func:`rule_catalogue` describes every rule and its parameters (the
dashboard builds its widgets from it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError, SettingsError
from pannet_core.settings import Rule

GRADES = ("G1", "G2", "G3", "NEC", "unknown")
HEREDITARY = ("sporadic", "MEN1", "VHL", "suspected")


@dataclass(frozen=True)
class EligibilityResult:
    """Outcome of :func:`apply_eligibility`.

    Attributes
    ----------
    included : DataFrame
        Rows that passed every enabled rule (a copy, original order).
    flow : DataFrame
        One row per enabled rule in order: ``step, n_in, n_excluded, n_out,
        label``; the first ``n_in`` is every patient in the file.
    excluded : DataFrame
        ``patient_id, step, reason`` - one row per excluded patient (each
        patient is excluded by the first rule it fails).
    """

    included: pd.DataFrame
    flow: pd.DataFrame
    excluded: pd.DataFrame


# ---------------------------------------------------------------------------
# parameter specifications
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Param:
    name: str
    kind: str  # "year", "levels", "column", "text_list"
    default: Any
    description: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class _RuleSpec:
    name: str
    label: str
    description: str
    columns: tuple[str, ...]
    params: tuple[_Param, ...]
    # -> (codes, texts): per row -1 (passes) or the index of its reason in texts
    func: Callable[["_Rows", dict], tuple[np.ndarray, list]]


def _true(frame: pd.DataFrame, col: str) -> np.ndarray:
    """True where a yes/no column is True (missing counts as False)."""
    s = frame[col]
    if s.dtype == bool:
        return s.to_numpy()
    return s.astype("boolean").to_numpy(dtype=bool, na_value=False)


def _dates(frame: pd.DataFrame, col: str) -> pd.Series:
    s = frame[col]
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, errors="coerce")
    return s


def _later(a: pd.Series, b: pd.Series) -> pd.Series:
    """Row-wise later of two dates, missing ones ignored (NaT where both are missing)."""
    if a.dtype == b.dtype and isinstance(a.dtype, np.dtype):  # datetime64 of one unit: fmax skips NaT
        return pd.Series(np.fmax(a.to_numpy(), b.to_numpy()), index=a.index, copy=False)
    return pd.concat([a, b], axis=1).max(axis=1)


def _reasons(mask: np.ndarray, text: str) -> tuple[np.ndarray, list]:
    """A rule's outcome where ``mask`` rows fail with the one reason ``text``: (codes, [text])."""
    return np.where(mask, 0, -1), [text]


def _rule_diagnosis_years(frame, p):
    col = p["date_column"]
    d = _dates(frame, col)
    year = d.dt.year
    missing = d.isna().to_numpy()
    out_range = ((year < p["start"]) | (year > p["end"])).fillna(False).to_numpy(dtype=bool)
    codes = np.full(len(frame), -1, dtype=np.int64)
    outside = out_range & ~missing
    years = year.to_numpy()[outside].astype(int)
    texts = [f"no {col}"]
    if len(years):  # one text per calendar year from the first to the last found, looked up by year
        first = int(years.min())
        texts += [f"stage IV diagnosed {y} (outside {p['start']}-{p['end']})"
                  for y in range(first, int(years.max()) + 1)]
        codes[outside] = 1 + years - first
    codes[missing] = 0
    return codes, texts


def _level_rule(col: str, what: str, missing_as: str | None = None):
    def rule(frame, p):
        allowed = set(p["allowed"])
        # decided once per distinct value: code -1 = missing
        codes, uniq = frame.factorized(col) if isinstance(frame, _Rows) else pd.factorize(frame[col])
        values = [str(u) for u in uniq] + [missing_as or "missing"]
        bad_value = [v not in allowed for v in values]
        if missing_as is None:
            bad_value[-1] = True
        texts = [f"{what} {v}" for v, b in zip(values, bad_value) if b]
        lookup = np.full(len(values), -1, dtype=np.int64)
        lookup[np.flatnonzero(bad_value)] = np.arange(len(texts))
        return lookup[codes], texts
    return rule


def _rule_no_resection_before(frame, p):
    flag = _true(frame, "resection_before_stage4") if "resection_before_stage4" in frame else np.zeros(len(frame), bool)
    res = _dates(frame, "primary_resection_date")
    st4 = _dates(frame, "stage4_date")
    early = (res < st4).fillna(False).to_numpy(dtype=bool)
    return _reasons(flag | early, "primary tumour resected before stage IV diagnosis")


def _flag_rule(col: str, text: str):
    def rule(frame, p):
        return _reasons(_true(frame, col), text)
    return rule


def _rule_follow_up(frame, p):
    latest = _later(_dates(frame, "death_date"), _dates(frame, "last_followup_date"))
    none = latest.isna().to_numpy()
    ref_col = p["not_before"]
    if ref_col and ref_col in frame:
        ref = _dates(frame, ref_col)
        before = (latest < ref).fillna(False).to_numpy(dtype=bool)
    else:
        before = np.zeros(len(frame), bool)
    codes = np.where(none, 0, np.where(before, 1, -1))
    return codes, ["no death or last follow-up date", f"last follow-up / death before {ref_col}"]


def _rule_primary_resected(frame, p):
    res = _dates(frame, "primary_resection_date").isna().to_numpy()
    return _reasons(res, "primary tumour not resected")


def _rule_liver_mets(frame, p):
    has = _true(frame, "liver_mets")
    if "liver_mets_date" in frame:
        has = has | _dates(frame, "liver_mets_date").notna().to_numpy()
    return _reasons(~has, "no liver metastases")


def _rule_baseline_from(frame, p):
    start = pd.Timestamp(year=int(p["year"]), month=1, day=1)
    bad = np.zeros(len(frame), bool)
    for col in ("liver_mets_date", "liver_resection_date", "liver_ablation_date"):
        if col in frame:
            bad |= (_dates(frame, col) < start).fillna(False).to_numpy(dtype=bool)
    return _reasons(bad, f"liver metastases or liver surgery before {p['year']}")


_centre_rule = _level_rule("centre", "centre", missing_as="missing")  # a missing centre is "missing"


def _rule_centre(frame, p):
    if not p["allowed"]:  # no list: every centre is kept
        return _reasons(np.zeros(len(frame), bool), "")
    return _centre_rule(frame, p)


_SPECS: dict[str, _RuleSpec] = {}


def _register(spec: _RuleSpec) -> None:
    _SPECS[spec.name] = spec


_register(_RuleSpec(
    "diagnosis_years", "Stage IV diagnosed outside the study years",
    "Keep patients whose stage IV diagnosis falls in the calendar years start..end (inclusive).",
    ("stage4_date",),
    (_Param("start", "year", 2000, "First calendar year included"),
     _Param("end", "year", 2019, "Last calendar year included"),
     _Param("date_column", "column", "stage4_date", "Date whose year is checked")),
    _rule_diagnosis_years))
_register(_RuleSpec(
    "grade", "WHO grade not allowed (G3, NEC or unknown)",
    "Keep patients whose WHO grade is one of the allowed grades; a missing grade counts as unknown.",
    ("who_grade",),
    (_Param("allowed", "levels", ["G1", "G2"], "Grades kept", GRADES),),
    _level_rule("who_grade", "WHO grade", missing_as="unknown")))
_register(_RuleSpec(
    "sporadic", "Hereditary syndrome (MEN1, VHL or suspected)",
    "Keep patients whose hereditary status is one of the allowed values; missing status is excluded.",
    ("hereditary",),
    (_Param("allowed", "levels", ["sporadic"], "Hereditary status kept", HEREDITARY),),
    _level_rule("hereditary", "hereditary status")))
_register(_RuleSpec(
    "no_resection_before_stage4", "Primary tumour resected before stage IV",
    "Exclude patients flagged resection_before_stage4, or whose primary_resection_date is before stage4_date.",
    ("primary_resection_date", "stage4_date"), (), _rule_no_resection_before))
_register(_RuleSpec(
    "not_inoperable", "Inoperable (comorbidity or unresectable primary)",
    "Exclude patients flagged inoperable.", ("inoperable",), (),
    _flag_rule("inoperable", "deemed inoperable")))
_register(_RuleSpec(
    "no_other_liver_malignancy", "Liver metastases from another malignancy",
    "Exclude patients flagged other_liver_malignancy.", ("other_liver_malignancy",), (),
    _flag_rule("other_liver_malignancy", "liver metastases from another malignancy")))
_register(_RuleSpec(
    "no_liver_transplant", "Liver transplantation",
    "Exclude patients flagged liver_transplant.", ("liver_transplant",), (),
    _flag_rule("liver_transplant", "liver transplantation")))
_register(_RuleSpec(
    "follow_up_available", "No follow-up data",
    "Exclude patients with neither a death nor a last follow-up date, or whose latest such date is "
    "before the date named by not_before (empty = no check).",
    ("death_date", "last_followup_date"),
    (_Param("not_before", "column", "stage4_date", "Follow-up must not end before this date column"),),
    _rule_follow_up))
_register(_RuleSpec(
    "primary_resected", "Primary surgery not performed",
    "Keep patients with a primary_resection_date.", ("primary_resection_date",), (),
    _rule_primary_resected))
_register(_RuleSpec(
    "liver_metastases", "No liver metastases",
    "Keep patients with liver_mets = yes or a liver_mets_date.", ("liver_mets",), (), _rule_liver_mets))
_register(_RuleSpec(
    "baseline_from", "Baseline before the first study year",
    "Exclude patients whose liver metastases, liver resection or liver ablation are dated before 1 January of year.",
    (), (_Param("year", "year", 1995, "First calendar year of liver metastases / liver surgery"),),
    _rule_baseline_from))
_register(_RuleSpec(
    "centre", "Centre not included",
    "Keep patients from the listed centres (empty list = every centre).", ("centre",),
    (_Param("allowed", "text_list", [], "Centres kept (empty = all)"),), _rule_centre))


def _rule(name: str, **params) -> Rule:
    return Rule(name=name, enabled=True, params=params)


#: Rule set of seed 000 (primary tumour resection), default parameters.
RULES_000: tuple[Rule, ...] = (
    _rule("diagnosis_years", start=2000, end=2019),
    _rule("grade", allowed=["G1", "G2"]),
    _rule("sporadic", allowed=["sporadic"]),
    _rule("no_resection_before_stage4"),
    _rule("not_inoperable"),
    _rule("no_other_liver_malignancy"),
    _rule("no_liver_transplant"),
    _rule("follow_up_available"),
)

#: Rule set of seed 001 (liver surgery / thermal hepatic ablation).
RULES_001: tuple[Rule, ...] = (
    _rule("primary_resected"),
    _rule("liver_metastases"),
    _rule("no_other_liver_malignancy"),
    _rule("follow_up_available", not_before="primary_resection_date"),
    _rule("baseline_from", year=1995),
)


def rule_catalogue() -> list[dict]:
    """Every known rule with its description and parameters.

    Returns
    -------
    list of dict
        ``{"name", "label", "description", "columns", "params": [{"name",
        "kind", "default", "description", "choices"}]}``; ``kind`` is one of
        ``year`` (whole number), ``levels`` (subset of ``choices``),
        ``column`` (a canonical date column name) or ``text_list``.
    """
    out = []
    for spec in _SPECS.values():
        out.append({
            "name": spec.name, "label": spec.label, "description": spec.description,
            "columns": list(spec.columns),
            "params": [{"name": p.name, "kind": p.kind,
                        "default": list(p.default) if isinstance(p.default, list) else p.default,
                        "description": p.description, "choices": list(p.choices)} for p in spec.params],
        })
    return out


def _resolve_params(rule: Rule) -> dict:
    """Check a rule's parameters against its specification; fill defaults."""
    if rule.name not in _SPECS:
        raise SettingsError(f"Unknown eligibility rule {rule.name!r}.",
                            f"Use one of: {', '.join(_SPECS)}.")
    spec = _SPECS[rule.name]
    known = {p.name: p for p in spec.params}
    unknown = sorted(set(rule.params) - set(known))
    if unknown:
        raise SettingsError(
            f"Eligibility rule {rule.name!r} has unknown parameter(s) {unknown}.",
            f"Allowed parameters for {rule.name!r}: {sorted(known) or 'none'}.")
    out = {}
    for name, p in known.items():
        v = rule.params.get(name, p.default)
        where = f"eligibility rule {rule.name!r}, parameter {name!r}"
        if p.kind == "year":
            if not (isinstance(v, int) and not isinstance(v, bool) and 1900 <= v <= 2100):
                raise SettingsError(f"In {where}: {v!r} is not a calendar year.", "Write a whole year such as 2000.")
        elif p.kind == "levels":
            if not (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
                raise SettingsError(f"In {where}: {v!r} must be a non-empty list.",
                                    f"Choose from {list(p.choices)}.")
            bad = [x for x in v if x not in p.choices]
            if bad:
                raise SettingsError(f"In {where}: {bad} not allowed.", f"Choose from {list(p.choices)}.")
        elif p.kind == "text_list":
            if not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                raise SettingsError(f"In {where}: {v!r} must be a list of names.", 'Write e.g. ["Uppsala"].')
        elif p.kind == "column":
            if not (isinstance(v, str)):
                raise SettingsError(f"In {where}: {v!r} must be a column name.", 'Write e.g. "stage4_date".')
        out[name] = v
    if rule.name == "diagnosis_years" and out["start"] > out["end"]:
        raise SettingsError(f"Eligibility rule 'diagnosis_years' has start {out['start']} after end {out['end']}.",
                            "Make start the earlier year.")
    return out


def check_rules(rules) -> list[tuple[Rule, dict]]:
    """Validate a sequence of rules; return (rule, resolved params) for each.

    Raises
    ------
    SettingsError
        Unknown rule name or bad parameter (the message names the rule and
        the allowed ones).
    """
    out = []
    for r in rules:
        if isinstance(r, dict):
            r = Rule.from_dict(r)
        if not isinstance(r, Rule):
            raise SettingsError(f"An eligibility rule must be a rule object, got {r!r}.",
                                'Write e.g. {"name": "grade", "allowed": ["G1", "G2"]}.')
        out.append((r, _resolve_params(r)))
    return out


class _Rows:
    """The rows of ``frame`` at ``rows`` (all rows when None), taken one column at a time.

    A rule reads ``view[col]``, ``col in view``, ``len(view)`` and
    ``view.index``; only the columns it reads are taken (a rule reads two or
    three of the 41 canonical columns), and each at most once.
    """

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray | None):
        self._frame, self._rows, self._taken = frame, rows, {}
        self.index = frame.index if rows is None else frame.index[rows]

    def __contains__(self, col) -> bool:
        return col in self._frame.columns

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, col) -> pd.Series:
        if col not in self._taken:
            s = self._frame[col]
            self._taken[col] = s if self._rows is None else s.iloc[self._rows]
        return self._taken[col]

    def factorized(self, col) -> tuple[np.ndarray, object]:
        """``pd.factorize(view[col])``'s codes and uniques, factorizing the whole column (no take of its
        text); the uniques may include values of rows not in view, which no code then points at."""
        codes, uniq = pd.factorize(self._frame[col])
        return (codes if self._rows is None else codes[self._rows]), uniq


def apply_eligibility(frame: pd.DataFrame, rules) -> EligibilityResult:
    """Apply the enabled rules in order.

    Parameters
    ----------
    frame : DataFrame
        Canonical Pan-NET columns (one row per patient, ``patient_id`` unique).
    rules : sequence of Rule (or dicts in the settings form)
        Rules in the order they are applied; disabled rules are skipped
        (and do not appear in the flow).

    Returns
    -------
    EligibilityResult
    """
    rows, flow, excluded = eligible_rows(frame, rules)
    current = frame.iloc[rows] if len(rows) < len(frame) else frame.copy()
    return EligibilityResult(included=current, flow=flow, excluded=excluded)  # a new frame either way


def eligible_rows(frame: pd.DataFrame, rules) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """:func:`apply_eligibility` without taking the included rows of every column.

    Returns
    -------
    rows : ndarray of int
        Positions (ascending) of the rows that passed every enabled rule;
        ``frame.iloc[rows]`` is :attr:`EligibilityResult.included`.
    flow, excluded : DataFrame
        As in :class:`EligibilityResult`.
    """
    if "patient_id" not in frame:
        raise PanNetError("The table has no patient_id column.", "Map the patient identifier column to patient_id.")
    checked = check_rules(rules)
    # Each rule sees only the rows still included and only the columns it reads (_Rows); the
    # caller takes the rows of the whole table once.
    alive = np.ones(len(frame), dtype=bool)
    flow_rows, out_rows, out_steps, out_codes, texts = [], [], [], [], []
    for rule, params in checked:
        if not rule.enabled:
            continue
        spec = _SPECS[rule.name]
        need = [c for c in spec.columns if c not in frame.columns]
        if rule.name == "diagnosis_years":
            need = [c for c in [params["date_column"]] if c not in frame.columns]
        if need:
            raise PanNetError(f"Eligibility rule {rule.name!r} needs column(s) {need}, which the table lacks.",
                              f"Add or map the column(s), or switch the rule {rule.name!r} off.")
        rows = np.flatnonzero(alive)
        n_in = len(rows)
        try:
            codes, rule_texts = spec.func(_Rows(frame, rows if n_in < len(frame) else None), params)
        except (TypeError, ValueError) as exc:
            raise PanNetError(f"Eligibility rule {rule.name!r} could not be applied ({exc}).",
                              "Check the columns it uses with 'validate', or switch the rule off.") from None
        mask = codes >= 0
        n_out = int(mask.sum())
        flow_rows.append({"step": rule.name, "n_in": n_in, "n_excluded": n_out,
                          "n_out": n_in - n_out, "label": spec.label})
        if n_out:
            out_rows.append(rows[mask])
            out_steps.append((rule.name, n_out))
            out_codes.append(codes[mask] + len(texts))  # into the texts of every rule
            alive[rows[mask]] = False
        texts += rule_texts
    flow = pd.DataFrame(flow_rows, columns=["step", "n_in", "n_excluded", "n_out", "label"])
    for c in ("n_in", "n_excluded", "n_out"):
        flow[c] = flow[c].astype("int64")
    if out_rows:
        excluded = _excluded_frame(frame["patient_id"], np.concatenate(out_rows), out_steps,
                                   np.concatenate(out_codes), texts)
    else:
        excluded = pd.DataFrame({"patient_id": pd.Series([], dtype=frame["patient_id"].dtype),
                                 "step": pd.Series([], dtype=object), "reason": pd.Series([], dtype=object)})
    return np.flatnonzero(alive), flow, excluded


def _excluded_frame(ids: pd.Series, positions: np.ndarray, steps: list, codes: np.ndarray,
                    texts: list) -> pd.DataFrame:
    """``patient_id, step, reason`` of the rows at ``positions``, ``steps`` = [(step, n rows), ...] in order.

    The same frame as one ``DataFrame({"patient_id": ids at the step's rows, "step": step,
    "reason": texts[codes] at the step's rows})`` per step concatenated, built in one go: one take
    of the ids, and the step names and reasons taken by position from the few distinct texts
    (the text ids, names and reasons stay text, no Python str per row).
    """
    if isinstance(ids.dtype, pd.StringDtype):
        id_values = ids.array.take(positions)
    else:
        id_values = ids.to_numpy()[positions]
    names = pd.Series(np.array([name for name, _ in steps], dtype=object))  # str, as a broadcast name is
    which = np.repeat(np.arange(len(steps)), [n for _, n in steps])
    reasons = pd.Series(np.array(texts, dtype=object))  # the dtype the frame infers from reason texts
    return pd.DataFrame({"patient_id": id_values, "step": names.array.take(which),
                         "reason": reasons.array.take(codes)})
