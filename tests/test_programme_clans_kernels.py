"""The compiled phases of the programme, clans and cartels keep the array code's results."""

import numba
import numpy as np
import pytest

from vraem import economy, programme
from vraem.agents import cartel, clan
from vraem.agents.farmer import HouseholdType, Zone
from vraem.agents.income import in_hardship
from vraem.agents.soils import relative_fertility
from vraem.jit import pairwise_sum
from vraem.landscape import MIN_FARMED_HA
from vraem.programme import (
    _FEW_ROAD_CELLS,
    _advance_and_sign,
    _road_candidates,
    agreement_probability,
)
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel


def valley():
    """A valley with several clans (3,000 households), a year in."""
    sc = load_scenario("integrated", {"farmer.n_households": 3_000, "months": 12})
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=4, months=12)
    m.run()
    assert len(m.clans) > 2
    return m


@pytest.fixture(scope="module")
def model():
    return valley()


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 1_000, 8_192, 20_000, 20_001])
def test_pairwise_sum_is_numpys_sum_bit_for_bit(n):
    """Exact up to NumPy's buffer of 8,192 values; beyond it NumPy 2.1 (the lowest release
    pyproject allows) adds buffer-sized chunks in another order, and the kernels follow NumPy 2.5's."""
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 6, n)
    if n <= 8_192 or np.lib.NumpyVersion(np.__version__) >= "2.5.0":
        assert pairwise_sum(a) == a.sum()
    else:
        assert pairwise_sum(a) == pytest.approx(a.sum(), rel=1e-12, abs=1e-12)


def _site_numpy(model, c, u):
    """The array version of a lab site draw, from the current police reach and forest."""
    L = model.landscape
    cells = np.flatnonzero(model.cell_clan == c)
    w = (1.0 - L.layer("police_reach")[cells]) * (L.layer("forest_ha")[cells] + 1.0)
    cum = np.cumsum(w)
    return int(cells[min(np.searchsorted(cum, u * cum[-1]), cells.size - 1)])


def test_lab_sites_are_drawn_as_the_array_version_draws_them(model):
    model.lab_site_cache.clear()
    rng = np.random.default_rng(0)
    clans = rng.integers(0, len(model.clans), 400)
    u = rng.random(400)
    u[:5] = (0.0, 1.0, 0.5, 1e-12, 1.0 - 1e-12)
    picked = clan.pick_lab_cells(model, clans, u)
    assert [_site_numpy(model, c, x) for c, x in zip(clans, u, strict=True)] == picked.tolist()
    assert np.all(model.cell_clan[picked] == clans)


def test_lab_site_weights_stay_cached_until_cleared(model):
    model.lab_site_cache.clear()
    before = clan.pick_lab_cells(model, np.array([0]), np.array([0.5]))
    reach = model.landscape.layer("police_reach")
    saved = reach.copy()
    try:
        reach[model.cell_clan == 0] = np.linspace(0.0, 0.99, int(np.count_nonzero(model.cell_clan == 0)))
        assert clan.pick_lab_cells(model, np.array([0]), np.array([0.5])).tolist() == before.tolist()
        model.lab_site_cache.clear()
        assert clan.pick_lab_cells(model, np.array([0]), np.array([0.5]))[0] == _site_numpy(model, 0, 0.5)
    finally:
        reach[:] = saved
        model.lab_site_cache.clear()


@pytest.mark.parametrize("tie", [False, True])
def test_courier_arrests_pick_the_lowest_draws(model, tie):
    h = model.households
    couriers = np.flatnonzero(h.child_courier)
    assert couriers.size > 10
    worry = np.zeros(h.n)
    u = np.random.default_rng(1).random(h.n)
    if tie:  # two couriers share the draw at the cut: mark_courier_arrests falls back to a stable sort
        order = couriers[np.argsort(u[couriers])]
        u[order[3]] = u[order[2]]
    done = cartel._worry(worry, couriers, u, 0.1, 3)
    assert done is not tie
    if done:
        expected = couriers[np.argsort(u[couriers])[:3]]
        assert np.flatnonzero(worry == 1.0).tolist() == sorted(expected.tolist())


@pytest.mark.parametrize("seed", range(20))
def test_kth_smallest_is_numpys_partition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    values = rng.random(n) if seed % 2 else rng.integers(0, 6, n).astype(float)  # ties when even
    for k in {1, int(rng.integers(1, n + 1)), n}:
        assert cartel._kth_smallest(values, k) == np.partition(values, k - 1)[k - 1]


@numba.njit
def _defection_probabilities(*args):
    """Each signer's defection probability, worked out in full as :func:`programme._break_agreements` did."""
    (agreement, soil_home, soil_bonus, coca_ha_at_signing, expected_leaf_value, risk, legal_income,
     stage, income, savings, months_unsupported, district, _u, signed_share, monitored,
     initial_fertility, leaf_kg_per_ha_year, coca_cost_share, risk_weight, welfare_usd,
     defection_per_year, detection, per_income_gap, poverty_line, poverty_multiplier, lapse_months,
     lapse_multiplier, peer_pressure) = args  # fmt: skip
    p = np.zeros(agreement.size)
    for i in range(agreement.size):
        fertility = relative_fertility(soil_home[i], initial_fertility, soil_bonus[i])
        forgone = programme.coca_income_forgone_usd(
            coca_ha_at_signing[i], expected_leaf_value[i], leaf_kg_per_ha_year, fertility, coca_cost_share,
            risk[i], risk_weight,
        )  # fmt: skip
        earned = legal_income[i] + programme.welfare_transfer_usd(stage[i], welfare_usd)
        p[i] = programme.defection_probability(
            defection_per_year, monitored, detection, programme.income_shortfall(forgone, earned),
            per_income_gap, in_hardship(income[i], savings[i], poverty_line), poverty_multiplier,
            months_unsupported[i] >= lapse_months, lapse_multiplier, signed_share[district[i]], peer_pressure,
        )  # fmt: skip
    return p


@pytest.mark.parametrize("monitored", [False, True])
@pytest.mark.parametrize("rate", [50.0, 1e-12])  # hazards of a few percent; of about 1e-16 (rounding)
def test_break_agreements_decides_as_the_full_probability_at_the_edge(model, monitored, rate):
    """The bound that spares most signers the exp changes no decision, even for draws at the probability."""
    p, h = model.params, model.households
    pp, fp = p.programme, p.farmer
    rng = np.random.default_rng(3)
    income = h.income * rng.choice([0.0, 1.0], h.n)  # some in hardship
    savings = h.savings * rng.choice([0.0, 1.0], h.n)
    args = [
        np.ones(h.n, dtype=bool), h.soil_home, h.soil_bonus, h.coca_ha() + rng.random(h.n),
        h.expected_leaf_value, h.risk, h.legal_income, h.stage, income, savings, h.months_unsupported,
        h.district, np.zeros(h.n), np.full(p.landscape.n_districts, 0.3), monitored,
        p.landscape.initial_fertility_farmed, p.crops.coca_leaf_kg_per_ha_year, fp.coca_cost_share,
        fp.risk_weight, pp.welfare_usd_per_month, pp.defection_per_year * rate, pp.monitoring_detection,
        pp.defection_per_income_gap, fp.poverty_line_usd_per_month, pp.defection_poverty_multiplier,
        pp.support_lapse_months, pp.defection_lapse_multiplier, pp.peer_pressure,
    ]  # fmt: skip
    probability = _defection_probabilities(*args)
    assert probability.max() > (0.01 if rate > 1 else 0.0)
    # Draws at each probability, one below it, and random ones.
    k = np.arange(h.n) % 3
    u = np.where(k == 0, probability, np.where(k == 1, np.nextafter(probability, 0.0), rng.random(h.n)))
    args[12] = u
    broke = programme._break_agreements(*args)
    expected = u < probability
    assert broke == expected.sum() > 0
    assert (args[0] == ~expected).all()


def _buy_and_process_numpy(m, leaf_kg, capacity, cash, stock):
    """The clans' month of buying written with arrays, from the clan rules (every household visited)."""
    h, labs, prices = m.households, m.labs, m.prices
    mp, cp = m.params.market, m.params.clan
    n_clans = cash.size
    own = h.processes_paste
    offered = np.where(own, 0.0, leaf_kg)
    hh_base = np.where(own, leaf_kg / mp.leaf_kg_per_kg_base, 0.0)
    offered_by_clan = np.bincount(h.clan, offered, n_clans)
    paste_bill = np.bincount(h.clan, hh_base * prices.paste_usd * (1.0 - cp.broker_margin), n_clans)
    active = np.bincount(labs.clan, labs.active.astype(float), n_clans)
    all_labs = np.bincount(labs.clan, minlength=n_clans).astype(float)
    share = economy.rationed_share(active * capacity, offered_by_clan)
    new_capacity = clan.expand_lab_capacity(
        capacity,
        offered_by_clan / np.maximum(all_labs, 1.0),
        cp.lab_capacity_margin,
        cp.lab_expansion_per_month,
    )
    leaf_taken = np.bincount(h.clan, offered * share[h.clan], n_clans)
    per_kg_leaf = prices.leaf_usd + mp.processing_usd_per_kg_base / mp.leaf_kg_per_kg_base
    pay_by_clan = clan.affordable_share(leaf_taken * per_kg_leaf + paste_bill, cash)
    pay = pay_by_clan[h.clan]
    sold = offered * share[h.clan] * pay
    paste_pay = hh_base * prices.paste_usd * (1.0 - cp.broker_margin) * pay
    hh_processing = hh_base * mp.processing_usd_per_kg_base * pay
    income = sold * prices.leaf_usd + paste_pay - hh_processing
    clan_base = np.bincount(h.clan, sold, n_clans) / mp.leaf_kg_per_kg_base
    paid = np.bincount(h.clan, sold * prices.leaf_usd + paste_pay, n_clans)
    new_cash = cash - paid - clan_base * mp.processing_usd_per_kg_base
    new_stock = stock + clan_base + np.bincount(h.clan, hh_base * pay, n_clans)
    return (income, new_capacity, new_cash, new_stock), (share, pay_by_clan)


@pytest.fixture
def fresh():
    """A valley of its own, for a test that changes it."""
    return valley()


@pytest.mark.parametrize("squeeze", [False, True])
def test_clans_buy_as_the_array_version_when_most_households_sell_nothing(fresh, squeeze):
    """The kernel visits only households with leaf; the array version visits all of them.

    ``squeeze`` makes labs too small for the leaf and clans short of cash, so leaf is rationed
    and purchases cut (the kernel's second pass over sellers runs).
    """
    model = fresh
    h = model.households
    leaf_kg = np.where(np.arange(h.n) % 5 == 0, 50.0 + np.arange(h.n) % 7, 0.0)  # 4 in 5 sell nothing
    assert leaf_kg.any() and (leaf_kg == 0).mean() > 0.75
    h.coca_income[:] = 123.0  # households that sell nothing must be paid 0, not keep last month's
    if squeeze:
        model.lab_capacity_kg_leaf[:] = 10.0
        model.clan_cash_usd[:] = np.linspace(-0.1, 1.5, model.clan_cash_usd.size) * 20_000.0
    before = model.lab_capacity_kg_leaf.copy(), model.clan_cash_usd.copy(), model.clan_stock_kg.copy()
    (income, capacity, cash, stock), (share, pay) = _buy_and_process_numpy(model, leaf_kg, *before)
    if squeeze:  # labs ration the leaf, and some clans pay for part of what they take
        assert np.any(share < 1.0) and np.any((pay > 0.0) & (pay < 1.0))
    clan.buy_and_process(model, leaf_kg)
    np.testing.assert_allclose(h.coca_income, income, rtol=1e-12, atol=1e-9)
    assert np.all(h.coca_income[leaf_kg == 0] == 0.0)
    np.testing.assert_allclose(model.lab_capacity_kg_leaf, capacity, rtol=1e-12)
    np.testing.assert_allclose(model.clan_cash_usd, cash, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(model.clan_stock_kg, stock, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9])
def test_road_cells_are_the_lowest_keys_equal_keys_in_cell_order(n):
    """_road_candidates picks the n cells a stable sort puts first (equal keys in cell order), up
    to a few cells; for more, or a NaN key, it leaves the pick to build_roads' stable sort."""
    rng = np.random.default_rng(n)
    n_cells, n_d = 4_032, 15
    district = rng.integers(0, n_d, n_cells)
    road = rng.random(n_cells) < 0.3
    farm = rng.choice([0.0, 0.5, 1.0, 2.0, 5.0], n_cells)
    picked = ties = 0
    for trial in range(300):
        # Distances on a coarse grid: many keys tie, at the boundary or not.
        dist = rng.integers(0, 6 if trial % 2 else 400, n_cells).astype(float)
        if trial % 50 == 7:
            dist[rng.integers(0, n_cells)] = np.nan
        accepting = rng.random(n_d) < 0.9
        cells, key, pick = _road_candidates(accepting, district, road, farm, dist, 0.1, 1.0, n)
        want = (farm > 0.1) & ~road & accepting[district]
        np.testing.assert_array_equal(cells, np.flatnonzero(want))
        first = cells[np.argsort(key, kind="stable")[:n]]
        if pick.size:
            picked += 1
            assert n <= _FEW_ROAD_CELLS
            np.testing.assert_array_equal(pick, first)
            ordered = np.sort(key)
            ties += cells.size > n and ordered[n - 1] == ordered[n]
        else:
            assert n > _FEW_ROAD_CELLS or cells.size == 0 or np.isnan(key).any()
    if n > _FEW_ROAD_CELLS:
        assert picked == 0
    else:
        assert picked > 250 and ties > 50  # ties at the cut were decided, in cell order


def test_road_order_is_the_same_on_every_machine():
    """Among equal keys, the cells built are the first in cell order, whatever the sort algorithm
    (NumPy's default sort orders ties by an algorithm that depends on the CPU)."""
    sc = load_scenario("integrated", {"farmer.n_households": 400, "months": 12})
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=3, months=12)
    L, scale = m.landscape, m.params.scale
    farm = L.layer("farm_capacity_ha")
    farm[:] = np.where(farm > MIN_FARMED_HA * scale, 3.0 * scale, 0.0)  # the same farmland everywhere
    m.district_accepting[:] = True
    m.road_fund_soles = 0.0
    cost = m.params.programme.road_cost_soles_per_cell * scale
    dist = np.random.default_rng(0).integers(4, 7, L.n_cells).astype(float)  # three distances: ties
    for n in (2, 12):  # picked by the kernel, then by the stable sort
        L.layer("dist_road")[:] = dist
        free = np.flatnonzero(~L.road & (farm > 0))
        assert free.size > 100
        key = dist[free] - farm[free] / L.cell_ha
        built = programme.build_roads(m, n * cost)
        np.testing.assert_array_equal(built, free[np.argsort(key, kind="stable")[:n]])
        assert (key[np.isin(free, built)] == key.min()).all()  # all tied at the lowest key


def test_advance_and_sign_keeps_the_dense_rules():
    """_advance_and_sign visits only listed households (who may sign, who gain trust from
    services, trust above 1) and scans the queue only until all queued households are found:
    the same as the rules applied to every household, and every queued household paid."""
    rng = np.random.default_rng(5)
    n, n_d = 20_000, 15
    district = rng.integers(0, n_d, n).astype(np.int32)
    stage = rng.integers(0, 6, n).astype(np.int8)
    in_programme = rng.random(n) < 0.8
    agreement = in_programme & (rng.random(n) < 0.6)
    kind = rng.integers(0, 3, n).astype(np.int8)
    trust = rng.random(n) * 1.02  # some above 1 (clipped)
    trust[:5] = np.nan
    value_at_signing, value = rng.random(n), rng.random(n)
    u = rng.random(n)
    queued_stage = np.full(n, -1, dtype=np.int8)
    queued = rng.choice(n, 7, replace=False)
    stage[queued] = np.minimum(stage[queued], 4)  # below the last stage
    queued_stage[queued] = stage[queued]
    accepting = rng.random(n_d) < 0.5
    cell_district = rng.integers(0, n_d, 100).astype(np.int32)
    new_roads = np.array([3, 17])
    costs = np.array([300.0, 1_500.0, 4_000.0, 5_000.0, 12_000.0])
    p, factor, gain = 0.05, 0.3, 0.01
    # The rules on every household, from the state after the queue's advances.
    after = stage.copy()
    after[queued] = queued_stage[queued] + 1
    member = in_programme.copy()
    member[queued] = True
    pays = rng.random(n) < 0.7
    coca_ha = rng.random(n)
    signs = member & ~agreement & (after >= 4) & pays
    signs &= u < agreement_probability(p, kind == HouseholdType.COMMITTED, factor)
    per_district = np.maximum(np.bincount(district, minlength=n_d), 1)
    road_cell_soles, reference = 50_000.0, 600.0
    delivered = np.bincount(district[queued], weights=costs[queued_stage[queued]], minlength=n_d)
    delivered += np.bincount(cell_district[new_roads], minlength=n_d) * road_cell_soles
    intensity = np.clip(delivered / (per_district * reference), 0.0, 1.0)
    gains = (intensity[district] > 0) & ~member
    expected_trust = np.where(
        gains, np.minimum(trust + gain * intensity[district], 1.0), np.minimum(trust, 1.0)
    )
    delivery = np.zeros(n_d)
    columns = [np.zeros(n) for _ in range(7)]  # months, soil, fallow, coca, food, cacao, coffee
    at_signing_ha = np.zeros(n)
    spent = _advance_and_sign(
        rng.permutation(n).astype(np.int32),
        queued_stage,
        queued.size,
        district,
        np.full(n, Zone.LOW, dtype=np.int8),
        accepting,
        cell_district,
        new_roads,
        kind,
        stage,
        columns[0],
        in_programme,
        trust,
        agreement,
        value_at_signing,
        value,
        pays,
        coca_ha,
        at_signing_ha,
        *columns[1:],
        u,
        1e9,
        costs,
        True,
        0.1,
        0.5,
        1.0,
        p,
        factor,
        gain,
        per_district,
        road_cell_soles,
        reference,
        delivery,
    )
    assert spent == costs[queued_stage[queued]].sum()
    np.testing.assert_array_equal(stage, after)
    assert signs.sum() > 50 and gains.sum() > 500
    np.testing.assert_allclose(delivery, intensity)
    np.testing.assert_array_equal(agreement, (member & agreement) | signs | (~member & agreement))
    np.testing.assert_array_equal(value_at_signing[signs], value[signs])
    np.testing.assert_array_equal(at_signing_ha[signs], coca_ha[signs])
    np.testing.assert_array_equal(trust, expected_trust)
