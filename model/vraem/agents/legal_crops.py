"""Farmers: legal prices at the farm gate, disease, altitude and legal crops (docs/odd.md, section 7.4).

Cacao and coffee pay their world price (observed yearly indices, then reverting to a long-run
level) passed through to the farm gate, lowered by a local glut (``mechanisms.local_market``) and
by a running epidemic (moniliasis, coffee rust; ``mechanisms.crop_disease``). A household's
altitude decides which perennial it can grow: cacao low, coffee up to the coffee belt, food crops
only above. Land pulled out of coca goes to the legal crop that pays more, and households plant
the perennial on their own fallow when its price rises (or, with a title, on credit).
"""

from __future__ import annotations

import numpy as np

from vraem.agents.farmer import ProgrammeStage, Zone
from vraem.economy import legal_net_usd_per_ha_year
from vraem.jit import clip, maximum, minimum, rule, where


@rule
def programme_yield_factor(stage, yield_bonus):
    """Legal yields relative to a farmer's own: the programme's support raises them at ``PERENNIAL``."""
    return where(stage >= ProgrammeStage.PERENNIAL, 1.0 + yield_bonus, 1.0)


def price_index(path, month: int) -> float:
    """A yearly price index in force in ``month`` (year 1 = months 0-11; the last year holds)."""
    if not path:
        return 1.0
    return float(path[min(month // 12, len(path) - 1)])


@rule
def reverting_index(last, long_run, rate_per_year, years_after):
    """A world price index ``years_after`` years after its observed series ends, 2013 = 1.

    The gap between the last observed year and the long-run level closes at ``rate_per_year``
    (exponentially): the 2024 cacao spike fades rather than holding for ever
    (``crops.world_price_reversion_per_year``, ``crops.cacao_long_run_index``; docs/odd.md 7.4).
    """
    return long_run + (last - long_run) * np.exp(-rate_per_year * years_after)


def world_price_index(path, month: int, long_run: float, rate_per_year: float) -> float:
    """A world price index in force in ``month`` (2013 = 1).

    The observed yearly ``path``, then :func:`reverting_index` year by year after it.
    """
    if not path:
        return 1.0
    year, last = month // 12, len(path) - 1
    if year <= last:
        return float(path[year])
    return float(reverting_index(path[last], long_run, rate_per_year, year - last))


def world_price_indices(model) -> tuple[float, float]:
    """The world price indices of cacao and coffee in force this month (2013 = 1)."""
    cp, month = model.params.crops, model.month
    rate = cp.world_price_reversion_per_year
    return (
        world_price_index(cp.cacao_price_index_by_year, month, cp.cacao_long_run_index, rate),
        world_price_index(cp.coffee_price_index_by_year, month, cp.coffee_long_run_index, rate),
    )


def farm_gate_indices(model) -> tuple[float, float]:
    """Farm-gate prices of cacao and coffee relative to their 2013 level at the world price.

    The world index times the local glut factor (:func:`vraem.economy.local_price_factor`).
    """
    cacao, coffee = world_price_indices(model)
    return cacao * model.prices.cacao_local, coffee * model.prices.coffee_local


def crop_revenues(model) -> tuple[float, float, float]:
    """Revenue per ha per year of cacao, coffee and food this month, USD, at the farm gate.

    Cacao: yield x ICCO world price x pass-through (``crops.cacao_pass_through``); coffee: the 2013
    farm-gate revenue per ha (already net of the traders' share); both follow their world price
    (observed, then reverting to a long-run level), lowered by a local glut
    (``mechanisms.local_market``) and by a running epidemic (``mechanisms.crop_disease``,
    :func:`outbreak_revenue_factor`). docs/odd.md, section 7.4.
    """
    cp = model.params.crops
    sick = model.outbreak_months_left > 0
    # Five phases of a month ask for them: worked out once for the month and what they depend on.
    key = (model.month, model.prices.cacao_local, model.prices.coffee_local, bool(sick[0]), bool(sick[1]))
    cached = getattr(model, "_crop_revenues", None)
    if cached is not None and cached[0] is cp and cached[1] == key:
        return cached[2]
    cacao_index, coffee_index = farm_gate_indices(model)
    cacao = (
        cp.cacao_kg_per_ha_year
        * cp.cacao_world_usd_per_kg
        * cp.cacao_pass_through
        * cacao_index
        * outbreak_revenue_factor(sick[0], cp.outbreak_harvest_loss)
    )
    coffee_loss = outbreak_revenue_factor(sick[1], cp.outbreak_harvest_loss)
    coffee = cp.coffee_usd_per_ha_year * coffee_index * coffee_loss
    revenues = float(cacao), float(coffee), cp.food_usd_per_ha_year
    model._crop_revenues = cp, key, revenues
    return revenues


@rule
def outbreak_revenue_factor(running, harvest_loss):
    """Share of a crop's harvest left while an epidemic runs (moniliasis, coffee rust), 0-1."""
    return where(running, 1.0 - harvest_loss, 1.0)


@rule
def outbreak_starts(u, per_year, running):
    """Whether an epidemic of a crop starts this month.

    A monthly hazard of ``per_year`` / 12 when none is running (uniform draw ``u`` from the
    ``disease`` stream).
    """
    return where(running, False, u < per_year / 12.0)


def spread_disease(model) -> None:
    """Epidemics of the legal crops this month (``mechanisms.crop_disease``).

    Each month draws one uniform per crop (cacao, coffee) from the ``disease`` stream, so the
    draws do not depend on the valley's size; an epidemic starts by :func:`outbreak_starts`, runs
    ``crops.outbreak_months`` months (its harvest loss enters :func:`crop_revenues`), and at its
    start kills ``crops.outbreak_plants_lost`` of the crop's mature plants, whose land goes to
    fallow. docs/odd.md, section 7.4.
    """
    cp, h = model.params.crops, model.households
    u = model.streams.disease.random(2)
    left = model.outbreak_months_left
    left[:] = np.maximum(left - 1, 0)
    if not model.params.mechanisms.crop_disease:
        return
    starts = outbreak_starts(u, np.array([cp.cacao_outbreak_per_year, cp.coffee_outbreak_per_year]), left > 0)
    for k, mature_ha in enumerate((h.cacao_mature, h.coffee_mature)):
        if starts[k]:
            left[k] = cp.outbreak_months
            lost = mature_ha * cp.outbreak_plants_lost
            mature_ha -= lost
            h.fallow += lost
            model.month_flows["legal_lost_to_disease_ha"] += float(lost.sum())


@rule
def perennial_usd(elevation_m, cacao_below_m, coffee_max_m, cacao_usd, coffee_usd):
    """Revenue per ha per year of the perennial a cell's altitude allows, USD (0: none).

    Cacao below ``programme.cacao_below_m``, coffee up to ``crops.coffee_max_m``, neither above
    (only food crops): not every household can grow cacao or coffee (docs/odd.md, section 7.4).
    """
    return where(elevation_m < cacao_below_m, cacao_usd, where(elevation_m < coffee_max_m, coffee_usd, 0.0))


@rule
def best_legal_usd(perennial_usd_per_ha, food_usd, yield_factor):
    """Revenue per ha per year of a household's best legal crop, USD.

    Food or the perennial its altitude allows (with the programme's yield factor).
    """
    return maximum(food_usd, yield_factor * perennial_usd_per_ha)


def best_legal_revenue(model) -> np.ndarray:
    """Revenue of each household's best legal crop, USD/ha/yr (rule :func:`best_legal_usd`).

    At this month's farm-gate prices, among the crops its cell's altitude allows, with programme
    support.
    """
    p, h, L = model.params, model.households, model.landscape
    cacao, coffee, food = crop_revenues(model)
    perennial = perennial_usd(
        L.layer("elevation_m")[h.cell], p.programme.cacao_below_m, p.crops.coffee_max_m, cacao, coffee
    )
    return best_legal_usd(perennial, food, programme_yield_factor(h.stage, p.crops.programme_yield_bonus))


@rule
def zone_crops(zone, cacao_usd, coffee_usd, food_usd):
    """Which legal crop a hectare goes to in an altitude zone: (cacao, coffee, food), each 0 or 1.

    The zone's perennial (cacao low, coffee in the middle) where it pays at least as much as food
    crops per hectare, else food; the high zone grows food only (``zone``: a
    :class:`vraem.agents.farmer.Zone`).
    """
    cacao = where((zone == Zone.LOW) & (cacao_usd >= food_usd), 1.0, 0.0)
    coffee = where((zone == Zone.MID) & (coffee_usd >= food_usd), 1.0, 0.0)
    return cacao, coffee, 1.0 - cacao - coffee


def perennials_by_altitude(model) -> None:
    """Move each household's initial cacao and coffee to the perennial its altitude allows.

    The opening farms hold both (``create_households``); cacao grows only below
    ``programme.cacao_below_m`` and coffee only up to ``crops.coffee_max_m``; above it the
    perennial land holds food crops (rule :func:`perennial_usd`).
    """
    p, h, L = model.params, model.households, model.landscape
    elevation = L.layer("elevation_m")[h.cell]
    low = elevation < p.programme.cacao_below_m
    mid = ~low & (elevation < p.crops.coffee_max_m)
    for stock in ("young", "mature"):
        cacao, coffee = getattr(h, f"cacao_{stock}"), getattr(h, f"coffee_{stock}")
        food = getattr(h, f"food_{stock}")
        total = cacao + coffee
        cacao[:] = np.where(low, total, 0.0)
        coffee[:] = np.where(mid, total, 0.0)
        food += np.where(low | mid, 0.0, total)


@rule
def own_legal_planting(fallow_ha, rate_ha, price_index_now, titled, title_boost, pays):
    """Perennials a household plants on its own fallow this month, ha.

    Families extend cacao or coffee when its price rises above its 2013 level (in proportion to
    the rise, up to the labour rate at a doubling), and titled families also at 2013 prices, with
    credit (seed interview: a title lets farmers borrow money). Only where the crop pays.
    """
    drive = clip(price_index_now - 1.0, 0.0, 1.0) + where(titled, title_boost, 0.0)
    return where(pays, minimum(fallow_ha, rate_ha * drive), 0.0)


@rule
def plant_legal_crops(
    pulled_ha,
    fallow_ha,
    low,
    fertility,
    access,
    stage,
    cacao_usd,
    coffee_usd,
    food_usd,
    cacao_index,
    coffee_index,
    legal_cost_share,
    min_net_usd,
    expand_ha,
    title_boost,
    perennial_ok=True,
):
    """Farmers choose legal crops themselves: land pulled out of coca and some fallow.

    A household's perennial is cacao in the low valley (``low``), coffee above up to the coffee
    belt's top, and none higher (``perennial_ok`` false: rule :func:`perennial_usd`); land pulled out
    of coca goes to whichever of that perennial and food crops pays more per hectare net (at this
    month's farm-gate prices, revenues per ha per year and price indices as given), or stays fallow
    when neither reaches ``min_net_usd`` (``crops.legal_min_net_usd_per_ha_year``); fallow is
    planted by :func:`own_legal_planting`. docs/odd.md, section 7.4.

    Returns:
        The household's fallow after planting, and the young cacao, coffee and food planted, the
        pulled-out coca land that went to a legal crop and the fallow planted (all ha).
    """
    perennial_net = legal_net_usd_per_ha_year(
        where(low, cacao_usd, where(perennial_ok, coffee_usd, 0.0)), fertility, access, legal_cost_share
    )
    food_net = legal_net_usd_per_ha_year(food_usd, fertility, access, legal_cost_share)
    perennial_better = perennial_ok & (perennial_net >= food_net)
    pays = maximum(perennial_net, food_net) >= min_net_usd
    to_legal = where(pays, pulled_ha, 0.0)
    fallow = fallow_ha + (pulled_ha - to_legal)
    own = own_legal_planting(
        fallow,
        expand_ha,
        where(low, cacao_index, coffee_index),
        stage >= ProgrammeStage.TITLE,
        title_boost,
        perennial_ok & (perennial_net >= min_net_usd),
    )
    perennial = where(perennial_better, to_legal, 0.0) + own
    return (
        fallow - own,
        where(low, perennial, 0.0),
        where(low, 0.0, perennial),
        where(perennial_better, 0.0, to_legal),
        to_legal,
        own,
    )
