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


def affordable_share(bill_usd, cash_usd):
    """Share of a clan's purchase bill it can pay from cash (0-1): clans do not buy on credit."""
    return rationed_share(np.maximum(cash_usd, 0.0), bill_usd)


def expand_lab_capacity(capacity_per_lab, offered_per_lab, margin, rate):
    """Clans enlarge their kitchens toward the leaf on offer (with spare capacity); never shrink."""
    target = margin * offered_per_lab
    return np.where(
        target > capacity_per_lab, capacity_per_lab + rate * (target - capacity_per_lab), capacity_per_lab
    )


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
    lab_cell = np.array([pick_lab_cell(model, model.cell_clan, c, u[i]) for i, c in enumerate(lab_clan)])
    return Labs(
        cell=lab_cell,
        clan=lab_clan,
        active=np.ones(lab_clan.size, dtype=bool),
        rebuild_in=np.zeros(lab_clan.size),
    )


def pick_lab_cell(model, territory: np.ndarray, clan: int, u: float) -> int:
    """A lab site in the clan's territory, favouring places the police reach least.

    Site weights are cached per clan and dropped when new roads change police reach.
    """
    cache = model.lab_site_cache
    if clan not in cache:
        L = model.landscape
        cells = np.flatnonzero(territory == clan)
        w = (1.0 - L.layer("police_reach")[cells]) * (L.layer("forest_ha")[cells] + 1.0)
        cache[clan] = (cells, np.cumsum(w))
    cells, cum = cache[clan]
    return int(cells[min(np.searchsorted(cum, u * cum[-1]), cells.size - 1)])


def buy_and_process(model, leaf_kg: np.ndarray) -> None:
    """Clans buy leaf and household paste, run their labs, and pay the farmers.

    Args:
        model: The model.
        leaf_kg: Leaf harvested by each household this month.
    """
    p, h, prices, f = model.params, model.households, model.prices, model.month_flows
    mp, cp = p.market, p.clan
    labs = model.labs
    own = h.processes_paste
    # Households making their own paste.
    hh_base_kg = np.where(own, leaf_kg / mp.leaf_kg_per_kg_base, 0.0)
    paste_pay = hh_base_kg * prices.paste_usd * (1.0 - cp.broker_margin)
    hh_processing = hh_base_kg * mp.processing_usd_per_kg_base
    # Leaf sold to clans, up to their labs' capacity.
    offered = np.where(own, 0.0, leaf_kg)
    n_clans = len(model.clans)
    offered_by_clan = np.bincount(h.clan, weights=offered, minlength=n_clans)
    active_by_clan = np.bincount(labs.clan[labs.active], minlength=n_clans)
    capacity = active_by_clan * model.lab_capacity_kg_leaf
    share = rationed_share(capacity, offered_by_clan)
    all_by_clan = np.maximum(np.bincount(labs.clan, minlength=n_clans), 1)
    model.lab_capacity_kg_leaf[:] = expand_lab_capacity(
        model.lab_capacity_kg_leaf,
        offered_by_clan / all_by_clan,
        cp.lab_capacity_margin,
        cp.lab_expansion_per_month,
    )
    # Clans pay for leaf, household paste and processing from cash; what they cannot pay for
    # stays unsold (before, cash could go negative without limit when exports fell).
    leaf_bill = np.bincount(h.clan, weights=offered * share[h.clan], minlength=n_clans) * (
        prices.leaf_usd + mp.processing_usd_per_kg_base / mp.leaf_kg_per_kg_base
    )
    paste_bill = np.bincount(h.clan, weights=paste_pay, minlength=n_clans)
    pay_share = affordable_share(leaf_bill + paste_bill, model.clan_cash_usd)[h.clan]
    sold = offered * share[h.clan] * pay_share
    hh_base_kg = hh_base_kg * pay_share
    paste_pay = paste_pay * pay_share
    hh_processing = hh_processing * pay_share
    leaf_pay = sold * prices.leaf_usd
    clan_base_kg = np.bincount(h.clan, weights=sold, minlength=n_clans) / mp.leaf_kg_per_kg_base
    hh_base_by_clan = np.bincount(h.clan, weights=hh_base_kg, minlength=n_clans)
    clan_processing = clan_base_kg * mp.processing_usd_per_kg_base

    h.coca_income[:] = leaf_pay + paste_pay - hh_processing
    model.clan_stock_kg += clan_base_kg + hh_base_by_clan
    model.clan_cash_usd -= (
        np.bincount(h.clan, weights=leaf_pay + paste_pay, minlength=n_clans) + clan_processing
    )
    f["leaf_t"] += float(leaf_kg.sum()) / 1_000.0
    f["leaf_unsold_t"] += float((offered - sold).sum()) / 1_000.0
    f["paste_unsold_t"] += (
        float(np.where(own, leaf_kg / mp.leaf_kg_per_kg_base, 0.0).sum() - hh_base_kg.sum()) / 1_000.0
    )
    f["paste_t"] += float(clan_base_kg.sum() + hh_base_kg.sum()) / 1_000.0
    f["usd_clans_to_households"] += float((leaf_pay + paste_pay).sum())
    f["usd_clan_processing"] += float(clan_processing.sum())
    f["usd_household_processing"] += float(hh_processing.sum())


def sell_to_cartels(model, demand_kg: float) -> float:
    """Clans sell stock to the cartels, up to export demand; pays protection and bribes.

    Returns:
        Kilograms of paste/base sold.
    """
    p, prices, f = model.params, model.prices, model.month_flows
    cp = p.clan
    stock = model.clan_stock_kg
    total = float(stock.sum())
    sold_total = min(total, demand_kg)
    sold = stock * (sold_total / total) if total > 0 else np.zeros_like(stock)
    revenue = sold * prices.paste_usd
    protection = revenue * cp.protection_share
    bribes = revenue * cp.bribe_share
    model.clan_stock_kg -= sold
    model.clan_cash_usd += revenue - protection - bribes
    f["usd_cartels_to_clans"] += float(revenue.sum())
    f["usd_protection"] += float(protection.sum())
    f["usd_bribes"] += float(bribes.sum())
    return sold_total


def rebuild_labs(model) -> None:
    """Destroyed labs come back after a delay, at a new site, when the clan can pay for them."""
    cp, labs = model.params.clan, model.labs
    u = model.streams.labs.random(labs.cell.size)
    labs.rebuild_in[~labs.active] -= 1.0
    ready = (~labs.active) & (labs.rebuild_in <= 0)
    # A clan rebuilds as many of its ready labs as its cash pays for.
    afford = np.floor(np.maximum(model.clan_cash_usd, 0.0) / max(cp.lab_rebuild_cost_usd, 1e-9))
    idx = np.flatnonzero(ready)
    rank = np.zeros(labs.cell.size)
    for c in np.unique(labs.clan[idx]):
        mine = idx[labs.clan[idx] == c]
        rank[mine] = np.arange(mine.size)
    ready &= rank < afford[labs.clan]
    for i in np.flatnonzero(ready):
        labs.cell[i] = pick_lab_cell(model, model.cell_clan, int(labs.clan[i]), float(u[i]))
    labs.active[ready] = True
    cost = np.bincount(labs.clan[ready], minlength=len(model.clans)) * cp.lab_rebuild_cost_usd
    model.clan_cash_usd -= cost
    model.month_flows["usd_lab_rebuilding"] += float(cost.sum())
    model.month_flows["labs_rebuilt"] += int(ready.sum())
