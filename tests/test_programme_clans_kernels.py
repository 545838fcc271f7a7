"""The compiled phases of the programme, clans and cartels keep the array code's results."""

import numpy as np
import pytest

from vraem import economy
from vraem.agents import cartel, clan
from vraem.jit import pairwise_sum
from vraem.programme import _HAZARD_MARGIN, defection_probability, hazard_probability
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel


@pytest.fixture(scope="module")
def model():
    """A valley with several clans (3,000 households), a year in."""
    sc = load_scenario("integrated", {"farmer.n_households": 3_000, "months": 12})
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=4, months=12)
    m.run()
    assert len(m.clans) > 2
    return m


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


def test_signers_above_their_hazard_cannot_defect():
    """spend sends to NumPy's exp only the signers whose draw is below hazard + margin."""
    h = np.concatenate([np.logspace(-14, 1, 20_000), -np.logspace(-14, 1, 2_000), [0.0]])
    assert np.all(hazard_probability(h) <= h + _HAZARD_MARGIN)
    p = defection_probability(
        0.006, np.array([1.0, 3.0]), 1.0, np.array([False, True]), 30.0, True, 0.8, 0.5, 0.9
    )
    assert np.all((p > 0) & (p < 0.01))


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
    if tie:  # two couriers share the draw at the cut: NumPy's sort decides, in Python
        order = couriers[np.argsort(u[couriers])]
        u[order[3]] = u[order[2]]
    done = cartel._worry(worry, couriers, u, 0.1, 3)
    assert done is not tie
    if done:
        expected = couriers[np.argsort(u[couriers])[:3]]
        assert np.flatnonzero(worry == 1.0).tolist() == sorted(expected.tolist())


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
    """A valley with several clans (3,000 households), a year in."""
    sc = load_scenario("integrated", {"farmer.n_households": 3_000, "months": 12})
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=4, months=12)
    m.run()
    assert len(m.clans) > 2
    return m


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
