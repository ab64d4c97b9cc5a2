"""Page 4 - Survival: Kaplan-Meier unmatched and matched, tests, hazard ratios, Cox models."""
import streamlit as st

from board import cached, fmt, state, tables
from board.optional import core, missing_note
from pannet_core.settings import CI_TYPES

st.title("Survival")
s = state.settings()
labels = tables.group_labels(s)

c1, c2, c3, c4 = st.columns([3, 3, 3, 3], gap="large")
if s.is_pannet:
    state.field_control(c1.radio, "Endpoint", "study", "endpoint", options=["os", "pfs"],
                        format_func={"os": "Overall survival (OS)", "pfs": "Progression-free survival (PFS)"}.get)
state.field_control(c2.selectbox, "Confidence interval", "survival", "ci", options=list(CI_TYPES),
                    format_func={"plain": "plain (linear Greenwood, as SPSS)", "log": "log",
                                 "log-log": "log-log (R default for survfit)"}.get)
state.field_control(c3.multiselect, "Survival at (years)", "survival", "horizons", options=[1.0, 2.0, 3.0, 5.0, 10.0],
                    to_widget=list, from_widget=lambda v: tuple(sorted(float(x) for x in v)),
                    format_func=lambda v: f"{v:g} years")
state.control(c4.toggle, "Truncate where few remain at risk", state.key_for("survival", "truncate_on"),
              s.survival.truncate_at_risk is not None,
              lambda s, v: s.with_values("survival", truncate_at_risk=(1 / 3 if v else None)))
if s.survival.truncate_at_risk is not None:
    state.field_control(c4.number_input, "Fraction still at risk", "survival", "truncate_at_risk",
                        min_value=0.05, max_value=0.95, step=0.05, format="%.2f")

result = cached.result_or_stop()
figs = cached.result_figures(result) if core("export") is not None else {}
ep = s.study.endpoint if s.is_pannet else "os"
export = core("export")

left, right = st.columns(2, gap="large")
for col, which, title in ((left, "unmatched", "All analysed patients (unmatched)"),
                          (right, "matched", "Propensity-matched")):
    comp = getattr(result, which)
    with col:
        st.subheader(title)
        fig = figs.get(f"km_{ep}_{which}")
        if fig is not None:
            cfg = export.plotly_config(f"km_{ep}_{which}", fig)
            st.plotly_chart(fig, width="stretch", key=f"km_{which}", config=cfg)
        else:
            st.info(missing_note("The Kaplan-Meier figure"))
        st.dataframe(tables.survival_display(comp, labels, s.survival.horizons), hide_index=True, width="stretch")
        p_text = f"Log-rank P = {fmt.p_value(comp.logrank.p)}"
        if which == "matched":
            p_text += f"; stratified on pairs P = {fmt.p_value(result.logrank_pair_stratified.p)}"
        st.markdown(f"**{p_text}**  \n**{tables.hr_text(comp.cox.table, robust=which == 'matched')}**")

if result.cox_models is not None and len(result.cox_models):
    st.subheader("Cox regression: univariable and multivariable")
    a, b = st.columns([3, 2], gap="large")
    a.dataframe(tables.cox_display(result.cox_models), hide_index=True, width="stretch")
    if "forest" in figs:
        b.plotly_chart(figs["forest"], width="stretch", key="forest")

if result.sensitivity is not None:
    st.subheader(f"Sensitivity analysis: {result.sensitivity.label}")
    sens = result.sensitivity
    figures = core("figures")
    a, b = st.columns(2, gap="large")
    if figures is not None:
        a.plotly_chart(figures.km_figure(sens, labels=labels, title=sens.label), width="stretch", key="km_sens")
    b.dataframe(tables.survival_display(sens, labels, s.survival.horizons), hide_index=True, width="stretch")
    b.markdown(f"**Log-rank P = {fmt.p_value(sens.logrank.p)}; {tables.hr_text(sens.cox.table)}**")

if result.ninety_day is not None and len(result.ninety_day):
    st.subheader("90-day mortality")
    st.dataframe(tables.cox_display(result.ninety_day), hide_index=True, width="stretch")

for w in result.warnings:
    st.caption(f"Note: {w}")
