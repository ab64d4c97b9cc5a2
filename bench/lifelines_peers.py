"""Our survival kernels against their lifelines peers at matched-cohort size (why we keep our own).

Data: 110,000 patients in 55,000 pairs (the size of a large registry's matched sample), exponential
times rounded to days (so there are tied event times), 70 % events, one binary covariate (treated).
Each kernel is timed best-of-N in this process; lifelines' CoxPHFitter with cluster_col runs once
(it takes tens of seconds).  Also the propensity fit (scikit-learn inside fit_propensity) at the
200,109-row registry file's 52,962 analysed patients' size.

Usage: python bench/lifelines_peers.py   -> one JSON line per measurement
"""
from __future__ import annotations

import json
import time
import warnings

from pannet_core.runtime import configure

configure()  # one BLAS thread, as the CLI and the dashboard

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import best as _best  # noqa: E402

N = 110_000





def best(fn, repeat=5):
    return _best(fn, repeat, 1)

def main() -> None:
    import lifelines
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test as ll_logrank

    from pannet_core.stats.cox import coxph
    from pannet_core.stats.logrank import logrank_test
    from pannet_core.stats.survival import kaplan_meier

    rng = np.random.default_rng(7)
    g = np.tile([1.0, 0.0], N // 2)
    t = np.round(rng.exponential(3.0 * np.where(g == 1, 1.2, 1.0)) * 365.25) / 365.25 + 1 / 365.25
    e = (rng.random(N) < 0.7).astype(float)
    pair = np.repeat(np.arange(N // 2), 2)
    df = pd.DataFrame({"time": t, "event": e, "treated": g, "pair": pair})
    a, b = df[g == 1], df[g == 0]
    rows = [
        {"kernel": "Kaplan-Meier (one curve, with median)", "rows": N,
         "ours_ms": best(lambda: kaplan_meier(t, e).median()),
         "lifelines_ms": best(lambda: KaplanMeierFitter().fit(t, e).median_survival_time_)},
        {"kernel": "log-rank, two groups", "rows": N,
         "ours_ms": best(lambda: logrank_test(t, e, g)),
         "lifelines_ms": best(lambda: ll_logrank(a["time"], b["time"], a["event"], b["event"]))},
        {"kernel": "log-rank stratified on pairs", "rows": N,
         "ours_ms": best(lambda: logrank_test(t, e, g, strata=pair)), "lifelines_ms": None},
        {"kernel": "Cox, Efron, model-based SE", "rows": N,
         "ours_ms": best(lambda: coxph(t, e, df[["treated"]]), 3),
         "lifelines_ms": best(lambda: CoxPHFitter().fit(df[["time", "event", "treated"]], "time", "event"), 3)},
    ]
    ours = best(lambda: coxph(t, e, df[["treated"]], cluster=pair), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        CoxPHFitter().fit(df[["time", "event", "treated", "pair"]], "time", "event", cluster_col="pair")
        theirs = round(1000 * (time.perf_counter() - t0), 1)
    rows.append({"kernel": "Cox, Efron, robust SE clustered on pairs", "rows": N, "ours_ms": ours,
                 "lifelines_ms": theirs, "lifelines_runs": 1})
    for r in rows:
        r["lifelines"] = lifelines.__version__
        print(json.dumps(r))

    from pannet_core.stats.propensity import fit_propensity
    n = 52_962
    X = pd.DataFrame(rng.normal(size=(n, 10)), columns=[f"x{i}" for i in range(10)])
    X["c1"] = rng.choice(["a", "b", "c", "d"], n)
    X["c2"] = rng.choice(["u", "v", "w"], n)
    u = rng.random(n)
    lin = X[[f"x{i}" for i in range(10)]].to_numpy() @ rng.normal(size=10) * 0.3 - 1
    X["t"] = u < 1 / (1 + np.exp(-lin))
    print(json.dumps({"kernel": "fit_propensity (scikit-learn newton-cholesky), 15 design columns", "rows": n,
                      "ours_ms": best(lambda: fit_propensity(X, "t", [c for c in X.columns if c != "t"], ["c1", "c2"]),
                                      7)}))


if __name__ == "__main__":
    main()
