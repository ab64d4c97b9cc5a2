"""The data dictionary: fields, synonyms, value synonyms, templates, generated doc."""
import io
from pathlib import Path

import pandas as pd
import pytest

from pannet_core.io import schema
from pannet_core.io.reading import read_table
from pannet_core.io.validation import validate

ARCH_COLUMNS = """patient_id, centre, sex, birth_date, age_at_diagnosis, stage4_date, who_grade, ki67,
hereditary, functioning, functional_syndrome, charlson, primary_size_cm, liver_mets,
liver_mets_n, liver_met_max_cm, liver_mets_date, extrahepatic_mets, extra_abdominal_mets,
cga_uln, albumin, primary_resection_date, primary_resection_type, resection_before_stage4,
inoperable, liver_resection_date, liver_ablation_date, liver_transplant,
other_liver_malignancy, first_visit_date, chemo_lines, ssa, prrt, interferon, everolimus,
sunitinib, embolization, clavien_dindo, progression_date, death_date, last_followup_date"""


def test_fields_are_the_architecture_columns():
    assert schema.CANONICAL_COLUMNS == tuple(c.strip() for c in ARCH_COLUMNS.replace("\n", " ").split(","))


def test_field_attributes():
    for f in schema.FIELDS:
        assert f.type in schema.TYPES
        assert f.description and set(f.seed) <= {"000", "001"} and f.seed
        assert (f.type == "category") == bool(f.allowed)
    assert schema.BY_NAME["who_grade"].allowed == ("G1", "G2", "G3", "NEC", "unknown")
    assert schema.BY_NAME["hereditary"].allowed == ("sporadic", "MEN1", "VHL", "suspected")
    assert schema.BY_NAME["primary_resection_type"].allowed == (
        "pancreaticoduodenectomy", "distal", "central", "enucleation", "total")
    assert (schema.BY_NAME["clavien_dindo"].minimum, schema.BY_NAME["clavien_dindo"].maximum) == (0, 5)
    assert [f.name for f in schema.FIELDS if f.required] == ["patient_id", "stage4_date"]


@pytest.mark.parametrize("header,name", [
    ("Patient ID", "patient_id"), ("PatientID", "patient_id"), ("patient-id", "patient_id"),
    ("Kön", "sex"), ("KÖN ", "sex"), ("Gender", "sex"), ("Födelsedatum", "birth_date"),
    ("Diagnosdatum", "stage4_date"), ("Datum stadium IV", "stage4_date"), ("Ki67", "ki67"), ("Ki-67 %", "ki67"),
    ("Dödsdatum", "death_date"), ("Senaste uppföljning", "last_followup_date"), ("Op-datum", "primary_resection_date"),
    ("Leverresektion", "liver_resection_date"), ("Ablation", "liver_ablation_date"), ("Charlson", "charlson"),
    ("Tumörstorlek", "primary_size_cm"), ("Antal levermetastaser", "liver_mets_n"), ("stage4_date", "stage4_date"),
])
def test_header_synonyms(header, name):
    assert schema.canonical_column(header) == name


@pytest.mark.parametrize("header", ["Personnummer", "personnr", "Namn", "Email", "something else"])
def test_identity_headers_are_not_dictionary_columns(header):
    assert schema.canonical_column(header) is None


@pytest.mark.parametrize("column,written,canon", [
    ("ssa", "ja", "yes"), ("ssa", "Nej", "no"), ("ssa", "1", "yes"), ("ssa", "0", "no"), ("ssa", "TRUE", "yes"),
    ("ssa", "false", "no"), ("ssa", "y", "yes"), ("ssa", "n", "no"), ("ssa", "x", "yes"),
    ("sex", "Kvinna", "female"), ("sex", "K", "female"), ("sex", "f", "female"), ("sex", "man", "male"),
    ("sex", "M", "male"), ("who_grade", "G1", "G1"), ("who_grade", "1", "G1"), ("who_grade", "NET G1", "G1"),
    ("who_grade", "grade 2", "G2"), ("who_grade", "NEC", "NEC"), ("hereditary", "MEN-1", "MEN1"),
    ("primary_resection_type", "Whipple", "pancreaticoduodenectomy"),
    ("primary_resection_type", "distal pankreasresektion", "distal"),
    ("primary_resection_type", "Total pankreatektomi", "total"), ("clavien_dindo", "IIIb", "3"),
])
def test_value_synonyms(column, written, canon):
    assert schema.canonical_value(column, written) == canon


def test_unknown_value_is_none():
    assert schema.canonical_value("sex", "other") is None
    assert schema.canonical_value("who_grade", "G7") is None


def test_normalise():
    assert schema.normalise("  Ärftligt   Syndrom!") == "arftligtsyndrom"
    assert schema.normalise("Fødselsnummer") == "fodselsnummer"


def test_template_frame_and_files_read_back():
    t = schema.template_frame()
    assert list(t.columns) == list(schema.CANONICAL_COLUMNS) and len(t) == 2
    assert (t["centre"] == "Example hospital").all()
    from_csv = read_table(schema.template_csv_bytes(), "template.csv")
    from_xlsx = read_table(schema.template_xlsx_bytes(), "template.xlsx")
    pd.testing.assert_frame_equal(from_csv.frame, from_xlsx.frame)
    assert from_csv.unmapped == [] and from_csv.problems == []
    assert [p for p in validate(from_csv.frame) if p.severity == "error"] == []
    sheets = pd.ExcelFile(io.BytesIO(schema.template_xlsx_bytes())).sheet_names
    assert sheets == ["patients", "dictionary"]


def test_committed_dictionary_doc_is_generated():
    doc = Path(__file__).parent.parent / "docs" / "data-dictionary.md"
    assert doc.read_text(encoding="utf-8") == schema.dictionary_markdown()


def test_dictionary_doc_has_every_field():
    md = schema.dictionary_markdown()
    for f in schema.FIELDS:
        assert f"| `{f.name}` | {f.type} |" in md
