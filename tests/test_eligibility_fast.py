"""apply_eligibility gives what the plain way gives: every rule on a DataFrame of the rows still in,
one excluded frame per rule concatenated (the fast path takes only the columns a rule reads and
builds the excluded frame once)."""
import numpy as np
import pandas as pd
import pytest

from pannet_core.cohort.eligibility import (
    _SPECS,
    RULES_000,
    RULES_001,
    _excluded_frame,
    _later,
    apply_eligibility,
    check_rules,
)
from pannet_core.settings import Rule

DATES = ("stage4_date", "primary_resection_date", "liver_mets_date", "liver_resection_date",
         "liver_ablation_date", "death_date", "last_followup_date")
FLAGS = ("resection_before_stage4", "inoperable", "other_liver_malignancy", "liver_transplant", "liver_mets")


def _messy(n, seed, ids=None):
    """n rows with every rule's columns, about a fifth of each missing."""
    rng = np.random.default_rng(seed)
    out = {"patient_id": ids if ids is not None else pd.array([f"Pé{i}" for i in range(n)], dtype="str")}
    for c in DATES:
        d = pd.Series(pd.to_datetime("1990-01-01") + pd.to_timedelta(rng.integers(0, 12000, n), unit="D"))
        out[c] = d.where(rng.random(n) > 0.2)
    for c in FLAGS:
        out[c] = pd.array(np.where(rng.random(n) > 0.2, rng.random(n) > 0.8, None), dtype="boolean")
    grades = np.array(["G1", "G2", "G3", "NEC", "unknown", None], dtype=object)
    out["who_grade"] = pd.array(grades[rng.integers(0, 6, n)], dtype="str")
    her = np.array(["sporadic", "sporadic", "MEN1", "VHL", None], dtype=object)
    out["hereditary"] = pd.array(her[rng.integers(0, 5, n)], dtype="str")
    out["centre"] = pd.array(np.array(["Åbo", "B", None], dtype=object)[rng.integers(0, 3, n)], dtype="str")
    return pd.DataFrame(out)


def _plain(frame, rules):
    """Reference: each rule on frame.iloc[rows still in] (a DataFrame), one excluded frame per rule."""
    rows = np.arange(len(frame))
    flow, excl = [], []
    for rule, params in check_rules(rules):
        if not rule.enabled:
            continue
        codes, texts = _SPECS[rule.name].func(frame.iloc[rows], params)  # a DataFrame, not a _Rows view
        reasons = np.array([texts[c] if c >= 0 else "" for c in codes], dtype=object)
        bad = reasons != ""
        flow.append((rule.name, len(rows), int(bad.sum())))
        if bad.any():
            excl.append(pd.DataFrame({"patient_id": frame["patient_id"].to_numpy()[rows[bad]],
                                      "step": rule.name, "reason": reasons[bad]}))
        rows = rows[~bad]
    return frame.iloc[rows], flow, pd.concat(excl, ignore_index=True)


@pytest.mark.parametrize("rules", [RULES_000, RULES_001,
                                   [Rule("centre", True, {"allowed": ["Åbo"]}), Rule("grade", True,
                                                                                      {"allowed": ["G1"]})]])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_as_every_rule_on_a_dataframe_of_the_rows_still_in(rules, seed):
    frame = _messy(400, seed)
    got = apply_eligibility(frame, rules)
    included, flow, excluded = _plain(frame, rules)
    assert len(excluded) > 50 and len(included) > 0  # something is excluded by several rules
    pd.testing.assert_frame_equal(got.included, included)
    assert list(got.flow[["step", "n_in", "n_excluded"]].itertuples(index=False, name=None)) == flow
    pd.testing.assert_frame_equal(got.excluded, excluded)


def test_numeric_ids_and_a_column_all_missing():
    frame = _messy(200, 3, ids=np.arange(1000, 1200))
    frame["death_date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    got = apply_eligibility(frame, RULES_000)
    included, _, excluded = _plain(frame, RULES_000)
    assert got.excluded["patient_id"].dtype == np.int64
    pd.testing.assert_frame_equal(got.excluded, excluded)
    pd.testing.assert_frame_equal(got.included, included)


@pytest.mark.parametrize("ids", [pd.array(["a", "ü", None, "d", "e"], dtype="str"), np.arange(5),
                                 np.array(["a", "b", "c", "d", "e"], dtype=object)])
def test_excluded_frame_equals_one_frame_per_step(ids):
    ids = pd.Series(ids)
    positions = np.array([4, 0, 2, 1])
    steps = [("grade", 3), ("follow_up_available", 1)]
    texts = ["WHO grade G3", "WHO grade NEC", "no death", "unused"]
    reasons = np.array(["WHO grade G3", "WHO grade NEC", "WHO grade G3", "no death"], dtype=object)
    got = _excluded_frame(ids, positions, steps, np.array([0, 1, 0, 2]), texts)
    want = pd.concat([pd.DataFrame({"patient_id": ids.to_numpy()[positions[:3]], "step": "grade",
                                    "reason": reasons[:3]}),
                      pd.DataFrame({"patient_id": ids.to_numpy()[positions[3:]], "step": "follow_up_available",
                                    "reason": reasons[3:]})], ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
    assert got["step"].tolist() == ["grade"] * 3 + ["follow_up_available"]


def test_later_equals_the_row_max_with_missing_dates():
    a = pd.Series(pd.to_datetime(["2001-01-01", None, None, "2005-05-05"]))
    b = pd.Series(pd.to_datetime([None, "2002-02-02", None, "2004-04-04"]))
    want = pd.concat([a, b], axis=1).max(axis=1)
    pd.testing.assert_series_equal(_later(a, b), want)
    assert _later(a, b).isna().tolist() == [False, False, True, False]
    b_s = b.astype("datetime64[s]")  # another unit: the general path
    pd.testing.assert_series_equal(_later(a, b_s), pd.concat([a, b_s], axis=1).max(axis=1))


def test_diagnosis_years_reason_names_each_year_with_gaps_between():
    frame = _messy(6, 0)
    frame["stage4_date"] = pd.to_datetime(["1950-06-01", "2010-01-01", "1999-12-31", None, "2031-01-01",
                                           "1950-01-01"])
    got = apply_eligibility(frame, [Rule("diagnosis_years", True, {"start": 2000, "end": 2019})])
    assert got.excluded["reason"].tolist() == [
        "stage IV diagnosed 1950 (outside 2000-2019)", "stage IV diagnosed 1999 (outside 2000-2019)",
        "no stage4_date", "stage IV diagnosed 2031 (outside 2000-2019)",
        "stage IV diagnosed 1950 (outside 2000-2019)"]
