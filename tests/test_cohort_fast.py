"""prepare_cohort works on the columns each step reads and takes the rest once at the end: its
analysis frame must be what the public steps give on the whole table (apply_eligibility ->
build_analysis -> derive_covariates), and its helpers what the plain per-row code gave."""
import numpy as np
import pandas as pd
import pytest

from pannet_core.cohort.covariates import DERIVED_COLUMNS, derive_covariates
from pannet_core.cohort.eligibility import apply_eligibility
from pannet_core.cohort.prepare import FRONT, _in_dictionary_order, _missing_covariates, prepare_cohort
from pannet_core.cohort.timezero import build_analysis, ids_where
from pannet_core.demo import make_demo_cohort
from pannet_core.settings import load_preset


@pytest.fixture(scope="module")
def messy():
    """The demo registry with a tenth of each non-date column blanked, and a column all missing."""
    df = make_demo_cohort()
    rng = np.random.default_rng(5)
    for c in ("charlson", "primary_size_cm", "liver_mets_n", "sex", "functioning", "who_grade", "cga_uln",
              "age_at_diagnosis", "extra_abdominal_mets", "liver_met_max_cm"):
        df.loc[rng.random(len(df)) < 0.1, c] = None
    df["albumin"] = np.nan
    df["patient_id"] = pd.array([f"Ø{v}" for v in df["patient_id"]], dtype="str")
    return df


@pytest.mark.parametrize("preset", ["primary_tumour_resection", "liver_surgery_tha"])
@pytest.mark.parametrize("missing", ["level", "drop"])
def test_analysis_columns_are_those_of_the_steps_on_the_whole_table(messy, preset, missing):
    s = load_preset(preset)
    s = s.with_values("propensity", missing=missing)
    cohort = prepare_cohort(messy, s)
    a = cohort.analysis
    if missing == "drop":
        assert (cohort.flow.set_index("step").loc["complete_covariates", "n_excluded"]) > 0
    elig = apply_eligibility(messy, s.eligibility)
    tz = build_analysis(elig.included, s.study.comparison, s.study.endpoint, s.study.cutoff_date)
    ref = derive_covariates(tz.analysis, missing=missing).set_index("patient_id", drop=False)
    ref = ref.loc[a["patient_id"].to_numpy()].reset_index(drop=True)
    covs = set(s.propensity.covariates) | set(s.cox.covariates)
    assert list(a.columns[:5]) == FRONT and a.index.equals(pd.RangeIndex(len(a)))
    for c in a.columns:
        if c in covs and c not in DERIVED_COLUMNS:
            continue  # recoded as levels by the cohort
        pd.testing.assert_series_equal(a[c], ref[c], check_names=True)
    # the excluded ids are the patients of the table missing from the analysis, each once
    assert set(cohort.excluded["patient_id"]) | set(a["patient_id"]) == set(messy["patient_id"])
    assert len(cohort.excluded) + len(a) == len(messy)


def test_missing_covariates_text_per_row_as_before():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({c: np.where(rng.random(300) < 0.3, np.nan, 1.0) for c in ("a", "b", "c")})
    df["d"] = pd.array(np.where(rng.random(300) < 0.2, None, "x"), dtype="str")
    names = ["c", "a", "d", "b", "a"]
    bad, reasons = _missing_covariates(df, names)
    miss = pd.DataFrame({c: df[c].isna().to_numpy() for c in names}, index=df.index)  # the former per-row code
    want_bad = miss.any(axis=1).to_numpy()
    want = ["missing " + ", ".join(miss.columns[miss.iloc[i].to_numpy()]) for i in np.flatnonzero(want_bad)]
    assert (bad == want_bad).all() and reasons == want and len(set(reasons)) > 4
    assert _missing_covariates(df, []) [1] == [] and not _missing_covariates(df, [])[0].any()
    assert _missing_covariates(df.dropna(), ["a", "d"])[1] == []


@pytest.mark.parametrize("values", [["female", None, "male", "femme", "male"], [None, None],
                                    ["G2", "G1", "NEC", "G2", "ünknown", None]])
def test_in_dictionary_order_equals_a_categorical_of_the_order(values):
    col = pd.Series(pd.array(values, dtype="str"), name="x", index=range(10, 10 + len(values)))
    allowed = ["male", "female", "G1", "G2"]
    present = set(col.dropna().unique())
    order = [v for v in allowed if v in present] + sorted(present - set(allowed), key=str)
    want = pd.Series(pd.Categorical(col, categories=order), index=col.index, name="x")
    pd.testing.assert_series_equal(_in_dictionary_order(col, allowed), want)


@pytest.mark.parametrize("ids", [pd.array(["a", None, "ß", "d"], dtype="str"), np.array([3, 1, 4, 1]),
                                 pd.array([1, None, 3, 4], dtype="Int64"), np.array(["a", 2, None, "d"], dtype=object)])
def test_ids_where_equals_the_masked_array(ids):
    s = pd.Series(ids)
    for mask in (np.array([True, True, False, True]), np.array([False, False, True, True]), np.zeros(4, bool)):
        got, want = ids_where(s, mask), s.to_numpy()[mask]
        assert got.dtype == want.dtype
        assert [repr(v) for v in got] == [repr(v) for v in want]


@pytest.mark.parametrize("ids", [pd.array(["a", "b", "ü", "ø"], dtype="str"), pd.array(["a", None, "b"], dtype="str"),
                                 pd.array([None, "a", None, "b"], dtype="str"), pd.array(["b", "a", "b"], dtype="str"),
                                 pd.array([None, None], dtype="str"), np.array([1, 2, 5]), np.array([3, 1, 3]),
                                 np.array([1.0, np.nan, 2.0]), np.array([np.nan, 1.0, np.nan]),
                                 pd.array([1, None, 3], dtype="Int64"), np.array(["a", 2, "a"], dtype=object),
                                 pd.array([], dtype="str")])
def test_unique_equals_is_unique(ids):
    from pannet_core.cohort.prepare import _unique
    s = pd.Series(ids)
    assert _unique(s) == s.is_unique
