"""Result tables formatted for the screen (text cells, no statistics computed here)."""
from __future__ import annotations

import pandas as pd

from board import fmt
from pannet_core.figures import style as figures_style
from pannet_core.figures import text as figure_text
from pannet_core.report import export


def group_labels(settings) -> dict[str, str]:
    """Display names of the two groups (as in the figures)."""
    return figures_style.group_labels(settings)


def _count(n, pct_0_100) -> str:
    if not fmt.is_value(n):
        return fmt.DASH
    n_s = f"{float(n):.0f}" if float(n).is_integer() else f"{float(n):.1f}"
    return f"{n_s} ({fmt.pct(pct_0_100, fraction=False)})" if fmt.is_value(pct_0_100) else n_s


def table1_display(t1: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Table 1 as text: variable, level, ``n (%)`` or summary per group, P, SMD and a flag."""
    rows = []
    for r in t1.to_dict(orient="records"):
        numeric = not fmt.is_value(r.get("treated_pct"))
        t = r.get("treated_summary") if numeric and r.get("treated_summary") else _count(r.get("treated_n"),
                                                                                       r.get("treated_pct"))
        c = r.get("control_summary") if numeric and r.get("control_summary") else _count(r.get("control_n"),
                                                                                       r.get("control_pct"))
        rows.append({"Variable": figures_style.uk_spelling(r.get("label") or r.get("variable")),
                     "Level": figures_style.pretty_level(r.get("level") or ""),
                     labels["treated"]: t, labels["control"]: c, "P": fmt.p_value(r.get("p")),
                     "SMD": fmt.smd(r.get("smd")), "Imbalanced": "⚠ SMD ≥ threshold" if r.get("flag") else ""})
    out = pd.DataFrame(rows)
    # the variable name and its P (one test per variable) once per block of levels
    if not out.empty:
        var = pd.Series([r.get("variable") for r in t1.to_dict(orient="records")], index=out.index)
        again = var.eq(var.shift())
        out.loc[again, ["Variable", "P"]] = ""
    return out


def survival_display(comparison, labels: dict[str, str], horizons) -> pd.DataFrame:
    """Median and survival at the horizons (with CI) per group, one row per group."""
    rows = []
    for rec in comparison.summary.to_dict(orient="records"):
        row = {"Group": labels.get(rec["group"], rec["group"]), "Patients": int(rec["n"]),
               "Events": int(rec["events"]),
               "Median survival (95% CI)": fmt.years(rec["median"], rec["median_lo"], rec["median_hi"])}
        for h in horizons:
            k = f"{h:g}"
            if f"surv_{k}" in rec:
                row[f"{k}-year survival"] = fmt.ci(rec[f"surv_{k}"], rec[f"surv_{k}_lo"], rec[f"surv_{k}_hi"],
                                                  percent=True)
        rows.append(row)
    return pd.DataFrame(rows)


def hr_text(cox_table: pd.DataFrame, robust: bool = False, labels: dict[str, str] | None = None) -> str:
    """``HR resected vs not resected 0.62 (0.41–0.93), Wald P = 0.021`` for the first term of a Cox table."""
    r = cox_table.iloc[0]
    direction = f" {figure_text.hr_direction(labels)}" if labels else ""
    return f"HR{direction} {fmt.ci(r['hr'], r['lower'], r['upper'])}, Wald P = {fmt.p_value(r['p'])}" + (
        " (robust SE, clustered on pairs)" if robust else "")


def ninety_day_display(ninety: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """90-day mortality per group: patients, deaths and percent with its 95% CI (group, n, deaths, pct, lo, hi)."""
    rows = []
    for r in ninety.to_dict(orient="records"):
        rows.append({"Group": labels.get(r["group"], r["group"]), "Patients": int(r["n"]),
                     "Deaths within 90 days": int(r["deaths"]),
                     "90-day mortality (95% CI)": fmt.ci(*(r[k] / 100 if fmt.is_value(r[k]) else None
                                                           for k in ("pct", "lo", "hi")), percent=True)})
    return pd.DataFrame(rows)


def cox_display(models: pd.DataFrame) -> pd.DataFrame:
    """Univariable / multivariable Cox table as text, one row per term as in 001's Table 2.

    ``models`` is ``CoxModels.table`` (model, variable, level, reference, hr, lower, upper, p,
    p_variable, note). Reference rows read ``1 (reference)``; the variable's likelihood-ratio P
    is shown once, on its first row in each model.
    """
    rows = []
    seen: set[tuple] = set()
    for r in models.to_dict(orient="records"):
        key = (r.get("model"), r.get("variable"))
        level = r.get("level")
        if r.get("reference"):
            hr = "1 (reference)"
        elif fmt.is_value(r.get("hr")):
            hr = fmt.ci(r.get("hr"), r.get("lower"), r.get("upper"))
        else:
            hr = r.get("note") or fmt.DASH
        rows.append({
            "Model": r.get("model"),
            "Variable": r.get("variable"),
            "Level": level if isinstance(level, str) else "",
            "HR (95% CI)": hr,
            "P": "" if r.get("reference") else fmt.p_value(r.get("p")),
            "P (variable)": "" if key in seen else fmt.p_value(r.get("p_variable")),
        })
        seen.add(key)
    return pd.DataFrame(rows, columns=["Model", "Variable", "Level", "HR (95% CI)", "P", "P (variable)"])


def pair_view(data: pd.DataFrame, pairs: pd.DataFrame, pair, covariates, labels: dict[str, str]) -> pd.DataFrame:
    """One matched pair side by side: covariates, score, time and event of the treated and the control.

    ``pairs`` is ``MatchResult.pairs`` (pair, treated_id, control_id, distance).
    """
    row = pairs.loc[pairs["pair"] == pair].iloc[0]
    by_id = data.set_index("patient_id")
    t, c = by_id.loc[row["treated_id"]], by_id.loc[row["control_id"]]
    fields = [f for f in dict.fromkeys([*covariates, "score", "time", "event"]) if f in data.columns]

    def cell(rec, f):
        v = rec[f]
        if f == "score":
            return fmt.num(v, 3)
        if f == "time":
            return f"{fmt.num(v, 2)} years"
        if f == "event":
            return "event" if v == 1 else "censored"
        return "missing" if pd.isna(v) else str(v)

    names = {"score": "Propensity score", "time": "Follow-up", "event": "Outcome"}
    return pd.DataFrame({"": ["Patient", *[names.get(f, f) for f in fields]],
                         labels["treated"]: [str(row["treated_id"]), *[cell(t, f) for f in fields]],
                         labels["control"]: [str(row["control_id"]), *[cell(c, f) for f in fields]]})


def table1_csv(result) -> bytes:
    """Table 1 before and after matching as one CSV (formula-safe: :func:`pannet_core.report.export.table1_csv`)."""
    return export.table1_csv(result)


def table1_xlsx(result) -> bytes:
    """Table 1 as a workbook, text stored as text (:func:`pannet_core.report.export.table1_xlsx`)."""
    return export.table1_xlsx(result)
