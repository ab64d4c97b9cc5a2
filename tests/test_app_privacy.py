"""Privacy of the dashboard: identity columns, nothing written to disk, safe server settings, optional sign-in."""
from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from pannet_core.demo import make_demo_cohort  # noqa: E402
from pannet_core.io import privacy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = ["app_pages/1_data.py", "app_pages/2_eligibility.py", "app_pages/3_matching.py", "app_pages/4_survival.py",
         "app_pages/5_report.py"]


def luhn_digit(nine: str) -> str:
    """The Luhn check digit of the nine digits YYMMDDNNN of a Swedish personnummer."""
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def personnummer(birth: pd.Timestamp, serial: int) -> str:
    nine = f"{birth:%y%m%d}{serial:03d}"
    return f"{birth:%Y%m%d}-{serial:03d}{luhn_digit(nine)}"


def test_generated_personnummer_pass_the_luhn_check():
    assert personnummer(pd.Timestamp("1912-12-12"), 121) == "19121212-1212"  # Skatteverket's example
    assert privacy.swedish_kind(personnummer(pd.Timestamp("1950-03-07"), 482)) == "personnummer"


def _with_personnummer(n: int = 733, prefix: str = "DEMO") -> tuple[bytes, list[str], list[str]]:
    """Demo rows with unique ids and a column 'ident' of valid personnummer (the header alone says nothing)."""
    f = make_demo_cohort().head(n).copy()
    f["patient_id"] = [f"{prefix}-{i:04d}" for i in range(n)]
    rng = np.random.default_rng(7)
    births = pd.to_datetime(f["stage4_date"]) - pd.to_timedelta(f["age_at_diagnosis"].fillna(60) * 365.25, unit="D")
    pnr = [personnummer(b.normalize(), int(s)) for b, s in zip(births, rng.integers(0, 1000, n))]
    f.insert(1, "ident", pnr)
    return f.to_csv(index=False).encode(), list(f["patient_id"]), pnr


def test_identity_column_is_flagged_and_dropped_on_request(monkeypatch):
    data, _ids, pnr = _with_personnummer()
    calls = []
    real = privacy.drop_columns

    def spy(frame, columns):
        calls.append(list(columns))
        return real(frame, columns)

    monkeypatch.setattr(privacy, "drop_columns", spy)
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.file_uploader(key="upload_table").set_value(("registry.csv", data, "text/csv")).run()
    assert not at.exception
    entry = at.session_state["pnb_table"]
    assert not entry.is_demo and "ident" in entry.frame.columns
    warning = [w.value for w in at.warning if "personal identity number" in w.value]
    assert warning and "ident" in warning[0] and "personnummer" in warning[0]

    at.button(key="drop_identity").click().run()
    assert not at.exception
    after = at.session_state["pnb_table"]
    assert calls == [["ident"]]                                   # the button used privacy.drop_columns
    assert "ident" not in after.frame.columns and after.dropped == ("ident",)
    assert after.raw == data                                      # the original upload is not modified
    assert "ident" in entry.frame.columns                         # nor is the table read from it
    assert len(after.frame) == len(entry.frame)
    assert not [w for w in at.warning if "personal identity number" in w.value]
    assert any("Dropped: ident" in s.value for s in at.success)
    at.switch_page(PAGES[2]).run()                                # the analysis runs on the reduced table
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not any(p in m.value for m in at.markdown for p in pnr[:20])


# --------------------------------------------------------------------------- nothing on disk
_IGNORE_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", "node_modules"}


def _files(root: Path) -> dict[Path, float]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
        dirnames[:] = [d for d in dirnames if d not in _IGNORE_PARTS and not d.startswith((".venv", ".git"))]
        for name in filenames:
            if name.endswith((".pyc", ".pyo")):
                continue
            p = Path(dirpath) / name
            try:
                out[p] = p.stat().st_mtime
            except OSError:
                pass
    return out


def _holds_any(path: Path, needles: list[bytes]) -> bool:
    try:
        if path.stat().st_size > 50_000_000:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return any(n in data for n in needles)


def session_through_every_page(data: bytes) -> AppTest:
    """An app session that uploaded ``data`` as a CSV and then opened every page after the upload page,
    each without an exception."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.file_uploader(key="upload_table").set_value(("registry.csv", data, "text/csv")).run()
    assert not at.exception and not at.session_state["pnb_table"].is_demo
    for page in PAGES[1:]:
        at.switch_page(page).run()
        assert not at.exception, page
    return at


def test_a_whole_session_writes_no_patient_data_to_disk(tmp_path, monkeypatch):
    """Upload, analyse on every page, render every figure: no new or changed file holds a patient id."""
    data, ids, pnr = _with_personnummer(prefix="PRIVTEST7731")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    roots = [cwd, Path(tempfile.gettempdir()), ROOT]
    before = {r: _files(r) for r in roots}

    at = session_through_every_page(data)
    result = at.session_state["pnb_table"]
    from board import cached, figs  # noqa: F401  (the figures the pages drew are in the session's cache)
    from pannet_core import pipeline
    from pannet_core.report import export
    from pannet_core.settings import load_preset
    res = pipeline.run_analysis(load_preset("primary_tumour_resection"), result.frame)
    assert set(res.data["patient_id"]) <= set(ids)  # the analysis really ran on the uploaded ids
    for fig in export.result_figures(res).values():  # figures built (PNG export too when a browser exists)
        fig.to_json()
    if export.browser_available():
        export.figure_png(export.result_figures(res)["love_plot"], width=800, height=600)

    needles = [i.encode() for i in ids[:50]] + [p.encode() for p in pnr[:50]]
    suspicious = []
    for r in roots:
        now = _files(r)
        for path, mtime in now.items():
            if before[r].get(path) != mtime and _holds_any(path, needles):
                suspicious.append(str(path))
    assert not suspicious, f"patient data written to disk: {suspicious}"
    assert not [p for p in _files(cwd)], "the session created files in the working directory"


# --------------------------------------------------------------------------- server settings
def test_streamlit_config_keeps_data_local():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["client"]["showErrorDetails"] == "none"
    assert isinstance(cfg["server"]["maxUploadSize"], int) and 1 <= cfg["server"]["maxUploadSize"] <= 200
    assert cfg["server"]["headless"] is True


# --------------------------------------------------------------------------- optional sign-in
def test_without_require_login_nothing_changes(monkeypatch):
    monkeypatch.delenv("PANNET_REQUIRE_LOGIN", raising=False)
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Data"]
    assert not at.error and not [b for b in at.button if b.key in ("pnb_login", "pnb_logout")]


def test_require_login_without_auth_config_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PANNET_REQUIRE_LOGIN", "1")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    text = at.error[0].value
    assert "PANNET_REQUIRE_LOGIN" in text and "[auth]" in text and "Fix:" in text
    assert "pnb_table" not in at.session_state          # no patient data loaded behind the gate
    assert [t.value for t in at.title] == ["PanNET Board"]


def test_require_login_needs_authlib(monkeypatch):
    from board import auth

    monkeypatch.setenv("PANNET_REQUIRE_LOGIN", "true")
    monkeypatch.setattr(auth, "authlib_available", lambda: False)
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "id", "client_secret": "secret",
                          "server_metadata_url": "https://sso.example/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "Authlib" in at.error[0].value
    assert "pnb_table" not in at.session_state


def test_require_login_shows_sign_in_when_configured(monkeypatch):
    from board import auth

    monkeypatch.setenv("PANNET_REQUIRE_LOGIN", "1")
    monkeypatch.setattr(auth, "authlib_available", lambda: True)
    at = AppTest.from_file(APP, default_timeout=90)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "id", "client_secret": "secret",
                          "server_metadata_url": "https://sso.example/.well-known/openid-configuration"}
    at.run()
    assert not at.exception and not at.error
    assert at.button(key="pnb_login").label == "Sign in"
    assert "pnb_table" not in at.session_state
