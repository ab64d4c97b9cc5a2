"""Property tests: pannet_core.stats.matching.match against a brute-force O(n^2) reference."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pannet_core.stats.matching import CALIPER_TOLERANCE, match


def reference_match(t, s, *, caliper, scale, ratio, replace, order, seed, exact=None):
    """Literal reading of CONTRACT.md "Matching semantics", O(n_t * n_c) per pass."""
    n = len(t)
    s = np.asarray(s, dtype=float)
    x = np.log(s) - np.log1p(-s) if scale == "logit" else s.copy()
    ok = ~np.isnan(s)
    if exact is not None:
        ok &= ~pd.isna(exact)
    if caliper is None:
        width = None
    elif scale == "ps_absolute":
        width = caliper
    else:
        width = caliper * float(np.std(x[~np.isnan(s)], ddof=1))
    treated = [i for i in range(n) if t[i] and ok[i]]
    controls = [i for i in range(n) if not t[i] and ok[i]]
    if order == "largest":
        seq = sorted(treated, key=lambda i: (-x[i], i))
    elif order == "smallest":
        seq = sorted(treated, key=lambda i: (x[i], i))
    elif order == "data":
        seq = list(treated)
    else:
        seq = [treated[k] for k in np.random.default_rng(seed).permutation(len(treated))]
    used: set[int] = set()
    sets: dict[int, list[int]] = {i: [] for i in seq}
    active = seq
    for _ in range(ratio):
        still = []
        for i in active:
            cands = [c for c in controls
                     if (replace or c not in used) and c not in sets[i]
                     and (exact is None or exact[c] == exact[i])
                     and (width is None or abs(x[i] - x[c]) <= width + CALIPER_TOLERANCE * max(1.0, width))]
            if not cands:
                continue
            c = min(cands, key=lambda c: (abs(x[i] - x[c]), c))
            sets[i].append(c)
            used.add(c)
            still.append(i)
        active = still
    return {i: v for i, v in sets.items() if v}, width, x


scores = st.integers(min_value=1, max_value=31).map(lambda k: k / 32)
maybe_nan = st.one_of(scores, scores, scores, st.just(float("nan")))


@st.composite
def cohorts(draw):
    n_t = draw(st.integers(1, 12))
    n_c = draw(st.integers(0, 14))
    t = np.array([True] * n_t + [False] * n_c)
    perm = draw(st.permutations(range(n_t + n_c)))
    t = t[list(perm)]
    s = np.array(draw(st.lists(maybe_nan, min_size=n_t + n_c, max_size=n_t + n_c)))
    if np.sum(~np.isnan(s)) < 2:
        s[:2] = [0.25, 0.5] if len(s) >= 2 else s[:2]
    if len(s) < 2:
        t = np.array([True, False])
        s = np.array([0.25, 0.5])
    opts = dict(
        caliper=draw(st.sampled_from([None, 0.05, 0.2, 1.0])),
        scale=draw(st.sampled_from(["ps", "logit", "ps_absolute"])),
        ratio=draw(st.integers(1, 3)),
        replace=draw(st.booleans()),
        order=draw(st.sampled_from(["largest", "smallest", "data", "random"])),
        seed=draw(st.integers(0, 5)),
    )
    use_exact = draw(st.booleans())
    exact = np.array(draw(st.lists(st.sampled_from(["a", "b"]), min_size=len(t), max_size=len(t))),
                     dtype=object) if use_exact else None
    return t, s, opts, exact


def run(t, s, opts, exact):
    ids = np.arange(100, 100 + len(t))
    ex = None if exact is None else pd.DataFrame({"e": exact})
    m = match(ids, t, s, caliper=opts["caliper"], caliper_scale=opts["scale"], ratio=opts["ratio"],
              replace=opts["replace"], order=opts["order"], seed=opts["seed"], exact=ex)
    sets: dict[int, list[int]] = {}
    for row in m.pairs.sort_values(["pair", "pass"]).itertuples():
        sets.setdefault(int(row.treated_id) - 100, []).append(int(row.control_id) - 100)
    return m, sets


def SETTINGS_N(n):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


SETTINGS = SETTINGS_N(80)


@SETTINGS
@given(cohorts())
def test_identical_to_bruteforce_reference(case):
    t, s, opts, exact = case
    m, sets = run(t, s, opts, exact)
    ref, width, _ = reference_match(t, s, caliper=opts["caliper"], scale=opts["scale"], ratio=opts["ratio"],
                                    replace=opts["replace"], order=opts["order"], seed=opts["seed"], exact=exact)
    assert sets == ref
    if width is None:
        assert m.caliper_width is None
    else:
        assert abs(m.caliper_width - width) <= 1e-15 * max(1, width)


@SETTINGS_N(50)
@given(cohorts())
def test_invariants(case):
    t, s, opts, exact = case
    m, sets = run(t, s, opts, exact)
    _, width, x = reference_match(t, s, caliper=opts["caliper"], scale=opts["scale"], ratio=1,
                                  replace=True, order="data", seed=0)
    all_controls = [c for v in sets.values() for c in v]
    if not opts["replace"]:
        assert len(all_controls) == len(set(all_controls))          # no control used twice
    for tr, cs in sets.items():
        assert len(cs) <= opts["ratio"]                             # at most k per treated
        assert len(cs) == len(set(cs))                              # never the same control twice
        assert t[tr] and not any(t[c] for c in cs)
        for c in cs:
            assert not np.isnan(s[c]) and not np.isnan(s[tr])
            if width is not None:                                   # inside the caliper
                assert abs(x[tr] - x[c]) <= width * (1 + 1e-9)
            if exact is not None:
                assert exact[tr] == exact[c]
    # unmatched analysable treated with replacement: no control inside the caliper at all
    d = m.data
    if opts["replace"]:
        for i in np.flatnonzero(t & ~d["matched"].to_numpy() & ~np.isnan(s)):
            if exact is not None and pd.isna(exact[i]):
                continue
            cands = [c for c in np.flatnonzero(~t & ~np.isnan(s))
                     if (exact is None or exact[c] == exact[i])]
            assert width is not None or not cands
            assert all(abs(x[i] - x[c]) > width for c in cands)
    # deterministic
    _, sets2 = run(t, s, opts, exact)
    assert sets2 == sets
    # data frame consistency
    assert len(d) == len(t)
    assert (d["matched"] == d["pair"].notna()).all()
    assert ((d["weight"] > 0) == d["matched"]).all()
    assert (d.loc[~d["matched"], "reason"] != "").all()
    assert (d.loc[d["matched"], "reason"] == "").all()


@SETTINGS_N(30)
@given(cohorts())
def test_order_irrelevant_with_replacement_and_no_caliper(case):
    t, s, opts, exact = case
    results = []
    for order in ("largest", "smallest", "data", "random"):
        o = dict(opts, order=order, replace=True, caliper=None)
        results.append(run(t, s, o, exact)[1])
    assert all(r == results[0] for r in results)


@SETTINGS_N(50)
@given(cohorts())
def test_unmatched_treated_had_no_available_control_inside_caliper(case):
    """Replay the greedy pass: at each unmatched treated's turn, no unused control was inside."""
    t, s, opts, exact = case
    opts = dict(opts, ratio=1, replace=False)
    m, sets = run(t, s, opts, exact)
    _, width, x = reference_match(t, s, caliper=opts["caliper"], scale=opts["scale"], ratio=1,
                                  replace=True, order="data", seed=0)
    d = m.data
    ok = ~np.isnan(s) & (True if exact is None else ~pd.isna(exact))
    treated = [i for i in range(len(t)) if t[i] and ok[i]]
    if opts["order"] == "largest":
        seq = sorted(treated, key=lambda i: (-x[i], i))
    elif opts["order"] == "smallest":
        seq = sorted(treated, key=lambda i: (x[i], i))
    elif opts["order"] == "data":
        seq = treated
    else:
        seq = [treated[k] for k in np.random.default_rng(opts["seed"]).permutation(len(treated))]
    used = set()
    for i in seq:
        if i in sets:
            used.update(sets[i])
            continue
        avail = [c for c in range(len(t)) if not t[c] and ok[c] and c not in used
                 and (exact is None or exact[c] == exact[i])]
        assert all(width is not None and abs(x[i] - x[c]) > width for c in avail)
        reason = d["reason"].iloc[i]
        assert reason in ("no control inside the caliper", "no unused control left", "no exact-match partner")
