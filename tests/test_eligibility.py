"""Eligibility rules of seeds 000 and 001 on small hand-made tables."""
import pandas as pd
import pytest

from pannet_core.cohort.eligibility import RULES_000, RULES_001, apply_eligibility, rule_catalogue
from pannet_core.errors import PanNetError, SettingsError
from pannet_core.settings import Rule

D = pd.Timestamp


def _base(n):
    """n patients that pass every rule of both sets."""
    return pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(n)],
        "stage4_date": pd.to_datetime(["2010-01-01"] * n),
        "who_grade": pd.array(["G1"] * n, dtype="str"),
        "hereditary": pd.array(["sporadic"] * n, dtype="str"),
        "primary_resection_date": pd.to_datetime(["2010-03-01"] * n),
        "resection_before_stage4": pd.array([False] * n, dtype="boolean"),
        "inoperable": pd.array([False] * n, dtype="boolean"),
        "other_liver_malignancy": pd.array([False] * n, dtype="boolean"),
        "liver_transplant": pd.array([False] * n, dtype="boolean"),
        "liver_mets": pd.array([True] * n, dtype="boolean"),
        "liver_mets_date": pd.to_datetime(["2010-01-01"] * n),
        "liver_resection_date": pd.to_datetime([None] * n),
        "liver_ablation_date": pd.to_datetime([None] * n),
        "death_date": pd.to_datetime([None] * n),
        "last_followup_date": pd.to_datetime(["2015-01-01"] * n),
        "centre": pd.array(["A"] * n, dtype="str"),
    })


def _only(name, **params):
    return [Rule(name, True, params)]


def test_everyone_passes_both_rule_sets():
    df = _base(4)
    for rules in (RULES_000, RULES_001):
        res = apply_eligibility(df, rules)
        assert len(res.included) == 4
        assert res.flow["n_excluded"].sum() == 0
        assert res.flow["n_in"].iloc[0] == 4


def test_diagnosis_years_alone():
    df = _base(4)
    df.loc[0, "stage4_date"] = D("1999-12-31")
    df.loc[1, "stage4_date"] = D("2020-01-01")
    df.loc[2, "stage4_date"] = pd.NaT
    res = apply_eligibility(df, _only("diagnosis_years", start=2000, end=2019))
    assert list(res.included["patient_id"]) == ["P3"]
    assert list(res.excluded["patient_id"]) == ["P0", "P1", "P2"]
    assert "1999" in res.excluded["reason"].iloc[0]
    assert res.excluded["reason"].iloc[2] == "no stage4_date"
    # parameters change the result
    res2 = apply_eligibility(df, _only("diagnosis_years", start=1999, end=2020))
    assert len(res2.included) == 3


def test_grade_alone_excludes_g3_nec_unknown_and_missing():
    df = _base(6)
    df["who_grade"] = pd.array(["G1", "G2", "G3", "NEC", "unknown", None], dtype="str")
    res = apply_eligibility(df, _only("grade", allowed=["G1", "G2"]))
    assert list(res.included["patient_id"]) == ["P0", "P1"]
    assert res.flow.iloc[0][["n_in", "n_excluded", "n_out"]].tolist() == [6, 4, 2]
    res = apply_eligibility(df, _only("grade", allowed=["G1", "G2", "G3"]))
    assert len(res.included) == 3
    res = apply_eligibility(df, _only("grade", allowed=["G1", "unknown"]))
    assert list(res.included["patient_id"]) == ["P0", "P4", "P5"]  # missing grade counts as unknown


def test_sporadic_alone():
    df = _base(5)
    df["hereditary"] = pd.array(["sporadic", "MEN1", "VHL", "suspected", None], dtype="str")
    res = apply_eligibility(df, _only("sporadic"))
    assert list(res.included["patient_id"]) == ["P0"]
    assert set(res.excluded["reason"]) >= {"hereditary status MEN1", "hereditary status VHL"}


def test_no_resection_before_stage4_by_flag_or_dates():
    df = _base(4)
    df["resection_before_stage4"] = pd.array([False, True, False, None], dtype="boolean")
    df.loc[2, "primary_resection_date"] = D("2009-06-01")  # before stage IV
    df.loc[3, "primary_resection_date"] = pd.NaT  # not resected: stays
    res = apply_eligibility(df, _only("no_resection_before_stage4"))
    assert list(res.included["patient_id"]) == ["P0", "P3"]


@pytest.mark.parametrize("rule,col", [("not_inoperable", "inoperable"),
                                      ("no_other_liver_malignancy", "other_liver_malignancy"),
                                      ("no_liver_transplant", "liver_transplant")])
def test_flag_rules_alone(rule, col):
    df = _base(3)
    df[col] = pd.array([True, False, None], dtype="boolean")
    res = apply_eligibility(df, _only(rule))
    assert list(res.included["patient_id"]) == ["P1", "P2"]
    assert list(res.excluded["step"]) == [rule]


def test_follow_up_available_alone():
    df = _base(4)
    df.loc[0, "last_followup_date"] = pd.NaT  # nothing at all
    df.loc[1, "last_followup_date"] = pd.NaT
    df.loc[1, "death_date"] = D("2012-01-01")  # death only: fine
    df.loc[2, "last_followup_date"] = D("2009-01-01")  # before stage IV
    res = apply_eligibility(df, _only("follow_up_available"))
    assert list(res.included["patient_id"]) == ["P1", "P3"]
    assert res.excluded["reason"].tolist() == ["no death or last follow-up date",
                                               "last follow-up / death before stage4_date"]


def test_primary_resected_and_liver_metastases_alone():
    df = _base(3)
    df.loc[0, "primary_resection_date"] = pd.NaT
    assert list(apply_eligibility(df, _only("primary_resected")).included["patient_id"]) == ["P1", "P2"]
    df["liver_mets"] = pd.array([True, False, False], dtype="boolean")
    df.loc[2, "liver_mets_date"] = pd.NaT
    df.loc[1, "liver_mets_date"] = D("2011-01-01")  # a date counts as liver metastases
    res = apply_eligibility(df, _only("liver_metastases"))
    assert list(res.included["patient_id"]) == ["P0", "P1"]


def test_baseline_from_alone():
    df = _base(4)
    df.loc[0, "liver_mets_date"] = D("1994-12-31")
    df.loc[1, "liver_resection_date"] = D("1990-05-01")
    df.loc[2, "liver_mets_date"] = D("1995-01-01")
    res = apply_eligibility(df, _only("baseline_from", year=1995))
    assert list(res.included["patient_id"]) == ["P2", "P3"]


def test_rules_apply_in_order_and_first_failure_counts():
    df = _base(5)
    df.loc[0, "stage4_date"] = D("1998-01-01")
    df["who_grade"] = pd.array(["G3", "G3", "G1", "G1", "G1"], dtype="str")  # P0 fails both rules
    df.loc[2, "inoperable"] = True
    res = apply_eligibility(df, RULES_000)
    f = res.flow.set_index("step")
    assert list(res.flow["step"]) == [r.name for r in RULES_000]
    assert f.loc["diagnosis_years", "n_excluded"] == 1
    assert f.loc["grade", "n_excluded"] == 1  # P0 already gone
    assert f.loc["not_inoperable", "n_excluded"] == 1
    assert (res.flow["n_in"].iloc[1:].to_numpy() == res.flow["n_out"].iloc[:-1].to_numpy()).all()
    assert res.flow["n_out"].iloc[-1] == 2
    assert res.excluded.set_index("patient_id").loc["P0", "step"] == "diagnosis_years"


def test_disabled_rule_is_skipped():
    df = _base(2)
    df.loc[0, "inoperable"] = True
    res = apply_eligibility(df, [Rule("not_inoperable", False, {})])
    assert len(res.included) == 2 and res.flow.empty


def test_unknown_rule_and_bad_parameters_raise_settings_error():
    df = _base(2)
    with pytest.raises(SettingsError, match="Unknown eligibility rule 'gradee'.*grade"):
        apply_eligibility(df, [Rule("gradee")])
    with pytest.raises(SettingsError, match="'grade'.*'allowed'"):
        apply_eligibility(df, [Rule("grade", True, {"allowed": ["G9"]})])
    with pytest.raises(SettingsError, match="unknown parameter"):
        apply_eligibility(df, [Rule("grade", True, {"alowed": ["G1"]})])
    with pytest.raises(SettingsError, match="calendar year"):
        apply_eligibility(df, [Rule("diagnosis_years", True, {"start": "2000"})])


def test_missing_column_is_a_pannet_error():
    df = _base(2).drop(columns=["inoperable"])
    with pytest.raises(PanNetError, match="inoperable"):
        apply_eligibility(df, [Rule("not_inoperable")])


def test_catalogue_describes_every_rule_of_both_sets():
    cat = {c["name"]: c for c in rule_catalogue()}
    for r in RULES_000 + RULES_001:
        assert r.name in cat and cat[r.name]["description"]
    grade = {p["name"]: p for p in cat["grade"]["params"]}
    assert grade["allowed"]["default"] == ["G1", "G2"] and "NEC" in grade["allowed"]["choices"]
