"""Kaplan-Meier figure with a numbers-at-risk table (survminer conventions).

Step curves start at (0, 100 %), shaded confidence bands (one legend entry
toggles them), ``+`` marks at censoring times, y axis 0-100 %, x axis in years
with a tick every 1 or 2 years, and the numbers at risk printed under the plot
exactly below those ticks (a second row of the same figure sharing the x axis).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pannet_core.errors import PanNetError
from pannet_core.figures import text
from pannet_core.figures.style import (
    BASE_FONT,
    COLORS,
    DEFAULT_LABELS,
    NEUTRAL,
    apply_base_layout,
    fmt_ci,
    is_number,
    rgba,
    set_export_size,
)

GROUPS = ("treated", "control")


def tick_step(max_time: float) -> float:
    """Years between x ticks: 1 up to 8 years of follow-up, 2 up to 20, else 5."""
    if max_time <= 8:
        return 1.0
    if max_time <= 20:
        return 2.0
    return 5.0


def _km_of(comparison: Any, group: str):
    return getattr(comparison, f"km_{group}")


def _last_time(km) -> float:
    t = km.table["time"].to_numpy(dtype=float)
    return float(t.max()) if len(t) else 0.0


def risk_times_for(comparison: Any, risk_times: Sequence[float] | None = None,
                   max_time: float | None = None) -> np.ndarray:
    """The x tick positions (= numbers-at-risk columns) in years."""
    if risk_times is not None and len(risk_times) > 0:
        times = np.asarray(sorted({float(t) for t in risk_times}), dtype=float)
        if max_time is not None:
            times = times[times <= max_time + 1e-9]
        return times
    end = float(max_time) if max_time is not None else max(_last_time(_km_of(comparison, g)) for g in GROUPS)
    end = max(end, 1.0)
    step = tick_step(end)
    return np.arange(0.0, end + 1e-9, step)


def _step_xy(km) -> tuple[np.ndarray, np.ndarray]:
    tab = km.table
    x = np.concatenate([[0.0], tab["time"].to_numpy(dtype=float)])
    y = np.concatenate([[1.0], tab["surv"].to_numpy(dtype=float)]) * 100.0
    return x, y


def band_xy(km) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step-shaped confidence band of a group's curve, stopping where the bounds become undefined.

    Parameters
    ----------
    km : survival.KMResult
        The group's Kaplan-Meier estimate (its ``table`` has ``time``, ``lower`` and ``upper``).

    Returns
    -------
    x, upper, lower : numpy.ndarray
        Years from 0, and the upper and lower bound in % (both 100 at time 0).
    """
    tab = km.table
    t = tab["time"].to_numpy(dtype=float)
    lo = tab["lower"].to_numpy(dtype=float)
    hi = tab["upper"].to_numpy(dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    # keep the leading run of defined bounds (after the last event with surv 0 they are undefined)
    if not ok.all():
        first_bad = int(np.argmin(ok))
        t, lo, hi = t[:first_bad], lo[:first_bad], hi[:first_bad]
    x = np.concatenate([[0.0], t])
    return x, np.concatenate([[1.0], hi]) * 100.0, np.concatenate([[1.0], lo]) * 100.0


def horizon_points(km, group: str, *, labels: dict[str, str], horizon_marks: Sequence[float],
                   times: np.ndarray) -> tuple[list, list, list, list, list]:
    """A group's survival marks at the horizons: positions, error bars and hover texts.

    Parameters
    ----------
    km : survival.KMResult
        The group's Kaplan-Meier estimate.
    group : {"treated", "control"}
        Treated marks sit a little left of the horizon, control marks a little right.
    labels : dict
        Group display names (``labels[group]`` starts the hover text).
    horizon_marks : sequence of float
        Years to mark; horizons where the survival is undefined are left out.
    times : numpy.ndarray
        The x tick positions (:func:`risk_times_for`); the offset is 6 % of their step.

    Returns
    -------
    x, y, up, down, text : list
        Mark positions (years, %), error bar lengths above and below (%, 0 where a bound is
        undefined) and texts such as ``"Resected: 5-year 67 % (52 %–81 %)"``.
    """
    at = km.survival_at(list(horizon_marks))
    hx, hy, up, dn, txt = [], [], [], [], []
    offset = (times[1] - times[0]) * 0.06 if len(times) > 1 else 0.05
    for h, s, lo, u in zip(horizon_marks, at["surv"], at["lower"], at["upper"]):
        if not is_number(s):
            continue
        hx.append(float(h) + (-offset if group == "treated" else offset))
        hy.append(float(s) * 100)
        up.append((float(u) - float(s)) * 100 if is_number(u) else 0.0)
        dn.append((float(s) - float(lo)) * 100 if is_number(lo) else 0.0)
        txt.append(f"{labels[group]}: {h:g}-year {fmt_ci(s, lo, u, digits=0, scale=100, unit=' %')}")
    return hx, hy, up, dn, txt


def add_km_traces(fig: go.Figure, comparison: Any, *, labels: dict[str, str], xaxis: str = "x",
                  yaxis: str = "y", risk_xaxis: str = "x2", risk_yaxis: str = "y2", times: np.ndarray,
                  show_ci: bool = True,
                  show_median: bool = True, horizon_marks: Sequence[float] = (), conf_level: float = 0.95,
                  font_size: int = BASE_FONT, showlegend: bool = True) -> None:
    """Add curves, bands, censor marks, medians, horizon marks and the risk table to ``fig``.

    Used by :func:`km_figure` and by the summary slide, so both look the same.
    """
    ci_pct = f"{conf_level * 100:g}% CI"
    medians = {}
    for i, group in enumerate(GROUPS):
        km = _km_of(comparison, group)
        color = COLORS[group]
        name = f"{labels[group]} (n = {int(km.n)})"
        if show_ci:
            bx, bhi, blo = band_xy(km)
            fig.add_trace(go.Scatter(x=bx, y=bhi, mode="lines", line=dict(width=0, shape="hv", color=color),
                                     hoverinfo="skip", legendgroup="ci", showlegend=False,
                                     name=f"{ci_pct} {group} upper", meta={"role": "ci", "group": group},
                                     xaxis=xaxis, yaxis=yaxis))
            fig.add_trace(go.Scatter(x=bx, y=blo, mode="lines", line=dict(width=0, shape="hv", color=color),
                                     fill="tonexty", fillcolor=rgba(color, 0.16), hoverinfo="skip",
                                     legendgroup="ci", showlegend=showlegend and i == 0, name=ci_pct,
                                     legendrank=1000, meta={"role": "ci", "group": group},
                                     xaxis=xaxis, yaxis=yaxis))
        x, y = _step_xy(km)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=3.5, shape="hv"),
                                 name=name, legendgroup=group, showlegend=showlegend, legendrank=i + 1,
                                 meta={"role": "km", "group": group},
                                 hovertemplate=f"{labels[group]}<br>%{{x:.2f}} years<br>%{{y:.1f}} %<extra></extra>",
                                 xaxis=xaxis, yaxis=yaxis))
        tab = km.table
        cens = tab.loc[tab["n_censor"].to_numpy() > 0]
        fig.add_trace(go.Scatter(x=cens["time"].to_numpy(dtype=float), y=cens["surv"].to_numpy(dtype=float) * 100,
                                 mode="markers", marker=dict(symbol="cross-thin-open", size=11, color=color,
                                                             line=dict(width=2, color=color)),
                                 name=f"{labels[group]} censored", legendgroup=group, showlegend=False,
                                 meta={"role": "censor", "group": group},
                                 hovertemplate=f"{labels[group]}: censored at %{{x:.2f}} years<extra></extra>",
                                 xaxis=xaxis, yaxis=yaxis))
        est, lo, hi = km.median()
        if is_number(est):
            medians[group] = (float(est), lo, hi)
        if horizon_marks:
            hx, hy, up, dn, txt = horizon_points(km, group, labels=labels, horizon_marks=horizon_marks, times=times)
            fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers",
                                     marker=dict(symbol="diamond", size=13, color=color,
                                                 line=dict(width=1.5, color="white")),
                                     error_y=dict(type="data", array=up, arrayminus=dn, color=color,
                                                  thickness=2.5, width=6),
                                     text=txt, hovertemplate="%{text}<extra></extra>", legendgroup=group,
                                     showlegend=False, name=f"{labels[group]} horizons",
                                     meta={"role": "horizon", "group": group}, xaxis=xaxis, yaxis=yaxis))
        # numbers at risk, exactly at the tick times
        n_risk = np.asarray(km.n_at_risk(list(times)), dtype=int)
        fig.add_trace(go.Scatter(x=list(times), y=[1 - i] * len(times), mode="text",
                                 text=[str(int(v)) for v in n_risk],
                                 textfont=dict(size=font_size, color=color, family=None),
                                 hoverinfo="skip", showlegend=False, name=f"at risk {group}",
                                 meta={"role": "risk", "group": group}, xaxis=risk_xaxis, yaxis=risk_yaxis))
    # median lines (survminer surv.median.line = "hv")
    shapes_ref = dict(xref=xaxis, yref=yaxis)
    if show_median and medians:
        far = max(m[0] for m in medians.values())
        fig.add_shape(type="line", x0=0, x1=far, y0=50, y1=50,
                      line=dict(color=NEUTRAL["muted"], width=1.5, dash="dash"), layer="below", **shapes_ref)
        for group, (est, _lo, _hi) in medians.items():
            fig.add_shape(type="line", x0=est, x1=est, y0=0, y1=50,
                          line=dict(color=COLORS[group], width=1.5, dash="dash"), layer="below", **shapes_ref)
    for h in horizon_marks:
        fig.add_shape(type="line", x0=h, x1=h, y0=0, y1=100, line=dict(color="#AAAAAA", width=1.2, dash="dot"),
                      layer="below", **shapes_ref)


def risk_axis_labels(labels: dict[str, str]) -> dict:
    """y-axis settings of the numbers-at-risk row: group names in their colours."""
    return dict(range=[-0.6, 1.6], tickvals=[1, 0], fixedrange=True, showgrid=False, zeroline=False,
                showline=False, ticks="", ticklabelstandoff=18,
                ticktext=[f"<span style='color:{COLORS[g]}'><b>{labels[g]}</b></span>" for g in GROUPS])


def stats_text(comparison: Any, *, p_value: float | None = None, p_label: str = "Log-rank",
               conf_level: float = 0.95, labels: dict[str, str] | None = None) -> str:
    """``Log-rank P (matched groups) = 0.003<br>HR treated vs control 0.45 (95% CI 0.31–0.66)``."""
    p = p_value if p_value is not None else getattr(comparison.logrank, "p", None)
    label = getattr(comparison, "label", None)
    scope = text.SCOPES.get(label, label) if label else None
    lines = [text.labelled_p(p, p_label, scope)]
    cox = getattr(comparison, "cox", None)
    if cox is not None and len(cox.table):
        lines.append(text.hr_phrase(cox.table, {**DEFAULT_LABELS, **(labels or {})}, conf_level))
    return "<br>".join(lines)


def fmt_num2(x: Any) -> str:
    return f"{float(x):.2f}" if is_number(x) else "n/a"


def km_figure(comparison: Any, *, title: str | None = None, show_ci: bool = True,
              risk_times: Sequence[float] | None = None, horizon_marks: Sequence[float] = (),
              max_time: float | None = None, labels: dict[str, str] | None = None,
              endpoint: str = "Overall survival", time_label: str = "Years", show_median: bool = True,
              p_value: float | None = None, p_label: str = "Log-rank", conf_level: float = 0.95) -> go.Figure:
    """Kaplan-Meier curves of treated vs control with a numbers-at-risk table.

    Parameters
    ----------
    comparison : pipeline.Comparison
        Needs ``km_treated``, ``km_control`` (KMResult), ``logrank`` (``.p``) and ``cox`` (``.table``).
    title : str, optional
        Figure title.
    show_ci : bool
        Draw the confidence bands (one legend entry toggles both).
    risk_times : sequence of float, optional
        Years at which to print the numbers at risk; they are also the x ticks.
        Default: every 1 or 2 years up to the last follow-up (or ``max_time``).
    horizon_marks : sequence of float
        Years at which to mark survival with its confidence interval, e.g. ``(5,)``.
    max_time : float, optional
        Cut the x axis here (years).
    labels : dict, optional
        ``{"treated": ..., "control": ...}`` display names.
    endpoint : str
        Endpoint name for the y axis, e.g. ``"Overall survival"``.
    show_median : bool
        Dashed lines at 50 % down to each group's median survival.
    p_value, p_label : optional
        Override the P value printed (default: ``comparison.logrank.p``) and its label.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    for attr in ("km_treated", "km_control"):
        if not hasattr(comparison, attr):
            raise PanNetError("The Kaplan-Meier figure needs a comparison with treated and control curves.",
                              "Run the analysis first and pass result.unmatched or result.matched.")
    labels = {**DEFAULT_LABELS, **(labels or {})}
    times = risk_times_for(comparison, risk_times, max_time)
    end = float(max_time) if max_time is not None else max(
        max(_last_time(_km_of(comparison, g)) for g in GROUPS), float(times[-1]) if len(times) else 1.0)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.76, 0.24], vertical_spacing=0.13)
    add_km_traces(fig, comparison, labels=labels, xaxis="x", yaxis="y", risk_xaxis="x2", risk_yaxis="y2", times=times,
                  show_ci=show_ci, show_median=show_median, horizon_marks=horizon_marks, conf_level=conf_level)
    apply_km_axes(fig, times=times, end=end, endpoint=endpoint, time_label=time_label, labels=labels)
    fig.add_annotation(text=stats_text(comparison, p_value=p_value, p_label=p_label, conf_level=conf_level,
                                       labels=labels),
                       xref="x domain", yref="y domain", x=0.02, y=0.04, xanchor="left", yanchor="bottom",
                       align="left", showarrow=False, font=dict(size=BASE_FONT + 2),
                       bgcolor="rgba(255,255,255,0.85)", name="stats")
    fig.add_annotation(text="<b>Number at risk</b>", xref="paper", yref="y2 domain", x=0, y=1.0,
                       xanchor="left", yanchor="bottom", showarrow=False, font=dict(size=BASE_FONT),
                       name="risk_title", yshift=6)
    key = text.km_key(horizon_marks, conf_level, show_median)
    if key:
        fig.add_annotation(text=key, xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top",
                           yshift=-10, showarrow=False, font=dict(size=BASE_FONT - 4, color=NEUTRAL["muted"]),
                           name="key")
    apply_base_layout(fig,
        title=dict(text=title or "", font=dict(size=BASE_FONT + 6), x=0.01, xanchor="left"),
        legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom", font=dict(size=BASE_FONT),
                    bgcolor="rgba(255,255,255,0)", traceorder="normal"),
        margin=dict(l=90, r=40, t=110 if title else 70, b=50),
        hovermode="closest")
    return set_export_size(fig, 1600, 1000)


def apply_km_axes(fig: go.Figure, *, times: np.ndarray, end: float, endpoint: str, time_label: str,
                  labels: dict[str, str], xaxis: str = "xaxis", yaxis: str = "yaxis", risk_xaxis: str = "xaxis2",
                  risk_yaxis: str = "yaxis2", font_size: int = BASE_FONT) -> None:
    """Axis settings shared by :func:`km_figure` and the summary slide."""
    span = max(end, float(times[-1]) if len(times) else end)
    xr = [-0.02 * span, span * 1.03]
    tick = dict(tickvals=list(times), ticktext=[f"{t:g}" for t in times], range=xr, tickfont=dict(size=font_size))
    fig.update_layout({
        xaxis: dict(**tick, showticklabels=True, ticks="outside", showline=True, linewidth=1.5,
                    title=dict(text=time_label, font=dict(size=font_size + 2), standoff=8), zeroline=False,
                    showgrid=False),
        yaxis: dict(range=[0, 102], tickvals=[0, 20, 40, 60, 80, 100], ticks="outside", showline=True,
                    linewidth=1.5, title=dict(text=f"{endpoint} (%)", font=dict(size=font_size + 2)),
                    tickfont=dict(size=font_size), zeroline=False, showgrid=True, gridcolor=NEUTRAL["grid"]),
        risk_xaxis: dict(**tick, showticklabels=False, ticks="", showline=False, showgrid=False, zeroline=False),
        risk_yaxis: dict(**risk_axis_labels(labels), tickfont=dict(size=font_size)),
    })
