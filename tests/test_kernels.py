"""The farmers' compiled monthly kernels compute what their rules say, evaluated with NumPy.

Each rule is written once and runs both ways (vraem.jit): per household inside a kernel and on
arrays from Python. These tests run a kernel on a model's state and the same rules on the same
state from Python; they would fail if a kernel strayed from its rules (a term left out, a wrong
column, a wrong order of updates).
"""

import copy

import numpy as np
import pytest

from vraem import metrics
from vraem.agents import (
    coca_wanted,
    expectations,
    farmer,
    harvest,
    income,
    land,
    legal_crops,
    maturation,
    replanting,
    soils,
    standing_coca,
)
from vraem.agents.farmer import HOME, REMOTE
from vraem.landscape import UNFARMED_FERTILITY, fertility_change
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
    h.coca_idle[::3] = 0.3 * h.coca_mature[:, ::3].sum(axis=0)  # standing unharvested coca
    m.labour_supply, m.coca_yield_factor = 0.9, 1.1  # after a labour exodus; inputs raised yields
    mature = h.coca_mature.sum(axis=0)
    share = harvest.harvested_share(h.coca_idle, mature, m.labour_supply)
    rule = share * harvest.leaf_harvest_kg(
        p.crops.coca_leaf_kg_per_ha_year * m.coca_yield_factor,
        h.coca_mature[HOME],
        soils.home_fertility(m),
        h.coca_mature[REMOTE],
        soils.remote_fertility(m),
    )
    assert rule.sum() > 0
    np.testing.assert_allclose(harvest.harvest(m), rule, rtol=1e-12, atol=0)
    np.testing.assert_allclose(m.coca_harvested_ha, (share * mature).sum(), rtol=1e-12)
    np.testing.assert_allclose(m.coca_unharvested_ha, ((1 - share) * mature).sum(), rtol=1e-12)


def test_incomes_are_the_income_rules(stepped):
    m = stepped
    h, fp = m.households, m.params.farmer
    leaf_kg = harvest.harvest(m)
    welfare = np.linspace(0.0, 30.0, h.n)
    legal = income.legal_revenue_usd(m)
    assert legal.sum() > 0 and (m.households.stage >= farmer.ProgrammeStage.PERENNIAL).any()
    sales = income.update_incomes(m, leaf_kg, welfare)
    np.testing.assert_allclose(sales, legal.sum(), rtol=1e-12)
    np.testing.assert_allclose(h.legal_income, legal * (1.0 - fp.legal_cost_share), rtol=1e-12, atol=0)
    net = income.net_income_usd(
        h.coca_income, fp.coca_cost_share, leaf_kg, m.prices.leaf_usd, h.legal_income, welfare
    )
    np.testing.assert_allclose(h.income, net, rtol=1e-12, atol=1e-9)


def test_maturing_is_the_mature_rule(stepped):
    m = stepped
    h, fp = m.households, m.params.farmer
    young, mature = maturation.mature(h.coca_young, h.coca_mature, fp.coca_maturity_months)
    cacao_young, cacao_mature = maturation.mature(h.cacao_young, h.cacao_mature, fp.perennial_maturity_months)
    food_young, food_mature = maturation.mature(h.food_young, h.food_mature, fp.food_maturity_months)
    maturation.mature_crops(m)
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
    shares = soils.plot_land_shares(h.farm_ha, h.fallow, coca[HOME], coca[REMOTE])
    loss, gain = lp.fertility_loss_per_year_coca, lp.fertility_recovery_per_year
    home = np.minimum(
        fertility_change(h.soil_home, shares[0], shares[1], loss, gain), UNFARMED_FERTILITY
    )
    remote = np.minimum(
        fertility_change(h.soil_remote, shares[2], shares[3], loss, gain), UNFARMED_FERTILITY
    )
    mean = soils.wear_soils(m)
    assert mean == soils.mean_soil_fertility(h)  # the same sums in the same order
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
    """Coca changes by the labour-limited gap to :func:`coca_wanted.desired_coca_ha` (NumPy form)."""
    m = stepped
    mechanisms = m.params.mechanisms.model_copy(update={"standing_coca": False})
    m.params = m.params.model_copy(update={"mechanisms": mechanisms})
    h, fp = m.households, m.params.farmer
    h.coca_idle[:] = 0.0
    rng = copy.deepcopy(m.streams.allocation)
    noise = rng.uniform(1.0 - fp.labour_noise, 1.0 + fp.labour_noise, h.n)
    before = h.coca_ha()
    expected = expectations.update_expectation(
        h.expected_leaf_value, expectations.leaf_value_usd_per_kg(m), fp.expectation_rate
    )
    share = m.district_coca_share[h.district].copy()
    land.allocate_land(m)
    np.testing.assert_allclose(h.expected_leaf_value, expected, rtol=1e-12)
    desired = coca_wanted.desired_coca_ha(m, share)  # expectations and risk as the kernel left them
    change = land.land_change_ha(
        desired, before, fp.max_expand_ha_per_month * noise, fp.max_abandon_ha_per_month
    )
    assert (change > 0).any() and (change < 0).any()
    # Forest may run short where many clear at once; everywhere else the change is the rule's.
    np.testing.assert_allclose(
        h.coca_ha()[change <= 0], (before + change)[change <= 0], rtol=1e-9, atol=1e-12
    )
    planted = h.coca_ha()[change > 0] - before[change > 0]
    assert np.isclose(planted, change[change > 0], rtol=1e-9, atol=1e-12).mean() > 0.9


def test_the_land_decision_leaves_cut_coca_standing(stepped):
    """With standing coca, a cut stops the harvest of mature coca: the tended coca follows the
    rule, and the surveyed coca falls only by what is pulled out (young coca, uprooted stands)."""
    m = stepped
    h, fp, vp = m.households, m.params.farmer, m.params.valley
    assert m.params.mechanisms.standing_coca
    noise = copy.deepcopy(m.streams.allocation).uniform(1.0 - fp.labour_noise, 1.0 + fp.labour_noise, h.n)
    u_stand = copy.deepcopy(m.streams.harvest_choice).random(h.n)
    idle = np.minimum(h.coca_idle, h.coca_mature.sum(axis=0))
    dropped = standing_coca.uprooted_standing_ha(idle, u_stand, vp.standing_months)
    before = h.coca_ha()
    tended = before - idle
    young = h.coca_young.sum(axis=0)
    share = m.district_coca_share[h.district].copy()
    land.allocate_land(m)
    desired = coca_wanted.desired_coca_ha(m, share)
    change = land.land_change_ha(
        desired, tended, fp.max_expand_ha_per_month * m.labour_supply * noise, fp.max_abandon_ha_per_month
    )
    cut = (change < 0) & ~h.agreement
    assert cut.sum() > 10 and (h.coca_idle[cut] > 0).mean() > 0.9
    tended_after = h.coca_ha() - h.coca_idle
    np.testing.assert_allclose(tended_after[cut], (tended + change)[cut], rtol=1e-9, atol=1e-12)
    pulled = np.maximum(-change - (tended - young), 0.0)  # the cut beyond the tended mature coca
    np.testing.assert_allclose(h.coca_ha()[cut], (before - dropped - pulled)[cut], rtol=1e-9, atol=1e-12)


def test_legal_crops_follow_the_planting_rule_for_every_household(stepped):
    """Households that planted no coca this month plant legal crops as :func:`plant_legal_crops` says.

    The kernel chooses the crops for every household in one vectorized loop; a household with
    neither pulled-out coca nor fallow must come out of it with its columns as they were.
    """
    m = stepped
    # Standing coca off: with it, a stand uprooted at its hazard (land pulled out) and new coca
    # planted in the same month leave the surveyed coca with no clean "pulled" to compare with;
    # test_the_land_decision_leaves_cut_coca_standing covers that path.
    mechanisms = m.params.mechanisms.model_copy(update={"standing_coca": False})
    m.params = m.params.model_copy(update={"mechanisms": mechanisms})
    m.households.coca_idle[:] = 0.0
    h, p, L = m.households, m.params, m.landscape
    cp = p.crops
    coca, fallow = h.coca_ha(), h.fallow.copy()
    crops = {name: getattr(h, name).copy() for name in ("cacao_young", "coffee_young", "food_young")}
    land.allocate_land(m)
    pulled = np.maximum(coca - h.coca_ha(), 0.0)
    kept = h.coca_ha() <= coca  # no coca planted: the legal crops go on pulled-out land and fallow
    cacao_usd, coffee_usd, food_usd = legal_crops.crop_revenues(m)
    rule = legal_crops.plant_legal_crops(
        pulled,
        fallow,
        L.layer("elevation_m")[h.cell] < p.programme.cacao_below_m,
        soils.home_fertility(m),
        L.layer("market_access")[h.cell],
        h.stage,
        cacao_usd,
        coffee_usd,
        food_usd,
        *legal_crops.farm_gate_indices(m),
        p.farmer.legal_cost_share,
        cp.legal_min_net_usd_per_ha_year,
        cp.legal_expand_ha_per_month,
        p.programme.title_credit_boost,
        L.layer("elevation_m")[h.cell] < cp.coffee_max_m,
    )
    after = (h.fallow, h.cacao_young, h.coffee_young, h.food_young)
    before = (0.0, crops["cacao_young"], crops["coffee_young"], crops["food_young"])
    for got, was, want in zip(after, before, rule[:4], strict=True):
        np.testing.assert_allclose((got - was)[kept], want[kept], rtol=1e-9, atol=1e-12)
    idle = kept & (pulled == 0) & (fallow == 0)
    assert idle.any() and (kept & (pulled > 0)).any() and (kept & (rule[5] > 0)).any()
    for got, name in zip(after[1:], crops, strict=True):
        np.testing.assert_array_equal(got[idle], crops[name][idle])
    np.testing.assert_array_equal(h.fallow[idle], fallow[idle])


def test_replanting_follows_the_replant_and_trust_rules(stepped):
    """Only households that lost coca replant and lose trust; the kernel lists them apart."""
    m = stepped
    h, fp = m.households, m.params.farmer
    hit = np.flatnonzero(h.coca_mature[HOME] > 0)[::5]
    home, remote = np.zeros(h.n), np.zeros(h.n)
    home[hit] = 0.5 * h.coca_mature[HOME, hit]
    home[hit[::2]] = 1e-6  # small losses count too
    h.coca_mature[HOME] -= home
    columns = ("coca_young", "coca_mature", "farm_ha", "fallow")
    was = {name: getattr(h, name).copy() for name in columns}
    trust = h.trust.copy()
    coca_before = h.coca_ha() + home
    u = copy.deepcopy(m.streams.replanting).random(h.n)
    replanting.respond_to_eradication(m, home, remote, 0.5)
    missed = home == 0
    for name in columns:
        np.testing.assert_array_equal(getattr(h, name)[..., missed], was[name][..., missed])
    np.testing.assert_array_equal(h.eradicated, home)
    legal = h.food_mature + h.cacao_mature + h.coffee_mature
    no_alternative = legal < fp.no_alternative_legal_ha
    p = replanting.replant_probability(
        0.5, h.agreement, no_alternative, fp.p_replant_agreement, fp.replant_no_alternative_bonus
    )
    np.testing.assert_array_equal(h.replanted, np.where(u < p, home, 0.0))
    assert (h.replanted[hit] > 0).any() and (h.replanted[hit] == 0).any()
    want = replanting.trust_after_eradication(
        trust, home / np.maximum(coca_before, 1e-12), h.in_programme, fp.trust_loss_eradicated
    )
    np.testing.assert_allclose(h.trust, want, rtol=1e-12, atol=0)
    assert (h.trust[hit] < trust[hit]).any()


def test_household_totals_are_the_sums_and_counts_over_households(stepped):
    m = stepped
    h = m.households
    totals = metrics.household_totals(m)
    sums = {
        "coca_mature_ha": h.coca_mature.sum(),
        "coca_remote_ha": (h.coca_young[REMOTE] + h.coca_mature[REMOTE]).sum(),
        "food_ha": (h.food_young + h.food_mature).sum(),
        "fallow_ha": h.fallow.sum(),
        "trust": h.trust.sum(),
        "income_usd": h.income.sum(),
        "coca_income_usd": h.coca_income.sum(),
    }
    for name, want in sums.items():
        assert totals[name] == pytest.approx(want, rel=1e-12), name
    assert totals["in_programme"] == h.in_programme.sum() > 0
    assert totals["agreements"] == h.agreement.sum()
    assert totals["poor"] == (h.income < m.params.farmer.poverty_line_usd_per_month).sum()
    stages = np.bincount(h.stage, minlength=len(farmer.ProgrammeStage))
    assert [totals[f"stage_{s.name.lower()}"] for s in farmer.ProgrammeStage] == stages.tolist()
    assert (stages > 0).sum() >= 3


def test_the_mean_fertility_reported_is_that_of_the_soils_at_the_end_of_the_month(stepped):
    """The soils' phase takes the mean; nothing later in the month may change soils, farms or coca."""
    m = stepped
    assert m.mean_fertility == soils.mean_soil_fertility(m.households)
    assert m.results()["mean_fertility"].iloc[-1] == m.mean_fertility


def test_the_coca_map_and_district_summaries_are_the_sums_over_households(stepped):
    """The map kernel skips households without coca in its coca sums; the sums must not change."""
    m = stepped
    h, L = m.households, m.landscape
    only_remote = np.flatnonzero(h.coca_young[REMOTE] + h.coca_mature[REMOTE] > 0)[::2]
    h.coca_young[HOME, only_remote] = h.coca_mature[HOME, only_remote] = 0.0
    home = h.coca_young[HOME] + h.coca_mature[HOME]
    remote = h.coca_young[REMOTE] + h.coca_mature[REMOTE]
    assert ((home == 0) & (remote == 0)).any() and ((home == 0) & (remote > 0)).any()
    h.trust[::3] *= 0.5  # the month's trust, summed for every household
    m._update_coca_layers()
    cells = np.bincount(h.cell, weights=home, minlength=L.n_cells)
    cells += np.bincount(h.remote_cell, weights=remote, minlength=L.n_cells)
    np.testing.assert_allclose(L.layer("coca_ha"), cells, rtol=1e-12, atol=1e-12)
    n_d = m.params.landscape.n_districts
    per_district = np.bincount(h.district, minlength=n_d)
    np.testing.assert_allclose(
        m.district_coca_ha, np.bincount(h.district, weights=home + remote, minlength=n_d), rtol=1e-12
    )
    growers = np.bincount(h.district, weights=(home + remote) > 0, minlength=n_d)
    np.testing.assert_allclose(m.district_coca_share, growers / per_district, rtol=1e-12)
    trust = np.bincount(h.district, weights=h.trust, minlength=n_d)
    np.testing.assert_allclose(m.district_mean_trust, trust / per_district, rtol=1e-12)
