"""Settings: lossless JSON round trip and a clear message for every bad value."""
import json

import pytest

from pannet_core.errors import SettingsError
from pannet_core.settings import Settings, load_preset, preset_names

CONTRACT_EXAMPLE = {
    "columns": {"id": "pid", "treatment": "hormon", "time": "dtime", "event": "death", "time_unit": "days"},
    "propensity": {"covariates": ["age", "size", "grade", "nodes"], "categorical": ["size"]},
    "matching": {"ratio": 1, "caliper": 0.1, "caliper_scale": "ps", "replace": False, "order": "largest", "seed": 0},
    "survival": {"ci": "log-log", "horizons": [1, 3, 5]},
}


def test_contract_example_round_trips():
    s = Settings.from_dict(CONTRACT_EXAMPLE)
    assert s.columns.time_unit == "days"
    assert s.propensity.categorical == ("size",)
    assert s.survival.horizons == (1.0, 3.0, 5.0)
    again = Settings.from_json(s.to_json())
    assert again == s
    assert json.loads(again.to_json()) == json.loads(s.to_json())


@pytest.mark.parametrize("name", preset_names())
def test_presets_round_trip(name):
    s = load_preset(name)
    assert s.is_pannet
    assert Settings.from_json(s.to_json()) == s


def test_with_values_changes_one_field_only():
    s = Settings.from_dict(CONTRACT_EXAMPLE)
    t = s.with_values("matching", caliper=0.2)
    assert t.matching.caliper == 0.2 and s.matching.caliper == 0.1
    assert t.propensity == s.propensity


@pytest.mark.parametrize("unit, factor", [("days", 1 / 365.25), ("months", 1 / 12), ("years", 1.0)])
def test_time_units(unit, factor):
    d = json.loads(json.dumps(CONTRACT_EXAMPLE))
    d["columns"]["time_unit"] = unit
    assert Settings.from_dict(d).columns.years_per_unit == pytest.approx(factor, rel=1e-15)


def _bad(path, value):
    d = json.loads(json.dumps(CONTRACT_EXAMPLE))
    block = d
    for key in path[:-1]:
        block = block[key]
    if value is KeyError:
        del block[path[-1]]
    else:
        block[path[-1]] = value
    return d


BAD = [
    (("matching", "caliper"), -0.1, "caliper"),
    (("matching", "caliper"), "wide", "caliper"),
    (("matching", "caliper_scale"), "sd", "caliper_scale"),
    (("matching", "ratio"), 0, "ratio"),
    (("matching", "ratio"), 1.5, "ratio"),
    (("matching", "order"), "biggest", "order"),
    (("matching", "replace"), "yes", "replace"),
    (("matching", "seed"), -1, "seed"),
    (("survival", "ci"), "logit", "survival.ci"),
    (("survival", "horizons"), [1, -3], "horizons"),
    (("columns", "time_unit"), "weeks", "time_unit"),
    (("columns", "id"), KeyError, "'id'"),
    (("columns", "event"), "dtime", "two roles"),
    (("propensity", "covariates"), [], "no covariates"),
    (("propensity", "covariates"), "age", "list"),
    (("propensity", "categorical"), ["nodes2"], "not in propensity.covariates"),
    (("propensity",), KeyError, "propensity"),
    (("matching", "calliper"), 0.1, "Unknown key"),
]


@pytest.mark.parametrize("path, value, words", BAD, ids=[f"{'.'.join(p)}={v!r}" for p, v, _ in BAD])
def test_bad_values_name_the_key_and_the_fix(path, value, words):
    with pytest.raises(SettingsError) as info:
        Settings.from_dict(_bad(path, value))
    msg = info.value.message
    assert words in msg
    assert "Fix:" in msg
    assert info.value.exit_code == 2


def test_not_json_is_a_settings_error():
    with pytest.raises(SettingsError, match="not valid JSON"):
        Settings.from_json("{'columns': ")


def test_both_or_neither_kind_is_rejected():
    d = json.loads(json.dumps(CONTRACT_EXAMPLE))
    d["study"] = {"comparison": "primary_resection"}
    with pytest.raises(SettingsError, match="exactly one"):
        Settings.from_dict(d)
    del d["study"], d["columns"]
    with pytest.raises(SettingsError, match="exactly one"):
        Settings.from_dict(d)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(SettingsError, match="primary_tumour_resection"):
        load_preset("nope")


def test_table1_numeric_summary_round_trips_and_is_checked():
    d = json.loads(json.dumps(CONTRACT_EXAMPLE))
    assert Settings.from_dict(d).balance.numeric_summary == "median"      # default: median (IQR)
    d["balance"] = {"threshold": 0.2, "numeric_summary": "mean"}
    s = Settings.from_dict(d)
    assert s.balance.numeric_summary == "mean" and s.to_dict()["balance"] == d["balance"]
    assert Settings.from_json(s.to_json()) == s
    assert s.with_values("balance", numeric_summary="median") != s
    d["balance"]["numeric_summary"] = "average"
    with pytest.raises(SettingsError) as info:
        Settings.from_dict(d)
    msg = info.value.message
    assert "balance.numeric_summary is 'average'" in msg and '"median"' in msg and '"mean"' in msg
    assert 'Fix: Write "numeric_summary": "median" or "numeric_summary": "mean".' in msg
    assert info.value.exit_code == 2
