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
/* Plotly's div inside a chart: not 0 px high before its first draw.  Plotly notes a zero-height
   div in its context; on the next update Streamlit passes the same config, the context then
   differs in that note alone, and Plotly throws the chart away and draws it again from scratch
   (board/figs.py).  Once drawn, the chart's own height decides. */
[data-testid="stPlotlyChart"] > div { min-height: 1px; }
</style>
"""


def apply() -> None:
    """Inject the projector CSS (once per run)."""
    st.html(_CSS)
