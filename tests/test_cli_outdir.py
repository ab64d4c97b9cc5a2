"""``run --out`` never loses the user's files, never leaves patient rows behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pannet_core.cli import MANIFEST, main

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "pannet_core" / "presets" / "primary_tumour_resection.json"
RUN_FILES = {"results.json", "matched_cohort.csv", "matched_sets.csv", "excluded_patients.csv"}


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo.csv"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def _run(demo_csv, out, capsys=None):
    rc = main(["run", "--data", str(demo_csv), "--settings", str(PRESET), "--out", str(out), "--no-figures"])
    err = capsys.readouterr().err if capsys is not None else ""
    return rc, err


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".pannet-")]


def test_empty_out_is_a_usage_error_and_writes_nothing_in_cwd(demo_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, err = _run(demo_csv, "", capsys)
    assert rc == 2 and "--out is empty" in err and "internal error" not in err
    assert list(tmp_path.iterdir()) == []
    assert main(["demo", "--out", " "]) == 2 and list(tmp_path.iterdir()) == []


def test_parent_that_is_a_file_is_a_clear_error(demo_csv, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    rc, err = _run(demo_csv, tmp_path / "afile" / "out", capsys)
    assert rc == 2 and "is a file" in err and "internal error" not in err
    rc, err = _run(demo_csv, tmp_path / "afile", capsys)
    assert rc == 2 and "not a folder" in err
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a folder nobody may write to (/sys)")
def test_unwritable_folder_is_a_clear_error(demo_csv, capsys):
    for out in ("/sys/pannet_test_out", "/sys/pannet_test_parent/out"):
        rc, err = _run(demo_csv, out, capsys)
        assert rc == 2 and "Cannot" in err and "internal error" not in err, err
        assert not Path(out).exists()


def test_unwritable_folder_via_permission_error(demo_csv, tmp_path, monkeypatch, capsys):
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    rc, err = _run(demo_csv, tmp_path / "out", capsys)
    assert rc == 2 and "Permission denied" in err and "internal error" not in err


def test_non_empty_foreign_folder_is_refused_and_untouched(demo_csv, tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "my_drawing.png").write_bytes(b"mine")
    (out / "notes.txt").write_text("mine")
    rc, err = _run(demo_csv, out, capsys)
    assert rc == 2 and "not empty and was not written by 'run'" in err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "figures", "figures/my_drawing.png", "notes.txt"]
    assert _staging(tmp_path) == []


def test_empty_existing_folder_is_used(demo_csv, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert _run(demo_csv, out)[0] == 0
    assert RUN_FILES <= {p.name for p in out.iterdir()}
    assert set(json.loads((out / MANIFEST).read_text())["files"]) == RUN_FILES


def test_rerun_replaces_exactly_the_previous_runs_files(demo_csv, tmp_path):
    out = tmp_path / "res"
    assert _run(demo_csv, out)[0] == 0
    # as if the first run had written figures, and the user then put a file of their own beside them
    (out / "figures").mkdir()
    (out / "figures" / "love_plot.png").write_bytes(b"old figure")
    (out / "figures" / "my_notes.txt").write_text("keep me")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].append("figures/love_plot.png")
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / "results.json").write_text("{}")
    assert _run(demo_csv, out)[0] == 0  # --no-figures
    assert not (out / "figures" / "love_plot.png").exists()  # old figures do not survive
    assert (out / "figures" / "my_notes.txt").read_text() == "keep me"  # the user's file does
    assert json.loads((out / "results.json").read_text())["n_pairs"] > 0
    assert set(json.loads((out / MANIFEST).read_text())["files"]) == RUN_FILES
    assert _staging(tmp_path) == []


def test_manifest_cannot_point_outside_the_folder(demo_csv, tmp_path, capsys):
    out = tmp_path / "res"
    assert _run(demo_csv, out)[0] == 0
    (tmp_path / "victim.txt").write_text("keep")
    (out / MANIFEST).write_text(json.dumps({"files": ["../victim.txt", "results.json"]}))
    rc, err = _run(demo_csv, out, capsys)
    assert rc == 2 and "damaged" in err and (tmp_path / "victim.txt").read_text() == "keep"


def test_output_of_an_older_version_without_manifest_is_replaced(demo_csv, tmp_path):
    out = tmp_path / "old"
    (out / "figures").mkdir(parents=True)
    for name in RUN_FILES:
        (out / name).write_text("old")
    (out / "figures" / "km_os_matched.png").write_bytes(b"old")
    assert _run(demo_csv, out)[0] == 0
    assert not (out / "figures").exists()
    assert (out / "results.json").read_text() != "old"


SLOW_RUN = """
import sys, time
import pannet_core.pipeline as p
def slow(*a, **k):
    open(sys.argv[1], "w").close()
    time.sleep(120)
p.analyse = slow
from pannet_core.cli import main
sys.exit(main(["run", "--data", sys.argv[2], "--settings", sys.argv[3], "--out", sys.argv[4], "--no-figures"]))
"""


def _slow_run(tmp_path, demo_csv):
    ready = tmp_path / "ready"
    out = tmp_path / "parent" / "out"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(ready), str(demo_csv), str(PRESET), str(out)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    staged = _staging(out.parent)
    assert len(staged) == 1 and staged[0].name.startswith(f".pannet-{proc.pid}-")
    time.sleep(0.3)  # let the writer thread start on the staged files
    return proc, out


def test_sigterm_removes_the_staging_folder(tmp_path, demo_csv):
    proc, out = _slow_run(tmp_path, demo_csv)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "termination signal" in err and "Traceback" not in err
    assert _staging(out.parent) == [] and not out.exists()


def test_after_sigkill_the_next_run_removes_the_stale_staging_folder(tmp_path, demo_csv):
    proc, out = _slow_run(tmp_path, demo_csv)
    proc.kill()
    proc.communicate(timeout=60)
    stale = _staging(out.parent)
    assert len(stale) == 1
    live = out.parent / f".pannet-{os.getppid()}-live"  # a staging folder of a running process stays
    live.mkdir()
    assert _run(demo_csv, out)[0] == 0
    assert _staging(out.parent) == [live]
    assert (out / "results.json").is_file()
