"""The compiled eradication plans against their definition written with NumPy sorts.

The kernels rank fields with a heap and stop once the capacity is used; the definition sorts every
field (a stable sort) and takes them in order. Both must give the same hectares, bit for bit: a
rounding difference in a plan is magnified month after month (the cut-off field gets capacity minus
a large sum) until it flips discrete choices.
"""

import numpy as np
import pytest

from vraem.agents.police import (
    _intelligence_plan,
    _rank_plots,
    allocate_eradication,
    district_blocks,
    intelligence_plan,
    intelligence_priority,
    live_plots,
)
from vraem.jit import pairwise_sum


def take_in_order(coca, priority, capacity_ha):
    """Fields in priority order (lowest first, ties by index) until the capacity is used."""
    fields = np.flatnonzero(coca > 0)
    order = fields[np.argsort(priority[fields], kind="stable")]
    sorted_coca = coca[order]
    before = np.cumsum(sorted_coca) - sorted_coca
    out = np.zeros_like(coca)
    out[order] = np.clip(capacity_ha - before, 0.0, sorted_coca)
    return out


def plan_by_district(plots, plot_district, trust, u, corruption, capacity_ha, n_districts):
    """The intelligence-led plan: capacity shared by coca x trust, then the densest plots first."""
    weight = np.bincount(plot_district, weights=plots, minlength=n_districts) * trust
    plan = np.zeros_like(plots)
    if weight.sum() <= 0:
        return plan
    share = capacity_ha * weight / weight.sum()
    priority = intelligence_priority(plots, u, corruption)
    for d in np.flatnonzero(share > 0):
        mine = np.flatnonzero(plot_district == d)
        plan[mine] = take_in_order(plots[mine], priority[mine], share[d])
    return plan


def fields(rng, n, ties):
    coca = np.where(rng.random(n) < 0.5, rng.random(n) * 3.0, 0.0)
    return np.round(coca, 1) if ties else coca


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("share_of_coca", [0.0, 1e-9, 0.01, 0.1, 0.5, 1.0, 2.0])
def test_allocation_matches_a_full_stable_sort(ties, share_of_coca):
    rng = np.random.default_rng(11)
    for n in (1, 7, 300, 5_000):
        coca = fields(rng, n, ties)
        priority = np.round(rng.random(n), 1) if ties else rng.random(n)
        capacity = share_of_coca * coca.sum()
        np.testing.assert_array_equal(
            allocate_eradication(coca, priority, capacity), take_in_order(coca, priority, capacity)
        )


def test_allocation_keeps_the_slivers_of_rounding():
    # The running total passes the capacity at the third field (0.4 + 0.7 + 0.1 > 1.2 in floating
    # point), yet the fourth field's "total before it" (4.1 - 2.9) rounds below 1.2: the definition
    # gives it a sliver of 2e-16 ha, and so must the kernel.
    coca = np.array([0.4, 0.7, 0.1, 2.9, 0.5])
    want = take_in_order(coca, np.arange(5.0), 1.2)
    assert 0 < want[3] < 1e-15
    np.testing.assert_array_equal(allocate_eradication(coca, np.arange(5.0), 1.2), want)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("share_of_coca", [1e-6, 0.03, 0.3, 1.5])
def test_intelligence_plan_matches_its_definition(ties, share_of_coca):
    rng = np.random.default_rng(5)
    n_districts = 15
    for n in (40, 4_000, 40_000):
        plots = fields(rng, n, ties)
        district = rng.integers(0, n_districts, n)
        trust = rng.random(n_districts) ** 8  # spread out, so that the order of a sum matters
        trust[3] = 0.0  # a district that gets no share
        u = rng.random(n)
        capacity = share_of_coca * plots.sum()
        got = intelligence_plan(plots, district, trust, u, 0.3, capacity, n_districts)
        want = plan_by_district(plots, district, trust, u, 0.3, capacity, n_districts)
        np.testing.assert_array_equal(got, want)
        assert got[district == 3].sum() == 0.0


def plan_within_reach(plots, district, trust, u, corruption, capacity_ha, n_districts, reach):
    """The kernels' plan when each district is ranked only up to last month's ``reach`` (updated)."""
    block = district_blocks(district, n_districts)
    live = live_plots(plots)
    coca_d, keys, idx, end = _rank_plots(plots, live, district, block, True, u, corruption, reach)
    plan = np.zeros_like(plots)
    taken = np.empty(live.size, dtype=np.uint32)
    n_taken = _intelligence_plan(
        plots, coca_d, keys, idx, block, end, trust, capacity_ha, plan, taken, reach, live, district, u,
        corruption,
    )  # fmt: skip
    assert n_taken == np.unique(taken[:n_taken]).size
    return plan


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("corruption", [0.0, 0.3])
def test_a_plan_ranked_up_to_last_months_reach_is_the_full_plan(ties, corruption):
    """Months whose capacity and coca change, so that a district's reach is sometimes too short."""
    rng = np.random.default_rng(7)
    n_districts, n = 15, 40_000
    district = rng.integers(0, n_districts, n)
    trust = rng.random(n_districts) ** 4
    reach = np.full(n_districts, np.inf)
    plots = fields(rng, n, ties)
    for share_of_coca in (0.03, 0.03, 0.1, 0.01, 0.02, 0.5, 0.03, 1.5, 0.03, 1e-6, 0.03):
        plots = plots * rng.uniform(0.7, 1.3, n)
        plots = np.round(plots, 1) if ties else plots
        u = rng.random(n)
        capacity = share_of_coca * plots.sum()
        got = plan_within_reach(plots, district, trust, u, corruption, capacity, n_districts, reach)
        want = plan_by_district(plots, district, trust, u, corruption, capacity, n_districts)
        np.testing.assert_array_equal(got, want)
        assert np.isfinite(reach).all()


def test_district_sums_add_in_numpys_order():
    rng = np.random.default_rng(2)
    for n in range(129):
        a = rng.random(n) * 10.0 ** rng.integers(-6, 6, n)
        assert pairwise_sum(a) == a.sum()
