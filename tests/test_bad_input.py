"""Every bad input a registry export or a hurried user can produce: one line per case.

Each case runs ``python -m pannet_core run`` (in process) and expects the exit code, words
of the message on stderr, a single paragraph without a traceback, and no output folder.
Cases that must *work* despite looking odd (an XLSX renamed to .csv) expect exit 0.
"""
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from pannet_core.cli import main
from pannet_core.demo import make_demo_cohort
from pannet_core.settings import load_preset

PRESET = load_preset("primary_tumour_resection").to_dict()
DEMO = make_demo_cohort()


def demo_csv(**edits):
    """The demo cohort as CSV text with some cells edited: edits = {column: {row: value}}."""
    frame = DEMO.copy()
    for col, cells in edits.items():
        frame[col] = frame[col].astype(object)
        for row, value in cells.items():
            frame.loc[row, col] = value
    return frame.to_csv(index=False)


def generic(n=80, seed=3, **cols):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"pid": np.arange(1, n + 1), "trt": np.tile([0, 1], n // 2),
                          "days": rng.uniform(30, 3000, n).round(1), "dead": rng.integers(0, 2, n),
                          "age": rng.normal(60, 10, n).round(2), "grade": rng.choice(["G1", "G2"], n)})
    for k, v in cols.items():
        frame[k] = v
    return frame.to_csv(index=False)


def gsettings(**over):
    d = {"columns": {"id": "pid", "treatment": "trt", "time": "days", "event": "dead", "time_unit": "days"},
         "propensity": {"covariates": ["age", "grade"], "categorical": ["grade"]},
         "matching": {"caliper": 0.2, "caliper_scale": "logit"}}
    for path, value in over.items():
        block, key = path.split(".")
        d.setdefault(block, {})[key] = value
    return json.dumps(d)


def preset(**over):
    d = json.loads(json.dumps(PRESET))
    for path, value in over.items():
        block, key = path.split(".")
        d[block][key] = value
    return json.dumps(d)


def xlsx_bytes(text_csv: str) -> bytes:
    buf = io.BytesIO()
    pd.read_csv(io.StringIO(text_csv)).to_excel(buf, index=False)
    return buf.getvalue()


DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")  # a problem text ending in '.' joined with another '.'; not '...'
n = 80
# no single covariate separates the groups, a combination does: fitted propensity scores of exactly 0 or 1
_X1 = np.tile([0, 1, 2, 3, 0, 1, 2, 3, 0.5, 2.5], n // 10).astype(float)
_X2 = np.tile([3, 2, 1, 0, 0, 1, 2, 3, 1.7, 1.2], n // 10).astype(float)
# (case, data file name, data content, settings JSON, exit code, words expected in the message)
CASES = [
    ("empty file", "d.csv", "", preset(), 1, "empty"),
    ("binary file", "d.csv", bytes(range(256)) * 16, preset(), 1, "d.csv"),
    ("truncated xlsx", "d.xlsx", xlsx_bytes(generic())[:700], gsettings(), 1, "d.xlsx"),
    ("xlsx renamed to csv works", "d.csv", xlsx_bytes(generic()), gsettings(), 0, ""),
    ("header only", "d.csv", "pid,trt,days,dead,age,grade\n", gsettings(), 1, "no data rows"),
    ("missing column", "d.csv", generic().replace("dead", "status"), gsettings(), 1, "dead"),
    ("duplicated columns", "d.csv", "pid,trt,trt,days\n1,0,1,3\n", gsettings(), 1, "duplicated"),
    ("duplicate patient ids", "d.csv", demo_csv(patient_id={5: "DEMO-0001"}), preset(), 1, "DEMO-0001"),
    ("text in a number column", "d.csv", demo_csv(charlson={7: "many"}), preset(), 1, "many"),
    ("death before diagnosis", "d.csv", demo_csv(death_date={10: "1950-01-01"}), preset(), 1, "death"),
    ("date in the future", "d.csv", demo_csv(last_followup_date={12: "2199-01-01"}), preset(), 1, "future"),
    ("surgery after death", "d.csv", demo_csv(primary_resection_date={2: "2002-10-17"}), preset(), 1,
     "after the date of death"),
    ("follow-up before diagnosis", "d.csv", demo_csv(last_followup_date={12: "1980-01-01"}), preset(), 1,
     "before the stage IV diagnosis"),
    ("impossible calendar date", "d.csv", demo_csv(stage4_date={3: "2015-02-30"}), preset(), 1, "not a date"),
    ("negative survival time", "d.csv", generic(days=[-5.0] + [100.0] * (n - 1)), gsettings(), 1, "negative"),
    ("zero survival time, censored", "d.csv", generic(days=[0.0] + [100.0] * (n - 1), dead=[0] + [1] * (n - 1)),
     gsettings(), 1, "censored at time 0"),
    ("every survival time zero", "d.csv", generic(days=[0.0] * n), gsettings(), 1, "every time"),
    ("three treatment values", "d.csv", generic(trt=[0, 1, 2, 1] * (n // 4)), gsettings(), 1, "3 different"),
    ("three event values", "d.csv", generic(dead=[0, 1, 2, 1] * (n // 4)), gsettings(), 1, "3 different"),
    ("group left empty by eligibility", "d.csv", demo_csv(),
     json.dumps({**PRESET, "eligibility": [{"name": "primary_resected"}, {"name": "no_resection_before_stage4"},
                                          {"name": "diagnosis_years", "start": 2000, "end": 2019}]}), 1, "empty"),
    ("no pair inside the caliper", "d.csv", generic(), gsettings(**{"matching.caliper": 1e-12,
                                                                  "matching.caliper_scale": "ps_absolute"}),
     1, "caliper"),
    ("separation", "d.csv", generic(age=np.tile([40.0, 70.0], n // 2) + np.arange(n) * 0.01), gsettings(),
     1, "age"),
    ("propensity scores of 0 or 1", "d.csv", generic(trt=_X1 + _X2 > 3.1, age=_X1, x2=_X2),
     gsettings(**{"propensity.covariates": ["age", "x2"], "propensity.categorical": []}), 1, "0 or 1"),
    ("level in one group only", "d.csv", generic(grade=np.tile(["G1", "G2"], n // 2)), gsettings(), 1, "grade"),
    ("constant covariate", "d.csv", generic(age=[60.0] * n), gsettings(), 1, "age"),
    ("all censored", "d.csv", generic(dead=[0] * n), gsettings(), 1, "censored"),
    ("settings not JSON", "d.csv", generic(), "{nope", 2, "not valid JSON"),
    ("settings without the time column", "d.csv", generic(),
     json.dumps({"columns": {"id": "pid", "treatment": "trt", "event": "dead"},
                 "propensity": {"covariates": ["age"]}}), 2, "needs 'time'"),
    ("settings without propensity", "d.csv", generic(), json.dumps({"columns": json.loads(gsettings())["columns"]}),
     2, "propensity"),
    ("settings with unknown key", "d.csv", generic(), gsettings(**{"matching.calliper": 0.1}), 2, "calliper"),
    ("unknown covariate", "d.csv", generic(), gsettings(**{"propensity.covariates": ["bmi"],
                                                          "propensity.categorical": []}), 1, "bmi"),
    ("unknown eligibility rule", "d.csv", demo_csv(),
     json.dumps({**PRESET, "eligibility": [{"name": "no_smokers"}]}), 2, "no_smokers"),
    ("too few events for the Cox model", "d.csv", demo_csv(),
     preset(**{"cox.covariates": ["age_group", "sex", "charlson_group", "primary_size_group", "liver_mets_group",
                                  "who_grade", "calendar_period", "functioning", "extra_abdominal_mets"],
               "cox.categorical": ["age_group", "sex", "charlson_group", "primary_size_group", "liver_mets_group",
                                   "who_grade", "calendar_period", "functioning", "extra_abdominal_mets"],
               "cox.p_enter": 1.0, "survival.truncate_at_risk": 0.97}), 1, "events per variable"),
]


@pytest.mark.parametrize("case, name, content, settings, code, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, name, content, settings, code, words, tmp_path, capsys):
    data = tmp_path / name
    data.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "s.json").write_text(settings)
    out = tmp_path / "out"
    rc = main(["run", "--data", str(data), "--settings", str(tmp_path / "s.json"), "--out", str(out),
               "--no-figures"])
    err = capsys.readouterr().err
    assert rc == code, err
    if code == 0:
        assert (out / "results.json").exists()
        return
    assert words.lower() in err.lower(), err
    assert "Traceback" not in err and "internal error" not in err
    assert err.count("\n") == 1 and "Fix:" in err
    assert not DOUBLE_STOP.search(err) and "<settings>" not in err, err
    assert not out.exists()


def test_data_errors_name_the_validate_command_with_the_real_paths(tmp_path, capsys):
    """The stop before the analysis lists data rows, ends each problem once with '.' and gives the exact
    validate command to run (with the settings file of this run, not a placeholder)."""
    import shlex

    data = tmp_path / "my data.csv"
    data.write_text(demo_csv(death_date={10: "1950-01-01"}, last_followup_date={12: "2199-01-01"}))
    (tmp_path / "s.json").write_text(preset())
    assert main(["run", "--data", str(data), "--settings", str(tmp_path / "s.json"),
                 "--out", str(tmp_path / "out"), "--no-figures"]) == 1
    err = capsys.readouterr().err
    assert "data row 11, column 'death_date'" in err and "data row 13, column 'last_followup_date'" in err
    assert not DOUBLE_STOP.search(err) and ").;" not in err
    assert err.rstrip().endswith(f"To list every one with its fix, run: python -m pannet_core validate "
                                 f"--data {shlex.quote(str(data))} --settings {shlex.quote(str(tmp_path / 's.json'))}")
    assert f"'{data}'" in err   # a path with a space is quoted for the shell


def test_run_without_chromium_suggests_no_figures(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    (tmp_path / "d.csv").write_text(generic())
    (tmp_path / "s.json").write_text(gsettings())
    out = tmp_path / "out"
    assert main(["run", "--data", str(tmp_path / "d.csv"), "--settings", str(tmp_path / "s.json"),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "needs a Chromium browser" in err and "--no-figures" in err and "apt-get install chromium" in err
    assert err.count("\n") == 1 and not out.exists()
    assert main(["run", "--data", str(tmp_path / "d.csv"), "--settings", str(tmp_path / "s.json"),
                 "--out", str(out), "--no-figures"]) == 0


# `validate` must call a file unusable (exit 1) exactly when `run` refuses it for its survival times
# or for a treatment/event coding it cannot read
# (case, data content, exit code of both commands, words expected in validate's output)
TIME_ZERO_CASES = [
    ("censored at time 0", generic(days=[0.0] + [100.0] * (n - 1), dead=[0] + [1] * (n - 1)), 1,
     "ERROR: data row 1, column 'days', value 0.0: The follow-up time is 0 and the patient had no event"),
    ("every time zero", generic(days=[0.0] * n, dead=[1] * (n // 2) + [0] * (n // 2)), 1,
     "ERROR: the file, column 'days': Every time in 'days' is 0"),
    ("every time zero, every patient with an event", generic(days=[0.0] * n, dead=[1] * n), 1, "Every time"),
    ("event at time 0 is only a warning", generic(days=[0.0] + [100.0] * (n - 1), dead=[1] * n), 0,
     "WARNING: data row 1, column 'days', value 0.0: The follow-up time is 0 with an event"),
    ("event coded yes/no, censored at time 0", generic(days=[0.0] + [100.0] * (n - 1),
                                                       dead=["nej"] + ["ja"] * (n - 1)), 1, "censored at time 0"),
    # and for a two-valued coding it cannot read
    ("event coded A/B", generic(dead=["A", "B"] * (n // 2)), 1, "Cannot tell which value of 'dead' means event"),
    ("treatment coded A/B", generic(trt=["A", "B"] * (n // 2)), 1, "Cannot tell which value of 'trt' means treatment"),
]


@pytest.mark.parametrize("case, content, code, words", TIME_ZERO_CASES, ids=[c[0] for c in TIME_ZERO_CASES])
def test_validate_agrees_with_run_on_zero_times(case, content, code, words, tmp_path, capsys):
    (tmp_path / "d.csv").write_text(content)
    (tmp_path / "s.json").write_text(gsettings())
    rc = main(["validate", "--data", str(tmp_path / "d.csv"), "--settings", str(tmp_path / "s.json")])
    out = capsys.readouterr().out
    assert rc == code, out
    assert words in out, out
    assert ("NOT usable" in out) == (code == 1)
    rc_run = main(["run", "--data", str(tmp_path / "d.csv"), "--settings", str(tmp_path / "s.json"),
                   "--out", str(tmp_path / "out"), "--no-figures"])
    assert rc_run == code, capsys.readouterr().err
