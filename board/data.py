"""Getting a patient table and a settings file into the session.

These functions are what the Data page's widgets call; they are plain
functions so the tests can call them with bytes.  Every user-caused problem
ends as a PanNetError message shown with ``st.error`` (never a traceback),
and the previous table stays in place.
"""
from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from board import state
from board.optional import core
from pannet_core.errors import PanNetError
from pannet_core.settings import Settings

UPLOAD_ERROR = "pnb_upload_error"
INJECT = "pnb_inject_upload"  # (filename, bytes) put here is read like an upload on the next Data page run


@st.cache_data(show_spinner=False, max_entries=2)
def _demo_frame() -> pd.DataFrame:
    demo = core("demo")
    return demo.make_demo_cohort()


def demo_entry() -> state.TableEntry | None:
    """The synthetic demonstration cohort as a table entry (None if demo.py is not there yet)."""
    if core("demo") is None:
        return None
    frame = _demo_frame()
    return state.TableEntry(frame=frame, fingerprint=state.fingerprint(frame), source="demo",
                            filename="synthetic demonstration cohort")


def read_bytes(data: bytes, filename: str, column_map: dict | None = None) -> state.TableEntry:
    """Read an uploaded CSV/XLSX into a table entry.

    Raises
    ------
    PanNetError
        The file cannot be read (wrong type, empty, not a table ...).
    """
    reading = core("reading")
    if reading is None:
        raise PanNetError("Reading uploaded files is not available yet in this installation.",
                          "Use the demonstration cohort for now.")
    if not data:
        raise PanNetError(f"The file {filename!r} is empty.", "Choose the exported CSV or XLSX file again.")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("csv", "xlsx", "txt", "tsv"):
        raise PanNetError(f"The file {filename!r} is not a CSV or XLSX table.",
                          "Export the registry as CSV or Excel (.xlsx) and upload that file.")
    try:
        res = reading.read_table(io.BytesIO(data), filename=filename, column_map=column_map or None)
    except PanNetError:
        raise
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, OSError) as exc:
        raise PanNetError(f"The file {filename!r} could not be read as a table ({type(exc).__name__}).",
                          "Check that it is a CSV or XLSX export with one header row.") from None
    frame = getattr(res, "frame", res)
    if frame is None or len(frame) == 0:
        raise PanNetError(f"The file {filename!r} has no data rows.", "Upload a file with one row per patient.")
    return state.TableEntry(frame=frame, fingerprint=state.fingerprint(frame), source="upload",
                            filename=filename, raw=bytes(data), mapping=dict(getattr(res, "mapping", {}) or {}),
                            unmapped=tuple(getattr(res, "unmapped", ()) or ()),
                            notes=tuple(getattr(res, "notes", ()) or ()))


def handle_upload(data: bytes, filename: str) -> bool:
    """Read an upload and make it the session's table; on a problem keep the old table.

    Returns
    -------
    bool
        True when the new table was loaded; otherwise the problem is stored in
        ``st.session_state[UPLOAD_ERROR]`` for the page to show with ``st.error``.
    """
    st.session_state.pop(UPLOAD_ERROR, None)
    try:
        entry = read_bytes(data, filename, dict(state.settings().column_map))
    except PanNetError as exc:
        st.session_state[UPLOAD_ERROR] = exc.message
        return False
    state.set_table(entry)
    return True


def apply_column_map(extra: dict[str, str]) -> bool:
    """Add header -> dictionary mappings to the settings and re-read the uploaded bytes."""
    entry = state.table()
    if entry is None or entry.raw is None:
        return False
    mapping = {**state.settings().column_map, **{k: v for k, v in extra.items() if v}}
    try:
        new_entry = read_bytes(entry.raw, entry.filename, mapping)
    except PanNetError as exc:
        st.session_state[UPLOAD_ERROR] = exc.message
        return False
    if not state.update(lambda s: s.replace(column_map=mapping)):
        return False
    state.set_table(new_entry)
    return True


def use_demo() -> None:
    """Go back to the synthetic demonstration cohort."""
    st.session_state.pop(UPLOAD_ERROR, None)
    state.set_table(demo_entry())


def drop_identity(columns: list[str]) -> None:
    """Replace the table by a copy without ``columns`` (the uploaded bytes are kept unchanged)."""
    entry = state.table()
    privacy = core("privacy")
    frame = privacy.drop_columns(entry.frame, columns) if privacy is not None else entry.frame.drop(columns=columns)
    state.set_table(state.TableEntry(frame=frame, fingerprint=state.fingerprint(frame), source=entry.source,
                                     filename=entry.filename, raw=entry.raw, mapping=entry.mapping,
                                     unmapped=entry.unmapped, notes=entry.notes,
                                     dropped=tuple(entry.dropped) + tuple(columns)))


def identity_columns(frame: pd.DataFrame) -> list:
    """Columns that look like a personal identity number or a name (privacy.identity_columns)."""
    privacy = core("privacy")
    if privacy is None:
        return []
    return list(privacy.identity_columns(frame))


def load_settings_bytes(data: bytes | str) -> Settings:
    """Parse a saved settings file and make it the session's settings.

    Raises
    ------
    SettingsError
        The file is not valid settings JSON (the message says which key and why).
    """
    new = Settings.from_json(data)
    state.set_settings(new)
    st.session_state[state.PRESET] = None
    return new


@st.cache_data(show_spinner=False, max_entries=8)
def validation_problems(key: str, fp: str, _frame: pd.DataFrame, _settings: Settings) -> pd.DataFrame:
    """Every problem of the table as a DataFrame: row, column, value, problem, fix, severity."""
    validation = core("validation")
    problems = validation.validate(_frame, _settings)
    rows = [{"severity": p.severity, "row": p.row, "column": p.column,
             "value": None if p.value is None else str(p.value), "problem": p.problem, "fix": p.fix}
            for p in problems]
    return pd.DataFrame(rows, columns=["severity", "row", "column", "value", "problem", "fix"])
