"""Shared look of every PanNET Board figure: colours, fonts, number formats.

One colour per group everywhere (Okabe-Ito, safe for the common colour-vision
deficiencies), fonts large enough for a projector, white background.
"""
from __future__ import annotations

import functools
import math
import re
from typing import Any

import plotly.graph_objects as go

COLORS = {"treated": "#0072B2", "control": "#D55E00"}
"""Okabe-Ito blue (treated) and vermillion (control), the same in every figure."""

NEUTRAL = {"before": "#E69F00", "after": "#009E73", "ink": "#222222", "grid": "#E5E5E5",
           "muted": "#666666", "box": "#F7F7F7"}
"""Colours for things that are not a treatment group (before/after matching, text, grid)."""

FONT_FAMILY = "Arial, 'Liberation Sans', Helvetica, sans-serif"
BASE_FONT = 18
"""Base font size in CSS px; titles and labels are larger, nothing is smaller than 14."""

DEFAULT_LABELS = {"treated": "Treated", "control": "Control"}

_COMPARISON_LABELS = {
    "primary_resection": {"treated": "Primary tumour resected", "control": "Not resected"},
    "liver_surgery_tha": {"treated": "Liver surgery / THA", "control": "No liver surgery"},
}
_ENDPOINTS = {"os": "Overall survival", "pfs": "Progression-free survival"}


def rgba(hex_color: str, alpha: float) -> str:
    """``#RRGGBB`` -> ``rgba(r,g,b,alpha)`` for translucent fills."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def group_labels(settings: Any = None) -> dict[str, str]:
    """Display names of the two groups for a settings object (generic: Treated / Control)."""
    study = getattr(settings, "study", None)
    if study is not None and study.comparison in _COMPARISON_LABELS:
        return dict(_COMPARISON_LABELS[study.comparison])
    return dict(DEFAULT_LABELS)


def endpoint_name(settings: Any = None) -> str:
    """``Overall survival`` or ``Progression-free survival`` (generic settings: overall survival)."""
    study = getattr(settings, "study", None)
    if study is not None:
        return _ENDPOINTS.get(study.endpoint, "Overall survival")
    return "Overall survival"


def is_number(x: Any) -> bool:
    """True for a finite real number (not None, NaN, NA or inf)."""
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_p(p: Any) -> str:
    """P value as journals print it: ``P < 0.001``, ``P = 0.012`` (below 0.1), ``P = 0.43``."""
    if not is_number(p):
        return "P = n/a"
    p = float(p)
    if p < 0.001:
        return "P < 0.001"
    if p < 0.1:  # three decimals near the usual thresholds (0.049 must not print as 0.05)
        return f"P = {p:.3f}"
    return f"P = {p:.2f}"


def fmt_num(x: Any, digits: int = 2) -> str:
    """A number with fixed decimals, or an en dash when missing."""
    return f"{float(x):.{digits}f}" if is_number(x) else "–"


def fmt_ci(est: Any, lo: Any, hi: Any, digits: int = 2, scale: float = 1.0, unit: str = "") -> str:
    """``0.45 (0.31–0.66)``; missing bounds shown as ``NR`` (not reached)."""
    if not is_number(est):
        return "not reached"
    def one(v):
        return f"{float(v) * scale:.{digits}f}{unit}" if is_number(v) else "NR"
    return f"{one(est)} ({one(lo)}–{one(hi)})"


# human names of the usual covariates (study suffixes such as ``_001`` are dropped first)
VARIABLE_NAMES = {
    "age": "age", "age_group": "age", "sex": "sex", "functioning": "functioning tumour",
    "calendar_year": "calendar year", "calendar_period": "calendar period", "time_period": "time period",
    "charlson": "Charlson index", "charlson_group": "Charlson index",
    "primary_size_cm": "primary tumour size (cm)", "primary_size_group": "primary tumour size (cm)",
    "liver_mets_n": "liver metastases", "liver_mets_group": "liver metastases",
    "liver_met_max_cm": "largest liver metastasis (cm)", "liver_met_size_group": "largest liver metastasis (cm)",
    "extra_abdominal_mets": "extra-abdominal metastases", "extrahepatic_mets": "extrahepatic metastases",
    "who_grade": "WHO grade", "cga_group": "chromogranin A", "hereditary": "genetics", "ki67": "Ki-67 index (%)",
}


def pretty_name(var: str) -> str:
    """``liver_mets_group_001`` -> ``liver metastases``; unknown names: ``my_var`` -> ``my var``."""
    base = re.sub(r"_\d{3}$", "", str(var))
    return VARIABLE_NAMES.get(base, base.replace("_", " "))


def pretty_level(level: str) -> str:
    """A level as displayed everywhere (Table 1, love plot, slide): ``>=70`` -> ``≥70``, ``<=20`` -> ``≤20``."""
    return str(level).replace(">=", "≥").replace("<=", "≤")


def uk_spelling(text: str) -> str:
    """One spelling on screen: ``tumour`` (labels taken from the papers may say ``tumor``)."""
    return re.sub(r"\b([Tt])umor", r"\1umour", str(text))


def pretty_variable(name: str, sep: str = ": ") -> str:
    """``size=<=20`` -> ``size: ≤20``; ``age_group`` -> ``age`` (``sep`` between name and level)."""
    text = str(name)
    if "=" in text:
        var, level = text.split("=", 1)
        return f"{pretty_name(var)}{sep}{pretty_level(level)}"
    return pretty_level(pretty_name(text))


def base_layout(**extra: Any) -> dict:
    """Layout keys every figure shares (white background, large fonts, no plotly logo clutter)."""
    layout = dict(
        template="simple_white",
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=dict(family=FONT_FAMILY, size=BASE_FONT, color=NEUTRAL["ink"]),
        shapedefaults=dict(opacity=1),
        hoverlabel=dict(font=dict(family=FONT_FAMILY, size=BASE_FONT - 2)),
        title=dict(font=dict(size=BASE_FONT + 6), x=0.0, xanchor="left", y=0.98, yanchor="top",
                   pad=dict(l=10)),
    )
    layout.update(extra)
    return layout


@functools.lru_cache(maxsize=4)
def _validated_template(name: str):
    """The copy of a registered template that assigning ``template=name`` makes (validated once)."""
    return go.Layout(template=name).template


def apply_base_layout(fig: go.Figure, **extra: Any) -> go.Figure:
    """``fig.update_layout(**base_layout(**extra))``, with the template's validation done once per process.

    Assigning a template by name makes plotly copy the registered template and validate the copy
    (most of a figure's layout work, on every figure built).  Here that copy is made
    once and stored in each figure unvalidated, the way plotly stores its default template when
    it creates a figure: the figure is the same, byte for byte (``tests/test_figures.py``).
    """
    layout = base_layout(**extra)
    template = _validated_template(layout.pop("template"))
    lay = fig.layout
    lay._validate = False
    try:
        lay.template = template  # stores a deep copy of its properties
    finally:
        lay._validate = fig._validate
    return fig.update_layout(**layout)


def set_export_size(fig: go.Figure, width: int, height: int) -> go.Figure:
    """Remember the size a figure is designed for (used by :mod:`pannet_core.report.export`)."""
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    meta.update(export_width=int(width), export_height=int(height))
    fig.update_layout(meta=meta)
    fig.update_shapes(opacity=1)  # the simple_white template would draw shapes at 30 % opacity
    return fig


def export_size(fig: go.Figure, default: tuple[int, int] = (1600, 1000)) -> tuple[int, int]:
    """The designed export size of a figure, or ``default`` (``meta`` may be wrapped in a one-item list)."""
    meta = fig.layout.meta
    if isinstance(meta, (list, tuple)) and len(meta) == 1:  # a screen copy's (board/figs.py: km_screen_dict)
        meta = meta[0]
    if isinstance(meta, dict) and "export_width" in meta and "export_height" in meta:
        return int(meta["export_width"]), int(meta["export_height"])
    return default
