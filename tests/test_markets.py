"""Legal markets that answer back and a leaf price that can crash (issue 16, items 5 and 7).

Unit tests of the rules (no model), then model-level tests that fail with the mechanism switched
off: a local cacao glut lowers the farm-gate price (``mechanisms.local_market``), disease
destroys legal crops (``mechanisms.crop_disease``), the crops a household can grow depend on its
altitude, world prices revert after the data, and the leaf price falls when supply outgrows
export demand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import ValidationError

from vraem import economy, load_scenario
from vraem.agents import farmer, legal_crops
from vraem.economy import calendar_month, export_demand_t_per_month, local_price_factor
from vraem.params import MarketParams
from vraem.policy import Policy
from vraem.runner import replicate_seed
from vraem.simulation import VraemModel

SMALL = {"farmer.n_households": 600}


def model_of(name, months, seed=0, **overrides):
    sc = load_scenario(name, {**SMALL, "months": months, **overrides})
    return VraemModel(
        sc.parameters, sc.policy, seed=replicate_seed(sc.seed, seed), months=months, start_year=sc.start_year
    )


# ---------------------------------------------------------------------------------------------
# Rules


def test_a_local_glut_lowers_the_price_and_scarcity_does_not_raise_it():
    assert local_price_factor(2.0, 1.0, 0.3) == pytest.approx(2.0**-0.3)
    assert local_price_factor(1.0, 1.0, 0.3) == pytest.approx(1.0)
    assert local_price_factor(0.5, 1.0, 0.3) == pytest.approx(1.0)  # capped at the world price
    assert local_price_factor(5.0, 0.0, 0.3) == pytest.approx(1.0)  # no crop at the start: no reference
    assert local_price_factor(0.0, 1.0, 0.3) == pytest.approx(1.0)
    assert local_price_factor(3.0, 1.0, 0.0) == pytest.approx(1.0)  # no flexibility, no glut


def test_world_prices_revert_to_the_long_run_level_after_the_data():
    assert legal_crops.reverting_index(3.2, 1.07, 0.35, 0) == pytest.approx(3.2)
    half_life = np.log(2.0) / 0.35
    assert legal_crops.reverting_index(3.2, 1.07, 0.35, half_life) == pytest.approx(1.07 + (3.2 - 1.07) / 2)
    assert legal_crops.reverting_index(3.2, 1.07, 0.35, 50) == pytest.approx(1.07, abs=1e-6)
    path = (1.0, 1.5, 3.0)
    assert legal_crops.world_price_index(path, 0, 1.0, 0.35) == 1.0
    assert legal_crops.world_price_index(path, 35, 1.0, 0.35) == 3.0  # the last observed year
    later = [legal_crops.world_price_index(path, 12 * y, 1.0, 0.35) for y in range(3, 12)]
    assert all(b < a for a, b in itertools.pairwise(later)) and later[-1] < 1.1
    assert legal_crops.world_price_index((), 100, 2.0, 0.35) == 1.0


def test_export_demand_follows_the_series_then_grows_for_a_while_then_holds():
    index = (1.0, 1.2, 1.5)
    assert export_demand_t_per_month(10, 0.1, 2, 0, (), index) == pytest.approx(10)
    assert export_demand_t_per_month(10, 0.1, 2, 6, (), index) == pytest.approx(11)  # interpolated
    assert export_demand_t_per_month(10, 0.1, 2, 24, (), index) == pytest.approx(15)
    assert export_demand_t_per_month(10, 0.1, 2, 36, (), index) == pytest.approx(16.5)
    assert export_demand_t_per_month(10, 0.1, 2, 48, (), index) == pytest.approx(18.15)
    assert export_demand_t_per_month(10, 0.1, 2, 240, (), index) == pytest.approx(18.15)  # holds
    # a scenario's replayed path replaces the series
    assert export_demand_t_per_month(10, 0.1, 2, 24, (0.1, -0.5), index) == pytest.approx(5.5)


def test_calendar_months_of_model_months():
    assert calendar_month(2013, 0) == "2013-01"
    assert calendar_month(2013, 87) == "2020-04"
    assert calendar_month(2013, 95) == "2020-12"


def test_the_lockdown_is_a_dated_input_and_bad_dates_are_refused():
    shocks = MarketParams().export_demand_shock_by_date
    assert shocks["2020-04"] < 0.5 and set(shocks) == {"2020-03", "2020-04", "2020-05", "2020-06"}
    with pytest.raises(ValidationError, match="YYYY-MM"):
        MarketParams(export_demand_shock_by_date={"April 2020": 0.3})
    with pytest.raises(ValidationError, match=">= 0"):
        MarketParams(export_demand_shock_by_date={"2020-04": -1.0})


def test_the_altitude_decides_the_perennial():
    elevation = np.array([800.0, 1_500.0, 2_500.0])
    got = legal_crops.perennial_usd(elevation, 1_200.0, 2_000.0, 1_000.0, 700.0)
    np.testing.assert_allclose(got, [1_000.0, 700.0, 0.0])
    best = legal_crops.best_legal_usd(got, 600.0, 1.1)
    np.testing.assert_allclose(best, [1_100.0, 770.0, 600.0])


def test_outbreaks_start_at_the_monthly_hazard_and_not_twice():
    u = np.array([0.005, 0.02, 0.005])
    starts = legal_crops.outbreak_starts(u, np.array([0.12, 0.12, 0.12]), np.array([False, False, True]))
    np.testing.assert_array_equal(starts, [True, False, False])
    assert legal_crops.outbreak_revenue_factor(True, 0.5) == 0.5
    assert legal_crops.outbreak_revenue_factor(False, 0.5) == 1.0


def test_no_household_above_the_coffee_belt_plants_a_perennial():
    """plant_legal_crops: with ``perennial_ok`` false, pulled-out land goes to food or fallow."""
    args = dict(
        pulled_ha=0.5, fallow_ha=1.0, low=False, fertility=1.0, access=1.0, stage=0,
        cacao_usd=3_000.0, coffee_usd=3_000.0, food_usd=1_000.0, cacao_index=2.0, coffee_index=2.0,
        legal_cost_share=0.3, min_net_usd=300.0, expand_ha=0.02, title_boost=0.5,
    )  # fmt: skip
    fallow, cacao, coffee, food, to_legal, own = legal_crops.plant_legal_crops(**args, perennial_ok=False)
    assert cacao == coffee == own == 0.0 and food == to_legal == 0.5 and fallow == 1.0
    fallow, cacao, coffee, food, to_legal, own = legal_crops.plant_legal_crops(**args, perennial_ok=True)
    assert coffee > 0.5 and food == 0.0


# ---------------------------------------------------------------------------------------------
# Model level


@pytest.mark.parametrize("local_market", [True, False])
def test_a_local_cacao_glut_lowers_the_farm_gate_price(local_market):
    """Three times the valley's cacao lowers the farm-gate price by 3^-0.3 (about 28%); with
    ``mechanisms.local_market`` off it stays at the world price passed through."""
    m = model_of("status_quo", 1, **{"mechanisms.local_market": local_market})
    before, _, _ = legal_crops.crop_revenues(m)
    assert m.households.cacao_mature.sum() > 0
    m.households.cacao_mature *= 3.0
    economy.update_market(m, m._supply_t, 0.0, m._shipped_t)
    after, _, _ = legal_crops.crop_revenues(m)
    if local_market:
        assert after == pytest.approx(before * 3.0**-m.params.crops.local_price_flexibility)
    else:
        assert after == pytest.approx(before)


def test_development_first_cacao_glut_lowers_the_price_over_a_run():
    """Development first plants cacao; the valley's farm-gate price falls below the world price
    passed through (it would not with the switch off)."""
    prices = {}
    for on in (True, False):
        switches = {"mechanisms.local_market": on, "mechanisms.crop_disease": False}
        m = model_of("development_first", 72, **switches)
        m.run()
        prices[on] = m.results()["cacao_price_usd_per_kg"].iloc[-1]
        cacao = m.results()["cacao_ha"]
    assert cacao.iloc[-1] > 1.2 * cacao.iloc[0]
    assert prices[True] < 0.95 * prices[False]


@pytest.mark.parametrize("disease", [True, False])
def test_disease_destroys_legal_crops(disease):
    """With an epidemic every year on average, moniliasis and rust kill cacao and coffee plants;
    switched off, none are lost and the legal crops stand as they would."""
    over = {"crops.cacao_outbreak_per_year": 1.0, "crops.coffee_outbreak_per_year": 1.0}
    m = model_of("status_quo", 36, **over, **{"mechanisms.crop_disease": disease})
    m.run()
    lost = m.results()["legal_lost_to_disease_ha"].sum()
    if disease:
        assert lost > 0.05 * m.results()["cacao_ha"].iloc[0]
    else:
        assert lost == 0.0


def test_an_epidemic_cuts_legal_income():
    sick = model_of("status_quo", 1, **{"crops.cacao_outbreak_per_year": 1.0})
    healthy = model_of("status_quo", 1, **{"mechanisms.crop_disease": False})
    for _ in range(24):
        sick.step()
        healthy.step()
        if sick.outbreak_months_left[0] > 0:
            break
    assert sick.outbreak_months_left[0] > 0
    cacao_sick, _, _ = legal_crops.crop_revenues(sick)
    cacao_healthy, _, _ = legal_crops.crop_revenues(healthy)
    assert cacao_sick < 0.9 * cacao_healthy


def test_households_above_the_coffee_belt_grow_no_perennial():
    m = model_of("development_first", 36, **{"crops.coffee_max_m": 1_500.0})
    h, L = m.households, m.landscape
    high = L.layer("elevation_m")[h.cell] >= 1_500.0
    assert high.any() and (~high).any()
    m.run()
    assert (h.cacao_young + h.cacao_mature)[high].sum() == 0.0
    own_coffee = (h.coffee_young + h.coffee_mature)[high & (h.stage < farmer.ProgrammeStage.PERENNIAL)]
    assert own_coffee.sum() == 0.0
    low = L.layer("elevation_m")[h.cell] < m.params.programme.cacao_below_m
    assert (h.coffee_young + h.coffee_mature)[low].sum() == 0.0


def test_cacao_farm_gate_price_is_the_world_price_passed_through():
    """Mid-2023 the VRAEM farm gate paid about US$2/kg (press); the model no longer pays the
    world price in full (it paid US$3.36)."""
    m = model_of("status_quo", 1, **{"mechanisms.local_market": False, "mechanisms.crop_disease": False})
    m.month = 12 * 10  # 2023
    cp = m.params.crops
    price = legal_crops.crop_revenues(m)[0] / cp.cacao_kg_per_ha_year
    assert price == pytest.approx(3.28 * cp.cacao_pass_through, rel=0.01)
    assert 1.8 < price < 2.8


def stateless(months, seed=0, **overrides):
    """The status quo's valley with no state at all (no policy lever): the market alone."""
    sc = load_scenario("status_quo", {**SMALL, "months": months, **overrides})
    seed = replicate_seed(sc.seed, seed)
    return VraemModel(sc.parameters, Policy(), seed=seed, months=months, start_year=2013)


def yearly_leaf_price(m) -> np.ndarray:
    leaf = m.results()["leaf_price_usd_per_kg"].to_numpy()[1:]
    return leaf[: leaf.size // 12 * 12].reshape(-1, 12)


@pytest.mark.parametrize("supply_doubles", [True, False])
def test_the_leaf_price_falls_below_its_2019_level_when_supply_outgrows_demand(supply_doubles):
    """The valley's mature coca doubles in January 2020 (as settlers and new plots added from
    2019): in the year after the lockdown (July 2020 - June 2021) the leaf price stays below 2019's
    while farmers pull the surplus out. Without it, demand growing with world use keeps the price
    at or above 2019's."""
    m = stateless(108)
    for _ in range(84):
        m.step()
    if supply_doubles:
        m.households.coca_mature *= 2.0
    m.run()
    leaf = m.results()["leaf_price_usd_per_kg"].to_numpy()
    y2019, after = leaf[73:85].mean(), leaf[91:103].mean()
    assert (after < 0.95 * y2019) if supply_doubles else (after >= y2019)


def test_no_bound_binds_year_after_year():
    """Over 2013-2033, with the market alone, the leaf price never sits at a bound for a whole
    year (the bounds are the observed extremes, physical limits, not the price's usual state)."""
    m = stateless(252)
    m.run()
    mp = m.params.market
    leaf = yearly_leaf_price(m)
    at_bound = np.isclose(leaf, mp.leaf_price_max_usd_per_kg) | np.isclose(leaf, mp.leaf_price_min_usd_per_kg)
    pinned = at_bound.all(axis=1)
    assert not pinned.any(), f"years at a bound: {np.flatnonzero(pinned) + 2013}"
