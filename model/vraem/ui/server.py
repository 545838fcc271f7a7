"""Start the classroom app: Solara's server on 127.0.0.1, run as a child process.

The child is ``python -m solara run vraem.ui.app`` in production mode, with Solara's telemetry and
its version check (both would call out to the internet) switched off; the page's web assets are
fetched from the npm registry first if missing (:mod:`vraem.ui.assets`). Only the loopback address
is served: a teacher who wants to share the app on a network can run ``solara run`` directly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

APP = "vraem.ui.app"
HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class PortInUseError(OSError):
    """The chosen port is taken."""


def free_port(host: str = HOST) -> int:
    """Return a port that is free now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_port(port: int, host: str = HOST) -> None:
    """Raise :class:`PortInUseError` with a one-line message if ``port`` is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError:
            raise PortInUseError(f"--port {port}: already in use on {host}; choose another") from None


def server_command(port: int, host: str = HOST) -> list[str]:
    """Return the command line of the Solara server."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]


def server_env() -> dict[str, str]:
    """Return the server's environment: ours, with Solara's telemetry off."""
    return {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}


def serve(port: int = DEFAULT_PORT, host: str = HOST, announce=print) -> int:
    """Run the app until interrupted; returns the server's exit status.

    Args:
        port: TCP port; 0 picks a free one.
        host: Address to bind (loopback by default).
        announce: Called with the line giving the app's address.

    """
    from vraem.ui.assets import ensure_assets

    port = port or free_port(host)
    check_port(port, host)
    ensure_assets(announce=announce)
    announce(f"vraem ui: open http://{host}:{port} in a browser (Ctrl+C stops the app)")
    proc = subprocess.Popen(server_command(port, host), env=server_env())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
