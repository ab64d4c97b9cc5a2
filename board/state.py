"""The session: one :class:`~pannet_core.settings.Settings` object and one patient table.

Every choice a user makes lives in ``st.session_state[SETTINGS]``, an
immutable ``Settings``.  Widgets never own state: each run re-seeds the
widget's key from the settings *before* the widget is drawn, and the widget's
``on_change`` callback writes a new ``Settings`` (``with_values``/``replace``).
Streamlit deletes the state of widgets that are not drawn on the current
page; re-seeding makes that harmless, so every choice survives page switches
and reruns.

The patient table lives in ``st.session_state[TABLE]`` as a :class:`TableEntry`
and is never modified; dropping identity columns or re-mapping headers makes
a new entry.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd
import streamlit as st

from board.fmt import md_text
from pannet_core import demo
from pannet_core.errors import PanNetError
from pannet_core.settings import PropensitySettings, Settings, StudySettings, load_preset, preset_names

SETTINGS = "pnb_settings"
TABLE = "pnb_table"
PRESET = "pnb_preset"
MESSAGE = "pnb_message"   # (kind, text) shown once on the next run
DEFAULT_PRESET = "primary_tumour_resection"

PRESET_LABELS = {
    "primary_tumour_resection": "000 - Primary tumour resection (resection study)",
    "liver_surgery_tha": "001 - Liver surgery / thermal ablation (THA)",
}


@dataclass(frozen=True)
class TableEntry:
    """The patient table of the session and where it came from.

    Attributes
    ----------
    frame : DataFrame
        Canonical columns, as read; never modified.
    fingerprint : str
        Content hash used as the cache key of every pipeline stage.
    source : str
        ``"demo"`` (synthetic demonstration data) or ``"upload"``.
    filename : str
        Name shown in the sidebar.
    raw : bytes or None
        The uploaded bytes (re-read when the column mapping changes).
    mapping, unmapped, notes
        From ``reading.read_table``: header -> dictionary name, headers not
        recognised, and remarks made while reading.
    dropped : tuple of str
        Identity columns the user chose to drop.
    """

    frame: pd.DataFrame
    fingerprint: str
    source: str
    filename: str
    raw: bytes | None = None
    mapping: dict = field(default_factory=dict)
    unmapped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"


def fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of a table: columns, dtypes and every value (row order matters)."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    try:
        values = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        h.update(values.tobytes())
    except TypeError:  # unhashable cells: fall back to their text
        h.update(frame.to_csv(index=False).encode())
    return h.hexdigest()[:16]


@st.cache_data(show_spinner=False, max_entries=2)
def _demo_frame() -> pd.DataFrame:
    return demo.make_demo_cohort()


def demo_entry() -> TableEntry:
    """The synthetic demonstration cohort as a table entry."""
    frame = _demo_frame()
    return TableEntry(frame=frame, fingerprint=fingerprint(frame), source="demo",
                      filename="synthetic demonstration cohort")


# --------------------------------------------------------------------------- settings
def default_settings() -> Settings:
    """The 000 preset (primary tumour resection), or the first preset there is."""
    names = preset_names()
    if DEFAULT_PRESET in names:
        return load_preset(DEFAULT_PRESET)
    if names:
        return load_preset(names[0])
    return Settings(propensity=PropensitySettings(covariates=("age_at_diagnosis",)), study=StudySettings(),
                    name="built-in default")


def settings() -> Settings:
    """The session's settings (initialised with the default preset)."""
    if SETTINGS not in st.session_state:
        st.session_state[SETTINGS] = default_settings()
        st.session_state[PRESET] = DEFAULT_PRESET if DEFAULT_PRESET in preset_names() else None
    return st.session_state[SETTINGS]


def set_settings(new: Settings) -> None:
    """Store new settings after checking them by a JSON round trip (a bad value raises SettingsError)."""
    checked = Settings.from_dict(new.to_dict())
    st.session_state[SETTINGS] = checked


def update(change: Callable[[Settings], Settings]) -> bool:
    """Apply ``change`` to the settings; a PanNetError is kept for display instead of raised."""
    try:
        set_settings(change(settings()))
    except PanNetError as exc:
        flash("error", exc.message)
        return False
    return True


def apply_preset(name: str) -> None:
    """Replace the settings by a preset (the column mapping of the current table is kept)."""
    old = settings()
    new = load_preset(name)
    if old.column_map and not new.column_map:
        new = new.replace(column_map=dict(old.column_map))
    set_settings(new)
    st.session_state[PRESET] = name


def flash(kind: str, text: str) -> None:
    """Queue a message (``"error"``, ``"success"``, ``"warning"``) shown on the next page run."""
    st.session_state.setdefault(MESSAGE, [])
    st.session_state[MESSAGE].append((kind, text))


def show_messages() -> None:
    """Show and clear the queued messages."""
    for kind, text in st.session_state.pop(MESSAGE, []):
        getattr(st, kind)(md_text(text))


# --------------------------------------------------------------------------- table
def table() -> TableEntry | None:
    """The session's table; the demo cohort when nothing was uploaded."""
    if TABLE not in st.session_state:
        st.session_state[TABLE] = demo_entry()
    return st.session_state[TABLE]


def set_table(entry: TableEntry) -> None:
    st.session_state[TABLE] = entry


def ensure_initialised() -> None:
    """Settings and table exist (demo cohort with the 000 preset on first open)."""
    settings()
    table()


# --------------------------------------------------------------------------- widgets
def key_for(*parts: Any) -> str:
    """A widget key derived from the settings path it edits, e.g. ``w.matching.caliper``."""
    return "w." + ".".join(str(p) for p in parts)


def control(widget: Callable, label: str, key: str, value: Any,
            setter: Callable[[Settings, Any], Settings], **kwargs) -> Any:
    """Draw ``widget`` showing ``value`` and write changes back through ``setter``.

    Parameters
    ----------
    widget : callable
        A Streamlit widget function (``st.slider``, ``st.sidebar.radio`` ...).
    label : str
        Widget label.
    key : str
        Widget key (see :func:`key_for`).
    value : any
        The value the widget must show, taken from the settings on this run.
    setter : callable
        ``setter(settings, widget_value) -> Settings``.
    **kwargs
        Passed to the widget (options, min_value, format ...).
    """
    if key not in st.session_state or st.session_state[key] != value:
        # writing the key sends the value to the browser, which would undo key presses made during a rerun
        st.session_state[key] = value

    def _changed() -> None:
        new_value = st.session_state[key]
        update(lambda s: setter(s, new_value))

    return widget(label, key=key, on_change=_changed, **kwargs)


def field_control(widget: Callable, label: str, section: str, name: str, *,
                  to_widget: Callable = lambda v: v, from_widget: Callable = lambda v: v,
                  key: str | None = None, **kwargs) -> Any:
    """:func:`control` for one field of one settings section, e.g. ``("matching", "ratio")``.

    ``key`` defaults to ``w.<section>.<name>``; give another one when the same
    field has a widget in the sidebar and on a page.
    """
    current = getattr(getattr(settings(), section), name)
    return control(widget, label, key or key_for(section, name), to_widget(current),
                   lambda s, v: s.with_values(section, **{name: from_widget(v)}), **kwargs)
