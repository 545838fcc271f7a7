"""Every shipped scenario loads, and runs briefly at small scale."""

from pathlib import Path

import numpy as np
import pytest

from vraem.runner import run_once
from vraem.scenario import SCENARIO_DIR, load_scenario

SCENARIOS = sorted(p.stem for p in Path(SCENARIO_DIR).glob("*.yaml"))
REQUIRED = {
    "status_quo",
    "eradication_first",
    "development_first",
    "integrated",
    "interdiction_heavy",
    "replanting_030",
    "replanting_050",
    "replanting_070",
}


def test_required_scenarios_shipped():
    assert REQUIRED <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_smoke(name):
    sc = load_scenario(name, {"farmer.n_households": 300, "months": 12})
    assert len(sc.description) > 80  # written for a student
    table = run_once(sc, 0).table
    assert len(table) == 13
    assert np.isfinite(table["coca_ha"]).all()
    assert (table["coca_ha"] >= 0).all()
    assert table["scenario"].iloc[0] == sc.name


def test_replanting_variants_differ_only_in_replanting():
    a = load_scenario("replanting_030").model_dump()
    b = load_scenario("replanting_070").model_dump()
    for phase_a, phase_b in zip(a["policy"]["phases"], b["policy"]["phases"], strict=True):
        assert phase_a["p_replant"] == 0.3 and phase_b["p_replant"] == 0.7
        phase_a.pop("p_replant"), phase_b.pop("p_replant")
    assert a["policy"] == b["policy"]
