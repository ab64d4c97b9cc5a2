"""The sidebar every page shares: preset, data source, endpoint and the key counts."""
from __future__ import annotations

import streamlit as st

from board import cached, fmt, state
from pannet_core.settings import preset_names

DEMO_BANNER = ("**Synthetic demonstration data** - not real patients. "
               "Upload a registry export on the Data page to analyse your own cohort.")


def preset_label(name: str | None) -> str:
    if name is None:
        return "(custom settings)"
    return state.PRESET_LABELS.get(name, name.replace("_", " "))


def demo_banner() -> None:
    """The banner shown at the top of every page while the demo cohort is loaded."""
    entry = state.table()
    if entry is not None and entry.is_demo:
        st.warning(DEMO_BANNER, icon=":material/science:")


def render(*, with_counts: bool = True) -> None:
    """Draw the shared sidebar (called by app.py before the page runs).

    ``with_counts=False`` leaves out the key counts at the bottom: the Matching page's fragment
    draws them itself (:func:`counts`), so that they follow the caliper on a fragment rerun.
    """
    sb = st.sidebar
    sb.markdown("## PanNET Board")
    names = preset_names()
    current = st.session_state.get(state.PRESET)
    options = ([None] if current is None else []) + names
    key = "w.sidebar.preset"
    st.session_state[key] = current if current in options else options[0]

    def _changed() -> None:
        chosen = st.session_state[key]
        if chosen is not None:
            state.apply_preset(chosen)

    if names:
        sb.selectbox("Study preset", options, key=key, format_func=preset_label, on_change=_changed,
                     help="Applies a complete settings file (eligibility, matching, survival).")
    else:
        sb.info("No presets are installed yet.")

    entry = state.table()
    if entry is None:
        sb.info("No data loaded yet.")
    else:
        source = "Synthetic demo cohort" if entry.is_demo else f"Upload: {fmt.md_text(entry.filename)}"
        sb.markdown(f"**Data:** {source}  \n{len(entry.frame)} rows")

    s = state.settings()
    if s.is_pannet:
        _endpoint(sb)

    if with_counts:
        counts(*cached.current_result())


def counts(result, problem: str | None) -> None:
    """The key counts at the bottom of the sidebar (or the problem that stopped the analysis)."""
    sb = st.sidebar
    if result is not None:
        c1, c2 = sb.columns(2)
        c1.metric("Analysed", result.n)
        c2.metric("Matched sets", result.n_sets,
                  help=f"{result.n_pairs} treated-control pairs, {result.n_matched_patients} distinct patients")
        c1.metric("Treated", result.n_treated)
        c2.metric("Controls", result.n_control)
    elif problem:
        sb.caption(fmt.md_text(problem))


def _endpoint(sb) -> None:
    state.field_control(sb.radio, "Endpoint", "study", "endpoint", options=["os", "pfs"],
                        format_func={"os": "Overall survival", "pfs": "Progression-free survival"}.get,
                        horizontal=True, key=state.key_for("sidebar", "endpoint"))
