"""PNG export of the KM figure once the export browser is warm (warm = after one export).

Usage: python bench/export_png.py  -> one JSON line (skipped when no browser is available)
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PRESET, demo_file  # noqa: E402


def main() -> dict:
    from pannet_core import figures, pipeline
    from pannet_core.cli import load_data
    from pannet_core.report import export
    from pannet_core.settings import Settings

    if not export.browser_available():
        return {"export": "skipped: no browser for kaleido"}
    s = Settings.load(PRESET)
    res = pipeline.run_analysis(s, load_data(demo_file(1), s))
    fig = figures.km_figure(res.matched)
    t0 = time.perf_counter()
    export.figure_png(fig)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        export.figure_png(fig)
        warm.append(time.perf_counter() - t0)
    return {"export": "figure_png(km_figure)", "cold_s": round(cold, 3), "warm_best_s": round(min(warm), 3),
            "warm_median_s": round(sorted(warm)[2], 3)}


if __name__ == "__main__":
    print(json.dumps(main()))
