"""Process-wide choices of the entry points (pannet_core/runtime.py) and the command line's fast exit."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
PRESET = ROOT / "pannet_core" / "presets" / "primary_tumour_resection.json"


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "ARROW_DEFAULT_MEMORY_POOL")}
    env.update(extra)
    return env


def _python(code: str, **extra) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT,
                          env=_env(**extra)).stdout.strip().splitlines()[-1]  # after --help's text


# the command line's entry point, run as `python -m pannet_core --help` (argparse ends it with SystemExit)
_AFTER_MAIN = ("import runpy, sys\nsys.argv = ['pannet_core', '--help']\n"
               "try:\n    runpy.run_module('pannet_core', run_name='__main__')\nexcept SystemExit:\n    pass\n")


def test_command_line_uses_one_blas_thread_and_arrows_system_pool():
    code = _AFTER_MAIN + ("import os, numpy\nthreads = len(os.listdir('/proc/self/task'))\nimport pyarrow\n"
                          "print(os.environ['OPENBLAS_NUM_THREADS'], pyarrow.default_memory_pool().backend_name,"
                          " threads)")
    blas, pool, threads = _python(code).split()
    assert (blas, pool) == ("1", "system")
    assert threads == "1"  # numpy loaded without OpenBLAS worker threads (a 2-core machine starts one otherwise)


def test_settings_the_user_made_are_kept():
    code = _AFTER_MAIN + ("import os, pyarrow\n"
                          "print(os.environ['OPENBLAS_NUM_THREADS'], pyarrow.default_memory_pool().backend_name)")
    assert _python(code, OPENBLAS_NUM_THREADS="2", ARROW_DEFAULT_MEMORY_POOL="jemalloc").split() == ["2", "jemalloc"]


def test_dashboard_configures_the_process_before_importing_anything_else():
    body = ast.parse((ROOT / "app.py").read_text(encoding="utf-8")).body
    first = [n for n in body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))][:2]
    assert isinstance(first[0], ast.ImportFrom) and first[0].module == "pannet_core.runtime"
    call = first[1].value
    assert isinstance(call, ast.Call) and call.func.id == "configure"


def test_fast_exit_keeps_the_message_the_files_and_the_exit_code(tmp_path):
    # os._exit skips the interpreter's shutdown: the printed line (a pipe is block-buffered) and every
    # file must still be complete
    data = tmp_path / "demo.csv"
    subprocess.run([sys.executable, "-m", "pannet_core", "demo", "--out", str(data)], check=True, cwd=ROOT,
                   capture_output=True)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "pannet_core", "run", "--data", str(data), "--settings",
                           str(PRESET), "--out", str(out), "--no-figures"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Wrote {out / 'results.json'}: 194 patients")
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    lines = (out / "matched_cohort.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == doc["n"] + 1  # header + every analysed patient, last line whole
    assert lines[-1].count(",") == lines[0].count(",")
    bad = subprocess.run([sys.executable, "-m", "pannet_core", "run", "--data", str(tmp_path / "none.csv"),
                          "--settings", str(PRESET), "--out", str(tmp_path / "o"), "--no-figures"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and "none.csv" in bad.stderr
