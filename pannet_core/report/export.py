"""Server-side PNG/PDF export of the figures, the figure folder and the zip bundle.

PNG and PDF are rendered by kaleido (v1) in a headless Chromium.  This module
never downloads a browser: it uses ``BROWSER_PATH`` if set, otherwise a
Chromium/Chrome found on the ``PATH`` (Debian: ``sudo apt-get install chromium``).
One browser is kept warm for the whole process (started on the first export,
closed at exit), so every export after the first takes well under a second.
"""
from __future__ import annotations

import asyncio
import atexit
import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from pannet_core.errors import PanNetError
from pannet_core.report.csv_writer import csv_bytes
from pannet_core.report.safe_cells import xlsx_bytes

_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_TYPICAL_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                  "/usr/bin/google-chrome-stable", "/snap/bin/chromium",
                  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                  "/Applications/Chromium.app/Contents/MacOS/Chromium")
RENDER_TIMEOUT = 60.0
"""Seconds one export may take before it is abandoned."""

PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "filename": "pannet_board_figure", "width": 1600,
                             "height": 1000, "scale": 2},
}
"""plotly ``config`` for the dashboard: the camera button saves a 3200 x 2000 px PNG."""


def plotly_config(filename: str, fig: go.Figure | None = None) -> dict[str, Any]:
    """:data:`PLOTLY_CONFIG` with a figure-specific file name and its designed size."""
    from pannet_core.figures.style import export_size

    cfg = json.loads(json.dumps(PLOTLY_CONFIG))
    cfg["toImageButtonOptions"]["filename"] = filename
    if fig is not None:
        w, h = export_size(fig)
        cfg["toImageButtonOptions"].update(width=w, height=h)
    return cfg


# --------------------------------------------------------------------------- browser
def find_browser() -> str | None:
    """Path of a Chromium/Chrome executable, or None.  Never downloads anything.

    ``BROWSER_PATH`` (the variable kaleido/choreographer read) wins when it names
    an executable file.
    """
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if (os.path.isfile(env) and os.access(env, os.X_OK)) else None
    for name in _BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for p in _TYPICAL_PATHS:
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def browser_available() -> bool:
    """True when PNG/PDF export can run (a Chromium or Chrome is installed)."""
    return find_browser() is not None


def require_browser() -> str:
    """The browser path; raises :class:`PanNetError` saying how to enable export when there is none."""
    path = find_browser()
    if path is None:
        env = os.environ.get("BROWSER_PATH")
        where = f" (BROWSER_PATH={env!r} is not an executable file)" if env else ""
        raise PanNetError(f"PNG export needs a Chromium browser, and none was found on this computer{where}.",
                          "install Debian's chromium: sudo apt-get install chromium, or set BROWSER_PATH "
                          "to the chromium or chrome executable. The interactive figures work without it.")
    return path


#: Chromium switches that stop every request the export does not need: background networking,
#: component/extension updates, sync, metrics, safe browsing, DNS prefetch and secure-DNS probes, and
#: name resolution itself (the page is a local file, the devtools channel a pipe); a request to a
#: literal address goes to a closed loopback proxy port
QUIET_BROWSER_FLAGS: tuple[str, ...] = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-component-extensions-with-background-pages",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--metrics-recording-only",
    "--no-pings",
    "--no-first-run",
    "--no-default-browser-check",
    "--safebrowsing-disable-auto-update",
    "--disable-features=OptimizationHints,MediaRouter,DialMediaRouteProvider,Translate,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying,"
    "InterestFeedContentSuggestions,SafeBrowsing,DnsOverHttps,AsyncDns,NetworkQualityEstimator,WebRtc",
    "--enable-features=EnableIPv6ReachabilityOverride",  # no probe socket to a public IPv6 address
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
)


def _quiet_chromium() -> type:
    """choreographer's Chromium launcher with :data:`QUIET_BROWSER_FLAGS` added (and no proxy of its own)."""
    from choreographer.browsers.chromium import Chromium

    class QuietChromium(Chromium):
        def get_cli(self):
            cli = [a for a in super().get_cli() if not a.startswith(("--proxy-server=", "--proxy-bypass-list="))]
            return [*cli, *QUIET_BROWSER_FLAGS]

    return QuietChromium


def _reload_in_background(k: Any) -> None:
    """Let kaleido reload its tab after a render without making the caller wait.

    kaleido 1.x reloads the tab (re-parsing plotly.js) before ``calc_fig`` returns;
    the image is already made by then. Here the reload runs as a task on the
    browser's loop and the tab goes back to kaleido's queue when it is done, so
    the next render still gets a freshly loaded tab (same images) and a single
    export returns sooner. Left alone if kaleido's internals differ.
    """
    orig = getattr(k, "_return_kaleido_tab", None)
    if orig is None or not asyncio.iscoroutinefunction(orig):
        return
    pending: set = set()

    async def _return_later(tab):
        task = asyncio.ensure_future(orig(tab))
        pending.add(task)
        task.add_done_callback(pending.discard)

    k._return_kaleido_tab = _return_later


class _WarmBrowser:
    """One kaleido browser on a private event-loop thread, reused for every export."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None
        self._path: str | None = None

    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def start(self) -> None:
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._kaleido is not None:
            return
        path = require_browser()
        import kaleido
        import plotly

        plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="pannet-export-browser", daemon=True)
        thread.start()

        async def _open():
            k = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, path=path, mathjax=False, browser_cls=_quiet_chromium(),
                                plotlyjs=plotly_js.as_uri() if plotly_js.is_file() else None)
            await k.open()
            _reload_in_background(k)
            return k

        try:
            k = asyncio.run_coroutine_threadsafe(_open(), loop).result(RENDER_TIMEOUT)
        except Exception as exc:  # browser would not start
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            raise PanNetError(f"The export browser at {path} could not be started ({type(exc).__name__}: {exc}).",
                              "Check that chromium runs on this computer (chromium --headless --version), "
                              "or set BROWSER_PATH to a working chromium or chrome executable.") from None
        self._loop, self._thread, self._kaleido, self._path = loop, thread, k, path

    def render(self, fig: Any, opts: dict) -> bytes:
        with self._lock:
            self._start_locked()
            fut = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(fig, opts=opts), self._loop)
            try:
                return fut.result(RENDER_TIMEOUT + 5)
            except Exception as exc:
                fut.cancel()
                if not isinstance(exc, PanNetError):
                    self._stop_locked()  # a fresh browser for the next try
                raise

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        k, loop, thread = self._kaleido, self._loop, self._thread
        self._kaleido = self._loop = self._thread = None
        if k is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(15)
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)


_BROWSER = _WarmBrowser()
atexit.register(_BROWSER.stop)


def start_export_browser() -> None:
    """Start the warm export browser now (otherwise it starts on the first export)."""
    _BROWSER.start()


def stop_export_browser() -> None:
    """Close the warm export browser (it is also closed at interpreter exit)."""
    _BROWSER.stop()


def _render(fig: go.Figure, opts: dict) -> bytes:
    """Render with the warm browser (a seam that the tests replace)."""
    return _BROWSER.render(fig, opts)


def _check_size(width: Any, height: Any, scale: Any) -> None:
    for name, v, top in (("width", width, 10000), ("height", height, 10000)):
        if not isinstance(v, int) or isinstance(v, bool) or not 50 <= v <= top:
            raise PanNetError(f"The image {name} {v!r} is not a whole number of pixels between 50 and {top}.",
                              "Use e.g. width=1600, height=1000.")
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0.25 <= scale <= 8:
        raise PanNetError(f"The image scale {scale!r} must be a number between 0.25 and 8.",
                          "Use scale=2 for print quality.")


def _export(fig: go.Figure, fmt: str, width: int, height: int, scale: float) -> bytes:
    if not isinstance(fig, go.Figure):
        raise PanNetError("Only plotly figures can be exported.", "Pass a figure from pannet_core.figures.")
    _check_size(width, height, scale)
    require_browser()
    try:
        return _render(fig, {"format": fmt, "width": width, "height": height, "scale": scale})
    except PanNetError:
        raise
    except Exception as exc:  # kaleido/choreographer failures are environment problems
        raise PanNetError(f"The {fmt.upper()} export failed ({type(exc).__name__}: {exc}).",
                          "Try again; if it keeps failing, check that chromium runs on this computer "
                          "or set BROWSER_PATH to a working chromium.") from None


def figure_png(fig: go.Figure, *, width: int = 1600, height: int = 1000, scale: float = 2) -> bytes:
    """PNG bytes of ``fig`` laid out at ``width`` x ``height`` CSS px, rendered at ``scale`` x resolution.

    The layout is exactly the on-screen layout at that size; ``scale=2`` gives
    3200 x 2000 pixels for the default, enough for a journal page.
    """
    return _export(fig, "png", width, height, scale)


def figure_pdf(fig: go.Figure, *, width: int = 1600, height: int = 1000) -> bytes:
    """Vector PDF bytes of ``fig`` laid out at ``width`` x ``height`` CSS px."""
    return _export(fig, "pdf", width, height, 1)


def figure_png_auto(fig: go.Figure, *, scale: float = 2) -> bytes:
    """PNG at the size the figure was designed for (see ``figures_style.set_export_size``)."""
    from pannet_core.figures.style import export_size

    w, h = export_size(fig)
    return figure_png(fig, width=w, height=h, scale=scale)


# --------------------------------------------------------------------------- files
def km_figure_of(result: Any, which: str, *, show_ci: bool = True) -> go.Figure:
    """The Kaplan-Meier figure of ``result.<which>`` as exported (and drawn by the dashboard).

    Parameters
    ----------
    result : AnalysisResult
        A finished analysis.
    which : {"unmatched", "matched", "sensitivity"}
        The comparison; ``sensitivity`` is the matched analysis without liver resections (seed 000).
    show_ci : bool
        Draw the confidence bands.

    Returns
    -------
    plotly.graph_objects.Figure
        With the settings' numbers-at-risk times and confidence level, a mark at 5 years (or the
        last horizon), the group labels and the endpoint, titled by the comparison; with the
        "Synthetic demonstration data" footer when the result is the demo cohort's.
    """
    from pannet_core import figures

    return figures.mark_synthetic(
        figures.km_figure(getattr(result, which), **km_figure_options(result, which, show_ci=show_ci)), result)


def km_figure_options(result: Any, which: str, *, show_ci: bool = True) -> dict:
    """The keyword arguments :func:`km_figure_of` passes to ``figures.km_figure`` for ``result.<which>``.

    Parameters
    ----------
    result : AnalysisResult
        A finished analysis.
    which : {"unmatched", "matched", "sensitivity"}
        The comparison.
    show_ci : bool
        Draw the confidence bands.

    Returns
    -------
    dict
        ``title``, ``risk_times``, ``show_ci``, ``horizon_marks``, ``labels``, ``endpoint`` and
        ``conf_level``.
    """
    from pannet_core import figures

    s = result.settings
    comp = getattr(result, which)
    endpoint = figures.endpoint_name(s)
    horizons = tuple(h for h in s.survival.horizons if h == 5) or tuple(s.survival.horizons[-1:])
    what = {"matched": "propensity-matched", "unmatched": "all analysed patients (unmatched)"}.get(
        which) or f"sensitivity analysis ({comp.label})"
    return dict(title=f"{endpoint}, {what}", risk_times=list(s.survival.risk_times) or None, show_ci=show_ci,
                horizon_marks=horizons, labels=figures.group_labels(s), endpoint=endpoint,
                conf_level=s.survival.conf_level)


def result_figures(result: Any) -> dict[str, go.Figure]:
    """File stem -> figure for every figure of a finished analysis.

    ``km_<endpoint>_unmatched``, ``km_<endpoint>_matched``, ``km_<endpoint>_sensitivity`` (the
    sensitivity analysis of seed 000, matched pairs without a liver resection, when
    ``result.sensitivity`` exists), ``love_plot``, ``ps_overlap``, ``consort`` (Pan-NET settings
    with a flow), ``forest`` (when Cox models exist), ``summary_slide``.
    """
    from pannet_core import figures

    s = result.settings
    labels = figures.group_labels(s)
    ep = s.study.endpoint if getattr(s, "study", None) is not None else "os"
    out: dict[str, go.Figure] = {}
    for which in ("unmatched", "matched", "sensitivity"):
        if getattr(result, which, None) is not None:
            out[f"km_{ep}_{which}"] = km_figure_of(result, which)
    out["love_plot"] = figures.love_plot(result.balance, threshold=s.balance.threshold)
    out["ps_overlap"] = figures.ps_overlap(result.data, labels=labels)
    if s.is_pannet and result.flow is not None and len(result.flow):
        out["consort"] = figures.consort_figure(result.flow, result.n_treated, result.n_control, result.n_sets,
                                                labels=labels, n_matched_control=result.n_matched_control)
    cox_models = getattr(result, "cox_models", None)
    cox_table = getattr(cox_models, "table", cox_models)
    if cox_table is not None and len(cox_table):
        out["forest"] = figures.forest_plot(cox_models, title="Hazard ratios, Cox regression")
    for stem in ("love_plot", "ps_overlap", "consort", "forest"):  # the KM figures are marked by km_figure_of
        if stem in out:
            figures.mark_synthetic(out[stem], result)
    out["summary_slide"] = figures.summary_slide(result)
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_figures(result: Any, folder: str | Path, *, fmt: str = "png", scale: float = 2) -> list[Path]:
    """Write every figure of ``result`` into ``folder`` as PNG (or PDF); return the paths.

    All images are rendered first and then each is written to a temporary file
    and renamed into place, so a failure leaves no half-written file.
    """
    if fmt not in ("png", "pdf"):
        raise PanNetError(f"Figure format {fmt!r} is not supported.", "Use 'png' or 'pdf'.")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PanNetError(f"Cannot create the figure folder {folder} ({exc.strerror}).",
                          "Choose a folder you can write to.") from None
    from pannet_core.figures.style import export_size

    rendered: list[tuple[Path, bytes]] = []
    for stem, fig in result_figures(result).items():
        w, h = export_size(fig)
        data = figure_png(fig, width=w, height=h, scale=scale) if fmt == "png" else figure_pdf(fig, width=w, height=h)
        rendered.append((folder / f"{stem}.{fmt}", data))
    written = []
    try:
        for path, data in rendered:
            _atomic_write(path, data)
            written.append(path)
    except OSError as exc:
        raise PanNetError(f"Cannot write the figures into {folder} ({exc.strerror}).",
                          "Check the free disk space and that you may write to the folder.") from None
    return written


# --------------------------------------------------------------------------- bundle
def table_fingerprint(table: Any) -> dict[str, Any]:
    """SHA-256 of the input table written as CSV (UTF-8, no index), with its row and column counts."""
    data = table.to_csv(index=False).encode("utf-8")
    return {"sha256": hashlib.sha256(data).hexdigest(), "rows": int(table.shape[0]), "columns": int(table.shape[1])}


def versions_text() -> str:
    """Versions of Python and the numerical stack, one ``name version`` per line."""
    import importlib.metadata as md

    lines = [f"python {platform.python_version()}"]
    for pkg in ("numpy", "pandas", "scipy", "plotly", "kaleido"):
        try:
            lines.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            lines.append(f"{pkg} not installed")
    from pannet_core import __version__

    lines.append(f"pannet_core {__version__}")
    return "\n".join(lines) + "\n"


def _table1_parts(result: Any) -> list[tuple[str, Any]]:
    return [(name, t) for name, t in (("before matching", getattr(result, "table1", None)),
                                      ("after matching", getattr(result, "table1_matched", None))) if t is not None]


def table1_csv(result: Any) -> bytes:
    """Table 1 before and after matching as one CSV (column ``cohort`` says which), formula-safe."""
    import pandas as pd

    parts = [t.assign(cohort=name)[["cohort", *t.columns]] for name, t in _table1_parts(result)]
    return csv_bytes(pd.concat(parts, ignore_index=True))


def table1_xlsx(result: Any) -> bytes:
    """Table 1 as a workbook with the sheets *before matching* and *after matching*; text stored as text."""
    return xlsx_bytes(dict(_table1_parts(result)))


def matched_cohort_csv(result: Any) -> bytes:
    """``matched_cohort.csv`` as ``run`` writes it (formula-safe text cells)."""
    from pannet_core.report.results import matched_cohort_frame

    return csv_bytes(matched_cohort_frame(result))


def excluded_patients_csv(result: Any) -> bytes:
    """``excluded_patients.csv`` as ``run`` writes it (formula-safe text cells)."""
    from pannet_core.report.results import excluded_patients_frame

    return csv_bytes(excluded_patients_frame(result))


def _table1_files(result: Any) -> dict[str, bytes]:
    if not _table1_parts(result):
        return {}
    return {"table1.csv": table1_csv(result), "table1.xlsx": table1_xlsx(result)}


def bundle_zip(result: Any, table: Any, *, figures: bool = True) -> bytes:
    """Everything needed to archive or reproduce an analysis, as zip bytes.

    Contents: ``figures/*.png`` (when ``figures`` and a browser is available),
    ``table1.csv`` + ``table1.xlsx`` (sheets *before matching* / *after matching*),
    ``matched_cohort.csv``, ``settings.json``, ``results.json``,
    ``excluded_patients.csv`` (every patient left out before the analysis, with the
    step and the reason; header only when nobody was, e.g. with generic settings;
    ``results.excluded_patients_frame``, the same file ``run`` writes), ``fingerprint.txt`` (SHA-256 of the
    input table as CSV, row/column counts) and ``versions.txt``.
    """
    from pannet_core.figures.style import export_size
    from pannet_core.report.results import results_json

    files: dict[str, bytes] = {}
    if figures:
        for stem, fig in result_figures(result).items():
            w, h = export_size(fig)
            files[f"figures/{stem}.png"] = figure_png(fig, width=w, height=h, scale=2)
    files.update(_table1_files(result))
    files["matched_cohort.csv"] = matched_cohort_csv(result)
    files["excluded_patients.csv"] = excluded_patients_csv(result)
    files["settings.json"] = result.settings.to_json().encode("utf-8")
    files["results.json"] = json.dumps(results_json(result), indent=2, ensure_ascii=False,
                                       default=str).encode("utf-8")
    fp = table_fingerprint(table)
    files["fingerprint.txt"] = (f"sha256 {fp['sha256']}\nrows {fp['rows']}\ncolumns {fp['columns']}\n"
                                "(SHA-256 of the input table written as CSV, UTF-8, without index)\n").encode("utf-8")
    files["versions.txt"] = versions_text().encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()
