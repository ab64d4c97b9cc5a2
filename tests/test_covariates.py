"""Derived covariates: bins, boundaries, N/A level, reference level."""
import numpy as np
import pandas as pd
import pytest

from pannet_core.cohort.covariates import COVARIATE_LABELS, DERIVED_COLUMNS, age_at_stage4, as_levels, derive_covariates


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
    days = (pd.Timestamp("2006-01-01") - pd.Timestamp("2010-01-01")).days
    assert d["age_baseline"].iloc[2] == pytest.approx(50.0 + days / 365.25)


def test_as_levels_and_labels():
    s = pd.Series(pd.array([True, False, None], dtype="boolean"))
    lv = as_levels(s, "level")
    assert list(lv.astype(str)) == ["yes", "no", "N/A"] and list(lv.cat.categories) == ["no", "yes", "N/A"]
    assert COVARIATE_LABELS["calendar_period"] == "Calendar year" and COVARIATE_LABELS["age_group"] == "Age"


def _dates_edge_cases():
    """Birthdays on 29 February, dates before 1970 (also off midnight), missing dates, far dates."""
    st4 = ["2000-02-28", "2000-02-29", "2001-02-28", "2001-03-01", "1969-12-31", "1950-06-15", None,
           "2010-01-01", "2004-02-29", "1965-03-01", "2019-12-31", "1969-01-01"]
    birth = ["1952-02-29", "1952-02-29", "1952-02-29", "1952-02-29", "1920-12-31", "1900-06-16", "1950-01-01",
             None, "1960-02-29", "1964-02-29", "1919-01-01", "1968-12-31"]
    st4 = pd.Series(pd.to_datetime(st4)) + pd.to_timedelta(np.r_[0, 0, 0, 0, 7, 0, 0, 0, 0, 23, 0, 1], unit="h")
    birth = pd.Series(pd.to_datetime(birth)) + pd.to_timedelta(np.r_[0, 0, 0, 0, 0, 13, 0, 0, 0, 0, 0, 2], unit="h")
    return st4, birth


def test_age_and_years_in_numpy_equal_the_dt_accessors_on_edge_cases():
    from pannet_core.cohort.covariates import _before_birthday, _days, _year
    st4, birth = _dates_edge_cases()
    for a, b in ((st4, birth), (st4.astype("datetime64[s]"), birth.astype("datetime64[s]")),
                 (st4, birth.astype("datetime64[s]")),  # two units: the pandas path
                 (pd.Series(pd.NaT, index=st4.index, dtype="datetime64[ns]"), birth)):  # a column all missing
        y = (a.dt.year - b.dt.year).astype(float).to_numpy(na_value=np.nan)
        np.testing.assert_array_equal(_year(a) - _year(b), y)
        want = ((a.dt.month < b.dt.month) | ((a.dt.month == b.dt.month) & (a.dt.day < b.dt.day))).to_numpy(dtype=bool)
        np.testing.assert_array_equal(_before_birthday(a, b), want)
        np.testing.assert_array_equal(_days(a, b), (a - b).dt.days.astype(float).to_numpy(na_value=np.nan))
    assert _before_birthday(st4, birth)[[0, 1, 3, 9]].tolist() == [True, False, False, False]


def test_age_at_stage4_from_dates_as_the_dt_accessors_gave():
    st4, birth = _dates_edge_cases()
    frame = pd.DataFrame({"stage4_date": st4, "birth_date": birth, "age_at_diagnosis": np.nan})
    y = (st4.dt.year - birth.dt.year).astype(float).to_numpy(na_value=np.nan)
    before = ((st4.dt.month < birth.dt.month)
              | ((st4.dt.month == birth.dt.month) & (st4.dt.day < birth.dt.day))).to_numpy(dtype=bool)
    completed = y - before
    exact = ((st4 - birth).dt.days / 365.25).astype(float).to_numpy(na_value=np.nan)
    want = completed + np.clip(exact - completed, 0.0, 0.9999)
    np.testing.assert_array_equal(age_at_stage4(frame), want)
    assert age_at_stage4(frame)[1] == 48.0 and np.isnan(age_at_stage4(frame)[[6, 7]]).all()


@pytest.mark.parametrize("right", [False, True])
def test_bin_equals_digitize(right):
    from pannet_core.cohort.covariates import _bin
    values = np.array([-np.inf, 1.0, 2.0, 3.9999, 4.0, 9.0, 10.0, 10.5, np.inf, np.nan, 0.0, -3.0])
    for edges in ([4, 10], [1, 2, 3, 4], [2000, 2010, 2020], [50]):
        want = np.where(np.isnan(values), -1, np.digitize(values, edges, right=right))
        got = _bin(values, edges, right=right)
        assert got.dtype == want.dtype and got.tolist() == want.tolist()
    assert _bin(np.full(3, np.nan), [1, 2]).tolist() == [-1, -1, -1]


def test_derived_columns_added_at_once_equal_those_replaced_one_by_one():
    st4, birth = _dates_edge_cases()
    n = len(st4)
    frame = pd.DataFrame({"stage4_date": st4.to_numpy(), "birth_date": birth.to_numpy(), "age_at_diagnosis": np.nan,
                          "charlson": np.r_[0, 1, 2, 3, 4, 5, np.nan, 0, 1, 2, 3, 4],
                          "who_grade": pd.array(["G1", "G2", "G3", "NEC", "unknown", None, "G1", "ü", "G2", "G1",
                                                 "G3", None], dtype="str"),
                          "baseline_date": (st4 + pd.to_timedelta(np.arange(n) * 400, unit="D")).to_numpy()},
                         index=pd.Index([5, 5, 7, 1, 0, 2, 3, 4, 8, 9, 10, 11]))  # a label twice, not in order
    frame.attrs["note"] = "kept"
    got = derive_covariates(frame)
    # a frame already holding a derived column: every column replaced in place, one at a time
    held = derive_covariates(frame.assign(age=-1.0))
    assert list(held.columns[:len(frame.columns) + 1]) == list(frame.columns) + ["age"]
    pd.testing.assert_frame_equal(got, held[got.columns])
    assert got.attrs == {"note": "kept"} and got.index.equals(frame.index)
    assert list(got.columns) == list(frame.columns) + list(DERIVED_COLUMNS)
    assert got["who_grade_001"].tolist() == ["G1", "G2", "G3", "G3", "N/A", "N/A", "G1", "N/A", "G2", "G1",
                                             "G3", "N/A"]
    assert got["calendar_year"].tolist()[:6] == [2000.0, 2000.0, 2001.0, 2001.0, 1969.0, 1950.0]
    assert np.isnan(got["calendar_year"].iloc[6])
