"""Screen formatting of the Cox table (board/tables.py): what a tumour board reads."""
import math

import pandas as pd

from board import tables


def _models():
    return pd.DataFrame({
        "model": ["univariable", "univariable", "univariable", "multivariable"],
        "variable": ["grade", "grade", "age", "grade"],
        "level": ["G1", "G2", math.nan, "G2"],
        "reference": [True, False, False, False],
        "hr": [1.0, 2.3456, 1.02, math.nan],
        "lower": [math.nan, 1.5, 1.0, math.nan],
        "upper": [math.nan, 3.61, 1.04, math.nan],
        "p": [math.nan, 0.0004, 0.046, math.nan],
        "p_variable": [0.0003, 0.0003, 0.046, math.nan],
        "note": [None, None, None, "not estimable: no events in G2"],
    })


def test_cox_display_rows_read_like_a_paper_table():
    out = tables.cox_display(_models())
    assert list(out.columns) == ["Model", "Variable", "Level", "HR (95% CI)", "P", "P (variable)"]
    assert out["HR (95% CI)"].tolist() == ["1 (reference)", "2.35 (1.50–3.61)", "1.02 (1.00–1.04)",
                                           "not estimable: no events in G2"]
    assert out["P"].tolist() == ["", "<0.001", "0.046", "–"]
    # the variable's P once per model, on its first row
    assert out["P (variable)"].tolist() == ["<0.001", "", "0.046", "–"]
    assert out["Level"].tolist() == ["G1", "G2", "", "G2"]


def test_cox_display_of_the_001_preset_has_one_reference_row_per_categorical_variable():
    from pannet_core import demo, pipeline
    from pannet_core.settings import load_preset

    result = pipeline.run_analysis(load_preset("liver_surgery_tha"), demo.make_demo_cohort())
    table = result.cox_models.table
    out = tables.cox_display(table)
    assert len(out) == len(table)
    n_ref = int(table["reference"].sum())
    assert n_ref > 0 and (out["HR (95% CI)"] == "1 (reference)").sum() == n_ref
