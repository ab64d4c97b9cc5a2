"""Headless command line: ``python -m pannet_core run|demo|validate`` (see shared/CONTRACT.md).

Every user-caused problem ends with exit code 1 (data) or 2 (settings, usage)
and a one-paragraph message on stderr; an output folder is written whole or
not at all.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from pannet_core.errors import PanNetError, SettingsError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: one paragraph, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"pannet_core: {message}. Run 'python -m pannet_core --help' for the commands.\n")
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m pannet_core", description="PanNET Board analyses without a browser.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    r = sub.add_parser("run", help="run an analysis and write results.json, matched_cohort.csv, excluded_patients.csv and figures")
    r.add_argument("--data", required=True, help="patient table (.csv or .xlsx)")
    r.add_argument("--settings", required=True, help="settings JSON (saved from the dashboard or a preset)")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    d = sub.add_parser("demo", help="write the synthetic demonstration cohort")
    d.add_argument("--out", required=True, help="CSV file to write")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--n-scale", type=int, default=1, help="K times the demo size (benchmarks)")
    v = sub.add_parser("validate", help="check a file against the data dictionary")
    v.add_argument("--data", required=True)
    v.add_argument("--settings", default=None)
    return p


def load_data(path: str | Path, settings=None):
    """Read a patient table for ``settings`` (Pan-NET files are typed by the dictionary)."""
    from pannet_core.io.reading import read_table

    column_map = dict(settings.column_map) if settings is not None and settings.column_map else None
    dictionary = settings.is_pannet if settings is not None else None
    res = read_table(Path(path), column_map=column_map, dictionary=dictionary)
    return res.frame


def _cmd_run(args) -> int:
    import gc

    from pannet_core.io import arrow_csv

    # One analysis allocates millions of objects (imports, frames) and frees them by reference
    # counting; the cycle collector's passes over them cost ~0.2 s of CPU at registry scale and
    # find next to nothing, so it is off for the run (~10 % more peak memory) and back on after,
    # for callers that run main() in their own process (tests).
    gc_was_on = gc.isenabled()
    gc.disable()
    # parse the CSV with pyarrow on a thread while this one imports pandas and scipy
    arrow_csv.start_prefetch(args.data)
    try:
        return _run(args)
    finally:
        arrow_csv.wait_prefetch()
        if gc_was_on:
            gc.enable()


def preload() -> None:
    """Import scikit-learn (the propensity fit's solver; a slow import) while the main thread reads the data."""
    try:
        import sklearn.linear_model  # noqa: F401
        import sklearn.metrics  # noqa: F401
    except Exception:  # noqa: BLE001 - the fit imports it again and reports any problem there
        pass


def _run(args) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from pannet_core.report.csv_writer import column_texts, write_csv
    from pannet_core.pipeline import analyse, fit_scores, prepare
    from pannet_core.report.results import (MATCHED_COHORT_FRONT, MATCHED_COHORT_NAMES, excluded_patients_frame,
                          matched_cohort_frame, results_json, results_text)
    from pannet_core.settings import Settings

    settings = Settings.load(args.settings)
    threading.Thread(target=preload, daemon=True).start()
    table = load_data(args.data, settings)
    _require_usable(table, settings, args.data, args.settings)
    export = None
    if not args.no_figures:
        from pannet_core.report import export

        try:
            export.require_browser()  # fail before any work if PNGs cannot be made
        except PanNetError as exc:
            raise PanNetError(exc.problem, "run again with --no-figures to write results.json and the CSV files "
                              "without the PNG figures; or install chromium (Debian/Ubuntu: sudo apt-get install "
                              "chromium; macOS/Windows: install Google Chrome) or set BROWSER_PATH to a chromium "
                              "or chrome executable.") from None
    out = Path(args.out)
    made = _make_folders(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=".pannet-", dir=out.parent))
    done = False
    try:
        # The CSV files are written on a second thread while this one computes: first the text of the
        # analysed columns (most of matched_cohort.csv) while the propensity fit and the matching run,
        # then matched_cohort.csv as soon as the matching has made its rows (analyse's on_data), while
        # the outcome statistics and results.json are computed (pyarrow, which does most of the writing,
        # releases the GIL), and last excluded_patients.csv, unless this thread is done first and
        # writes it itself. Each file's bytes do not depend on the timing (write_csv reuses a column's
        # text only for the same values); leaving the block waits for the writes, and .result() raises
        # what a write raised, as if it had run here.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pannet-write") as writer:
            prepared = prepare(settings, table)  # = run_analysis, stage by stage
            rest = [c for c in prepared.frame.columns if c not in MATCHED_COHORT_FRONT]  # matched_cohort.csv's last
            # under the file's column names (a rename shares the columns' memory, so no copy)
            texts = writer.submit(column_texts, prepared.frame.rename(columns=MATCHED_COHORT_NAMES), tail=rest)
            wrote_matched = []

            def write_matched(data):  # analyse's on_data: the rows of result.data, once matched
                matched = matched_cohort_frame(data)

                def write():  # on the writer thread, after column_texts (one worker: in order)
                    write_csv(matched, tmp / "matched_cohort.csv", known=texts.result())

                wrote_matched.append(writer.submit(write))

            result = analyse(settings, prepared, fit_scores(settings, prepared), on_data=write_matched)
            excluded = excluded_patients_frame(prepared)
            wrote_excluded = writer.submit(write_csv, excluded, tmp / "excluded_patients.csv")
            doc = results_json(result)
            text = results_text(doc)  # = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
            if wrote_excluded.cancel():  # the writer has not started it (still busy): write it here
                write_csv(excluded, tmp / "excluded_patients.csv")
            else:
                wrote_excluded.result()
            wrote_matched[0].result()
        if export is not None:
            export.write_figures(result, tmp / "figures")
        (tmp / "results.json").write_text(text, encoding="utf-8")
        _publish(tmp, out)
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done:  # a failed run leaves no trace, not even the folders made for its output
            for folder in made:
                try:
                    folder.rmdir()
                except OSError:
                    break
    print(f"Wrote {out / 'results.json'}: {doc['n']} patients, {doc['n_pairs']} matched pairs; "
          f"{len(excluded)} patient(s) left out before the analysis are listed in "
          f"{out / 'excluded_patients.csv'}.")
    return 0


def _make_folders(folder: Path) -> list[Path]:
    """``folder.mkdir(parents=True, exist_ok=True)``; returns the folders it made, innermost first."""
    missing = []
    for f in [folder, *folder.parents]:
        if f.exists():
            break
        missing.append(f)
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _where(p) -> str:
    """Where a problem is: ``data row N`` (row 1 is the first row under the header) and the column."""
    return (f"data row {p.row}" if p.row is not None else "the file") + (f", column '{p.column}'" if p.column else "")


def _require_usable(table, settings, data_path, settings_path=None) -> None:
    """Stop before any analysis when the file has errors (warnings only exclude patients).

    Parameters
    ----------
    table : pandas.DataFrame
        The table as :func:`load_data` read it.
    settings : Settings
        The settings of the run.
    data_path, settings_path : str or pathlib.Path
        The files given on the command line; the message repeats them in the
        ``validate`` command that lists every problem.

    Raises
    ------
    PanNetError
        Naming the first three errors and how to see them all (exit code 1).
    """
    import shlex

    from pannet_core.io.validation import validate

    typed = settings is not None and settings.is_pannet  # load_data converted the table to the dictionary types
    errors = [p for p in validate(table, settings, typed=typed) if p.severity == "error"]
    if errors:
        shown = "; ".join(f"{_where(p)}: {p.problem.rstrip('.')}" for p in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        command = f"python -m pannet_core validate --data {shlex.quote(str(data_path))}"
        if settings_path is not None:
            command += f" --settings {shlex.quote(str(settings_path))}"
        raise PanNetError(f"The data has {len(errors)} error(s) that must be corrected first: {shown}{more}.",
                          f"Correct them in the file. To list every one with its fix, run: {command}")


def _publish(tmp: Path, out: Path) -> None:
    """Move a finished output folder into place; results.json goes last."""
    if not out.exists():
        os.replace(tmp, out)
        return
    if not out.is_dir():
        raise PanNetError(f"The output path {out} exists and is not a folder.", "Choose another --out.")
    for item in sorted(tmp.iterdir(), key=lambda p: p.name == "results.json"):
        target = out / item.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(item, target)


def _cmd_demo(args) -> int:
    from pannet_core.cohort.demo import make_demo_cohort

    if args.n_scale < 1:
        raise SettingsError(f"--n-scale is {args.n_scale}; it must be 1 or more.", "Use e.g. --n-scale 100.")
    frame = make_demo_cohort(seed=args.seed, n_scale=args.n_scale)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, out)
    print(f"Wrote {len(frame)} synthetic patients to {out}.")
    return 0


def _cmd_validate(args) -> int:
    from pannet_core.settings import Settings
    from pannet_core.io.validation import is_usable, validate

    settings = Settings.load(args.settings) if args.settings else None
    table = load_data(args.data, settings)
    problems = validate(table, settings)
    for p in problems:
        val = f", value {p.value!r}" if p.value is not None else ""
        print(f"{p.severity.upper()}: {_where(p)}{val}: {p.problem} Fix: {p.fix}")
    usable = is_usable(problems)
    n_err = sum(p.severity == "error" for p in problems)
    print(f"{len(table)} rows, {n_err} error(s), {len(problems) - n_err} warning(s): "
          f"{'usable' if usable else 'NOT usable until the errors are fixed'}.")
    return 0 if usable else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"run": _cmd_run, "demo": _cmd_demo, "validate": _cmd_validate}[args.command](args)
    except PanNetError as exc:
        sys.stderr.write(f"pannet_core: {' '.join(exc.message.split())}\n")
        return exc.exit_code
    except MemoryError:
        sys.stderr.write("pannet_core: the data set is too large for this machine's memory. "
                         "Fix: analyse a subset or use a machine with more memory.\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("pannet_core: interrupted; nothing was written.\n")
        return 1
    except Exception as exc:  # a bug: still no traceback for the user, unless asked for
        if os.environ.get("PANNET_DEBUG"):
            raise
        sys.stderr.write(f"pannet_core: internal error ({type(exc).__name__}: {exc}). Nothing was written. "
                         "Fix: please report this with the settings file; set PANNET_DEBUG=1 to see the details.\n")
        return 1
