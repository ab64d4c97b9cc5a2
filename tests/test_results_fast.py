"""results_json and matched_cohort_frame: the copy-free shortcuts give what the AnalysisResult properties give."""
import pandas as pd
import pytest

from pannet_core import pipeline
from pannet_core.demo import make_demo_cohort
from pannet_core.report.results import follow_up, matched_cohort_frame, results_json
from pannet_core.settings import load_preset


@pytest.fixture(scope="module", params=["primary_tumour_resection", "liver_surgery_tha"])
def result(request):
    return pipeline.run_analysis(load_preset(request.param), make_demo_cohort())


def test_n_pairs_and_matched_follow_up_equal_the_properties(result):
    doc = results_json(result)
    assert doc["n_pairs"] == result.n_pairs > 0
    assert doc["follow_up"]["matched"] == follow_up(result.matched_data)
    assert doc["follow_up"]["matched"] != doc["follow_up"]["unmatched"]


def test_matched_cohort_frame_leaves_the_result_alone(result):
    before = result.data.copy()
    out = matched_cohort_frame(result)
    out.iloc[0, out.columns.get_loc("time_years")] = -1.0
    assert out["treated"].dtype.kind == "i" and out["matched"].dtype.kind == "i"
    pd.testing.assert_frame_equal(result.data, before)
