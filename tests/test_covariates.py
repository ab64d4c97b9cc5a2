"""Derived covariates: bins, boundaries, N/A level, reference level."""
import numpy as np
import pandas as pd
import pytest

from pannet_core.covariates import COVARIATE_LABELS, as_levels, derive_covariates


def _frame():
    return pd.DataFrame({
        "patient_id": ["a", "b", "c", "d", "e"],
        "stage4_date": pd.to_datetime(["2000-01-01", "2009-12-31", "2010-01-01", "2019-06-01", "2005-01-01"]),
        "birth_date": pd.to_datetime(["1950-01-01", None, None, None, "1930-01-01"]),
        "age_at_diagnosis": [np.nan, 49.9, 50.0, 69.99, np.nan],
        "charlson": [0.0, 1.0, 2.0, 4.0, np.nan],
        "primary_size_cm": [1.99, 2.0, 5.0, 5.01, np.nan],
        "liver_mets_n": [3.0, 4.0, 9.0, 10.0, np.nan],
        "cga_uln": [1.0, 1.01, 2.99, 3.0, np.nan],
        "liver_met_max_cm": [3.9, 4.0, 9.9, 10.0, np.nan],
        "who_grade": pd.array(["G1", "G2", "G3", "NEC", "unknown"], dtype="str"),
    })


def test_000_bins_and_boundaries():
    d = derive_covariates(_frame(), missing="level")
    assert d["age"].iloc[0] == pytest.approx(50 + 0 / 365.25, abs=0.01)  # from birth_date (18262 days)
    assert list(d["age_group"].astype(str)) == ["50-59", "<50", "50-59", "60-69", ">=70"]
    assert list(d["calendar_period"].astype(str)) == ["2000-2009", "2000-2009", "2010-2019", "2010-2019",
                                                       "2000-2009"]
    assert list(d["charlson_group"].astype(str)) == ["0-1", "0-1", "2-3", ">=4", "N/A"]
    assert list(d["primary_size_group"].astype(str)) == ["<2", "2-5", "2-5", ">5", "N/A"]
    assert list(d["liver_mets_group"].astype(str)) == ["1-3", "4-9", "4-9", ">=10", "N/A"]
    assert d["calendar_year"].tolist() == [2000, 2009, 2010, 2019, 2005]


def test_001_bins():
    d = derive_covariates(_frame(), missing="level")
    assert list(d["cga_group_001"].astype(str)) == ["within ref", "1-3x ref", "1-3x ref", ">=3x ref", "N/A"]
    assert list(d["liver_met_size_group_001"].astype(str)) == ["0-3", "4-9", "4-9", ">=10", "N/A"]
    assert list(d["who_grade_001"].astype(str)) == ["G1", "G2", "G3", "G3", "N/A"]
    assert list(d["charlson_group_001"].astype(str)) == ["0", "1", "2", ">=4", "N/A"]
    # age at baseline = stage IV here (no baseline column); 75 -> ">70"
    assert list(d["age_group_001"].astype(str))[4] == ">70"
    assert list(d["time_period_001"].astype(str)) == ["1995-2005", "2006-2018", "2006-2018", ">2018", "1995-2005"]


def test_first_level_is_reference_and_categories_ordered():
    d = derive_covariates(_frame(), missing="level")
    assert d["age_group"].cat.ordered
    assert list(d["age_group"].cat.categories) == ["<50", "50-59", "60-69", ">=70"]  # no N/A: none missing
    assert list(d["charlson_group"].cat.categories) == ["0-1", "2-3", ">=4", "N/A"]
    # unused guard levels (<2000, >2019) are not created
    assert list(d["calendar_period"].cat.categories) == ["2000-2009", "2010-2019"]


def test_missing_drop_leaves_nan():
    d = derive_covariates(_frame(), missing="drop")
    assert d["charlson_group"].isna().tolist() == [False, False, False, False, True]
    assert "N/A" not in d["charlson_group"].cat.categories


def test_baseline_column_used_for_001():
    f = _frame()
    f["baseline_date"] = pd.to_datetime(["2006-01-01"] * 5)
    d = derive_covariates(f)
    assert (d["time_period_001"].astype(str) == "2006-2018").all()
    assert d["age_baseline"].iloc[2] == pytest.approx(50.0 + (pd.Timestamp("2006-01-01") - pd.Timestamp("2010-01-01")).days / 365.25)


def test_as_levels_and_labels():
    s = pd.Series(pd.array([True, False, None], dtype="boolean"))
    lv = as_levels(s, "level")
    assert list(lv.astype(str)) == ["yes", "no", "N/A"] and list(lv.cat.categories) == ["no", "yes", "N/A"]
    assert COVARIATE_LABELS["calendar_period"] == "Calendar year" and COVARIATE_LABELS["age_group"] == "Age"
