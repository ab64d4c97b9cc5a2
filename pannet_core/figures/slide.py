"""The one-slide tumour-board summary (16:9)."""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from pannet_core.figures import text
from pannet_core.figures.km import GROUPS, add_km_traces, apply_km_axes, risk_times_for
from pannet_core.figures.style import (
    BASE_FONT,
    COLORS,
    NEUTRAL,
    apply_base_layout,
    endpoint_name,
    fmt_ci,
    fmt_p,
    group_labels,
    is_number,
    set_export_size,
)

CAVEAT = "Observational, propensity-matched comparison; residual confounding possible."
SYNTHETIC = "Synthetic demonstration data – not real patients."


def is_synthetic(result: Any) -> bool:
    """Whether the analysed data are the synthetic demo cohort (flag set by ``demo.py`` or the settings name)."""
    attrs = getattr(getattr(result, "data", None), "attrs", {}) or {}
    if attrs.get("synthetic"):
        return True
    name = (getattr(getattr(result, "settings", None), "name", "") or "").lower()
    if "demo" in name or "synthetic" in name:
        return True
    data = getattr(result, "data", None)
    if isinstance(data, pd.DataFrame) and "synthetic" in data and len(data):  # the demo cohort's own column
        if data["synthetic"].astype(str).str.strip().str.lower().isin(("true", "1", "yes")).all():
            return True  # read back from the demo CSV the flag is text
    return any("synthetic" in str(w).lower() for w in getattr(result, "warnings", ()) or ())


def mark_synthetic(fig: go.Figure, result: Any) -> go.Figure:
    """Add the small "Synthetic demonstration data" footer to ``fig`` when ``result`` is the demo cohort's."""
    return text.add_synthetic_footer(fig) if is_synthetic(result) else fig


def _horizon(settings: Any) -> float:
    hs = tuple(getattr(getattr(settings, "survival", None), "horizons", ()) or ())
    if 5.0 in hs or not hs:
        return 5.0
    return float(hs[-1])


def _matched_counts(result) -> str:
    """The slide's count line, in the vocabulary of docs/methods.md (sets, pairs, distinct patients)."""
    m = result.settings.matching
    pool = f"from {result.n_treated} treated and {result.n_control} control patients"
    if m.ratio == 1 and not m.replace:  # sets = pairs, every patient once
        return f"Matched pairs: <b>{result.n_sets}</b> ({pool})"
    return (f"Matched sets: <b>{result.n_sets}</b> ({result.n_pairs} pairs; {result.n_matched_treated} treated and "
            f"{result.n_matched_control} distinct control patients, {pool})")


def summary_slide(result: Any, *, synthetic: bool | None = None, title: str | None = None) -> go.Figure:
    """One 16:9 figure for the tumour board.

    Matched Kaplan-Meier curves with numbers at risk (left); hazard ratio with
    confidence interval, survival at 5 years and median survival per group,
    matched numbers and the largest SMD after matching (right); a caveat box.

    Parameters
    ----------
    result : pipeline.AnalysisResult
    synthetic : bool, optional
        Add "synthetic data" to the caveat; default: detected from the result.
    title : str, optional
        Slide title (default: "<treated> vs <control>: <endpoint>").
    """
    s = result.settings
    labels = group_labels(s)
    endpoint = endpoint_name(s)
    comp = result.matched
    conf = getattr(s.survival, "conf_level", 0.95)
    horizon = _horizon(s)
    times = risk_times_for(comp, list(s.survival.risk_times) or None)
    end = max(float(times[-1]), max(float(getattr(comp, f"km_{g}").table["time"].max()) for g in GROUPS))
    fig = go.Figure()
    add_km_traces(fig, comp, labels=labels, xaxis="x", yaxis="y", risk_xaxis="x2", risk_yaxis="y2", times=times,
                  show_ci=True, show_median=True, horizon_marks=(horizon,), conf_level=conf, font_size=BASE_FONT)
    apply_km_axes(fig, times=times, end=end, endpoint=endpoint, time_label="Years", labels=labels)
    left = [0.0, 0.56]
    fig.update_layout(xaxis=dict(domain=left, anchor="y"), yaxis=dict(domain=[0.34, 0.82], anchor="x"),
                      xaxis2=dict(domain=left, anchor="y2", matches="x"), yaxis2=dict(domain=[0.06, 0.22], anchor="x2"))
    fig.add_annotation(text="<b>Number at risk</b>", xref="paper", yref="paper", x=0, y=0.225, xanchor="left",
                       yanchor="bottom", showarrow=False, font=dict(size=BASE_FONT))
    # ---- right panel
    x0 = 0.62
    top = 0.83  # the right panel's first line, level with the top of the plot
    ci_pct = f"{conf * 100:g}%"
    row = comp.cox.table.iloc[0]
    p = getattr(comp.logrank, "p", None)
    strat = getattr(getattr(result, "logrank_pair_stratified", None), "p", None)
    multi = text.multivariable_treated(result)
    if multi is not None:  # study 001: the multivariable Cox model of all analysed patients is the main analysis
        hr_label = f"HR {text.hr_direction(labels)}, multivariable Cox (all patients)"
        shown = multi
    else:
        hr_label = f"HR {text.hr_direction(labels)}, matched cohort"
        shown = row
    hr_txt = f"{float(shown['hr']):.2f}" if is_number(shown["hr"]) else "n/a"
    ci_txt = fmt_ci(shown["hr"], shown["lower"], shown["upper"])[len(hr_txt) + 1:].strip("()")
    fig.add_annotation(text=hr_label, x=x0, y=top, xref="paper", yref="paper", xanchor="left", yanchor="top",
                       showarrow=False, font=dict(size=BASE_FONT, color=NEUTRAL["muted"]), name="hr_label")
    fig.add_annotation(text=f"<b>{hr_txt}</b>", x=x0, y=top - 0.045, xref="paper", yref="paper", xanchor="left",
                       yanchor="top", showarrow=False, font=dict(size=64, color=NEUTRAL["ink"]), name="hr")
    secondary = f"<span style='color:{NEUTRAL['muted']}'>{{}} (secondary)</span>"
    tests = [f"{ci_pct} CI {ci_txt}"]
    if multi is not None:
        tests.append(f"Wald {fmt_p(multi.get('p'))} (primary)")
        matched_hr = fmt_ci(row["hr"], row["lower"], row["upper"])
        tests.append(secondary.format(f"matched HR {matched_hr},<br>{text.labelled_p(p, scope='matched groups')}"))
    else:
        tests.append(f"{text.labelled_p(p, scope='matched groups')} (primary)")
        if is_number(strat):
            tests.append(secondary.format(f"stratified on matched sets {fmt_p(strat)}"))
    fig.add_annotation(text="<br>".join(tests), x=x0 + 0.115, y=top - 0.06, xref="paper", yref="paper",
                       xanchor="left", yanchor="top", align="left", showarrow=False, font=dict(size=BASE_FONT),
                       name="tests")
    # group table
    header = ["", "n", "Events", f"{horizon:g}-year survival, %", "Median, years"]
    cells: list[list[str]] = [[], [], [], [], []]
    colors = []
    for g in GROUPS:
        km = getattr(comp, f"km_{g}")
        at = km.survival_at([horizon])
        est, lo, hi = km.median()
        cells[0].append(f"<b>{labels[g]}</b>")
        cells[1].append(str(int(km.n)))
        cells[2].append(str(int(km.events)))
        ci = fmt_ci(at["surv"].iloc[0], at["lower"].iloc[0], at["upper"].iloc[0], digits=0, scale=100)
        cells[3].append(ci.replace("not reached", "n/a"))
        cells[4].append(fmt_ci(est, lo, hi, digits=1))
        colors.append(COLORS[g])
    fig.add_trace(go.Table(domain=dict(x=[x0, 1.0], y=[0.45, 0.63]), columnwidth=[2.5, 0.7, 0.95, 2.2, 2.0],
                           header=dict(values=[f"<b>{h}</b>" for h in header], align="left", height=34,
                                       fill_color="#F0F0F0", line_color="white",
                                       font=dict(size=BASE_FONT - 2, color=NEUTRAL["ink"])),
                           cells=dict(values=cells, align="left", height=40, fill_color="white",
                                      line_color="#DDDDDD",
                                      font=dict(size=BASE_FONT, color=[colors] + [[NEUTRAL["ink"]] * 2] * 4)),
                           name="group_table"))
    # matching facts
    facts = [_matched_counts(result), text.balance_verdict(result.balance, s.balance.threshold)]
    cal = getattr(result.matching, "caliper_width", None)
    m = s.matching
    scale = {"ps": "× SD(PS)", "logit": "× SD(logit PS)",
             "ps_absolute": "(absolute PS difference)"}.get(m.caliper_scale, m.caliper_scale)
    if m.caliper is None:
        facts.append(f"1:{m.ratio} nearest-neighbour matching, no caliper")
    else:
        width = f" = {float(cal):.4f}" if is_number(cal) and m.caliper_scale != "ps_absolute" else ""
        facts.append(f"1:{m.ratio} nearest-neighbour matching, caliper {m.caliper:g} {scale}{width}")
    fig.add_annotation(text=f"Survival in % and median in years, each with {ci_pct} CI; NR = not reached.<br>"
                            + text.km_key((horizon,), conf).replace("; ", ";<br>"), name="table_note", align="left",
                       x=x0, y=0.445, xref="paper", yref="paper", xanchor="left", yanchor="top", showarrow=False,
                       font=dict(size=BASE_FONT - 3, color=NEUTRAL["muted"]))
    fig.add_annotation(text="<br>".join(facts), x=x0, y=0.33, xref="paper", yref="paper", xanchor="left",
                       yanchor="top", align="left", showarrow=False, font=dict(size=BASE_FONT), name="facts")
    synth = is_synthetic(result) if synthetic is None else synthetic
    caveat = CAVEAT + (f"<br><b>{SYNTHETIC}</b>" if synth else "")
    fig.add_annotation(text=caveat, x=x0, y=0.06, xref="paper", yref="paper", xanchor="left", yanchor="bottom",
                       align="left", showarrow=False, font=dict(size=BASE_FONT - 1, color="#5A4A00"),
                       bgcolor="#FFF6D5", bordercolor="#E6C860", borderwidth=1.5, borderpad=10, name="caveat")
    slide_title = title or f"<b>{labels['treated']} vs {labels['control'].lower()}</b>: {endpoint.lower()}"
    sub = text.summary_sentence(result).replace("; ", ";<br>", 1)
    apply_base_layout(fig,
        title=dict(text=(f"{slide_title}<br>"
                         f"<span style='font-size:{BASE_FONT + 2}px;color:{NEUTRAL['muted']}'>{sub}</span>"),
                   x=0.015, xanchor="left", y=0.975, yanchor="top", font=dict(size=BASE_FONT + 12)),
        legend=dict(orientation="h", x=0, xanchor="left", y=0.835, yanchor="bottom", font=dict(size=BASE_FONT)),
        margin=dict(l=60, r=50, t=40, b=30), showlegend=True)
    if synth:
        text.add_synthetic_footer(fig)
    return set_export_size(fig, 1920, 1080)
