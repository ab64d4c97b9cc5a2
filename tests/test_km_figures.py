"""The Survival page's Kaplan-Meier charts with a new CI type's bands written in equal the charts built from scratch."""
import plotly.io
import pytest

from board import cached, figs
from board.screen import km as km_figures
from board.screen import layout
from pannet_core import pipeline
from pannet_core.settings import CI_TYPES

WHICH = ("unmatched", "matched", "sensitivity")
# settings that change what a figure shows apart from the bands (each gets its own built figure)
OTHERS = [dict(), dict(truncate_at_risk=1 / 4), dict(horizons=(1.0, 2.0), conf_level=0.9), dict(horizons=(10.0,))]


def _result(fitted_demo, **survival):
    s, prepared, fit = fitted_demo
    return pipeline.analyse(s.with_values("survival", **survival), prepared, fit)


def _screen(result, which, show_ci):
    """What ``figs.km(..., screen=True)`` draws, without its cache."""
    return km_figures.km(result, which, show_ci, figs.km_builder(result, which, True))


def _scratch(result, which, show_ci):
    return layout.from_dict(figs.km_screen_dict(figs.km_builder(result, which, show_ci)))


@pytest.mark.parametrize("other", OTHERS, ids=["preset", "truncated", "horizons_90", "horizon_10y"])
def test_written_in_bands_equal_a_figure_built_from_scratch(fitted_demo, other, monkeypatch):
    km_figures._base.clear()
    scratch = layout.km_dict
    built = []
    monkeypatch.setattr(layout, "km_dict", lambda f: built.append(f) or scratch(f))
    sent = {which: set() for which in WHICH}
    for ci in CI_TYPES:
        result = _result(fitted_demo, ci=ci, **other)
        for which in WHICH:
            for show_ci in (True, False):
                got, want = _screen(result, which, show_ci), _scratch(result, which, show_ci)
                assert got.to_plotly_json() == want.to_plotly_json(), (ci, which, show_ci)
                text = plotly.io.to_json(got, validate=False)  # what Streamlit sends
                assert text == plotly.io.to_json(want, validate=False)
                sent[which].add(text)
    n_scratch = 2 * len(CI_TYPES) * len(WHICH)  # the comparison figures above
    assert len(built) - n_scratch == len(WHICH)  # one built figure per comparison served every type and toggle
    for which in WHICH:
        assert len(sent[which]) == 2 * len(CI_TYPES)  # every type and toggle really changed the chart


def test_a_built_figure_is_not_reused_for_other_settings_or_changed_by_a_copy(fitted_demo):
    """Settings other than the CI type get their own figure; writing into a copy leaves the built one alone."""
    km_figures._base.clear()
    plain = _result(fitted_demo, ci="plain")
    first = _screen(plain, "matched", True).to_plotly_json()
    for other in OTHERS[1:]:
        r = _result(fitted_demo, ci="log", **other)
        assert _screen(r, "matched", True).to_plotly_json() == _scratch(r, "matched", True).to_plotly_json()
    _screen(_result(fitted_demo, ci="log-log"), "matched", True)
    assert _screen(plain, "matched", True).to_plotly_json() == first


def test_the_settings_key_ignores_only_the_ci_type(fitted_demo):
    s = fitted_demo[0]
    key = cached.key_but_ci(s)
    assert all(cached.key_but_ci(s.with_values("survival", ci=ci)) == key for ci in CI_TYPES)
    assert cached.key_but_ci(s.with_values("survival", conf_level=0.9)) != key
    assert cached.key_but_ci(s.with_values("matching", caliper=0.01)) != key
