"""Browser latency of a settings change: slider release -> new text and redrawn charts on screen.

Starts ``streamlit run app.py`` on a free localhost port (``PANNET_PROFILE=1``, so the server prints
how long each script run took), opens the Matching page in headless Debian chromium
(``/usr/bin/chromium``; never downloads a browser) with Playwright, and changes settings the way a
user does:

* ``caliper_new``  - ArrowLeft on the caliper slider, one step (0.005) each, walking down from 0.100 to
  0.005: every value is new to the server, so stage 3 and the figures are really recomputed;
* ``caliper_back`` - ArrowRight/ArrowLeft alternating between two values whose pairs differ (40 <-> 44
  pairs): values the server has seen (cache hits; only the page script and the browser work);
* ``caliper_drag`` - mouse drags of the slider thumb to new values, measured from the mouse-up;
* ``survival_ci``  - Survival page, "Confidence interval" selectbox (plain/log/log-log), from the
  mouse-up on the option;
* ``survival_bands`` - Survival page, "Show confidence bands" toggle (a display choice).

Everything is timed inside the page with ``performance.now()``: a capture-phase listener records the
key-up / mouse-up, a MutationObserver records when the matched-count line changes, and a
``plotly_afterplot`` listener on every ``.js-plotly-plot`` records when each chart has been re-plotted
with its new data (a hash of the chart's data + layout compared with the one before the change;
charts whose data did not change are not waited for).  "charts" = the last chart affected by the
change re-plotted; "frame" = the animation frame after it.  Also counted per change: WebSocket
bytes the browser received, Plotly figures among them, and the server's script-run time.

Usage::

    .venv/bin/python bench/browser_latency.py [--moves 19] [--back 10] [--drags 5] [--url URL] [--out FILE]

Writes ``bench/results/browser_latency.json`` (or ``--out``) and prints one JSON summary line.
Exits 0 with ``{"skipped": ...}`` when chromium or Playwright is missing.  Runs in about 1-2 min.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
QUIET_MS = 600          # a change is over when nothing on the page has changed for this long
MOVE_TIMEOUT_MS = 60_000

# Installed before the app's own scripts (context.add_init_script).
INSTRUMENT_JS = r"""
(() => {
  if (window.__pnb) return;
  const P = window.__pnb = {armed: false, r: null, lastMutation: 0};
  const skip = (k, v) => (k && k[0] === '_') ? undefined : (ArrayBuffer.isView(v) ? Array.from(v) : v);
  const hash = s => { let h = 5381; for (let i = 0; i < s.length; i++) h = ((h * 33) ^ s.charCodeAt(i)) | 0; return h; };
  P.sig = gd => { try { return hash(JSON.stringify([gd.data, gd.layout], skip)); } catch (e) { return 'err'; } };
  P.plots = () => Array.from(document.querySelectorAll('.js-plotly-plot'));
  P.name = (gd, i) => {
    const c = gd.closest('[class*="st-key-"]');
    const k = c && Array.from(c.classList).find(x => x.startsWith('st-key-'));
    return k ? k.slice(7) : 'plot' + i;
  };
  P.text = () => { const el = document.querySelector(P.textSel || ".st-key-matched-count"); return el ? el.textContent : null; };
  P.note = (gd, i, now, kind) => {
    // record (time, hash) whenever a chart shows a data object it did not show before
    const r = P.r, n = P.name(gd, i);
    if (kind === 'data') {
      if (!gd._fullLayout) return;
      const ref = r.refs[n];
      if (ref && ref[0] === gd && ref[1] === gd.data && ref[2] === gd.layout) return;
      r.refs[n] = [gd, gd.data, gd.layout];
    }
    (r.ev[n] = r.ev[n] || []).push([kind, now, P.sig(gd)]);
  };
  P.attach = (gd, i) => {
    if (gd.__pnbOn || typeof gd.on !== 'function') return;
    gd.__pnbOn = true;
    gd.on('plotly_afterplot', () => {
      if (!P.armed) return;
      const now = performance.now();
      P.lastMutation = now;
      P.note(gd, P.plots().indexOf(gd), now, 'afterplot');
      requestAnimationFrame(() => { if (P.armed) (P.r.frames[P.name(gd, P.plots().indexOf(gd))] = P.r.frames[P.name(gd, P.plots().indexOf(gd))] || []).push(performance.now()); });
    });
  };
  P.check = () => {
    P.plots().forEach((gd, i) => P.attach(gd, i));
    if (!P.armed) return;
    const now = performance.now();
    P.lastMutation = now;
    const t = P.text();
    const texts = P.r.texts;
    if (t !== (texts.length ? texts[texts.length - 1][1] : P.r.text0)) texts.push([now, t]);
    P.plots().forEach((gd, i) => P.note(gd, i, now, 'data'));
  };
  P.arm = (textSel) => {
    P.textSel = textSel || null;
    const sig0 = {}, refs = {};
    P.plots().forEach((gd, i) => { P.attach(gd, i); const n = P.name(gd, i); sig0[n] = P.sig(gd); refs[n] = [gd, gd.data, gd.layout]; });
    P.gd0 = {}; P.plots().forEach((gd, i) => { P.gd0[P.name(gd, i)] = gd; });
    P.r = {release: [], text0: P.text(), texts: [], sig0, refs, ev: {}, frames: {}, msgs: [], t_arm: performance.now()};
    P.lastMutation = performance.now();
    P.armed = true;
  };
  P.status = () => ({quiet_ms: performance.now() - P.lastMutation, texts: P.r.texts.length,
                     running: !!document.querySelector('[data-testid="stStatusWidget"]'),
                     events: Object.keys(P.r.ev).length});
  P.finish = () => {
    const r = P.r; P.armed = false;
    const sig1 = {}, remounted = [];
    P.plots().forEach((gd, i) => { const n = P.name(gd, i); sig1[n] = P.sig(gd); if (P.gd0[n] !== gd) remounted.push(n); });
    const out = {release: r.release, text0: r.text0, text1: P.text(), texts: r.texts, sig0: r.sig0, sig1,
                 ev: r.ev, frames: r.frames, msgs: r.msgs, remounted, t_arm: r.t_arm};
    return out;
  };
  // arrival time of every WebSocket message (Streamlit's deltas) while armed
  const WS = window.WebSocket;
  window.WebSocket = function (...a) {
    const ws = new WS(...a);
    ws.addEventListener('message', ev => {
      if (!P.armed) return;
      const n = ev.data && (ev.data.byteLength !== undefined ? ev.data.byteLength : (ev.data.size || ev.data.length || 0));
      P.r.msgs.push([performance.now(), n]);
    });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  for (const kind of ['keydown', 'keyup', 'pointerdown', 'pointerup', 'mouseup']) {
    window.addEventListener(kind, () => { if (P.armed) P.r.release.push([kind, performance.now()]); }, true);
  }
  const start = () => new MutationObserver(() => P.check()).observe(document.documentElement,
      {childList: true, subtree: true, characterData: true, attributes: true});
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""


# --------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a free port with ``PANNET_PROFILE=1``; the log is kept for parsing."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.gettempdir()) / f"pannet_bench_streamlit_{self.port}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PANNET_PROFILE": os.environ.get("PANNET_PROFILE", "1")}
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start (exit code {self.proc.poll()}); see {self.log_path}")
            time.sleep(0.3)

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def profile_since(self, offset: int) -> list[dict]:
        with open(self.log_path, errors="replace") as fh:
            fh.seek(offset)
            text = fh.read()
        return [{"label": m[1], "wall_ms": float(m[2]), "cpu_ms": float(m[3]), "depth": int(m[4] or 0)}
                for m in re.finditer(r"\[pnb-profile\] (\S+) wall_ms=([\d.]+) cpu_ms=([\d.]+)(?: depth=(\d+))?", text)]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()
        if not os.environ.get("PANNET_KEEP_LOG"):
            self.log_path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- one change
class Probe:
    def __init__(self, page, server: Server | None) -> None:
        self.page = page
        self.server = server
        self.frames: list[tuple[float, int, bytes]] = []
        page.on("websocket", self._ws)
        # main-thread CPU of the tab (Chrome's own counters), read before and after each change
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")

    def _metrics(self) -> dict:
        return {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}

    def _ws(self, ws) -> None:
        def got(payload) -> None:
            data = payload if isinstance(payload, bytes) else payload.encode()
            self.frames.append((time.perf_counter(), len(data), data))
        ws.on("framereceived", got)

    def change(self, series: str, action, *, text_sel: str | None = ".st-key-matched-count",
               expect_text: str | None = None) -> dict:
        page = self.page
        log0 = self.server.log_size() if self.server else 0
        n_frames = len(self.frames)
        m0 = self._metrics()
        page.evaluate("sel => window.__pnb.arm(sel)", text_sel)
        action()
        if callable(expect_text):
            expect_text = expect_text()
        t_wait = time.perf_counter()
        while True:
            st = page.evaluate("window.__pnb.status()")
            started = st["texts"] > 0 or st["events"] > 0 or time.perf_counter() - t_wait > 5
            if started and not st["running"] and st["quiet_ms"] >= QUIET_MS:
                break
            if (time.perf_counter() - t_wait) * 1000 > MOVE_TIMEOUT_MS:
                raise RuntimeError(f"{series}: the page did not settle within {MOVE_TIMEOUT_MS} ms")
            page.wait_for_timeout(50)
        r = page.evaluate("window.__pnb.finish()")
        m1 = self._metrics()
        cpu = {f"browser_{k[:-8].lower()}_ms": round(1000 * (m1[k] - m0[k]), 1)
               for k in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration") if k in m1}
        frames = self.frames[n_frames:]
        payload = b"".join(f[2] for f in frames)
        return summarise(series, r, expect_text, {
            "ws_frames": len(frames), "ws_bytes": sum(f[1] for f in frames),
            # a Plotly chart delta carries its figure as JSON text: count and size them
            "figures_sent": payload.count(b'"layout":{'), **cpu,
        }, self.server.profile_since(log0) if self.server else [])


def _pairs(text: str | None) -> int | None:
    m = re.search(r"Matched: (\d+) pairs", text or "")
    return int(m[1]) if m else None


def summarise(series: str, r: dict, expect_text: str | None, wire: dict, prof: list[dict]) -> dict:
    ups = [t for kind, t in r["release"] if kind in ("keyup", "pointerup", "mouseup")]
    downs = [t for kind, t in r["release"] if kind in ("keydown", "pointerdown")]
    t0 = max(ups) if ups else r["t_arm"]
    out = {"series": series, "text_before": r["text0"], "text_after": r["text1"], **wire}
    if downs:
        out["press_to_release_ms"] = round(t0 - min(downs), 1)
    # text: first time the watched line showed its final text (or the expected substring)
    final = r["text1"]
    t_text = None
    for t, txt in r["texts"]:
        if txt is not None and ((expect_text and expect_text in txt) or (not expect_text and txt == final)):
            t_text = t
            break
    out["text_ms"] = None if t_text is None or r["text0"] == final else round(t_text - t0, 1)
    out["pairs_before"], out["pairs_after"] = _pairs(r["text0"]), _pairs(final)
    # charts: those whose final data differ from the data before the change
    changed = sorted(n for n, s in r["sig1"].items() if r["sig0"].get(n) != s)
    per_chart = {}
    for n in changed:
        ev = r["ev"].get(n, [])
        after = [t for kind, t, s in ev if kind == "afterplot" and s == r["sig1"][n]]
        data = [t for kind, t, s in ev if kind == "data" and s == r["sig1"][n]]
        t_plot = min(after) if after else (min(data) if data else None)
        frames = [t for t in r["frames"].get(n, []) if t_plot is not None and t >= t_plot]
        per_chart[n] = {"plotted_ms": None if t_plot is None else round(t_plot - t0, 1),
                        "frame_ms": round(min(frames) - t0, 1) if frames else None,
                        "afterplots": sum(1 for kind, *_ in ev if kind == "afterplot")}
    out["charts_changed"] = changed
    out["charts"] = per_chart
    done = [c["plotted_ms"] for c in per_chart.values() if c["plotted_ms"] is not None]
    frame = [c["frame_ms"] for c in per_chart.values() if c["frame_ms"] is not None]
    out["charts_ms"] = max(done) if done and len(done) == len(changed) else None
    out["frame_ms"] = max(frame) if frame and len(frame) == len(changed) else None
    out["remounted"] = r["remounted"]
    msgs = [t for t, _ in r["msgs"] if t >= t0]
    out["ws_messages"] = len(r["msgs"])
    out["first_msg_ms"] = round(msgs[0] - t0, 1) if msgs else None
    out["last_msg_ms"] = round(msgs[-1] - t0, 1) if msgs else None
    out["replots_unchanged"] = sum(1 for n, ev in r["ev"].items() if n not in changed
                                   for kind, *_ in ev if kind == "afterplot")
    runs = [p for p in prof if p["depth"] == 0]  # whole app runs and fragment reruns
    out["server_runs"] = len(runs)
    out["server_run_ms"] = [p["wall_ms"] for p in runs]
    out["server_detail"] = prof
    return out


# --------------------------------------------------------------------------- page helpers
def wait_idle(page, settle_ms: int = 500, timeout_s: float = 90) -> None:
    deadline = time.time() + timeout_s
    quiet_since = None
    while time.time() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif (time.time() - quiet_since) * 1000 >= settle_ms:
            return
        page.wait_for_timeout(50)
    raise RuntimeError("the app kept running for more than 90 s")


def caliper_value(page) -> float:
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Caliper").get_by_role("slider")
    return float(thumb.input_value())


def stats(values) -> dict | None:
    v = sorted(x for x in values if x is not None)
    if not v:
        return None

    def pct(q):  # linear interpolation, as numpy.percentile
        k = (len(v) - 1) * q / 100
        lo, hi = int(k), min(int(k) + 1, len(v) - 1)
        return v[lo] + (v[hi] - v[lo]) * (k - lo)

    return {"n": len(v), "p50": round(pct(50), 1), "p95": round(pct(95), 1), "max": round(v[-1], 1),
            "min": round(v[0], 1)}


# --------------------------------------------------------------------------- the run
def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    load_start = os.getloadavg()
    server = Server() if not args.url else None
    url = args.url or server.url
    changes: list[dict] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
            ctx.add_init_script(INSTRUMENT_JS)
            page = ctx.new_page()
            page.set_default_timeout(90_000)
            probe = Probe(page, server)
            # open the app at its root, then use the navigation, as a user does
            page.goto(url)
            page.get_by_role("heading", name="Data", level=1).wait_for()
            wait_idle(page, 500)
            page.locator('[data-testid="stSidebarNav"]').get_by_text("3 Matching", exact=True).click()
            page.get_by_role("heading", name="Propensity-score matching", level=1).wait_for()
            page.locator(".st-key-matched-count").wait_for()
            page.locator(".js-plotly-plot").nth(1).wait_for(timeout=args.chart_timeout_ms)
            wait_idle(page, 800)
            thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Caliper").get_by_role("slider")
            start = caliper_value(page)

            def key(k):
                def act():
                    thumb.focus()
                    thumb.press(k)
                return act

            # warm-up (not measured): plotly.js and the page's components are loaded and used once
            for k in ("ArrowRight", "ArrowLeft"):
                probe.change("warmup", key(k))
            assert abs(caliper_value(page) - start) < 1e-9, "the slider did not return to its start"

            # 1. new values, one step down each (uncached server work)
            for j in range(1, args.moves + 1):
                target = round(start - 0.005 * j, 3)
                if target < 0.005:
                    break
                changes.append(probe.change("caliper_new", key("ArrowLeft"), expect_text=f"caliper {target:.3f}"))
            low = caliper_value(page)
            # 2. back and forth between two seen values whose pairs differ
            for j in range(args.back):
                k, target = ("ArrowRight", low + 0.005) if j % 2 == 0 else ("ArrowLeft", low)
                changes.append(probe.change("caliper_back", key(k), expect_text=f"caliper {target:.3f}"))
            # 3. mouse drags to the right, to values not seen yet
            for _ in range(args.drags):
                box = thumb.locator("xpath=../..").bounding_box()  # the visible thumb around the hidden input
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

                def drag(x=x, y=y):
                    page.mouse.move(x, y)
                    page.mouse.down()
                    page.mouse.move(x + args.drag_px, y, steps=6)
                    page.mouse.up()
                changes.append(probe.change("caliper_drag", drag,
                                            expect_text=lambda: f"caliper {caliper_value(page):.3f}"))

            # 4. the Survival page's live controls
            if not args.no_survival:
                page.locator('[data-testid="stSidebarNav"]').get_by_text("4 Survival", exact=True).click()
                page.get_by_role("heading", name="Survival", level=1).wait_for()
                page.locator(".js-plotly-plot").nth(1).wait_for()
                wait_idle(page, 800)
                box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Confidence interval")
                for option in ("log", "log-log", "plain", "log", "log-log", "plain")[:args.survival]:
                    def choose(option=option):
                        box.get_by_role("button", name="Open").click()
                        page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}( |$)")).click()
                    changes.append(probe.change("survival_ci", choose, text_sel=None))
                toggle = page.locator('[data-testid="stCheckbox"]').filter(has_text="Show confidence bands")
                for _ in range(args.survival):
                    changes.append(probe.change("survival_bands", lambda: toggle.locator("label").click(),
                                                text_sel=None))
            ctx.close()
            browser.close()
    finally:
        if server:
            server.stop()

    summary = {}
    for series in dict.fromkeys(c["series"] for c in changes):
        rows = [c for c in changes if c["series"] == series]
        summary[series] = {
            "changes": len(rows),
            "pairs_changed": sum(1 for c in rows if c["pairs_before"] != c["pairs_after"]),
            "with_chart_change": sum(1 for c in rows if c["charts_changed"]),
            "text_ms": stats(c["text_ms"] for c in rows),
            "charts_ms": stats(c["charts_ms"] for c in rows),
            "frame_ms": stats(c["frame_ms"] for c in rows),
            "server_run_ms": stats(t for c in rows for t in c["server_run_ms"]),
            "server_cpu_ms": stats(p["cpu_ms"] for c in rows for p in c["server_detail"] if p["depth"] == 0),
            "first_msg_ms": stats(c["first_msg_ms"] for c in rows),
            "last_msg_ms": stats(c["last_msg_ms"] for c in rows),
            "server_runs_per_change": stats(c["server_runs"] for c in rows),
            "ws_bytes": stats(c["ws_bytes"] for c in rows),
            "figures_sent": stats(c["figures_sent"] for c in rows),
            "browser_task_ms": stats(c.get("browser_task_ms") for c in rows),
            "browser_script_ms": stats(c.get("browser_script_ms") for c in rows),
        }
    return {"what": "browser latency, settings change -> updated text/charts (ms, performance.now in the page)",
            "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cores": os.cpu_count(),
            "loadavg_start": load_start, "loadavg_end": os.getloadavg(), "summary": summary, "changes": changes}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moves", type=int, default=19, help="ArrowLeft steps to new caliper values (default 19)")
    ap.add_argument("--back", type=int, default=10, help="back-and-forth steps between two seen values")
    ap.add_argument("--drags", type=int, default=5, help="mouse drags of the caliper thumb")
    ap.add_argument("--drag-px", type=int, default=30, help="pixels per drag")
    ap.add_argument("--survival", type=int, default=6, help="changes of each Survival control (0: none)")
    ap.add_argument("--no-survival", action="store_true")
    ap.add_argument("--chart-timeout-ms", type=int, default=90_000, help=argparse.SUPPRESS)
    ap.add_argument("--url", help="use a running server instead of starting one (no server timings)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "browser_latency.json"))
    args = ap.parse_args(argv)
    if args.survival == 0:
        args.no_survival = True
    if not Path(CHROMIUM).exists():
        print(json.dumps({"skipped": f"{CHROMIUM} is missing"}))
        return 0
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print(json.dumps({"skipped": "the playwright Python package is not installed"}))
        return 0
    t0 = time.perf_counter()
    res = run(args)
    res["wall_s"] = round(time.perf_counter() - t0, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2))
    for series, s in res["summary"].items():
        print(f"# {series}: {s['changes']} changes ({s['pairs_changed']} changed the pairs, "
              f"{s['with_chart_change']} a chart); text {s['text_ms']}; charts {s['charts_ms']}; "
              f"server run {s['server_run_ms']}; last message {s['last_msg_ms']}; browser main-thread "
              f"{s['browser_task_ms']}; bytes {s['ws_bytes']}; figures {s['figures_sent']}",
              file=sys.stderr)
    print(json.dumps({"browser_latency": {k: {m: (v[m] if isinstance(v[m], int) else (v[m] or {}).get("p50"))
                                              for m in ("changes", "text_ms", "charts_ms")}
                                          for k, v in res["summary"].items()},
                      "loadavg": [res["loadavg_start"], res["loadavg_end"]], "wall_s": res["wall_s"],
                      "file": str(out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
