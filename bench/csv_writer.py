"""Our CSV writer (``report/csv_writer.write_csv``) against ``DataFrame.to_csv`` for the two tables ``run`` writes.

Run: ``.venv/bin/python bench/csv_writer.py [K]`` (default K = 273: the 200,109-row registry file).
The frames are the ones ``run --no-figures`` writes (``matched_cohort.csv``, ``excluded_patients.csv``);
both writers produce the same bytes (tests/test_csv_out.py).  Best of 5 each, interleaved.  The peer is
``safe_frame(frame).to_csv(path, index=False)``: what ``write_csv`` promises to equal, formula cells
neutralised.

``bench/csv_writer.py K --cli [N]`` times the whole ``run --no-figures`` process instead, N times each
(default 5), interleaved: as shipped, and with ``write_csv`` replaced by that peer (the
column texts the writer thread prepares are then not made).
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import PRESET, PY, ROOT, demo_file, save, timed_process

from pannet_core.cli import load_data
from pannet_core.pipeline import analyse, fit_scores, prepare
from pannet_core.report.csv_writer import write_csv
from pannet_core.report.results import excluded_patients_frame, matched_cohort_frame
from pannet_core.report.safe_cells import safe_frame
from pannet_core.settings import Settings

# ``python -m pannet_core`` with the CSV writer swapped for pandas' (argv as for the module)
TO_CSV_MAIN = """
import os, sys
from pannet_core.runtime import configure
configure()
import pannet_core.report.csv_writer as w
from pannet_core.report.safe_cells import safe_frame
w.write_csv = lambda frame, path, known=None: safe_frame(frame).to_csv(path, index=False)
w.column_texts = lambda *args, **kwargs: None
from pannet_core.cli import main
code = main()
sys.stdout.flush(); sys.stderr.flush()
os._exit(code)
"""


def whole_process(k: int, runs: int) -> dict:
    """``run --no-figures`` wall / CPU per writer, interleaved, one run at a time."""
    data = demo_file(k)
    walls = {"ours": [], "to_csv": []}
    cpus = {"ours": [], "to_csv": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            for who in ("ours", "to_csv"):
                head = [PY, "-m", "pannet_core"] if who == "ours" else [PY, "-c", TO_CSV_MAIN]
                cmd = [*head, "run", "--data", str(data), "--settings", str(PRESET),
                       "--out", f"{tmp}/{who}-{i}", "--no-figures"]
                r = timed_process(cmd, repeat=1, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
                if not r["ok"]:
                    raise SystemExit(r["error"])
                walls[who].append(r["wall_s"])
                cpus[who].append(r["cpu_s"])
        same = all((Path(tmp) / f"ours-0/{n}").read_bytes() == (Path(tmp) / f"to_csv-0/{n}").read_bytes()
                   for n in ("matched_cohort.csv", "excluded_patients.csv", "results.json"))
    return {"k": k, "runs": runs, "same_bytes": same,
            "wall_s": {w: {"best": min(v), "median": statistics.median(v), "all": v} for w, v in walls.items()},
            "cpu_s_median": {w: statistics.median(v) for w, v in cpus.items()}}


def main() -> int:
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 273
    if "--cli" in sys.argv:
        at = sys.argv.index("--cli")
        runs = int(sys.argv[at + 1]) if len(sys.argv) > at + 1 else 5
        out = whole_process(k, runs)
        print(json.dumps(out))
        save("csv_writer_cli", out)
        return 0
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
                    write_csv(frame, path) if who == "ours" else safe_frame(frame).to_csv(path, index=False)
                    dt = time.perf_counter() - t0
                    best[who][name] = min(best[who].get(name, dt), dt)
    out = {"k": k, "rows": {n: len(f) for n, f in frames.items()},
           "ms": {who: {n: round(1000 * v, 1) for n, v in d.items()} for who, d in best.items()}}
    print(json.dumps(out))
    save("csv_writer", out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
