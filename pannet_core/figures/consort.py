"""CONSORT-style flow diagram: boxes and arrows with counts, exclusions to the side."""
from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go

from pannet_core.errors import PanNetError
from pannet_core.figures.style import BASE_FONT, COLORS, DEFAULT_LABELS, NEUTRAL, apply_base_layout, set_export_size


def _wrap(text: str, width: int) -> str:
    return "<br>".join(textwrap.wrap(str(text), width=width)) or str(text)


def _box(fig: go.Figure, cx: float, cy: float, w: float, h: float, text: str, *, color: str = NEUTRAL["ink"],
         fill: str = "white", name: str = "box", size: int = BASE_FONT) -> tuple[float, float, float, float]:
    fig.add_shape(type="rect", x0=cx - w / 2, x1=cx + w / 2, y0=cy - h / 2, y1=cy + h / 2,
                  line=dict(color=color, width=2), fillcolor=fill, layer="below", name=name)
    fig.add_annotation(x=cx, y=cy, text=text, showarrow=False, font=dict(size=size), align="center", name=name)
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def _arrow(fig: go.Figure, x0: float, y0: float, x1: float, y1: float) -> None:
    fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                       showarrow=True, arrowhead=2, arrowsize=1.3, arrowwidth=2, arrowcolor=NEUTRAL["ink"],
                       name="arrow")


def consort_figure(flow: pd.DataFrame, n_treated: int, n_control: int, n_pairs: int | None = None, *,
                   labels: dict[str, str] | None = None, n_matched_control: int | None = None,
                   title: str | None = None) -> go.Figure:
    """Patient flow from the registry to the analysed and matched groups.

    Parameters
    ----------
    flow : DataFrame
        Eligibility steps in order: ``step, n_in, n_excluded, n_out`` (first ``n_in`` = every patient);
        an optional ``label`` column (why patients were excluded) is printed instead of ``step``.
    n_treated, n_control : int
        Analysed patients per group.
    n_pairs : int, optional
        Matched treated patients = matched sets (``result.n_sets``; = pairs only with 1:1 matching).
    n_matched_control : int, optional
        Distinct matched controls (``result.n_matched_control``) when it differs from ``n_pairs``
        (ratio > 1, replacement); default ``n_pairs``.
    labels : dict, optional
        Group display names.
    """
    need = {"step", "n_in", "n_excluded", "n_out"}
    if flow is None or not need <= set(flow.columns) or len(flow) == 0:
        raise PanNetError("The flow diagram needs the eligibility steps (step, n_in, n_excluded, n_out).",
                          "It exists only for Pan-NET settings with eligibility rules; pass result.flow.")
    labels = {**DEFAULT_LABELS, **(labels or {})}
    f = flow.reset_index(drop=True)
    n_all = int(f["n_in"].iloc[0])
    n_final = int(f["n_out"].iloc[-1])
    excl = f.loc[pd.to_numeric(f["n_excluded"], errors="coerce").fillna(0) > 0]
    fig = go.Figure()
    # geometry in a 0..100 x 0..H box
    k = len(excl)
    step_h = 8.5
    H = 40 + max(k, 1) * step_h + (30 if n_pairs is not None else 0)
    spine_x, main_w, main_h = 32.0, 40.0, 8.0
    y = H - 6
    _box(fig, spine_x, y, main_w, main_h, f"<b>Patients in the file</b><br>n = {n_all}", name="box_all")
    top_of_spine = y - main_h / 2
    y -= main_h / 2 + 4
    for _, row in excl.iterrows():
        y -= step_h / 2
        what = row["label"] if "label" in f.columns and isinstance(row["label"], str) and row["label"] else row["step"]
        text = f"{_wrap(what, 48)}<br><b>excluded n = {int(row['n_excluded'])}</b>"
        lines = text.count("<br>") + 1
        bh = min(step_h - 1.0, 2.6 * lines + 1.6)
        _box(fig, 78, y, 42, bh, text, fill=NEUTRAL["box"], color=NEUTRAL["muted"], name="box_excluded",
             size=BASE_FONT - 1)
        _arrow(fig, spine_x, y, 58, y)
        y -= step_h / 2
    y -= 5
    _box(fig, spine_x, y, main_w, main_h, f"<b>Analysed cohort</b><br>n = {n_final}", name="box_cohort")
    _arrow(fig, spine_x, top_of_spine, spine_x, y + main_h / 2)
    split_y = y - main_h / 2
    gy = y - 17
    g_w = 36.0
    gx = {"treated": 20.0, "control": 62.0}
    counts = {"treated": int(n_treated), "control": int(n_control)}
    for g in ("treated", "control"):
        _box(fig, gx[g], gy, g_w, main_h, f"<b>{labels[g]}</b><br>n = {counts[g]}", color=COLORS[g],
             name=f"box_{g}")
    mid_y = (split_y + gy + main_h / 2) / 2
    fig.add_shape(type="line", x0=spine_x, x1=spine_x, y0=split_y, y1=mid_y, line=dict(color=NEUTRAL["ink"], width=2))
    fig.add_shape(type="line", x0=gx["treated"], x1=gx["control"], y0=mid_y, y1=mid_y,
                  line=dict(color=NEUTRAL["ink"], width=2))
    for g in gx:
        _arrow(fig, gx[g], mid_y, gx[g], gy + main_h / 2)
    if n_pairs is not None:
        my = gy - 20
        mcount = {"treated": int(n_pairs),
                  "control": int(n_matched_control if n_matched_control is not None else n_pairs)}
        for g in gx:
            un = counts[g] - mcount[g]
            _box(fig, gx[g], my, g_w, main_h + 2,
                 f"<b>Matched</b> n = {mcount[g]}<br>not matched n = {max(un, 0)}", color=COLORS[g],
                 name=f"box_matched_{g}")
            _arrow(fig, gx[g], gy - main_h / 2, gx[g], my + (main_h + 2) / 2)
        y_end = my - (main_h + 2) / 2
    else:
        y_end = gy - main_h / 2
    height = int(max(700, min(1800, 9.5 * (H - y_end + 3) + 100)))
    apply_base_layout(fig,
        title=dict(text=title or "Patient flow", x=0.01, xanchor="left"),
        xaxis=dict(range=[0, 100], visible=False, fixedrange=True),
        yaxis=dict(range=[y_end - 3, H], visible=False, fixedrange=True),
        margin=dict(l=20, r=20, t=80, b=20), showlegend=False)
    return set_export_size(fig, 1400, height)
