"""Prices and money along the leaf -> paste/base -> export chain, as pure functions.

docs/odd.md. Paste/base prices respond to the balance of export demand (an exogenous
scenario input, so a boom or a crash like 2021's can be replayed) and the valley's supply, and
fall when interdiction makes exporting costlier (cartels pass losses down the chain). The
farm-gate leaf price is what clans can pay for leaf: the paste value of a kilogram of leaf minus
processing cost, less the clan's margin (docs/odd.md).
"""

from __future__ import annotations

import numpy as np

from vraem.jit import clip, rule, where


def export_demand_t_per_month(
    base_t: float,
    growth_per_year: float,
    growth_years: float,
    month: int,
    path: tuple[float, ...] = (),
    index: tuple[float, ...] = (),
) -> float:
    """Export demand for VRAEM base in a month, t/month.

    ``base_t`` is the valley's production in the first month (the market starts in balance,
    assumption). Demand then follows, in order of precedence:

    - a ``path`` of yearly growth rates (a scenario's replay), year by year (compounded monthly),
      holding after its last year;
    - an ``index`` of yearly levels relative to the first year (the observed series of world
      cocaine use, ``market.export_demand_index_by_year``), interpolated month by month, then
      ``growth_per_year`` for ``growth_years`` after its last year, then holding;
    - with neither, ``growth_per_year`` from the first month for ``growth_years``, then holding.
    """
    years = month / 12.0
    if path:
        level = 1.0
        for i, g in enumerate(path):
            level *= (1.0 + g) ** min(max(years - i, 0.0), 1.0)
        return base_t * level
    if index:
        last = len(index) - 1
        if years < last:
            i = int(years)
            level = index[i] + (index[i + 1] - index[i]) * (years - i)
        else:
            level = index[last] * (1.0 + growth_per_year) ** min(years - last, growth_years)
        return base_t * level / index[0]
    return base_t * (1.0 + growth_per_year) ** min(years, growth_years)


def calendar_month(start_year: int, month: int) -> str:
    """The calendar month of model month ``month`` as ``YYYY-MM`` (month 0 = January of ``start_year``)."""
    return f"{start_year + month // 12}-{month % 12 + 1:02d}"


def paste_price_usd_per_kg(
    reference_usd: float,
    demand_t: float,
    supply_t: float,
    flexibility: float,
    loss_share: float,
    pass_through: float,
    min_usd: float,
    max_usd: float,
    substitution: float = 0.0,
) -> float:
    """Price cartels pay for paste/base, USD/kg.

    Iso-elastic in the demand/supply ratio around the reference price (press: US$800-900/kg),
    reduced by the share of exports lost to interdiction times the pass-through, and kept within
    the prices at which the farm-gate leaf price reaches the lowest and highest prices on record
    (:func:`paste_price_bounds_usd_per_kg`). When demand exceeds supply, buyers turn to other
    valleys and Bolivia as VRAEM base grows dear: demand for it falls with elasticity
    ``substitution`` (:func:`demand_after_substitution`), so the price that clears the market is
    the iso-elastic one with the exponent ``flexibility / (1 + substitution x flexibility)``.
    """
    ratio = demand_t / max(supply_t, 1e-9)
    exponent = flexibility / (1.0 + substitution * flexibility) if ratio > 1.0 else flexibility
    price = reference_usd * ratio**exponent * max(1.0 - pass_through * loss_share, 0.0)
    return float(min(max(price, min_usd), max_usd))


def demand_after_substitution(
    demand_t: float, supply_t: float, flexibility: float, substitution: float
) -> float:
    """Export demand for VRAEM base once buyers have turned to other origins, t/month.

    Above supply, demand falls with the valley's price, ``D' = D (P/P_0)^(-substitution)``; with
    ``P/P_0 = (D'/S)^flexibility`` (:func:`paste_price_usd_per_kg`) that is
    ``D' = S (D/S)^(1 / (1 + substitution x flexibility))``. At or below supply, demand is what
    buyers carry out (``market.export_demand_substitution``; docs/odd.md, section 7.1).
    """
    if demand_t <= supply_t or supply_t <= 0.0:
        return demand_t
    return supply_t * (demand_t / supply_t) ** (1.0 / (1.0 + substitution * flexibility))


def paste_price_bounds_usd_per_kg(
    leaf_min_usd, leaf_max_usd, processing_usd_per_kg, leaf_kg_per_kg_base, clan_margin
) -> tuple[float, float]:
    """Paste/base prices at which the farm-gate leaf price equals the observed extremes, USD/kg.

    The inverse of :func:`farm_gate_leaf_price_usd_per_kg`: bounds from data (the 2021 trough and
    UNODC's highest annual mean) rather than a ratio chosen for convenience. The April 2020 VRAEM
    crash (S/11.2 to S/4.2 per kg, -62% in three months) lies inside them.
    """

    def paste_for(leaf):
        return leaf / (1.0 - clan_margin) * leaf_kg_per_kg_base + processing_usd_per_kg

    return paste_for(leaf_min_usd), paste_for(leaf_max_usd)


def farm_gate_leaf_price_usd_per_kg(
    paste_usd_per_kg: float,
    processing_usd_per_kg: float,
    leaf_kg_per_kg_base: float,
    clan_margin: float,
) -> float:
    """What clans pay for a kilogram of leaf, USD/kg.

    With paste at US$850 the default gives about US$2.3/kg, inside UNODC's US$2.2-4.3 range
    (2003-2013).
    """
    value = (paste_usd_per_kg - processing_usd_per_kg) / leaf_kg_per_kg_base
    return max(value * (1.0 - clan_margin), 0.0)


def own_paste_value_usd_per_kg_leaf(
    paste_usd_per_kg: float, processing_usd_per_kg: float, leaf_kg_per_kg_base: float
) -> float:
    """Value of a kilogram of leaf to a household that makes paste itself, USD/kg leaf.

    Households that process keep the clan's margin (seed interview: the margin is why they do).
    """
    return max(paste_usd_per_kg - processing_usd_per_kg, 0.0) / leaf_kg_per_kg_base


@rule
def coca_net_usd_per_ha_year(
    leaf_value_usd_per_kg, leaf_kg_per_ha_year, fertility, cost_share, risk, risk_weight, moral_cost
):
    """Expected net income of a hectare of coca, USD/ha/yr.

    Revenue is value x yield x fertility; costs are a share of revenue; the expected loss from
    eradication is the perceived yearly risk times revenue; the moral cost depends on the
    household's type (Colombian field experiment). Works on scalars and arrays alike.
    """
    revenue = leaf_value_usd_per_kg * leaf_kg_per_ha_year * fertility
    return revenue * (1.0 - cost_share) - risk_weight * risk * revenue - moral_cost


@rule
def legal_net_usd_per_ha_year(revenue_usd_per_ha_year, fertility, market_access, cost_share):
    """Expected net income of a hectare of the best legal crop, USD/ha/yr.

    Legal crops must reach a market: revenue scales with road access (docs/odd.md).
    """
    return revenue_usd_per_ha_year * fertility * market_access * (1.0 - cost_share)


@rule
def local_price_factor(supply_ha, reference_ha, flexibility):
    """Farm-gate price of a legal crop relative to the world price passed through, 0-1.

    Iso-elastic in the valley's own production (mature hectares) relative to the first month's:
    a local glut lowers the price the valley's few buyers pay (press 2023: about US$2/kg for
    cacao at the VRAEM farm gate when the world price was above US$3); scarcity does not raise it
    above the world price passed through (the buyers' other sources). No crop at the start means
    no reference, and no local effect. ``crops.local_price_flexibility``; docs/odd.md, section 7.4.
    """
    ratio = where(reference_ha > 0.0, supply_ha / where(reference_ha > 0.0, reference_ha, 1.0), 1.0)
    return clip(where(ratio > 0.0, ratio, 1.0) ** -flexibility, 0.0, 1.0)


@rule
def rationed_share(available, asked):
    """Share of what was asked that can be granted when ``available`` is shared out (0-1).

    Used wherever many ask for one limited stock: forest to clear in a cell, lab capacity in a
    clan's territory. Nothing asked means nothing rationed (share 1).
    """
    available = np.maximum(available, 0.0)
    return where(asked > available, clip(available / where(asked > 0, asked, 1.0), 0.0, 1.0), 1.0)


def seizure_share(seized_t: float, shipped_t: float) -> float:
    """Share of what left the valley that interdiction seized (0-1).

    ``shipped_t`` is everything the cartels sent out, seized loads included, and ``seized_t`` the
    part seized on the way (forced landings, arrested couriers); seizures in raided labs are the
    clans' loss, not the cartels', and do not enter.
    """
    return float(min(max(seized_t / shipped_t, 0.0), 1.0)) if shipped_t > 0 else 0.0


# ---------------------------------------------------------------------------------------------
# The market phase


class Prices:
    """Prices in force this month (USD/kg) and the export demand (t/month).

    ``cacao_local`` and ``coffee_local`` are the legal crops' :func:`local_price_factor` this month
    (1 with ``mechanisms.local_market`` off), against the valley's mature hectares of each in the
    first month (``legal_reference_ha``, set by the first :func:`update_market`).
    """

    __slots__ = (
        "cacao_local",
        "coffee_local",
        "demand_t",
        "leaf_usd",
        "legal_reference_ha",
        "own_paste_leaf_usd",
        "paste_usd",
        "seizure_share",
    )

    def __init__(self, paste_usd: float, market, broker_margin: float) -> None:
        self.demand_t = 0.0
        self.seizure_share = 0.0
        self.cacao_local = self.coffee_local = 1.0
        self.legal_reference_ha: tuple[float, float] | None = None
        self.set_paste(paste_usd, market, broker_margin)

    def set_paste(self, paste_usd: float, market, broker_margin: float) -> None:
        """Set the paste price and derive the farm-gate leaf values from it."""
        self.paste_usd = paste_usd
        self.leaf_usd = farm_gate_leaf_price_usd_per_kg(
            paste_usd,
            market.processing_usd_per_kg_base,
            market.leaf_kg_per_kg_base,
            market.clan_margin,
        )
        self.own_paste_leaf_usd = own_paste_value_usd_per_kg_leaf(
            paste_usd * (1.0 - broker_margin), market.processing_usd_per_kg_base, market.leaf_kg_per_kg_base
        )


def update_market(model, supply_t: float, seized_t: float, shipped_t: float) -> None:
    """Set this month's demand and prices from last month's supply and seizures.

    ``seized_t`` is last month's seizures in transit and ``shipped_t`` last month's shipments,
    which already include them (counting them again understated the share).
    """
    p = model.params
    mp = p.market
    prices = model.prices
    prices.demand_t = (
        export_demand_t_per_month(
            model.base_demand_t,
            mp.export_demand_growth_per_year,
            mp.export_demand_growth_years,
            model.month,
            mp.export_demand_growth_by_year,
            mp.export_demand_index_by_year,
        )
        * mp.export_demand_shock_by_month.get(model.month, 1.0)
        * mp.export_demand_shock_by_date.get(calendar_month(model.start_year, model.month), 1.0)
    )
    prices.seizure_share = seizure_share(seized_t, shipped_t)
    demand_t = prices.demand_t
    prices.demand_t = demand_after_substitution(
        demand_t, supply_t, mp.price_flexibility, mp.export_demand_substitution
    )
    paste = paste_price_usd_per_kg(
        mp.paste_price_usd_per_kg,
        demand_t,
        supply_t,
        mp.price_flexibility,
        prices.seizure_share,
        mp.interdiction_pass_through,
        *paste_price_bounds_usd_per_kg(
            mp.leaf_price_min_usd_per_kg,
            mp.leaf_price_max_usd_per_kg,
            mp.processing_usd_per_kg_base,
            mp.leaf_kg_per_kg_base,
            mp.clan_margin,
        ),
        mp.export_demand_substitution,
    )
    prices.set_paste(paste, mp, p.clan.broker_margin)
    update_legal_market(model)


def update_legal_market(model) -> None:
    """The legal crops' local price factors this month (rule :func:`local_price_factor`).

    The valley's mature cacao and coffee against the first month's; with
    ``mechanisms.local_market`` off both factors stay 1 (farm gate = world price x pass-through).
    """
    h, prices = model.households, model.prices
    supply = (float(h.cacao_mature.sum()), float(h.coffee_mature.sum()))
    if prices.legal_reference_ha is None:
        prices.legal_reference_ha = supply
    if not model.params.mechanisms.local_market:
        return
    # Both crops in one call of the rule on two-element arrays: half the NumPy calls of two scalar
    # calls, and the same NumPy power (its vectorized form, not libm's) element by element.
    flex = model.params.crops.local_price_flexibility
    factors = local_price_factor(np.array(supply), np.array(prices.legal_reference_ha), flex)
    prices.cacao_local, prices.coffee_local = float(factors[0]), float(factors[1])
