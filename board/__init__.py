"""Streamlit helpers of the PanNET Board dashboard (never imported by ``pannet_core``).

* :mod:`board.state`   - the one ``Settings`` object and the patient table in ``st.session_state``,
  and widgets bound to settings fields;
* :mod:`board.cached`  - cached wrappers of the three pipeline stages;
* :mod:`board.data`    - reading uploads, presets and saved settings into the session;
* :mod:`board.sidebar` - the sidebar shared by every page;
* :mod:`board.fmt`     - number formatting for a projector (percent, P values, CIs);
* :mod:`board.figs`    - cached figures and how they are drawn (full width, designed fonts);
* :mod:`board.auth`    - the optional sign-in gate (``PANNET_REQUIRE_LOGIN``, ``st.login``);
* :mod:`board.profile` - optional timing of script runs (``PANNET_PROFILE``, used by bench/browser_latency.py).
"""
