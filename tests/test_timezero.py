"""Groups, time zero and endpoints on tables with known answers."""
import pandas as pd
import pytest

from pannet_core.cohort.timezero import build_analysis
from pannet_core.errors import PanNetError
from pannet_core.stats.mortality import ninety_day_mortality, wald_ci

D = pd.Timestamp
Y = 365.25


def _frame(rows):
    cols = ["patient_id", "stage4_date", "primary_resection_date", "death_date", "last_followup_date",
            "progression_date", "liver_mets_date", "first_visit_date", "liver_resection_date", "liver_ablation_date"]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows])
    for c in cols[1:]:
        df[c] = pd.to_datetime(df[c])
    return df


def test_primary_resection_time_starts_at_surgery_no_immortal_time():
    df = _frame([
        # resected one year after stage IV, died 3 years after stage IV -> 2 years from surgery
        {"patient_id": "T", "stage4_date": "2010-01-01", "primary_resection_date": "2011-01-01",
         "death_date": "2013-01-01", "last_followup_date": "2013-01-01"},
        # not resected: from stage IV, censored
        {"patient_id": "C", "stage4_date": "2010-01-01", "last_followup_date": "2012-01-01"},
    ])
    a = build_analysis(df, "primary_resection", "os").analysis.set_index("patient_id")
    assert bool(a.loc["T", "treated"]) and not bool(a.loc["C", "treated"])
    assert a.loc["T", "baseline_date"] == D("2011-01-01")
    assert a.loc["T", "time"] == pytest.approx(731 / Y)  # not 3 years
    assert a.loc["T", "event"] == 1
    assert a.loc["C", "time"] == pytest.approx(730 / Y) and a.loc["C", "event"] == 0


def test_contradictory_dates_are_excluded_with_reason():
    df = _frame([
        {"patient_id": "A", "stage4_date": "2010-01-01", "primary_resection_date": "2012-01-01",
         "death_date": "2011-06-01"},  # death before surgery
        {"patient_id": "B", "stage4_date": "2010-01-01", "last_followup_date": "2009-06-01"},
        {"patient_id": "C", "stage4_date": "2010-01-01", "last_followup_date": "2010-01-01"},  # censored day 0
        {"patient_id": "E", "stage4_date": "2010-01-01", "primary_resection_date": "2010-02-01",
         "death_date": "2010-02-01"},  # died on the day of surgery: kept, time 0
        {"patient_id": "F", "stage4_date": "2010-01-01"},  # no follow-up
    ])
    res = build_analysis(df, "primary_resection", "os")
    ex = res.excluded.set_index("patient_id")["reason"]
    assert ex["A"] == "contradictory dates: death before baseline"
    assert ex["B"] == "contradictory dates: last follow-up before baseline"
    assert ex["C"].startswith("censored on the baseline day")
    assert "no death" in ex["F"]
    assert list(res.analysis["patient_id"]) == ["E"]
    assert res.analysis["time"].iloc[0] == 0.0 and res.analysis["event"].iloc[0] == 1
    assert set(res.excluded["step"]) == {"time_zero"}


def test_cutoff_censors_and_late_surgery_stays_control():
    df = _frame([
        {"patient_id": "A", "stage4_date": "2018-01-01", "death_date": "2020-06-01"},
        {"patient_id": "B", "stage4_date": "2019-01-01", "primary_resection_date": "2020-02-01",
         "last_followup_date": "2021-01-01"},
    ])
    res = build_analysis(df, "primary_resection", "os", cutoff_date="2019-12-31")
    a = res.analysis.set_index("patient_id")
    assert a.loc["A", "event"] == 0 and a.loc["A", "end_date"] == D("2019-12-31")
    assert a.loc["A", "time"] == pytest.approx(729 / Y)
    assert not bool(a.loc["B", "treated"]) and a.loc["B", "baseline_date"] == D("2019-01-01")
    assert any("after the cut-off" in w for w in res.warnings)


def test_resection_before_stage4_is_control_with_warning():
    df = _frame([{"patient_id": "A", "stage4_date": "2012-01-01", "primary_resection_date": "2010-01-01",
                  "last_followup_date": "2013-01-01"}])
    res = build_analysis(df, "primary_resection", "os")
    assert not bool(res.analysis["treated"].iloc[0])
    assert "before stage IV" in res.warnings[0]


def test_pfs_first_of_progression_or_death():
    df = _frame([
        {"patient_id": "A", "stage4_date": "2010-01-01", "progression_date": "2011-01-01",
         "death_date": "2012-01-01"},
        {"patient_id": "B", "stage4_date": "2010-01-01", "death_date": "2010-07-01"},
        {"patient_id": "C", "stage4_date": "2010-01-01", "last_followup_date": "2013-01-01"},
        {"patient_id": "P", "stage4_date": "2010-01-01", "progression_date": "2009-01-01",
         "last_followup_date": "2013-01-01"},
    ])
    res = build_analysis(df, "primary_resection", "pfs")
    a = res.analysis.set_index("patient_id")
    assert a.loc["A", "time"] == pytest.approx(365 / Y) and a.loc["A", "event"] == 1
    assert a.loc["B", "time"] == pytest.approx(181 / Y) and a.loc["B", "event"] == 1
    assert a.loc["C", "event"] == 0
    assert "progression" in res.excluded.set_index("patient_id").loc["P", "reason"]


def test_liver_surgery_baselines():
    df = _frame([
        # treated: first of resection / ablation
        {"patient_id": "T", "stage4_date": "2005-01-01", "primary_resection_date": "2004-01-01",
         "liver_mets_date": "2005-01-01", "first_visit_date": "2005-02-01", "liver_resection_date": "2006-01-01",
         "liver_ablation_date": "2005-06-01", "death_date": "2008-06-01"},
        # control: latest of primary resection, liver mets, first visit (missing ignored)
        {"patient_id": "C", "stage4_date": "2005-01-01", "primary_resection_date": "2006-03-01",
         "liver_mets_date": "2005-01-01", "first_visit_date": None, "last_followup_date": "2007-03-01"},
    ])
    a = build_analysis(df, "liver_surgery_tha", "os").analysis.set_index("patient_id")
    assert a.loc["T", "baseline_date"] == D("2005-06-01") and bool(a.loc["T", "treated"])
    assert a.loc["T", "time"] == pytest.approx(1096 / Y)
    assert a.loc["C", "baseline_date"] == D("2006-03-01") and not bool(a.loc["C", "treated"])
    assert a.loc["C", "time"] == pytest.approx(365 / Y)


def test_missing_column_and_unknown_comparison():
    df = _frame([{"patient_id": "A", "stage4_date": "2010-01-01"}]).drop(columns=["primary_resection_date"])
    with pytest.raises(PanNetError, match="primary_resection_date"):
        build_analysis(df, "primary_resection")
    with pytest.raises(PanNetError):
        build_analysis(df, "nonsense")


def test_wald_ci_as_in_seed_000():
    pct, lo, hi = wald_ci(3, 50)
    assert (round(pct, 1), round(lo, 1), round(hi, 1)) == (6.0, 0.0, 12.6)
    pct, lo, hi = wald_ci(5, 50)
    assert (round(pct, 1), round(lo, 1), round(hi, 1)) == (10.0, 1.7, 18.3)


def test_ninety_day_mortality_counts_and_test():
    n = 10
    base = pd.to_datetime(["2010-01-01"] * (2 * n))
    death = [D("2010-03-01"), D("2010-04-01"), D("2010-04-02")] + [pd.NaT] * (n - 3) + [D("2011-01-01")] * n
    df = pd.DataFrame({"treated": [True] * n + [False] * n, "baseline_date": base, "death_date": pd.to_datetime(death)})
    out = ninety_day_mortality(df).set_index("group")
    # day 59 and day 90 count, day 91 does not
    assert out.loc["treated", "deaths"] == 2 and out.loc["control", "deaths"] == 0
    assert out.loc["treated", "pct"] == pytest.approx(20.0)
    assert out.attrs["test"] == "fisher"
    assert out.attrs["p"] == pytest.approx(0.4736842105263158)  # R: fisher.test(matrix(c(2,0,8,10),2))
