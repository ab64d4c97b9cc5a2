"""Optional sign-in: ``PANNET_REQUIRE_LOGIN=1`` puts Streamlit's OIDC login (``st.login``) in front of the app.

With the variable unset (the default, a single-user app on 127.0.0.1) nothing
happens.  With it set, the app needs the ``Authlib`` package and an ``[auth]``
section in ``.streamlit/secrets.toml`` (see docs/deployment.md); when either
is missing the app shows an ``st.error`` saying so and stops, instead of
failing inside ``st.login``.
"""
from __future__ import annotations

import importlib.util
import os

import streamlit as st

ENV = "PANNET_REQUIRE_LOGIN"
_OFF = ("", "0", "false", "no", "off")


def login_required() -> bool:
    """True when the environment variable ``PANNET_REQUIRE_LOGIN`` is set to a true value."""
    return os.environ.get(ENV, "").strip().lower() not in _OFF


def authlib_available() -> bool:
    """Whether the Authlib package ``st.login`` needs is installed."""
    return importlib.util.find_spec("authlib") is not None


def _auth_section() -> dict | None:
    try:
        if "auth" not in st.secrets:
            return None
        return dict(st.secrets["auth"])
    except Exception:  # no secrets.toml at all, or an unreadable one
        return None


def configuration_problem() -> str | None:
    """Why login cannot work on this server (what and how to fix), or None when it is configured."""
    auth = _auth_section()
    if auth is None:
        return (f"Sign-in is required ({ENV} is set) but no [auth] section was found in .streamlit/secrets.toml. "
                "Fix: add the [auth] section with redirect_uri, cookie_secret, client_id, client_secret and "
                f"server_metadata_url of the hospital's identity provider (docs/deployment.md), or unset {ENV} "
                "for a single-user installation on 127.0.0.1.")
    missing = [k for k in ("redirect_uri", "cookie_secret") if not auth.get(k)]
    if missing:
        return (f"Sign-in is required ({ENV} is set) but the [auth] section of .streamlit/secrets.toml lacks "
                f"{', '.join(missing)}. Fix: add them as described in docs/deployment.md.")
    if not authlib_available():
        return (f"Sign-in is required ({ENV} is set) but the Authlib package that st.login needs is not installed. "
                "Fix: install it into the app's environment (.venv/bin/pip install Authlib) and restart the app.")
    return None


def _only(view, title: str) -> None:
    """Run ``view`` as the app's only page and stop.

    Calling ``st.navigation`` here replaces the app's pages for this run, so the
    URL of a real page shows the gate instead.
    """
    st.navigation([st.Page(view, title=title, url_path="signin", default=True)], position="hidden").run()
    st.stop()


def gate() -> None:
    """Stop the script until the user is signed in (only when ``PANNET_REQUIRE_LOGIN`` is set)."""
    if not login_required():
        return
    problem = configuration_problem()
    if problem:
        def _problem() -> None:
            st.title("PanNET Board")
            st.error(problem, icon=":material/lock:")

        _only(_problem, "Sign-in is not configured")
    if not st.user.get("is_logged_in", False):
        def _signin() -> None:
            st.title("PanNET Board")
            st.write("This dashboard shows patient data. Sign in with your hospital account to continue.")
            st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login, key="pnb_login")

        _only(_signin, "Sign in")
    st.sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout, key="pnb_logout")
