"""Page 3 - Matching: comparison, covariates, caliper and the balance it gives.

The middle column (caliper, ratio, order) and everything below the controls are one
``st.fragment``: moving the caliper reruns only that part, not the whole app (sidebar
presets, navigation, the other controls).  The fragment writes its results into ``outputs``
(a container made right after the columns, so it sits below them) and the key counts into
the sidebar (``app.py`` leaves them out on this page); Streamlit redraws a fragment's writes
to such outside containers in place.  The results are written before the column's controls
(see ``_matching_and_results``).  The left and right columns (comparison, covariates,
exact matching) change the propensity model and rerun the whole page.
"""
import pandas as pd
import streamlit as st

from board import cached, figs, fmt, matching_ui, profile, sidebar, state, tables
from pannet_core.figures import text as figure_text
from pannet_core.settings import CALIPER_SCALES, DEFAULT_CALIPER, NUMERIC_SUMMARIES, ORDERS

LAST_CALIPER = "pnb_last_caliper"


st.title("Propensity-score matching")
state.show_messages()  # messages queued by a widget callback (app.py shows them first when it runs)
s = state.settings()
entry = state.table()
prepared, _ = cached.current_prepared()


@st.fragment
def matching_and_results(outputs) -> None:
    """The middle column's controls and every result below the controls (reruns alone on their changes)."""
    with profile.timed("fragment:matching"):
        _matching_and_results(outputs)


def _matching_and_results(outputs) -> None:
    state.show_messages()  # on a fragment rerun the page's own call above does not run
    s = state.settings()
    result, problem = cached.current_result()
    # results before controls: the browser applies a rerun's messages in order, so charts need not wait
    if result is None:
        outputs.error(fmt.md_text(problem))
    else:
        with outputs:
            _results(s, result)
    _controls(s, result)
    sidebar.counts(result, problem)  # the sidebar's counts follow the caliper


def _controls(s, result) -> None:
    """The middle column: caliper, the resolved caliper width, ratio and order."""
    st.subheader("Caliper")
    if s.matching.caliper is not None:
        st.session_state[LAST_CALIPER] = s.matching.caliper  # switching the caliper off and on restores it
    state.control(st.toggle, "Use a caliper", state.key_for("matching", "use_caliper"), s.matching.caliper is not None,
                  lambda s, v: s.with_values("matching", caliper=(
                      st.session_state.get(LAST_CALIPER, DEFAULT_CALIPER) if v else None)))
    if s.matching.caliper is not None:
        state.field_control(st.radio, "Scale", "matching", "caliper_scale", options=list(CALIPER_SCALES),
                            format_func=matching_ui.SCALES.get, horizontal=True)
        state.field_control(st.slider, matching_ui.caliper_label(s), "matching", "caliper",
                            to_widget=lambda v: float(min(max(v, 0.005), 1.0)), min_value=0.005, max_value=1.0,
                            step=0.005, format="%.3f")
    if result is not None:
        width = result.matching.caliper_width
        st.markdown("**Resolved caliper width: no caliper**" if width is None else
                    f"**Resolved caliper width: {width:.4f}** "
                    f"({'logit of the score' if s.matching.caliper_scale == 'logit' else 'probability'})")
    st.subheader("Ratio and order")
    r1, r2 = st.columns(2)
    state.field_control(r1.number_input, "Controls per treated (1:k)", "matching", "ratio", min_value=1,
                        max_value=10, step=1)
    state.field_control(r2.toggle, "With replacement", "matching", "replace")
    r1, r2 = st.columns(2)
    state.field_control(r1.selectbox, "Order of treated patients", "matching", "order", options=list(ORDERS),
                        format_func=matching_ui.ORDERS_TEXT.get)
    state.field_control(r2.number_input, "Seed (random order)", "matching", "seed", min_value=0, step=1,
                        disabled=s.matching.order != "random")


def _results(s, result) -> None:
    labels = tables.group_labels(s)
    m = result.matching
    # -------------------------------------------------------------- counts
    st.divider()
    data = result.data
    n_t, n_c = result.n_treated, result.n_control
    t_matched, c_used = result.n_matched_treated, result.n_matched_control
    k1, k2, k3, k4 = st.columns(4)
    k1.metric("Matched sets", f"{result.n_sets}",
              help=f"{result.n_pairs} treated-control pairs; {result.n_matched_patients} distinct patients")
    k2.metric(f"{labels['treated']} matched", f"{t_matched} of {n_t}", fmt.pct(t_matched / n_t if n_t else None),
              delta_color="off")
    k3.metric(f"{labels['control']} used", f"{c_used} of {n_c}", fmt.pct(c_used / n_c if n_c else None),
              delta_color="off")
    k4.metric(f"{labels['treated']} unmatched", f"{n_t - t_matched}")
    if result.c_statistic is not None:
        st.caption(f"c-statistic (ROC area of the propensity model): **{result.c_statistic:.2f}**. Near 0.5 the "
                   "covariates hardly tell the groups apart and overlap is good; near 1 they almost separate "
                   "them: many treated patients find no control inside the caliper, and the matched sample may "
                   "not represent all treated patients.")
    caliper_text = ("no caliper" if s.matching.caliper is None else
                    f"caliper {s.matching.caliper:.3f} absolute" if s.matching.caliper_scale == "ps_absolute" else
                    f"caliper {s.matching.caliper:.3f} × {matching_ui.SCALES[s.matching.caliper_scale]}")
    with st.container(key="matched-count"):
        st.markdown(f"**Matched: {result.n_sets} sets ({result.n_pairs} pairs, {result.n_matched_patients} patients); "
                    f"{t_matched} of {n_t} {fmt.md_text(labels['treated'].lower())} patients matched "
                    f"({caliper_text}).**")

    # full width: the panels and labels are designed for a projector; the subheader carries the title on screen
    st.subheader("Propensity score overlap")
    fig = figs.overlap(result, screen=True)
    figs.show(fig, key="ps_overlap", filename="ps_overlap", height=figs.matching_height(fig))
    st.subheader("Balance (love plot)")
    st.caption(f"Absolute standardised mean difference of each covariate level before (open) and after (filled) "
               f"matching; the dashed line is the {s.balance.threshold:g} threshold.")
    with st.container(key="balance-verdict"):
        st.markdown(f"**{fmt.md_text(figure_text.balance_verdict(result.balance, s.balance.threshold))}**")
    fig = figs.love(result, screen=True)
    figs.show(fig, key="love_plot", filename="love_plot", height=figs.matching_height(fig))

    unmatched = data.loc[~data["matched"]]
    if len(unmatched):
        st.subheader("Why patients went unmatched")
        why = (unmatched.assign(group=unmatched["treated"].map({True: labels["treated"], False: labels["control"]}))
               .groupby(["group", "reason"], sort=False).size().rename("patients").reset_index())
        st.dataframe(why, hide_index=True, width="stretch")

    # -------------------------------------------------------------- Table 1
    if result.table1 is not None:
        st.subheader("Table 1")
        state.field_control(st.radio, "Numeric covariates as", "balance", "numeric_summary",
                            options=list(NUMERIC_SUMMARIES), horizontal=True,
                            format_func={"median": "median (IQR), Mann-Whitney", "mean": "mean (SD), Welch's t"}.get)
        st.caption(f"⚠ marks a standardised mean difference ≥ {s.balance.threshold:g}. "
                   "Percentages of each group; P from chi-square or Fisher's exact test, numeric covariates by "
                   + ("Welch's t-test." if s.balance.numeric_summary == "mean" else "the Mann-Whitney test."))
        tb, ta = st.tabs(["Before matching", "After matching"])
        tb.dataframe(cached.table1_display(result.table1, labels), hide_index=True, width="stretch", height=520)
        if result.table1_matched is not None:
            ta.dataframe(cached.table1_display(result.table1_matched, labels), hide_index=True, width="stretch",
                         height=520)

    # -------------------------------------------------------------- pair browser
    st.subheader("Pair browser")
    pairs = m.pairs
    if len(pairs):
        pair_ids = pairs["pair"].tolist()
        st.session_state.setdefault("w.pair_browser", pair_ids[0])
        if st.session_state["w.pair_browser"] not in pair_ids:
            st.session_state["w.pair_browser"] = pair_ids[0]
        chosen = st.selectbox("Pair", pair_ids, key="w.pair_browser",
                              format_func=lambda p: f"Pair {p}")
        row = pairs.loc[pairs["pair"] == chosen].iloc[0]
        with st.container(key="pair-ids"):
            st.markdown(f"Pair {chosen}: {fmt.md_text(labels['treated'].lower())} patient "
                        f"**{fmt.md_text(row['treated_id'])}**, {fmt.md_text(labels['control'].lower())} patient "
                        f"**{fmt.md_text(row['control_id'])}**.")
        covs = list(dict.fromkeys(list(s.propensity.covariates) + list(s.matching.exact)))
        st.dataframe(tables.pair_view(data, pairs, chosen, covs, labels), hide_index=True, width="stretch")
        with st.expander(f"All {result.n_pairs} pairs"):
            st.dataframe(pd.DataFrame(pairs), hide_index=True, width="stretch")


# ------------------------------------------------------------------ controls
c_left, c_mid, c_right = st.columns([4, 4, 3], gap="large")
outputs = st.container()  # below the three columns; the fragment fills it
with c_left:
    st.subheader("Comparison")
    if s.is_pannet:
        state.field_control(st.selectbox, "Treatment comparison", "study", "comparison",
                            options=list(matching_ui.COMPARISONS), format_func=matching_ui.COMPARISONS.get)
        st.caption("**Time zero:** " + matching_ui.TIME_ZERO[s.study.comparison])
    else:
        st.caption(f"Treatment column **{s.columns.treatment}**, time **{s.columns.time}** "
                   f"({s.columns.time_unit}), event **{s.columns.event}**.")
    st.subheader("Covariates")
    options = matching_ui.covariate_options(s, prepared, entry)
    state.control(st.multiselect, "Match on", state.key_for("propensity", "covariates"), list(s.propensity.covariates),
                  lambda s, v: matching_ui.with_covariates(s, v, prepared), options=options,
                  format_func=matching_ui.covariate_label)
    mode = matching_ui.binning_mode(s)
    state.control(st.segmented_control, "Continuous covariates enter as", state.key_for("propensity", "binning"),
                  mode, lambda s, v: matching_ui.with_binning(s, v, prepared) if v else s,
                  options=["binned", "raw"], format_func={"binned": "binned groups", "raw": "raw numbers"}.get)
    state.field_control(st.radio, "Missing covariate values", "propensity", "missing", options=["level", "drop"],
                        format_func={"level": "as their own level (N/A)", "drop": "drop the patient"}.get,
                        horizontal=True)

with c_mid:
    matching_and_results(outputs)

with c_right:
    st.subheader("Exact match on")
    exact_options = matching_ui.exact_options(s, prepared)
    state.control(st.multiselect, "Same value required", state.key_for("matching", "exact"), list(s.matching.exact),
                  lambda s, v: s.with_values("matching", exact=tuple(v)), options=exact_options,
                  format_func=matching_ui.covariate_label)
