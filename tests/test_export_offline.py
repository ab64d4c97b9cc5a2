"""PNG export starts Chromium so that nothing leaves the machine.

The export runs under ``strace -f``, which records every connect() and send of Chromium and its
children. Before the fix this log held DNS queries to the resolver (port 53) for accounts.google.com,
update.googleapis.com and clients2.google.com.
"""
from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pannet_core.report import export

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.skipif(not export.browser_available(), reason="no Chromium found"),
    pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (apt-get install strace)"),
    pytest.mark.slow,
]

EXPORT = """
import time
import plotly.graph_objects as go
from pannet_core.report import export
png = export.figure_png(go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 0.5, 0.3])), width=400, height=300, scale=1)
assert png[:4] == b"\\x89PNG"
time.sleep(4)  # what Chromium does in the background after start-up is recorded too
export.stop_export_browser()
print("rendered")
"""
#: Chromium's IPv6 route check: a UDP socket "connected" to this address (to ask the kernel for a route)
#: and closed again; a datagram connect sends nothing, and the test checks that nothing is sent on it
ROUTE_PROBE = ("2001:4860:4860::8888", 443)
_ADDR = re.compile(r'(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)")')
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")


def _destination(line: str):
    m, p = _ADDR.search(line), _PORT.search(line)
    if not m or not p:
        return None
    return ipaddress.ip_address(m.group(1) or m.group(2)), int(p.group(1))


def _external(addr) -> bool:
    mapped = getattr(addr, "ipv4_mapped", None)
    return not (addr.is_loopback or (mapped is not None and mapped.is_loopback) or addr.is_unspecified)


def _trace_export(tmp_path: Path) -> list[str]:
    log = tmp_path / "strace.log"
    proc = subprocess.run(
        ["strace", "-f", "-qq", "-e", "signal=none", "-e",
         "trace=socket,connect,sendto,sendmsg,sendmmsg,write,close", "-o", str(log), sys.executable, "-c", EXPORT],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "rendered" in proc.stdout, proc.stderr[-2000:]
    return log.read_text(errors="replace").splitlines()


def test_png_export_attempts_no_connection_off_the_machine(tmp_path):
    lines = _trace_export(tmp_path)
    problems, probe_fds = [], {}
    for line in lines:
        head = re.match(r"(\d+)\s+(.*)", line)  # strace pads the thread id with spaces
        if head is None:
            continue
        tid, call = head.groups()
        m = re.match(r"(connect|sendto|sendmsg|sendmmsg)\((\d+),", call)
        if m and "AF_INET" in call:
            dest = _destination(call)
            if dest is None or not _external(dest[0]):
                continue
            if m.group(1) == "connect" and (str(dest[0]), dest[1]) == ROUTE_PROBE:
                probe_fds[(tid, m.group(2))] = True  # allowed only if nothing is sent before close
                continue
            problems.append(line)
        m = re.match(r"(write|sendto|sendmsg|sendmmsg)\((\d+),", call)
        if m and (tid, m.group(2)) in probe_fds:
            problems.append(f"data sent on the route probe socket: {line}")
        m = re.match(r"close\((\d+)", call)
        if m:
            probe_fds.pop((tid, m.group(1)), None)
    assert not problems, "\n".join(problems[:20])
    # the trace did record the browser: its start-up sockets and its pipe to Python are there
    assert sum("connect(" in line for line in lines) > 0 and len(lines) > 100


def test_quiet_flags_reach_the_chromium_command_line():
    cls = export._quiet_chromium()
    cli = cls.get_cli.__qualname__
    assert cli.endswith("QuietChromium.get_cli")
    for flag in ("--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--metrics-recording-only", "--no-pings", "--host-resolver-rules=MAP * ~NOTFOUND"):
        assert flag in export.QUIET_BROWSER_FLAGS
