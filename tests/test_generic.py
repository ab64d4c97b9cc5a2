"""The generic one-row-per-patient cohort (CONTRACT.md ``columns`` block)."""
import numpy as np
import pandas as pd
import pytest

from pannet_core.cohort.generic import prepare_generic
from pannet_core.errors import PanNetError
from pannet_core.settings import ColumnsSettings

COLS = ColumnsSettings(id="pid", treatment="trt", time="days", event="dead", time_unit="days")


def table(**over):
    t = pd.DataFrame({"pid": [3, 1, 2, 10], "trt": [1, 0, 1, 0], "days": [365.25, 730.5, 0.0, 100.0],
                      "dead": [1, 0, 1, 1], "age": [50.0, 60.0, 70.0, 80.0]})
    for k, v in over.items():
        t[k] = v
    return t


def test_sorted_by_numeric_id_and_converted_to_years():
    out = prepare_generic(table(), COLS)
    assert out["patient_id"].tolist() == ["1", "2", "3", "10"]  # text ids in numeric order, not "1, 10, 2, 3"
    assert out["time"].tolist() == pytest.approx([2.0, 0.0, 1.0, 100 / 365.25], rel=1e-15)
    assert out["treated"].tolist() == [False, True, True, False]
    assert out["event"].tolist() == [0, 1, 1, 1]
    assert out["age"].tolist() == [60.0, 70.0, 50.0, 80.0]


def test_input_is_not_modified():
    t = table()
    before = t.copy()
    prepare_generic(t, COLS)
    pd.testing.assert_frame_equal(t, before)


def test_text_codes_and_r_status_codes():
    out = prepare_generic(table(trt=["yes", "no", "yes", "no"], dead=[2, 1, 2, 2]), COLS)
    assert out["treated"].tolist() == [False, True, True, False]
    assert out["event"].tolist() == [0, 1, 1, 1]


def test_named_treated_value():
    cols = ColumnsSettings(id="pid", treatment="trt", time="days", event="dead", treated_value="B")
    out = prepare_generic(table(trt=["A", "B", "A", "B"]), cols)
    assert out["treated"].tolist() == [True, False, False, True]


BAD = [
    ("three treatment values", dict(trt=[0, 1, 2, 1]), "3 different values"),
    ("unclear coding", dict(trt=["A", "B", "A", "B"]), "Cannot tell"),
    ("negative time", dict(days=[1.0, -2.0, 3.0, 4.0]), "negative"),
    ("text time", dict(days=["1", "x", "3", "4"]), "has text 'x'"),
    ("missing time", dict(days=[1.0, np.nan, 3.0, 4.0]), "empty"),
    ("duplicate id", dict(pid=[1, 1, 2, 3]), "more than once"),
    ("missing event", dict(dead=[1, None, 0, 1]), "empty"),
    ("censored at time 0", dict(dead=[1, 0, 0, 1]), "censored at time 0"),  # pid 2: 0 days, no event
    ("every time 0", dict(days=[0.0, 0.0, 0.0, 0.0]), "Every time"),
]


@pytest.mark.parametrize("case, over, words", BAD, ids=[b[0] for b in BAD])
def test_bad_cohorts_get_a_message_with_a_fix(case, over, words):
    with pytest.raises(PanNetError) as info:
        prepare_generic(table(**over), COLS)
    assert words in info.value.message and "Fix:" in info.value.message


def test_missing_column_is_named():
    with pytest.raises(PanNetError, match=r"\['dead'\]"):
        prepare_generic(table().drop(columns="dead"), COLS)


def test_header_only_file():
    with pytest.raises(PanNetError, match="no patients"):
        prepare_generic(table().iloc[:0], COLS)


def _generic_settings(missing):
    from pannet_core.settings import Settings

    return Settings.from_dict({
        "columns": {"id": "pid", "treatment": "trt", "time": "days", "event": "dead", "time_unit": "days"},
        "propensity": {"covariates": ["stage", "age"], "categorical": ["stage"], "missing": missing},
        "matching": {"ratio": 1, "caliper": 0.5, "caliper_scale": "ps_absolute"},
    })


def _cohort_with_missing_stage(n=200, seed=3):
    rng = np.random.default_rng(seed)
    stage = rng.choice(["I", "II", "III"], n).astype(object)
    stage[rng.random(n) < 0.2] = None
    return pd.DataFrame({"pid": np.arange(1, n + 1), "trt": rng.integers(0, 2, n),
                         "days": rng.integers(1, 2000, n).astype(float), "dead": rng.integers(0, 2, n),
                         "stage": stage, "age": rng.normal(60, 10, n).round()})


def test_missing_level_gives_missing_categories_their_own_level():
    from pannet_core import pipeline

    data = _cohort_with_missing_stage()
    n_missing = int(data["stage"].isna().sum())
    assert n_missing > 10
    res = pipeline.run_analysis(_generic_settings("level"), data)
    # every patient can be matched: nobody is left out for a missing covariate
    assert not (res.data["reason"] == "missing covariate").any()
    assert "stage=N/A" in set(res.balance["variable"])
    # the N/A patients are the missing ones, counted in the level's own balance row
    assert (res.data["stage"] == "N/A").sum() == n_missing
    assert data["stage"].isna().sum() == n_missing  # the input is not modified


def test_missing_drop_leaves_patients_with_a_missing_category_unmatched_with_the_reason():
    from pannet_core import pipeline

    data = _cohort_with_missing_stage()
    res = pipeline.run_analysis(_generic_settings("drop"), data)
    missing_ids = set(data.loc[data["stage"].isna(), "pid"].astype(str))  # ids are text in the analysis
    flagged = set(res.data.loc[res.data["reason"] == "missing covariate", "patient_id"])
    assert flagged == missing_ids
    assert "stage=N/A" not in set(res.balance["variable"])


def test_missing_level_on_a_numbers_as_text_column_gives_text_levels():
    """Fuzz find: an object column of ints and None listed as categorical; N/A must not sit among numbers."""
    from pannet_core import pipeline
    from pannet_core.cohort.generic import missing_as_level
    from pannet_core.errors import PanNetError

    x2 = [None] * 26 + [0, -1, 0]
    t = pd.DataFrame({"pid": range(29), "trt": [0] * 27 + [1, 1], "t": 1.0, "e": 0, "x2": pd.Series(x2, dtype=object)})
    out = missing_as_level(t, ["x2"], ["x2"])
    assert list(out["x2"].cat.categories) == ["-1", "0", "N/A"]
    assert out["x2"].tolist().count("N/A") == 26
    from pannet_core.settings import Settings
    s = Settings.from_dict({"columns": {"id": "pid", "treatment": "trt", "time": "t", "event": "e"},
                            "propensity": {"covariates": ["x2"], "categorical": ["x2"]}})
    with pytest.raises(PanNetError):  # a level in one group only: our message, not an IndexError
        pipeline.run_analysis(s, t)
