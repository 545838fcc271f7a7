"""Police and military units: docs/odd.md.

Budget-limited monthly capacities (from the policy timeline) for eradication, lab raids, airstrip
destructions, flight interdictions and courier arrests, less what poor coordination between
police, military and civil authorities wastes (seed interview). Eradication teams choose fields
by the scenario's targeting rule; where a community's hostility is high they can meet resistance
(Samugari: stones and shotguns, the forces withdrew): the operation fails, hostility rises, and
there may be casualties. Corruption warns clans of raids (seed article: plata before plomo).
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import CellAgent

from vraem.agents.farmer import HOME, REMOTE, respond_to_eradication
from vraem.policy import Levers, Targeting


def resistance_probability(hostility, threshold, slope):
    """Chance that an operation in a district meets resistance (logistic in hostility)."""
    return 1.0 / (1.0 + np.exp(-slope * (hostility - threshold)))


def allocate_eradication(coca_by_cell, priority, capacity_ha):
    """Hectares eradicated per cell: cells in priority order (lowest first) until capacity runs out."""
    cells = np.flatnonzero(coca_by_cell > 0)
    order = cells[np.argsort(priority[cells], kind="stable")]
    sorted_coca = coca_by_cell[order]
    before = np.cumsum(sorted_coca) - sorted_coca
    out = np.zeros_like(coca_by_cell)
    out[order] = np.clip(capacity_ha - before, 0.0, sorted_coca)
    return out


def intelligence_plan(plots, plot_district, district_trust, u, corruption, capacity_ha, n_districts):
    """Intelligence-led eradication plan per plot (ha).

    Informants point to the densest fields where communities cooperate: the month's capacity is
    shared among districts in proportion to their coca times their mean trust in the state, and
    within a district goes to the plots with most coca first (corruption blurs the ranking). Sharing
    by district first keeps the plan the same at any scale of the valley: ranking all plots at
    once sends a small valley's few teams to fewer districts than the full valley's.
    """
    weight = np.bincount(plot_district, weights=plots, minlength=n_districts) * district_trust
    total = weight.sum()
    plan = np.zeros_like(plots)
    if total <= 0:
        return plan
    share = capacity_ha * weight / total
    priority = -plots * (1.0 + u * corruption)
    for d in np.flatnonzero(share > 0):
        mine = np.flatnonzero(plot_district == d)
        plan[mine] = allocate_eradication(plots[mine], priority[mine], share[d])
    return plan


def effective_capacity(capacity, coordination_waste):
    """Capacity left after coordination losses between police, military and civil authorities."""
    return capacity * (1.0 - coordination_waste)


class SecurityUnit(CellAgent):
    """A police or military unit; it moves to where it operated last (for the map)."""

    def __init__(self, model, idx: int, cell) -> None:
        super().__init__(model)
        self.idx = idx
        self.cell = cell


def eradicate(model, levers: Levers) -> None:
    """Eradication of the month, with resistance, and the farmers' response.

    Fields are planned plot by plot (each household's home farm and remote field). Accessible
    and random targeting rank the cells a plot lies in; intelligence-led targeting ranks the plots
    themselves by their coca (the densest fields, named by informants), which does not depend on
    how many households share a cell, so the plan is the same at any scale of the valley.
    """
    p, h, L, f = model.params, model.households, model.landscape, model.month_flows
    sp = p.security
    n_d = p.landscape.n_districts
    u_cells = model.streams.eradication.random(L.n_cells)
    u_plots = model.streams.eradication.random(2 * h.n)
    u_resist = model.streams.resistance.random(n_d)
    casualties_draw = model.streams.resistance.poisson(sp.casualties_per_confrontation, n_d)
    capacity = effective_capacity(levers.eradication_ha, sp.coordination_waste)
    if capacity <= 0:
        respond_to_eradication(model, None, None, levers.p_replant)
        model.district_eradicated_share[:] = 0.0
        return
    coca = h.coca_young + h.coca_mature
    if levers.spare_agreement_households:
        coca *= ~h.agreement
    plots = coca.reshape(-1)  # home plots, then remote fields
    plot_cell = np.concatenate((h.cell, h.remote_cell))
    by_cell = np.bincount(plot_cell, weights=plots, minlength=L.n_cells)
    plot_district = L.district[plot_cell]
    if levers.targeting is Targeting.INTELLIGENCE:
        plan = intelligence_plan(
            plots, plot_district, model.district_mean_trust, u_plots, p.clan.corruption, capacity, n_d
        )
    else:
        priority = L.layer("dist_road") + u_cells if levers.targeting is Targeting.ACCESSIBLE else u_cells
        cell_plan = allocate_eradication(by_cell, priority, capacity)
        frac = np.divide(cell_plan, by_cell, out=np.zeros_like(cell_plan), where=by_cell > 0)
        plan = plots * frac[plot_cell]
    planned_d = np.bincount(plot_district, weights=plan, minlength=n_d)
    p_resist = resistance_probability(model.hostility, sp.resistance_threshold, sp.resistance_slope)
    resisted = (planned_d > 0) & (u_resist < p_resist)
    plan[resisted[plot_district]] = 0.0
    # Each planned plot loses its planned share, young and mature alike.
    hit = np.divide(plan, plots, out=np.zeros_like(plan), where=plots > 0).reshape(2, h.n)
    e_home, e_remote = coca[HOME] * hit[HOME], coca[REMOTE] * hit[REMOTE]
    keep = 1.0 - hit
    h.coca_young *= keep
    h.coca_mature *= keep
    respond_to_eradication(model, e_home, e_remote, levers.p_replant)

    done_d = np.bincount(plot_district, weights=plan, minlength=n_d)
    coca_d = np.bincount(plot_district, weights=plots, minlength=n_d)
    share_d = np.divide(done_d, coca_d, out=np.zeros(n_d), where=coca_d > 0)
    model.district_eradicated_share[:] = share_d
    model.hostility += sp.hostility_per_share_eradicated * share_d
    model.hostility[resisted] += sp.hostility_after_confrontation
    np.clip(model.hostility, 0.0, 1.0, out=model.hostility)
    f["confrontations"] += int(resisted.sum())
    f["casualties"] += int(casualties_draw[resisted].sum())
    f["eradication_planned_ha"] += float(planned_d.sum())
    move_units(model, np.bincount(plot_cell, weights=plan, minlength=L.n_cells))


def move_units(model, effort_by_cell: np.ndarray) -> None:
    """Send each unit to one of the cells where most work was done this month."""
    units = model.security_units
    if effort_by_cell.max() <= 0:
        return
    k = min(len(units), effort_by_cell.size)
    top = np.argpartition(-effort_by_cell, k - 1)[:k]
    for unit, c in zip(units, top, strict=False):
        cell = model.landscape.cell(int(c))
        if effort_by_cell[c] > 0 and unit.cell is not cell:
            unit.cell = cell


def raid_labs(model, raids: float) -> None:
    """Lab raids: the most reachable labs first; hostile districts resist; corruption warns clans.

    A raid that reaches its lab destroys it (seed interview: the military destroys about 20 labs a
    month); a clan warned by bribed officials (``clan.corruption``) has moved its stock, so the
    raid seizes nothing there. Where a district resists this month (the same logistic in
    hostility as for eradication; Samugari met forces come to destroy labs with stones and
    shotguns, and they withdrew), raids there fail.
    """
    p, labs, f, L = model.params, model.labs, model.month_flows, model.landscape
    sp = p.security
    n_d = p.landscape.n_districts
    u_pick = model.streams.raids.random(labs.cell.size)
    u_warn = model.streams.raids.random(labs.cell.size)
    u_resist = model.streams.raid_resistance.random(n_d)
    n = int(np.floor(effective_capacity(raids, sp.coordination_waste) + u_pick[0]))
    active = np.flatnonzero(labs.active)
    if n <= 0 or active.size == 0:
        return
    reach = L.layer("police_reach")[labs.cell[active]]
    targets = active[np.argsort(u_pick[active] / (reach + 1e-3))[:n]]
    district = L.district[labs.cell[targets]]
    resisting = u_resist < resistance_probability(
        model.hostility, sp.resistance_threshold, sp.resistance_slope
    )
    hit = targets[~resisting[district]]
    labs.active[hit] = False
    labs.rebuild_in[hit] = p.clan.lab_rebuild_months
    # Each destroyed lab of an unwarned clan loses its share of the clan's stock.
    caught = hit[u_warn[hit] >= p.clan.corruption]
    n_clans = len(model.clans)
    active_by_clan = np.maximum(np.bincount(labs.clan[active], minlength=n_clans), 1)
    lost_share = np.bincount(labs.clan[caught], minlength=n_clans) / active_by_clan
    seized = model.clan_stock_kg * lost_share
    model.clan_stock_kg -= seized
    confronted = np.zeros(n_d, dtype=bool)
    confronted[district[resisting[district]]] = True
    f["confrontations"] += int(confronted.sum())
    f["labs_raided"] += int(targets.size)
    f["labs_destroyed"] += int(hit.size)
    f["seized_t"] += float(seized.sum()) / 1_000.0


def destroy_airstrips(model, destructions: float) -> None:
    """Airstrip destructions: random active strips are made unusable."""
    strips, f = model.airstrips, model.month_flows
    u = model.streams.airstrips.random(strips.cell.size + 1)
    u_quick = model.streams.airstrips.random(strips.cell.size)
    n = int(np.floor(effective_capacity(destructions, model.params.security.coordination_waste) + u[-1]))
    active = np.flatnonzero(strips.active)
    if n <= 0 or active.size == 0:
        return
    hit = active[np.argsort(u[active])[:n]]
    # Seed interview: a destroyed strip is rebuilt nearby within a week by local peasants; press:
    # 7 of 18 disabled strips were back in use within a month. The quick share is usable again
    # before the next month's flights; the rest wait for cartel.p_rebuild_strip_per_month.
    quick = u_quick[hit] < model.params.cartel.share_strips_back_within_week
    strips.active[hit[~quick]] = False
    f["airstrips_destroyed"] += int(hit.size)
    f["airstrips_rebuilt_within_week"] += int(quick.sum())
