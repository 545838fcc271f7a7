"""Households become Mesa agents only when something reads them (the UI, tests, users)."""

import mesa
import numpy as np
import pytest

from vraem.agents.farmer import Farmer
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel


def _model(n: int = 300) -> VraemModel:
    sc = load_scenario("integrated", {"farmer.n_households": n, "months": 3})
    return VraemModel(params=sc.parameters, policy=sc.policy, seed=1, months=3)


def test_a_run_builds_no_household_agents():
    m = _model()
    m.run()
    registered = mesa.Model.agents.fget(m)  # Mesa's registry, read without building households
    assert not any(isinstance(a, Farmer) for a in registered)
    assert len(registered) == len(m.clans) + len(m.cartels) + len(m.security_units) + len(m.mayors)


def test_household_agents_are_built_on_first_read_and_once():
    m = _model()
    m.run()
    others = len(mesa.Model.agents.fget(m))
    n = m.households.n  # 300 at the start; settlers come and households leave (the open valley)
    assert len(m.agents) == others + n
    assert len(m.agents_by_type[Farmer]) == n
    farmers = m.farmers
    assert farmers is m.farmers
    assert [f.idx for f in farmers] == list(range(n))
    x, y = m.landscape.xy(m.households.cell)
    assert [f.cell.coordinate for f in farmers] == list(zip(x.tolist(), y.tolist(), strict=True))
    assert sum(f.coca_ha for f in farmers) == pytest.approx(m.households.coca_ha().sum())


def test_a_run_builds_no_mesa_grid():
    """The monthly rules work on cell indices and layer arrays; the grid waits for a reader."""
    m = _model()
    m.run()
    assert m.landscape._grid is None


def test_the_grid_and_sited_agents_appear_on_first_read():
    m = _model()
    m.run()
    L = m.landscape
    grid = L.grid
    assert grid is L.grid
    assert set(L.layers) <= set(grid._mesa_property_layers)
    assert (grid.coca_ha.data.reshape(-1) == L.layer("coca_ha")).all()  # the same memory
    for agent in (*m.mayors, *m.security_units):
        x, y = agent.cell.coordinate
        assert x * L.height + y == agent.site
        assert agent in agent.cell.agents
    unit = m.security_units[0]
    unit.site = int(m.mayors[-1].site)  # a move, as the eradication phase makes one
    assert unit.cell is m.mayors[-1].cell and unit in unit.cell.agents


def test_monthly_collector_keeps_what_mesas_datacollector_keeps():
    """The collector without defensive copies records the same values, all plain numbers."""
    fast = _model()
    slow = _model()
    slow.datacollector = mesa.DataCollector(model_reporters=fast.datacollector.model_reporters)
    slow.datacollector.collect(slow)
    fast.run()
    slow.run()
    assert fast.datacollector.model_vars.keys() == slow.datacollector.model_vars.keys()
    for name, values in fast.datacollector.model_vars.items():
        assert len(values) == 4
        assert all(type(v) in (int, float) for v in values), name
        np.testing.assert_array_equal(values, slow.datacollector.model_vars[name], err_msg=name)
