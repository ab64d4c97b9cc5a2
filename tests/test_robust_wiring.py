"""The "Is the answer robust?" blocks in the analysis and in results.json (CONTRACT.md).

The kernels are checked against R in test_rmst.py, test_confounding.py and
test_immortal_time.py; here: that the analysis feeds them the right patients,
that results.json carries the contract's keys and shapes, and that the
specification panel's configured row is the main result.
"""
import json
import math

import numpy as np
import pandas as pd
import pytest

from pannet_core import pipeline
from pannet_core.cli import load_data, main
from pannet_core.errors import SettingsError
from pannet_core.report.results import results_json
from pannet_core.robust import exposure_from_origin
from pannet_core.settings import DEFAULT_CALIPERS, Settings, load_preset
from pannet_core.specification import robustness_rows, specifications
from pannet_core.stats.immortal_time import landmark_cox, time_varying_cox

PRESETS = ["primary_tumour_resection", "liver_surgery_tha"]
HR_KEYS = {"hr", "lo", "hi", "p"}
ROW_KEYS = {"caliper", "order", "seed", "n_sets", "hr", "lo", "hi", "p"}


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo.csv"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def _fitted(settings, table):
    prepared = pipeline.prepare(settings, table)
    return prepared, pipeline.fit_scores(settings, prepared)


def _generic_table(n=300, seed=11, decimals=1):
    """One row per patient, time in months from a common origin, treatment at ``surgery_month``."""
    rng = np.random.default_rng(seed)
    age = rng.normal(65, 10, n).round(decimals)
    treated = rng.random(n) < 1 / (1 + np.exp(-(age - 65) / 10))
    months = np.round(rng.exponential(30, n) + 0.5, 1)
    exposure = np.where(treated, np.round(rng.uniform(0, 1.2, n) * months, 1), np.nan)  # some after the end
    event = (rng.random(n) < 0.7).astype(int)
    return pd.DataFrame({"pid": [f"P{i:03d}" for i in range(n)], "trt": treated.astype(int), "months": months,
                         "dead": event, "age": age, "surgery_month": exposure})


def _generic_settings(**columns):
    return Settings.from_dict({
        "columns": {"id": "pid", "treatment": "trt", "time": "months", "event": "dead", "time_unit": "months",
                    **columns},
        "propensity": {"covariates": ["age"]},
        "matching": {"caliper": 0.2}})


def _main_row(result):
    t = result.matched.cox.table.iloc[0]
    return {"hr": float(t["hr"]), "lo": float(t["lower"]), "hi": float(t["upper"]), "p": float(t["p"])}


def _configured(rows, settings):
    m = settings.matching
    seed = m.seed if m.order == "random" else None
    hits = [r for r in rows if r["caliper"] == m.caliper and r["order"] == m.order and r["seed"] == seed]
    assert len(hits) == 1
    return hits[0]


def _check_shapes(doc, *, exposure: bool, pairs_1to1: bool):
    for key in ("rmst", "e_value", "rosenbaum", "time_varying", "landmark", "robustness"):
        assert key in doc
    r = doc["rmst"]
    assert set(r) == {"horizon", "treated", "control", "difference"}
    assert set(r["treated"]) == set(r["control"]) == {"est", "se"}
    assert set(r["difference"]) == {"est", "lo", "hi", "p"}
    assert r["difference"]["est"] == pytest.approx(r["treated"]["est"] - r["control"]["est"], abs=1e-12)
    assert 0 < r["treated"]["est"] <= r["horizon"]
    assert set(doc["e_value"]) == {"point", "ci"} and doc["e_value"]["point"] >= doc["e_value"]["ci"] >= 1
    if pairs_1to1:
        ro = doc["rosenbaum"]
        assert set(ro) == {"n_informative", "favoured", "t", "p_gamma1", "gamma"}
        assert ro["favoured"] in ("treated", "control") and 0 <= ro["t"] <= ro["n_informative"]
    else:
        assert doc["rosenbaum"] is None
    if exposure:
        assert set(doc["time_varying"]) == HR_KEYS
        assert set(doc["landmark"]) == HR_KEYS | {"n"}
        assert doc["landmark"]["n"] <= doc["n"]
    else:
        assert doc["time_varying"] is None and doc["landmark"] is None
    rows = doc["robustness"]
    assert all(set(row) == ROW_KEYS for row in rows)
    json.dumps(doc, allow_nan=False)  # no NaN anywhere


@pytest.mark.parametrize("name", PRESETS)
def test_presets_have_every_key_and_the_configured_row_is_the_main_result(demo_csv, name):
    s = load_preset(name)
    prepared, fit = _fitted(s, load_data(demo_csv, s))
    result = pipeline.analyse(s, prepared, fit)
    rows = robustness_rows(s, prepared, fit)
    doc = results_json(result, robustness=rows)
    _check_shapes(doc, exposure=True, pairs_1to1=True)
    n_cal = len(set(DEFAULT_CALIPERS) | {s.matching.caliper})
    assert len(rows) == n_cal * (2 + s.robustness.random_orders)
    row = _configured(rows, s)
    assert {k: row[k] for k in HR_KEYS} == _main_row(result)
    assert row["n_sets"] == result.n_sets == doc["n_sets"]
    # another caliper gives another matched sample (the rows are not all the main result)
    assert len({r["n_sets"] for r in rows}) > 1
    # the e-value is that of cox.matched_robust
    assert doc["e_value"]["point"] > 1 and (doc["e_value"]["ci"] == 1) == (row["lo"] <= 1 <= row["hi"])


@pytest.mark.parametrize("name", PRESETS)
def test_pannet_exposure_is_the_treatment_date_after_stage_iv(demo_csv, name):
    s = load_preset(name)
    prepared, _ = _fitted(s, load_data(demo_csv, s))
    f = prepared.frame
    time, event, exposure = exposure_from_origin(s, f)
    assert len(time) == len(f)  # the demo has no follow-up ending before stage IV
    st4 = pd.to_datetime(f["stage4_date"])
    want = ((pd.to_datetime(f["baseline_date"]) - st4).dt.days / 365.25).to_numpy()
    treated = f["treated"].to_numpy(bool)
    assert np.array_equal(np.isnan(exposure), ~treated)
    assert exposure[treated] == pytest.approx(want[treated], abs=1e-12)
    # time from stage IV = the analysed time plus the wait for the treated; the same for controls only in 000
    assert time[treated] == pytest.approx(f["time"].to_numpy()[treated] + exposure[treated], abs=1e-9)
    if name == "primary_tumour_resection":
        assert time[~treated] == pytest.approx(f["time"].to_numpy()[~treated], abs=1e-12)
    r = pipeline.analyse(s, prepared, pipeline.fit_scores(s, prepared))
    assert r.time_varying == time_varying_cox(time, event, exposure)
    assert r.landmark == landmark_cox(time, event, exposure, landmark=s.survival.landmark)


def test_generic_without_exposure_time_has_null_immortal_time_blocks():
    s = _generic_settings()
    prepared, fit = _fitted(s, _generic_table())
    result = pipeline.analyse(s, prepared, fit)
    doc = results_json(result)
    assert doc["robustness"] is None  # only the CLI computes the panel
    doc["robustness"] = robustness_rows(s, prepared, fit)
    _check_shapes(doc, exposure=False, pairs_1to1=True)
    assert {k: _configured(doc["robustness"], s)[k] for k in HR_KEYS} == _main_row(result)


def test_generic_exposure_time_gives_the_kernels_time_varying_hr():
    table = _generic_table()
    s = _generic_settings(exposure_time="surgery_month")
    prepared, fit = _fitted(s, table)
    result = pipeline.analyse(s, prepared, fit)
    _check_shapes(results_json(result, robustness=[]), exposure=True, pairs_1to1=True)
    months = table["months"].to_numpy(float)
    direct = time_varying_cox(months / 12, table["dead"], table["surgery_month"].to_numpy(float) / 12)
    for k in HR_KEYS:
        assert result.time_varying[k] == pytest.approx(direct[k], rel=1e-10)
    lm = landmark_cox(months / 12, table["dead"], table["surgery_month"].to_numpy(float) / 12, landmark=0.5)
    assert result.landmark["n"] == lm["n"] and result.landmark["hr"] == pytest.approx(lm["hr"], rel=1e-10)
    # the exposure changes nothing else
    plain = pipeline.analyse(_generic_settings(), *_fitted(_generic_settings(), table))
    assert _main_row(plain) == _main_row(result) and plain.rmst == result.rmst


def test_ratio_2_has_no_rosenbaum_and_its_configured_row_is_the_weighted_main_result():
    s = _generic_settings().with_values("matching", ratio=2, caliper=0.5)
    s = s.with_values("robustness", calipers=(0.1, None), random_orders=2)
    prepared, fit = _fitted(s, _generic_table())
    result = pipeline.analyse(s, prepared, fit)
    assert result.rosenbaum is None and result.e_value is not None and result.rmst is not None
    rows = robustness_rows(s, prepared, fit)
    assert len(rows) == 3 * 4  # the configured caliper 0.5 joins 0.1 and none
    assert {k: _configured(rows, s)[k] for k in HR_KEYS} == _main_row(result)


def test_with_replacement_configured_row_and_a_configured_order_outside_the_grid():
    s = _generic_settings().with_values("matching", replace=True, order="data")
    s = s.with_values("robustness", calipers=(0.2,), random_orders=1)
    assert specifications(s) == [(0.2, "largest", None), (0.2, "smallest", None), (0.2, "random", 1),
                                 (0.2, "data", None)]
    prepared, fit = _fitted(s, _generic_table())
    result = pipeline.analyse(s, prepared, fit)
    assert result.rosenbaum is None
    rows = robustness_rows(s, prepared, fit)
    assert {k: _configured(rows, s)[k] for k in HR_KEYS} == _main_row(result)


def test_rmst_is_null_when_the_horizon_is_past_a_groups_last_time():
    s = _generic_settings().with_values("survival", rmst_horizon=99.0)
    result = pipeline.analyse(s, *_fitted(s, _generic_table()))
    assert result.rmst is None and results_json(result)["rmst"] is None


def test_a_tiny_caliper_gives_null_rows_not_an_error():
    s = _generic_settings().with_values("robustness", calipers=(1e-12,), random_orders=0)
    prepared, fit = _fitted(s, _generic_table(decimals=12))  # no two ages (so scores) equal
    rows = robustness_rows(s, prepared, fit)
    tiny = [r for r in rows if r["caliper"] == 1e-12]
    assert tiny and all(r["n_sets"] == 0 and r["hr"] is None and r["p"] is None for r in tiny)


def test_cli_run_writes_the_robustness_rows(demo_csv, tmp_path):
    preset = "pannet_core/presets/primary_tumour_resection.json"
    assert main(["run", "--data", str(demo_csv), "--settings", preset, "--out", str(tmp_path / "plain"),
                 "--no-figures"]) == 0
    assert json.loads((tmp_path / "plain" / "results.json").read_text(encoding="utf-8"))["robustness"] is None
    assert main(["run", "--data", str(demo_csv), "--settings", preset, "--out", str(tmp_path / "o"),
                 "--no-figures", "--robustness"]) == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    s = load_preset("primary_tumour_resection")
    _check_shapes(doc, exposure=True, pairs_1to1=True)
    assert len(doc["robustness"]) == 7 * 12
    row = _configured(doc["robustness"], s)
    assert {k: row[k] for k in HR_KEYS} == doc["cox"]["matched_robust"]


# --------------------------------------------------------------------------- settings
def test_new_settings_default_round_trip_and_old_files_load():
    old = {"columns": {"id": "i", "treatment": "t", "time": "d", "event": "e"}, "propensity": {"covariates": ["a"]}}
    s = Settings.from_dict(old)
    assert s.survival.rmst_horizon == 5.0 and s.survival.landmark == 0.5
    assert s.robustness.calipers == (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, None) and s.robustness.random_orders == 10
    assert s.columns.exposure_time is None
    t = Settings.from_dict({**old, "columns": {**old["columns"], "exposure_time": "x"},
                            "survival": {"rmst_horizon": 3, "landmark": 0},
                            "robustness": {"calipers": [0.2, None], "random_orders": 0}})
    assert Settings.from_dict(t.to_dict()) == t
    assert Settings.from_json(t.to_json()).robustness.calipers == (0.2, None)
    assert t.to_dict()["robustness"] == {"calipers": [0.2, None], "random_orders": 0}


@pytest.mark.parametrize("block,bad", [
    ("survival", {"rmst_horizon": 0}), ("survival", {"rmst_horizon": "5"}), ("survival", {"landmark": -1}),
    ("survival", {"landmark": math.inf}), ("robustness", {"calipers": []}), ("robustness", {"calipers": [0]}),
    ("robustness", {"calipers": [0.1, 0.1]}), ("robustness", {"calipers": 0.1}),
    ("robustness", {"random_orders": -1}), ("robustness", {"random_orders": 1.5}),
    ("robustness", {"random_orders": 101}), ("robustness", {"seeds": 3}),
    ("columns", {"exposure_time": "d"}), ("columns", {"exposure_time": ""}), ("columns", {"exposure_time": 3}),
])
def test_bad_new_settings_are_refused_naming_the_key(block, bad):
    d = {"columns": {"id": "i", "treatment": "t", "time": "d", "event": "e"}, "propensity": {"covariates": ["a"]}}
    d[block] = {**d.get(block, {}), **bad}
    with pytest.raises(SettingsError) as exc:
        Settings.from_dict(d)
    key = next(iter(bad))
    assert key in str(exc.value) or block in str(exc.value)


def test_ps_absolute_calipers_above_1_are_refused():
    d = {"columns": {"id": "i", "treatment": "t", "time": "d", "event": "e"}, "propensity": {"covariates": ["a"]},
         "matching": {"caliper_scale": "ps_absolute", "caliper": 0.05}, "robustness": {"calipers": [0.1, 2]}}
    with pytest.raises(SettingsError, match="robustness.calipers"):
        Settings.from_dict(d)
