"""Numbers as a tumour board reads them on a projector.

Percent with one decimal, P with three decimals or ``<0.001``, hazard ratios
and survival with their confidence interval in brackets, missing values as
an en dash.
"""
from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from pannet_core.figures.style import fmt_p

DASH = "–"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])")


def md_text(value: Any) -> str:
    """``value`` as text that Streamlit's markdown shows literally (no links, images, HTML or directives)."""
    return _MARKDOWN.sub(r"\\\1", str(value)).replace("\n", " ")


def is_value(x: Any) -> bool:
    try:
        return x is not None and x is not pd.NA and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def p_value(p: Any) -> str:
    """P as the figures print it (``figures.style.fmt_p``): ``<0.001``, ``0.046``, ``0.43``; en dash when missing."""
    if not is_value(p):
        return DASH
    return fmt_p(p).removeprefix("P = ").replace("P < ", "<")


def pct(x: Any, *, fraction: bool = True) -> str:
    """Percent with one decimal; ``fraction=True`` means 0.123 -> ``12.3%``."""
    if not is_value(x):
        return DASH
    v = float(x) * (100 if fraction else 1)
    return f"{v:.1f}%"


def num(x: Any, digits: int = 2) -> str:
    """Fixed decimals or an en dash."""
    return f"{float(x):.{digits}f}" if is_value(x) else DASH


def ci(est: Any, lo: Any, hi: Any, *, digits: int = 2, percent: bool = False) -> str:
    """``0.62 (0.41-0.93)`` or, with ``percent``, ``45.2% (38.1-52.0)`` from fractions."""
    f = (lambda v: pct(v)) if percent else (lambda v: num(v, digits))
    if not is_value(est):
        return "not reached" if not percent else DASH
    lo_s = f(lo) if is_value(lo) else "NR"
    hi_s = f(hi) if is_value(hi) else "NR"
    if percent:
        lo_s, hi_s = lo_s.rstrip("%"), hi_s.rstrip("%")
    return f"{f(est)} ({lo_s}–{hi_s})"


def years(est: Any, lo: Any = None, hi: Any = None) -> str:
    """A median in years with its CI: ``6.1 y (4.2–NR)``; ``not reached`` when missing."""
    if not is_value(est):
        return "not reached"
    lo_s = num(lo, 1) if is_value(lo) else "NR"
    hi_s = num(hi, 1) if is_value(hi) else "NR"
    return f"{float(est):.1f} y ({lo_s}–{hi_s})"


def smd(x: Any) -> str:
    return num(x, 3)
