"""Both presets are complete settings files that run through ``python -m pannet_core run``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pannet_core.cli import MANIFEST, main
from pannet_core.demo import make_demo_cohort

PRESETS = Path(__file__).resolve().parents[1] / "pannet_core" / "presets"


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    make_demo_cohort().to_csv(path, index=False)
    return path


@pytest.mark.parametrize("preset, first_step", [("primary_tumour_resection", "diagnosis_years"),
                                                ("liver_surgery_tha", "primary_resected")])
def test_preset_file_runs_headless(preset, first_step, demo_csv, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--data", str(demo_csv), "--settings", str(PRESETS / f"{preset}.json"), "--out", str(out),
                 "--no-figures"]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["flow"][0]["step"] == first_step and doc["flow"][0]["n_in"] == 733
    assert all(a["n_out"] == b["n_in"] for a, b in zip(doc["flow"], doc["flow"][1:]))
    assert doc["flow"][-1]["n_out"] == doc["n"] == doc["n_treated"] + doc["n_control"]
    assert doc["table1"] and doc["table1_matched"] and doc["pairs"]
    if preset == "liver_surgery_tha":
        uni = [r for r in doc["cox_models"] if r["model"] == "univariable"]
        multi = [r for r in doc["cox_models"] if r["model"] == "multivariable"]
        assert uni and multi and any(r["variable"] == "treated" for r in multi)
        assert doc["cox_ph_test"]
    else:
        assert doc["sensitivity"] is not None and len(doc["pairs"]) == 50


def test_report_zip_accounts_for_every_patient():
    """Every patient of the file is in the matched cohort (with a pair or the reason it has
    none) or in the excluded list (with the eligibility step and the reason)."""
    import io
    import zipfile

    import pandas as pd

    from pannet_core import pipeline
    from pannet_core.report import export
    from pannet_core.settings import load_preset

    table = make_demo_cohort()
    result = pipeline.run_analysis(load_preset("primary_tumour_resection"), table)
    zf = zipfile.ZipFile(io.BytesIO(export.bundle_zip(result, table, figures=False)))
    cohort = pd.read_csv(io.BytesIO(zf.read("matched_cohort.csv")))
    excluded = pd.read_csv(io.BytesIO(zf.read("excluded_patients.csv")))
    assert list(excluded.columns) == ["patient_id", "step", "reason"] and len(excluded) == 733 - 194
    assert excluded["reason"].notna().all() and excluded["step"].notna().all()
    assert set(cohort["patient_id"]) | set(excluded["patient_id"]) == set(table["patient_id"])
    assert not set(cohort["patient_id"]) & set(excluded["patient_id"])
    unmatched = cohort[cohort["matched"] == 0]
    assert len(unmatched) > 0 and unmatched["reason"].notna().all() and unmatched["pair"].isna().all()


def test_run_lists_every_excluded_patient_with_a_reason(demo_csv, tmp_path):
    """``run`` writes excluded_patients.csv, byte-identical to the report zip's, and
    every patient of the file is in it or in matched_cohort.csv, never in both."""
    import io
    import zipfile

    import pandas as pd

    from pannet_core import pipeline
    from pannet_core.report import export
    from pannet_core.settings import load_preset

    out = tmp_path / "out"
    assert main(["run", "--data", str(demo_csv), "--settings", str(PRESETS / "primary_tumour_resection.json"),
                 "--out", str(out), "--no-figures"]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name != MANIFEST) == [
        "excluded_patients.csv", "matched_cohort.csv", "matched_sets.csv", "results.json"]
    excluded = pd.read_csv(out / "excluded_patients.csv")
    cohort = pd.read_csv(out / "matched_cohort.csv")
    doc = json.loads((out / "results.json").read_text())
    table = pd.read_csv(demo_csv)
    assert list(excluded.columns) == ["patient_id", "step", "reason"]
    assert len(excluded) == 733 - doc["n"] == sum(r["n_excluded"] for r in doc["flow"])
    assert excluded["reason"].notna().all() and excluded["step"].notna().all()
    # per step, as many rows as the flow excludes there
    assert excluded["step"].value_counts().to_dict() == {r["step"]: r["n_excluded"] for r in doc["flow"]
                                                         if r["n_excluded"]}
    assert set(excluded["patient_id"]) | set(cohort["patient_id"]) == set(table["patient_id"])
    assert not set(excluded["patient_id"]) & set(cohort["patient_id"])
    unmatched = cohort[cohort["matched"] == 0]
    assert len(unmatched) and unmatched["reason"].notna().all() and unmatched["pair"].isna().all()
    result = pipeline.run_analysis(load_preset("primary_tumour_resection"), make_demo_cohort())
    zf = zipfile.ZipFile(io.BytesIO(export.bundle_zip(result, table, figures=False)))
    assert zf.read("excluded_patients.csv") == (out / "excluded_patients.csv").read_bytes()
