"""Shared settings for the tests that drive Debian's Chromium with Playwright.

The browser is the system's ``/usr/bin/chromium`` (``make browser`` installs it); Playwright never
downloads one. The flags keep a root, offline, headless Chromium from reaching for the network.

A missing Playwright or Chromium skips the browser tests on a developer's machine, but fails them
in CI (``CI`` set to ``true``/``1``/``yes``, as CI services do): there a skip would let the
browser tests pass without running.
"""

import os
from pathlib import Path
from types import ModuleType

import pytest

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


def in_ci() -> bool:
    """Whether the tests run in CI (the ``CI`` environment variable, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str) -> None:
    """Fail in CI, skip elsewhere, saying what is missing and how to get it."""
    if in_ci():
        pytest.fail(f"{what} (CI must run the browser tests, not skip them)", pytrace=False)
    pytest.skip(what, allow_module_level=True)


def sync_api() -> ModuleType:
    """Playwright's sync API, or a failure in CI (a skip elsewhere) if it is not installed."""
    try:
        from playwright import sync_api as api
    except ImportError:
        missing("Playwright is not installed: run `make setup` (the dev extra has it)")
    return api


def chromium() -> Path:
    """Debian's Chromium, or a failure in CI (a skip elsewhere) if it is not installed."""
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium package)")
    return CHROMIUM
