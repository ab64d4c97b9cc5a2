"""Messy but valid exports of the same registry give the same analysis as the clean file.

The demo cohort is written three ways - a clean CSV, a Swedish hospital export (Swedish headers,
semicolons, decimal commas, day/month/year dates, ja/nej, BOM, CRLF) and an XLSX workbook - and
each runs through ``python -m pannet_core run`` with the 000 preset.  ``results.json`` must be
identical and the matched cohorts must hold the same patients, scores and pairs.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pannet_core.cli import main
from pannet_core.demo import make_demo_cohort
from pannet_core.settings import load_preset

# canonical column -> a Swedish header a registry export would use (all synonyms of docs/data-dictionary.md)
SWEDISH = {
    "patient_id": "Löpnummer", "centre": "Sjukhus", "sex": "Kön", "birth_date": "Födelsedatum",
    "age_at_diagnosis": "Ålder vid diagnos", "stage4_date": "Diagnosdatum stadium IV", "who_grade": "WHO-grad",
    "ki67": "Ki67", "hereditary": "Ärftlighet", "functioning": "Funktionell", "functional_syndrome": "Hormonsyndrom",
    "charlson": "Komorbiditetsindex", "primary_size_cm": "Tumörstorlek (cm)", "liver_mets": "Levermetastaser",
    "liver_mets_n": "Antal levermetastaser", "liver_met_max_cm": "Största levermetastas",
    "liver_mets_date": "Datum levermetastaser", "extrahepatic_mets": "Extrahepatiska metastaser",
    "extra_abdominal_mets": "Extraabdominella metastaser", "cga_uln": "Kromogranin A", "albumin": "S-albumin",
    "primary_resection_date": "Operationsdatum", "primary_resection_type": "Operationstyp",
    "resection_before_stage4": "Opererad före stadium IV", "inoperable": "Inoperabel",
    "liver_resection_date": "Datum leverresektion", "liver_ablation_date": "Datum ablation",
    "liver_transplant": "Levertransplantation", "other_liver_malignancy": "Annan malignitet i levern",
    "first_visit_date": "Datum första besök", "chemo_lines": "Cytostatikalinjer", "ssa": "Somatostatinanalog",
    "prrt": "Radionuklidbehandling", "interferon": "Alfa-interferon", "everolimus": "Afinitor",
    "sunitinib": "Sutent", "embolization": "Embolisering", "clavien_dindo": "Clavien-Dindo grad",
    "progression_date": "Progressionsdatum", "death_date": "Dödsdatum", "last_followup_date": "Senaste uppföljning",
}
PRESET = load_preset("primary_tumour_resection")


def _swedish_export(demo: pd.DataFrame) -> bytes:
    out = pd.DataFrame(index=demo.index)
    for col in demo.columns:
        s = demo[col]
        if str(s.dtype).startswith("datetime64"):
            v = s.dt.strftime("%d/%m/%Y")
        elif str(s.dtype) == "boolean" or s.dtype == bool:
            v = s.map({True: "ja", False: "nej"})
        elif col == "sex":
            v = s.map({"female": "kvinna", "male": "man"})
        elif pd.api.types.is_float_dtype(s):
            v = s.map(lambda x: "" if pd.isna(x) else repr(float(x)).removesuffix(".0").replace(".", ","))
        else:
            v = s
        out[SWEDISH.get(col, col)] = v.astype(object).where(s.notna(), "")
    text = out.to_csv(index=False, sep=";", lineterminator="\r\n")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def _run(path, tmp_path, name):
    (tmp_path / "s.json").write_text(PRESET.to_json())
    out = tmp_path / name
    assert main(["run", "--data", str(path), "--settings", str(tmp_path / "s.json"), "--out", str(out),
                 "--no-figures"]) == 0
    return json.loads((out / "results.json").read_text()), pd.read_csv(out / "matched_cohort.csv")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    demo = make_demo_cohort()
    demo.to_csv(tmp / "clean.csv", index=False)
    return demo, _run(tmp / "clean.csv", tmp, "out")


def test_the_swedish_export_is_really_messy(clean):
    raw = _swedish_export(clean[0])
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b";" in raw.splitlines()[0]
    text = raw.decode("utf-8-sig")
    assert "Kön" in text and "/2016;" in text and ";ja;" in text and ",5;" in text
    assert "patient_id" not in text and "2016-" not in text


@pytest.mark.parametrize("kind", ["swedish_csv", "xlsx"])
def test_messy_export_gives_the_clean_result(kind, clean, tmp_path):
    demo, (doc_clean, cohort_clean) = clean
    if kind == "swedish_csv":
        path = tmp_path / "registerutdrag.csv"
        path.write_bytes(_swedish_export(demo))
    else:
        path = tmp_path / "registry.xlsx"
        demo.to_excel(path, index=False)
    doc, cohort = _run(path, tmp_path, "out")
    assert doc["n"] == 194 and doc["n_treated"] == 65 and len(doc["pairs"]) > 0
    assert doc == doc_clean
    keys = ["patient_id", "treated", "time_years", "event", "propensity_score", "pair", "weight"]
    pd.testing.assert_frame_equal(cohort[keys], cohort_clean[keys])
    assert np.isfinite(cohort["propensity_score"]).all()
