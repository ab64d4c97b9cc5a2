"""Headless command line: ``python -m pannet_core run|demo|validate`` (see shared/CONTRACT.md).

Every user-caused problem ends with exit code 1 (data) or 2 (settings, usage)
and a one-paragraph message on stderr; an output folder is written whole or
not at all.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
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
    r = sub.add_parser("run", help="run an analysis and write results.json, matched_cohort.csv, matched_sets.csv, "
                       "excluded_patients.csv and figures")
    r.add_argument("--data", required=True, help="patient table (.csv or .xlsx)")
    r.add_argument("--settings", required=True, help="settings JSON (saved from the dashboard or a preset)")
    r.add_argument("--out", required=True, help="output folder")
    r.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    r.add_argument("--robustness", action="store_true",
                   help="add the specification panel to results.json (every caliper x order of the settings' "
                        "robustness block: 84 re-matches by default)")
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
    text_columns = settings.text_columns if settings is not None else ()
    res = read_table(Path(path), column_map=column_map, dictionary=dictionary, text_columns=text_columns)
    return res.frame


def _cmd_run(args) -> int:
    import gc

    from pannet_core.io import arrow_csv

    # reference counting frees the run's millions of objects; the cycle collector would only scan them
    # (back on after, for callers that run main() in their own process)
    out = _check_out(args.out)  # before any work: a bad --out costs nothing
    gc_was_on = gc.isenabled()
    gc.disable()
    # parse the CSV with pyarrow on a thread while this one imports pandas and scipy
    arrow_csv.start_prefetch(args.data)
    try:
        with _terminate_as_exception():
            return _run(args, out)
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


def _run(args, out: Path) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from pannet_core.pipeline import analyse, fit_scores, prepare
    from pannet_core.report.csv_writer import column_texts, write_csv
    from pannet_core.report.results import (
        MATCHED_COHORT_FRONT,
        MATCHED_COHORT_NAMES,
        excluded_patients_frame,
        matched_cohort_frame,
        matched_sets_frame,
        results_json,
        results_text,
    )
    from pannet_core.settings import Settings
    from pannet_core.specification import robustness_rows

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
    made = _make_folders(out.parent)
    _remove_stale_staging(out.parent)
    tmp = _make_staging(out.parent)
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

            fit = fit_scores(settings, prepared)
            result = analyse(settings, prepared, fit, on_data=write_matched)
            excluded = excluded_patients_frame(prepared)
            wrote_excluded = writer.submit(write_csv, excluded, tmp / "excluded_patients.csv")
            # the panel re-matches 84 times: seconds at registry scale, so only when asked for
            rows = robustness_rows(settings, prepared, fit) if args.robustness else None
            doc = results_json(result, robustness=rows)
            write_csv(matched_sets_frame(result), tmp / "matched_sets.csv")
            text = results_text(doc)  # = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
            if wrote_excluded.cancel():  # the writer has not started it (still busy): write it here
                write_csv(excluded, tmp / "excluded_patients.csv")
            else:
                wrote_excluded.result()
            wrote_matched[0].result()
        if export is not None:
            export.write_figures(result, tmp / "figures")
        (tmp / "results.json").write_text(text, encoding="utf-8")
        _publish(tmp, out)  # (an OSError here is reported by main with the path it names)
        done = True
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not done:  # a failed run leaves no trace, not even the folders made for its output
            for folder in made:
                try:
                    folder.rmdir()
                except OSError:
                    break
    print(f"Wrote {out / 'results.json'}: {doc['n']} patients, {doc['n_sets']} matched sets "
          f"({doc['n_pairs']} treated-control pairs, {doc['n_matched_patients']} distinct patients); "
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
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        for f in missing:  # the ones made before the failure
            with contextlib.suppress(OSError):
                f.rmdir()
        raise PanNetError(f"Cannot create the output folder's parent {folder} ({exc.strerror}).",
                          "Choose an --out inside a folder you can write to (a part of the path may be a "
                          "file).", exit_code=2) from None
    return missing


# --------------------------------------------------------------------------- output folder
#: lists the files a run wrote into its --out folder, so the next run replaces exactly those
MANIFEST = ".pannet_manifest.json"
#: staging folders are ``.pannet-<pid>-<random>`` beside --out
_STAGING = re.compile(r"\.pannet-(\d+)-[A-Za-z0-9_]+")
#: what run wrote before manifests existed: accepted as a previous output and replaced
_LEGACY_TOP = {"results.json", "matched_cohort.csv", "excluded_patients.csv", "matched_sets.csv", "figures"}
_LEGACY_FIGURE = re.compile(r"(km_\w+_(unmatched|matched|sensitivity)|love_plot|ps_overlap|consort|forest|"
                            r"summary_slide)\.(png|pdf)")


class Terminated(BaseException):
    """SIGTERM or SIGHUP during ``run``: raised in the main thread so that the staging folder is removed."""


@contextlib.contextmanager
def _terminate_as_exception():
    """Turn SIGTERM/SIGHUP into :class:`Terminated` for the block (main thread only; handlers restored)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(signum)

    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {sig: signal.signal(sig, handler) for sig in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _check_out(text: str) -> Path:
    """The ``--out`` folder as an absolute path, refused when it cannot be a run's output folder."""
    if not text or not text.strip():
        raise PanNetError("--out is empty, so there is no folder to write the results to.",
                          "Give a folder, e.g. --out results/.", exit_code=2)
    out = Path(os.path.abspath(text))
    if out.exists() and not out.is_dir():
        raise PanNetError(f"The output path {out} exists and is not a folder.", "Choose another --out.",
                          exit_code=2)
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise PanNetError(f"The output path {out} is inside {parent}, which is a file, not a folder.",
                                  "Choose another --out.", exit_code=2)
            break
    if out.is_dir():
        _previous_files(out)  # refuses a folder with files run did not write
    return out


def _previous_files(out: Path) -> list[str]:
    """The files (relative, ``/``-separated) a previous run wrote into ``out``; [] for an empty folder.

    Raises PanNetError when ``out`` holds anything a run did not write.
    """
    try:
        entries = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise PanNetError(f"Cannot read the output folder {out} ({exc.strerror}).",
                          "Choose an --out folder you can read and write.", exit_code=2) from None
    if not entries:
        return []
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            listed = None
        if isinstance(listed, list) and all(isinstance(f, str) and _safe_relative(f) for f in listed):
            return listed
        raise PanNetError(f"The output folder {out} has a damaged {MANIFEST}, so the files of the previous run "
                          "are not known.", "Choose a new or empty --out folder.", exit_code=2)
    figures = out / "figures"
    legacy = set(entries) <= _LEGACY_TOP and (
        not figures.exists() or (figures.is_dir() and all(
            p.is_file() and _LEGACY_FIGURE.fullmatch(p.name) for p in figures.iterdir())))
    if legacy and all((out / e).is_file() for e in entries if e != "figures"):
        return [e for e in entries if e != "figures"] + (
            [f"figures/{p.name}" for p in sorted(figures.iterdir())] if figures.is_dir() else [])
    shown = ", ".join(entries[:5]) + (" ..." if len(entries) > 5 else "")
    raise PanNetError(f"The output folder {out} is not empty and was not written by 'run' (it holds {shown}); "
                      "its files would be mixed with or replaced by the results.",
                      "Choose a new or empty --out folder.", exit_code=2)


def _safe_relative(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts) \
        and "\\" not in name and ":" not in name


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_stale_staging(folder: Path) -> None:
    """Remove the staging folders left in ``folder`` by runs whose process is gone (killed with SIGKILL)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for p in entries:
        m = _STAGING.fullmatch(p.name)
        if m and int(m.group(1)) != os.getpid() and p.is_dir() and not p.is_symlink() and not _alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)


def _make_staging(folder: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=f".pannet-{os.getpid()}-", dir=folder))
    except OSError as exc:
        raise PanNetError(f"Cannot write into {folder} ({exc.strerror}).",
                          "Choose an --out folder you can write to.", exit_code=2) from None


def _files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _write_manifest(folder: Path, files: list[str]) -> None:
    tmp = folder / f"{MANIFEST}.part"
    tmp.write_text(json.dumps({"written_by": "python -m pannet_core run", "files": sorted(set(files))}, indent=1),
                   encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


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
    """Move a finished output folder into place, replacing exactly the previous run's files; results.json last.

    While the files move, the manifest lists the old and the new files, so an interrupted
    publish still leaves every file of ours known to the next run.
    """
    new = _files_under(tmp)
    if not out.exists():
        _write_manifest(tmp, new)
        os.replace(tmp, out)
        return
    old = _previous_files(out)  # checked again: the folder may have changed during the run
    _write_manifest(out, old + new)
    for name in old:
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()
    for name in sorted(new, key=lambda n: n == "results.json"):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / name, target)
    for name in {n.rsplit("/", 1)[0] for n in old if "/" in n}:  # e.g. figures/, when it is now empty
        with contextlib.suppress(OSError):
            (out / name).rmdir()
    _write_manifest(out, new)


def _cmd_demo(args) -> int:
    from pannet_core.demo import make_demo_cohort

    if args.n_scale < 1:
        raise SettingsError(f"--n-scale is {args.n_scale}; it must be 1 or more.", "Use e.g. --n-scale 100.")
    if not args.out.strip():
        raise SettingsError("--out is empty, so there is no file to write the cohort to.",
                            "Give a file name, e.g. --out demo.csv.")
    frame = make_demo_cohort(seed=args.seed, n_scale=args.n_scale)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, out)
    print(f"Wrote {len(frame)} synthetic patients to {out}.")
    return 0


def _cmd_validate(args) -> int:
    from pannet_core.io.validation import is_usable, validate
    from pannet_core.settings import Settings

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
    except Terminated as exc:
        sys.stderr.write("pannet_core: stopped by a termination signal; nothing was written.\n")
        return 128 + int(exc.args[0])
    except OSError as exc:  # the disk, not the data: say which file and why
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"pannet_core: a file could not be read or written{where}: {exc.strerror or exc}. "
                         "Nothing was written. Fix: check the path, the free disk space and that you may "
                         "write to the --out folder.\n")
        return 1
    except Exception as exc:  # a bug: still no traceback for the user, unless asked for
        if os.environ.get("PANNET_DEBUG"):
            raise
        sys.stderr.write(f"pannet_core: internal error ({type(exc).__name__}: {exc}). Nothing was written. "
                         "Fix: please report this with the settings file; set PANNET_DEBUG=1 to see the details.\n")
        return 1
