"""Validation problem lists on small hand-made tables."""
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.io.reading import read_table
from pannet_core.io.schema import template_csv_bytes
from pannet_core.io.validation import is_usable, validate, validation_report
from pannet_core.settings import Settings

TODAY = dt.date(2024, 1, 1)
MESSY = Path(__file__).parent / "data" / "messy"


def base(**cols):
    d = {"patient_id": [1, 2, 3], "stage4_date": ["2010-01-01", "2011-01-01", "2012-01-01"],
         "death_date": [None, "2015-01-01", None], "last_followup_date": ["2019-12-31", "2015-01-01", "2019-12-31"]}
    d.update(cols)
    return pd.DataFrame(d)


def find(problems, column, row=None):
    return [p for p in problems if p.column == column and (row is None or p.row == row)]


def test_clean_file_has_no_problems():
    probs = validate(read_table(MESSY / "clean.csv").frame, today=TODAY)
    assert probs == [] and is_usable(probs)


def test_messy_read_problems_are_reported_by_validate():
    data = b"patient_id;stage4_date;ki67;death_date\n1;2010-01-01;abc;\n2;2011-01-01;5;2012-01-01\n"
    frame = read_table(data, "x.csv").frame
    probs = validate(frame, today=TODAY)
    hit = find(probs, "ki67", 1)
    assert len(hit) == 1 and hit[0].value == "abc" and hit[0].severity == "error"
    assert not is_usable(probs)


def test_missing_required_columns():
    probs = validate(pd.DataFrame({"sex": ["f"], "ki67": [3.0]}), today=TODAY)
    cols = {p.column for p in probs if p.row is None and p.severity == "error"}
    assert {"patient_id", "stage4_date", "death_date"} <= cols
    assert all(p.fix for p in probs)


def test_one_of_death_or_followup_is_enough():
    frame = base().drop(columns=["death_date"])
    assert is_usable(validate(frame, today=TODAY))


def test_duplicate_ids_listed_each_time():
    probs = validate(base(patient_id=[7, 7, 7]), today=TODAY)
    dup = [p for p in probs if "more than once" in p.problem]
    assert [p.row for p in dup] == [2, 3] and "first in data row 1" in dup[0].problem


def test_text_in_numeric_and_bad_category():
    probs = validate(base(charlson=["1", "two", "3"], who_grade=["G1", "G5", "NET G2"]), today=TODAY)
    assert [(p.row, p.value) for p in find(probs, "charlson")] == [(2, "two")]
    assert [(p.row, p.value) for p in find(probs, "who_grade")] == [(2, "G5")]


@pytest.mark.parametrize("cols,column,row,fragment", [
    ({"death_date": ["2009-01-01", None, None]}, "death_date", 1, "before the stage IV diagnosis"),
    ({"primary_resection_date": [None, "2016-01-01", None]}, "death_date", 2, "resection"),
    ({"last_followup_date": ["2009-06-01", "2015-01-01", "2019-12-31"]}, "last_followup_date", 1, "before"),
    ({"progression_date": [None, None, "2011-12-31"]}, "progression_date", 3, "before the stage IV"),
    ({"birth_date": ["1950-01-01", "2011-06-01", "1940-01-01"]}, "stage4_date", 2, "birth"),
    ({"last_followup_date": ["2019-12-31", "2015-01-01", "2030-01-01"]}, "last_followup_date", 3, "future"),
    ({"age_at_diagnosis": [50, 120, 60]}, "age_at_diagnosis", 2, "impossible"),
    ({"birth_date": ["1890-01-01", "1950-01-01", "1950-01-01"]}, "age_at_diagnosis", 1, "impossible"),
    ({"ki67": [5, 101, 50]}, "ki67", 2, "between 0 and 100"),
    ({"charlson": [0, -1, 2]}, "charlson", 2, "between 0"),
    ({"clavien_dindo": [0, 5, 6]}, "clavien_dindo", 3, "between 0 and 5"),
    ({"liver_ablation_date": [None, "2015-02-01", None]}, "death_date", 2, "ablation"),
])
def test_impossible_values(cols, column, row, fragment):
    probs = validate(base(**cols), today=TODAY)
    hits = [p for p in probs if p.severity == "error" and p.row is not None]
    assert [(p.row, p.column) for p in hits] == [(row, column)], hits
    assert fragment in hits[0].problem and hits[0].fix


def test_empty_rows_and_missing_dates_are_warnings():
    frame = base(stage4_date=["2010-01-01", None, "2012-01-01"], last_followup_date=[None, "2015-01-01", "2019-01-01"])
    frame.loc[len(frame)] = [None, None, None, None]
    probs = validate(frame, today=TODAY)
    assert is_usable(probs)
    rows = {(p.row, p.severity) for p in probs}
    assert rows == {(1, "warning"), (2, "warning"), (4, "warning")}


def test_missing_patient_id_is_error():
    probs = validate(base(patient_id=[1, None, 3]), today=TODAY)
    assert [(p.row, p.severity) for p in find(probs, "patient_id")] == [(2, "error")]


def test_report_and_order():
    probs = validate(base(ki67=[500, 5, 5], charlson=[1, 1, -3]), today=TODAY)
    rep = validation_report(probs)
    assert list(rep.columns) == ["row", "column", "value", "problem", "fix", "severity"]
    assert rep["row"].tolist() == [1, 3]
    assert len(validation_report([])) == 0


def test_future_relative_to_today():
    frame = base(last_followup_date=["2019-12-31", "2015-01-01", "2023-06-01"])
    assert is_usable(validate(frame, today=TODAY))
    assert not is_usable(validate(frame, today=dt.date(2023, 1, 1)))


def generic_settings(**cols):
    c = {"id": "pid", "treatment": "hormon", "time": "dtime", "event": "death"}
    c.update(cols)
    return Settings.from_dict({"columns": c, "propensity": {"covariates": ["age"]}})


def test_generic_checks():
    frame = pd.DataFrame({"pid": [1, 2, 2, 4], "hormon": [0, 1, 2, 0], "dtime": ["10", "0", "-5", "x"],
                          "death": [0, 1, 1, 0], "age": [50, 60, 70, 80]})
    probs = validate(frame, generic_settings())
    got = {(p.row, p.column, p.severity) for p in probs}
    assert (3, "pid", "error") in got
    assert (2, "dtime", "warning") in got and (3, "dtime", "error") in got and (4, "dtime", "error") in got
    assert (None, "hormon", "error") in got and "3 different values" in find(probs, "hormon")[0].problem
    assert not any(p.column == "death" for p in probs)


def test_generic_missing_columns():
    probs = validate(pd.DataFrame({"pid": [1], "x": [1]}), generic_settings())
    assert {p.column for p in probs} == {"hormon", "dtime", "death", "age"}


def test_large_clean_table_has_no_problems():
    # speed at 200k rows is measured in bench/kernels.py (no timed tests)
    small = read_table(template_csv_bytes(), "t.csv").frame
    frame = small.iloc[np.tile(np.arange(len(small)), 10_000)].reset_index(drop=True)
    frame["patient_id"] = pd.array(np.arange(len(frame)), dtype="Int64")
    assert validate(frame, today=TODAY) == []
