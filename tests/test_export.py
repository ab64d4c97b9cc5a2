"""PNG/PDF export, figure folder and zip bundle.

Tests that render need a Chromium; they are skipped (with the reason) when none
is installed.  One export browser is started for the whole module.
"""
from __future__ import annotations

import dataclasses
import io
import json
import struct
import zipfile

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from pannet_core import pipeline
from pannet_core.errors import PanNetError
from pannet_core.report import export
from pannet_core.settings import Settings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_browser = pytest.mark.skipif(
    not export.browser_available(),
    reason="no Chromium found (install Debian's chromium or set BROWSER_PATH); PNG/PDF export not tested")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n)
    size = rng.choice(["<=20", "21-50", ">50"], n)
    tr = (rng.random(n) < 1 / (1 + np.exp(-(age - 60) / 10))).astype(int)
    t = rng.exponential(2000 * (1 + tr), n)
    c = rng.uniform(200, 4000, n)
    return pd.DataFrame({"pid": np.arange(1, n + 1), "hormon": tr, "dtime": np.minimum(t, c).round(),
                         "death": (t <= c).astype(int), "age": age, "size": size})


SETTINGS = Settings.from_dict({"columns": {"id": "pid", "treatment": "hormon", "time": "dtime", "event": "death"},
                               "propensity": {"covariates": ["age", "size"], "categorical": ["size"]},
                               "matching": {"caliper": 0.2}})
GENERIC_FIGURES = {"km_os_unmatched.png", "km_os_matched.png", "love_plot.png", "ps_overlap.png",
                   "summary_slide.png"}


@pytest.fixture(scope="module")
def table():
    return _table()


@pytest.fixture(scope="module")
def result(table):
    return pipeline.run_analysis(SETTINGS, table)


@pytest.fixture(scope="module")
def browser():
    if not export.browser_available():
        pytest.skip("no Chromium found (install Debian's chromium or set BROWSER_PATH)")
    export.start_export_browser()
    yield
    export.stop_export_browser()


@pytest.fixture
def fake_render(monkeypatch):
    """Replace the browser by a tiny valid PNG so that bundle tests need no Chromium."""
    calls = []

    def render(fig, opts):
        calls.append(opts)
        w, h = int(opts["width"] * opts["scale"]), int(opts["height"] * opts["scale"])
        return PNG_SIGNATURE + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", w, h) + b"\x08\x02\x00\x00\x00"

    monkeypatch.setattr(export, "_render", render)
    monkeypatch.setattr(export, "require_browser", lambda: "/fake/chromium")
    return calls


def _fig():
    return go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 0.5, 0.3]), layout=dict(title="test"))


# --------------------------------------------------------------------------- rendering
@needs_browser
def test_png_has_signature_and_requested_pixel_size(browser):
    data = export.figure_png(_fig(), width=800, height=500, scale=2)
    assert png_size(data) == (1600, 1000)
    again = export.figure_png(_fig(), width=640, height=400, scale=1)  # the warm browser is reused
    assert png_size(again) == (640, 400)


@needs_browser
def test_pdf_starts_with_pdf_header(browser):
    assert export.figure_pdf(_fig(), width=800, height=500)[:5] == b"%PDF-"


@needs_browser
def test_write_figures_writes_every_figure(browser, result, tmp_path):
    paths = export.write_figures(result, tmp_path / "figs", scale=1)
    assert {p.name for p in paths} == GENERIC_FIGURES
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(GENERIC_FIGURES)
    km = (tmp_path / "figs" / "km_os_matched.png").read_bytes()
    assert png_size(km) == (1600, 1000)
    assert png_size((tmp_path / "figs" / "summary_slide.png").read_bytes()) == (1920, 1080)


# --------------------------------------------------------------------------- errors
def test_missing_browser_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    assert export.browser_available() is False
    with pytest.raises(PanNetError, match="PNG export needs a Chromium browser") as err:
        export.require_browser()
    assert "apt-get install chromium" in str(err.value) and "BROWSER_PATH" in str(err.value)
    with pytest.raises(PanNetError):
        export.figure_png(_fig())


def test_bad_sizes_are_rejected(fake_render):
    for kwargs in ({"width": 0}, {"height": 1.5}, {"scale": 0}, {"width": True}):
        with pytest.raises(PanNetError):
            export.figure_png(_fig(), **kwargs)
    with pytest.raises(PanNetError):
        export.figure_png("not a figure")


def test_failed_export_leaves_no_partial_files(result, tmp_path, monkeypatch, fake_render):
    folder = tmp_path / "figs"
    folder.mkdir()
    (folder / "km_os_matched.png").write_bytes(b"old")
    calls = {"n": 0}

    def flaky(fig, opts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("browser crashed")
        return PNG_SIGNATURE + b"rest"

    monkeypatch.setattr(export, "_render", flaky)
    with pytest.raises(PanNetError, match="export failed"):
        export.write_figures(result, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["km_os_matched.png"]
    assert (folder / "km_os_matched.png").read_bytes() == b"old"  # untouched, not half-replaced


def test_failed_write_removes_the_temporary_file(tmp_path, monkeypatch):
    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "replace", boom)
    with pytest.raises(OSError):
        export._atomic_write(tmp_path / "a.png", b"data")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- bundle
def test_bundle_zip_contains_everything(result, table, fake_render):
    t1 = pd.DataFrame({"variable": ["age", "size"], "level": ["", "<=20"], "treated_n": [10, 4], "p": [0.2, 0.5]})
    res = dataclasses.replace(result, table1=t1, table1_matched=t1.assign(p=[0.9, 0.8]))
    data = export.bundle_zip(res, table)
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    expected = {f"figures/{n}" for n in GENERIC_FIGURES} | {
        "table1.csv", "table1.xlsx", "matched_cohort.csv", "excluded_patients.csv", "settings.json", "results.json",
        "fingerprint.txt", "versions.txt"}
    assert names == expected
    assert Settings.from_json(zf.read("settings.json")) == result.settings
    assert json.loads(zf.read("results.json"))["n_treated"] == result.n_treated
    fp = zf.read("fingerprint.txt").decode()
    assert export.table_fingerprint(table)["sha256"] in fp and f"rows {len(table)}" in fp and "columns 6" in fp
    versions = zf.read("versions.txt").decode()
    for pkg in ("python", "numpy", "pandas", "scipy", "plotly", "kaleido", "pannet_core"):
        assert f"{pkg} " in versions
    sheets = pd.read_excel(io.BytesIO(zf.read("table1.xlsx")), sheet_name=None)
    assert list(sheets) == ["before matching", "after matching"]
    assert sheets["after matching"]["p"].tolist() == [0.9, 0.8]
    cohort = pd.read_csv(io.BytesIO(zf.read("matched_cohort.csv")))
    assert len(cohort) == result.n and "propensity_score" in cohort.columns
    for name in names:
        if name.endswith(".png"):
            assert zf.read(name)[:8] == PNG_SIGNATURE


def test_fingerprint_changes_with_the_data(table):
    other = table.copy()
    other.loc[0, "age"] = other.loc[0, "age"] + 1
    assert export.table_fingerprint(table)["sha256"] != export.table_fingerprint(other)["sha256"]
    assert export.table_fingerprint(table) == export.table_fingerprint(table.copy())


def test_plotly_config_exports_high_resolution_png():
    opts = export.PLOTLY_CONFIG["toImageButtonOptions"]
    assert opts["format"] == "png" and opts["scale"] >= 2 and opts["width"] >= 1600
    from pannet_core import figures

    cfg = export.plotly_config("km_os_matched", figures.love_plot(pd.DataFrame(
        {"variable": ["age"], "smd_before": [0.3], "smd_after": [0.05]})))
    assert cfg["toImageButtonOptions"]["filename"] == "km_os_matched"
    assert cfg["toImageButtonOptions"]["width"] == 1400
    assert export.PLOTLY_CONFIG["toImageButtonOptions"]["filename"] == "pannet_board_figure"  # not mutated


def test_tab_reload_runs_after_the_render_returns():
    """The warm browser hands the image back before kaleido's tab reload finishes; the tab
    still goes back to kaleido's queue once reloaded."""
    import asyncio

    class FakeKaleido:
        def __init__(self):
            self.returned = []
            self.release = asyncio.Event()

        async def _return_kaleido_tab(self, tab):
            await self.release.wait()  # a slow Page.reload
            self.returned.append(tab)

    async def scenario():
        k = FakeKaleido()
        export._reload_in_background(k)
        await asyncio.wait_for(k._return_kaleido_tab("tab-1"), 1.0)  # does not wait for the reload
        assert k.returned == []
        k.release.set()
        for _ in range(10):
            await asyncio.sleep(0)
        return k.returned

    # own thread: an earlier test (Playwright's sync API) may leave a loop running in this one
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, scenario()).result(timeout=10) == ["tab-1"]


def test_background_reload_leaves_unknown_kaleido_alone():
    class Other:
        def _return_kaleido_tab(self, tab):  # not a coroutine function: a different kaleido
            return tab

    o = Other()
    export._reload_in_background(o)
    assert "_return_kaleido_tab" not in vars(o)


def test_sensitivity_km_is_exported_when_the_analysis_has_one(result):
    """Every figure of the Survival page can be exported: the sensitivity-analysis KM of seed 000 too."""
    from pannet_core.demo import make_demo_cohort
    from pannet_core.settings import load_preset

    assert result.sensitivity is None
    assert not [k for k in export.result_figures(result) if k.endswith("_sensitivity")]   # generic: none
    r = pipeline.run_analysis(load_preset("primary_tumour_resection"), make_demo_cohort())
    assert r.sensitivity is not None
    figs = export.result_figures(r)
    assert list(figs)[:3] == ["km_os_unmatched", "km_os_matched", "km_os_sensitivity"]
    sens = figs["km_os_sensitivity"]
    assert "sensitivity analysis (matched, without liver resection)" in sens.layout.title.text
    # drawn from the sensitivity comparison, which has fewer patients than the matched one
    assert r.sensitivity.km_treated.n < r.matched.km_treated.n
    assert sens.to_json() != figs["km_os_matched"].to_json()
    r001 = pipeline.run_analysis(load_preset("liver_surgery_tha"), make_demo_cohort())
    assert r001.sensitivity is None and "km_os_sensitivity" not in export.result_figures(r001)


def test_km_figure_of_is_what_the_export_and_the_dashboard_draw():
    """One builder for every KM figure: the export's and (board/figs.py) the screen's; bands optional."""
    from pannet_core.demo import make_demo_cohort
    from pannet_core.settings import load_preset

    r = pipeline.run_analysis(load_preset("primary_tumour_resection"), make_demo_cohort())
    figs = export.result_figures(r)
    for which in ("unmatched", "matched", "sensitivity"):
        assert export.km_figure_of(r, which).to_json() == figs[f"km_os_{which}"].to_json()
    with_bands = export.km_figure_of(r, "sensitivity")
    without = export.km_figure_of(r, "sensitivity", show_ci=False)
    assert len(without.data) < len(with_bands.data)
