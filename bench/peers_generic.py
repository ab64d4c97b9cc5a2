"""Whole process, same input file for both: the prepared analysis cohort (one row per patient:
pid, treated, time in years, event, the 9 categorical covariates of preset 000) at N patients.

* ours = ``python -m pannet_core run --data generic_N.csv --settings bench/generic_cohort.json --out DIR
  --no-figures`` (generic ``columns`` block: caliper 0.1 absolute on the PS, 1:1, largest first, no
  replacement, plain CIs);
* R = ``Rscript bench/r_pipeline.R generic_N.csv <covariates> mahvars`` (MatchIt's general routine,
  which honours the caliper: the like-for-like call) and, for reference, without ``mahvars``
  (MatchIt 4.5.1's default vector routine, which ignores a caliper below 1: more pairs, another HR).

The cohorts are prefixes of one prepared cohort: the demo registry at ``--n-scale 1031`` (755,723 rows,
200,014 analysed patients; rows are shuffled within each 733-row block) put through
``pipeline.prepare`` with preset 000, a missing covariate written as the level "not recorded",
``pid`` = 1..N in that order (= file order for both tools), the first N rows kept.  For every size the
number of pairs, the matched HR and its robust CI, the
matched and pair-stratified log-rank chi-squares, the unmatched HR and the sum of the matched ids
are compared between ours and R (relative tolerance 1e-6).

Usage: python bench/peers_generic.py [N ...]   (default 194 2000 20000 100000 200000)
Prints one JSON line per size; bench/run_all.py saves them to bench/results/peers_generic.json.
``PANNET_BENCH_R_MAHVARS_MAX`` (default 100000): largest N for the (quadratic) R mahvars run.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PRESET, PY, ROOT, WORK, demo_file, timed_process  # noqa: E402

SETTINGS = ROOT / "bench" / "generic_cohort.json"
SOURCE_K = 1031  # --n-scale whose prepared cohort has >= 200,000 patients (200,014)
SIZES = [194, 2000, 20000, 100000, 200000]
#: MatchIt's general routine is quadratic: ~2 min at 100,000 patients, ~8 min at 200,000 (set 200000 to run it)
R_MAHVARS_MAX = int(os.environ.get("PANNET_BENCH_R_MAHVARS_MAX", "100000"))
TOL = 1e-6
MISSING_LEVEL = "not recorded"


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def source_cohort() -> Path:
    """The whole prepared cohort of --n-scale SOURCE_K with a pid column (written once)."""
    out = WORK / f"generic_source_{SOURCE_K}.csv"
    if out.exists():
        return out
    from pannet_core import pipeline
    from pannet_core.cli import load_data
    from pannet_core.settings import Settings

    settings = Settings.load(PRESET)
    covs = list(settings.propensity.covariates)
    frame = pipeline.prepare(settings, load_data(demo_file(SOURCE_K), settings)).frame
    c = frame[["treated", "time", "event"] + covs].reset_index(drop=True)
    c["treated"] = c["treated"].astype(int)
    # A missing covariate becomes the level "not recorded", a text both tools read as a level.  ("N/A" would
    # be a level for R's read.csv but a missing cell for ours, and the generic path leaves a patient with a
    # missing covariate unmatched: propensity.missing only applies to Pan-NET settings.)
    for v in covs:
        c[v] = c[v].astype(object).where(c[v].notna() & (c[v].astype(str) != "N/A"), MISSING_LEVEL).astype(str)
    c.insert(0, "pid", range(1, len(c) + 1))
    tmp = out.with_suffix(".tmp")
    c.to_csv(tmp, index=False)
    tmp.replace(out)
    return out


def cohort(n: int) -> Path:
    """The first ``n`` patients of the source cohort (header + n lines, byte for byte)."""
    out = WORK / f"generic_{n}.csv"
    if out.exists():
        return out
    src = source_cohort()
    with open(src) as f, open(out.with_suffix(".tmp"), "w") as g:
        g.write(f.readline())
        for i, line in enumerate(f):
            if i == n:
                break
            g.write(line)
        else:
            if i + 1 < n:
                raise SystemExit(f"the source cohort has only {i + 1} patients, fewer than {n}")
    out.with_suffix(".tmp").replace(out)
    return out


def covariates() -> list[str]:
    return json.loads(SETTINGS.read_text())["propensity"]["covariates"]


def parse_r(stdout: str) -> dict:
    vals = dict(re.findall(r"(\w+)=(\S+)", stdout.splitlines()[-1] if stdout else ""))
    out = {}
    for k, v in vals.items():
        try:
            out[k] = int(v) if k in ("pairs", "id_sum") else float(v)
        except ValueError:
            out[k] = None
    return out


def ours_values(out_dir: Path) -> dict:
    doc = json.loads((out_dir / "results.json").read_text())
    hr = doc["cox"]["matched_robust"]
    return {"pairs": len(doc["pairs"]), "hr_matched": hr["hr"], "hr_lo": hr["lo"], "hr_hi": hr["hi"],
            "p_logrank": doc["logrank"]["matched"]["p"], "chisq_matched": doc["logrank"]["matched"]["chisq"],
            "chisq_pairs": doc["logrank"]["matched_pair_stratified"]["chisq"],
            "hr_unmatched": doc["cox"]["unmatched"]["hr"],
            "id_sum": int(sum(int(t) + int(c) for t, c in doc["pairs"]))}


def compare(ours: dict, r: dict) -> dict:
    """Pairs and id sums equal; HRs, CI and chi-squares to TOL (relative)."""
    diffs = {}
    for k in ("hr_matched", "hr_lo", "hr_hi", "hr_unmatched", "chisq_matched", "chisq_pairs"):
        a, b = ours.get(k), r.get(k)
        if a is not None and b is not None:
            diffs[k] = abs(a - b) / max(abs(b), 1e-300)
    return {"pairs_equal": ours.get("pairs") == r.get("pairs"), "ids_equal": ours.get("id_sum") == r.get("id_sum"),
            "hr_equal": diffs.get("hr_matched", 1.0) <= TOL and diffs.get("hr_lo", 1.0) <= TOL
            and diffs.get("hr_hi", 1.0) <= TOL,
            "max_rel_diff": max(diffs.values()) if diffs else None, "rel_diff": diffs}


def main(sizes: list[int]) -> list[dict]:
    covs = ",".join(covariates())
    script = str(ROOT / "bench" / "r_pipeline.R")
    rows = []
    for n in sizes:
        data = cohort(n)
        out_dir = WORK / f"generic_out_{n}"
        load_before = loadavg()
        ours = timed_process([PY, "-m", "pannet_core", "run", "--data", str(data), "--settings", str(SETTINGS),
                              "--out", str(out_dir), "--no-figures"], 3)
        r = timed_process(["timeout", "900", "Rscript", script, str(data), covs], 3 if n <= 100000 else 1)
        rm = (timed_process(["timeout", "1800", "Rscript", script, str(data), covs, "mahvars"], 3 if n <= 20000 else 1)
              if n <= R_MAHVARS_MAX else {"ok": False, "error": f"not run above N = {R_MAHVARS_MAX}"})
        row = {"patients": n, "load_before": load_before, "load_after": loadavg(), "ours": ours, "R": r,
               "R_mahvars": rm}
        if ours.get("ok"):
            row["ours_values"] = ov = ours_values(out_dir)
            for key, res in (("R", r), ("R_mahvars", rm)):
                if res.get("ok"):
                    row[key + "_values"] = rv = parse_r(res.get("stdout", ""))
                    row[key + "_vs_ours"] = compare(ov, rv)
                    row[key + "_over_ours"] = round(res["wall_s"] / ours["wall_s"], 2)
                    row[key + "_over_ours_cpu"] = round(res["cpu_s"] / ours["cpu_s"], 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or SIZES)
