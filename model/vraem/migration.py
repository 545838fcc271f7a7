"""Migration: an open valley, with settlers, refugees, leavers and hired labour (docs/odd.md, 7.16).

With ``mechanisms.open_valley`` on, the valley's people change every month, before the market:

- **Settlers and refugees arrive.** Settlers come when a hectare of coca pays more than the outside
  wage (press and DEVIDA: coca in native-community land and protected areas, about 10,000 ha in
  2020 and 18,700 ha in 2022); coffee-rust and low-price refugees come from neighbouring regions
  when the world coffee price falls below its 2013 level (issue 16). Both settle on forest away
  from roads, clear a small food plot and then open coca in the forest like any household.
- **Households leave** with a hazard that rises as their income falls short of the outside wage.
- **Hired labour** (harvesters) is a valley-wide supply relative to normal: it left in April 2020 at
  the national lockdown and returns gradually; it limits how much mature coca is harvested and how
  fast coca is planted (:func:`vraem.agents.harvest.harvested_share`).

Households are rows of :class:`vraem.agents.farmer.Households`: arrivals append rows, leavers'
rows are dropped, and everything that holds household indices between months is renewed
(:func:`renew_household_indices`). Rates are per resident household, so the valley grows and
shrinks by the same shares at every scale (docs/odd.md, section 2.3).
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from vraem.agents.expectations import annual_risk, leaf_value
from vraem.agents.farmer import Households, HouseholdType, altitude_zone, draw_remote_fields
from vraem.agents.legal_crops import price_index
from vraem.economy import rationed_share
from vraem.jit import clip, rule, where


@rule
def settler_income_ratio(leaf_usd, leaf_kg_per_ha_year, coca_cost_share, coca_ha, wage_usd):
    """Net coca income of a settler family over the outside wage (1: coca pays the wage).

    A family tending ``coca_ha`` hectares at the leaf value and yield of the valley, net of the
    costs of growing it (``farmer.coca_cost_share``), per month.
    """
    return leaf_usd * leaf_kg_per_ha_year * (1.0 - coca_cost_share) * coca_ha / 12.0 / wage_usd


@rule
def arrivals_per_household_month(income_ratio, settler_rate, max_ratio, coffee_index, refugee_rate):
    """Households arriving this month per resident household.

    Settlers: ``settler_rate`` a year for each wage that coca pays above the outside wage (the pull;
    nothing below it, saturating at ``max_ratio``); refugees: ``refugee_rate`` a year per unit fall
    of the world coffee price below its 2013 level (the push from neighbouring coffee regions).
    """
    pull = settler_rate * clip(income_ratio - 1.0, 0.0, max_ratio - 1.0)
    push = refugee_rate * clip(1.0 - coffee_index, 0.0, 1.0)
    return (pull + push) / 12.0


@rule
def leave_probability(income_usd, wage_usd, leave_rate_per_year):
    """Chance that a household leaves the valley this month.

    ``leave_rate_per_year`` for a household with no income, in proportion to the share of the
    outside wage its last month's income falls short of; none at or above the wage.
    """
    return leave_rate_per_year / 12.0 * clip(1.0 - income_usd / wage_usd, 0.0, 1.0)


@rule
def labour_after_month(labour, return_rate, exodus_share, shock):
    """The valley's hired labour relative to normal after a month (1 = normal).

    Labour that left comes back at ``return_rate`` a month; in a shock month (the April 2020
    lockdown) ``exodus_share`` of what is there leaves.
    """
    back = labour + return_rate * (1.0 - labour)
    return where(shock, back * (1.0 - exodus_share), back)


def migrate(model) -> None:
    """The month's migration phase: labour, leavers, then settlers and refugees (module docstring).

    Labour moves every month; households leave and arrive every ``valley.migration_interval_months``
    (that many months' rates at once): rebuilding the household columns monthly would cost the
    core about a quarter of its speed (measured at 20,000 households: a closed valley 0.41 s for
    five years, open 0.46 s with yearly moves, 0.55 s with quarterly ones).

    Does nothing when ``mechanisms.open_valley`` is off (the closed valley of earlier versions).
    """
    p = model.params
    if not p.mechanisms.open_valley:
        return
    vp, fp = p.valley, p.farmer
    rng = model.streams.migration
    h = model.households
    shock = (
        model.start_year + model.month // 12 == vp.lockdown_year and model.month % 12 + 1 == vp.lockdown_month
    )
    model.labour_supply = float(
        labour_after_month(model.labour_supply, vp.labour_return_per_month, vp.lockdown_exodus_share, shock)
    )
    every = vp.migration_interval_months
    if model.month % every != 0:
        return

    p_leave = leave_probability(h.income, vp.outside_wage_usd_per_month, vp.leave_rate_per_year)
    leave = rng.random(h.n) < np.minimum(every * p_leave, 1.0)
    ratio = settler_income_ratio(
        float(h.expected_leaf_value.mean()) if h.n else 0.0,
        p.crops.coca_leaf_kg_per_ha_year * model.coca_yield_factor,
        fp.coca_cost_share,
        vp.settler_coca_ha,
        vp.outside_wage_usd_per_month,
    )
    rate = arrivals_per_household_month(
        ratio,
        vp.settler_rate_per_year,
        vp.settler_max_income_ratio,
        price_index(p.crops.coffee_price_index_by_year, model.month),
        vp.refugee_rate_per_year,
    )
    arriving = int(rng.poisson(every * rate * h.n))
    settlers = new_settlers(model, arriving, rng)
    n_left = int(leave.sum())
    model.month_flows["households_arrived"] += settlers.n
    model.month_flows["households_left"] += n_left
    if n_left or settlers.n:
        model.households = _joined(h, ~leave, settlers)
        renew_household_indices(model)


def new_settlers(model, k: int, rng: np.random.Generator) -> Households:
    """``k`` settler households on forest away from roads, each with a small food plot cleared.

    A cell is drawn with weight forest x (1 + distance to a road); settlers are coca growers
    (responsive or committed in the valley's proportions), start with the valley's trust
    distribution and no programme stage, expect the leaf to pay what it pays today, farm in the
    altitude zone of their cell, and bring ``farmer.savings_months_mean`` months of the poverty
    line in savings.
    """
    p, L = model.params, model.landscape
    fp, vp = p.farmer, p.valley
    h = model.households
    columns = {f.name: getattr(h, f.name) for f in fields(h)}
    forest = L.layer("forest_ha")
    weight = forest * (1.0 + L.layer("dist_road"))
    if k <= 0 or weight.sum() <= 0:
        return Households(**{name: np.zeros((*a.shape[:-1], 0), a.dtype) for name, a in columns.items()})
    cell = rng.choice(L.n_cells, size=k, p=weight / weight.sum())
    remote = draw_remote_fields(L, cell, fp.remote_field_radius_cells, rng)
    asked = np.bincount(cell, minlength=L.n_cells) * vp.settler_farm_ha
    farm = vp.settler_farm_ha * rationed_share(forest[cell], asked[cell])
    cleared = np.bincount(cell, weights=farm, minlength=L.n_cells)
    forest -= np.minimum(cleared, forest)
    model.month_flows["forest_cleared_ha"] += float(cleared.sum())

    committed = fp.share_committed / max(1.0 - fp.share_never, 1e-12)
    u = rng.random((4, k))
    kind = np.where(u[0] < committed, HouseholdType.COMMITTED, HouseholdType.RESPONSIVE).astype(np.int8)
    trust = np.clip(fp.initial_trust + fp.initial_trust_sd * rng.standard_normal(k), 0, 1)
    paste = u[1] < fp.share_process_paste
    district = L.district[cell]
    cols = {name: np.zeros((*a.shape[:-1], k), a.dtype) for name, a in columns.items()}
    index = h.cell.dtype
    cols.update(
        cell=cell.astype(index),
        remote_cell=remote.astype(index),
        district=district.astype(h.district.dtype),
        clan=model.cell_clan[cell].astype(h.clan.dtype),
        kind=kind,
        farm_ha=farm,
        food_young=farm.copy(),
        trust=trust,
        processes_paste=paste,
        child_courier=u[2] < fp.share_child_courier,
        soil_home=L.layer("fertility")[cell].copy(),
        soil_remote=L.layer("fertility")[remote].copy(),
        expected_leaf_value=leaf_value(paste, model.prices.own_paste_leaf_usd, model.prices.leaf_usd),
        zone=altitude_zone(
            L.layer("elevation_m")[cell], p.programme.cacao_below_m, p.crops.coffee_max_m
        ).astype(h.zone.dtype),
        # They bring a few months' subsistence: farmer.savings_months_mean at the poverty line.
        savings=np.full(k, fp.savings_months_mean * fp.poverty_line_usd_per_month),
        risk=annual_risk(model.district_eradicated_share[district]),
    )
    return Households(**{f.name: cols[f.name] for f in fields(h)})


def _joined(h: Households, keep: np.ndarray, settlers: Households) -> Households:
    """The households kept (in their order) followed by the settlers; the programme queue renewed.

    The programme's queue keeps its order over the households that stay, with the settlers at its
    back in the order they arrived.
    """
    cols = {}
    # The rows kept, as indices taken once (a boolean mask per column converts it again each time),
    # copied with the settlers' rows into each new column.
    kept_rows = np.flatnonzero(keep)
    n_kept = kept_rows.size
    for f in fields(h):
        if f.name == "programme_order":
            continue
        column, arriving = getattr(h, f.name), getattr(settlers, f.name)
        dtype = column.dtype if arriving.dtype == column.dtype else np.result_type(column, arriving)
        joined = np.empty((*column.shape[:-1], n_kept + settlers.n), dtype=dtype)
        if column.ndim == 1:  # the array methods, without np.take's and the ellipsis' overhead
            column.take(kept_rows, out=joined[:n_kept], mode="clip")  # indices valid: no buffer
            joined[n_kept:] = arriving
        else:
            np.take(column, kept_rows, axis=-1, out=joined[..., :n_kept], mode="clip")
            joined[..., n_kept:] = arriving
        cols[f.name] = joined
    new_index = np.cumsum(keep) - 1
    order = h.programme_order[keep[h.programme_order]]
    cols["programme_order"] = np.concatenate((new_index[order], n_kept + np.arange(settlers.n))).astype(
        h.programme_order.dtype
    )
    return Households(**cols)


def renew_household_indices(model) -> None:
    """Renew what holds household indices or counts after households arrived or left.

    Households per district, the eradication fields' and courier households' caches, and the
    Mesa agents of the households when they were built (the UI's, rebuilt on next use).
    """
    n_d = model.params.landscape.n_districts
    model._households_per_district = np.maximum(np.bincount(model.households.district, minlength=n_d), 1)
    model._eradication_fields = None
    model._courier_households = None
    if model._farmers is not None:
        for agent in model._farmers:
            agent.remove()
        model._farmers = None
