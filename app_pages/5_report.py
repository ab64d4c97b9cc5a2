"""Page 5 - Report: the one-slide summary and every download."""
import streamlit as st

from board import cached, fmt, state, tables
from pannet_core.errors import PanNetError
from pannet_core.figures import style as figures_style
from pannet_core.report import export

st.title("Report")
state.show_messages()  # messages queued by a widget callback (app.py shows them first when it runs)
s = state.settings()
result = cached.result_or_stop()

figs = cached.result_figures(result)
key = cached.stage_key(s)
fp = state.table().fingerprint
can_render = export.browser_available()
if not can_render:
    try:
        export.require_browser()
    except PanNetError as exc:
        st.warning(fmt.md_text("PNG and PDF export is switched off on this computer. " + exc.message))


def _png(name):
    fig = figs[name]
    w, h = figures_style.export_size(fig)
    return lambda: cached.png_bytes(name, key, fp, fig, w, h)


def _pdf(name):
    fig = figs[name]
    w, h = figures_style.export_size(fig)
    return lambda: cached.pdf_bytes(name, key, fp, fig, w, h)


st.subheader("Tumour-board summary slide")
slide = figs.get("summary_slide")
if slide is not None:
    w, h = figures_style.export_size(slide)
    if can_render:  # the preview is the exported PNG itself
        try:
            st.image(cached.png_bytes("summary_slide", key, fp, slide, w, h), width="stretch")
        except PanNetError as exc:
            st.error(fmt.md_text(exc.message))
    else:
        st.plotly_chart(slide, width="stretch", height=int(1100 * h / w), key="summary_slide",
                        config=export.plotly_config("summary_slide", slide))
    a, b, _ = st.columns([1, 1, 3])
    a.download_button("Slide as PNG", _png("summary_slide"), file_name="summary_slide.png", mime="image/png",
                      on_click="ignore", disabled=not can_render, type="primary", icon=":material/image:",
                      key="dl_slide_png")
    b.download_button("Slide as PDF", _pdf("summary_slide"), file_name="summary_slide.pdf",
                      mime="application/pdf", on_click="ignore", disabled=not can_render,
                      icon=":material/picture_as_pdf:", key="dl_slide_pdf")

FIGURE_NAMES = {"unmatched": "Kaplan-Meier, unmatched", "matched": "Kaplan-Meier, matched",
                "sensitivity": "Kaplan-Meier, sensitivity analysis",
                "love_plot": "Love plot (balance)", "ps_overlap": "Propensity-score overlap",
                "consort": "CONSORT flow", "forest": "Forest plot (Cox)"}
st.subheader("Figures (PNG)")
names = [n for n in figs if n != "summary_slide"]
cols = st.columns(3)
for i, name in enumerate(names):
    label = FIGURE_NAMES.get(name.split("_", 2)[-1] if name.startswith("km_") else name, name.replace("_", " "))
    cols[i % 3].download_button(label, _png(name), file_name=f"{name}.png", mime="image/png",
                                on_click="ignore", disabled=not can_render, icon=":material/image:",
                                key=f"dl_png_{name}")

st.subheader("Tables and settings")
cols = st.columns(3)
if result.table1 is not None:
    cols[0].download_button("Table 1 (CSV)", lambda: tables.table1_csv(result), file_name="table1.csv",
                            mime="text/csv", on_click="ignore", icon=":material/table:", key="dl_t1_csv")
    cols[1].download_button("Table 1 (XLSX)", lambda: tables.table1_xlsx(result), file_name="table1.xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            on_click="ignore", icon=":material/table:", key="dl_t1_xlsx")
cohort_csv = export.matched_cohort_csv(result)
cols[2].download_button("Matched cohort (CSV)", cohort_csv, file_name="matched_cohort.csv", mime="text/csv",
                        on_click="ignore", icon=":material/groups:", key="dl_cohort")
cols[0].download_button("Settings (JSON)", s.to_json(), file_name="settings.json", mime="application/json",
                        on_click="ignore", icon=":material/settings:", key="dl_settings")
st.caption("The settings file loads back on the Data page and runs headless: "
           "`python -m pannet_core run --data DATA.csv --settings settings.json --out results/`.")

st.subheader("Everything in one zip")
entry = state.table()
st.download_button("Download all (zip)", lambda: export.bundle_zip(result, entry.frame, figures=can_render),
                   file_name="pannet_board_report.zip", mime="application/zip", on_click="ignore", type="primary",
                   icon=":material/folder_zip:", key="dl_zip")
if not can_render:
    st.caption("Without a browser the zip holds the tables, cohort and settings but no figures.")
