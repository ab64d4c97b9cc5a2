"""Our CSV writer (``report/csv_writer.write_csv``) against ``DataFrame.to_csv`` for the two tables ``run`` writes.

Run: ``.venv/bin/python bench/csv_writer.py [K]`` (default K = 273: the 200,109-row registry file).
The frames are the ones ``run --no-figures`` writes (``matched_cohort.csv``, ``excluded_patients.csv``);
both writers produce the same bytes (tests/test_csv_out.py).  Best of 5 each, interleaved.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from common import PRESET, demo_file, save

from pannet_core.cli import load_data
from pannet_core.pipeline import analyse, fit_scores, prepare
from pannet_core.report.csv_writer import write_csv
from pannet_core.report.results import excluded_patients_frame, matched_cohort_frame
from pannet_core.settings import Settings


def main() -> int:
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 273
    settings = Settings.load(PRESET)
    table = load_data(demo_file(k), settings)
    prepared = prepare(settings, table)
    result = analyse(settings, prepared, fit_scores(settings, prepared))
    frames = {"matched_cohort.csv": matched_cohort_frame(result),
              "excluded_patients.csv": excluded_patients_frame(result)}
    best = {"ours": {}, "to_csv": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(5):
            for name, frame in frames.items():
                for who in ("ours", "to_csv"):
                    path = Path(tmp) / f"{who}-{name}"
                    t0 = time.perf_counter()
                    write_csv(frame, path) if who == "ours" else frame.to_csv(path, index=False)
                    dt = time.perf_counter() - t0
                    best[who][name] = min(best[who].get(name, dt), dt)
    out = {"k": k, "rows": {n: len(f) for n, f in frames.items()},
           "ms": {who: {n: round(1000 * v, 1) for n, v in d.items()} for who, d in best.items()}}
    print(json.dumps(out))
    save("csv_writer", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
