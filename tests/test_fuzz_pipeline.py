"""Fuzzing the whole analysis: random tables and random settings give a result or a PanNetError.

Nothing else may escape (no numpy/pandas/scipy exception, no warning turned error), and a
result is internally consistent.
"""
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pannet_core.errors import PanNetError
from pannet_core.pipeline import run_analysis
from pannet_core.report.results import results_json
from pannet_core.settings import Settings

CELL = st.one_of(st.none(), st.integers(-3, 5), st.floats(-1e3, 1e3), st.just(float("nan")),
                 st.sampled_from(["a", "b", "G1", "G2", "", "NA", "1", "0", "yes", "no"]))


@st.composite
def clean_tables(draw):
    """Tables that should usually analyse: both groups, events, overlapping covariates."""
    n = draw(st.integers(20, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    trt = rng.integers(0, 2, n)
    trt[:2] = [0, 1]
    frame = pd.DataFrame({"pid": rng.permutation(n) + 1, "trt": trt,
                          "t": rng.uniform(1, 3000, n).round(draw(st.sampled_from([0, 1, 3]))),
                          "e": rng.integers(0, 2, n),
                          "x1": rng.normal(0, 1, n), "x2": rng.choice(["a", "b"], n),
                          "x3": rng.choice(["u", "v", "w"], n)})
    frame.loc[0, "e"] = 1
    return frame, {"x1": "num", "x2": "cat", "x3": "cat"}


@st.composite
def tables(draw):
    if draw(st.booleans()):
        return draw(clean_tables())
    n = draw(st.integers(0, 40))
    kind = {c: draw(st.sampled_from(["num", "cat", "mixed", "const", "bool"])) for c in ("x1", "x2", "x3")}
    frame = {"pid": draw(st.one_of(st.just(list(range(n))),
                                   st.lists(st.integers(0, 5), min_size=n, max_size=n)))}
    frame["trt"] = draw(st.lists(st.sampled_from([0, 1, 1, 0, 2, None, "yes", "no"]) if draw(st.booleans())
                                 else st.sampled_from([0, 1]), min_size=n, max_size=n))
    frame["t"] = draw(st.lists(st.one_of(st.floats(0, 5000), st.just(-1.0), st.none()) if draw(st.booleans())
                               else st.floats(0.5, 5000), min_size=n, max_size=n))
    frame["e"] = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))
    for c, k in kind.items():
        if k == "num":
            frame[c] = draw(st.lists(st.floats(-100, 100), min_size=n, max_size=n))
        elif k == "cat":
            frame[c] = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
        elif k == "const":
            frame[c] = [7.0] * n
        elif k == "bool":
            frame[c] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        else:
            frame[c] = draw(st.lists(CELL, min_size=n, max_size=n))
    return pd.DataFrame(frame), kind


@st.composite
def settings_dicts(draw, kind):
    covs = draw(st.lists(st.sampled_from(["x1", "x2", "x3"]), min_size=1, max_size=3, unique=True))
    cat = [c for c in covs if kind[c] in ("cat", "mixed") or draw(st.integers(0, 4)) == 0]
    return {
        "columns": {"id": "pid", "treatment": "trt", "time": "t", "event": "e",
                    "time_unit": draw(st.sampled_from(["days", "months", "years"]))},
        "propensity": {"covariates": covs, "categorical": cat},
        "matching": {"ratio": draw(st.integers(1, 3)),
                     "caliper": draw(st.one_of(st.none(), st.floats(1e-6, 3))),
                     "caliper_scale": draw(st.sampled_from(["ps", "logit", "ps_absolute"])),
                     "replace": draw(st.booleans()),
                     "order": draw(st.sampled_from(["largest", "smallest", "data", "random"])),
                     "seed": draw(st.integers(0, 3)),
                     "exact": draw(st.sampled_from([[], [], ["x2"]]))},
        "survival": {"ci": draw(st.sampled_from(["plain", "log", "log-log"])),
                     "horizons": draw(st.lists(st.floats(0, 20), max_size=3)),
                     "truncate_at_risk": draw(st.one_of(st.none(), st.floats(0.05, 0.95)))},
    }


@st.composite
def cases(draw):
    frame, kind = draw(tables())
    return frame, draw(settings_dicts(kind))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_random_tables_and_settings_give_a_result_or_our_error(case):
    frame, sdict = case
    before = frame.copy()
    try:
        settings = Settings.from_dict(sdict)
        result = run_analysis(settings, frame)
    except PanNetError as exc:
        assert exc.message and "Fix:" in exc.message
        event("PanNetError")
        return
    finally:
        pd.testing.assert_frame_equal(frame, before)  # the input is never modified
    event("result")
    doc = results_json(result)
    json.dumps(doc, allow_nan=False)  # strictly valid JSON
    assert doc["n"] == doc["n_treated"] + doc["n_control"]
    assert doc["km"]["matched"]["treated"]["n"] == len({t for t, _ in doc["pairs"]})
    if not settings.matching.replace:
        controls = [c for _, c in doc["pairs"]]
        assert len(controls) == len(set(controls))


@hsettings(max_examples=60, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.sampled_from(
                                                ["columns", "propensity", "matching", "survival", "study", "id",
                                                 "caliper", "covariates", "eligibility", "name", "cox"]),
                                                inner, max_size=4)),
                    max_leaves=12))
def test_random_settings_json_is_read_or_rejected_with_our_error(value):
    try:
        s = Settings.from_dict(value)
    except PanNetError as exc:
        assert "Fix:" in exc.message
    else:
        assert Settings.from_dict(s.to_dict()) == s
