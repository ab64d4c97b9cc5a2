"""PanNET Board: the Streamlit dashboard (``streamlit run app.py``).

Thin shell: page config, the optional sign-in gate (``PANNET_REQUIRE_LOGIN``,
see docs/deployment.md), session initialisation (demo cohort + 000 preset on
first open), the shared sidebar and the five pages.  No statistics here.
"""
from pannet_core.runtime import configure

configure()  # one BLAS thread and Arrow's system memory pool, before pandas loads numpy and pyarrow

from pathlib import Path  # noqa: E402

import streamlit as st  # noqa: E402

# a local favicon: a :material: one would be fetched from a font CDN on every page load
st.set_page_config(layout="wide", page_title="PanNET Board",
                   page_icon=str(Path(__file__).parent / "board" / "assets" / "favicon.png"))

from board import auth, profile, sidebar, state, style  # noqa: E402  (set_page_config must come first)

auth.gate()  # no-op unless PANNET_REQUIRE_LOGIN is set
state.ensure_initialised()
style.apply()

PAGES = [
    st.Page("app_pages/1_data.py", title="1 Data", icon=":material/table:", url_path="data", default=True),
    st.Page("app_pages/2_eligibility.py", title="2 Eligibility", icon=":material/checklist:", url_path="eligibility"),
    st.Page("app_pages/3_matching.py", title="3 Matching", icon=":material/join_inner:", url_path="matching"),
    st.Page("app_pages/4_survival.py", title="4 Survival", icon=":material/show_chart:", url_path="survival"),
    st.Page("app_pages/5_report.py", title="5 Report", icon=":material/slideshow:", url_path="report"),
]

page = st.navigation(PAGES)
with profile.timed(f"run:{page.url_path or 'data'}", whole_run=True):
    with profile.timed("sidebar"):
        # the Matching page draws the sidebar's counts from its fragment (they follow the caliper)
        sidebar.render(with_counts=page.url_path != "matching")
    sidebar.demo_banner()
    state.show_messages()
    page.run()
