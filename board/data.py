"""Getting a patient table and a settings file into the session.

These functions are what the Data page's widgets call; they are plain
functions so the tests can call them with bytes.  Every user-caused problem
ends as a PanNetError message shown with ``st.error`` (never a traceback),
and the previous table and settings stay in place.

An upload is accepted only when the file is *usable* for the current
settings (no validation error, the rule ``python -m pannet_core run``
applies).  A file with errors is kept aside as the *rejected* upload: the
Data page lists every problem with its fix and offers the column mapping, and
applying a mapping that makes it usable loads it.
"""
from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from board import state
from pannet_core.errors import PanNetError
from pannet_core.io import excel, privacy, reading, schema, validation
from pannet_core.settings import Settings

UPLOAD_ERROR = "pnb_upload_error"
SETTINGS_ERROR = "pnb_settings_error"
REJECTED = "pnb_rejected"        # TableEntry of the last upload that was not usable (kept out of the analysis)
INJECT = "pnb_inject_upload"     # (filename, bytes) put here is read like an upload on the next Data page run
INJECT_SETTINGS = "pnb_inject_settings"  # (filename, bytes) read like a settings upload on the next Data page run
SUFFIXES = ("csv", "xlsx", "txt", "tsv")


def read_bytes(data: bytes, filename: str, column_map: dict | None = None,
               dictionary: bool | None = None, text_columns=(), progress=None) -> state.TableEntry:
    """Read an uploaded CSV/XLSX into a table entry (not yet checked against the settings).

    Raises
    ------
    PanNetError
        The file cannot be read (wrong type, empty, binary, damaged, no rows ...).
    """
    if not data:
        raise PanNetError(f"The file {filename!r} is empty.", "Choose the exported CSV or XLSX file again.")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in SUFFIXES:
        raise PanNetError(f"The file {filename!r} is not a CSV or XLSX table.",
                          "Export the registry as CSV or Excel (.xlsx) and upload that file.")
    try:
        res = reading.read_table(io.BytesIO(data), filename=filename, column_map=column_map or None,
                                 dictionary=dictionary, text_columns=text_columns, progress=progress)
    except PanNetError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError, OSError) as exc:
        raise PanNetError(f"The file {filename!r} could not be read as a table ({type(exc).__name__}).",
                          "Check that it is a CSV or XLSX export with one header row.") from None
    frame = res.frame
    if frame is None or len(frame) == 0:
        raise PanNetError(f"The file {filename!r} has no data rows.", "Upload a file with one row per patient.")
    return state.TableEntry(frame=frame, fingerprint=state.fingerprint(frame), source="upload",
                            filename=filename, raw=bytes(data), mapping=dict(res.mapping or {}),
                            unmapped=tuple(res.unmapped or ()), notes=tuple(res.notes or ()))


def _where(row, column) -> str:
    """``data row N`` (row 1 is the first row under the header), as the validation report and the CLI say."""
    return (f"data row {int(row)}" if pd.notna(row) else "the file") + (f", column '{column}'" if column else "")


def check_usable(entry: state.TableEntry, settings: Settings) -> None:
    """Raise a PanNetError naming the first problems when ``entry`` has validation errors for ``settings``.

    The same rule as ``python -m pannet_core run``: errors make a file unusable, warnings do not.
    """
    problems = validation_problems(settings.to_json(), entry.fingerprint, entry.frame, settings)
    errors = problems.loc[problems["severity"] == "error"]
    if errors.empty:
        return
    shown = "; ".join(f"{_where(r.row, r.column)}: {str(r.problem).rstrip('.')}" for r in errors.head(3).itertuples())
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    fix = str(errors["fix"].iloc[0]).rstrip(".")
    raise PanNetError(f"{entry.filename} was not loaded: it has {len(errors)} error(s) for the current settings: "
                      f"{shown}{more}.",
                      f"{fix}. The validation report below lists every problem with its fix; correct the file "
                      "(or map its columns, or load the settings file it belongs to first) and upload it again. "
                      "The previous table is still in use.")


def _read_for_settings(data: bytes, filename: str, column_map: dict | None, progress=None) -> state.TableEntry:
    s = state.settings()
    return read_bytes(data, filename, column_map, dictionary=True if s.is_pannet else None,
                      text_columns=s.text_columns, progress=progress)


def _progress_bar():
    """A progress callback for long reads: its Streamlit call also ends the read of a session that has gone."""
    bar = None

    def progress(rows: int) -> None:
        nonlocal bar
        if bar is None:
            bar = st.progress(0.0, text="Reading the workbook ...")
        bar.progress(min(rows / excel.MAX_ROWS, 1.0), text=f"Reading the workbook: {rows:,} rows so far")

    return progress


def handle_upload(data: bytes, filename: str) -> bool:
    """Read an upload and make it the session's table; on a problem keep the old table.

    Returns
    -------
    bool
        True when the new table was loaded; otherwise the problem is stored in
        ``st.session_state[UPLOAD_ERROR]`` for the page to show with ``st.error``
        (and a readable but unusable file in ``st.session_state[REJECTED]``).
    """
    st.session_state.pop(UPLOAD_ERROR, None)
    st.session_state.pop(REJECTED, None)
    try:
        entry = _read_for_settings(data, filename, dict(state.settings().column_map), progress=_progress_bar())
    except PanNetError as exc:
        st.session_state[UPLOAD_ERROR] = exc.message
        return False
    try:
        check_usable(entry, state.settings())
    except PanNetError as exc:
        st.session_state[UPLOAD_ERROR] = exc.message
        st.session_state[REJECTED] = entry
        return False
    state.set_table(entry)
    return True


def apply_column_map(extra: dict[str, str]) -> bool:
    """Add header -> dictionary mappings to the settings and re-read the uploaded (or rejected) bytes."""
    entry = st.session_state.get(REJECTED) or state.table()
    if entry is None or entry.raw is None:
        return False
    mapping = {**state.settings().column_map, **{k: v for k, v in extra.items() if v}}
    st.session_state.pop(UPLOAD_ERROR, None)
    try:
        new_entry = read_bytes(entry.raw, entry.filename, mapping, dictionary=True)
        new_settings = state.settings().replace(column_map=mapping)
        check_usable(new_entry, new_settings)
    except PanNetError as exc:
        st.session_state[UPLOAD_ERROR] = exc.message
        return False
    if not state.update(lambda s: s.replace(column_map=mapping)):
        return False
    st.session_state.pop(REJECTED, None)
    state.set_table(new_entry)
    return True


def use_demo() -> None:
    """Go back to the synthetic demonstration cohort."""
    st.session_state.pop(UPLOAD_ERROR, None)
    st.session_state.pop(REJECTED, None)
    state.set_table(state.demo_entry())


def drop_identity(columns: list[str]) -> None:
    """Replace the table by a copy without ``columns`` (privacy.drop_columns; the uploaded bytes are kept)."""
    entry = state.table()
    frame = privacy.drop_columns(entry.frame, columns)
    state.set_table(state.TableEntry(frame=frame, fingerprint=state.fingerprint(frame), source=entry.source,
                                     filename=entry.filename, raw=entry.raw, mapping=entry.mapping,
                                     unmapped=tuple(c for c in entry.unmapped if c not in columns),
                                     notes=entry.notes, dropped=tuple(entry.dropped) + tuple(columns)))


@st.cache_data(show_spinner=False, max_entries=16)
def _identity(fp: str, _frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    return list(privacy.identity_columns(_frame))


def identity_columns(entry: state.TableEntry) -> list[tuple[str, str, str]]:
    """Columns of the table that look like a personal identity number or a name: (column, kind, reason)."""
    return _identity(entry.fingerprint, entry.frame)


@st.cache_resource(show_spinner=False)
def templates() -> tuple[bytes, bytes]:
    """The data dictionary's empty template as CSV and XLSX bytes (built once per server)."""
    return schema.template_csv_bytes(), schema.template_xlsx_bytes()


def load_settings_bytes(data: bytes | str) -> Settings:
    """Parse a saved settings file and make it the session's settings.

    Raises
    ------
    SettingsError
        The file is not valid settings JSON (the message says which key and why).
    """
    new = Settings.from_json(data)  # bytes: decoded as the command line decodes them
    state.set_settings(new)
    st.session_state[state.PRESET] = None
    return new


def handle_settings_upload(data: bytes, filename: str) -> bool:
    """Load a settings file; on a problem keep the current settings and store the message for ``st.error``."""
    st.session_state.pop(SETTINGS_ERROR, None)
    try:
        load_settings_bytes(data)
    except PanNetError as exc:
        st.session_state[SETTINGS_ERROR] = f"{filename}: {exc.message}"
        return False
    return True


@st.cache_data(show_spinner=False, max_entries=8)
def validation_problems(key: str, fp: str, _frame: pd.DataFrame, _settings: Settings) -> pd.DataFrame:
    """Every problem of the table as a DataFrame: row, column, value, problem, fix, severity."""
    problems = validation.validate(_frame, _settings)
    rows = [{"severity": p.severity, "row": p.row, "column": p.column,
             "value": None if p.value is None else str(p.value), "problem": p.problem, "fix": p.fix}
            for p in problems]
    return pd.DataFrame(rows, columns=["severity", "row", "column", "value", "problem", "fix"])
