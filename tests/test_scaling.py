"""A policy's effect does not depend on the number of simulated households (docs/model.md).

The effect is the scenario's coca area as a share of the status quo's at 3 and 5 years (replicate
means, the same seeds in both). Issue 11 asks for agreement within 5 percentage points between the
classroom valley (1,500 households) and the full one (20,000), which this test checks with a few
paired replicates and five years (a full-valley run of five years takes about a quarter second).
Before the scaling rule the gap reached 8-13 points.
"""

import numpy as np
import pytest

from vraem.runner import run_once
from vraem.scenario import load_scenario
from vraem.shipped import shipped_names

MONTHS = (36, 60)
REPLICATES = 5
TOLERANCE_PP = 5.0


def coca_at(name: str, households: int) -> np.ndarray:
    sc = load_scenario(name, {"farmer.n_households": households, "months": max(MONTHS)})
    runs = [run_once(sc, k).table["coca_ha"].to_numpy()[list(MONTHS)] for k in range(REPLICATES)]
    return np.mean(runs, axis=0)


@pytest.fixture(scope="module")
def status_quo():
    return {n: coca_at("status_quo", n) for n in (1500, 20000)}


@pytest.mark.parametrize("name", [n for n in shipped_names("scenarios") if n != "status_quo"])
def test_policy_effect_is_the_same_at_1500_and_20000_households(name, status_quo):
    effect = {n: 100.0 * (coca_at(name, n) / status_quo[n] - 1.0) for n in (1500, 20000)}
    gap = np.abs(effect[1500] - effect[20000])
    assert gap.max() <= TOLERANCE_PP, f"{name}: effect {effect} (gap {gap} pp at months {MONTHS})"


def test_clans_labs_and_airstrips_scale_with_households():
    from vraem.agents.farmer import harvest
    from vraem.simulation import VraemModel

    counts = {}
    for n in (1500, 20000):
        sc = load_scenario("status_quo", {"farmer.n_households": n, "months": 1})
        m = VraemModel(sc.parameters, sc.policy, seed=1, months=1)
        h = m.households
        leaf = harvest(m)[~h.processes_paste].sum()
        capacity = m.lab_capacity_kg_leaf[m.labs.clan].sum()
        counts[n] = (len(m.clans) / n, m.labs.cell.size / n, m.airstrips.cell.size / n, capacity / leaf)
    small, full = np.array(counts[1500]), np.array(counts[20000])
    np.testing.assert_allclose(small[:3], full[:3], rtol=0.15)
    # Each clan's labs take its own leaf plus the margin (before: each lab the whole valley's).
    np.testing.assert_allclose([small[3], full[3]], m.params.clan.lab_capacity_margin, rtol=1e-6)


def test_an_open_valley_grows_by_the_same_share_at_1500_and_20000_households():
    """Settlers arrive and households leave at rates per household present (docs/odd.md, 7.16)."""
    grown = {}
    for n in (1500, 20000):
        sc = load_scenario(
            "status_quo", {"farmer.n_households": n, "months": 60, "valley.outside_wage_usd_per_month": 150.0}
        )
        t = run_once(sc, 0).table
        grown[n] = np.array([t["households"].iloc[-1] / n, t["coca_ha"].iloc[-1] / t["coca_ha"].iloc[0]])
    assert grown[20000][0] > 1.05  # the valley did grow
    np.testing.assert_allclose(grown[1500], grown[20000], rtol=0.05)
