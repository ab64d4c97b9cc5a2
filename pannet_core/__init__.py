"""PanNET Board core: pure-Python statistics behind the dashboard and the CLI.

No Streamlit import anywhere in this package.
"""
from pannet_core import pandas_text

pandas_text.install()  # before any module of the package builds a frame

from pannet_core.errors import PanNetError, SettingsError  # noqa: E402
from pannet_core.settings import Settings, load_preset, preset_names  # noqa: E402

__version__ = "0.1.0"
__all__ = ["PanNetError", "SettingsError", "Settings", "load_preset", "preset_names", "__version__"]
