"""Whole-process comparison: ``python -m pannet_core run --no-figures`` against R
(bench/r_pipeline.R: glm + MatchIt + survfit/survdiff/coxph; once with MatchIt's default vector
routine, which ignores the 0.1 caliper, and once with mahvars = ~ps, which honours it) and psmpy (PS + matching only)
on the same analysis cohort, with peak memory (/usr/bin/time %M).

Usage: python bench/peers.py [K ...]   (demo --n-scale values; default 1 3 27 137 273)
Ours runs 5 times at every size (best and median wall time); R and psmpy 3 times up to
--n-scale 27 and once above.
psmpy is installed into .venv-bench (created here, never into .venv).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PRESET, PY, ROOT, WORK, demo_file, timed_process  # noqa: E402

BENCH_VENV = ROOT / ".venv-bench"
#: psmpy's matching loops over treated patients in Python: above this --n-scale it takes many minutes
PSMPY_MAX_K = 27
#: runs of ours at every size (a few seconds each): the best and the median are reported
OURS_RUNS = 5


def ensure_psmpy() -> Path | None:
    """The separate venv with psmpy (None if its dependencies cannot be installed)."""
    py = BENCH_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=False)
    ok = subprocess.run([str(py), "-c", "import psmpy"], capture_output=True).returncode == 0
    if not ok:
        subprocess.run([str(py), "-m", "pip", "install", "-q", "psmpy"], capture_output=True)
        ok = subprocess.run([str(py), "-c", "import psmpy"], capture_output=True).returncode == 0
    return py if ok else None


def cohort_csv(k: int) -> tuple[Path, list[str]]:
    """The analysed cohort (pipeline.prepare(...).frame) with the covariates, for the peers."""
    from pannet_core import pipeline
    from pannet_core.cli import load_data
    from pannet_core.settings import Settings

    out = WORK / f"cohort_{k}.csv"
    settings = Settings.load(PRESET)
    covs = list(settings.propensity.covariates)
    if not out.exists():
        frame = pipeline.prepare(settings, load_data(demo_file(k), settings)).frame
        c = frame[["treated", "time", "event"] + covs].copy()
        c["treated"] = c["treated"].astype(int)
        for v in covs:  # missing -> its own level, as our propensity.missing == "level"
            c[v] = c[v].astype(object).where(c[v].notna(), "N/A").astype(str)
        c.to_csv(out, index=False)
    return out, covs


def main(ks: list[int]) -> list[dict]:
    psmpy_py = ensure_psmpy()
    rows = []
    for k in ks:
        data = demo_file(k)
        cohort, covs = cohort_csv(k)
        n_rows = sum(1 for _ in open(data)) - 1
        n_an = sum(1 for _ in open(cohort)) - 1
        rep = 3 if k <= 27 else 1  # R and psmpy: one run above --n-scale 27 (R mahvars takes ~30 s there)
        ours = timed_process([PY, "-m", "pannet_core", "run", "--data", str(data), "--settings", str(PRESET),
                              "--out", str(WORK / f"out_{k}"), "--no-figures"], OURS_RUNS)
        r = timed_process(["timeout", "600", "Rscript", str(ROOT / "bench" / "r_pipeline.R"), str(cohort),
                           ",".join(covs)], rep)
        rm = timed_process(["timeout", "900", "Rscript", str(ROOT / "bench" / "r_pipeline.R"), str(cohort),
                            ",".join(covs), "mahvars"], rep)
        p = (timed_process(["timeout", "900", str(psmpy_py), str(ROOT / "bench" / "psmpy_peer.py"), str(cohort),
                            ",".join(covs)], rep) if psmpy_py and k <= PSMPY_MAX_K else
             {"ok": False,
              "error": "psmpy not installable" if not psmpy_py else f"not run above --n-scale {PSMPY_MAX_K}"})
        row = {"k": k, "rows_in_file": n_rows, "analysed": n_an, "ours": ours, "R": r, "R_mahvars": rm, "psmpy": p}
        if ours.get("ok") and rm.get("ok"):
            row["R_mahvars_over_ours"] = round(rm["wall_s"] / ours["wall_s"], 2)
        if ours.get("ok") and r.get("ok"):
            row["R_over_ours"] = round(r["wall_s"] / ours["wall_s"], 2)
        if ours.get("ok") and p.get("ok"):
            row["psmpy_over_ours"] = round(p["wall_s"] / ours["wall_s"], 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 3, 27, 137, 273])
