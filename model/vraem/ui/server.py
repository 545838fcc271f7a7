"""Start the classroom app: Solara's server on 127.0.0.1, run as a child process.

The child is ``python -m solara run vraem.ui.app`` in production mode, with Solara's telemetry and
its version check (both would call out to the internet) switched off; the page's web assets are
fetched from the npm registry first if missing (:mod:`vraem.ui.assets`). Only the loopback address
is served: a teacher who wants to share the app on a network can run ``solara run`` directly.

A lesson's scenario folders (``vraem ui --scenarios DIR``, and ``./scenarios`` when present where
``vraem ui`` starts) reach the server in the environment variable
:data:`vraem.ui.classroom.LESSON_ENV`; the app lists their files beside the shipped ones.

The server dies with ``vraem ui``, however that is stopped. The child runs in its own process
group; SIGTERM (a service manager, a classroom script), SIGINT (Ctrl+C) and SIGHUP (a closed
terminal) make ``vraem ui`` terminate that whole group, wait for it, and kill it if it lingers.
On Linux the child also asks the kernel (``prctl(PR_SET_PDEATHSIG)``) for SIGTERM when its parent
dies, so even ``kill -9`` of ``vraem ui`` takes the server down.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

APP = "vraem.ui.app"
HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class PortInUseError(OSError):
    """The chosen port is taken."""


class LessonFolderError(ValueError):
    """A ``--scenarios`` folder that does not exist or holds no scenario files."""


def lesson_folders(given: list[Path] | None = None, cwd: Path | None = None) -> list[Path]:
    """The lesson folders to list in the app: those given, then ``./scenarios`` if present.

    A folder made by ``vraem init`` may be given by its top (``lesson/``) rather than its
    ``lesson/scenarios``. The shipped scenarios' own folder is never added twice.

    Raises:
        LessonFolderError: A given folder is missing, not a folder, or holds no ``*.yaml``.

    """
    from vraem.scenario import SCENARIO_DIR

    out: list[Path] = []
    for folder in given or []:
        if not folder.exists():
            raise LessonFolderError(f"--scenarios {folder}: no such folder")
        if not folder.is_dir():
            raise LessonFolderError(
                f"--scenarios {folder}: not a folder (give the folder of the .yaml files)"
            )
        if not any(folder.glob("*.yaml")) and any((folder / "scenarios").glob("*.yaml")):
            folder = folder / "scenarios"  # the top of a folder made by vraem init
        if not any(folder.glob("*.yaml")):
            raise LessonFolderError(f"--scenarios {folder}: no scenario files (*.yaml) there")
        out.append(folder.resolve())
    here = (cwd or Path.cwd()) / "scenarios"
    if here.is_dir() and any(here.glob("*.yaml")):
        out.append(here.resolve())
    shipped = SCENARIO_DIR.resolve()
    return [f for i, f in enumerate(out) if f != shipped and f not in out[:i]]


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


def server_env(lessons: list[Path] | None = None) -> dict[str, str]:
    """Return the server's environment: ours, with Solara's telemetry off and the lesson folders."""
    from vraem.ui.classroom import LESSON_ENV

    return {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        LESSON_ENV: os.pathsep.join(str(p) for p in lessons or []),
    }


def serve(
    port: int = DEFAULT_PORT, host: str = HOST, announce=print, lessons: list[Path] | None = None
) -> int:
    """Run the app until interrupted; returns the server's exit status.

    Args:
        port: TCP port; 0 picks a free one.
        host: Address to bind (loopback by default).
        announce: Called with the line giving the app's address.
        lessons: Folders of a lesson's scenario files, listed beside the shipped ones.

    """
    from vraem.ui.assets import ensure_assets

    port = port or free_port(host)
    check_port(port, host)
    ensure_assets(announce=announce)
    for folder in lessons or []:
        n = len(list(folder.glob("*.yaml")))
        announce(f"vraem ui: lesson scenarios from {folder} ({n} file(s))")
    announce(f"vraem ui: open http://{host}:{port} in a browser (Ctrl+C stops the app)")
    parent = os.getpid()
    preexec = (lambda: _die_with_parent(parent)) if sys.platform.startswith("linux") else None
    proc = None
    previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        proc = subprocess.Popen(
            server_command(port, host), env=server_env(lessons), start_new_session=True, preexec_fn=preexec
        )
        return proc.wait()
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl+C must not interrupt the clean-up
            signal.signal(sig, signal.SIG_IGN)
        if proc is not None:
            stop_group(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""Signals that stop ``vraem ui`` and, with it, the server."""
STOP_TIMEOUT_S = 10.0
"""How long the server gets to shut down after SIGTERM before it is killed."""
PR_SET_PDEATHSIG = 1
"""``prctl`` option (linux/prctl.h): the signal a process gets when its parent dies."""


class _Stop(Exception):
    """Raised in the main thread by a stop signal."""


def _raise_stop(signum, frame) -> None:
    raise _Stop(signum)


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child before exec
    """In the child (Linux): get SIGTERM when the parent dies; exit now if it already has."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def stop_group(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """Terminate the child's process group, wait for it, and kill the group if it lingers."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.killpg(proc.pid, sig)  # the child's group: the server and anything it started
        except (ProcessLookupError, PermissionError):
            break  # the group is gone
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if not _group_alive(proc.pid):
            break
    proc.poll()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
