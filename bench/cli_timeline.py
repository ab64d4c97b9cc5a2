"""Where the time of one ``python -m pannet_core run`` goes: each step's start and end on its thread.

Usage (from the repository root):

    python bench/cli_timeline.py [--data FILE] [--settings FILE]

Runs ``pannet_core.cli.main(["run", ..., "--no-figures"])`` once in this process, with the
steps wrapped as the command line imports them (no module is imported earlier than in a real
run, so the CSV prefetch overlaps the imports as it does there), and prints one line per step:
thread, step, start and end in ms since the start of this script, and the duration. The CPU
time of the whole process (all threads) ends the listing. Defaults: the 200,109-row demo file
(``python -m pannet_core demo --n-scale 273``) and the primary tumour resection preset.
"""
from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import builtins  # noqa: E402
import functools  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: module -> functions timed (wrapped once the module has finished importing)
STEPS = {
    "pannet_core.io.arrow_csv": ("regular_bytes", "read_strings", "plain_ascii", "header_and_clean_body"),
    "pannet_core.io.reading": ("read_table", "decode_text", "parse_csv", "type_raw_columns", "coerce_frame"),
    "pannet_core.pipeline": ("prepare", "fit_scores", "analyse"),
    "pannet_core.report.results": ("results_json", "matched_cohort_frame", "excluded_patients_frame"),
    "pannet_core.report.csv_writer": ("write_csv", "column_texts"),
    "pannet_core.cli": ("_require_usable", "_publish"),
    "json": ("dumps",),
}
EVENTS: list[tuple[str, str, float, float]] = []


def _timed(name: str, fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            EVENTS.append((threading.current_thread().name, name, start - T0, time.perf_counter() - T0))
    return run


def _install() -> None:
    """Wrap the steps of :data:`STEPS` as their modules finish importing (an import hook)."""
    done: set[str] = set()
    real_import = builtins.__import__

    def wrap_ready() -> None:
        for mod_name, names in STEPS.items():
            mod = sys.modules.get(mod_name)
            if mod_name in done or mod is None or not all(hasattr(mod, n) for n in names):
                continue
            done.add(mod_name)
            for n in names:
                setattr(mod, n, _timed(n, getattr(mod, n)))

    def hooked(name, globals=None, locals=None, fromlist=(), level=0):
        module = real_import(name, globals, locals, fromlist, level)
        wrap_ready()
        return module

    builtins.__import__ = hooked
    wrap_ready()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="/tmp/pannet-bench/demo_273.csv")
    p.add_argument("--settings", default=str(ROOT / "pannet_core" / "presets" / "primary_tumour_resection.json"))
    args = p.parse_args()
    from pannet_core.runtime import configure

    configure()  # as python -m pannet_core does, before numpy and pyarrow load
    _install()
    from pannet_core import cli
    from pannet_core.io import arrow_csv

    prefetch_run = arrow_csv._Prefetch._run
    arrow_csv._Prefetch._run = _timed("prefetch (read, check, parse, clean)", prefetch_run)
    real_load = cli.load_data

    def load_data(*a, **k):  # the first thing _run does after its imports
        EVENTS.append((threading.current_thread().name, "imports (from the start)", 0.0, time.perf_counter() - T0))
        return real_load(*a, **k)

    cli.load_data = load_data
    with tempfile.TemporaryDirectory() as tmp:
        rc = cli.main(["run", "--data", args.data, "--settings", args.settings, "--out", str(Path(tmp) / "out"),
                       "--no-figures"])
    end = time.perf_counter() - T0
    for thread, name, start, stop in sorted(EVENTS, key=lambda e: e[3]):
        print(f"{thread[:16]:16s} {name:36s} {1000 * start:7.0f} {1000 * stop:7.0f}  ({1000 * (stop - start):5.0f})")
    print(f"{'':16s} {'end':36s} {'':7s} {1000 * end:7.0f}   CPU {time.process_time():.2f} s (all threads)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
