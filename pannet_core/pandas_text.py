"""Text columns of pandas' ``str`` dtype (missing = NaN) on every pandas this project pins.

pandas 3 gives text columns that dtype by default; pandas 2.3 (pinned while lifelines needs
``pandas<3``) gives it with the ``future.infer_string`` option.  The option is set the moment
pandas is imported, by whoever imports it first, so that the whole process sees one kind of text
column; importing this module does not import pandas itself (the command line reads its file
while pandas loads).  On pandas 3 nothing is done, and moving back to it is a pin change.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys


def _set(pandas) -> None:
    if int(pandas.__version__.split(".", 1)[0]) < 3:
        pandas.set_option("future.infer_string", True)


class _WhenPandasLoads(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of ``pandas`` so that :func:`_set` runs after it."""

    def find_spec(self, name, path=None, target=None):
        if name != "pandas":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _set(module)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Make text columns ``str`` now if pandas is loaded, else as soon as it is."""
    if "pandas" in sys.modules:
        _set(sys.modules["pandas"])
    elif not any(isinstance(f, _WhenPandasLoads) for f in sys.meta_path):
        sys.meta_path.insert(0, _WhenPandasLoads())
