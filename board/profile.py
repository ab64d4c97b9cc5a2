"""Optional server-side timing of script runs (off unless ``PANNET_PROFILE`` is set).

``PANNET_PROFILE=1`` prints one line per timed block to the server's stderr::

    [pnb-profile] run:matching wall_ms=61.2 cpu_ms=58.0 depth=0

(``depth=0``: a whole script run, or a fragment rerun; deeper lines are parts of one.)

``PANNET_PROFILE=pyinstrument`` additionally profiles every whole app run with
pyinstrument (if installed) and prints its text report.  ``bench/browser_latency.py``
starts the server with ``PANNET_PROFILE=1`` and reads these lines to split a
settings change into server time and browser time.  With the variable unset
:func:`timed` costs one dictionary lookup.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

MODE = os.environ.get("PANNET_PROFILE", "").strip().lower()
ENABLED = MODE not in ("", "0", "false", "no")
_DEPTH = threading.local()  # nesting of timed blocks in this thread (a script run is depth 0)


@contextlib.contextmanager
def timed(label: str, *, whole_run: bool = False):
    """Time the block (wall and CPU); with ``whole_run`` and ``PANNET_PROFILE=pyinstrument`` profile it too."""
    if not ENABLED:
        yield
        return
    profiler = None
    if whole_run and MODE == "pyinstrument":
        try:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        except Exception:  # pragma: no cover - optional tool (missing, or another profiler running)
            profiler = None
    depth = getattr(_DEPTH, "n", 0)
    _DEPTH.n = depth + 1
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        _DEPTH.n = depth
        wall, cpu = 1000 * (time.perf_counter() - t0), 1000 * (time.process_time() - c0)
        print(f"[pnb-profile] {label} wall_ms={wall:.1f} cpu_ms={cpu:.1f} depth={depth}", file=sys.stderr,
              flush=True)
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr, flush=True)
