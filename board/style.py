"""A little CSS for the projector: larger base font, bold headings, wide tables."""
import streamlit as st

_CSS = """
<style>
html, body, [class*="css"] { font-size: 18px; }
h1 { font-size: 2.1rem !important; }
h2 { font-size: 1.6rem !important; }
h3 { font-size: 1.3rem !important; }
[data-testid="stMetricValue"] { font-size: 1.9rem; }
[data-testid="stSidebar"] [data-testid="stMetricValue"] { font-size: 1.5rem; }
</style>
"""


def apply() -> None:
    """Inject the projector CSS (once per run)."""
    st.html(_CSS)
