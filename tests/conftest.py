"""Shared fixtures: small, fast model runs."""

from __future__ import annotations

import pytest

from vraem.scenario import load_scenario

SMALL = {"farmer.n_households": 400, "months": 24}
"""A small valley for fast tests (valley-wide quantities scale with households)."""


@pytest.fixture
def small_scenario():
    """Load a shipped scenario at test scale, with extra overrides."""

    def make(name: str = "status_quo", **overrides):
        return load_scenario(name, {**SMALL, **overrides})

    return make
