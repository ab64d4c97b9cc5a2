"""Forest plot of Cox hazard ratios on a log axis, with reference levels shown."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pannet_core.errors import PanNetError
from pannet_core.figures.style import (
    BASE_FONT,
    NEUTRAL,
    apply_base_layout,
    fmt_p,
    is_number,
    pretty_name,
    set_export_size,
)

_MODEL_STYLE = [("circle", NEUTRAL["ink"]), ("square", "#56B4E9"), ("diamond", "#CC79A7"), ("triangle-up", "#999999")]


def _is_missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _normalise(tab: Any) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """Accept ``CoxResult.table``, ``CoxModels`` or its table (variable/level/reference columns).

    Returns the table with a ``term`` column, without reference rows, and the
    reference level of each categorical variable.
    """
    if tab is not None and not isinstance(tab, pd.DataFrame) and hasattr(tab, "table"):
        tab = tab.table
    if not isinstance(tab, pd.DataFrame):
        return None, {}
    refs: dict[str, str] = {}
    if "term" not in tab.columns and "variable" in tab.columns:
        levels = tab["level"] if "level" in tab.columns else pd.Series([None] * len(tab), index=tab.index)
        terms = [str(v) if _is_missing(lev) else f"{v}={lev}" for v, lev in zip(tab["variable"], levels)]
        tab = tab.assign(term=terms)
    if "reference" in tab.columns and tab["reference"].dtype == bool or (
            "reference" in tab.columns and set(tab["reference"].dropna().unique()) <= {True, False}):
        is_ref = tab["reference"].fillna(False).astype(bool).to_numpy()
        for term in tab.loc[is_ref, "term"]:
            var, level = _split(term)
            if level is not None:
                refs.setdefault(var, level)
        tab = tab.loc[~is_ref].drop(columns="reference")
    return tab, refs


def _split(term: str) -> tuple[str, str | None]:
    term = str(term)
    if "=" in term:
        var, level = term.split("=", 1)
        return var, level
    return term, None


def _rows(terms: list[str], reference: dict[str, str]) -> list[dict]:
    """Display rows: numeric terms as one row; categorical ones as header, reference, levels."""
    order: list[str] = []
    levels: dict[str, list[str]] = {}
    for t in terms:
        var, level = _split(t)
        if var not in levels:
            order.append(var)
            levels[var] = []
        if level is not None:
            levels[var].append(level)
    rows = []
    for var in order:
        name = "Treated vs control" if var == "treated" else pretty_name(var)
        if not levels[var]:
            rows.append({"label": f"<b>{name}</b>", "term": var, "kind": "term"})
            continue
        rows.append({"label": f"<b>{name}</b>", "term": None, "kind": "header"})
        ref = reference.get(var)
        rows.append({"label": f"   {ref if ref is not None else 'first level'} (reference)", "term": None,
                     "kind": "reference", "var": var})
        for level in levels[var]:
            rows.append({"label": f"   {level}", "term": f"{var}={level}", "kind": "term"})
    for r in rows:
        r["label"] = r["label"].replace(">=", "≥").replace("<=", "≤")
    return rows


def _fmt_hr(hr: Any, lo: Any, hi: Any) -> str:
    if not is_number(hr):
        return ""
    if is_number(lo) and is_number(hi):
        return f"{float(hr):.2f} ({float(lo):.2f}–{float(hi):.2f})"
    return f"{float(hr):.2f}"


def forest_plot(cox_table: pd.DataFrame, *, reference: dict[str, str] | None = None, title: str | None = None,
                model_column: str = "model") -> go.Figure:
    """Hazard ratios with confidence intervals on a log x axis.

    Parameters
    ----------
    cox_table : DataFrame
        ``CoxResult.table`` (``term, hr, lower, upper, p``) or several models stacked with a
        ``model`` column (e.g. univariable / multivariable); terms ``variable=level`` are
        indicator columns of a categorical covariate.
    reference : dict, optional
        ``{variable: reference level}``; the reference rows are drawn at HR 1.  Without it the
        reference row reads "first level (reference)".  A ``reference`` column in ``cox_table``
        (one value per variable) is used as well.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    cox_table, found_refs = _normalise(cox_table)
    need = {"term", "hr", "lower", "upper"}
    if cox_table is None or not need <= set(cox_table.columns) or len(cox_table) == 0:
        raise PanNetError("The forest plot needs a Cox table with term, hr, lower and upper.",
                          "Pass CoxResult.table or result.cox_models from a finished analysis.")
    tab = cox_table.copy()
    reference = {**found_refs, **dict(reference or {})}
    if "reference" in tab.columns:
        for term, ref in zip(tab["term"], tab["reference"]):
            var, _ = _split(term)
            if isinstance(ref, str) and ref and var not in reference:
                reference[var] = ref
    models = list(dict.fromkeys(tab[model_column].astype(str))) if model_column in tab.columns else [""]
    terms = list(dict.fromkeys(tab["term"].astype(str)))
    rows = _rows(terms, reference)
    n = len(rows)
    ypos = {i: n - i for i in range(n)}
    fig = go.Figure()
    finite = tab[["hr", "lower", "upper"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo_x = float(min(finite.min(), 1.0)) if finite.size else 0.5
    hi_x = float(max(finite.max(), 1.0)) if finite.size else 2.0
    lo_x, hi_x = max(lo_x / 1.3, 1e-3), min(hi_x * 1.3, 1e3)
    off = 0.18 if len(models) > 1 else 0.0
    text_cols = []
    for m_i, model in enumerate(models):
        sub = tab if model == "" else tab.loc[tab[model_column].astype(str) == model]
        by_term = {str(t): r for t, r in zip(sub["term"], sub.to_dict(orient="records"))}
        symbol, color = _MODEL_STYLE[m_i % len(_MODEL_STYLE)]
        xs, ys, el, eh, hov = [], [], [], [], []
        col_text = {}
        for i, r in enumerate(rows):
            if r["kind"] == "reference":
                # only in the models that hold the variable (the multivariable model keeps a subset)
                if any(str(t).startswith(f"{r['var']}=") for t in by_term):
                    col_text[i] = "1 (reference)"
                continue
            rec = by_term.get(r["term"]) if r["term"] else None
            if rec is None or not is_number(rec["hr"]):
                continue
            hr, lo, hi = float(rec["hr"]), rec["lower"], rec["upper"]
            y = ypos[i] + (off * (len(models) - 1) / 2 - off * m_i)
            xs.append(hr)
            ys.append(y)
            el.append(hr - float(lo) if is_number(lo) else 0.0)
            eh.append(float(hi) - hr if is_number(hi) else 0.0)
            ptxt = fmt_p(rec.get("p")) if "p" in rec else ""
            hov.append(f"{r['label'].strip()}<br>HR {_fmt_hr(hr, lo, hi)}<br>{ptxt}")
            col_text[i] = _fmt_hr(hr, lo, hi) + (f"   {_p_only(rec['p'])}" if is_number(rec.get("p")) else "")
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=model or "HR",
                                 marker=dict(symbol=symbol, size=13, color=color),
                                 error_x=dict(type="data", symmetric=False, array=eh, arrayminus=el, color=color,
                                              thickness=2.5, width=0),
                                 text=hov, hovertemplate="%{text}<extra></extra>", showlegend=len(models) > 1,
                                 meta={"role": "hr", "model": model}))
        text_cols.append((model, col_text))
    ref_rows = [ypos[i] for i, r in enumerate(rows) if r["kind"] == "reference"]
    fig.add_trace(go.Scatter(x=[1.0] * len(ref_rows), y=ref_rows, mode="markers", name="reference",
                             marker=dict(symbol="circle-open", size=12, color=NEUTRAL["muted"],
                                         line=dict(width=2, color=NEUTRAL["muted"])),
                             hoverinfo="skip", showlegend=False, meta={"role": "reference"}))
    fig.add_vline(x=1, line=dict(color=NEUTRAL["ink"], width=1.5, dash="dash"))
    # text columns right of the plot
    plot_right = 0.58 if len(models) == 1 else 0.48
    col_w = (1 - plot_right - 0.02) / len(models)
    for m_i, (model, col_text) in enumerate(text_cols):
        x = plot_right + 0.03 + m_i * col_w
        head = (f"{model[:1].upper()}{model[1:]} " if model else "") + "HR (95% CI)   P"
        fig.add_annotation(text=f"<b>{head}</b>", x=x, y=n + 0.9, xref="paper", yref="y", xanchor="left",
                           showarrow=False, font=dict(size=BASE_FONT - 1))
        for i, txt in col_text.items():
            fig.add_annotation(text=txt, x=x, y=ypos[i], xref="paper", yref="y", xanchor="left", showarrow=False,
                               font=dict(size=BASE_FONT - 1, color=NEUTRAL["muted"] if "reference" in txt else None),
                               name="hr_text")
    height = int(min(max(500, 190 + 44 * n), 2400))
    apply_base_layout(fig,
        title=dict(text=title or "Hazard ratios (Cox regression)", x=0.01, xanchor="left"),
        xaxis=dict(type="log", range=[math.log10(lo_x), math.log10(hi_x)], domain=[0, plot_right],
                   title="Hazard ratio (log scale)", ticks="outside", showline=True, linewidth=1.5,
                   showgrid=True, gridcolor=NEUTRAL["grid"], tickvals=_log_ticks(lo_x, hi_x)),
        yaxis=dict(tickvals=[ypos[i] for i in range(n)], ticktext=[r["label"] for r in rows],
                   range=[0.3, n + 1.4], showgrid=False, zeroline=False, ticks="", showline=False,
                   automargin=True),
        legend=dict(orientation="h", x=plot_right, xanchor="right", y=1.0, yanchor="bottom"),
        margin=dict(l=30, r=30, t=90, b=90))
    return set_export_size(fig, 1600, height)


def _p_only(p: Any) -> str:
    """``0.004`` or ``<0.001`` for a table column."""
    return fmt_p(p).replace("P = ", "").replace("P < ", "<")


def _log_ticks(lo: float, hi: float) -> list[float]:
    cand = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50, 100]
    ticks = [c for c in cand if lo <= c <= hi]
    if len(ticks) > 9:
        ticks = [c for c in ticks if c in (0.01, 0.1, 0.5, 1, 2, 10, 100)]
    return ticks
