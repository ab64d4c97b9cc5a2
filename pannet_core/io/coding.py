"""Reading a two-valued column (treatment, event) as 0/1: the rule shared by validation and the cohort."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError

_TRUE = {"1", "1.0", "yes", "y", "true", "t", "ja", "j", "dead", "died", "death", "event", "treated"}
_FALSE = {"0", "0.0", "no", "n", "false", "f", "nej", "alive", "censored", "control", "untreated"}


def binary_codes(values: pd.Series, column: str, role: str, chosen) -> np.ndarray:
    """Map a two-valued column to 0/1; ``chosen`` names the value that means 1."""
    present = values.dropna()
    distinct = pd.unique(present)
    if values.isna().any():
        rows = (np.flatnonzero(values.isna().to_numpy()) + 1)[:5].tolist()
        raise PanNetError(f"The {role} column '{column}' is empty in data row(s) {rows}.",
                          f"Fill in the {role} for every patient, or remove those rows.")
    if len(distinct) > 2:
        shown = sorted(map(str, distinct))[:6]
        raise PanNetError(f"The {role} column '{column}' has {len(distinct)} different values {shown}; "
                          "it must have two.",
                          f"Recode '{column}' to two values (e.g. 0/1), or name the value that means "
                          f"{role} with '{'treated_value' if role == 'treatment' else 'event_value'}'.")
    if chosen is not None:
        if not (present.astype(str) == str(chosen)).any():
            raise PanNetError(f"No row of '{column}' has the value {chosen!r} named as the {role} value.",
                              f"Check the settings; the values present are {sorted(map(str, distinct))}.")
        return (present.astype(str) == str(chosen)).to_numpy().astype(np.int8)
    text = present.astype(str).str.strip().str.lower()
    ones, zeros = text.isin(_TRUE), text.isin(_FALSE)
    if (ones | zeros).all():
        return ones.to_numpy().astype(np.int8)
    # R's survival convention: status coded 1/2 means 1 = censored, 2 = event.
    num = pd.to_numeric(present, errors="coerce")
    if num.notna().all() and set(num.unique()) <= {1, 2}:
        return (num == 2).to_numpy().astype(np.int8)
    raise PanNetError(f"Cannot tell which value of '{column}' means {role}: values are "
                      f"{sorted(map(str, distinct))}.",
                      f"Recode to 0/1 or yes/no, or set '{'treated_value' if role == 'treatment' else 'event_value'}' "
                      "in the columns block of the settings.")
