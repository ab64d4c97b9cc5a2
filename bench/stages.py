"""In-process time of each pipeline stage (read, eligibility, propensity fit, matching, balance, KM,
log-rank, Cox) and of a re-match after a caliper change with the propensity fit reused.

Usage: python bench/stages.py [K ...]   (demo --n-scale values; default 1 3 27 273)
Prints one JSON line per size; timings are the best of several repeats (wall, time.perf_counter).
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PRESET, demo_file  # noqa: E402

CPU = {}


def best(fn, repeat):
    """Result, best wall time; the best CPU time (time.process_time) is kept in CPU[fn's name]."""
    out, t, c = None, float("inf"), float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        t = min(t, time.perf_counter() - t0)
        c = min(c, time.process_time() - c0)
    CPU["last"] = c
    return out, t


def run(k: int) -> dict:
    import numpy as np
    import pandas as pd

    from pannet_core import pipeline
    from pannet_core.cli import load_data
    from pannet_core.settings import Settings
    from pannet_core.stats import balance, cox, logrank, matching, survival

    settings = Settings.load(PRESET)
    path = demo_file(k)
    rep = 7 if k <= 3 else (3 if k <= 27 else 1)
    table, t_read = best(lambda: load_data(path, settings), max(1, rep // 2))
    prepared, t_prep = best(lambda: pipeline.prepare(settings, table), rep)
    fit, t_fit = best(lambda: pipeline.fit_scores(settings, prepared), rep)
    _, t_analyse = best(lambda: pipeline.analyse(settings, prepared, fit), rep)
    # a caliper move: stage 3 only, same Prepared and fit
    moved = dataclasses.replace(settings, matching=dataclasses.replace(settings.matching, caliper=0.05))
    _, t_rematch = best(lambda: pipeline.analyse(moved, prepared, fit), rep)
    _, t_123 = best(lambda: pipeline.analyse(settings, pipeline.prepare(settings, table),
                                             pipeline.fit_scores(settings, pipeline.prepare(settings, table))), rep)
    f = prepared.frame
    m = settings.matching
    ids, tr = f["patient_id"].to_numpy(), f["treated"].to_numpy(bool)
    mres, t_match = best(lambda: matching.match(ids, tr, fit.score, caliper=m.caliper, caliper_scale=m.caliper_scale,
                                                ratio=m.ratio, replace=m.replace, order=m.order, seed=m.seed), rep)
    p = settings.propensity
    _, t_bal = best(lambda: balance.smd_table(f, tr, list(p.covariates), list(p.categorical),
                                              weights=mres.data["weight"].to_numpy()), rep)
    time_ = f["time"].to_numpy(float)
    ev = f["event"].to_numpy(np.int64)
    _, t_km = best(lambda: (survival.kaplan_meier(time_[tr], ev[tr]), survival.kaplan_meier(time_[~tr], ev[~tr])), rep)
    _, t_lr = best(lambda: logrank.logrank_test(time_, ev, tr.astype(int)), rep)
    _, t_cox = best(lambda: cox.coxph(time_, ev, pd.DataFrame({"treated": tr.astype(float)})), rep)
    ms = lambda x: round(1000 * x, 2)  # noqa: E731
    _, t_an2 = best(lambda: pipeline.analyse(settings, prepared, fit), rep)
    analyse_cpu = CPU["last"]
    _, t_rm2 = best(lambda: pipeline.analyse(moved, prepared, fit), rep)
    rematch_cpu = CPU["last"]
    return {"analyse_cpu_ms": ms(analyse_cpu), "rematch_caliper_cpu_ms": ms(rematch_cpu), "k": k,
            "rows_in_file": len(table), "analysed": len(f), "pairs": mres.n_pairs,
            "read_ms": ms(t_read), "prepare_ms": ms(t_prep), "fit_ms": ms(t_fit), "analyse_ms": ms(t_analyse),
            "rematch_caliper_ms": ms(t_rematch), "stage123_ms": ms(t_123), "matching_ms": ms(t_match),
            "balance_ms": ms(t_bal), "km_ms": ms(t_km), "logrank_ms": ms(t_lr), "cox_ms": ms(t_cox)}


if __name__ == "__main__":
    ks = [int(a) for a in sys.argv[1:]] or [1, 3, 27, 273]
    for k in ks:
        print(json.dumps(run(k)), flush=True)
