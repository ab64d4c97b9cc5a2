"""Reading messy registry exports: every messy file gives the clean file's typed table."""
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pannet_core.errors import PanNetError
from pannet_core.io.reading import coerce_to_schema, read_table

MESSY = Path(__file__).parent / "data" / "messy"
GOOD = ["semicolon_bom_crlf.csv", "swedish_cp1252_tab.txt", "pipe_excel_serial.csv", "registry.xlsx",
        "xlsx_named_csv.csv"]


@pytest.fixture(scope="module")
def clean():
    return read_table(MESSY / "clean.csv")


def test_clean_file_types(clean):
    f = clean.frame
    assert str(f["stage4_date"].dtype) == "datetime64[ns]"
    assert str(f["ssa"].dtype) == "boolean"
    assert f["ki67"].dtype == np.float64
    assert f["patient_id"].tolist() == ["1", "2", "3", "10"]  # ids stay text
    assert f["primary_resection_type"].tolist()[:2] == ["pancreaticoduodenectomy", None] or \
        f["primary_resection_type"].isna().tolist() == [False, True, False, False]
    assert f.loc[3, "death_date"] == pd.Timestamp("2011-03-05")
    assert clean.problems == [] and clean.dictionary


@pytest.mark.parametrize("name", GOOD)
def test_messy_file_reads_like_clean(name, clean):
    res = read_table(MESSY / name)
    pd.testing.assert_frame_equal(res.frame, clean.frame, check_column_type=False)
    assert res.problems == []
    assert res.unmapped == ["note", "bmi"]


def test_messy_notes_say_what_was_guessed():
    assert any("semicolon" in n for n in read_table(MESSY / "semicolon_bom_crlf.csv").notes)
    assert any("Windows-1252" in n for n in read_table(MESSY / "swedish_cp1252_tab.txt").notes)
    assert any("Excel workbook" in n for n in read_table(MESSY / "xlsx_named_csv.csv").notes)


def test_swedish_headers_mapped():
    res = read_table(MESSY / "semicolon_bom_crlf.csv")
    assert res.mapping["Kön"] == "sex"
    assert res.mapping["Födelsedatum"] == "birth_date"
    assert res.mapping["Senaste uppföljning"] == "last_followup_date"
    assert res.frame["sex"].tolist() == ["female", "male", "female", "male"]


def test_sources_bytes_filelike_path_agree(clean):
    data = (MESSY / "semicolon_bom_crlf.csv").read_bytes()
    fh = io.BytesIO(data)
    fh.seek(0)
    a = read_table(data, "x.csv").frame
    b = read_table(fh, "x.csv").frame
    assert fh.tell() == 0  # the upload is left where it was
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, clean.frame)


def test_original_bytes_and_frame_untouched():
    data = bytearray((MESSY / "clean.csv").read_bytes())
    before = bytes(data)
    res = read_table(data, "c.csv")
    assert bytes(data) == before
    raw_copy = res.raw.copy()
    coerce_to_schema(res.raw)
    pd.testing.assert_frame_equal(res.raw, raw_copy)


def test_column_map_overrides_synonyms():
    data = b"id;Sex;Kon2;when;dead\n1;f;m;2010-01-01;2012-01-01\n"
    res = read_table(data, "m.csv", column_map={"Kon2": "sex", "when": "stage4_date", "dead": "death_date"})
    assert res.mapping["Kon2"] == "sex" and res.frame["sex"].tolist() == ["male"]
    assert "Sex" in res.unmapped and res.frame["Sex"].tolist() == ["f"]  # the synonym loses, kept as is
    res = read_table(b"sex,Kon2,stage4_date\nf,m,2010-01-01\n", "m.csv", column_map={"Kon2": "sex"})
    assert res.frame["sex"].tolist() == ["male"] and res.frame["sex_original"].tolist() == ["f"]
    assert res.frame["stage4_date"].iloc[0] == pd.Timestamp("2010-01-01")


def test_column_map_to_unknown_name_is_an_error():
    with pytest.raises(PanNetError, match="not a data-dictionary column"):
        read_table(b"a,b\n1,2\n", "m.csv", column_map={"a": "nonsense"})


def test_generic_table_left_untouched():
    data = b"pid,age,grade,size,chemo,rtime,death\n1,50,2,<=20,0,1000,1\n2,61,3,20-50,1,2000.5,0\n"
    res = read_table(data, "rotterdam.csv")
    assert not res.dictionary and res.mapping == {}
    assert list(res.frame.columns) == ["pid", "age", "grade", "size", "chemo", "rtime", "death"]
    assert res.frame["grade"].tolist() == [2, 3] and res.frame["grade"].dtype == np.int64
    assert res.frame["size"].tolist() == ["<=20", "20-50"]
    assert res.frame["rtime"].dtype == np.float64


def test_dictionary_flag_forces_generic():
    data = b"patient_id,stage4_date,sex\n1,2010-01-01,kvinna\n"
    assert read_table(data, "a.csv", dictionary=False).frame["sex"].tolist() == ["kvinna"]
    assert read_table(data, "a.csv").frame["sex"].tolist() == ["female"]


@pytest.mark.parametrize("text,expected", [
    ("2019-05-31", "2019-05-31"), ("31/05/2019", "2019-05-31"), ("31.05.2019", "2019-05-31"),
    ("31-05-2019", "2019-05-31"), ("20190531", "2019-05-31"), ("43616", "2019-05-31"),
    ("2019-05-31 00:00:00", "2019-05-31"), ("2019/05/31", "2019-05-31"), ("1/2/2019", "2019-02-01"),
])
def test_date_formats(text, expected):
    frame = pd.DataFrame({"stage4_date": pd.array([text], dtype="str")})
    typed, problems = coerce_to_schema(frame)
    assert problems == []
    assert typed["stage4_date"].iloc[0] == pd.Timestamp(expected)


def test_dates_beyond_what_nanosecond_dates_hold_are_problems_not_crashes():
    # registries write 9999-12-31 for "unknown"; pandas parses such days at a coarser unit
    cells = ["9999-12-31", "0001-01-01", "2019-05-31", "1700-05-05", None]
    frame = pd.DataFrame({"death_date": pd.array(cells, dtype="str")})
    typed, problems = coerce_to_schema(frame)
    assert typed["death_date"].dtype == "datetime64[ns]"
    assert typed["death_date"].isna().tolist() == [True, True, False, False, True]
    assert typed["death_date"].iloc[3] == pd.Timestamp("1700-05-05")  # in range: read as before
    assert [(p.row, p.value, p.severity) for p in problems] == [(1, "9999-12-31", "error"), (2, "0001-01-01", "error")]
    rows = (f"P{i},{'9999-12-31' if i == 7 else '2019-05-31'}\n" for i in range(3000))
    big = "patient_id,stage4_date\n" + "".join(rows)
    result = read_table(big.encode(), "big.csv")
    assert result.frame["stage4_date"].isna().sum() == 1
    assert [(p.row, p.value) for p in result.problems] == [(8, "9999-12-31")]


def test_us_dates_detected_with_warning():
    frame = pd.DataFrame({"death_date": pd.array(["05/31/2019", "01/02/2019"], dtype="str")})
    typed, problems = coerce_to_schema(frame)
    assert typed["death_date"].tolist() == [pd.Timestamp("2019-05-31"), pd.Timestamp("2019-01-02")]
    assert [p.severity for p in problems] == ["warning"] and "month/day/year" in problems[0].problem


def test_bad_values_become_missing_with_problem():
    frame = pd.DataFrame({"ki67": pd.array(["12", "<2", "3,5 %"], dtype="str"),
                          "sex": pd.array(["k", "x", None], dtype="str"),
                          "stage4_date": pd.array(["2019-02-31", "2019-01-01", "igår"], dtype="str"),
                          "charlson": pd.array(["1", "2.5", "3"], dtype="str")})
    typed, problems = coerce_to_schema(frame)
    assert typed["ki67"].tolist()[0] == 12 and np.isnan(typed["ki67"].iloc[1]) and typed["ki67"].iloc[2] == 3.5
    got = {(p.row, p.column, p.value) for p in problems}
    assert got == {(2, "ki67", "<2"), (2, "sex", "x"), (1, "stage4_date", "2019-02-31"),
                   (3, "stage4_date", "igår"), (2, "charlson", "2.5")}
    assert all(p.fix for p in problems)


def test_utf16_with_bom_is_read():
    data = "\ufeffpatient_id\tstage4_date\tKön\n1\t2010-01-01\tkvinna\n".encode("utf-16-le")
    assert read_table(data, "u.txt").frame["sex"].tolist() == ["female"]


def test_missing_markers():
    data = "patient_id;stage4_date;ki67\n1;2010-01-01;NA\n2;okänd;saknas\n3;-;?\n4;.;n/a\n5;unknown; \n".encode()
    f = read_table(data, "m.csv").frame
    assert f["ki67"].isna().all()
    assert f["stage4_date"].isna().sum() == 4


def _zip_bytes(names):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(n, "x")
    return buf.getvalue()


BAD = [
    # (source, filename, message fragment)
    (MESSY / "bad_empty.csv", None, "is empty"),
    (b"   \r\n\r\n", "blank.csv", "is empty"),
    (MESSY / "bad_garbage.csv", None, "not a readable table"),
    ("patient_id,stage4_date\n1,2010-01-01\n".encode("utf-16-le"), "u16.csv", "not a readable table"),
    (MESSY / "bad_truncated.xlsx", None, "damaged or incomplete"),
    ((MESSY / "registry.xlsx").read_bytes()[:2000], "cut.csv", "damaged or incomplete"),
    (MESSY / "bad_header_only.csv", None, "no data rows"),
    (b"patient_id,stage4_date\n,\n,\n", "blankrows.csv", "no data rows"),
    (MESSY / "bad_duplicated_columns.csv", None, "duplicated column name"),
    (MESSY / "does_not_exist.csv", None, "does not exist"),
    (MESSY, None, "is a folder"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "Excel 97-2003"),
    (b"a,b\n1,2\n", "notexcel.xlsx", "not one"),
    (_zip_bytes(["word/document.xml"]), "doc.xlsx", "Word document"),
    (_zip_bytes(["data.csv"]), "z.csv", "zip archive"),
    (b"a,b\n1,2\n3,4,5\n", "ragged.csv", "has 3 cells but the header has 2"),
    (b"%PDF-1.4\n\x00\x01\x02\x03binary", "report.csv", "not a readable table"),
    (12345, None, "Cannot read a table from a int"),
]


@pytest.mark.parametrize("source,filename,fragment", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_files_raise_pannet_error_with_fix(source, filename, fragment):
    with pytest.raises(PanNetError) as info:
        read_table(source, filename)
    assert fragment in info.value.problem
    assert info.value.fix


def test_trailing_empty_columns_and_rows_dropped():
    data = b"patient_id;stage4_date;;\r\n1;2010-01-01;;\r\n2;2011-01-01;;\r\n;;;\r\n"
    f = read_table(data, "t.csv").frame
    assert list(f.columns) == ["patient_id", "stage4_date"] and len(f) == 2


def test_trailing_separator_on_data_rows_only():
    data = b"patient_id,stage4_date\n1,2010-01-01,\n2,2011-01-01,\n"
    f = read_table(data, "t.csv").frame
    assert f["patient_id"].tolist() == ["1", "2"]


def test_quoted_separator_and_headerless_column():
    data = b'patient_id,stage4_date,centre,\n1,2010-01-01,"Uppsala, Sweden",x\n'
    res = read_table(data, "t.csv")
    assert res.frame["centre"].iloc[0] == "Uppsala, Sweden"
    assert "column_4" in res.frame.columns and any("no header" in n for n in res.notes)


def test_synonym_collision_keeps_first_and_notes():
    res = read_table(b"patient_id,stage4_date,Sex,Kon\n1,2010-01-01,f,m\n", "c.csv")
    assert res.frame["sex"].tolist() == ["female"] and "Kon" in res.unmapped
    assert any("both mean 'sex'" in n for n in res.notes)
