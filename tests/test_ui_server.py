"""`vraem ui` as a process: it stops its Solara server with it, and says in one line what it lacks.

Real processes on 127.0.0.1: `vraem ui` is started, its server answers on its port, then the
parent alone is sent SIGTERM, SIGINT, SIGHUP or (Linux) SIGKILL, as a service manager, a terminal
or a classroom script would, and the port must close and no child process remain.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.browser import ROOT
from vraem.ui.server import free_port

VRAEM = Path(sys.executable).with_name("vraem")
START_TIMEOUT_S = 240.0  # the first start may fetch the web assets from npm
STOP_TIMEOUT_S = 20.0


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.slow
@pytest.mark.parametrize(
    "sig",
    [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    + ([signal.SIGKILL] if sys.platform.startswith("linux") else []),
    ids=lambda s: signal.Signals(s).name,
)
def test_stopping_vraem_ui_stops_its_server(sig, tmp_path):
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("w") as out:
        # Its own session, as under a service manager: the signal goes to the parent alone.
        parent = subprocess.Popen(
            [str(VRAEM), "ui", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    children: list[psutil.Process] = []
    try:
        started = _wait_for(lambda: _port_open(port) or parent.poll() is not None, START_TIMEOUT_S)
        assert started and parent.poll() is None, f"vraem ui did not start:\n{log.read_text()[-3000:]}"
        children = psutil.Process(parent.pid).children(recursive=True)
        assert children, "vraem ui should run its server as a child process"

        os.kill(parent.pid, sig)
        parent.wait(timeout=STOP_TIMEOUT_S)
        _, alive = psutil.wait_procs(children, timeout=STOP_TIMEOUT_S)
        assert not alive, f"still running after {signal.Signals(sig).name} to vraem ui: {alive}"
        assert _wait_for(lambda: not _port_open(port), 5.0), f"port {port} still answers"
        if sig != signal.SIGKILL:
            assert parent.returncode == 0, log.read_text()[-2000:]
            assert "Traceback" not in log.read_text()
    finally:
        for p in [*children, psutil.Process(parent.pid) if parent.poll() is None else None]:
            if p is not None:
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
        parent.wait(timeout=10)


def test_ui_without_npm_is_one_line(tmp_path):
    cache = tmp_path / "empty-asset-cache"
    cache.mkdir()
    bin_dir = tmp_path / "bin"  # a PATH with no npm on it
    bin_dir.mkdir()
    env = {**os.environ, "PATH": str(bin_dir), "SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache)}
    proc = subprocess.run(
        [str(VRAEM), "ui", "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert lines[0].startswith("error: ") and "npm is not installed" in lines[0], lines[0]
