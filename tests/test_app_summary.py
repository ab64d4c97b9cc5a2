"""The Survival and Matching pages say what is shown: the summary sentence, the balance verdict, which test
is primary and which secondary, and the horizons as "1 year" (AppTest, numbers from the result)."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from board import fmt  # noqa: E402
from pannet_core import pipeline  # noqa: E402
from pannet_core.demo import make_demo_cohort  # noqa: E402
from pannet_core.figures import text  # noqa: E402
from pannet_core.settings import load_preset  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def at():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def result():
    return pipeline.run_analysis(load_preset("primary_tumour_resection"), make_demo_cohort())


def test_survival_page_leads_with_the_summary_sentence_and_the_balance_verdict(at, result):
    at.switch_page("app_pages/4_survival.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [m.value for m in at.markdown]
    sentence = text.summary_sentence(result)
    assert sentence.startswith(f"In {result.n_sets} matched pairs, 5-year overall survival was ")
    assert f"**{fmt.md_text(sentence)}**" in shown
    verdict = text.balance_verdict(result.balance, result.settings.balance.threshold)
    assert verdict.startswith("Balance: ") and " levels above 0.10 (largest " in verdict
    assert fmt.md_text(verdict) in shown
    caption = " ".join(c.value for c in at.caption)
    assert "Primary test: the log-rank test on the matched groups" in caption and "Secondary:" in caption
    horizons = at.multiselect(key="w.survival.horizons")
    assert "1 year" in horizons.options and "5 years" in horizons.options and "1 years" not in horizons.options


def test_the_sentence_follows_the_settings(at):
    at.switch_page("app_pages/4_survival.py").run()
    at.multiselect(key="w.survival.horizons").set_value([1.0, 3.0]).run()
    assert not at.exception
    assert any("3\\-year overall survival" in m.value for m in at.markdown)


def test_matching_page_shows_the_balance_verdict_by_the_love_plot(at, result):
    at.switch_page("app_pages/3_matching.py").run()
    assert not at.exception
    verdict = text.balance_verdict(result.balance, result.settings.balance.threshold)
    assert f"**{fmt.md_text(verdict)}**" in [m.value for m in at.markdown]
