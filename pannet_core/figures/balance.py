"""Covariate balance figures: love plot (|SMD| before/after) and propensity-score overlap."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pannet_core.errors import PanNetError
from pannet_core.figures.style import (
    BASE_FONT,
    COLORS,
    DEFAULT_LABELS,
    NEUTRAL,
    apply_base_layout,
    is_number,
    pretty_variable,
    set_export_size,
)


def love_plot(balance: pd.DataFrame, threshold: float = 0.1, *, title: str | None = None) -> go.Figure:
    """Absolute standardised mean difference per covariate before and after matching.

    Parameters
    ----------
    balance : DataFrame
        ``balance.smd_table`` output: ``variable, smd_before, smd_after`` (absolute SMDs as fractions).
    threshold : float
        Draw a dashed vertical line here (0.1 = the usual 10 % rule).
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Rows sorted by SMD before matching, largest on top.
    """
    need = {"variable", "smd_before", "smd_after"}
    if balance is None or not need <= set(balance.columns):
        raise PanNetError("The love plot needs a balance table with variable, smd_before and smd_after.",
                          "Pass result.balance from a finished analysis.")
    if len(balance) == 0:
        raise PanNetError("The balance table is empty, so there is nothing to plot.",
                          "Choose at least one covariate for the propensity model.")
    nums = love_numbers(balance, threshold)
    b, labels = nums["table"], nums["labels"]
    fig = go.Figure()
    # thin connectors before -> after
    fig.add_trace(go.Scatter(x=nums["connector_x"], y=nums["connector_y"], mode="lines",
                             line=dict(color="#BBBBBB", width=1.5), hoverinfo="skip", showlegend=False,
                             name="connector"))
    fig.add_trace(go.Scatter(x=b["smd_before"], y=labels, mode="markers", name="Before matching",
                             marker=dict(symbol="circle-open", size=14, color=NEUTRAL["before"],
                                         line=dict(width=3, color=NEUTRAL["before"])),
                             hovertemplate="%{y}<br>before: %{x:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=b["smd_after"], y=labels, mode="markers", name="After matching",
                             marker=dict(symbol="circle", size=14, color=NEUTRAL["after"],
                                         line=dict(width=1, color="white")),
                             hovertemplate="%{y}<br>after: %{x:.3f}<extra></extra>"))
    xmax = nums["xmax"]
    fig.add_vline(x=threshold, line=dict(color=NEUTRAL["ink"], width=2, dash="dash"), name="threshold")
    fig.add_annotation(x=threshold, y=1.0, xref="x", yref="paper", yanchor="bottom", text=f"{threshold:g}",
                       showarrow=False, font=dict(size=BASE_FONT - 2, color=NEUTRAL["muted"]))
    height = nums["height"]
    apply_base_layout(fig,
        title=dict(text=title or "Covariate balance", x=0.01, xanchor="left"),
        xaxis=dict(title="Absolute standardised mean difference", range=[0, xmax], ticks="outside",
                   showgrid=True, gridcolor=NEUTRAL["grid"], zeroline=False, showline=True, linewidth=1.5),
        yaxis=dict(title=None, categoryorder="array", categoryarray=labels, showgrid=True,
                   gridcolor="#F0F0F0", ticks="", automargin=True),
        legend=dict(orientation="h", x=1, xanchor="right", y=1.0, yanchor="bottom"),
        margin=dict(l=40, r=40, t=100, b=80), height=None)
    return set_export_size(fig, 1400, height)


def love_numbers(balance: pd.DataFrame, threshold: float = 0.1) -> dict[str, Any]:
    """Everything :func:`love_plot` draws that depends on ``balance``.

    ``table`` (variable, absolute SMDs before and after, sorted by SMD before, largest last),
    ``labels`` (row labels in that order), ``paired`` (per row: both SMDs are numbers),
    ``connector_x`` / ``connector_y`` (the before -> after connector lines of those rows, ``None``
    between lines), ``xmax`` (x axis end) and ``height`` (export height).
    Separate from the figure so the dashboard can tell which numbers a new matching changed
    (``board/matching_figures.py``).
    """
    b = balance[["variable", "smd_before", "smd_after"]].copy()
    b["smd_before"] = pd.to_numeric(b["smd_before"], errors="coerce").abs()
    b["smd_after"] = pd.to_numeric(b["smd_after"], errors="coerce").abs()
    b = b.sort_values("smd_before", ascending=True, kind="stable", na_position="first").reset_index(drop=True)
    labels = [pretty_variable(v) for v in b["variable"]]
    paired = [is_number(x0) and is_number(x1) for x0, x1 in zip(b["smd_before"], b["smd_after"])]
    cx, cy = [], []
    for lab, x0, x1, both in zip(labels, b["smd_before"], b["smd_after"], paired):
        if both:
            cx += [x0, x1, None]
            cy += [lab, lab, None]
    top = np.nanmax(np.r_[b["smd_before"].to_numpy(float), b["smd_after"].to_numpy(float), threshold])
    xmax = max(top * 1.08, threshold * 1.5, 0.2)
    return {"table": b, "labels": labels, "paired": paired, "connector_x": cx, "connector_y": cy, "xmax": xmax,
            "height": int(min(max(520, 170 + 46 * len(b)), 2400))}


def _mirror_counts(score: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(score, bins=edges)
    return counts


def ps_overlap(data: pd.DataFrame, *, labels: dict[str, str] | None = None, bins: int = 40,
               title: str | None = None) -> go.Figure:
    """Mirror histograms of the propensity score, before (left) and after (right) matching.

    Treated patients point up, controls down, in the group colours.

    Parameters
    ----------
    data : DataFrame
        ``result.data``: columns ``treated`` (bool), ``score`` (probability) and ``matched`` (bool).
    labels : dict, optional
        Group display names.
    bins : int
        Number of bins over the observed score range.
    """
    need = {"treated", "score", "matched"}
    if data is None or not need <= set(data.columns):
        raise PanNetError("The propensity-score figure needs columns treated, score and matched.",
                          "Pass result.data from a finished analysis.")
    labels = {**DEFAULT_LABELS, **(labels or {})}
    nums = overlap_numbers(data, bins)
    lo, hi, mids, width, top = nums["lo"], nums["hi"], nums["mids"], nums["width"], nums["top"]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=("Before matching", "After matching"))
    for panel in nums["panels"]:
        col, group, sign, counts, n = (panel[k] for k in ("col", "group", "sign", "counts", "n"))
        fig.add_trace(go.Bar(x=mids, y=sign * counts, width=width * 0.95, marker=dict(color=COLORS[group],
                             line=dict(width=0)), name=f"{labels[group]}", legendgroup=group,
                             showlegend=col == 1, customdata=counts,
                             meta={"role": "ps", "group": group, "panel": "before" if col == 1 else "after", "n": n},
                             hovertemplate=(f"{labels[group]}<br>score %{{x:.3f}}<br>"
                                            "%{customdata} patients<extra></extra>")),
                      row=1, col=col)
        fig.add_annotation(text=overlap_count_text(labels, group, n), x=0.98, xanchor="right",
                           y=0.97 if sign > 0 else 0.03, yanchor="top" if sign > 0 else "bottom",
                           xref=f"x{'' if col == 1 else 2} domain", yref=f"y{'' if col == 1 else 2} domain",
                           showarrow=False, font=dict(color=COLORS[group], size=BASE_FONT))
    ticks = _nice_ticks(top)
    for col in (1, 2):
        fig.update_xaxes(title_text="Propensity score", range=[lo, hi], ticks="outside", showline=True,
                         linewidth=1.5, row=1, col=col)
        fig.update_yaxes(range=[-top * 1.12, top * 1.12], tickvals=[-t for t in ticks[::-1]] + ticks[1:],
                         ticktext=[str(t) for t in ticks[::-1]] + [str(t) for t in ticks[1:]],
                         zeroline=True, zerolinecolor=NEUTRAL["ink"], zerolinewidth=1.5, showgrid=True,
                         gridcolor=NEUTRAL["grid"], ticks="outside", row=1, col=col)
    fig.update_yaxes(title_text="Patients", row=1, col=1)
    apply_base_layout(fig,
        title=dict(text=title or "Propensity score overlap", x=0.01, xanchor="left"),
        barmode="overlay", bargap=0, legend=dict(orientation="h", x=1, xanchor="right", y=1.08, yanchor="bottom"),
        margin=dict(l=90, r=40, t=130, b=80))
    fig.update_annotations(font=dict(size=BASE_FONT + 2), selector=dict(text="Before matching"))
    fig.update_annotations(font=dict(size=BASE_FONT + 2), selector=dict(text="After matching"))
    return set_export_size(fig, 1800, 900)


def overlap_count_text(labels: dict[str, str], group: str, n: int) -> str:
    """The count written in a panel of :func:`ps_overlap` (``Treated, n = 40``)."""
    return f"{labels[group]}, n = {n}"


def overlap_numbers(data: pd.DataFrame, bins: int = 40) -> dict[str, Any]:
    """Everything :func:`ps_overlap` draws that depends on ``data``.

    ``lo``/``hi`` (score axis range), ``mids``/``width`` (bars), ``top`` (largest count) and
    ``panels``: one dict per bar trace in drawing order (``col`` 1 = before, 2 = after matching;
    ``group``, ``sign`` (+1 up, -1 down), ``counts`` per bin, ``n`` patients).  Separate from the
    figure so the dashboard can tell which numbers a new matching changed (``board/matching_figures.py``).
    """
    score = pd.to_numeric(data["score"], errors="coerce").to_numpy(dtype=float)
    treated = data["treated"].to_numpy(dtype=bool)
    matched = data["matched"].to_numpy(dtype=bool)
    ok = np.isfinite(score)
    if not ok.any():
        raise PanNetError("No patient has a propensity score.", "Check the propensity model covariates.")
    lo, hi = float(np.nanmin(score[ok])), float(np.nanmax(score[ok]))
    lo, hi = max(0.0, lo - 0.01), min(1.0, hi + 0.01)
    if hi - lo < 0.02:
        lo, hi = max(0.0, lo - 0.05), min(1.0, hi + 0.05)
    edges = np.linspace(lo, hi, bins + 1)
    panels = []
    top = 1
    for col, mask in ((1, ok), (2, ok & matched)):
        for group, sign, sel in (("treated", 1, treated), ("control", -1, ~treated)):
            counts = _mirror_counts(score[mask & sel], edges)
            top = max(top, int(counts.max()) if len(counts) else 1)
            panels.append({"col": col, "group": group, "sign": sign, "counts": counts, "n": int((mask & sel).sum())})
    return {"lo": lo, "hi": hi, "mids": (edges[:-1] + edges[1:]) / 2, "width": edges[1] - edges[0], "top": top,
            "panels": panels}


def _nice_ticks(top: int) -> list[int]:
    """0 and a few round counts up to ``top``."""
    raw = max(top, 1) / 4
    mag = 10 ** int(np.floor(np.log10(raw))) if raw >= 1 else 1
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return list(range(0, int(top) + 1, int(step)))
