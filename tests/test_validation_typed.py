"""validate(..., typed=True) skips the second dictionary conversion and finds the same problems."""
from __future__ import annotations

from pathlib import Path

import pytest

from pannet_core.demo import make_demo_cohort
from pannet_core.io.reading import read_table
from pannet_core.io.validation import validate

DATA = Path(__file__).parent / "data" / "messy"
FILES = ["clean.csv", "pipe_excel_serial.csv", "registry.xlsx", "semicolon_bom_crlf.csv",
         "swedish_cp1252_tab.txt", "xlsx_named_csv.csv"]


@pytest.mark.parametrize("name", FILES)
def test_typed_validation_equals_full_validation(name):
    frame = read_table(DATA / name, dictionary=True).frame
    assert validate(frame, typed=True) == validate(frame)


def test_typed_validation_reports_cell_problems_and_range_errors(tmp_path):
    demo = make_demo_cohort(seed=0)
    demo = demo.astype({"ki67": object, "stage4_date": object})
    demo.loc[3, "ki67"] = "lots"          # not a number: a problem of read_table
    demo.loc[5, "ki67"] = 250             # out of range: found by the checks
    demo.loc[7, "stage4_date"] = "2090-01-01"  # in the future
    path = tmp_path / "demo.csv"
    demo.to_csv(path, index=False)
    frame = read_table(path, dictionary=True).frame
    full, fast = validate(frame), validate(frame, typed=True)
    assert fast == full
    rows = {(p.row, p.column) for p in fast if p.severity == "error"}
    assert {(4, "ki67"), (6, "ki67"), (8, "stage4_date")} <= rows
