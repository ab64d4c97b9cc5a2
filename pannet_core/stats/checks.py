"""Input checks the statistics share: a number or an array a user handed in, refused with a fix."""
from __future__ import annotations

import math

import numpy as np

from pannet_core.errors import PanNetError


def positive_number(value, what: str, fix: str) -> float:
    """``value`` as a positive finite float; otherwise a PanNetError naming ``what`` with ``fix``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PanNetError(f"The {what} {value!r} is not a number.", fix) from None
    if not math.isfinite(v) or v <= 0:
        raise PanNetError(f"The {what} must be a positive finite number, not {value!r}.", fix)
    return v


def finite_array(values, what: str, fix: str) -> np.ndarray:
    """``values`` as a new 1-d float array with no missing value; otherwise a PanNetError naming ``what``."""
    try:
        a = np.array(values, dtype=float, copy=True).ravel()
    except (TypeError, ValueError):
        raise PanNetError(f"The {what} are not all numbers.", fix) from None
    if not np.all(np.isfinite(a)):
        raise PanNetError(f"The {what} have missing values.", fix)
    return a
