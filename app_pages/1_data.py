"""Page 1 - Data: upload, presets, saved settings, column mapping, privacy check, validation."""
import streamlit as st

from board import data, fmt, state
from board.sidebar import preset_label
from pannet_core.errors import PanNetError
from pannet_core.io import schema
from pannet_core.settings import preset_names

st.title("Data")
state.show_messages()  # messages queued by a widget callback (app.py shows them first when it runs)

left, right = st.columns([3, 2], gap="large")

# ------------------------------------------------------------------ patient table
with left:
    st.subheader("Patient table")
    upload = st.file_uploader("Upload a registry export (CSV or XLSX)", type=list(data.SUFFIXES), key="upload_table",
                              help="One row per patient. Headers in English or Swedish are recognised. "
                                   "The file stays in this browser session's memory; nothing is saved on disk.")
    if upload is not None and st.session_state.get("pnb_upload_id") != upload.file_id:
        st.session_state["pnb_upload_id"] = upload.file_id
        with st.spinner(f"Reading {fmt.md_text(upload.name)} ...", show_time=True):
            loaded = data.handle_upload(upload.getvalue(), upload.name)
        if loaded:
            state.flash("success", f"Loaded {upload.name}: {len(state.table().frame)} rows.")
            st.rerun()  # the sidebar and banner were drawn for the previous table
    injected = st.session_state.pop(data.INJECT, None)  # (filename, bytes) from a test or a script
    if injected is not None:
        data.handle_upload(injected[1], injected[0])
    if st.session_state.get(data.UPLOAD_ERROR):
        st.error(fmt.md_text(st.session_state[data.UPLOAD_ERROR]), icon=":material/error:")
    entry = state.table()
    if entry is not None and not entry.is_demo:
        st.button("Use the synthetic demonstration cohort instead", on_click=data.use_demo)

    c1, c2 = st.columns(2)
    template_csv, template_xlsx = data.templates()
    c1.download_button("Template (CSV)", template_csv, file_name="pannet_template.csv",
                       mime="text/csv", on_click="ignore", icon=":material/download:")
    c2.download_button("Template (XLSX)", template_xlsx, file_name="pannet_template.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       on_click="ignore", icon=":material/download:")

# ------------------------------------------------------------------ settings
with right:
    st.subheader("Study settings")
    names = preset_names()
    current = st.session_state.get(state.PRESET)
    key = "w.data.preset"
    st.session_state.setdefault(key, current if current in names else names[0])
    chosen = st.radio("Preset", names, key=key, format_func=preset_label)
    if st.button("Apply preset", type="primary", icon=":material/done_all:"):
        state.apply_preset(chosen)
        st.rerun()
    st.caption(f"Active: **{preset_label(st.session_state.get(state.PRESET))}**")
    saved = st.file_uploader("Load a saved settings file (JSON)", type=["json"], key="upload_settings")
    if saved is not None and st.session_state.get("pnb_settings_id") != saved.file_id:
        st.session_state["pnb_settings_id"] = saved.file_id
        if data.handle_settings_upload(saved.getvalue(), saved.name):
            state.flash("success", f"Settings loaded from {saved.name}.")
            st.rerun()  # the sidebar was drawn for the previous settings
    injected = st.session_state.pop(data.INJECT_SETTINGS, None)
    if injected is not None:
        data.handle_settings_upload(injected[1], injected[0])
    if st.session_state.get(data.SETTINGS_ERROR):
        st.error(fmt.md_text(st.session_state[data.SETTINGS_ERROR] + " The current settings are unchanged."),
                 icon=":material/error:")
    st.download_button("Save current settings (JSON)", state.settings().to_json(), file_name="pannet_settings.json",
                       mime="application/json", on_click="ignore", icon=":material/save:")

entry = state.table()
rejected = st.session_state.get(data.REJECTED)

# ------------------------------------------------------------------ privacy
st.subheader("Privacy check")
ident = data.identity_columns(entry)
if ident:
    names_found = [c for c, _kind, _why in ident]
    st.warning("These columns look like a personal identity number or a patient name: "
               + "; ".join(f"**{c}** ({why})" for c, _kind, why in ident)
               + ". They are not needed for the analysis: drop them before you go on.",
               icon=":material/privacy_tip:")
    if st.button("Drop these columns", icon=":material/delete:", key="drop_identity"):
        data.drop_identity(names_found)
        st.rerun()
    st.caption("Dropping works on this session's copy of the table; the uploaded file itself is not changed.")
else:
    dropped = f" Dropped: {', '.join(entry.dropped)}." if entry.dropped else ""
    st.success("No column looks like a personal identity number or a name." + dropped)

# ------------------------------------------------------------------ column mapping
mapping_for = rejected if rejected is not None else entry
if mapping_for.unmapped:
    st.subheader("Column mapping")
    st.write("The data dictionary does not recognise these headers. Map each to a dictionary field, "
             "or leave it ignored.")
    fields = list(schema.CANONICAL_COLUMNS)
    choices = {}
    cols = st.columns(3)
    if rejected is not None:
        st.caption(f"Headers of the file that was not loaded ({fmt.md_text(rejected.filename)}).")
    for i, header in enumerate(mapping_for.unmapped):
        choices[header] = cols[i % 3].selectbox(f"'{fmt.md_text(header)}'", [""] + fields, key=f"w.map.{header}",
                                                format_func=lambda v: v or "(ignore)")
    if st.button("Apply mapping", icon=":material/link:"):
        if data.apply_column_map(choices):
            st.rerun()
        st.error(fmt.md_text(st.session_state.get(data.UPLOAD_ERROR, "The mapping could not be applied.")))
for note in entry.notes:
    st.caption(fmt.md_text(note))

# ------------------------------------------------------------------ validation
st.subheader("Validation report")
checked = rejected if rejected is not None else entry
if rejected is not None:
    st.caption(f"Of the file that was **not** loaded: {fmt.md_text(rejected.filename)}. The analysis still uses "
               f"{'the synthetic demonstration cohort' if entry.is_demo else fmt.md_text(entry.filename)}.")
try:
    problems = data.validation_problems(state.settings().to_json(), checked.fingerprint, checked.frame,
                                        state.settings())
except PanNetError as exc:
    st.error(fmt.md_text(exc.message))
else:
    n_err = int((problems["severity"] == "error").sum())
    n_warn = len(problems) - n_err
    c1, c2, c3 = st.columns(3)
    c1.metric("Rows", len(checked.frame))
    c2.metric("Errors", n_err)
    c3.metric("Warnings", n_warn)
    if problems.empty:
        st.success("No problems found: every row is usable.")
    else:
        (st.error if n_err else st.warning)(
            f"{n_err} error(s) and {n_warn} warning(s). Each line says the data row (1 = the first row under "
            "the header), the column, the value and "
            "how to fix it.")
        st.dataframe(problems, hide_index=True, width="stretch",
                     column_config={"row": st.column_config.NumberColumn(
                         "Data row", format="%d",
                         help="Data row 1 is the first row under the header (row 2 in Excel)."),
                                    "severity": "Severity", "column": "Column", "value": "Value",
                                    "problem": st.column_config.TextColumn("Problem", width="large"),
                                    "fix": st.column_config.TextColumn("Fix", width="large")})

with st.expander(f"Preview: first 20 of {len(entry.frame)} rows"):
    st.dataframe(entry.frame.head(20), width="stretch")
