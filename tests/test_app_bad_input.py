"""Bad uploads and bad settings through the dashboard's own widgets (AppTest), one line per case.

Every case must end in an ``st.error`` that says what is wrong and how to fix
it ("Fix:"), never an exception, and must leave what was loaded before intact:

* ``kept``    - table and settings are exactly as before the bad step;
* ``applied`` - the user's (valid) choice is stored, the table is unchanged, and
  the page that cannot compute says why (e.g. the eligibility rules leave a
  group empty);
* ``loaded``  - not an error at all: the file is read (an XLSX named .csv);
* ``analysis`` - the file is read (nothing wrong with it as data or settings) but the
  analysis cannot use it: every analysis page says why in an ``st.error``.

After the step every analysis page is opened once more: none may raise.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from pannet_core.demo import make_demo_cohort  # noqa: E402
from pannet_core.settings import load_preset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
MESSY = ROOT / "tests" / "data" / "messy"
PAGES = ["app_pages/1_data.py", "app_pages/2_eligibility.py", "app_pages/3_matching.py", "app_pages/4_survival.py",
         "app_pages/5_report.py"]
DEMO = make_demo_cohort()


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _xlsx(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_excel(buf, index=False)
    return buf.getvalue()


def _edit(column: str, rows: slice, value) -> bytes:
    f = DEMO.copy()
    f[column] = f[column].astype(object)
    f.loc[rows, column] = value
    return _csv(f)


def _dup_ids() -> bytes:
    f = DEMO.copy()
    f.loc[5, "patient_id"] = f.loc[4, "patient_id"]
    return _csv(f)


def _generic() -> bytes:
    """40 patients, one row each: x overlaps between the groups, z separates them completely."""
    rng = np.random.default_rng(1)
    n = 40
    trt = (np.arange(n) % 2 == 0).astype(int)
    return _csv(pd.DataFrame({"pid": np.arange(1, n + 1), "trt": trt,
                              "x": np.round(np.arange(n) + rng.normal(0, 0.1, n), 3),
                              "z": np.round(trt * 10 + rng.uniform(0, 1, n), 3),
                              "dtime": rng.integers(30, 2000, n), "death": rng.integers(0, 2, n)}))


def _generic_with(**over) -> bytes:
    """``_generic()`` with some columns replaced."""
    frame = pd.read_csv(io.BytesIO(_generic()))
    for k, v in over.items():
        frame[k] = v
    return _csv(frame)


GENERIC_SETTINGS = json.dumps({
    "columns": {"id": "pid", "treatment": "trt", "time": "dtime", "event": "death", "time_unit": "days"},
    "propensity": {"covariates": ["x"]},
    "matching": {"caliper": 0.1, "caliper_scale": "ps"}}).encode()
PRESET = json.loads(load_preset("primary_tumour_resection").to_json())
UNKNOWN_KEYS = json.dumps({**PRESET, "matching": {**PRESET["matching"], "calliper": 0.1}}).encode()
NEGATIVE_CALIPER = json.dumps({**PRESET, "matching": {**PRESET["matching"], "caliper": -0.1}}).encode()
_BIN9 = ["age_group", "sex", "charlson_group", "primary_size_group", "liver_mets_group", "who_grade",
         "calendar_period", "functioning", "extra_abdominal_mets"]
TOO_FEW_EVENTS = json.dumps({**PRESET, "cox": {"covariates": _BIN9, "categorical": _BIN9, "p_enter": 1.0},
                             "survival": {**PRESET["survival"], "truncate_at_risk": 0.97}}).encode()


def _nec_untreated() -> bytes:
    """The demo cohort with no NEC patient resected: keeping only NEC leaves the resected group empty."""
    f = DEMO.copy()
    nec = f["who_grade"] == "NEC"
    f.loc[nec, "primary_resection_date"] = None
    f.loc[nec, "primary_resection_type"] = None
    return _csv(f)


# --------------------------------------------------------------------------- steps (the page's own widgets)
def upload(name: str, data: bytes):
    def step(at):
        _go(at, 0)
        at.file_uploader(key="upload_table").set_value((name, data, "text/csv")).run()
    step.page = 0
    return step


def settings_file(name: str, data: bytes):
    def step(at):
        _go(at, 0)
        at.file_uploader(key="upload_settings").set_value((name, data, "application/json")).run()
    step.page = 0
    return step


def widget(page: int, kind: str, key: str, value):
    def step(at):
        _go(at, page)
        getattr(at, kind)(key=key).set_value(value).run()
    step.page = page
    return step


GRADE = "w.eligibility.1.grade.allowed"
CASES = [  # id, setup steps, bad step, expected words in the st.error, outcome
    ("empty file", [], upload("empty.csv", b""), "empty", "kept"),
    ("binary file", [], upload("scan.csv", bytes(range(256)) * 40), "binary", "kept"),
    ("truncated xlsx", [], upload("registry.xlsx", (MESSY / "bad_truncated.xlsx").read_bytes()), "damaged", "kept"),
    ("xlsx named .csv", [], upload("registry.csv", _xlsx(DEMO.head(300))), None, "loaded"),
    ("header only", [], upload("header.csv", _csv(DEMO.head(0))), "no data rows", "kept"),
    ("missing columns", [], upload("nodates.csv", _csv(DEMO.drop(columns=["death_date", "last_followup_date"]))),
     "death_date", "kept"),
    ("duplicated columns", [], upload("dup.csv", (MESSY / "bad_duplicated_columns.csv").read_bytes()),
     "duplicated column", "kept"),
    ("duplicate ids", [], upload("dupids.csv", _dup_ids()), "more than once", "kept"),
    ("text in numeric column", [], upload("ki67.csv", _edit("ki67", slice(0, 50), "high")), "not a number", "kept"),
    ("impossible dates", [], upload("dates.csv", _edit("stage4_date", slice(0, 20), "2015-02-30")), "not a date",
     "kept"),
    ("eligibility empties a group", [upload("nec_untreated.csv", _nec_untreated())],
     widget(1, "multiselect", GRADE, ["NEC"]), "group is empty", "applied"),
    ("eligibility value not allowed", [], widget(1, "multiselect", GRADE, []), "non-empty", "kept"),
    ("no pair inside the caliper", [settings_file("generic.json", GENERIC_SETTINGS), upload("generic.csv", _generic())],
     widget(2, "slider", "w.matching.caliper", 0.005), "inside the caliper", "applied"),
    ("separation in the propensity model",
     [settings_file("generic.json", GENERIC_SETTINGS), upload("generic.csv", _generic())],
     widget(2, "multiselect", "w.propensity.covariates", ["x", "z"]), "separates the groups", "applied"),
    ("death before diagnosis", [], upload("death.csv", _edit("death_date", slice(10, 10), "1950-01-01")),
     "before the stage IV diagnosis", "kept"),
    ("date in the future", [], upload("future.csv", _edit("last_followup_date", slice(12, 12), "2199-01-01")),
     "future", "kept"),
    ("negative survival time", [settings_file("generic.json", GENERIC_SETTINGS)],
     upload("neg.csv", _generic_with(dtime=[-5] + [100] * 39)), "negative", "kept"),
    ("three treatment values", [settings_file("generic.json", GENERIC_SETTINGS)],
     upload("trt3.csv", _generic_with(trt=[0, 1, 2, 1] * 10)), "3 different values", "kept"),
    ("all patients censored", [settings_file("generic.json", GENERIC_SETTINGS)],
     upload("alive.csv", _generic_with(death=[0] * 40)), "censored", "analysis"),
    ("censored at time 0", [settings_file("generic.json", GENERIC_SETTINGS)],
     upload("zero.csv", _generic_with(dtime=[0] + [100] * 39, death=[0] + [1] * 39)), "censored at time 0",
     "kept"),  # a validation error since validate agrees with run: refused at upload
    ("constant covariate", [settings_file("generic.json", GENERIC_SETTINGS)],
     upload("const.csv", _generic_with(x=[1.0] * 40)), "same value", "analysis"),
    ("too few events for the Cox model", [], settings_file("cox.json", TOO_FEW_EVENTS), "events per variable",
     "analysis"),
    ("malformed settings JSON", [], settings_file("broken.json", b'{"matching": {"caliper": 0.1,'), "not valid JSON",
     "kept"),
    ("settings with unknown keys", [], settings_file("typo.json", UNKNOWN_KEYS), "Unknown key", "kept"),
    ("settings with a bad value", [], settings_file("negative.json", NEGATIVE_CALIPER), "caliper", "kept"),
    ("settings file that is binary", [], settings_file("image.json", b"\x89PNG\r\n\x1a\n" + bytes(200)),
     "JSON", "kept"),
]


def _go(at: AppTest, i: int) -> AppTest:
    at.switch_page(PAGES[i]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _errors(at: AppTest) -> list[str]:
    """The error boxes as the reader sees them (their markdown escapes taken out)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


def _snapshot(at: AppTest):
    return at.session_state["pnb_settings"], at.session_state["pnb_table"].fingerprint


@pytest.mark.parametrize("case, setup, bad, expected, outcome", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_an_error_not_an_exception(case, setup, bad, expected, outcome):
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    for step in setup:
        step(at)
        assert not at.exception, [e.value for e in at.exception]
        assert not [e for e in _errors(at) if "Fix:" in e], _errors(at)  # the setup itself is fine
    settings_before, table_before = _snapshot(at)

    bad(at)
    assert not at.exception, [e.value for e in at.exception]
    settings_after, table_after = _snapshot(at)

    if outcome == "loaded":
        assert table_after != table_before and len(at.session_state["pnb_table"].frame) == 300
        assert not _errors(at)
    elif outcome == "analysis":  # a usable file or settings file the analysis refuses, on the analysis pages
        assert (table_after != table_before) != (settings_after != settings_before)   # the step took effect
        assert not [e for e in _errors(at) if "Fix:" in e], _errors(at)
    else:
        shown = [e for e in _errors(at) if expected.lower() in e.lower()]
        assert shown, f"no st.error mentioning {expected!r}: {_errors(at)}"
        assert all("Fix:" in e for e in shown), shown          # what is wrong + how to fix it
        assert not any(re.search(r"(?<!\.)\.\.(?!\.)", e) for e in shown), shown  # one full stop, not '..'
        assert not any("Traceback" in e for e in _errors(at))
        assert table_after == table_before                     # the loaded table stays
        if outcome == "kept":
            assert settings_after == settings_before           # and so do the settings
        else:
            assert settings_after != settings_before           # the user's valid choice is stored

    # every analysis page still opens: a result, or an st.error saying why, never an exception
    for i in (2, 3, 4):
        _go(at, i)
        if outcome in ("applied", "analysis"):
            shown = [e for e in _errors(at) if expected.lower() in e.lower()]
            assert shown and all("Fix:" in e for e in shown), _errors(at)
