"""Hostile or careless settings files fail at load time with one clear SettingsError."""
from __future__ import annotations

import copy
import json

import pytest

from pannet_core import cli
from pannet_core.errors import SettingsError
from pannet_core.settings import Settings, decode_settings_bytes, load_preset

PRESET = load_preset("primary_tumour_resection").to_dict()
GENERIC = {"columns": {"id": "pid", "treatment": "t", "time": "d", "event": "e"},
           "propensity": {"covariates": ["age"]}}


@pytest.mark.parametrize("depth", [25, 5000, 200_000])
def test_deeply_nested_json_is_a_settings_error(depth):
    text = '{"name": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(SettingsError, match="nested more than 20 levels"):
        Settings.from_json(text)


def test_cli_reports_deep_nesting_with_exit_2(tmp_path, capsys):
    (tmp_path / "s.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    code = cli.main(["run", "--data", str(tmp_path / "d.csv"), "--settings", str(tmp_path / "s.json"),
                     "--out", str(tmp_path / "out"), "--no-figures"])
    err = capsys.readouterr().err
    assert code == 2 and "nested more than 20 levels" in err and "internal error" not in err
    assert not (tmp_path / "out").exists()


def _with(base: dict, path: str, value):
    d = copy.deepcopy(base)
    *head, last = path.split(".")
    node = d
    for k in head:
        node = node.setdefault(k, {})
    node[last] = value
    return d


@pytest.mark.parametrize("base,path,value,words", [
    (PRESET, "study.cutoff_date", "1900-01-01", "outside 1970-01-01"),
    (PRESET, "study.cutoff_date", "2999-01-01", "outside"),
    (PRESET, "study.cutoff_date", 20191231, "not a date"),
    (PRESET, "study.cutoff_date", "2019-02-30", "not a date"),
    (PRESET, "study.cutoff_date", "1985-06-30", "before the first diagnosis year"),
    (PRESET, "study.endpoint", "dfs", "not one of"),
    (PRESET, "study.comparison", 3, "not one of"),
    (GENERIC, "matching.caliper", 0, "above 0"),
    (GENERIC, "matching.caliper", -0.2, "above 0"),
    (GENERIC, "matching.caliper", 1e6, "at most 10"),
    (GENERIC, "matching.caliper", "0.2", "above 0"),
    (GENERIC, "matching.caliper", float("nan"), "above 0"),
    ({**GENERIC, "matching": {"caliper_scale": "ps_absolute"}}, "matching.caliper", 2, "at most 1"),
    (GENERIC, "matching.ratio", 0, "from 1 to 10"),
    (GENERIC, "matching.ratio", 1000, "from 1 to 10"),
    (GENERIC, "matching.ratio", 1.5, "from 1 to 10"),
    (GENERIC, "matching.order", "best", "not one of"),
    (GENERIC, "matching.seed", 2**70, "whole number"),
    (GENERIC, "matching.replace", "yes", "true or false"),
    (GENERIC, "survival.horizons", [-1, 3], "above 0"),
    (GENERIC, "survival.horizons", [0], "above 0"),
    (GENERIC, "survival.horizons", [1e9], "above 0 to 100"),
    (GENERIC, "survival.horizons", "1,3,5", "list"),
    (GENERIC, "survival.risk_times", [-2], "from 0"),
    (GENERIC, "survival.ci", "exact", "not one of"),
    (GENERIC, "survival.conf_level", 0.99999, "0.999"),
    (GENERIC, "columns.time_unit", "weeks", "not one of"),
    (GENERIC, "columns.event_value", {"a": [1]}, "one value"),
    (GENERIC, "propensity.missing", "impute", "not one of"),
    (GENERIC, "balance.threshold", -1, "positive"),
    (GENERIC, "name", "x" * 1000, "at most 200"),
    (GENERIC, "name", "a\nb", "one line"),
])
def test_out_of_range_values_are_refused_when_loaded(base, path, value, words):
    with pytest.raises(SettingsError, match=words) as info:
        Settings.from_json(json.dumps(_with(base, path, value)))
    assert path.split(".")[-1] in info.value.message or "settings" in info.value.message


def test_valid_edges_are_accepted():
    Settings.from_dict(_with(PRESET, "study.cutoff_date", "2019-12-31"))
    Settings.from_dict(_with(GENERIC, "matching.caliper", 10))
    Settings.from_dict(_with(GENERIC, "survival.horizons", [0.5, 100]))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom",
                                      "utf-32"])
def test_encodings_decode_the_same_for_cli_and_dashboard(tmp_path, encoding):
    text = json.dumps({**GENERIC, "name": "Överlevnad ÅÄÖ"}, ensure_ascii=False)
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    assert decode_settings_bytes(data).removeprefix("\ufeff") == text
    (tmp_path / "s.json").write_bytes(data)
    assert Settings.load(tmp_path / "s.json") == Settings.from_json(data) == Settings.from_json(text)
    assert Settings.from_json(data).name == "Överlevnad ÅÄÖ"


def test_utf16_without_bom_and_binary_are_settings_errors():
    for data in ('{"a": 1}'.encode("utf-16-le"), b"\x89PNG\r\n\x1a\n\xff\xfe\xfd"):
        with pytest.raises(SettingsError):
            Settings.from_json(data)


def test_huge_settings_file_is_refused_before_parsing():
    with pytest.raises(SettingsError, match="bytes"):
        decode_settings_bytes(b" " * 2_000_001)
