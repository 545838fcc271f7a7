"""The model still reproduces its stored seeded baseline (refresh: ``make baseline``)."""

import json

import pytest

from tests.baseline import PATH, summary


def test_matches_stored_baseline():
    stored = json.loads(PATH.read_text())
    fresh = summary()
    assert sorted(fresh) == sorted(stored)
    diffs = [
        f"{scenario}.{key}: stored {stored[scenario][key]!r}, now {value!r}"
        for scenario, row in fresh.items()
        for key, value in row.items()
        if value != pytest.approx(stored[scenario][key], rel=1e-9, abs=1e-9)
    ]
    assert not diffs, "model behaviour changed (if deliberate: make baseline):\n" + "\n".join(diffs)
