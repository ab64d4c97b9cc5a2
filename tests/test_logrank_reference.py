"""Log-rank test against R's survdiff (plain and stratified, incl. pair strata).

Reference: tests/data/r_survival/reference.json (make_reference.R).  1e-10 relative.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pannet_core.errors import PanNetError
from pannet_core.stats.logrank import logrank_test

DATA = Path(__file__).parent / "data" / "r_survival"
REF = json.loads((DATA / "reference.json").read_text())["logrank"]


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


def cases():
    lung, vet, ova, ret, ties = (csv(n) for n in ("lung", "veteran", "ovarian", "retinopathy", "ties"))
    lung_inst = lung[lung["inst"].notna()]
    return {
        "lung_sex": (lung, "sex", None),
        "veteran_trt": (vet, "trt", None),
        "veteran_celltype": (vet, "celltype", None),
        "veteran_trt_strata_celltype": (vet, "trt", "celltype"),
        "ovarian_rx": (ova, "rx", None),
        "retinopathy_trt": (ret, "trt", None),
        "retinopathy_trt_strata_id": (ret, "trt", "id"),
        "lung_sex_strata_inst": (lung_inst, "sex", "inst"),
        "ties_group": (ties.assign(g=np.tile([0, 1], 6)), "g", None),
    }


@pytest.mark.parametrize("key", sorted(REF))
def test_logrank_matches_survdiff(key):
    """R: survdiff(Surv(time, event) ~ group [+ strata(s)], data = d): chisq, df = groups - 1, pchisq upper tail."""
    d, g, s = cases()[key]
    res = logrank_test(d["time"], d["event"], d[g], strata=None if s is None else d[s])
    ref = REF[key]
    assert res.df == ref["df"]
    assert res.chisq == pytest.approx(ref["chisq"], rel=1e-10)
    assert res.p == pytest.approx(ref["p"], rel=1e-10)


def test_observed_expected_sum():
    d = csv("lung")
    res = logrank_test(d["time"], d["event"], d["sex"])
    assert sum(res.observed) == pytest.approx(sum(res.expected), rel=1e-12)
    assert sum(res.observed) == d["event"].sum()
    assert res.groups == (1, 2)


def test_pair_strata_100k_pairs():  # speed: bench/kernels.py
    rng = np.random.default_rng(3)
    pairs = 100_000
    pair = np.repeat(np.arange(pairs), 2)
    grp = np.tile([0, 1], pairs)
    t = rng.exponential(np.where(grp == 1, 4.0, 3.0))
    e = (rng.random(2 * pairs) < 0.8).astype(int)
    res = logrank_test(t, e, grp, strata=pair)
    assert res.df == 1 and res.chisq > 10


def test_bad_input():
    with pytest.raises(PanNetError, match="two or more groups"):
        logrank_test([1, 2, 3], [1, 0, 1], [1, 1, 1])
    with pytest.raises(PanNetError, match="no group"):
        logrank_test([1, 2, 3], [1, 0, 1], [1, None, 0])
    with pytest.raises(PanNetError, match="no events"):
        logrank_test([1, 2, 3], [0, 0, 0], [1, 0, 0])
    with pytest.raises(PanNetError, match="group values"):
        logrank_test([1, 2, 3], [0, 1, 0], [1, 0])
    with pytest.raises(PanNetError, match="negative"):
        logrank_test([1, -2, 3], [0, 1, 0], [1, 0, 1])


rows = st.lists(st.tuples(st.integers(1, 20), st.booleans(), st.integers(0, 2), st.integers(0, 3)),
                min_size=6, max_size=50)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_invariant_to_group_relabelling_and_row_order(data):
    t = np.array([r[0] for r in data], float)
    e = np.array([r[1] for r in data], int)
    g = np.array([r[2] for r in data])
    s = np.array([r[3] for r in data])
    relabel = np.array(["c", "a", "b"])[g]
    perm = np.random.default_rng(0).permutation(len(t))
    try:  # degenerate data (no events, one group, singular variance) is refused, as R's solve() does
        base = logrank_test(t, e, g, strata=s)
        other = logrank_test(t[perm], e[perm], relabel[perm], strata=(s[perm] + 7) * 3)
    except PanNetError:
        return
    assert other.df == base.df
    assert other.chisq == pytest.approx(base.chisq, rel=1e-9, abs=1e-12)
    assert base.chisq >= -1e-12 and 0 <= base.p <= 1
