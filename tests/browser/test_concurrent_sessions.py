"""Ten users at once on one ``streamlit run`` server: nobody sees anybody else's data or settings.

One headless Debian chromium, ten browser contexts (ten Streamlit sessions)
driven concurrently with Playwright's async API.  Session k uploads its own
settings (preset 000 with its own caliper, on the SD-of-PS scale) and its own
cohort (``make_demo_cohort(seed=k)`` with 5·k random patients left out and ids
prefixed ``Sk-``), opens the Matching page and moves the caliper slider a few
times.  Every displayed count and pair id is compared afterwards with what
``pannet_core`` computes for that session's own file and caliper.

Response time = from the key press that moves the slider to the moment the
matched-count line shows the new caliper.  p50/p95 are printed and written to
``$PANNET_CONCURRENCY_JSON`` when that variable is set::

    PANNET_CONCURRENCY_JSON=/tmp/concurrency.json \
        .venv/bin/python -m pytest tests/browser/test_concurrent_sessions.py -s
"""
from __future__ import annotations

import asyncio
import io
import json
import os
import re
import threading
import time

import numpy as np
import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

N_SESSIONS = int(os.environ.get("PANNET_CONCURRENT_N", "10"))
MOVES = 3            # caliper moves per session (one ArrowLeft each = -0.005)
STEP = 0.005
TIMEOUT_MS = 120_000   # generous: a loaded 2-core machine serves ten chromium tabs slowly


def _session_files(k: int) -> tuple[bytes, bytes, float]:
    from pannet_core.demo import make_demo_cohort
    from pannet_core.settings import load_preset

    f = make_demo_cohort(seed=k)
    rng = np.random.default_rng(2000 + k)  # seeds whose cohorts all fit the preset's model
    f = f.drop(index=f.index[rng.choice(len(f), 5 * k, replace=False)]).reset_index(drop=True)
    f["patient_id"] = [f"S{k}-{i:04d}" for i in range(len(f))]
    caliper = round(0.05 + 0.02 * k, 3)
    settings = load_preset("primary_tumour_resection").with_values("matching", caliper=caliper, caliper_scale="ps")
    return f.to_csv(index=False).encode(), settings.to_json().encode(), caliper


async def _idle(page, settle_ms: int = 300) -> None:
    """Wait until the app has finished its run (no running-status widget for ``settle_ms``)."""
    deadline = time.time() + TIMEOUT_MS / 1000
    quiet = None
    while time.time() < deadline:
        if await page.locator('[data-testid="stStatusWidget"]').count():
            quiet = None
        elif quiet is None:
            quiet = time.time()
        elif (time.time() - quiet) * 1000 >= settle_ms:
            return
        await page.wait_for_timeout(50)
    raise AssertionError("the app kept running for a minute")


async def _upload(page, label: str, name: str, data: bytes, mime: str, done_text: str) -> None:
    box = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    await box.locator('input[type="file"]').set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
    await page.get_by_text(done_text, exact=False).first.wait_for(timeout=TIMEOUT_MS)
    await _idle(page)


async def _observe(page) -> dict:
    # The Matching fragment writes the sidebar's counts after its results (app_pages/3_matching.py), and a
    # rerun redraws them: read the three texts in one step, once the sidebar shows all its counts and the
    # same number of sets as the matched-count line (both from the same run).
    handle = await page.wait_for_function(
        """() => {
            const line = document.querySelector(".st-key-matched-count")?.innerText || "";
            const side = document.querySelector("[data-testid='stSidebar']")?.innerText || "";
            const pair = document.querySelector(".st-key-pair-ids")?.innerText;
            const a = line.match(/Matched: (\\d+) sets/), b = side.match(/Matched sets\\s+(\\d+)/);
            const ok = a && b && a[1] === b[1] && /Controls\\s+\\d+/.test(side) && pair !== undefined;
            return ok ? {matched: line, pair: pair, sidebar: side} : null;
        }""", timeout=TIMEOUT_MS)
    return await handle.json_value()


async def _one_session(browser, url: str, k: int, files) -> dict:
    data, settings, caliper = files
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    marks = {"start": time.perf_counter()}
    try:
        await page.goto(url)
        await page.get_by_role("heading", name="Data", level=1).wait_for()
        await _idle(page)
        await _upload(page, "saved settings", f"settings_{k}.json", settings, "application/json",
                      f"Settings loaded from settings_{k}.json")
        marks["settings"] = time.perf_counter()
        await _upload(page, "registry export", f"session_{k}.csv", data, "text/csv", f"Loaded session_{k}.csv")
        marks["data"] = time.perf_counter()
        await page.locator('[data-testid="stSidebarNav"]').get_by_text("3 Matching", exact=True).click()
        await page.get_by_role("heading", name="Propensity-score matching", level=1).wait_for()
        await page.locator(".st-key-matched-count").get_by_text(f"caliper {caliper:.3f}").wait_for()
        await _idle(page)
        marks["matching"] = time.perf_counter()
        seen = [(caliper, await _observe(page))]
        times = []
        thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Caliper").get_by_role("slider")
        for j in range(1, MOVES + 1):
            target = round(caliper - j * STEP, 3)
            await thumb.focus()
            t0 = time.perf_counter()
            await thumb.press("ArrowLeft")
            await page.wait_for_function(
                "t => { const el = document.querySelector(\".st-key-matched-count\");"
                " return el && el.innerText.includes(t); }", arg=f"caliper {target:.3f}", timeout=TIMEOUT_MS)
            times.append(time.perf_counter() - t0)
            await _idle(page)
            seen.append((target, await _observe(page)))
        marks["moves"] = time.perf_counter()
        return {"k": k, "seen": seen, "times": times,
                "phases": {name: round(marks[name] - marks["start"], 1) for name in marks if name != "start"}}
    finally:
        await ctx.close()


async def _bomb_session(browser, url: str, bomb: bytes) -> dict:
    """An eleventh session that uploads a zip bomb while the others move their calipers; it is refused."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        await page.goto(url)
        await page.get_by_role("heading", name="Data", level=1).wait_for()
        await _idle(page)
        await asyncio.sleep(5)  # while the others load their files and move their calipers
        await _upload(page, "registry export", "bomb.xlsx", bomb,
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "300,000")
        return {"refused": await page.get_by_text("300,000", exact=False).count() > 0}
    finally:
        await ctx.close()


async def _drive(url: str, files: dict, bomb: bytes | None = None) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            tasks = [_one_session(browser, url, k, files[k]) for k in files]
            if bomb is not None:
                tasks.append(_bomb_session(browser, url, bomb))
            return await asyncio.gather(*tasks)
        finally:
            await browser.close()


def _in_thread(fn, *args):
    """Run ``asyncio.run(fn(*args))`` in its own thread (the sync Playwright of other tests owns this one)."""
    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(fn(*args))
        except BaseException as exc:  # re-raised in the test thread
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def _expected(files, k: int, calipers) -> dict:
    """What pannet_core computes for session k's own file at each caliper: counts and the first pair."""
    from pannet_core import pipeline
    from pannet_core.io import reading
    from pannet_core.settings import Settings

    data, settings_json, _ = files[k]
    settings = Settings.from_json(settings_json)
    frame = reading.read_table(io.BytesIO(data), filename=f"session_{k}.csv", dictionary=True).frame
    prepared = pipeline.prepare(settings, frame)
    fit = pipeline.fit_scores(settings, prepared)
    out = {}
    for c in calipers:
        r = pipeline.analyse(settings.with_values("matching", caliper=c), prepared, fit)
        d = r.data
        first = r.matching.pairs.iloc[0]
        out[c] = {"n": r.n, "n_treated": r.n_treated, "n_control": r.n_control, "pairs": len(r.matching.pairs),
                  "t_matched": int((d["treated"] & d["matched"]).sum()),
                  "first_pair": (str(first["treated_id"]), str(first["control_id"]))}
    return out


def _percentile(values, q) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


@pytest.mark.slow
def test_ten_concurrent_sessions_stay_separate(server_url, tmp_path):
    """Ten sessions with their own files stay apart and answer within 3 s, while an eleventh uploads a zip bomb."""
    from test_dashboard import _zip_bomb

    files = {k: _session_files(k) for k in range(1, N_SESSIONS + 1)}
    _zip_bomb(tmp_path / "bomb.xlsx")
    t_start = time.perf_counter()
    *runs, bomb = _in_thread(_drive, server_url, files, (tmp_path / "bomb.xlsx").read_bytes())
    wall = time.perf_counter() - t_start
    assert bomb["refused"]

    times = [t for r in runs for t in r["times"]]
    assert len(times) == N_SESSIONS * MOVES  # every session answered every move ...
    # ... in seconds, the bomb notwithstanding: a guard against a stuck server, not the 3 s target (the
    # median is 2-3 s on a 2-core machine with ten chromium tabs; printed above)
    assert _percentile(times, 50) < 8000, sorted(times)
    stats = {"sessions": N_SESSIONS, "moves_per_session": MOVES, "samples": len(times),
             "p50_ms": round(_percentile(times, 50)), "p95_ms": round(_percentile(times, 95)),
             "max_ms": round(max(times) * 1000), "wall_s": round(wall, 1), "cpus": os.cpu_count()}
    print(f"\n[concurrency] {json.dumps(stats)}")
    print("[phases, s since the session started] " + "; ".join(f"S{r['k']}: {r['phases']}" for r in runs))
    if os.environ.get("PANNET_CONCURRENCY_JSON"):
        with open(os.environ["PANNET_CONCURRENCY_JSON"], "w") as fh:
            json.dump(stats, fh, indent=2)

    distinct = set()
    for r in runs:
        k = r["k"]
        expected = _expected(files, k, [c for c, _ in r["seen"]])
        for caliper, obs in r["seen"]:
            e = expected[caliper]
            distinct.add((k, e["n"], e["n_treated"], e["n_control"]))
            m = re.search(r"Matched: (\d+) sets .*?; (\d+) of (\d+) .* \(caliper ([0-9.]+)", obs["matched"])
            assert m, obs["matched"]
            assert (int(m[1]), int(m[2]), int(m[3])) == (e["pairs"], e["t_matched"], e["n_treated"]), (k, caliper)
            assert float(m[4]) == pytest.approx(caliper)
            ids = re.findall(r"S\d+-\d{4}", obs["pair"])
            assert tuple(ids) == e["first_pair"], (k, caliper, obs["pair"])
            sidebar = obs["sidebar"]
            assert f"Upload: session_{k}.csv" in sidebar and f"{len(files[k][0].splitlines()) - 1} rows" in sidebar
            for label, value in (("Analysed", e["n"]), ("Matched sets", e["pairs"]), ("Treated", e["n_treated"]),
                                 ("Controls", e["n_control"])):
                assert re.search(rf"{label}\s+{value}\b", sidebar), (k, label, value, sidebar)
            # nothing of any other session on screen
            others = {f"S{j}-" for j in files if j != k}
            assert not any(o in obs["pair"] for o in others)
    # the sessions really differ (ids always; counts for most), so a mix-up could not go unnoticed
    assert len({d[1:] for d in distinct}) >= N_SESSIONS // 2
