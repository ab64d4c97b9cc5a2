"""The headless command line answers exactly as shared/CONTRACT.md says."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.cli import main
from pannet_core.settings import load_preset

PRESET = Path(__file__).parents[1] / "pannet_core" / "presets" / "primary_tumour_resection.json"


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo.csv"
    assert main(["demo", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def run_out(demo_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "res"
    assert main(["run", "--data", str(demo_csv), "--settings", str(PRESET), "--out", str(out), "--no-figures"]) == 0
    return out


def test_demo_writes_the_synthetic_cohort(demo_csv):
    frame = pd.read_csv(demo_csv)
    assert len(frame) == 733
    assert frame["patient_id"].is_unique


def test_run_writes_results_with_contract_names(run_out):
    doc = json.loads((run_out / "results.json").read_text())
    for key in ("n", "n_treated", "n_control", "caliper_width", "pairs", "balance", "km", "logrank", "cox",
                "flow", "table1", "table1_matched"):
        assert key in doc, key
    assert doc["n"] == 194 and doc["n_treated"] == 65 and doc["n_control"] == 129
    assert doc["caliper_width"] == pytest.approx(0.1)  # ps_absolute: the caliper itself
    assert set(doc["km"]) == {"unmatched", "matched"}
    for cohort in ("unmatched", "matched"):
        for group in ("treated", "control"):
            g = doc["km"][cohort][group]
            assert set(g) >= {"n", "events", "median", "survival"}
            assert set(g["median"]) == {"est", "lo", "hi"}
            assert set(g["survival"]) == {"1", "3", "5"}
    assert set(doc["logrank"]) == {"unmatched", "matched", "matched_pair_stratified"}
    assert set(doc["logrank"]["matched"]) == {"chisq", "df", "p"}
    assert set(doc["cox"]) == {"unmatched", "matched_robust"}
    assert set(doc["cox"]["matched_robust"]) == {"hr", "lo", "hi", "p"}
    assert doc["flow"][0]["n_in"] == 733
    assert all(set(r) == {"step", "n_in", "n_excluded", "n_out"} for r in doc["flow"])
    for b in doc["balance"]:
        assert set(b) == {"variable", "smd_before", "smd_after"}
    row = doc["table1"][0]
    assert set(row) >= {"variable", "level", "treated_n", "treated_pct", "control_n", "control_pct", "p", "smd"}
    treated_ids = [t for t, _ in doc["pairs"]]
    control_ids = [c for _, c in doc["pairs"]]
    assert len(set(treated_ids)) == len(treated_ids) and len(set(control_ids)) == len(control_ids)
    assert doc["km"]["matched"]["treated"]["n"] == len(doc["pairs"])


def test_matched_cohort_csv_has_every_row_and_empty_pairs_for_unmatched(run_out):
    doc = json.loads((run_out / "results.json").read_text())
    mc = pd.read_csv(run_out / "matched_cohort.csv")
    assert len(mc) == doc["n"]
    assert {"patient_id", "propensity_score", "pair"} <= set(mc.columns)
    assert mc.loc[mc["matched"] == 0, "pair"].isna().all()
    assert mc.loc[mc["matched"] == 1, "pair"].notna().all()
    assert mc["pair"].nunique() == len(doc["pairs"])
    assert not (run_out / "figures").exists()  # --no-figures
    # the pair id is written as a whole number (42, not 42.0) and empty for unmatched rows
    import csv

    with open(run_out / "matched_cohort.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["pair"].isdigit() for r in rows if r["matched"] == "1")
    assert all(r["pair"] == "" for r in rows if r["matched"] == "0")
    assert {int(r["pair"]) for r in rows if r["pair"]} == set(mc["pair"].dropna().astype(int))


def test_table1_counts_in_results_json_are_whole_numbers(run_out):
    import re

    doc = json.loads((run_out / "results.json").read_text())
    for table in ("table1", "table1_matched"):
        counts = [r[k] for r in doc[table] for k in ("treated_n", "control_n")]
        assert counts and all(type(c) is int for c in counts), table
    text = (run_out / "results.json").read_text()
    assert not re.search(r'"(treated|control)_n": \d+\.0\b', text)
    assert re.search(r'"treated_n": \d+,', text)


def test_generic_columns_settings_run(tmp_path, run_out):
    """A plain one-row-per-patient CSV runs with the CONTRACT.md ``columns`` block."""
    mc = pd.read_csv(run_out / "matched_cohort.csv")
    data = mc[["patient_id", "treated", "time_years", "event", "age_group", "sex", "who_grade"]]
    data = data.assign(days=data["time_years"] * 365.25).drop(columns="time_years")
    data.to_csv(tmp_path / "generic.csv", index=False)
    settings = {"columns": {"id": "patient_id", "treatment": "treated", "time": "days", "event": "event",
                            "time_unit": "days"},
                "propensity": {"covariates": ["age_group", "sex", "who_grade"],
                               "categorical": ["age_group", "sex", "who_grade"]},
                "matching": {"ratio": 1, "caliper": 0.2, "caliper_scale": "logit", "replace": False,
                             "order": "largest", "seed": 0},
                "survival": {"ci": "log", "horizons": [1, 3, 5]}}
    (tmp_path / "s.json").write_text(json.dumps(settings))
    assert main(["run", "--data", str(tmp_path / "generic.csv"), "--settings", str(tmp_path / "s.json"),
                 "--out", str(tmp_path / "out"), "--no-figures"]) == 0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["n"] == 194 and "flow" not in doc
    assert doc["km"]["unmatched"]["treated"]["n"] == 65
    # nobody is dropped by a generic settings file (a bad row is refused instead): a header-only list
    assert (tmp_path / "out" / "excluded_patients.csv").read_text() == "patient_id,step,reason\n"


def _write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _settings_with(tmp_path, **matching):
    d = load_preset("primary_tumour_resection").to_dict()
    d["matching"].update(matching)
    return _write(tmp_path / "s.json", json.dumps(d))


def _generic_csv(tmp_path, **over):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"pid": np.arange(60), "trt": [0, 1] * 30, "days": rng.uniform(10, 3000, 60).round(1),
                          "dead": rng.integers(0, 2, 60), "age": rng.uniform(40, 80, 60)})
    for k, v in over.items():
        frame[k] = v
    path = tmp_path / "generic.csv"
    frame.to_csv(path, index=False)
    return path


def _generic_settings(tmp_path, caliper=0.2, covariates=("age",)):
    d = {"columns": {"id": "pid", "treatment": "trt", "time": "days", "event": "dead", "time_unit": "days"},
         "propensity": {"covariates": list(covariates)},
         "matching": {"caliper": caliper, "caliper_scale": "ps_absolute"}}
    return _write(tmp_path / "g.json", json.dumps(d))


# one line per bad input: (case, data maker, settings maker, exit code, words in the message)
BAD_RUNS = [
    ("data file missing", lambda t, demo: t / "nope.csv", lambda t: PRESET, 1, "nope.csv"),
    ("empty data file", lambda t, demo: _write(t / "e.csv", ""), lambda t: PRESET, 1, "empty"),
    ("binary data file", lambda t, demo: _write(t / "b.csv", bytes(range(256)) * 8), lambda t: PRESET, 1, ""),
    ("settings not JSON", lambda t, demo: demo, lambda t: _write(t / "s.json", "{oops"), 2, "not valid JSON"),
    ("settings missing", lambda t, demo: demo, lambda t: t / "none.json", 2, "none.json"),
    ("unknown scale", lambda t, demo: demo, lambda t: _settings_with(t, caliper_scale="sd"), 2, "caliper_scale"),
    ("no pair in caliper", lambda t, demo: _generic_csv(t), lambda t: _generic_settings(t, 1e-12), 1, "caliper"),
    ("treatment with 3 values", lambda t, demo: _generic_csv(t, trt=[0, 1, 2] * 20), lambda t: _generic_settings(t),
     1, "3 different values"),
    ("negative time", lambda t, demo: _generic_csv(t, days=[-1.0] + [5.0] * 59), lambda t: _generic_settings(t),
     1, "negative"),
    ("all censored", lambda t, demo: _generic_csv(t, dead=[0] * 60), lambda t: _generic_settings(t), 1, "censored"),
    ("unknown covariate", lambda t, demo: _generic_csv(t), lambda t: _generic_settings(t, covariates=["bmi"]),
     1, "bmi"),
]


@pytest.mark.parametrize("case, data, settings, code, words", BAD_RUNS, ids=[b[0] for b in BAD_RUNS])
def test_bad_input_exits_with_a_message_and_writes_nothing(case, data, settings, code, words, tmp_path, demo_csv,
                                                           capsys):
    out = tmp_path / "out"
    rc = main(["run", "--data", str(data(tmp_path, demo_csv)), "--settings", str(settings(tmp_path)),
               "--out", str(out), "--no-figures"])
    err = capsys.readouterr().err
    assert rc == code
    assert words.lower() in err.lower()
    assert "Traceback" not in err and err.count("\n") == 1  # one paragraph
    assert not out.exists()


def test_run_files_equal_the_serial_writes(run_out, demo_csv, tmp_path):
    """run writes the CSV files on a thread while it computes: the bytes are those of writing them in turn."""
    from pannet_core.cli import load_data
    from pannet_core.pipeline import analyse, fit_scores, prepare
    from pannet_core.report.csv_writer import write_csv
    from pannet_core.report.results import excluded_patients_frame, matched_cohort_frame, results_json
    settings = load_preset("primary_tumour_resection")
    prepared = prepare(settings, load_data(demo_csv, settings))
    fit = fit_scores(settings, prepared)
    result = analyse(settings, prepared, fit)
    write_csv(matched_cohort_frame(result), tmp_path / "matched_cohort.csv")
    write_csv(excluded_patients_frame(result), tmp_path / "excluded_patients.csv")
    for name in ("matched_cohort.csv", "excluded_patients.csv"):
        assert (run_out / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert json.loads((run_out / "results.json").read_text()) == json.loads(
        json.dumps(results_json(result), allow_nan=False))  # no --robustness: the panel is not computed


@pytest.mark.parametrize("failing", ["excluded_patients.csv", "matched_cohort.csv"])
def test_a_failed_write_on_the_writer_thread_is_the_runs_error(failing, demo_csv, tmp_path, capsys, monkeypatch):
    from pannet_core.report import csv_writer as csv_out

    real = csv_out.write_csv

    def write_csv(frame, path, **kwargs):
        if Path(path).name == failing:
            raise OSError(28, "No space left on device")
        real(frame, path, **kwargs)

    monkeypatch.setattr(csv_out, "write_csv", write_csv)
    out = tmp_path / "new" / "folders" / "out"
    rc = main(["run", "--data", str(demo_csv), "--settings", str(PRESET), "--out", str(out), "--no-figures"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "No space left on device" in err and "Traceback" not in err
    assert not (tmp_path / "new").exists()  # nothing written, not even the folders made for the output


def test_whole_process_error_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pannet_core", "run", "--data", str(tmp_path / "x.csv"),
                           "--settings", str(PRESET), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "x.csv" in proc.stderr


def test_run_turns_the_garbage_collector_back_on(run_out, tmp_path):
    import gc

    assert gc.isenabled()  # after the successful run of the run_out fixture
    assert main(["run", "--data", str(tmp_path / "x.csv"), "--settings", str(PRESET), "--out",
                 str(tmp_path / "o"), "--no-figures"]) == 1  # and after a failing one
    assert gc.isenabled()


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--data", "x.csv"])
    assert info.value.code == 2


def test_validate_demo_is_usable(demo_csv, capsys):
    assert main(["validate", "--data", str(demo_csv), "--settings", str(PRESET)]) == 0
    assert "usable" in capsys.readouterr().out


def test_validate_lists_every_problem_and_exits_1(tmp_path, demo_csv, capsys):
    frame = pd.read_csv(demo_csv)
    frame.loc[3, "patient_id"] = frame.loc[2, "patient_id"]         # duplicate id
    frame["charlson"] = frame["charlson"].astype(object)
    frame.loc[5, "charlson"] = "many"                                # text in a number column
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    assert main(["validate", "--data", str(bad), "--settings", str(PRESET)]) == 1
    out = capsys.readouterr().out
    assert "many" in out and "charlson" in out
    assert "ERROR" in out
