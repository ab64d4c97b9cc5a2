"""Fixtures shared by the test modules."""
import pytest


@pytest.fixture(scope="module")
def fitted_demo():
    """The dashboard's demo cohort under its default preset: ``(settings, prepared, propensity fit)``."""
    from board import state
    from board.state import DEFAULT_PRESET
    from pannet_core import pipeline
    from pannet_core.settings import load_preset

    s = load_preset(DEFAULT_PRESET)
    prepared = pipeline.prepare(s, state.demo_entry().frame)
    return s, prepared, pipeline.fit_scores(s, prepared)
