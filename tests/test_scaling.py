"""A policy's effect does not depend on the number of simulated households (docs/model.md).

The effect is the scenario's coca area as a share of the status quo's at 3 and 5 years (replicate
means, the same seeds in both). Issue 11 asks for agreement within 5 percentage points between the
classroom valley (1,500 households) and the full one (20,000), which this test checks with a few
paired replicates and five years (a full-valley run of five years takes about a quarter second).
Before the scaling rule the gap reached 8-13 points. A three-year interdiction campaign (issue 16)
is held to the same bound: before the export route kept its full count of strips, flights and
couriers, it cut coca by 40% at 1,500 households and by 76% at 20,000 at 3 years.
"""

import numpy as np
import pytest

from vraem.policy import Levers, Policy, PolicyPhase, levers_at, observed_amounts
from vraem.runner import run_once
from vraem.scenario import Scenario, load_scenario
from vraem.shipped import shipped_names

MONTHS = (36, 60)
REPLICATES = 5
TOLERANCE_PP = 5.0


CAMPAIGN_MONTHS = 36
CAMPAIGN = {
    "lab_raids_per_month": 60,
    "airstrip_destructions_per_month": 100,
    "flight_interdictions_per_month": 60,
    "courier_arrests_per_month": 300,
}
"""Issue 16, item 10: a heavy interdiction campaign for three years, then the status quo's levers."""


def campaign(status_quo: Scenario) -> Scenario:
    """The status quo with the campaign's interdiction levers in its first three years.

    Each campaign year keeps the status quo's other levers of that year (from the state's record
    when the status quo follows it); from month 36 the status quo's own phases resume.
    """
    phases = []
    for year in range(CAMPAIGN_MONTHS // 12):
        start = 12 * year
        phase = status_quo.policy.phase_at(start) or PolicyPhase()
        if phase.observed_history:
            retreat = status_quo.parameters.mechanisms.state_retreat
            amounts = observed_amounts(status_quo.start_year + year, retreat)
            phase = phase.model_copy(update={"observed_history": False, **amounts})
        phases.append(phase.model_copy(update={"start_month": start, "end_month": start + 12, **CAMPAIGN}))
    for phase in status_quo.policy.phases:
        if phase.end_month is None or phase.end_month > CAMPAIGN_MONTHS:
            phases.append(phase.model_copy(update={"start_month": max(phase.start_month, CAMPAIGN_MONTHS)}))
    return status_quo.model_copy(update={"name": "interdiction_campaign", "policy": Policy(phases=phases)})


def coca_at(name: str, households: int) -> np.ndarray:
    """Mean coca area at ``MONTHS`` of a shipped scenario (or the campaign) over the replicates."""
    shipped = "status_quo" if name == "interdiction_campaign" else name
    sc = load_scenario(shipped, {"farmer.n_households": households, "months": max(MONTHS)})
    if name == "interdiction_campaign":
        sc = campaign(sc)
    runs = [run_once(sc, k).table["coca_ha"].to_numpy()[list(MONTHS)] for k in range(REPLICATES)]
    return np.mean(runs, axis=0)


@pytest.fixture(scope="module")
def status_quo():
    return {n: coca_at("status_quo", n) for n in (1500, 20000)}


def effects(name: str, status_quo) -> dict[int, np.ndarray]:
    """Coca as a change from the status quo (%) at ``MONTHS``, at 1,500 and 20,000 households."""
    return {n: 100.0 * (coca_at(name, n) / status_quo[n] - 1.0) for n in (1500, 20000)}


@pytest.mark.parametrize("name", [n for n in shipped_names("scenarios") if n != "status_quo"])
def test_policy_effect_is_the_same_at_1500_and_20000_households(name, status_quo):
    effect = effects(name, status_quo)
    gap = np.abs(effect[1500] - effect[20000])
    assert gap.max() <= TOLERANCE_PP, f"{name}: effect {effect} (gap {gap} pp at months {MONTHS})"


def test_interdiction_campaign_effect_is_the_same_at_1500_and_20000_households(status_quo):
    """Issue 16, item 10: the campaign's caps (landings per flight, flights per strip) bind alike."""
    effect = effects("interdiction_campaign", status_quo)
    gap = np.abs(effect[1500] - effect[20000])
    assert gap.max() <= TOLERANCE_PP, f"campaign: effect {effect} (gap {gap} pp at months {MONTHS})"
    # Not a vacuous pass: the campaign cuts coca at 3 years (by about 76% at both sizes in 2026).
    assert max(effect[1500][0], effect[20000][0]) < -20.0, effect


def test_clans_and_labs_scale_with_households_and_the_export_route_does_not():
    from vraem.agents.harvest import harvest
    from vraem.simulation import VraemModel

    counts = {}
    for n in (1500, 20000):
        sc = load_scenario("status_quo", {"farmer.n_households": n, "months": 1})
        m = VraemModel(sc.parameters, sc.policy, seed=1, months=1)
        h = m.households
        leaf = harvest(m)[~h.processes_paste].sum()
        capacity = m.lab_capacity_kg_leaf[m.labs.clan].sum()
        counts[n] = (len(m.clans) / n, m.labs.cell.size / n, capacity / leaf)
        # The cartels' strips are the full valley's at any scale (each carries its share of the load).
        assert m.airstrips.cell.size == m.params.cartel.n_airstrips
    small, full = np.array(counts[1500]), np.array(counts[20000])
    np.testing.assert_allclose(small[:2], full[:2], rtol=0.15)
    # Each clan's labs take its own leaf plus the margin (before: each lab the whole valley's).
    np.testing.assert_allclose([small[2], full[2]], m.params.clan.lab_capacity_margin, rtol=1e-6)


def test_the_campaign_is_the_status_quo_but_for_three_years_of_interdiction():
    sq = load_scenario("status_quo")
    cp = campaign(sq)
    interdiction = {"lab_raids", "airstrip_destructions", "flight_interdictions", "courier_arrests"}
    for month in range(1, 2 * CAMPAIGN_MONTHS):
        a, b = (levers_at(s.policy, month, 1.0, 0.5, s.start_year) for s in (sq, cp))
        for name in Levers.__dataclass_fields__:
            if month < CAMPAIGN_MONTHS and name in interdiction:
                assert getattr(b, name) == CAMPAIGN[f"{name}_per_month"], (month, name)
            else:
                assert getattr(b, name) == getattr(a, name), (month, name)


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
