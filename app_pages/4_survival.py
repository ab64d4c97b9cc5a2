"""Page 4 - Survival: Kaplan-Meier unmatched and matched, tests, hazard ratios, Cox models."""
import datetime as dt

import pandas as pd
import streamlit as st

from board import cached, figs, fmt, state, tables
from pannet_core.figures import style as figure_style
from pannet_core.figures import text as figure_text
from pannet_core.settings import CI_TYPES

st.title("Survival")
state.show_messages()  # messages queued by a widget callback (app.py shows them first when it runs)
s = state.settings()
labels = tables.group_labels(s)

c1, c2, c3 = st.columns(3, gap="large")
if s.is_pannet:
    state.field_control(c1.radio, "Endpoint", "study", "endpoint", options=["os", "pfs"],
                        format_func={"os": "Overall survival (OS)", "pfs": "Progression-free survival (PFS)"}.get)
state.field_control(c2.selectbox, "Confidence interval", "survival", "ci", options=list(CI_TYPES),
                    format_func={"plain": "plain (linear Greenwood, as SPSS)", "log": "log",
                                 "log-log": "log-log (R default for survfit)"}.get)
state.field_control(c3.multiselect, "Survival at (years)", "survival", "horizons", options=[1.0, 2.0, 3.0, 5.0, 10.0],
                    to_widget=list, from_widget=lambda v: tuple(sorted(float(x) for x in v)),
                    format_func=figure_text.years_label)
d1, d2, d3 = st.columns(3, gap="large")
state.control(d2.toggle, "Truncate where few remain at risk", state.key_for("survival", "truncate_on"),
              s.survival.truncate_at_risk is not None,
              lambda s, v: s.with_values("survival", truncate_at_risk=(1 / 3 if v else None)))
if s.survival.truncate_at_risk is not None:
    state.field_control(d2.number_input, "Fraction still at risk", "survival", "truncate_at_risk",
                        min_value=0.05, max_value=0.95, step=0.05, format="%.2f")

st.session_state["w.view.show_ci"] = figs.show_ci()
d1.toggle("Show confidence bands", key="w.view.show_ci",
          on_change=lambda: st.session_state.__setitem__(figs.SHOW_CI, bool(st.session_state["w.view.show_ci"])),
          help="Draw the pointwise confidence interval of each Kaplan-Meier curve as a shaded band.")
if s.is_pannet:
    def _default_cutoff() -> str:
        entry = state.table()
        col = entry.frame.get("last_followup_date") if entry is not None else None
        last = pd.to_datetime(col, errors="coerce").max() if col is not None else pd.NaT
        return (last.date() if pd.notna(last) else dt.date.today()).isoformat()

    state.control(d3.toggle, "Censor at a study cut-off date", state.key_for("study", "cutoff_on"),
                  s.study.cutoff_date is not None,
                  lambda s, v: s.with_values("study", cutoff_date=(_default_cutoff() if v else None)),
                  help="Follow-up after the cut-off is censored at the cut-off date (settings: study.cutoff_date).")
    if s.study.cutoff_date is not None:
        state.field_control(d3.date_input, "Cut-off date", "study", "cutoff_date",
                            to_widget=dt.date.fromisoformat, from_widget=lambda v: v.isoformat() if v else None,
                            min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31), format="YYYY-MM-DD")

result = cached.result_or_stop()
ep = s.study.endpoint if s.is_pannet else "os"

# the answer in words first, numbers from the result (md_text: shown literally, never as markdown)
with st.container(key="survival-summary"):
    st.markdown(f"**{fmt.md_text(figure_text.summary_sentence(result))}**")
    st.markdown(fmt.md_text(figure_text.balance_verdict(result.balance, s.balance.threshold)))
    st.caption("Primary test: the log-rank test on the matched groups (as in the paper of seed 000). Secondary: "
               "the log-rank test stratified on matched sets. Hazard ratios compare "
               f"{fmt.md_text(figure_text.hr_direction(labels))} (below 1: lower hazard with "
               f"{fmt.md_text(labels['treated'].lower())}).")

TITLES = {"unmatched": "All analysed patients (unmatched)", "matched": "Propensity-matched"}
for which in ("unmatched", "matched"):
    st.subheader(f"Kaplan-Meier: {TITLES[which].lower()}")
    # on screen the subheader carries the title; the exported figure keeps it
    figs.show(figs.km(result, which, screen=True), key=f"km_{which}",
              filename=f"km_{ep}_{which}", height=figs.KM_HEIGHT)

# boxes for the tables and Cox models, filled after the sensitivity chart so that the chart is sent first
tables_box = st.container()
cox_box = st.container() if result.cox_models is not None and len(result.cox_models.table) else None
if result.sensitivity is not None:
    st.subheader(f"Sensitivity analysis: {fmt.md_text(result.sensitivity.label)}")
    figs.show(figs.sensitivity_km(result, screen=True), key="km_sens", height=figs.KM_HEIGHT)
    sens_box = st.container()

tables_box.subheader("Median survival and survival at the horizons")
for which in ("unmatched", "matched"):
    comp = getattr(result, which)
    tables_box.markdown(f"**{TITLES[which]}**")
    tables_box.dataframe(tables.survival_display(comp, labels, s.survival.horizons), hide_index=True, width="stretch")
    if which == "matched":
        p_text = f"Primary: {figure_text.labelled_p(comp.logrank.p, scope='matched groups')}"
        if fmt.is_value(result.logrank_pair_stratified.p):
            p_text += (f". Secondary: log-rank stratified on matched sets "
                       f"{figure_style.fmt_p(result.logrank_pair_stratified.p)}")
    else:
        p_text = figure_text.labelled_p(comp.logrank.p, scope="all patients")
    hr = tables.hr_text(comp.cox.table, robust=which == "matched", labels=labels)
    tables_box.markdown(f"**{fmt.md_text(p_text)}; {fmt.md_text(hr)}**")

if cox_box is not None:
    cox_box.subheader("Cox regression: univariable and multivariable")
    a, b = cox_box.columns([3, 2], gap="large")
    a.dataframe(tables.cox_display(result.cox_models.table), hide_index=True, width="stretch")
    forest = figs.forest(result, screen=True)
    figs.show(forest, key="forest", container=b, height=figs.forest_height(forest))

if result.sensitivity is not None:
    sens = result.sensitivity
    sens_box.dataframe(tables.survival_display(sens, labels, s.survival.horizons), hide_index=True, width="stretch")
    sens_p = figure_text.labelled_p(sens.logrank.p, scope=sens.label)
    sens_box.markdown(f"**{fmt.md_text(sens_p)}; {fmt.md_text(tables.hr_text(sens.cox.table, labels=labels))}**")

if result.ninety_day is not None and len(result.ninety_day):
    st.subheader("90-day mortality")
    st.dataframe(tables.ninety_day_display(result.ninety_day, labels), hide_index=True, width="stretch")

for w in result.warnings:
    st.caption(f"Note: {fmt.md_text(w)}")
