"""Sentences that say what a figure or page shows, shared by the slide, the figures and the pages.

Every number comes from the result object; the wording follows the settings (groups, endpoint,
horizons, balance threshold), so the sentences change with them.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pannet_core.figures.style import (
    BASE_FONT,
    NEUTRAL,
    endpoint_name,
    fmt_num,
    fmt_p,
    group_labels,
    is_number,
    pretty_variable,
)

PRIMARY_TEST = "Log-rank"
SCOPES = {"matched": "matched groups", "unmatched": "all patients"}
SYNTHETIC_FOOTER = "Synthetic demonstration data"

# how the survival of each group is named in the summary sentence, per study comparison
_OUTCOME_WORDS = {
    "primary_resection": ("after resection", "without"),
    "liver_surgery_tha": ("after liver surgery / THA", "without"),
}


def add_synthetic_footer(fig: Any) -> Any:
    """A small :data:`SYNTHETIC_FOOTER` in the figure's bottom-right corner, inside its bottom margin."""
    bottom = fig.layout.margin.b
    bottom = 80 if bottom is None else bottom
    fig.add_annotation(text=SYNTHETIC_FOOTER, xref="paper", yref="paper", x=1, y=0, xanchor="right",
                       yanchor="bottom", yshift=-bottom + 2, showarrow=False,
                       font=dict(size=BASE_FONT - 4, color=NEUTRAL["muted"]), name="synthetic")
    return fig


def years_label(h: Any) -> str:
    """``1 year``, ``5 years``, ``2.5 years``."""
    return f"{float(h):g} year" + ("" if float(h) == 1 else "s")


def km_key(horizon_marks: Any = (), conf_level: float = 0.95, show_median: bool = True) -> str:
    """What the diamonds and the dashed lines of a Kaplan-Meier plot show (its caption)."""
    parts = []
    if len(horizon_marks):
        at = " and ".join(years_label(h) for h in horizon_marks)
        parts.append(f"◆ with bars: survival at {at} with its {conf_level * 100:g}% CI")
    if show_median:
        parts.append("dashed lines: median survival (where a curve crosses 50 %)")
    return "; ".join(parts)


def labelled_p(p: Any, test: str = PRIMARY_TEST, scope: str | None = None) -> str:
    """``Log-rank P (matched groups) = 0.21``: a P value named by its test and what it compares."""
    text = fmt_p(p)  # "P = 0.21" / "P < 0.001" / "P = n/a"
    if scope:
        text = f"P ({scope})" + text[1:]
    return f"{test} {text}"


def _lower_first(label: str) -> str:
    """``Liver surgery / THA`` -> ``liver surgery / THA`` (acronyms kept)."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def hr_direction(labels: dict[str, str]) -> str:
    """``primary tumour resected vs not resected``: which group's hazard over which."""
    return f"{_lower_first(labels['treated'])} vs {_lower_first(labels['control'])}"


def multivariable_treated(result: Any) -> pd.Series | None:
    """The treatment row of the multivariable Cox model (``result.cox_models``), or None without one."""
    table = getattr(getattr(result, "cox_models", None), "table", None)
    if table is None or not len(table) or not {"model", "variable", "hr"} <= set(table.columns):
        return None
    rows = table[(table["model"] == "multivariable") & (table["variable"] == "treated")]
    return rows.iloc[0] if len(rows) and is_number(rows.iloc[0]["hr"]) else None


def hr_phrase(cox_table: pd.DataFrame | None, labels: dict[str, str], conf_level: float = 0.95) -> str:
    """``HR primary tumour resected vs not resected 0.56 (95% CI 0.32–0.98)`` for a Cox table's first term."""
    if cox_table is None or not len(cox_table):
        return f"HR {hr_direction(labels)} n/a"
    r = cox_table.iloc[0]
    return (f"HR {hr_direction(labels)} {fmt_num(r['hr'])} "
            f"({conf_level * 100:g}% CI {fmt_num(r['lower'])}–{fmt_num(r['upper'])})")


def balance_verdict(balance: pd.DataFrame | None, threshold: float) -> str:
    """``Balance: 9 of 25 levels above 0.10 (largest 0.21, liver metastases ≥10)`` from |SMD| after matching."""
    if balance is None or not len(balance) or "smd_after" not in balance:
        return "Balance: not computed"
    a = pd.to_numeric(balance["smd_after"], errors="coerce").abs()
    ok = a.notna().to_numpy()
    if not ok.any():
        return "Balance: not computed"
    values = a.to_numpy(float)
    i = int(np.nanargmax(values))
    above = int((values[ok] > threshold).sum())
    worst = f"largest {values[i]:.2f}, {pretty_variable(balance['variable'].iloc[i], sep=' ')}"
    if above == 0:
        return f"Balance: all {int(ok.sum())} levels at or below {threshold:.2f} ({worst})"
    return f"Balance: {above} of {int(ok.sum())} levels above {threshold:.2f} ({worst})"


def summary_horizon(settings: Any) -> float:
    """The largest survival horizon up to 5 years in the settings (else the smallest; 5 without horizons)."""
    hs = sorted(float(h) for h in (getattr(getattr(settings, "survival", None), "horizons", ()) or ()))
    if not hs:
        return 5.0
    within = [h for h in hs if h <= 5]
    return within[-1] if within else hs[0]


def _pct(x: Any) -> str:
    return f"{float(x) * 100:.0f} %" if is_number(x) else "not estimable"


def _sets_text(result: Any) -> str:
    m = result.settings.matching
    if m.ratio == 1 and not m.replace:
        return f"{result.n_sets} matched pairs"
    return f"{result.n_sets} matched sets"


def summary_sentence(result: Any) -> str:
    """The plain-language summary of the matched comparison, e.g.

    ``In 50 matched pairs, 5-year overall survival was 65 % after resection and 48 % without
    (log-rank P = 0.043); the hazard ratio (primary tumour resected vs not resected) was 0.56 (95% CI 0.32–0.98).``
    """
    s = result.settings
    labels = group_labels(s)
    comp = result.matched
    h = summary_horizon(s)
    surv = {g: getattr(comp, f"km_{g}").survival_at([h])["surv"].iloc[0] for g in ("treated", "control")}
    study = getattr(s, "study", None)
    words = _OUTCOME_WORDS.get(getattr(study, "comparison", None))
    if words:
        groups = f"{_pct(surv['treated'])} {words[0]} and {_pct(surv['control'])} {words[1]}"
    else:
        groups = f"{_pct(surv['treated'])} ({labels['treated']}) and {_pct(surv['control'])} ({labels['control']})"
    conf = getattr(s.survival, "conf_level", 0.95)
    table = comp.cox.table if comp.cox is not None else None
    if table is not None and len(table):
        r = table.iloc[0]
        hr = (f"the hazard ratio ({hr_direction(labels)}) was {fmt_num(r['hr'])} "
              f"({conf * 100:g}% CI {fmt_num(r['lower'])}–{fmt_num(r['upper'])})")
    else:
        hr = "the hazard ratio could not be estimated"
    p = fmt_p(getattr(comp.logrank, "p", None))
    return (f"In {_sets_text(result)}, {h:g}-year {endpoint_name(s).lower()} was {groups} "
            f"(log-rank {p}); {hr}.")
