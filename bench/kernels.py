"""Kernel timings that used to be timed tests (DEVELOPERS.md: benchmarks, not timed tests),
plus matching time and tracemalloc peak at growing n (O(n log n) time, O(n) memory).

Usage: python bench/kernels.py   -> one JSON line per measurement
"""
from __future__ import annotations

import json
import tracemalloc

from pannet_core.runtime import configure

configure()  # as the CLI and the dashboard run (one BLAS thread, Arrow's system pool), before numpy loads

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import best  # noqa: E402


def main() -> None:
    from pannet_core.stats.cox import coxph
    from pannet_core.stats.logrank import logrank_test
    from pannet_core.stats.matching import match
    from pannet_core.stats.propensity import fit_propensity
    from pannet_core.stats.survival import kaplan_meier

    rng = np.random.default_rng(1)
    n = 200_000
    t = np.round(rng.exponential(5, n), 3)
    e = rng.random(n) < 0.7
    g = (rng.random(n) < 0.5).astype(float)
    out = [{"kernel": "kaplan_meier + median + survival_at, 200k rows",
            "ms": best(lambda: (lambda f: (f.median(), f.survival_at([1, 3, 5])))(kaplan_meier(t, e)), 5)},
           {"kernel": "coxph 1 covariate, cluster, 200k rows",
            "ms": best(lambda: coxph(t, e.astype(float), pd.DataFrame({"treated": g}), cluster=np.arange(n) // 2))},
           {"kernel": "logrank_test pair-stratified, 100k pairs",
            "ms": best(lambda: logrank_test(t, e.astype(int), np.tile([0, 1], n // 2),
                                            strata=np.repeat(np.arange(n // 2), 2)))}]
    X = pd.DataFrame(rng.normal(size=(n, 14)), columns=[f"x{i}" for i in range(14)])
    X["c1"] = rng.choice(["a", "b", "c", "d"], n)
    X["c2"] = rng.choice(["u", "v", "w"], n)
    X["c3"] = rng.integers(0, 3, n)
    lin = X[[f"x{i}" for i in range(14)]].to_numpy() @ (rng.normal(size=14) * 0.3) - 1
    X["t"] = rng.random(n) < 1 / (1 + np.exp(-lin))
    cov = [c for c in X.columns if c != "t"]
    out.append({"kernel": "fit_propensity 21 design columns, 200k rows",
                "ms": best(lambda: fit_propensity(X, "t", cov, ["c1", "c2", "c3"]), 1)})
    from pannet_core.io.reading import read_table
    from pannet_core.io.schema import template_csv_bytes
    from pannet_core.io.validation import validate
    small = read_table(template_csv_bytes(), "t.csv").frame
    big = small.iloc[np.tile(np.arange(len(small)), 100_000)].reset_index(drop=True)
    big["patient_id"] = pd.array(np.arange(len(big)), dtype="Int64")
    out.append({"kernel": f"validate, {len(big)} rows", "ms": best(lambda: validate(big), 1)})
    for m in (12_500, 50_000, 200_000, 800_000):  # treated = controls = m
        tr = np.r_[np.ones(m, bool), np.zeros(m, bool)]
        s = np.r_[rng.beta(3, 2, m), rng.beta(2, 3, m)]
        ids = np.arange(2 * m)
        ms = best(lambda ids=ids, tr=tr, s=s: match(ids, tr, s), 1 if m > 200_000 else 3)
        tracemalloc.start()
        match(ids, tr, s)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out.append({"kernel": f"match 1:1 caliper 0.1, {m} treated x {m} controls", "n": 2 * m, "ms": ms,
                    "peak_mb": round(peak / 2 ** 20, 1),
                    "ns_per_n_log_n": round(1e6 * ms / (2 * m * np.log2(2 * m)), 2),
                    "bytes_per_row": round(peak / (2 * m), 1)})
    for row in out:
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
