"""A deep link as the very first request to a fresh server still goes through app.py.

The page files live in ``app_pages/``, which Streamlit never serves on its own, so
``/matching`` can only be reached through ``app.py``'s ``st.navigation``: behind the
sign-in gate, with the shared sidebar and the demo banner.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _open_first(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{url}/matching")
    page.wait_for_selector("h1")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    return context, page


def test_first_request_deep_link_gets_the_sidebar_and_banner(browser, fresh_server):
    with fresh_server() as url:
        context, page = _open_first(browser, url)
        try:
            page.get_by_text("synthetic demonstration data", exact=False).first.wait_for()
            page.get_by_role("heading", name="Propensity-score matching", level=1).wait_for()
            # app.py's own navigation (five pages), not a folder listing of Streamlit's (which would add "app")
            assert page.locator('[data-testid="stSidebarNavLink"]').count() == 5
        finally:
            context.close()


def test_first_request_deep_link_meets_the_sign_in_gate(browser, fresh_server):
    with fresh_server(PANNET_REQUIRE_LOGIN="1") as url:
        context, page = _open_first(browser, url)
        try:
            page.locator('[data-testid="stAlert"]').first.wait_for()
            assert "Propensity-score matching" not in page.locator("h1").all_inner_texts()
            assert page.get_by_text("synthetic demonstration data", exact=False).count() == 0
            assert page.locator('[data-testid="stSidebarNavLink"]').count() == 0
        finally:
            context.close()
