"""Clans (clanes, family groups): docs/odd.md.

A clan controls a territory (the cells nearest its base), buys the leaf grown there at the
farm-gate price, processes it in labs (cocinas, maceration pits) and sells paste/base to the
cartels. Households that make paste themselves sell it through their clan for a smaller cut.
Clans pay for protection (Shining Path remnants) and bribes (plata before plomo), rebuild raided
labs elsewhere in their territory, and recruit teenage couriers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mesa import Agent

from vraem.economy import rationed_share
from vraem.jit import kernel, pairwise_sum, rule, unsigned, where


def clans_at_scale(n_clans_full: int, scale: float) -> int:
    """Clans in a valley of ``scale`` times the full valley's households (at least one)."""
    return max(1, round(n_clans_full * scale))


def labs_per_clan(sold_kg, labs_per_clan_full: int):
    """Labs of each clan: the valley's labs (clans x labs per clan) shared by leaf sold, at least one.

    Args:
        sold_kg: Leaf each clan's territory sells to it (kg/month).
        labs_per_clan_full: Mean labs per clan (``clan.labs_per_clan``).
    """
    sold_kg = np.asarray(sold_kg, dtype=float)
    n_labs = sold_kg.size * labs_per_clan_full
    share = sold_kg / sold_kg.sum() if sold_kg.sum() > 0 else np.full(sold_kg.size, 1.0 / sold_kg.size)
    return np.maximum(1, np.rint(share * n_labs)).astype(int)


def capacity_per_lab(sold_kg, labs, margin):
    """Leaf one lab of each clan can take a month (kg): the clan's leaf plus a margin, over its labs."""
    return margin * np.asarray(sold_kg, dtype=float) / np.maximum(labs, 1)


@rule
def affordable_share(bill_usd, cash_usd):
    """Share of a clan's purchase bill it can pay from cash (0-1): clans do not buy on credit."""
    return rationed_share(np.maximum(cash_usd, 0.0), bill_usd)


@rule
def expand_lab_capacity(capacity_per_lab, offered_per_lab, margin, rate):
    """Clans enlarge their kitchens toward the leaf on offer (with spare capacity); never shrink."""
    target = margin * offered_per_lab
    return where(
        target > capacity_per_lab, capacity_per_lab + rate * (target - capacity_per_lab), capacity_per_lab
    )


@rule
def lab_site_weight(police_reach, forest_ha):
    """How much a clan favours a cell for a lab: far from police reach, under forest cover."""
    return (1.0 - police_reach) * (forest_ha + 1.0)


@dataclass
class Labs:
    """Columns of lab state."""

    cell: np.ndarray
    clan: np.ndarray
    active: np.ndarray
    rebuild_in: np.ndarray
    """Months until a destroyed lab is rebuilt (<= 0 when active)."""


class Clan(Agent):
    """A family clan; its labs are rows of ``model.labs`` with ``clan == idx``."""

    def __init__(self, model, idx: int, base_cell: int) -> None:
        super().__init__(model)
        self.idx = idx
        self.base_cell = base_cell
        self.stock_kg = 0.0
        self.cash_usd = 0.0

    @property
    def active_labs(self) -> int:
        """Labs working this month."""
        labs = self.model.labs
        return int(np.count_nonzero(labs.active & (labs.clan == self.idx)))


def create_clans(model, rng: np.random.Generator) -> tuple[list[Clan], np.ndarray]:
    """Place clan bases on farmland and split the valley into their territories.

    The number of clans scales with the households (``clan.n_clans`` is the full valley's), so
    that a clan has the same households, leaf and labs at any scale (docs/model.md, scaling rule).
    """
    p, L = model.params, model.landscape
    farm = L.layer("farm_capacity_ha")
    n = min(clans_at_scale(p.clan.n_clans, p.scale), int(np.count_nonzero(farm)))
    bases = rng.choice(L.n_cells, size=n, replace=False, p=farm / farm.sum())
    bx, by = L.xy(bases)
    gx, gy = L.xy(np.arange(L.n_cells))
    territory = np.argmin((gx[:, None] - bx) ** 2 + (gy[:, None] - by) ** 2, axis=1).astype(np.int32)
    clans = [Clan(model, i, int(b)) for i, b in enumerate(bases)]
    return clans, territory


def build_labs(model, leaf_kg: np.ndarray, rng: np.random.Generator) -> Labs:
    """Give each clan labs in proportion to the leaf its territory sells, with spare capacity.

    Each clan's labs together can take its territory's opening leaf times
    ``clan.lab_capacity_margin``, at any scale (before, the capacity of one lab was computed from
    the valley's labs less the number of clans, which is zero below about 2,500 households: each
    lab could then process the whole valley's leaf and raids bit nothing).

    Args:
        model: The model.
        leaf_kg: Opening monthly harvest per household.
        rng: The clans' stream.
    """
    p, h = model.params, model.households
    cp = p.clan
    n_clans = len(model.clans)
    sold = np.bincount(h.clan, weights=np.where(h.processes_paste, 0.0, leaf_kg), minlength=n_clans)
    per_clan = labs_per_clan(sold, cp.labs_per_clan)
    lab_clan = np.repeat(np.arange(n_clans), per_clan)
    model.lab_capacity_kg_leaf = capacity_per_lab(sold, per_clan, cp.lab_capacity_margin)
    # Working capital: a few months of the opening purchases (leaf, household paste, processing).
    mp, prices = p.market, model.prices
    hh_base = np.bincount(h.clan, weights=np.where(h.processes_paste, leaf_kg, 0.0), minlength=n_clans)
    hh_base /= mp.leaf_kg_per_kg_base
    bill = (
        sold * prices.leaf_usd
        + hh_base * prices.paste_usd * (1.0 - cp.broker_margin)
        + sold / mp.leaf_kg_per_kg_base * mp.processing_usd_per_kg_base
    )
    model.clan_cash_usd[:] = cp.working_capital_months * bill
    u = rng.random(lab_clan.size)
    model.lab_site_cache = LabSites.of_territories(model.cell_clan, n_clans)
    lab_cell = pick_lab_cells(model, lab_clan, u)
    return Labs(
        cell=lab_cell,
        clan=lab_clan,
        active=np.ones(lab_clan.size, dtype=bool),
        rebuild_in=np.zeros(lab_clan.size),
    )


class LabSites:
    """Each clan's territory and the cumulative weights of its lab sites, cached per clan.

    A clan's weights (:func:`lab_site_weight`) are computed when it first needs a site and kept
    until :meth:`clear` (new roads change police reach).
    """

    def __init__(self, cells: np.ndarray, start: np.ndarray) -> None:
        self.cells = cells
        """Cells of every territory, clan by clan (clan ``c``'s are ``cells[start[c]:start[c + 1]]``)."""
        self.start = start
        self.cum_weight = np.zeros(cells.size)
        self.fresh = np.zeros(start.size - 1, dtype=bool)
        """Whether a clan's cached weights are in use."""

    @classmethod
    def of_territories(cls, territory: np.ndarray, n_clans: int) -> LabSites:
        """Sites of each clan: the cells of its territory, in increasing order."""
        cells = np.argsort(territory, kind="stable")
        start = np.concatenate(([0], np.cumsum(np.bincount(territory, minlength=n_clans))))
        return cls(cells.astype(np.intp), start.astype(np.intp))

    def clear(self) -> None:
        """Drop every clan's cached weights."""
        self.fresh[:] = False


def pick_lab_cells(model, clans: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A lab site for each of ``clans`` in its territory, favouring places the police reach least."""
    L, sites = model.landscape, model.lab_site_cache
    return _pick_cells(
        np.asarray(clans, dtype=np.intp),
        np.asarray(u, dtype=float),
        sites.cells,
        sites.start,
        sites.cum_weight,
        sites.fresh,
        L.layer("police_reach"),
        L.layer("forest_ha"),
    )


@kernel
def _pick_cell(clan, u, cells, start, cum_weight, fresh, police_reach, forest_ha):
    """One site of ``clan``: the cell where ``u`` falls in its cumulative weights (cached)."""
    lo, hi = start[clan], start[clan + 1]
    if not fresh[clan]:
        total = 0.0
        for j in range(lo, hi):
            total += lab_site_weight(police_reach[cells[j]], forest_ha[cells[j]])
            cum_weight[j] = total
        fresh[clan] = True
    # The first cell whose cumulative weight reaches u x the total (a left-sided search).
    x = u * cum_weight[hi - 1]
    a, b = lo, hi
    while a < b:
        mid = (a + b) // 2
        if cum_weight[mid] < x:
            a = mid + 1
        else:
            b = mid
    return cells[min(a, hi - 1)]


@kernel
def _pick_cells(clans, u, cells, start, cum_weight, fresh, police_reach, forest_ha):
    out = np.empty(clans.size, dtype=np.intp)
    for i in range(clans.size):
        out[i] = _pick_cell(clans[i], u[i], cells, start, cum_weight, fresh, police_reach, forest_ha)
    return out


def buy_and_process(model, leaf_kg: np.ndarray) -> None:
    """Clans buy leaf and household paste, run their labs, and pay the farmers.

    Households that make paste sell it through their clan at the paste price less the broker's
    margin and pay their own processing; the others sell leaf to their clan, up to its labs'
    capacity (:func:`vraem.economy.rationed_share`), which then grows toward the leaf on offer
    (:func:`expand_lab_capacity`). Clans pay for leaf, household paste and processing from cash;
    what they cannot pay for stays unsold (:func:`affordable_share`).

    Args:
        model: The model.
        leaf_kg: Leaf harvested by each household this month.
    """
    p, h, prices, f = model.params, model.households, model.prices, model.month_flows
    mp, cp = p.market, p.clan
    labs = model.labs
    (
        leaf_t,
        leaf_unsold_t,
        paste_unsold_t,
        paste_t,
        to_households,
        clan_processing,
        household_processing,
    ) = _buy_and_process(
        leaf_kg,
        h.processes_paste,
        h.clan,
        labs.clan,
        labs.active,
        model.lab_capacity_kg_leaf,
        model.clan_cash_usd,
        model.clan_stock_kg,
        h.coca_income,
        mp.leaf_kg_per_kg_base,
        mp.processing_usd_per_kg_base,
        prices.paste_usd,
        prices.leaf_usd,
        cp.broker_margin,
        cp.lab_capacity_margin,
        cp.lab_expansion_per_month,
    )
    f["leaf_t"] += leaf_t
    f["leaf_unsold_t"] += leaf_unsold_t
    f["paste_unsold_t"] += paste_unsold_t
    f["paste_t"] += paste_t
    f["usd_clans_to_households"] += to_households
    f["usd_clan_processing"] += clan_processing
    f["usd_household_processing"] += household_processing


@kernel
def _buy_and_process(
    leaf_kg,
    own,
    clan,
    lab_clan,
    lab_active,
    capacity_per_lab,
    cash_usd,
    stock_kg,
    coca_income,
    leaf_kg_per_kg_base,
    processing_usd_per_kg_base,
    paste_usd,
    leaf_usd,
    broker_margin,
    capacity_margin,
    expansion_per_month,
):
    """The clans' month of buying and processing (:func:`buy_and_process`); returns the flows.

    Only households that harvested leaf are visited after the first pass: the others sell and are
    paid nothing, and their zero terms would leave every sum as it is (in the second half of a run
    most households grow no coca).
    """
    n, n_clans = leaf_kg.size, cash_usd.size
    # Unsigned indices (jit.unsigned): no check for negative indices at each of the loops' many
    # indexings (a quarter of the kernel's time).
    clan, lab_clan = unsigned(clan), unsigned(lab_clan)
    sellers = np.empty(n, dtype=np.uint32)
    n_sellers = 0
    for i in range(n):  # no branch: a household with leaf moves n_sellers on
        sellers[n_sellers] = i
        n_sellers += leaf_kg[i] != 0.0
    sellers = sellers[:n_sellers]
    hh_base_kg = np.zeros(n)
    coca_income[:] = 0.0
    # Leaf offered and household paste to pay for, by clan, without a branch on the owners: they are
    # a mix, so a branch is mispredicted half the time. The division is made for every seller and
    # multiplied by 1 (owners) or 0 (others), which gives the same bits as a select for leaf >= 0;
    # the compiler turns a select around a division back into a branch.
    # The sellers of leaf (not paste) are listed on the way, for the rationing below.
    offered_by_clan = np.zeros(n_clans)
    paste_bill = np.zeros(n_clans)
    leaf_sellers = np.empty(n_sellers, dtype=np.uint32)
    n_leaf_sellers = 0
    for i in sellers:
        leaf = leaf_kg[i]
        owner = own[i]
        base_kg = leaf / leaf_kg_per_kg_base * np.float64(owner)
        hh_base_kg[i] = base_kg
        c = clan[i]
        offered_by_clan[c] += 0.0 if owner else leaf
        paste_bill[c] += base_kg * paste_usd * (1.0 - broker_margin)
        leaf_sellers[n_leaf_sellers] = i
        n_leaf_sellers += not owner
    # Leaf taken up to the active labs' capacity; then kitchens grow toward the leaf on offer.
    active_labs = np.zeros(n_clans)
    all_labs = np.zeros(n_clans)
    for j in range(lab_clan.size):
        all_labs[lab_clan[j]] += 1.0
        if lab_active[j]:
            active_labs[lab_clan[j]] += 1.0
    share = np.empty(n_clans)
    rationed = False
    for c in range(n_clans):
        share[c] = rationed_share(active_labs[c] * capacity_per_lab[c], offered_by_clan[c])
        rationed |= share[c] != 1.0
        capacity_per_lab[c] = expand_lab_capacity(
            capacity_per_lab[c],
            offered_by_clan[c] / max(all_labs[c], 1.0),
            capacity_margin,
            expansion_per_month,
        )
    # Clans pay for leaf, household paste and processing from cash; what they cannot pay for
    # stays unsold.
    leaf_taken = offered_by_clan.copy()
    if rationed:
        leaf_taken[:] = 0.0
        for i in leaf_sellers[:n_leaf_sellers]:  # the owners would add 0 (+0.0 leaves a sum as it was)
            leaf_taken[clan[i]] += leaf_kg[i] * share[clan[i]]
    pay_share = np.empty(n_clans)
    for c in range(n_clans):
        leaf_bill = leaf_taken[c] * (leaf_usd + processing_usd_per_kg_base / leaf_kg_per_kg_base)
        pay_share[c] = affordable_share(leaf_bill + paste_bill[c], cash_usd[c])
    sold_by_clan = np.zeros(n_clans)
    hh_base_by_clan = np.zeros(n_clans)
    paid_by_clan = np.zeros(n_clans)
    leaf_total = unsold_leaf = own_base = paid_total = hh_processing_total = 0.0
    for i in sellers:
        c = clan[i]
        leaf = leaf_kg[i]
        # Every seller takes both paths (zeros where they do not apply), as the array version
        # did: adding zeros leaves every sum as it was.
        offered = 0.0 if own[i] else leaf
        base_kg = hh_base_kg[i]
        paid_share = pay_share[c]  # read once: the stores below could alias it for the compiler
        paste_pay = base_kg * paste_usd * (1.0 - broker_margin) * paid_share
        hh_processing = base_kg * processing_usd_per_kg_base * paid_share
        hh_base = base_kg * paid_share
        hh_base_kg[i] = hh_base
        sold = offered * share[c] * paid_share
        leaf_pay = sold * leaf_usd
        coca_income[i] = leaf_pay + paste_pay - hh_processing
        leaf_total += leaf
        own_base += base_kg
        unsold_leaf += offered - sold
        hh_processing_total += hh_processing
        paid_total += leaf_pay + paste_pay
        sold_by_clan[c] += sold
        hh_base_by_clan[c] += hh_base
        paid_by_clan[c] += leaf_pay + paste_pay
    clan_base_kg = sold_by_clan / leaf_kg_per_kg_base
    clan_processing_total = 0.0
    for c in range(n_clans):
        clan_processing = clan_base_kg[c] * processing_usd_per_kg_base
        stock_kg[c] += clan_base_kg[c] + hh_base_by_clan[c]
        cash_usd[c] -= paid_by_clan[c] + clan_processing
        clan_processing_total += clan_processing
    # The paste made is next month's supply: summed as NumPy sums, bit for bit.
    hh_base_total = pairwise_sum(hh_base_kg)
    return (
        leaf_total / 1_000.0,
        unsold_leaf / 1_000.0,
        (own_base - hh_base_total) / 1_000.0,
        (pairwise_sum(clan_base_kg) + hh_base_total) / 1_000.0,
        paid_total,
        clan_processing_total,
        hh_processing_total,
    )


def sell_to_cartels(model, demand_kg: float) -> float:
    """Clans sell stock to the cartels, up to export demand; pays protection and bribes.

    Every clan sells the same share of its stock; protection (``clan.protection_share``) and
    bribes (``clan.bribe_share``) are shares of the revenue.

    Returns:
        Kilograms of paste/base sold.
    """
    p, prices, f = model.params, model.prices, model.month_flows
    cp = p.clan
    sold_total, revenue, protection, bribes = _sell(
        model.clan_stock_kg,
        model.clan_cash_usd,
        float(demand_kg),
        prices.paste_usd,
        cp.protection_share,
        cp.bribe_share,
    )
    f["usd_cartels_to_clans"] += revenue
    f["usd_protection"] += protection
    f["usd_bribes"] += bribes
    return sold_total


@kernel
def _sell(stock_kg, cash_usd, demand_kg, paste_usd, protection_share, bribe_share):
    """Sell each clan's share of the demand; returns (kg sold, revenue, protection, bribes) in all."""
    total = pairwise_sum(stock_kg)
    sold_total = min(total, demand_kg)
    n = stock_kg.size
    revenue, protection, bribes = np.zeros(n), np.zeros(n), np.zeros(n)
    for c in range(n):
        sold = stock_kg[c] * (sold_total / total) if total > 0 else 0.0
        revenue[c] = sold * paste_usd
        protection[c] = revenue[c] * protection_share
        bribes[c] = revenue[c] * bribe_share
        stock_kg[c] -= sold
        cash_usd[c] += revenue[c] - protection[c] - bribes[c]
    return sold_total, pairwise_sum(revenue), pairwise_sum(protection), pairwise_sum(bribes)


def rebuild_labs(model) -> None:
    """Destroyed labs come back after a delay, at a new site, when the clan can pay for them.

    A clan rebuilds as many of its ready labs (in the order of ``model.labs``) as its cash pays
    for, each at a site drawn like the first ones (:func:`pick_lab_cells`).
    """
    cp, labs, sites, L = model.params.clan, model.labs, model.lab_site_cache, model.landscape
    u = model.streams.labs.random(labs.cell.size)
    cost, rebuilt = _rebuild_labs(
        labs.clan,
        labs.cell,
        labs.active,
        labs.rebuild_in,
        u,
        model.clan_cash_usd,
        cp.lab_rebuild_cost_usd,
        sites.cells,
        sites.start,
        sites.cum_weight,
        sites.fresh,
        L.layer("police_reach"),
        L.layer("forest_ha"),
    )
    model.month_flows["usd_lab_rebuilding"] += cost
    model.month_flows["labs_rebuilt"] += rebuilt


@kernel
def _rebuild_labs(
    lab_clan,
    lab_cell,
    active,
    rebuild_in,
    u,
    cash_usd,
    cost_usd,
    cells,
    start,
    cum_weight,
    fresh,
    reach,
    forest,
):
    """Rebuild the ready labs each clan can pay for; returns (USD spent, labs rebuilt)."""
    n_clans = cash_usd.size
    afford = np.floor(np.maximum(cash_usd, 0.0) / max(cost_usd, 1e-9))
    ready_before = np.zeros(n_clans)
    rebuilt_by_clan = np.zeros(n_clans, dtype=np.int64)
    for i in range(lab_clan.size):
        if active[i]:
            continue
        rebuild_in[i] -= 1.0
        if rebuild_in[i] > 0:
            continue
        c = lab_clan[i]
        if ready_before[c] < afford[c]:
            lab_cell[i] = _pick_cell(c, u[i], cells, start, cum_weight, fresh, reach, forest)
            active[i] = True
            rebuilt_by_clan[c] += 1
        ready_before[c] += 1.0
    spent = 0.0
    for c in range(n_clans):
        cost = rebuilt_by_clan[c] * cost_usd
        cash_usd[c] -= cost
        spent += cost
    return spent, rebuilt_by_clan.sum()
