"""Workbooks that lie: formulas never calculated, merged cells, and zip bombs refused before parsing."""
from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest

from pannet_core.errors import PanNetError
from pannet_core.io import excel
from pannet_core.io.reading import read_table


def _book(build) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Registry"
    ws.append(["patient_id", "stage4_date", "ki67"])
    build(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_formula_without_a_stored_result_is_named_with_the_fix():
    data = _book(lambda ws: (ws.append(["P1", "2010-01-01", 3]), ws.append(["P2", "2011-01-01", "=C2*2"])))
    with pytest.raises(PanNetError) as err:
        read_table(data, "reg.xlsx")
    assert "C3" in err.value.message and "Registry" in err.value.message
    assert "open and save the file in excel first" in err.value.message.lower()


def test_formula_with_its_cached_value_is_read_as_that_value():
    data = _book(lambda ws: (ws.append(["P1", "2010-01-01", 3]), ws.append(["P2", "2011-01-01", "=C2*2"])))
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # what Excel writes after calculating: the formula and its value
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<f>C2*2</f><v /></c>", b"<f>C2*2</f><v>6</v></c>")
    assert b"<v>6</v>" in parts[sheet]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    frame = read_table(out.getvalue(), "reg.xlsx").frame
    assert frame["ki67"].tolist() == [3.0, 6.0]


def test_merged_cells_are_named_in_a_note():
    def build(ws):
        ws.append(["P1", "2010-01-01", 3])
        ws.append(["P2", "2011-01-01", None])
        ws.merge_cells("C2:C3")
    res = read_table(_book(build), "reg.xlsx")
    assert any("C2:C3" in n and "merged" in n for n in res.notes)


def test_a_zip_bomb_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(excel, "MAX_UNCOMPRESSED", 2**20)
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>P{i}</t></is></c></row>' for i in range(2, 40_000))
    data = _book(lambda ws: ws.append(["P1", "2010-01-01", 3]))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", rows.encode() + b"</sheetData>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in parts.items():
            z.writestr(n, b)
    t0 = time.perf_counter()
    with pytest.raises(PanNetError) as err:
        read_table(out.getvalue(), "bomb.xlsx")
    assert time.perf_counter() - t0 < 2 and "MB" in err.value.message


def test_a_sheet_declaring_millions_of_rows_is_refused_at_once():
    data = _book(lambda ws: ws.append(["P1", "2010-01-01", 3]))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b'<dimension ref="A1:C2"', b'<dimension ref="A1:C3000000"')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    with pytest.raises(PanNetError) as err:
        read_table(out.getvalue(), "big.xlsx")
    assert "3,000,000 rows" in err.value.message and "CSV" in err.value.fix


class _SessionGone(BaseException):
    """What Streamlit raises at a widget call once the browser session has gone (a BaseException)."""


def test_a_long_workbook_read_reports_progress_and_stops_when_told():
    def build(ws):
        for i in range(12_000):
            ws.append([f"P{i}", "2010-01-01", 3])
    data = _book(build)
    calls = []
    res = read_table(data, "reg.xlsx", progress=calls.append)
    assert len(res.frame) == 12_000 and calls == [5_000, 10_000]  # every 5,000 rows

    def stop(rows):
        raise _SessionGone

    t0 = time.perf_counter()
    with pytest.raises(_SessionGone):  # not turned into "damaged workbook": the read just ends
        read_table(data, "reg.xlsx", progress=stop)
    assert time.perf_counter() - t0 < 5
