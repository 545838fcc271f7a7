"""Shared settings for the tests that drive Debian's Chromium with Playwright.

The browser is the system's ``/usr/bin/chromium`` (``make browser`` installs it); Playwright never
downloads one. The flags keep a root, offline, headless Chromium from reaching for the network.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
