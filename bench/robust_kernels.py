"""Timings of the robustness kernels at demo size (~200 patients) and at 26,578 patients.

Target: each kernel at most 100 ms at demo size.  Synthetic cohorts: exponential times in years,
~60 % events, ~30 % treated with a treatment time inside the follow-up; the matched-sample kernels
get n/2 1:1 pairs.

Usage: python bench/robust_kernels.py   -> one JSON line per kernel and size
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's pannet_core

from pannet_core.runtime import configure  # noqa: E402

configure()  # as the CLI and the dashboard run (one BLAS thread), before numpy loads

import numpy as np  # noqa: E402
from common import best as _best  # noqa: E402


def best(fn, repeat=5):
    return _best(fn, repeat)

def cohort(n: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    time_ = np.round(rng.exponential(4, n), 3) + 0.01
    event = (rng.random(n) < 0.6).astype(float)
    treated = rng.random(n) < 0.3
    exposure = np.where(treated, np.round(time_ * rng.random(n), 3), np.nan)
    group = np.tile([1, 0], n // 2 + 1)[:n]
    return {"time": time_, "event": event, "exposure": exposure, "group": group}


def kernels(n: int) -> dict:
    from pannet_core.stats.confounding import e_value, rosenbaum
    from pannet_core.stats.immortal_time import landmark_cox, naive_cox, time_varying_cox
    from pannet_core.stats.ph_test import ph_test
    from pannet_core.stats.rmst import rmst_difference

    c = cohort(n)
    t, e, x, g = c["time"], c["event"], c["exposure"], c["group"]
    pairs = n // 2
    return {
        "rmst_difference (matched, 5 y)": lambda: rmst_difference(t, e, g, horizon=5),
        "rmst_difference weighted": lambda: rmst_difference(t, e, g, horizon=5, weights=1 + g * 0.5),
        "e_value": lambda: e_value(0.6, 0.45, 0.8, rare=False),
        "rosenbaum (n/2 pairs)": lambda: rosenbaum(t[:pairs], e[:pairs], t[pairs:2 * pairs],
                                                   e[pairs:2 * pairs], hr=0.7),
        "time_varying_cox": lambda: time_varying_cox(t, e, x),
        "landmark_cox (0.5 y)": lambda: landmark_cox(t, e, x, landmark=0.5),
        "naive_cox": lambda: naive_cox(t, e, x),
        "ph_test (matched)": lambda: ph_test(t, e, g),
        "ph_test weighted": lambda: ph_test(t, e, g, weights=1 + g * 0.5),
    }


def main() -> None:
    from pannet_core.stats.rmst import rmst_difference

    rmst_difference([1, 2, 3, 4], [1, 0, 1, 1], [0, 1, 0, 1], horizon=1)  # first lifelines import outside the timing
    for n in (200, 26_578):
        for name, fn in kernels(n).items():
            print(json.dumps({"kernel": name, "n": n, "ms": best(fn)}), flush=True)


if __name__ == "__main__":
    main()
