"""The same words and numbers on plot and table: level text, spelling, P rounding, "1 year"."""
from __future__ import annotations

import pandas as pd

from board import fmt, tables
from pannet_core import figures
from pannet_core.figures.style import fmt_p


def _table1():
    return pd.DataFrame({
        "variable": ["age_group"] * 3 + ["primary_size_group"] * 2,
        "label": ["Age"] * 3 + ["Size primary tumor (cm)"] * 2,
        "level": ["<50", "50-69", ">=70", "<=2", ">2"],
        "treated_n": [5, 6, 7, 8, 9], "treated_pct": [20.0, 30.0, 50.0, 40.0, 60.0],
        "control_n": [5, 6, 7, 8, 9], "control_pct": [20.0, 30.0, 50.0, 40.0, 60.0],
        "p": [0.4321] * 3 + [0.0456] * 2, "smd": [0.1, 0.2, 0.3, 0.05, 0.05],
        "flag": [False, True, True, False, False]})


def test_table1_levels_match_the_love_plot_and_p_is_once_per_variable():
    out = tables.table1_display(_table1(), {"treated": "T", "control": "C"})
    assert out["Level"].tolist() == ["<50", "50-69", "≥70", "≤2", ">2"]
    assert out["P"].tolist() == ["0.43", "", "", "0.046", ""]  # one test per variable, printed once
    assert out["Variable"].tolist() == ["Age", "", "", "Size primary tumour (cm)", ""]  # one spelling
    balance = pd.DataFrame({"variable": ["age_group=>=70", "primary_size_group=<=2"], "smd_before": [0.3, 0.2],
                            "smd_after": [0.1, 0.05]})
    love = figures.love_plot(balance)
    assert set(love.layout.yaxis.categoryarray) == {"age: ≥70", "primary tumour size (cm): ≤2"}


def test_p_is_rounded_the_same_on_plot_and_table():
    for p in (0.0004, 0.00123, 0.0456, 0.0996, 0.1234, 0.4321, 0.999):
        assert fmt_p(p) in (f"P = {fmt.p_value(p)}", f"P < {fmt.p_value(p).lstrip('<')}")
    assert fmt.p_value(0.4321) == "0.43" and fmt.p_value(0.0456) == "0.046" and fmt.p_value(0.0004) == "<0.001"


def test_covariate_choices_spell_tumour():
    from board import matching_ui

    assert matching_ui.covariate_label("primary_size_group").startswith("Size primary tumour (cm)")
