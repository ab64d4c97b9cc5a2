"""Are the dashboard's charts drawn the same as in another commit?  plotly.js full figures and pixels.

Serves ``app.py`` of a reference commit (``git archive`` into a temporary folder) and of this
working tree, opens both in headless Debian chromium (1600 x 1000) and visits the Eligibility,
Matching (after two caliper steps, so the charts have been remounted) and Survival pages.  For
every chart it compares what plotly.js computed (``gd._fullLayout`` and ``gd._fullData`` without
private keys, trace uids and the template object) and a screenshot of the chart.  Used for the
screen figures of ``board/figs.py``, which are sent differently (template written in, plain
arrays) but must be drawn the same.

Usage::

    .venv/bin/python bench/screen_figures_drawn.py [--base main]

Prints one line per chart and exits 1 when a chart differs (``layout.datarevision``, which draws
nothing, is reported but allowed).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_latency as bl  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {".datarevision"}

DUMP = r"""() => {
  const clean = (v, seen) => {
    if (v === null || typeof v !== 'object') return (typeof v === 'function') ? undefined : v;
    if (v instanceof Node) return undefined;
    if (seen.has(v)) return '<cycle>'; seen.add(v);
    if (ArrayBuffer.isView(v)) return Array.from(v);
    if (Array.isArray(v)) return v.map(x => clean(x, seen));
    const o = {};
    for (const k of Object.keys(v).sort()) {
      if (k[0] === '_' || k === 'template' || k === 'uid') continue;
      const c = clean(v[k], seen); if (c !== undefined) o[k] = c;
    }
    seen.delete(v); return o; };
  return Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
    const c = gd.closest('[class*="st-key-"]');
    const n = c ? Array.from(c.classList).find(x => x.startsWith('st-key-')).slice(7) : '?';
    return [n, JSON.stringify({layout: clean(gd._fullLayout, new WeakSet()), data: clean(gd._fullData, new WeakSet())})]; });
}"""


def charts(root: Path) -> dict[str, tuple[dict, bytes]]:
    """Chart key -> (plotly.js full figure, PNG screenshot) of the app in ``root``."""
    from playwright.sync_api import sync_playwright

    port = bl.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false"], cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    out = {}
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"streamlit in {root} did not start") from None
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=bl.CHROMIUM, headless=True, args=bl.CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
            page.set_default_timeout(90_000)
            page.goto(url)
            page.get_by_role("heading", name="Data", level=1).wait_for()
            bl.wait_idle(page, 500)
            for nav, n in (("2 Eligibility", 1), ("3 Matching", 2), ("4 Survival", 3)):
                page.locator('[data-testid="stSidebarNav"]').get_by_text(nav, exact=True).click()
                page.locator(".js-plotly-plot").nth(n - 1).wait_for()
                bl.wait_idle(page, 1500)
                if nav == "3 Matching":
                    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Caliper").get_by_role("slider")
                    for _ in range(2):
                        thumb.focus()
                        thumb.press("ArrowLeft")
                        bl.wait_idle(page, 1500)
                for name, full in page.evaluate(DUMP):
                    el = page.locator(f".st-key-{name} .js-plotly-plot")
                    el.scroll_into_view_if_needed()
                    page.mouse.move(0, 0)
                    page.wait_for_timeout(300)
                    out[name] = (json.loads(full), el.screenshot(animations="disabled"))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return out


def differences(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def main(argv=None) -> int:
    from PIL import Image, ImageChops

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="main", help="reference commit (default: main)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pnb_base_") as tmp:
        archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        base = charts(Path(tmp))
    new = charts(ROOT)
    bad = 0
    for name in sorted(set(base) | set(new)):
        if name not in base or name not in new:
            print(f"{name}: only in {'the base' if name in base else 'the working tree'}")
            bad += 1
            continue
        (fa, pa), (fb, pb) = base[name], new[name]
        diff = differences(fa, fb)
        ia, ib = Image.open(io.BytesIO(pa)).convert("RGB"), Image.open(io.BytesIO(pb)).convert("RGB")
        same_px = ia.size == ib.size and ImageChops.difference(ia, ib).getbbox() is None
        real = [d for d in diff if not any(d.endswith(x) for x in ALLOWED)]
        bad += bool(real) or not same_px
        print(f"{name:14s} full figure {'same' if not real else 'DIFFERS ' + ', '.join(real[:8])}"
              f"{' (allowed: ' + ', '.join(sorted(set(diff) - set(real))) + ')' if set(diff) - set(real) else ''}; "
              f"pixels {'same' if same_px else 'DIFFER'} {ia.size}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
