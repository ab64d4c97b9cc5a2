"""CONTRACT.md: ``run`` without ``--no-figures`` writes ``DIR/figures/*.png`` next to results.json.

Needs a Chromium for kaleido; skipped (with the reason) when none is installed.
"""
from __future__ import annotations

import json
import struct

import pytest

from pannet_core.cli import main
from pannet_core.demo import make_demo_cohort
from pannet_core.report import export
from pannet_core.settings import load_preset

pytestmark = pytest.mark.skipif(not export.browser_available(),
                                reason="no Chromium found (install Debian's chromium or set BROWSER_PATH)")

# the Pan-NET preset adds the CONSORT flow and (seed 000) the sensitivity analysis to the figures every
# analysis has
EXPECTED = {"consort.png", "km_os_unmatched.png", "km_os_matched.png", "km_os_sensitivity.png", "love_plot.png",
            "ps_overlap.png", "summary_slide.png"}


def test_run_writes_every_figure_as_png(tmp_path):
    make_demo_cohort().to_csv(tmp_path / "demo.csv", index=False)
    (tmp_path / "s.json").write_text(load_preset("primary_tumour_resection").to_json())
    out = tmp_path / "out"
    assert main(["run", "--data", str(tmp_path / "demo.csv"), "--settings", str(tmp_path / "s.json"),
                 "--out", str(out)]) == 0
    assert json.loads((out / "results.json").read_text())["n"] == 194
    files = {p.name for p in (out / "figures").iterdir()}
    assert files == EXPECTED
    for name in files:
        data = (out / "figures" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", name
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 1600 and height >= 800, (name, width, height)   # high resolution, not a thumbnail
