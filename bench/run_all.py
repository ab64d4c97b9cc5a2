"""Every benchmark (``make bench``): machine details, pipeline stages, kernels, whole process vs R and
psmpy (raw registry file for ours, prepared cohort for the peers), whole process vs R on the same
prepared-cohort file (peers_generic.py), our CSV writer against DataFrame.to_csv (in process and as
the whole ``run``), the liver preset's Cox models as a whole process (liver_cox.py),
PNG export, browser latency of a settings change
(browser_latency.py).  Results go to bench/results/*.json and a summary is printed.

Usage: python bench/run_all.py [--quick]   (--quick: demo and 20k sizes only)
PANNET_BENCH_R_MAHVARS_MAX=200000 adds R mahvars at 200,000 patients to peers_generic (~8 min more).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PY, ROOT, machine, save  # noqa: E402


def _lines(script: str, *args: str) -> list[dict]:
    r = subprocess.run([PY, str(ROOT / "bench" / script), *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        return [{"error": r.stderr[-800:]}]
    return [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]


def main() -> None:
    quick = "--quick" in sys.argv
    ks = ["1", "27"] if quick else ["1", "3", "27", "273"]
    peer_ks = ["1", "27"] if quick else ["1", "3", "27", "137", "273"]
    generic_ns = ["194", "20000"] if quick else ["194", "2000", "20000", "100000", "200000"]
    liver_ks = ["27"] if quick else ["27", "273"]
    info = machine()
    save("machine", info)
    print(json.dumps(info))
    for name, script, args in (("stages", "stages.py", ks), ("kernels", "kernels.py", []),
                               ("csv_writer", "csv_writer.py", []),
                               ("csv_writer_cli", "csv_writer.py", ["27" if quick else "273", "--cli"]),
                               ("peers", "peers.py", peer_ks),
                               ("peers_generic", "peers_generic.py", generic_ns),
                               ("liver_cox", "liver_cox.py", liver_ks), ("export", "export_png.py", [])):
        rows = _lines(script, *args)
        save(name, rows)
        for row in rows:
            print(name, json.dumps(row), flush=True)
    # slider release -> updated charts in headless Debian chromium (bench/browser_latency.py writes
    # bench/results/browser_latency.json itself; prints {"skipped": ...} without chromium or Playwright)
    for row in _lines("browser_latency.py"):
        print("browser_latency", json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
