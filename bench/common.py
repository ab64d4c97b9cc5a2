"""Shared helpers for the benchmarks (plain scripts; run them with bench/run_all.py)."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the benchmarks import this checkout's pannet_core, not an installed one

from pannet_core.runtime import configure  # noqa: E402

# the process settings the CLI and the dashboard run with (one BLAS thread, Arrow's system memory
# pool), before any benchmark imports numpy or pyarrow
configure()

PY = sys.executable
WORK = Path(os.environ.get("PANNET_BENCH_DIR", "/tmp/pannet-bench"))
PRESET = ROOT / "pannet_core" / "presets" / "primary_tumour_resection.json"
#: --n-scale K of ``python -m pannet_core demo``: rows in the file are about 733 K
SCALES = {"demo": 1, "2k": 3, "20k": 27, "100k": 137, "200k": 273}


def machine() -> dict:
    """CPU model, cores, memory, load average and library versions at the time of the run."""
    import numpy
    import pandas
    import scipy

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 ** 2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        r = subprocess.run(["Rscript", "-e", 'cat(R.version.string, "MatchIt", as.character(packageVersion("MatchIt")),'
                            ' "survival", as.character(packageVersion("survival")))'],
                           capture_output=True, text=True, timeout=60)
        rver = r.stdout.strip() or "not available"
    except (OSError, subprocess.TimeoutExpired):
        rver = "not available"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "loadavg": os.getloadavg(),
            "python": platform.python_version(), "numpy": numpy.__version__, "pandas": pandas.__version__,
            "scipy": scipy.__version__, "R": rver, "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def timed_process(cmd: list[str], repeat: int = 3, env: dict | None = None) -> dict:
    """Run ``cmd`` ``repeat`` times under /usr/bin/time.

    Returns the best run (wall time, its CPU time and peak RSS) with ``walls_s``, every run's wall
    time in order, and ``median_wall_s``.
    """
    best, walls = None, []
    for _ in range(repeat):
        fmt = "%e %U %S %M"
        r = subprocess.run(["/usr/bin/time", "-f", "BENCHTIME " + fmt, *cmd], capture_output=True, text=True,
                           env=env)
        line = [ln for ln in r.stderr.splitlines() if ln.startswith("BENCHTIME ")]
        if r.returncode != 0 or not line:
            return {"ok": False, "error": (r.stderr or r.stdout)[-400:], "cmd": " ".join(cmd)}
        wall, user, sys_, rss = line[-1].split()[1:]
        res = {"ok": True, "wall_s": float(wall), "cpu_s": float(user) + float(sys_), "peak_mb": int(rss) / 1024,
               "cmd": " ".join(cmd), "stdout": r.stdout.strip()[-300:]}
        walls.append(res["wall_s"])
        if best is None or res["wall_s"] < best["wall_s"]:
            best = res
    best["walls_s"] = walls
    best["median_wall_s"] = sorted(walls)[len(walls) // 2]
    return best


def best(fn, repeat: int = 3, digits: int = 2) -> float:
    """The fastest of ``repeat`` calls of ``fn``, in milliseconds."""
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return round(1000 * t, digits)


def demo_file(k: int) -> Path:
    """The demo cohort at ``--n-scale k`` (written once)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"demo_{k}.csv"
    if not path.exists():
        subprocess.run([PY, "-m", "pannet_core", "demo", "--out", str(path), "--n-scale", str(k)], check=True,
                       cwd=ROOT, capture_output=True)
    return path


def save(name: str, obj) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(obj, indent=2, default=str))
    return path
