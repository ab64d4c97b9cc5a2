"""Import a ``pannet_core`` module if it is installed; pages show ``st.info`` when it is not."""
from __future__ import annotations

import importlib
from types import ModuleType


def core(name: str) -> ModuleType | None:
    """``pannet_core.<name>``, or ``None`` when it (or a module it needs) is not available yet.

    Parameters
    ----------
    name : str
        Module name inside ``pannet_core``, e.g. ``"figures"``.
    """
    try:
        return importlib.import_module(f"pannet_core.{name}")
    except ImportError:
        return None


def missing_note(what: str) -> str:
    """The text of the ``st.info`` shown where a piece of the analysis is not available yet."""
    return f"{what} is not available yet in this installation."
