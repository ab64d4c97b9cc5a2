"""Page 2 - Eligibility: every criterion switchable and editable, live CONSORT flow, excluded patients."""
import streamlit as st

from board import cached, figs, fmt, state
from pannet_core import figures
from pannet_core.cohort import eligibility
from pannet_core.io import schema
from pannet_core.settings import Rule

st.title("Eligibility")
state.show_messages()  # messages queued by a widget callback (app.py shows them first when it runs)

s = state.settings()
if not s.is_pannet:
    st.info("These settings describe a cohort that is already one row per patient (a 'columns' block): "
            "there are no eligibility criteria to apply.")
    st.stop()

catalogue = {c["name"]: c for c in eligibility.rule_catalogue()}
entry = state.table()
date_columns = [f.name for f in schema.FIELDS if f.type == "date"]


def _set_rule(i: int, change):
    def setter(s, value):
        rules = list(s.eligibility)
        rules[i] = change(rules[i], value)
        eligibility.check_rules(rules)  # a bad value raises SettingsError, shown by state.update
        return s.replace(eligibility=tuple(rules))
    return setter


def _param_widget(i: int, rule: Rule, spec: dict, container) -> None:
    name, kind = spec["name"], spec["kind"]
    value = rule.params.get(name, spec["default"])
    key = state.key_for("eligibility", i, rule.name, name)
    setter = _set_rule(i, lambda r, v, n=name: Rule(r.name, r.enabled, {**r.params, n: v}))
    label = spec["description"]
    if kind == "year":
        state.control(container.number_input, label, key, int(value), setter, min_value=1900, max_value=2100,
                      step=1, disabled=not rule.enabled)
    elif kind == "levels":
        state.control(container.multiselect, label, key, list(value), setter, options=list(spec["choices"]),
                      disabled=not rule.enabled)
    elif kind == "column":
        options = list(dict.fromkeys([value] + date_columns))
        state.control(container.selectbox, label, key, value, setter, options=options, disabled=not rule.enabled)
    else:  # text_list
        present = []
        if entry is not None and "centre" in entry.frame:
            present = sorted(map(str, entry.frame["centre"].dropna().unique()))
        options = list(dict.fromkeys(list(value) + present))
        state.control(container.multiselect, label, key, list(value), setter, options=options,
                      disabled=not rule.enabled)


def _rule_box(i: int, rule: Rule) -> None:
    spec = catalogue.get(rule.name)
    if spec is None:
        st.warning(f"Unknown criterion {fmt.md_text(repr(rule.name))} in the settings.")
        return
    box = st.container(border=True)
    state.control(box.toggle, f"**{i + 1}. {spec['label']}**", state.key_for("eligibility", i, rule.name, "enabled"),
                  rule.enabled, _set_rule(i, lambda r, v: Rule(r.name, bool(v), dict(r.params))),
                  help=spec["description"])
    for p in spec["params"]:
        _param_widget(i, rule, p, box)


st.subheader("Criteria (applied in this order)")
half = (len(s.eligibility) + 1) // 2
left, right = st.columns(2, gap="large")
for i, rule in enumerate(s.eligibility):
    with left if i < half else right:
        _rule_box(i, rule)
unused = [n for n in catalogue if n not in {r.name for r in s.eligibility}]
if unused:
    with st.expander("Add a criterion"):
        add = st.selectbox("Criterion", unused, format_func=lambda n: catalogue[n]["label"], key="w.elig.add")
        if st.button("Add", icon=":material/add:"):
            state.update(lambda s: s.replace(eligibility=tuple(s.eligibility) + (Rule(add, True, {}),)))
            st.rerun()

prepared, problem = cached.current_prepared()
st.subheader("CONSORT flow")
if prepared is None:
    st.error(fmt.md_text(problem))
    st.stop()
result, _ = cached.current_result()
flow = prepared.flow
if flow is not None:
    if result is not None:
        n, n_t, n_c = result.n, result.n_treated, result.n_control
        fig = figs.consort(result, screen=True)
    else:  # no matched cohort (e.g. nothing inside the caliper): stage 1 has no counts of its own
        n, n_t = len(prepared.frame), int(prepared.frame["treated"].sum())
        n_c = n - n_t
        fig = figures.consort_figure(flow, n_t, n_c)
    st.caption(f"{int(flow['n_in'].iloc[0])} patients in the file, {n} analysed ({n_t} treated, {n_c} controls).")
    figs.show(fig, key="consort", height=figs.consort_height(fig))

st.subheader("Excluded patients")
excluded = prepared.excluded
if excluded is None or len(excluded) == 0:
    st.success("No patient was excluded.")
else:
    counts = (flow.loc[flow["n_excluded"] > 0, ["label", "n_excluded"]]
              .rename(columns={"label": "Criterion", "n_excluded": "Patients"}))
    c1, c2 = st.columns([2, 3], gap="large")
    c1.markdown(f"**{len(excluded)} excluded**, by criterion")
    c1.dataframe(counts, hide_index=True, width="stretch")
    c2.markdown("**Every excluded patient with the reason**")
    c2.dataframe(excluded, hide_index=True, width="stretch", height=360,
                 column_config={"patient_id": "Patient", "step": "Criterion", "reason": "Reason"})
