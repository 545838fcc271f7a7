"""Farmers: land change (docs/odd.md, section 7.4).

The monthly land decision: each household updates its expectations (section 7.2), works out the
coca it wants (section 7.3) and plants or pulls out coca toward it, limited by family and hired
labour. New coca comes from fallow, then forest at home, then forest in the remote field (rationed
per cell); land pulled out goes to a legal crop that pays or to fallow (:mod:`vraem.agents.legal_crops`);
with standing coca, mature coca is left unharvested instead (:mod:`vraem.agents.standing_coca`).
"""

from __future__ import annotations

import numpy as np

from vraem.agents.coca_wanted import (
    coca_wanted_ha,
    desired_coca_logit,
    grows_coca,
    moral_cost,
    moral_cost_by_type,
)
from vraem.agents.expectations import annual_risk, leaf_value, update_expectation
from vraem.agents.farmer import HOME, REMOTE
from vraem.agents.legal_crops import (
    best_legal_usd,
    crop_revenues,
    farm_gate_indices,
    perennial_usd,
    plant_legal_crops,
    programme_yield_factor,
)
from vraem.agents.soils import relative_fertility
from vraem.agents.standing_coca import left_standing_ha, uprooted_standing_ha
from vraem.economy import rationed_share
from vraem.jit import clip, kernel, maximum, minimum, rule, unsigned


@rule
def land_change_ha(target_ha, current_ha, max_expand, max_abandon):
    """Coca planted (+) or abandoned (-) this month, limited by family labour (ha)."""
    return clip(target_ha - current_ha, -max_abandon, max_expand)


def allocate_land(model) -> None:
    """Farmers' monthly land decision: plant or pull out coca toward their desired area.

    New coca comes from fallow first, then from forest cleared at the home cell, then in the
    remote field once the home cell's forest is gone. Land changes slowly (labour-limited).
    Land pulled out of coca goes to a legal crop that pays, or to fallow
    (:func:`vraem.agents.legal_crops.plant_legal_crops`).
    The month's arithmetic runs in one compiled kernel (:func:`_allocate_land`).
    """
    p, h, L = model.params, model.households, model.landscape
    fp, cp, pp = p.farmer, p.crops, p.programme
    # The labour noise, uniform on 1 +- labour_noise: the kernel scales the stream's uniform draws
    # as ``Generator.uniform`` does (low + (high - low) x u, the same numbers), a third cheaper.
    low, high = 1.0 - fp.labour_noise, 1.0 + fp.labour_noise
    u = model.streams.allocation.random(h.n)
    standing = bool(p.mechanisms.standing_coca)
    u_stand = model.streams.harvest_choice.random(h.n) if standing else np.ones(h.n)
    cacao_usd, coffee_usd, food_usd = crop_revenues(model)
    cacao_index, coffee_index = farm_gate_indices(model)
    cleared_ha, legal_ha = _allocate_land(
        h.cell,
        h.remote_cell,
        h.district,
        h.kind,
        h.agreement,
        h.processes_paste,
        h.stage,
        h.worry,
        h.soil_home,
        h.soil_bonus,
        h.expected_leaf_value,
        h.risk,
        h.farm_ha,
        h.fallow,
        h.coca_young,
        h.coca_mature,
        h.food_young,
        h.cacao_young,
        h.coffee_young,
        u,
        low,
        high - low,
        L.layer("forest_ha"),
        L.layer("market_access"),
        L.layer("elevation_m"),
        annual_risk(model.district_eradicated_share),
        model.district_coca_share,
        moral_cost_by_type(fp.moral_cost_usd_per_ha_year),
        model.prices.own_paste_leaf_usd,
        model.prices.leaf_usd,
        fp.expectation_rate,
        fp.risk_memory_rate,
        fp.child_worry_usd_per_ha_year,
        p.landscape.initial_fertility_farmed,
        cp.coca_leaf_kg_per_ha_year * model.coca_yield_factor,
        fp.coca_cost_share,
        fp.risk_weight,
        fp.legal_cost_share,
        cp.programme_yield_bonus,
        fp.illegality_premium_usd_per_ha_year,
        fp.allocation_sensitivity,
        fp.norm_weight,
        fp.max_coca_ha * model.initial_coca_rescale,
        fp.max_expand_ha_per_month,
        fp.max_abandon_ha_per_month,
        cacao_usd,
        coffee_usd,
        food_usd,
        cacao_index,
        coffee_index,
        pp.cacao_below_m,
        cp.coffee_max_m,
        cp.legal_min_net_usd_per_ha_year,
        cp.legal_expand_ha_per_month,
        pp.title_credit_boost,
        h.coca_idle,
        u_stand,
        standing,
        p.valley.standing_months,
        model.labour_supply,
    )
    model.month_flows["forest_cleared_ha"] += cleared_ha
    model.month_flows["legal_planted_own_ha"] += legal_ha


@kernel
def _allocate_land(
    cell,
    remote_cell,
    district,
    kind,
    agreement,
    processes_paste,
    stage,
    worry,
    soil_home,
    soil_bonus,
    expected_leaf_value,
    risk,
    farm_ha,
    fallow,
    coca_young,
    coca_mature,
    food_young,
    cacao_young,
    coffee_young,
    u,
    noise_low,
    noise_range,
    forest,
    market_access,
    elevation,
    district_risk,
    district_coca_share,
    type_moral_cost,
    own_paste_leaf_usd,
    leaf_usd,
    expectation_rate,
    risk_memory_rate,
    child_worry_usd,
    initial_fertility,
    leaf_kg_per_ha_year,
    coca_cost_share,
    risk_weight,
    legal_cost_share,
    yield_bonus,
    premium,
    sensitivity,
    norm_weight,
    max_coca_ha,
    max_expand_ha,
    max_abandon_ha,
    cacao_usd,
    coffee_usd,
    food_usd,
    cacao_index,
    coffee_index,
    cacao_below_m,
    coffee_max_m,
    legal_min_net_usd,
    legal_expand_ha,
    title_boost,
    coca_idle,
    u_stand,
    standing,
    standing_months,
    labour,
):
    """The land decision of :func:`allocate_land`; returns (forest cleared, legal planted own), ha.

    A step whose arithmetic is all divisions and selects runs for every household in a loop the
    compiler vectorizes (the households' cells gathered into columns first: this CPU's gathers keep
    a loop scalar), with no sums or scatters in it. A step with a call (``np.exp``) or with
    per-cell sums runs only on the households it concerns, listed in household order without
    branching (a household's index is written and the list grows by one if it belongs): the coca
    wanted by households that grow it, coca pulled out by those that reduce, forest asked and
    cleared by those that expand beyond their fallow. A household that wants no coca and holds
    none, or has neither pulled-out land nor fallow, gets 0 ha in the vectorized steps, which
    leaves its columns as they were. Forest is rationed per cell, so clearing waits until every
    household has asked: at home, then in the remote field. Per-cell sums and the month's totals
    accumulate in household order, as ``np.bincount`` would; adding 0 ha changes no sum, so zero
    amounts are skipped where a list exists anyway and added where listing would cost more. A
    list is built in a loop that has other work for the core to overlap with (the month's legal
    totals are a chain of dependent additions) rather than in a pass of its own where it can.
    """
    n, n_cells = cell.size, forest.size
    growers = np.empty(n, dtype=np.uint32)
    n_growers = 0
    for i in range(n):  # vectorizes: no gather, no list
        expected_leaf_value[i] = update_expectation(
            expected_leaf_value[i],
            leaf_value(processes_paste[i], own_paste_leaf_usd, leaf_usd),
            expectation_rate,
        )
    # The households' cell, district and type values, gathered into columns once (through
    # unsigned views of the indices: no wraparound check). The cells' values and the districts'
    # go in loops of their own: one loop over all of them spilled registers and ran slower.
    elev = np.empty(n)
    access = np.empty(n)
    norm_share = np.empty(n)
    type_cost = np.empty(n)
    cell_u, district_u, kind_u = unsigned(cell), unsigned(district), unsigned(kind)
    for i in range(n):
        elev[i] = elevation[cell_u[i]]
        access[i] = market_access[cell_u[i]]
    for i in range(n):
        risk[i] = update_expectation(risk[i], district_risk[district_u[i]], risk_memory_rate)
        norm_share[i] = district_coca_share[district_u[i]]
        type_cost[i] = type_moral_cost[kind_u[i]]
        growers[n_growers] = i
        n_growers += grows_coca(kind[i], agreement[i])

    # The log-odds for every household, in a loop the compiler vectorizes (most grow coca; the
    # others' values are never read), then the logistic step for the growers.
    logit = np.empty(n)
    for i in range(n):
        logit[i] = desired_coca_logit(
            expected_leaf_value[i],
            leaf_kg_per_ha_year,
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            coca_cost_share,
            risk[i],
            risk_weight,
            moral_cost(type_cost[i], worry[i], child_worry_usd),
            best_legal_usd(
                perennial_usd(elev[i], cacao_below_m, coffee_max_m, cacao_usd, coffee_usd),
                food_usd,
                programme_yield_factor(stage[i], yield_bonus),
            ),
            access[i],
            legal_cost_share,
            premium,
            sensitivity,
            norm_share[i],
            norm_weight,
        )
    desired = np.zeros(n)  # households that grow no coca want none (the rule's answer)
    for k in range(n_growers):
        i = growers[k]
        desired[i] = coca_wanted_ha(logit[i], max_coca_ha)

    clearing = np.empty(n, dtype=np.uint32)
    n_clearing = 0
    pulling = growers  # the growers' list is no longer needed
    n_pulling = 0
    change = np.empty(n)
    from_fallow = np.empty(n)
    to_clear = np.empty(n)
    asked = np.zeros(n_cells)
    pulled_ha = np.empty(n)
    expand_ha = max_expand_ha * labour  # hired labour limits planting (1 but after the lockdown)
    for i in range(n):
        # Standing unharvested coca: uprooted at its hazard (that land is pulled out), and taken
        # back into harvest first when the household wants more tended coca (all 0 ha when the
        # mechanism is off).
        mature_ha = coca_mature[HOME, i] + coca_mature[REMOTE, i]
        coca_idle[i] = minimum(coca_idle[i], mature_ha)
        dropped = uprooted_standing_ha(coca_idle[i], u_stand[i], standing_months)
        from_home = minimum(dropped, coca_mature[HOME, i])
        coca_mature[HOME, i] -= from_home
        coca_mature[REMOTE, i] = maximum(coca_mature[REMOTE, i] - (dropped - from_home), 0.0)
        coca_idle[i] -= dropped
        pulled_ha[i] = dropped
        coca = (coca_young[HOME, i] + coca_mature[HOME, i]) + (coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        noise = noise_low + noise_range * u[i]
        change[i] = land_change_ha(desired[i], coca - coca_idle[i], expand_ha * noise, max_abandon_ha)
        back = minimum(maximum(change[i], 0.0), coca_idle[i])
        coca_idle[i] -= back
        plant = maximum(change[i], 0.0) - back
        from_fallow[i] = minimum(plant, fallow[i])
        fallow[i] -= from_fallow[i]
        to_clear[i] = plant - from_fallow[i]
        # Coca planted on fallow; a household that also clears plants it with the cleared land.
        coca_young[HOME, i] += 0.0 if to_clear[i] != 0.0 else from_fallow[i]
    # Who pulls out (no branch: the list is built as above).
    for i in range(n):
        pulling[n_pulling] = i
        n_pulling += change[i] < 0.0

    # Pulling out coca: mature fields first, home before remote. With standing coca, tended mature
    # coca is left standing unharvested instead (standing_coca.left_standing_ha) and young coca
    # goes first.
    for k in range(n_pulling):
        i = pulling[k]
        coca = (coca_young[HOME, i] + coca_mature[HOME, i]) + (coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        cut = minimum(-change[i], coca)
        mature_ha = coca_mature[HOME, i] + coca_mature[REMOTE, i]
        stand = left_standing_ha(cut, mature_ha, coca_idle[i], standing, agreement[i])
        coca_idle[i] += stand
        pull = cut - stand
        left = pull
        if standing and not agreement[i]:
            for plot in (HOME, REMOTE):
                take = minimum(left, coca_young[plot, i])
                coca_young[plot, i] -= take
                left -= take
        for plot in (HOME, REMOTE):
            take = minimum(left, coca_mature[plot, i])
            coca_mature[plot, i] -= take
            left -= take
            take = minimum(left, coca_young[plot, i])
            coca_young[plot, i] -= take
            left -= take
        pulled_ha[i] += pull - left

    # Legal crops go on pulled-out land and on fallow. The choice is made for every household in a
    # loop the compiler vectorizes (its inputs gathered from the cells first): a household with
    # neither plants nothing and its columns gain 0 ha. The month's totals are summed over every
    # household, in household order: one with neither adds 0 ha (its own planting is the least of
    # no fallow and a rate that is never negative), which leaves a sum as it was; listing the
    # households with either (most of the valley) cost more than it saved.
    to_legal = np.empty(n)
    own = np.empty(n)
    for i in range(n):
        fallow[i], cacao, coffee, food, to_legal[i], own[i] = plant_legal_crops(
            pulled_ha[i],
            fallow[i],
            elev[i] < cacao_below_m,
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            access[i],
            stage[i],
            cacao_usd,
            coffee_usd,
            food_usd,
            cacao_index,
            coffee_index,
            legal_cost_share,
            legal_min_net_usd,
            legal_expand_ha,
            title_boost,
            elev[i] < coffee_max_m,
        )
        cacao_young[i] += cacao
        coffee_young[i] += coffee
        food_young[i] += food
    # The sums are a chain of dependent additions, one per household; listing who clears in the
    # same loop costs little more (the list is needed only from here on).
    own_total = 0.0
    to_legal_total = 0.0
    for i in range(n):
        to_legal_total += to_legal[i]
        own_total += own[i]
        clearing[n_clearing] = i
        n_clearing += to_clear[i] != 0.0

    # The clearing households' amounts, moved to the front in list order (in place: k <= i), and
    # the cells' forest asked, summed in household order.
    for k in range(n_clearing):
        i = clearing[k]
        from_fallow[k] = from_fallow[i]
        to_clear[k] = to_clear[i]
        asked[cell[i]] += to_clear[k]

    # Forest available at home is shared among the households clearing there this month.
    home_clear = np.empty(n_clearing)
    remote_want = np.empty(n_clearing)
    asked_remote = np.zeros(n_cells)
    cleared_home = np.zeros(n_cells)
    for k in range(n_clearing):
        i = clearing[k]
        c = cell[i]
        home_clear[k] = to_clear[k] * rationed_share(forest[c], asked[c])
        remote_want[k] = to_clear[k] - home_clear[k]
        asked_remote[remote_cell[i]] += remote_want[k]
        cleared_home[c] += home_clear[k]

    cleared_remote = np.zeros(n_cells)
    for k in range(n_clearing):
        i = clearing[k]
        r = remote_cell[i]
        remote_clear = 0.0
        if remote_want[k] != 0.0:
            remote_clear = remote_want[k] * rationed_share(forest[r] - cleared_home[r], asked_remote[r])
            cleared_remote[r] += remote_clear
        farm_ha[i] += home_clear[k] + remote_clear
        coca_young[HOME, i] += from_fallow[k] + home_clear[k]
        coca_young[REMOTE, i] += remote_clear

    cleared_total = 0.0
    for c in range(n_cells):
        cleared = cleared_home[c] + cleared_remote[c]
        forest[c] = maximum(forest[c] - cleared, 0.0)
        cleared_total += cleared
    return cleared_total, to_legal_total + own_total
