"""Helpers for tests that drive real processes (sweeps and sensitivity runs killed mid-way)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def wait_for_log_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float = 300) -> int:
    """Wait until the run's log at ``path`` has ``n`` lines while ``proc`` still runs; return the count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_bytes().count(b"\n")
            if lines >= n:
                return lines
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    raise TimeoutError
