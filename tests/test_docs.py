"""The documents say what a newcomer needs (README, CI entry, methods, dictionary).

The README's Quick start shows ``make run`` and ``make test``, ``.ci/run`` calls ``make test``,
``docs/methods.md`` documents every option, the data dictionary holds every registry field with
its type, allowed values and seed, and the README shows a screenshot of every page.
"""
from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import pytest

from pannet_core.io import schema
from pannet_core.settings import Settings, load_preset, preset_names

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
METHODS = (ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
DICTIONARY = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert m, f"no '## {heading}' section"
    return m.group(1)


# --------------------------------------------------------------------------- README, Makefile, CI
def test_readme_quick_start_shows_make_run_and_make_test():
    quick = _section(README, "Quick start")
    commands = [line.split("#")[0].strip() for block in re.findall(r"```sh\n(.*?)```", quick, flags=re.S)
                for line in block.splitlines()]
    assert "make run" in commands and "make test" in commands
    assert "demo" in quick.lower() and "127.0.0.1" in quick


def test_makefile_run_starts_the_dashboard_and_test_runs_pytest():
    make = (ROOT / "Makefile").read_text()
    run = re.search(r"^run:.*\n((?:\t.*\n)+)", make, flags=re.M).group(1)
    test = re.search(r"^test:.*\n((?:\t.*\n)+)", make, flags=re.M).group(1)
    assert "streamlit run app.py" in run and "--server.address 127.0.0.1" in run
    assert "pytest" in test
    assert re.search(r"^test:.*requirements-dev|^\$\(VENV\)/\.dev: .*requirements-dev\.txt", make, flags=re.M)


def test_ci_entry_calls_make_test():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    commands = [ln.strip() for ln in ci.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert commands[-1] == "make test"
    assert "set -euo pipefail" in commands  # a failing suite fails CI


PAGES = ["data", "eligibility", "matching", "survival", "report"]


@pytest.mark.parametrize("page", PAGES)
def test_readme_shows_a_screenshot_of_every_page(page):
    rel = f"docs/screenshots/{page}.png"
    assert re.search(rf"!\[[^\]]*\]\({re.escape(rel)}\)", README), f"README does not show {rel}"
    data = (ROOT / rel).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1200 and height >= 600, (width, height)


# --------------------------------------------------------------------------- methods.md
def _keys(d: dict, prefix: str = "") -> set[str]:
    out = set()
    for k, v in d.items():
        if isinstance(v, dict) and k != "column_map":
            out |= _keys(v, f"{prefix}{k}.")
        else:
            out.add(prefix + k)
    return out


def _all_settings_keys() -> set[str]:
    keys = set()
    for name in preset_names():
        keys |= _keys(load_preset(name).to_dict())
    generic = Settings.from_dict({"columns": {"id": "pid", "treatment": "t", "time": "d", "event": "e"},
                                  "propensity": {"covariates": ["age"]}})
    keys |= _keys(generic.to_dict())
    return keys | {"column_map"}


def test_methods_settings_reference_lists_every_settings_key():
    ref = METHODS.split("### Settings reference", 1)[1].split("\n#", 1)[0]
    rows = [ln for ln in ref.splitlines() if ln.startswith("| `")]
    missing = []
    for key in sorted(_all_settings_keys()):
        block, _, leaf = key.rpartition(".")
        if block:
            found = any(f"`{key}`" in r or (f"`{block}." in r and f"`.{leaf}`" in r) for r in rows)
        else:
            found = any(r.startswith(f"| `{key}`") for r in rows)
        if not found:
            missing.append(key)
    assert not missing, f"docs/methods.md 'Settings reference' lacks {missing}"
    assert len(_all_settings_keys()) >= 25


@pytest.mark.parametrize("words", [
    ("Kaplan-Meier", "Greenwood", "Kaplan EL", "Greenwood M"),
    ("Log-rank", "Mantel N"),
    ("Efron", "Lin DY", "Cox DR"),
    ("cox.zph", "Grambsch PM"),
    ("Schoenfeld", "Schoenfeld DA", "Freedman LS"),
    ("Propensity score", "Rosenbaum PR"),
    ("SMD", "Austin PC"),
    ("Matching", "Ho DE"),
    ("Fisher", "Fisher RA", "Pearson K"),
    ("mmortal time", "Suissa S"),
    ("reverse Kaplan-Meier", "Schemper M"),
])
def test_methods_names_each_statistic_and_its_reference(words):
    for w in words:
        assert w in METHODS, w


# --------------------------------------------------------------------------- data dictionary
# every registry field the seeds use, as the dictionary names it
SEED_FIELDS = [
    "patient_id", "centre", "sex", "birth_date", "age_at_diagnosis", "stage4_date", "who_grade", "ki67",
    "hereditary", "functioning", "functional_syndrome", "charlson", "primary_size_cm", "liver_mets_n",
    "liver_met_max_cm", "extrahepatic_mets", "extra_abdominal_mets", "cga_uln", "albumin",
    "primary_resection_date", "primary_resection_type", "resection_before_stage4", "inoperable",
    "liver_resection_date", "liver_ablation_date", "liver_transplant", "other_liver_malignancy", "chemo_lines",
    "ssa", "prrt", "interferon", "everolimus", "sunitinib", "embolization", "clavien_dindo", "progression_date",
    "death_date", "last_followup_date",
]
SEED_VALUES = {
    "who_grade": ["G1", "G2", "G3", "NEC", "unknown"],
    "hereditary": ["sporadic", "MEN1", "VHL", "suspected"],
    "primary_resection_type": ["pancreaticoduodenectomy", "distal", "central", "enucleation", "total"],
}


def _dictionary_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DICTIONARY.splitlines():
        m = re.match(r"\| `([a-z0-9_]+)` \|", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in line.strip().strip("|").split("|")]
    return rows


def test_data_dictionary_has_every_seed_field_with_type_values_and_seed():
    rows = _dictionary_rows()
    header = [c.strip() for c in next(ln for ln in DICTIONARY.splitlines() if ln.startswith("| name")).strip("|")
              .split("|")]
    col = {h: i for i, h in enumerate(header)}
    for name in SEED_FIELDS:
        assert name in rows, f"{name} is not in docs/data-dictionary.md"
        cells = rows[name]
        assert cells[col["type"]] in schema.TYPES, name
        assert re.fullmatch(r"(000|001)(, (000|001))*", cells[col["seed"]]), (name, cells[col["seed"]])
        assert cells[col["description"]], name
        if cells[col["type"]] == "yesno":
            assert cells[col["allowed values"]] == "yes, no", name
    for name, values in SEED_VALUES.items():
        assert rows[name][col["allowed values"]] == ", ".join(values), name
    # the fields seed 001 alone contributes are attributed to it
    for name in ("ki67", "cga_uln", "albumin", "liver_met_max_cm"):
        assert "001" in rows[name][col["seed"]], name
