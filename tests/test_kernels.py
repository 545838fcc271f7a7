"""The farmers' compiled monthly kernels compute what their rules say, evaluated with NumPy.

Each rule is written once and runs both ways (vraem.jit): per household inside a kernel and on
arrays from Python. These tests run a kernel on a model's state and the same rules on the same
state from Python; they would fail if a kernel strayed from its rules (a term left out, a wrong
column, a wrong order of updates).
"""

import copy

import numpy as np
import pytest

from vraem.agents import farmer
from vraem.agents.farmer import HOME, REMOTE
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel

MONTHS = 30


@pytest.fixture
def stepped():
    """A small valley under the integrated policy (eradication, programme, roads), 30 months in."""
    sc = load_scenario("integrated", {"farmer.n_households": 400, "months": MONTHS})
    m = VraemModel(sc.parameters, sc.policy, seed=11, months=MONTHS)
    for _ in range(MONTHS):
        m.step()
    return m


def test_harvest_is_the_leaf_harvest_rule(stepped):
    m = stepped
    h, p = m.households, m.params
    h.soil_bonus[::2] = 0.1  # the programme's soil recovery counts at home, not in the remote field
    rule = farmer.leaf_harvest_kg(
        p.crops.coca_leaf_kg_per_ha_year,
        h.coca_mature[HOME],
        farmer.home_fertility(m),
        h.coca_mature[REMOTE],
        farmer.remote_fertility(m),
    )
    assert rule.sum() > 0
    np.testing.assert_allclose(farmer.harvest(m), rule, rtol=1e-12, atol=0)


def test_incomes_are_the_income_rules(stepped):
    m = stepped
    h, fp = m.households, m.params.farmer
    leaf_kg = farmer.harvest(m)
    welfare = np.linspace(0.0, 30.0, h.n)
    legal = farmer.legal_revenue_usd(m)
    assert legal.sum() > 0 and (m.households.stage >= farmer.ProgrammeStage.PERENNIAL).any()
    sales = farmer.update_incomes(m, leaf_kg, welfare)
    np.testing.assert_allclose(sales, legal.sum(), rtol=1e-12)
    np.testing.assert_allclose(h.legal_income, legal * (1.0 - fp.legal_cost_share), rtol=1e-12, atol=0)
    income = farmer.net_income_usd(
        h.coca_income, fp.coca_cost_share, leaf_kg, m.prices.leaf_usd, h.legal_income, welfare
    )
    np.testing.assert_allclose(h.income, income, rtol=1e-12, atol=1e-9)


def test_maturing_is_the_mature_rule(stepped):
    m = stepped
    h, fp = m.households, m.params.farmer
    young, mature = farmer.mature(h.coca_young, h.coca_mature, fp.coca_maturity_months)
    cacao_young, cacao_mature = farmer.mature(h.cacao_young, h.cacao_mature, fp.perennial_maturity_months)
    food_young, food_mature = farmer.mature(h.food_young, h.food_mature, fp.food_maturity_months)
    farmer.mature_crops(m)
    np.testing.assert_array_equal(h.coca_young, young)
    np.testing.assert_array_equal(h.coca_mature, mature)
    np.testing.assert_array_equal(h.cacao_young, cacao_young)
    np.testing.assert_array_equal(h.cacao_mature, cacao_mature)
    np.testing.assert_array_equal(h.food_young, food_young)
    np.testing.assert_array_equal(h.food_mature, food_mature)
    assert (h.coca_young[REMOTE] > 0).any()


def test_soils_are_the_fertility_rule(stepped):
    m = stepped
    h, lp = m.households, m.params.landscape
    coca = h.coca_young + h.coca_mature
    shares = farmer.plot_land_shares(h.farm_ha, h.fallow, coca[HOME], coca[REMOTE])
    loss, gain = lp.fertility_loss_per_year_coca, lp.fertility_recovery_per_year
    home = np.minimum(
        farmer.fertility_change(h.soil_home, shares[0], shares[1], loss, gain), farmer.UNFARMED_FERTILITY
    )
    remote = np.minimum(
        farmer.fertility_change(h.soil_remote, shares[2], shares[3], loss, gain), farmer.UNFARMED_FERTILITY
    )
    farmer.wear_soils(m)
    np.testing.assert_allclose(h.soil_home, home, rtol=1e-12, atol=0)
    np.testing.assert_allclose(h.soil_remote, remote, rtol=1e-12, atol=0)
    cells = np.bincount(h.cell, weights=h.farm_ha * home, minlength=m.landscape.n_cells)
    farmed = np.bincount(h.cell, weights=h.farm_ha, minlength=m.landscape.n_cells) > 0
    np.testing.assert_allclose(
        m.landscape.layer("fertility")[farmed],
        cells[farmed] / np.bincount(h.cell, weights=h.farm_ha, minlength=m.landscape.n_cells)[farmed],
        rtol=1e-12,
    )


def test_the_land_decision_moves_coca_toward_the_desired_coca_rule(stepped):
    """Coca changes by the labour-limited gap to :func:`farmer.desired_coca_ha` (NumPy form)."""
    m = stepped
    h, fp = m.households, m.params.farmer
    rng = copy.deepcopy(m.streams.allocation)
    noise = rng.uniform(1.0 - fp.labour_noise, 1.0 + fp.labour_noise, h.n)
    before = h.coca_ha()
    expected = farmer.update_expectation(
        h.expected_leaf_value, farmer.leaf_value_usd_per_kg(m), fp.expectation_rate
    )
    share = m.district_coca_share[h.district].copy()
    farmer.allocate_land(m)
    np.testing.assert_allclose(h.expected_leaf_value, expected, rtol=1e-12)
    desired = farmer.desired_coca_ha(m, share)  # expectations and risk as the kernel left them
    change = farmer.land_change_ha(
        desired, before, fp.max_expand_ha_per_month * noise, fp.max_abandon_ha_per_month
    )
    assert (change > 0).any() and (change < 0).any()
    # Forest may run short where many clear at once; everywhere else the change is the rule's.
    np.testing.assert_allclose(
        h.coca_ha()[change <= 0], (before + change)[change <= 0], rtol=1e-9, atol=1e-12
    )
    planted = h.coca_ha()[change > 0] - before[change > 0]
    assert np.isclose(planted, change[change > 0], rtol=1e-9, atol=1e-12).mean() > 0.9
