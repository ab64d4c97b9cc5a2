"""The header row: cleaned, repaired where an export broke it, and matched to the data dictionary."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pannet_core.errors import PanNetError
from pannet_core.io.arrow_csv import MISSING_MARKERS
from pannet_core.io.schema import BY_NAME, CANONICAL_COLUMNS, canonical_column, normalise


def clean_cells(body: pd.DataFrame) -> pd.DataFrame:
    """Strip text, turn missing markers into <NA>; all columns ``str`` dtype."""
    out = {}
    for j in body.columns:
        s = body[j].astype("str") if body[j].dtype != "str" else body[j]
        s = s.str.strip()
        low = s.str.lower()
        out[j] = s.mask(low.isin(MISSING_MARKERS) | s.isna())
    return pd.DataFrame(out, index=body.index)


def fix_header(header: list[str], body: pd.DataFrame, name: str, notes: list[str]) -> tuple[list[str], pd.DataFrame]:
    header = [str(h).strip() for h in header]
    keep, names = [], []
    for j, h in enumerate(header):
        if h.lower() in ("", "nan", "none") or h.startswith("Unnamed:"):
            if body[j].isna().all():
                continue  # an empty trailing / spacer column
            h = f"column_{j + 1}"
            notes.append(f"Column {j + 1} has no header; it is called {h!r}.")
        keep.append(j)
        names.append(h)
    seen, dups = set(), []
    for h in names:
        if h in seen and h not in dups:
            dups.append(h)
        seen.add(h)
    if dups:
        raise PanNetError(f"{name} has duplicated column name(s) {dups}.",
                          "Give every column a unique header (e.g. rename or delete the copy).")
    if not names:
        raise PanNetError(f"{name} has no column headers.",
                          "The first row of the file must hold the column names.")
    out = body[keep].copy()
    out.columns = names
    return names, out


def rows_to_keep(body: pd.DataFrame) -> int:
    """Rows up to the last one with any cell filled (the whole table when its last row has one)."""
    n = len(body)
    if n and any(not pd.isna(body.iat[n - 1, j]) for j in range(body.shape[1])):
        return n
    filled = body.notna().any(axis=1).to_numpy()
    return int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0


def map_headers(names: list[str], column_map: dict | None, dictionary: bool | None,
                 notes: list[str]) -> tuple[dict[str, str], list[str], bool]:
    column_map = dict(column_map or {})
    for k, v in column_map.items():
        if v not in BY_NAME:
            raise PanNetError(f"The column map sends {k!r} to {v!r}, which is not a data-dictionary column.",
                              f"Use one of: {', '.join(CANONICAL_COLUMNS)}.", exit_code=2)
    cmap_norm = {normalise(k): v for k, v in column_map.items()}
    wanted: dict[str, str] = {}
    for h in names:
        if h in column_map:
            wanted[h] = column_map[h]
        elif normalise(h) in cmap_norm:
            wanted[h] = cmap_norm[normalise(h)]
    missing_keys = [k for k in column_map if k not in wanted and normalise(k) not in {normalise(h) for h in names}]
    if missing_keys:
        notes.append(f"The column map names header(s) {missing_keys} that are not in the file.")
    targets = [wanted.get(h) or canonical_column(h) for h in names]
    found_dates = any(t is not None and BY_NAME[t].type == "date" for t in targets)
    if dictionary is None:
        dictionary = bool(column_map) or found_dates
        if not dictionary:
            notes.append("No Pan-NET date column (e.g. stage IV diagnosis date) was found, so the table is read "
                         "as it is (generic table): headers and values are not changed.")
    if not dictionary:
        return {}, list(names), False
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}

    def take(h: str, canon: str) -> None:
        if canon in taken:
            notes.append(f"Columns {taken[canon]!r} and {h!r} both mean {canon!r}; {taken[canon]!r} is used and "
                         f"{h!r} is left as it is (use the column map to choose).")
            return
        taken[canon] = h
        mapping[h] = canon

    for h in names:  # explicit map first, then exact names, then synonyms
        if h in wanted:
            take(h, wanted[h])
    for h in names:
        if h not in mapping and h in BY_NAME and h not in wanted:
            take(h, h)
    for h in names:
        if h not in mapping and h not in wanted and h not in BY_NAME:
            canon = canonical_column(h)
            if canon:
                take(h, canon)
    unmapped = [h for h in names if h not in mapping]
    return mapping, unmapped, True


def rename_columns(frame: pd.DataFrame, mapping: dict[str, str], unmapped: list[str], notes: list[str]) -> pd.DataFrame:
    targets = set(mapping.values())
    new = {}
    for h in frame.columns:
        if h in mapping:
            new[h] = mapping[h]
        elif h in targets:
            new[h] = f"{h}_original"
            notes.append(f"Column {h!r} was renamed {new[h]!r} because another column is used as {h!r}.")
        else:
            new[h] = h
    return frame.rename(columns=new)
