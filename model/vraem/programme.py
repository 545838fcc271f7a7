"""The state's development programme: docs/odd.md.

A yearly budget (DEVIDA transferred 32 million soles to the VRAEM in 2013 and had 22 million the
next year) is spent in the districts whose mayors accept it: part on roads and bridges, which raise
market access, the rest on households, in the sequence the seed interview gives: ID registration
(unlocks welfare), land titles (unlock credit), soil recovery, quick crops (banana, gardens), then
cacao and coffee. Households sign a no-coca agreement once they have an alternative.
"""

from __future__ import annotations

import numpy as np

from vraem.agents.farmer import HOME, HouseholdType, ProgrammeStage
from vraem.landscape import MIN_FARMED_HA


def advance_within_budget(cost_in_order, budget):
    """Which of the queued households (in priority order) the month's budget pays for."""
    return np.cumsum(cost_in_order) <= budget


def defection_probability(
    base_per_year,
    value_ratio,
    per_price_rise,
    lapsed,
    lapse_multiplier,
    monitored,
    detection,
    district_signed_share,
    peer_pressure,
):
    """Monthly chance that a household under a no-coca agreement breaks it and grows coca again.

    A hazard: UNODC's 0.6% a year for supported signers (Colombia, 2019), raised as the expected
    leaf value climbs above its value at signing, multiplied where promised support has lapsed
    (Colombia's PNIS: families complied where payments arrived and replanted where they did
    not), cut by monitoring, and cut by peer pressure in proportion to the district's share of
    signers (Monzón: 1 of 41 communities replanted and gave up when the others pressed it).
    """
    hazard = (
        base_per_year
        / 12.0
        * (1.0 + per_price_rise * np.maximum(value_ratio - 1.0, 0.0))
        * np.where(lapsed, lapse_multiplier, 1.0)
        * np.where(monitored, 1.0 - detection, 1.0)
        * (1.0 - peer_pressure * district_signed_share)
    )
    return 1.0 - np.exp(-hazard)


def keep_or_break_agreements(model, supported: np.ndarray, monitored: bool) -> None:
    """Signers keep their agreement or defect (rule :func:`defection_probability`)."""
    pp, h = model.params.programme, model.households
    u = model.streams.compliance.random(h.n)
    h.months_unsupported[:] = np.where(supported, 0.0, h.months_unsupported + 1.0)
    n_d = model.params.landscape.n_districts
    signed = np.bincount(h.district, weights=h.agreement, minlength=n_d)
    share = signed / np.maximum(np.bincount(h.district, minlength=n_d), 1)
    ratio = np.divide(
        h.expected_leaf_value, h.value_at_signing, out=np.ones(h.n), where=h.value_at_signing > 0
    )
    p_defect = defection_probability(
        pp.defection_per_year,
        ratio,
        pp.defection_per_price_rise,
        h.months_unsupported >= pp.support_lapse_months,
        pp.defection_lapse_multiplier,
        monitored,
        pp.monitoring_detection,
        share[h.district],
        pp.peer_pressure,
    )
    defect = h.agreement & (u < p_defect)
    h.agreement &= ~defect
    model.month_flows["agreements_broken"] += int(defect.sum())


def spend(model, budget_soles: float, monitor_agreements: bool = False) -> None:
    """Spend the month's development budget in accepting districts; signers keep or break faith."""
    p, h, L, f = model.params, model.households, model.landscape, model.month_flows
    pp, fp = p.programme, p.farmer
    u = model.streams.programme.random(h.n)
    accepting = model.district_accepting[h.district]
    keep_or_break_agreements(model, h.in_programme & accepting & (budget_soles > 0), monitor_agreements)

    # Households leave when trust collapses; programme progress pauses where the mayor refuses.
    h.in_programme &= h.trust >= pp.leave_trust
    active = h.in_programme & accepting
    h.trust += fp.trust_gain_per_month_programme * active
    np.minimum(h.trust, 1.0, out=h.trust)
    h.months_in_stage += 1
    if budget_soles <= 0 or not accepting.any():
        f["soles_unspent"] += budget_soles
        return

    road_soles = budget_soles * pp.road_share if (~L.road).any() else 0.0
    road_before = L.road.copy()
    build_roads(model, road_soles)
    household_soles = budget_soles - road_soles

    stage = h.stage.astype(int)
    min_months = np.array((0, *pp.stage_min_months))[np.minimum(stage, len(pp.stage_min_months))]
    queued = (
        accepting
        & (stage < ProgrammeStage.PERENNIAL)
        & (h.trust >= pp.join_trust)
        & (h.months_in_stage >= min_months)
    )
    order = h.programme_order[queued[h.programme_order]]
    costs = np.array(pp.stage_cost_soles)[stage[order]]
    paid = order[advance_within_budget(costs, household_soles)]
    spent = float(np.array(pp.stage_cost_soles)[stage[paid]].sum())
    h.stage[paid] += 1
    h.months_in_stage[paid] = 0
    h.in_programme[paid] = True
    apply_stage_effects(model, paid)

    can_sign = h.in_programme & ~h.agreement & (h.stage >= ProgrammeStage.QUICK_CROPS)
    p_sign = agreement_probability(
        pp.p_agreement_per_month, h.kind == HouseholdType.COMMITTED, pp.committed_agreement_factor
    )
    signs = can_sign & (u < p_sign)
    h.agreement |= signs
    h.value_at_signing[signs] = h.expected_leaf_value[signs]
    # Roads and services delivered in a district raise everyone's trust there, not only
    # programme members': the way in for households below the joining threshold.
    n_d = p.landscape.n_districts
    # A district is served when it takes the programme this month (services run there) or gets
    # new road; not "when some household was paid", which a small valley's few households make
    # lumpier than the full valley's (the scaling rule).
    served = model.district_accepting.copy()
    served |= np.bincount(L.district[L.road & ~road_before], minlength=n_d) > 0
    h.trust += pp.trust_gain_per_month_services * (served[h.district] & ~h.in_programme)
    np.minimum(h.trust, 1.0, out=h.trust)
    f["soles_spent"] += spent + road_soles
    f["soles_unspent"] += household_soles - spent


def agreement_probability(p_month, committed, committed_factor):
    """Monthly chance that a household with an alternative signs a no-coca agreement.

    Committed growers (two fifths in the Colombian field experiment) sign far less often.
    """
    return np.where(committed, p_month * committed_factor, p_month)


def apply_stage_effects(model, reached: np.ndarray) -> None:
    """What each newly reached stage gives the household."""
    pp, h = model.params.programme, model.households
    stage = h.stage[reached]
    soil = reached[stage == ProgrammeStage.SOIL]
    h.soil_bonus[soil] = pp.soil_fertility_gain
    quick = reached[stage == ProgrammeStage.QUICK_CROPS]
    plant_from_fallow_or_coca(h, quick, pp.quick_crop_ha, h.food_young)
    perennial = reached[stage == ProgrammeStage.PERENNIAL]
    low = model.landscape.layer("elevation_m")[h.cell[perennial]] < pp.cacao_below_m
    plant_from_fallow_or_coca(h, perennial[low], pp.perennial_ha, h.cacao_young)
    plant_from_fallow_or_coca(h, perennial[~low], pp.perennial_ha, h.coffee_young)


def plant_from_fallow_or_coca(h, who: np.ndarray, ha: float, crop: np.ndarray) -> None:
    """Plant ``ha`` of a programme crop on fallow, or on coca land when no fallow is left."""
    from_fallow = np.minimum(h.fallow[who], ha)
    h.fallow[who] -= from_fallow
    rest = ha - from_fallow
    from_coca = np.minimum(h.coca_mature[HOME, who], rest)
    h.coca_mature[HOME, who] -= from_coca
    crop[who] += from_fallow + from_coca


def welfare_usd(model) -> np.ndarray:
    """Monthly welfare transfer to each household with an ID (Juntos), USD."""
    h = model.households
    return np.where(h.stage >= ProgrammeStage.ID, model.params.programme.welfare_usd_per_month, 0.0)


def build_roads(model, soles: float) -> None:
    """Roads: connect the farmland nearest the network in accepting districts, cell by cell.

    A cell of a smaller valley holds ``scale`` times the land and people (scaling rule), so its
    road costs ``scale`` times as much: the same budget share builds the same map of roads.
    """
    pp, L, scale = model.params.programme, model.landscape, model.params.scale
    model.road_fund_soles += soles
    cost = pp.road_cost_soles_per_cell * scale
    n = int(model.road_fund_soles // cost)
    if n <= 0:
        return
    dist = L.layer("dist_road")
    district = L.district
    candidates = np.flatnonzero(
        model.district_accepting[district] & ~L.road & (L.layer("farm_capacity_ha") > MIN_FARMED_HA * scale)
    )
    if candidates.size == 0:
        return
    pick = candidates[np.argsort(dist[candidates] - L.layer("farm_capacity_ha")[candidates] / L.cell_ha)[:n]]
    L.road[pick] = True
    model.road_fund_soles -= pick.size * cost
    # New road cells can only bring cells closer: the distance to the nearest road is the smaller
    # of the old distance and the distance to the new cells (exact, like a full transform).
    gx, gy = L.xy(np.arange(L.n_cells))
    px, py = L.xy(pick)
    to_new = np.sqrt(((gx[:, None] - px) ** 2 + (gy[:, None] - py) ** 2).min(axis=1))
    new_dist = np.minimum(dist, to_new)
    dist[:] = new_dist
    model.lab_site_cache.clear()
    lp = model.params.landscape
    L.layer("market_access")[:] = np.exp(-new_dist * np.log(2) / lp.road_access_decay_cells)
    L.layer("police_reach")[:] = np.exp(-new_dist / lp.police_reach_decay_cells)
    model.month_flows["road_cells_built"] += int(pick.size)
