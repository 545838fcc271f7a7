"""The state's development programme: docs/odd.md.

A yearly budget (DEVIDA transferred 32 million soles to the VRAEM in 2013 and had 22 million the
next year) is spent in the districts whose mayors accept it: part on roads and bridges, which raise
market access, the rest on households, in the sequence the seed interview gives: ID registration
(unlocks welfare), land titles (unlock credit), soil recovery, quick crops (banana, gardens), then
cacao and coffee. Households sign a no-coca agreement once they have an alternative.
"""

from __future__ import annotations

import functools

import numpy as np

from vraem.agents.farmer import HOME, HouseholdType, ProgrammeStage
from vraem.jit import kernel, rule, where
from vraem.landscape import MIN_FARMED_HA, market_access, police_reach


@rule
def advance_within_budget(cost_in_order, budget):
    """Which of the queued households (in priority order) the month's budget pays for."""
    return np.cumsum(cost_in_order) <= budget


@rule
def defection_hazard(
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
    """Monthly hazard of breaking a no-coca agreement (:func:`defection_probability`)."""
    return (
        base_per_year
        / 12.0
        * (1.0 + per_price_rise * np.maximum(value_ratio - 1.0, 0.0))
        * where(lapsed, lapse_multiplier, 1.0)
        * where(monitored, 1.0 - detection, 1.0)
        * (1.0 - peer_pressure * district_signed_share)
    )


@rule
def hazard_probability(hazard):
    """Chance that an event with a constant monthly hazard happens within the month."""
    return 1.0 - np.exp(-hazard)


@rule
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
    return hazard_probability(
        defection_hazard(
            base_per_year,
            value_ratio,
            per_price_rise,
            lapsed,
            lapse_multiplier,
            monitored,
            detection,
            district_signed_share,
            peer_pressure,
        )
    )


@rule
def agreement_probability(p_month, committed, committed_factor):
    """Monthly chance that a household with an alternative signs a no-coca agreement.

    Committed growers (two fifths in the Colombian field experiment) sign far less often.
    """
    return where(committed, p_month * committed_factor, p_month)


@rule
def planting_from_fallow_or_coca(fallow_ha, coca_ha, ha):
    """Where ``ha`` of a programme crop is planted: on fallow, then on coca land (ha from each)."""
    from_fallow = np.minimum(fallow_ha, ha)
    return from_fallow, np.minimum(coca_ha, ha - from_fallow)


@rule
def welfare_transfer_usd(stage, per_month_usd):
    """Monthly welfare transfer (Juntos) of a household at a programme stage, USD: once it has an ID."""
    return where(stage >= ProgrammeStage.ID, per_month_usd, 0.0)


_HAZARD_MARGIN = 1e-15
"""Above any rounding of ``1 - exp(-hazard)`` over ``hazard`` (a half-ulp of 1 is 1.1e-16)."""

_BOUND_SLACK = 1e-9
"""Relative slack of a hazard's bound over the rounding of the few products that make it (1e-15)."""


@kernel
def _hazard_bound(share, base_per_year, per_price_rise, lapse_multiplier, monitored, detection, peer):
    """A ``b`` with every signer's hazard at most ``b * (1 + per_price_rise * ratio)``.

    ``defection_hazard`` is its value at a ratio of 1 (lapsed or not, in any district) times
    its price factor, ``1 + per_price_rise * max(ratio - 1, 0) <= 1 + per_price_rise * ratio``,
    when every factor is non-negative; when one may not be, the bound is infinite.
    """
    bound = 0.0
    for d in range(share.size):
        for lapsed in (False, True):
            hazard = defection_hazard(
                base_per_year,
                1.0,
                per_price_rise,
                lapsed,
                lapse_multiplier,
                monitored,
                detection,
                share[d],
                peer,
            )
            non_negative = (
                base_per_year >= 0
                and per_price_rise >= 0
                and lapse_multiplier >= 0
                and detection <= 1.0
                and 1.0 - peer * share[d] >= 0
            )
            bound = max(bound, hazard * (1.0 + _BOUND_SLACK) if non_negative else np.inf)
    return bound


@kernel
def _agreements_and_trust(
    district,
    district_accepting,
    households_per_district,
    in_programme,
    agreement,
    months_unsupported,
    months_in_stage,
    trust,
    stage,
    expected_leaf_value,
    value_at_signing,
    u,
    funded,
    defection_per_year,
    per_price_rise,
    lapse_months,
    lapse_multiplier,
    monitored,
    detection,
    peer_pressure,
    leave_trust,
    trust_gain,
    join_trust,
    min_months_by_stage,
):
    """The month's first pass of :func:`spend`, household by household.

    Support reaches programme members in accepting districts in funded months; each signer's
    defection hazard (:func:`defection_hazard`); members whose trust collapsed leave, the others
    gain trust where their district takes the programme; a month passes at every stage. Then
    whether the household queues for its next stage: in an accepting district, trusting enough
    (``join_trust``), the minimum months at its stage done.

    Whether a signer defects is ``u < hazard_probability(hazard)``, and ``1 - exp(-h) <= h``: a
    signer whose draw is above its hazard keeps the agreement. The others (a few in a thousand)
    are returned with their hazards, for NumPy's ``exp`` to decide as it always did. Most
    signers' draws are above a bound of their hazard (:func:`_hazard_bound`), found without the
    hazard's division: only the others' hazards are computed. The passes over every household
    have no branches (the compiler vectorizes them); the signers left open are found eight
    households at a time.

    Returns:
        The signers that may defect, their hazards, the stage each queued household would
        leave (-1 when not queued), how many households queue, and whether any household
        lives in an accepting district.
    """
    n = district.size
    n_d = households_per_district.size
    signed = np.zeros(n_d, dtype=np.int64)
    present = np.zeros(n_d, dtype=np.bool_)
    accepting = np.empty(n, dtype=np.bool_)
    for i in range(n):
        d = district[i]
        signed[d] += agreement[i]
        present[d] = True
        accepting[i] = district_accepting[d]
    any_accepting = False
    for d in range(n_d):
        any_accepting |= present[d] and district_accepting[d]
    share = signed / households_per_district
    # Signers that may defect: all but those whose draw is above the bound of their hazard,
    # u >= bound * (1 + per_price_rise * ratio) + 2 margins (times the value at signing).
    bound = _hazard_bound(
        share, defection_per_year, per_price_rise, lapse_multiplier, monitored, detection, peer_pressure
    )
    margins = 2.0 * _HAZARD_MARGIN
    n_words = (n + 7) // 8
    open_ = np.empty(8 * n_words, dtype=np.bool_)
    open_[n:] = False
    for i in range(n):
        supported = funded & in_programme[i] & accepting[i]
        months_unsupported[i] = 0.0 if supported else months_unsupported[i] + 1.0
        at_signing, value = value_at_signing[i], expected_leaf_value[i]
        keeps = (
            (at_signing > 0)
            & (value >= 0)
            & (u[i] * at_signing >= bound * (at_signing + per_price_rise * value) + margins * at_signing)
        )
        open_[i] = agreement[i] & (not keeps)
    maybe = np.empty(n, dtype=np.intp)
    maybe_hazard = np.empty(n)
    n_maybe = 0
    words = open_.view(np.uint64)
    for w in range(n_words):
        if words[w] == 0:
            continue  # eight households with no open signer
        for i in range(8 * w, 8 * w + 8):
            if not open_[i]:
                continue
            ratio = expected_leaf_value[i] / value_at_signing[i] if value_at_signing[i] > 0 else 1.0
            hazard = defection_hazard(
                defection_per_year,
                ratio,
                per_price_rise,
                months_unsupported[i] >= lapse_months,
                lapse_multiplier,
                monitored,
                detection,
                share[district[i]],
                peer_pressure,
            )
            if u[i] < hazard + _HAZARD_MARGIN:
                maybe[n_maybe] = i
                maybe_hazard[n_maybe] = hazard
                n_maybe += 1
    for i in range(n):
        member = in_programme[i] & (trust[i] >= leave_trust)
        in_programme[i] = member
        trust[i] = min(trust[i] + trust_gain if member & accepting[i] else trust[i], 1.0)
        months_in_stage[i] += 1.0
    queued_stage = np.empty(n, dtype=np.int8)
    n_queued = 0
    for i in range(n):
        s = stage[i]
        # min_months_by_stage[s] as selects (a table look-up stops the loop's vectorization)
        min_months = min_months_by_stage[0]
        for k in range(1, ProgrammeStage.PERENNIAL):
            min_months = where(s == k, min_months_by_stage[k], min_months)
        queued = (s < ProgrammeStage.PERENNIAL) & (months_in_stage[i] >= min_months)
        queued &= (trust[i] >= join_trust) & accepting[i]
        queued_stage[i] = s if queued else -1
    for i in range(n):
        n_queued += queued_stage[i] >= 0
    return maybe[:n_maybe], maybe_hazard[:n_maybe], queued_stage, n_queued, any_accepting


@kernel
def _advance_and_sign(
    programme_order,
    queued_stage,
    n_queued_in_all,
    district,
    cell,
    elevation_m,
    district_accepting,
    cell_district,
    new_roads,
    kind,
    stage,
    months_in_stage,
    in_programme,
    trust,
    agreement,
    value_at_signing,
    expected_leaf_value,
    soil_bonus,
    fallow,
    coca_mature_home,
    food_young,
    cacao_young,
    coffee_young,
    u,
    household_soles,
    stage_cost_soles,
    stop_when_spent,
    soil_fertility_gain,
    quick_crop_ha,
    perennial_ha,
    cacao_below_m,
    p_agreement,
    committed_factor,
    trust_gain_services,
):
    """Pay the queue's next stages within budget, apply them, sign agreements; services' trust.

    The queue is ``programme_order`` restricted to the ``n_queued_in_all`` households with a
    ``queued_stage``. Returns the soles spent on households.
    """
    # A district is served when it takes the programme this month (services run there) or gets
    # new road; not "when some household was paid", which a small valley's few households make
    # lumpier than the full valley's (the scaling rule).
    district_served = district_accepting.copy()
    for c in new_roads:
        district_served[cell_district[c]] = True
    n = programme_order.size
    queue = np.empty(n_queued_in_all, dtype=np.int64)
    n_queued = 0
    queued_cost = 0.0
    for j in range(n):
        if stop_when_spent and queued_cost > household_soles:
            break  # with no negative costs, nobody further down the queue can be paid
        if n_queued == n_queued_in_all:
            break  # the whole queue is listed
        i = programme_order[j]
        if queued_stage[i] >= 0:
            queue[n_queued] = i
            n_queued += 1
            queued_cost += stage_cost_soles[queued_stage[i]]
    costs = np.empty(n_queued)
    for k in range(n_queued):
        costs[k] = stage_cost_soles[queued_stage[queue[k]]]
    paid = advance_within_budget(costs, household_soles)
    spent = 0.0
    for k in range(n_queued):
        if not paid[k]:
            continue
        i = queue[k]
        spent += costs[k]
        stage[i] += 1
        months_in_stage[i] = 0.0
        in_programme[i] = True
        # What each newly reached stage gives: soil recovery raises the home farm's fertility;
        # quick crops (banana, gardens), then the perennial (cacao in the low valley, coffee
        # above), are planted on fallow, or on coca land when no fallow is left.
        if stage[i] == ProgrammeStage.SOIL:
            soil_bonus[i] = soil_fertility_gain
        elif stage[i] == ProgrammeStage.QUICK_CROPS or stage[i] == ProgrammeStage.PERENNIAL:
            ha = quick_crop_ha if stage[i] == ProgrammeStage.QUICK_CROPS else perennial_ha
            from_fallow, from_coca = planting_from_fallow_or_coca(fallow[i], coca_mature_home[i], ha)
            fallow[i] -= from_fallow
            coca_mature_home[i] -= from_coca
            if stage[i] == ProgrammeStage.QUICK_CROPS:
                food_young[i] += from_fallow + from_coca
            elif elevation_m[cell[i]] < cacao_below_m:
                cacao_young[i] += from_fallow + from_coca
            else:
                coffee_young[i] += from_fallow + from_coca
    # Signing and services' trust change only members without an agreement at the quick crops
    # or later, non-members in served districts, and trust above 1 (clipped): they are listed
    # in a pass without branches, then visited.
    n = stage.size
    may_sign = np.empty(n, dtype=np.int64)
    gains = np.empty(n, dtype=np.int64)
    n_may_sign = 0
    n_gains = 0
    n_above = 0
    for i in range(n):
        member = in_programme[i]
        may_sign[n_may_sign] = i
        n_may_sign += member & (not agreement[i]) & (stage[i] >= ProgrammeStage.QUICK_CROPS)
        gains[n_gains] = i
        n_gains += district_served[district[i]] & (not member)
        n_above += trust[i] > 1.0
    for k in range(n_may_sign):
        i = may_sign[k]
        committed = kind[i] == HouseholdType.COMMITTED
        if u[i] < agreement_probability(p_agreement, committed, committed_factor):
            agreement[i] = True
            value_at_signing[i] = expected_leaf_value[i]
    # Roads and services delivered in a district raise everyone's trust there, not only
    # programme members': the way in for households below the joining threshold.
    for k in range(n_gains):
        i = gains[k]
        trust[i] = min(trust[i] + trust_gain_services, 1.0)
    if n_above > 0:
        for i in range(n):
            if trust[i] > 1.0:
                trust[i] = 1.0
    return spent


def spend(model, budget_soles: float, monitor_agreements: bool = False) -> None:
    """Spend the month's development budget in accepting districts; signers keep or break faith.

    In order: signers keep or break their agreement (:func:`defection_probability`), households
    whose trust collapsed leave, members in accepting districts gain trust; then roads
    (:func:`build_roads`), and the queue (households in ``programme_order`` that may take their
    next stage) is paid within the budget (:func:`advance_within_budget`), each stage giving its
    effect (:func:`planting_from_fallow_or_coca`); members with an alternative sign agreements
    (:func:`agreement_probability`); districts served raise the trust of non-members.
    """
    p, h, L, f = model.params, model.households, model.landscape, model.month_flows
    pp, fp = p.programme, p.farmer
    u = model.streams.programme.random(h.n)
    u_compliance = model.streams.compliance.random(h.n)
    maybe, hazard, queued_stage, n_queued, any_accepting = _agreements_and_trust(
        h.district,
        model.district_accepting,
        model._households_per_district,
        h.in_programme,
        h.agreement,
        h.months_unsupported,
        h.months_in_stage,
        h.trust,
        h.stage,
        h.expected_leaf_value,
        h.value_at_signing,
        u_compliance,
        bool(budget_soles > 0),
        pp.defection_per_year,
        pp.defection_per_price_rise,
        float(pp.support_lapse_months),
        pp.defection_lapse_multiplier,
        bool(monitor_agreements),
        pp.monitoring_detection,
        pp.peer_pressure,
        pp.leave_trust,
        fp.trust_gain_per_month_programme,
        pp.join_trust,
        _constant_array((0, *pp.stage_min_months)),
    )
    if maybe.size:
        defect = maybe[u_compliance[maybe] < hazard_probability(hazard)]
        h.agreement[defect] = False
        f["agreements_broken"] += defect.size
    if budget_soles <= 0 or not any_accepting:
        f["soles_unspent"] += budget_soles
        return

    road_soles = budget_soles * pp.road_share if not L.road.all() else 0.0
    new_roads = build_roads(model, road_soles)
    household_soles = budget_soles - road_soles
    spent = _advance_and_sign(
        h.programme_order,
        queued_stage,
        n_queued,
        h.district,
        h.cell,
        L.layer("elevation_m"),
        model.district_accepting,
        L.district,
        new_roads,
        h.kind,
        h.stage,
        h.months_in_stage,
        h.in_programme,
        h.trust,
        h.agreement,
        h.value_at_signing,
        h.expected_leaf_value,
        h.soil_bonus,
        h.fallow,
        h.coca_mature[HOME],
        h.food_young,
        h.cacao_young,
        h.coffee_young,
        u,
        household_soles,
        _constant_array(pp.stage_cost_soles),
        min(pp.stage_cost_soles) >= 0,
        pp.soil_fertility_gain,
        pp.quick_crop_ha,
        pp.perennial_ha,
        pp.cacao_below_m,
        pp.p_agreement_per_month,
        pp.committed_agreement_factor,
        pp.trust_gain_per_month_services,
    )
    f["soles_spent"] += spent + road_soles
    f["soles_unspent"] += household_soles - spent


@functools.lru_cache(maxsize=64)
def _constant_array(values: tuple) -> np.ndarray:
    """A read-only float array of parameter values, made once per run's values (not every month)."""
    array = np.array(values, dtype=float)
    array.flags.writeable = False
    return array


def welfare_usd(model) -> np.ndarray:
    """Monthly welfare transfer to each household with an ID (Juntos), USD."""
    h = model.households
    return _welfare(h.stage, model.params.programme.welfare_usd_per_month)


@kernel
def _welfare(stage, per_month_usd):
    out = np.empty(stage.size)
    for i in range(stage.size):
        out[i] = welfare_transfer_usd(stage[i], per_month_usd)
    return out


def build_roads(model, soles: float) -> np.ndarray:
    """Roads: connect the farmland nearest the network in accepting districts, cell by cell.

    A cell of a smaller valley holds ``scale`` times the land and people (scaling rule), so its
    road costs ``scale`` times as much: the same budget share builds the same map of roads.

    Returns:
        The cells connected this month.
    """
    pp, L, scale = model.params.programme, model.landscape, model.params.scale
    model.road_fund_soles += soles
    cost = pp.road_cost_soles_per_cell * scale
    n = int(model.road_fund_soles // cost)
    if n <= 0:
        return _NO_CELLS
    dist = L.layer("dist_road")
    candidates, key, pick = _road_candidates(
        model.district_accepting,
        L.district,
        L.road,
        L.layer("farm_capacity_ha"),
        dist,
        MIN_FARMED_HA * scale,
        L.cell_ha,
        n,
    )
    if candidates.size == 0:
        return _NO_CELLS
    if pick.size == 0:  # more cells than the kernel picks itself, or a NaN key: a stable sort
        pick = candidates[np.argsort(key, kind="stable")[:n]]
    L.road[pick] = True
    model.road_fund_soles -= pick.size * cost
    closer = _connect(pick, L.height, dist)
    # Access and reach where the road came closer (NumPy's exp, as for the first map).
    lp = model.params.landscape
    L.layer("market_access")[closer] = market_access(dist[closer], lp.road_access_decay_cells)
    L.layer("police_reach")[closer] = police_reach(dist[closer], lp.police_reach_decay_cells)
    model.lab_site_cache.clear()
    model.month_flows["road_cells_built"] += int(pick.size)
    return pick


_NO_CELLS = np.zeros(0, dtype=np.intp)


_FEW_ROAD_CELLS = 8
"""Up to this many road cells a month, :func:`_road_candidates` picks them itself."""


@kernel
def _road_candidates(
    district_accepting, district, road, farm_capacity_ha, dist_road, min_farm_ha, cell_ha, n
):
    """Cells a road may reach (farmland off the network in accepting districts), their rank keys.

    Also the ``n`` cells of lowest key, equal keys in cell order (as a stable sort orders them),
    for up to ``_FEW_ROAD_CELLS`` cells; they come back empty for more cells or a NaN key, and a
    stable sort picks them (:func:`build_roads`). Ties are common (distances on the grid), so the
    order among equal keys decides which cells are built: a stable order is the same on every
    machine, where NumPy's default sort orders ties by its algorithm, which depends on the CPU.
    """
    n_cells = district.size
    cells = np.empty(n_cells, dtype=np.intp)
    k = 0
    for c in range(n_cells):
        if district_accepting[district[c]] and not road[c] and farm_capacity_ha[c] > min_farm_ha:
            cells[k] = c
            k += 1
    cells = cells[:k]
    key = np.empty(k)
    for j in range(k):
        key[j] = dist_road[cells[j]] - farm_capacity_ha[cells[j]] / cell_ha
    if n > _FEW_ROAD_CELLS or k == 0:
        return cells, key, cells[:0]
    if k <= n:
        return cells, key, cells.copy()  # all of them
    # The n lowest keys, in order (insertion into a short list: a cell goes after those of equal
    # key, which come earlier in cell order; a NaN key ends it).
    low = np.full(n, np.inf)
    low_cell = np.full(n, -1, dtype=np.intp)
    for j in range(k):
        x = key[j]
        if x != x:
            return cells, key, cells[:0]
        if x >= low[n - 1] and low_cell[n - 1] >= 0:
            continue
        m = n - 1
        while m > 0 and low[m - 1] > x:
            low[m] = low[m - 1]
            low_cell[m] = low_cell[m - 1]
            m -= 1
        low[m] = x
        low_cell[m] = cells[j]
    return cells, key, low_cell.copy()


@kernel
def _connect(new_road, height, dist_road):
    """Distances to the nearest road after new road cells; returns the cells that came closer.

    New road cells can only bring cells closer: the distance to the nearest road is the smaller
    of the old distance and the distance to the new cells (exact, like a full transform).
    """
    rx, ry = new_road // height, new_road % height
    closer = np.empty(dist_road.size, dtype=np.intp)
    n_closer = 0
    width = dist_road.size // height
    for x in range(width):
        for y in range(height):
            nearest = (x - rx[0]) ** 2 + (y - ry[0]) ** 2
            for k in range(1, rx.size):
                nearest = min(nearest, (x - rx[k]) ** 2 + (y - ry[k]) ** 2)
            c = x * height + y
            if nearest >= dist_road[c] * dist_road[c] + 1.0:
                continue  # farther than its road already (a margin of 1 above any rounding)
            d = np.sqrt(float(nearest))
            if d < dist_road[c]:
                dist_road[c] = d
                closer[n_closer] = c
                n_closer += 1
    return closer[:n_closer]
