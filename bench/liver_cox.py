"""The liver surgery / thermal ablation preset (seed 001: univariable and multivariable Cox models,
cox.zph, truncation) as a whole process, ``python -m pannet_core run --no-figures``, with peak memory
(/usr/bin/time %M), and the in-process time of its ``cox_models`` step (the ~26 Cox fits, p up to ~21).

Usage: python bench/liver_cox.py [K ...]   (demo --n-scale values; default 27 273, i.e. ~20k and ~200k rows)
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PY, ROOT, WORK, demo_file, timed_process  # noqa: E402

LIVER = ROOT / "pannet_core" / "presets" / "liver_surgery_tha.json"


def cox_models_time(k: int) -> dict:
    from pannet_core import pipeline
    from pannet_core.cli import load_data
    from pannet_core.settings import Settings
    from pannet_core.stats.cox_models import cox_models

    s = Settings.load(LIVER)
    prepared = pipeline.prepare(s, load_data(demo_file(k), s))
    frame = prepared.frame
    t0 = time.perf_counter()
    m = cox_models(frame, s.cox.covariates, s.cox.categorical, p_enter=s.cox.p_enter,
                   truncate_fraction=s.survival.truncate_at_risk)
    return {"cox_models_ms": round(1000 * (time.perf_counter() - t0), 1), "cox_n": m.n, "cox_events": m.events,
            "entered": len(m.entered)}


def main(ks: list[int]) -> None:
    for k in ks:
        data = demo_file(k)
        n_rows = sum(1 for _ in open(data)) - 1
        rep = 3 if k <= 27 else 1
        ours = timed_process([PY, "-m", "pannet_core", "run", "--data", str(data), "--settings", str(LIVER),
                              "--out", str(WORK / f"out_liver_{k}"), "--no-figures"], rep,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        row = {"k": k, "rows_in_file": n_rows, "preset": LIVER.name, "ours": ours, **cox_models_time(k)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [27, 273])
