"""Another CI type from a finished analysis equals the analysis run again with that type."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from pannet_core import pipeline
from pannet_core.settings import CI_TYPES
from pannet_core.stats import survival


def _same(a, b, where="result"):
    """Assert that two results (dataclasses, frames, arrays, plain values) are equal, NaN equal to NaN."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b, where


@pytest.mark.parametrize("ci", CI_TYPES)
@pytest.mark.parametrize("level", [0.95, 0.8])
def test_a_km_curve_with_another_conf_type_equals_the_curve_fitted_with_it(ci, level):
    rng = np.random.default_rng(7)
    time = np.round(rng.exponential(3, 80), 1)  # ties
    event = (rng.random(80) < 0.8).astype(int)
    event[np.argmax(time)] = 1  # the curve reaches 0: undefined limits at the end
    for start in CI_TYPES:
        km = survival.kaplan_meier(time, event, conf_type=start, conf_level=level)
        got, want = km.with_conf_type(ci), survival.kaplan_meier(time, event, conf_type=ci, conf_level=level)
        _same(got, want)
        _same(got.median(), want.median())
        _same(got.survival_at([1, 2, 5, 30]), want.survival_at([1, 2, 5, 30]))
        assert (got is km) == (start == ci)


@pytest.mark.parametrize("other", [dict(), dict(truncate_at_risk=1 / 3), dict(horizons=(1.0, 2.0), conf_level=0.9)],
                         ids=["preset", "truncated", "horizons_90"])
def test_with_ci_type_equals_analyse_with_that_type(fitted_demo, other):
    s, prepared, fit = fitted_demo
    runs = {ci: pipeline.analyse(s.with_values("survival", ci=ci, **other), prepared, fit) for ci in CI_TYPES}
    assert runs["plain"].sensitivity is not None  # the sensitivity comparison is checked too
    for start in CI_TYPES:
        for ci in CI_TYPES:
            _same(pipeline.with_ci_type(runs[start], runs[ci].settings), runs[ci], f"{start}->{ci}")
    # the limits did change with the type (the comparison above could not pass by comparing nothing)
    assert not runs["plain"].matched.summary.equals(runs["log-log"].matched.summary)


def test_with_ci_type_refuses_settings_that_differ_in_more(fitted_demo):
    s, prepared, fit = fitted_demo
    r = pipeline.analyse(s, prepared, fit)
    with pytest.raises(ValueError):
        pipeline.with_ci_type(r, s.with_values("survival", ci="log", conf_level=0.9))
    with pytest.raises(ValueError):
        pipeline.with_ci_type(r, s.with_values("matching", caliper=0.01))
