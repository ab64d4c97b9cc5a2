"""Stage 3's shortcuts give exactly what the general code gives (same bits, same dtypes, same text)."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from pannet_core import pipeline
from pannet_core.demo import make_demo_cohort
from pannet_core.report.results import results_json, results_text
from pannet_core.settings import load_preset
from pannet_core.stats.balance import smd, smd_table
from pannet_core.stats.logrank import _int_codes, stratum_time_order
from pannet_core.stats.matching import match


@pytest.fixture(scope="module")
def staged():
    s = load_preset("primary_tumour_resection")
    prepared = pipeline.prepare(s, make_demo_cohort())
    return s, prepared, pipeline.fit_scores(s, prepared)


# ------------------------------------------------------------------ matching: Arrow ids, pair rows
@pytest.mark.parametrize("replace", [False, True])
def test_text_ids_kept_as_arrow_give_the_same_pairs_and_data(replace):
    rng = np.random.default_rng(3)
    n = 300
    ids = pd.Series([f"Pä-{i:04d}" for i in range(n)], dtype="str")
    treated = rng.random(n) < 0.3
    score = rng.random(n)
    score[::37] = np.nan  # missing covariate: unmatched with a reason
    kw = dict(caliper=0.05, ratio=2, replace=replace)
    arrow = match(ids.array, treated, score, **kw)
    plain = match(ids.to_numpy(), treated, score, **kw)  # an object array: the general path
    pd.testing.assert_frame_equal(arrow.pairs, plain.pairs, check_exact=True)
    pd.testing.assert_frame_equal(arrow.data, plain.data, check_exact=True)
    assert arrow.pairs["treated_id"].dtype == "str"
    positions = pd.Index(ids.to_numpy())
    for m in (arrow, plain):
        assert m.pair_rows.shape == (m.n_pairs, 2) and m.pair_rows.dtype == np.int64
        np.testing.assert_array_equal(m.pair_rows[:, 0], positions.get_indexer(m.pairs["treated_id"]))
        np.testing.assert_array_equal(m.pair_rows[:, 1], positions.get_indexer(m.pairs["control_id"]))


def test_duplicate_text_id_is_still_named():
    from pannet_core.errors import PanNetError

    ids = pd.array(["a", "b", "a"], dtype="str")
    with pytest.raises(PanNetError, match="'a' occurs more than once"):
        match(ids, [1, 0, 0], [0.5, 0.4, 0.3])


def test_expanded_matched_rows_equal_the_id_lookup(staged):
    s, prepared, fit = staged
    for changes in ({}, {"ratio": 2}, {"ratio": 2, "replace": True}):
        r = pipeline.analyse(s.with_values("matching", **changes), prepared, fit)
        fast = pipeline._expand_matched(r.data, r.matching)
        by_id = pipeline._expand_matched(r.data, dataclasses.replace(r.matching, pair_rows=None))
        pd.testing.assert_frame_equal(fast, by_id, check_exact=True)
        assert len(fast) > r.matching.n_pairs


def test_on_data_sees_the_rows_of_the_result(staged):
    s, prepared, fit = staged
    seen = []
    r = pipeline.analyse(s, prepared, fit, on_data=seen.append)
    assert len(seen) == 1 and seen[0] is r.data


# ------------------------------------------------------------------ results.json text
@pytest.mark.parametrize("doc", [
    {"n": 1, "pairs": [["a", "b"], ["é\"\\\n\x01", "x"]], "z": [1]},
    {"pairs": []},
    {"pairs": [[1, 2], [3, -4], [2 ** 70, 0]]},
    {"pairs": [[1, "a"]]},          # mixed: json.dumps whole
    {"pairs": [[True, False]]},     # booleans are not ids here
    {"pairs": [[1.5, 2.0]]},
    {"pairs": [["a", "b", "c"]]},
    {"pairs": [("a", "b")]},
    {"a": "\x00pairs\x00", "pairs": [["a", "b"]]},  # a value equal to the marker
    {"n": 2, "settings": {"pairs": [["x", "y"]]}},  # no top-level pairs
])
def test_results_text_is_json_dumps(doc):
    assert results_text(doc) == json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)


def test_results_text_of_an_analysis_and_nan_still_refused(staged):
    s, prepared, fit = staged
    doc = results_json(pipeline.analyse(s, prepared, fit))
    assert len(doc["pairs"]) > 10
    assert results_text(doc) == json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    with pytest.raises(ValueError):
        results_text({**doc, "caliper_width": float("nan")})


# ------------------------------------------------------------------ balance: proportions from counts
def _level_smds_by_hand(col: pd.Series, t: np.ndarray, w: np.ndarray | None, level) -> tuple[float, float]:
    """The 0/1-indicator computation the counts replace (smd on float arrays)."""
    miss = col.isna().to_numpy()
    x = np.where(miss, np.nan, (col.astype(object) == level).to_numpy(dtype=bool).astype(float))
    before = smd(x[t], x[~t], True)
    if w is None:
        return before, float("nan")
    w = np.where(np.isnan(w), 0.0, w)
    after = w > 0
    unit = bool(np.all(w[after] == 1.0))
    sa, sb = after & t, after & ~t
    return before, smd(x[sa], x[sb], True, None if unit else w[sa], None if unit else w[sb])


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


@pytest.mark.parametrize("seed", range(12))
def test_level_smds_from_counts_are_the_indicator_means_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n = [0, 1, 7, 40, 2500][seed % 5]
    cats = ["a", "b", "é", "N/A"][: 1 + seed % 4]
    vals = rng.choice(np.array(cats + [None], dtype=object), n)
    if seed == 3:
        vals[:] = None  # a column all missing
    f = pd.DataFrame({"cat": pd.Categorical(vals, categories=cats), "obj": pd.Series(vals, dtype=object)})
    t = rng.random(n) < 0.4
    if n > 1:
        t[0], t[1] = True, False
    w = [None, rng.integers(0, 2, n).astype(float), rng.choice([0.0, 0.5, 1.0, 2.0, np.nan], n)][seed % 3]
    tab = smd_table(f, t, ["cat", "obj"], ["cat", "obj"], weights=w)
    assert len(tab) or n == 0 or seed == 3
    for row in tab.itertuples():
        before, after = _level_smds_by_hand(f[row.covariate], t, w, row.level)
        assert _same(row.smd_before, before) and _same(row.smd_after, after), row


# ------------------------------------------------------------------ logrank/cox: codes and sort order
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.uint64])
def test_int_codes_are_numpys_unique(dtype):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    cases = [np.array([], dtype=dtype), np.array([info.max, info.min], dtype=dtype),
             rng.integers(0, 2, 5000).astype(dtype), rng.integers(0, 100, 60).astype(dtype),
             np.clip(rng.integers(-50, 5000, 3000), info.min, info.max).astype(dtype)]
    for v in cases:
        codes, uniques = _int_codes(v)
        u, inv = np.unique(v, return_inverse=True)
        assert uniques.dtype == u.dtype and codes.dtype == np.int64
        np.testing.assert_array_equal(uniques, u)
        np.testing.assert_array_equal(codes, inv.reshape(-1))


@pytest.mark.parametrize("n", [5, 1999, 2000, 30_000])
def test_sort_order_is_lexsort(n):
    rng = np.random.default_rng(n)
    t = np.round(rng.exponential(2.0, n), 2)  # many ties
    t[rng.random(n) < 0.05] = -0.0           # equal to 0.0 for both
    for s in (np.zeros(n, dtype=np.int64), rng.integers(0, max(1, n // 2), n)):
        np.testing.assert_array_equal(stratum_time_order(t, s), np.lexsort((t, s)))


# ------------------------------------------------------------------ table 1 counts, KM summaries
@pytest.mark.parametrize("seed", range(9))
def test_table1_level_counts_are_the_sums_of_the_weights_of_their_rows(seed):
    from pannet_core.stats.table1 import NA_LEVEL, table1

    rng = np.random.default_rng(seed)
    n = [3, 50, 3000][seed % 3]
    # N/A as a category (the as_levels path; then no missing value, which would be a second N/A)
    cats, drawn = (["a", NA_LEVEL, "ü"], ["a", NA_LEVEL, "ü"]) if seed % 2 else (["a", "b"], ["a", "b", None])
    vals = rng.choice(np.array(drawn, dtype=object), n)
    f = pd.DataFrame({"c": pd.Categorical(vals, categories=cats), "o": pd.Series(vals, dtype=object)})
    g = rng.random(n) < 0.5
    g[0], g[1] = True, False
    w = [None, rng.integers(0, 3, n).astype(float), rng.choice([0.0, 0.5, 1.0, 2.5], n)][seed // 3]
    ww = np.ones(n) if w is None else w
    for missing in ("level", "drop"):
        tab = table1(f, g, ["c", "o"], ["c", "o"], weights=w, missing=missing)
        for row in tab.itertuples():
            col = f[row.variable].astype(object)
            rows = (col.isna() | (col == NA_LEVEL)) if row.level == NA_LEVEL else (col == row.level)
            rows = rows.to_numpy(dtype=bool)
            assert row.treated_n == ww[rows & g].sum() and row.control_n == ww[rows & ~g].sum(), row


def test_km_median_is_computed_once_and_survival_arrays_are_survival_at():
    from pannet_core.stats.survival import kaplan_meier

    rng = np.random.default_rng(0)
    km = kaplan_meier(rng.exponential(3, 400), rng.random(400) < 0.6, conf_type="log-log")
    first = km.median()
    assert first == km.quantile(0.5) and km.median() is first
    times = [0.0, 1.0, 2.5, 1e6]
    t, surv, lower, upper = km._at(times)
    at = km.survival_at(times)
    for name, values in (("time", t), ("surv", surv), ("lower", lower), ("upper", upper)):
        np.testing.assert_array_equal(at[name].to_numpy(), values)
    assert np.isnan(surv[-1]) and surv[0] == 1.0
