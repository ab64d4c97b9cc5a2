"""Timing of the specification panel (``robustness`` rows) and of stage 3 with the robustness blocks.

Targets: the full panel (7 calipers x 12 orders = 84 re-matches with HRs) at most 1 s at demo size
and at most 10 s at 26,578 analysed patients (``--n-scale 137``).  The propensity model is fitted
once outside the timing, as the panel does.

Usage: python bench/specification_panel.py [--n-scale 1 [137 ...]] [--preset primary_tumour_resection]
  -> one JSON line per size
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's pannet_core
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pannet_core.runtime import configure  # noqa: E402

configure()  # as the CLI and the dashboard run (one BLAS thread), before numpy loads

from common import demo_file  # noqa: E402


def best(fn, repeat):
    t, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return round(t, 3), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-scale", type=int, nargs="+", default=[1])
    ap.add_argument("--preset", default="primary_tumour_resection")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from pannet_core import pipeline
    from pannet_core.cli import load_data
    from pannet_core.settings import load_preset
    from pannet_core.specification import robustness_rows

    s = load_preset(args.preset)
    for k in args.n_scale:
        prepared = pipeline.prepare(s, load_data(demo_file(k), s))
        fit = pipeline.fit_scores(s, prepared)
        t_stage3, _ = best(lambda p=prepared, f=fit: pipeline.analyse(s, p, f), args.repeat)
        t_panel, rows = best(lambda p=prepared, f=fit: robustness_rows(s, p, f), args.repeat)
        print(json.dumps({"n_scale": k, "patients": len(prepared.frame), "preset": args.preset,
                          "stage3_s": t_stage3, "panel_s": t_panel, "rows": len(rows),
                          "per_row_ms": round(1000 * t_panel / len(rows), 2)}))


if __name__ == "__main__":
    main()
