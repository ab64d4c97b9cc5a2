"""Patient ids are text: compared and written exactly as in the file, in every output."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pannet_core.cli import main
from pannet_core.demo import make_demo_cohort
from pannet_core.io.reading import read_table

LONG = "12345678901234567890"


def _veteran_like(ids: list[str]) -> str:
    rng = np.random.default_rng(4)
    n = len(ids)
    rows = ["pid,trt,t,dead,age,score"]
    for i, pid in enumerate(ids):
        rows.append(f"{pid},{i % 2},{rng.integers(10, 900)},{rng.integers(0, 2)},{rng.integers(40, 80)},"
                    f"{rng.normal():.3f}")
    assert len(rows) == n + 1
    return "\n".join(rows) + "\n"


def test_zero_padded_ids_are_distinct_in_a_registry_file():
    f = read_table(b"patient_id,stage4_date\n007,2010-01-01\n7,2011-01-01\n0007,2012-01-01\n", "t.csv").frame
    assert f["patient_id"].tolist() == ["007", "7", "0007"]
    assert not f["patient_id"].duplicated().any()


def test_long_digit_ids_stay_whole():
    f = read_table(f"patient_id,stage4_date\n{LONG},2010-01-01\n00000000000000000732,2011-01-01\n"
                   "000733,2012-01-01\n".encode(), "t.csv").frame
    assert f["patient_id"].tolist() == [LONG, "00000000000000000732", "000733"]


def test_generic_run_writes_ids_as_in_the_file(tmp_path):
    ids = [f"{i:05d}" for i in range(1, 120)] + [LONG, "7", "007"]
    data = tmp_path / "d.csv"
    data.write_text(_veteran_like(ids))
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({
        "columns": {"id": "pid", "treatment": "trt", "time": "t", "event": "dead", "time_unit": "days"},
        "propensity": {"covariates": ["age", "score"]},
        "matching": {"ratio": 1, "caliper": None}}))
    out = tmp_path / "out"
    assert main(["run", "--data", str(data), "--settings", str(settings), "--out", str(out), "--no-figures"]) == 0
    doc = json.loads((out / "results.json").read_text())
    written = {i for pair in doc["pairs"] for i in pair}
    assert all(isinstance(i, str) for i in written)
    assert written <= set(ids) and any(i.startswith("0") for i in written)
    cohort = pd.read_csv(out / "matched_cohort.csv", dtype={"patient_id": str})
    assert sorted(cohort["patient_id"]) == sorted(ids)  # 00001 stays 00001, 7 and 007 are two patients


def test_demo_ids_are_text_in_results():
    demo = make_demo_cohort()
    assert demo["patient_id"].map(type).eq(str).all()
