"""Every page runs inside ``app.py`` (sign-in gate, sidebar, demo banner), or not at all.

Streamlit serves a ``pages/`` folder on its own until the entry point has called
``st.navigation`` once: the very first request to a freshly started server for a
deep link such as ``/matching`` would run that page file bare, without the
sign-in gate of ``PANNET_REQUIRE_LOGIN`` or the shared sidebar.  ``app.py`` marks
each run with :func:`mark` just before it runs the page; a page whose run was not
marked sends the browser to ``app.py`` instead (the Data page, with everything in
front of it).
"""
from __future__ import annotations

import streamlit as st

_FLAG = "_pnb_entry_ran"


def mark() -> None:
    """Called by ``app.py`` after the gate and the shared sidebar, right before ``page.run()``."""
    st.session_state[_FLAG] = True


def require_app() -> None:
    """First line of every page file: go through ``app.py`` when this session never did."""
    if not st.session_state.get(_FLAG):
        st.switch_page("app.py")
