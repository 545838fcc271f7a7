"""The state's development programme: docs/odd.md.

A yearly budget (DEVIDA transferred 32 million soles to the VRAEM in 2013 and had 22 million the
next year) is spent in the districts whose mayors accept it: part on roads and bridges, which raise
market access, the rest on households, in the sequence the seed interview gives: ID registration
(unlocks welfare), land titles (unlock credit), soil recovery, quick crops (banana, gardens), then
cacao and coffee. A share of the money leaks (overhead, corruption). Households sign a no-coca
agreement once they have an alternative that pays: their legal income and transfers cover the coca
income they give up; they break it when that stops being true, when they fall into poverty with
their savings spent, or when support lapses.
"""

from __future__ import annotations

import functools

import numpy as np

from vraem.agents.farmer import HOME, REMOTE, HouseholdType, ProgrammeStage, Zone
from vraem.agents.income import in_hardship, legal_revenue
from vraem.agents.legal_crops import crop_revenues, programme_yield_factor, zone_crops
from vraem.agents.soils import relative_fertility
from vraem.economy import coca_net_usd_per_ha_year
from vraem.jit import clip, kernel, maximum, rule, unsigned, where
from vraem.landscape import MIN_FARMED_HA, market_access, police_reach


@rule
def advance_within_budget(cost_in_order, budget):
    """Which of the queued households (in priority order) the month's budget pays for."""
    return np.cumsum(cost_in_order) <= budget


@rule
def coca_income_forgone_usd(
    coca_ha, leaf_value_usd, leaf_kg_per_ha_year, fertility, cost_share, risk, risk_weight
):
    """Monthly coca income a household gives up by signing an agreement, USD (not below 0).

    Its coca hectares times the expected net income of a hectare
    (:func:`vraem.economy.coca_net_usd_per_ha_year`): revenue at its expected leaf value, less
    costs, less the expected eradication loss at its perceived risk weighted by its risk attitude
    (``farmer.risk_weight``); no moral cost (this is a comparison of incomes).
    """
    per_ha = coca_net_usd_per_ha_year(
        leaf_value_usd, leaf_kg_per_ha_year, fertility, cost_share, risk, risk_weight, 0.0
    )
    return maximum(coca_ha * per_ha / 12.0, 0.0)


@rule
def agreement_pays(legal_usd, transfers_usd, forgone_usd):
    """Whether an agreement pays: expected legal income plus transfers cover the coca income given up.

    Issue 16 (signing is a choice): trust and the programme stage gate access, this decides. A
    household whose coca pays more than its legal alternative and transfers does not sign.
    """
    return legal_usd + transfers_usd >= forgone_usd


@rule
def income_shortfall(forgone_usd, earned_usd):
    """Share of the coca income given up that a signer's legal income and transfers do not replace (0-1)."""
    return where(
        forgone_usd > 0.0, clip((forgone_usd - earned_usd) / maximum(forgone_usd, 1e-9), 0.0, 1.0), 0.0
    )


@rule
def defection_hazard(
    base_per_year,
    monitored,
    detection,
    shortfall,
    per_shortfall,
    hardship,
    poverty_multiplier,
    lapsed,
    lapse_multiplier,
    district_signed_share,
    peer_pressure,
):
    """Monthly hazard of breaking a no-coca agreement (:func:`defection_probability`)."""
    rate = base_per_year / 12.0 * where(monitored, 1.0, 1.0 / (1.0 - detection))
    return (
        rate
        * (1.0 + per_shortfall * shortfall)
        * where(hardship, poverty_multiplier, 1.0)
        * where(lapsed, lapse_multiplier, 1.0)
        * (1.0 - peer_pressure * district_signed_share)
    )


@rule
def hazard_probability(hazard):
    """Chance that an event with a constant monthly hazard happens within the month."""
    return 1.0 - np.exp(-hazard)


@rule
def defection_probability(
    base_per_year,
    monitored,
    detection,
    shortfall,
    per_shortfall,
    hardship,
    poverty_multiplier,
    lapsed,
    lapse_multiplier,
    district_signed_share,
    peer_pressure,
):
    """Monthly chance that a household under a no-coca agreement breaks it and grows coca again.

    A hazard sourced once: UNODC's 0.6% a year describes supported, verified signers (Colombia,
    2019), so it is the monitored rate with no income gap; unmonitored signers defect at that rate
    over (1 - ``monitoring_detection``). It rises with the signer's :func:`income_shortfall` (the
    coca income given up, at today's expected leaf value, that legal income and transfers do not
    replace), in hardship (:func:`vraem.agents.income.in_hardship`: poor, savings spent), and where
    promised support has lapsed (Colombia's PNIS: families complied where payments arrived and
    replanted where they did not); it falls with peer pressure in proportion to the district's
    share of signers (Monzón: 1 of 41 communities replanted and gave up when the others pressed it).
    """
    return hazard_probability(
        defection_hazard(
            base_per_year,
            monitored,
            detection,
            shortfall,
            per_shortfall,
            hardship,
            poverty_multiplier,
            lapsed,
            lapse_multiplier,
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
def delivery_intensity(soles, households, reference_soles):
    """How fully the programme delivered in a district this month (0-1).

    Soles delivered (stages paid and roads built) over what the programme's own schedule would
    deliver to every household of the district (``reference_soles`` per household and month: the
    stage costs over their minimum durations). Trust grows with delivery, not with a district's
    mere acceptance of a programme that may have almost no money (issue 16: the status quo's
    22 million soles a year must not drive trust to 1).
    """
    return clip(soles / maximum(households * reference_soles, 1e-9), 0.0, 1.0)


@rule
def welfare_transfer_usd(stage, per_month_usd):
    """Monthly welfare transfer (Juntos) of a household at a programme stage, USD: once it has an ID."""
    return where(stage >= ProgrammeStage.ID, per_month_usd, 0.0)


@kernel
def _agreements_and_trust(
    district,
    district_accepting,
    in_programme,
    months_unsupported,
    months_in_stage,
    trust,
    stage,
    funded,
    delivery,
    leave_trust,
    trust_gain,
    join_trust,
    min_months_by_stage,
):
    """The month's first pass of :func:`spend`, household by household.

    Support reaches programme members in accepting districts in funded months (``months_unsupported``
    counts the months since it last did); members whose trust collapsed leave, the others gain
    trust where their district takes the programme, in proportion to what it delivered there last
    month (``delivery``, :func:`delivery_intensity`); a month passes at every stage. Then whether
    the household queues for its next stage: in an accepting district, trusting enough
    (``join_trust``), the minimum months at its stage done. The passes have no branches (the
    compiler vectorizes them).

    Returns:
        The stage each queued household would leave (-1 when not queued), how many households
        queue, and whether any household lives in an accepting district.
    """
    n = district.size
    district = unsigned(district)
    accepting = np.empty(n, dtype=np.bool_)
    district_delivery = np.empty(n)  # gathered here: a gather keeps the next pass scalar
    any_accepting = False
    for i in range(n):
        accepting[i] = district_accepting[district[i]]
        district_delivery[i] = delivery[district[i]]
        any_accepting |= accepting[i]
    for i in range(n):
        supported = funded & in_programme[i] & accepting[i]
        months_unsupported[i] = 0.0 if supported else months_unsupported[i] + 1.0
        member = in_programme[i] & (trust[i] >= leave_trust)
        in_programme[i] = member
        gain = trust_gain * district_delivery[i]
        trust[i] = min(trust[i] + gain if member & accepting[i] else trust[i], 1.0)
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
    return queued_stage, n_queued, any_accepting


@kernel
def _advance_and_sign(
    programme_order,
    queued_stage,
    n_queued_in_all,
    district,
    zone,
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
    pays,
    coca_ha,
    coca_ha_at_signing,
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
    p_agreement,
    committed_factor,
    trust_gain_services,
    households_per_district,
    road_cell_soles,
    reference_soles,
    delivery,
):
    """Pay the queue's next stages within budget, apply them, sign agreements; services' trust.

    The queue is ``programme_order`` restricted to the ``n_queued_in_all`` households with a
    ``queued_stage``. Members at the quick crops or later sign where an agreement ``pays``
    (:func:`agreement_pays`, worked out by :func:`agreement_pays_now`). Non-members gain
    services' trust in proportion to the district's :func:`delivery_intensity` this month, written
    into ``delivery``. Returns the soles spent on households.
    """
    delivered = np.zeros(delivery.size)
    for c in new_roads:
        delivered[cell_district[c]] += road_cell_soles
    n = programme_order.size
    programme_order = unsigned(programme_order)
    # The queue is listed without a branch on who is queued (a mix, in the programme's order): each
    # household is written at the queue's end, which a queued one moves on.
    queue = np.empty(n_queued_in_all + 1, dtype=np.int64)
    n_queued = 0
    for j in range(n):
        if n_queued == n_queued_in_all:
            break  # the whole queue is listed
        i = programme_order[j]
        queue[n_queued] = i
        n_queued += queued_stage[i] >= 0
    costs = np.empty(n_queued)
    queued_cost = 0.0
    for k in range(n_queued):
        if stop_when_spent and queued_cost > household_soles:
            n_queued = k  # with no negative costs, nobody further down the queue can be paid
            break
        costs[k] = stage_cost_soles[queued_stage[queue[k]]]
        queued_cost += costs[k]
    costs = costs[:n_queued]
    paid = advance_within_budget(costs, household_soles)
    spent = 0.0
    for k in range(n_queued):
        if not paid[k]:
            continue
        i = queue[k]
        spent += costs[k]
        delivered[district[i]] += costs[k]
        stage[i] += 1
        months_in_stage[i] = 0.0
        in_programme[i] = True
        # What each newly reached stage gives: soil recovery raises the home farm's fertility;
        # quick crops (banana, gardens), then the perennial its altitude allows (cacao in the low
        # zone, coffee in the middle, food crops above), are planted on fallow, and on coca land
        # only by a household under an agreement (one that has not signed keeps its coca).
        if stage[i] == ProgrammeStage.SOIL:
            soil_bonus[i] = soil_fertility_gain
        elif stage[i] == ProgrammeStage.QUICK_CROPS or stage[i] == ProgrammeStage.PERENNIAL:
            ha = quick_crop_ha if stage[i] == ProgrammeStage.QUICK_CROPS else perennial_ha
            coca_given_up = coca_mature_home[i] if agreement[i] else 0.0
            from_fallow, from_coca = planting_from_fallow_or_coca(fallow[i], coca_given_up, ha)
            fallow[i] -= from_fallow
            coca_mature_home[i] -= from_coca
            if stage[i] == ProgrammeStage.QUICK_CROPS or zone[i] == Zone.HIGH:
                food_young[i] += from_fallow + from_coca
            elif zone[i] == Zone.LOW:
                cacao_young[i] += from_fallow + from_coca
            else:
                coffee_young[i] += from_fallow + from_coca
    for d in range(delivery.size):
        delivery[d] = delivery_intensity(delivered[d], households_per_district[d], reference_soles)
    # Signing and services' trust change only members without an agreement at the quick crops
    # or later, non-members in districts with deliveries, and trust above 1 (clipped): they are
    # listed in a pass without branches, then visited.
    n = stage.size
    district = unsigned(district)
    may_sign = np.empty(n, dtype=np.uint32)
    gains = np.empty(n, dtype=np.uint32)
    n_may_sign = 0
    n_gains = 0
    n_above = 0
    for i in range(n):
        member = in_programme[i]
        may_sign[n_may_sign] = i
        n_may_sign += member & (not agreement[i]) & (stage[i] >= ProgrammeStage.QUICK_CROPS)
        gains[n_gains] = i
        n_gains += (delivery[district[i]] > 0.0) & (not member)
        n_above += trust[i] > 1.0
    for k in range(n_may_sign):
        i = may_sign[k]
        committed = kind[i] == HouseholdType.COMMITTED
        if pays[i] and u[i] < agreement_probability(p_agreement, committed, committed_factor):
            agreement[i] = True
            value_at_signing[i] = expected_leaf_value[i]
            coca_ha_at_signing[i] = coca_ha[i]
    # Roads and services delivered in a district raise everyone's trust there, not only
    # programme members': the way in for households below the joining threshold.
    for k in range(n_gains):
        i = gains[k]
        trust[i] = min(trust[i] + trust_gain_services * delivery[district[i]], 1.0)
    if n_above > 0:
        for i in range(n):
            if trust[i] > 1.0:
                trust[i] = 1.0
    return spent


def spend(model, budget_soles: float, monitor_agreements: bool = False) -> None:
    """Spend the month's development budget in accepting districts; signers keep or break faith.

    In order: households whose trust collapsed leave, members in accepting districts gain trust;
    signers keep or break their agreement (:func:`break_agreements`); a share
    ``programme.leakage_share`` of the budget is lost to overhead, leakage and corruption; then
    roads (:func:`build_roads`), and the queue (households in ``programme_order`` that may take
    their next stage) is paid within the budget (:func:`advance_within_budget`), each stage giving
    its effect (:func:`planting_from_fallow_or_coca`); members for whom an agreement pays
    (:func:`agreement_pays_now`) sign (:func:`agreement_probability`); districts served raise the
    trust of non-members.
    """
    p, h, L, f = model.params, model.households, model.landscape, model.month_flows
    pp, fp = p.programme, p.farmer
    u = model.streams.programme.random(h.n)
    u_compliance = model.streams.compliance.random(h.n)
    signed_share = _signed_share(model)
    queued_stage, n_queued, any_accepting = _agreements_and_trust(
        h.district,
        model.district_accepting,
        h.in_programme,
        h.months_unsupported,
        h.months_in_stage,
        h.trust,
        h.stage,
        bool(budget_soles > 0),
        model.district_delivery,
        pp.leave_trust,
        fp.trust_gain_per_month_programme,
        pp.join_trust,
        _constant_array((0, *(m * pp.stage_duration_multiplier for m in pp.stage_min_months))),
    )
    f["agreements_broken"] += break_agreements(model, u_compliance, monitor_agreements, signed_share)
    if budget_soles <= 0 or not any_accepting:
        f["soles_unspent"] += budget_soles
        model.district_delivery[:] = 0.0
        return

    leaked = budget_soles * pp.leakage_share
    f["soles_leaked"] += leaked
    budget_soles -= leaked
    road_soles = budget_soles * pp.road_share if not L.road.all() else 0.0
    new_roads = build_roads(model, road_soles)
    household_soles = budget_soles - road_soles
    stage_costs = tuple(c * pp.stage_cost_multiplier for c in pp.stage_cost_soles)
    stage_months = tuple(m * pp.stage_duration_multiplier for m in pp.stage_min_months)
    spent = _advance_and_sign(
        h.programme_order,
        queued_stage,
        n_queued,
        h.district,
        h.zone,
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
        agreement_pays_now(model),
        h.coca_ha(),
        h.coca_ha_at_signing,
        h.soil_bonus,
        h.fallow,
        h.coca_mature[HOME],
        h.food_young,
        h.cacao_young,
        h.coffee_young,
        u,
        household_soles,
        _constant_array(stage_costs),
        min(stage_costs) >= 0,
        pp.soil_fertility_gain,
        pp.quick_crop_ha,
        pp.perennial_ha,
        pp.p_agreement_per_month,
        pp.committed_agreement_factor,
        pp.trust_gain_per_month_services,
        model._households_per_district,
        pp.road_cost_soles_per_cell * p.scale,
        sum(stage_costs) / max(sum(stage_months), 1e-9),
        model.district_delivery,
    )
    f["soles_spent"] += spent + road_soles
    f["soles_unspent"] += household_soles - spent


def _signed_share(model) -> np.ndarray:
    """Share of each district's households under an agreement (peer pressure)."""
    h = model.households
    return _signed_share_by_district(h.district, h.agreement, model._households_per_district)


@kernel
def _signed_share_by_district(district, agreement, households_per_district):
    """Signers per district over its households (as ``np.bincount`` with the agreements as weights)."""
    share = np.zeros(households_per_district.size)
    for i in range(district.size):
        if agreement[i]:  # signers are few: the others add 0 and are skipped
            share[district[i]] += 1.0
    for d in range(share.size):
        share[d] /= households_per_district[d]
    return share


def agreement_pays_now(model) -> np.ndarray:
    """Whether an agreement pays each household this month (rule :func:`agreement_pays`).

    Its expected legal income under the agreement: the legal revenue
    (:func:`vraem.agents.income.legal_revenue`, at this month's legal prices from
    :func:`vraem.agents.legal_crops.crop_revenues`) of its legal crops, young and mature, and of its
    coca land given to the best crop its altitude zone allows (:func:`vraem.agents.legal_crops.zone_crops`),
    net of ``farmer.legal_cost_share``; its transfers (welfare, :func:`welfare_transfer_usd`); the
    coca income it gives up (:func:`coca_income_forgone_usd`). Worked out in a kernel only for
    households that could sign this month (no agreement, at or one stage before the quick crops).
    """
    p, h, L = model.params, model.households, model.landscape
    fp, cp = p.farmer, p.crops
    cacao_usd, coffee_usd, food_usd = crop_revenues(model)
    return _agreement_pays(
        h.agreement,
        h.stage,
        h.zone,
        h.cell,
        h.coca_young,
        h.coca_mature,
        h.food_young,
        h.food_mature,
        h.cacao_young,
        h.cacao_mature,
        h.coffee_young,
        h.coffee_mature,
        h.soil_home,
        h.soil_bonus,
        h.expected_leaf_value,
        h.risk,
        L.layer("market_access"),
        float(cacao_usd),
        float(coffee_usd),
        float(food_usd),
        p.landscape.initial_fertility_farmed,
        cp.programme_yield_bonus,
        cp.coca_leaf_kg_per_ha_year,
        fp.coca_cost_share,
        fp.risk_weight,
        fp.legal_cost_share,
        p.programme.welfare_usd_per_month,
    )


@kernel
def _agreement_pays(
    agreement,
    stage,
    zone,
    cell,
    coca_young,
    coca_mature,
    food_young,
    food_mature,
    cacao_young,
    cacao_mature,
    coffee_young,
    coffee_mature,
    soil_home,
    soil_bonus,
    expected_leaf_value,
    risk,
    market_access,
    cacao_usd,
    coffee_usd,
    food_usd,
    initial_fertility,
    yield_bonus,
    leaf_kg_per_ha_year,
    coca_cost_share,
    risk_weight,
    legal_cost_share,
    welfare_usd,
):
    """:func:`agreement_pays_now`, household by household (only those that could sign).

    The test runs for every household in a loop the compiler vectorizes (the market access of
    each household's cell gathered into a column first); those that could not sign get False.
    """
    n = agreement.size
    access = np.empty(n)
    cell = unsigned(cell)
    for i in range(n):
        access[i] = market_access[cell[i]]
    pays = np.empty(n, dtype=np.bool_)
    for i in range(n):
        could_sign = not agreement[i] and stage[i] >= ProgrammeStage.QUICK_CROPS - 1
        coca = (coca_young[HOME, i] + coca_mature[HOME, i]) + (coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        to_cacao, to_coffee, to_food = zone_crops(zone[i], cacao_usd, coffee_usd, food_usd)
        fertility = relative_fertility(soil_home[i], initial_fertility, soil_bonus[i])
        revenue = legal_revenue(
            food_young[i] + food_mature[i] + coca * to_food,
            cacao_young[i] + cacao_mature[i] + coca * to_cacao,
            coffee_young[i] + coffee_mature[i] + coca * to_coffee,
            food_usd,
            cacao_usd,
            coffee_usd,
            programme_yield_factor(stage[i], yield_bonus),
            fertility,
            access[i],
        )
        forgone = coca_income_forgone_usd(
            coca,
            expected_leaf_value[i],
            leaf_kg_per_ha_year,
            fertility,
            coca_cost_share,
            risk[i],
            risk_weight,
        )
        pays[i] = could_sign & agreement_pays(
            revenue * (1.0 - legal_cost_share), welfare_transfer_usd(stage[i], welfare_usd), forgone
        )
    return pays


def break_agreements(model, u: np.ndarray, monitored: bool, signed_share: np.ndarray) -> int:
    """Signers keep or break their agreements (rule :func:`defection_probability`); returns how many broke.

    A signer's income shortfall compares the coca it gave up (``coca_ha_at_signing``, valued as
    :func:`coca_income_forgone_usd` at today's expected leaf value and risk) with its legal income
    last month and its welfare; hardship is :func:`vraem.agents.income.in_hardship`. A defector
    loses its agreement, wants coca again like any household of its type, and may sign again.
    """
    p, h = model.params, model.households
    pp, fp = p.programme, p.farmer
    return _break_agreements(
        h.agreement,
        h.soil_home,
        h.soil_bonus,
        h.coca_ha_at_signing,
        h.expected_leaf_value,
        h.risk,
        h.legal_income,
        h.stage,
        h.income,
        h.savings,
        h.months_unsupported,
        h.district,
        u,
        signed_share,
        bool(monitored),
        p.landscape.initial_fertility_farmed,
        p.crops.coca_leaf_kg_per_ha_year,
        fp.coca_cost_share,
        fp.risk_weight,
        pp.welfare_usd_per_month,
        pp.defection_per_year,
        pp.monitoring_detection,
        pp.defection_per_income_gap,
        fp.poverty_line_usd_per_month,
        pp.defection_poverty_multiplier,
        pp.support_lapse_months,
        pp.defection_lapse_multiplier,
        pp.peer_pressure,
    )


@kernel
def _break_agreements(
    agreement,
    soil_home,
    soil_bonus,
    coca_ha_at_signing,
    expected_leaf_value,
    risk,
    legal_income,
    stage,
    income,
    savings,
    months_unsupported,
    district,
    u,
    signed_share,
    monitored,
    initial_fertility,
    leaf_kg_per_ha_year,
    coca_cost_share,
    risk_weight,
    welfare_usd,
    defection_per_year,
    detection,
    per_income_gap,
    poverty_line,
    poverty_multiplier,
    lapse_months,
    lapse_multiplier,
    peer_pressure,
):
    """:func:`break_agreements`, signer by signer; returns how many broke."""
    broke = 0
    for i in range(agreement.size):
        if not agreement[i]:
            continue
        fertility = relative_fertility(soil_home[i], initial_fertility, soil_bonus[i])
        forgone = coca_income_forgone_usd(
            coca_ha_at_signing[i],
            expected_leaf_value[i],
            leaf_kg_per_ha_year,
            fertility,
            coca_cost_share,
            risk[i],
            risk_weight,
        )
        earned = legal_income[i] + welfare_transfer_usd(stage[i], welfare_usd)
        hazard = defection_hazard(
            defection_per_year,
            monitored,
            detection,
            income_shortfall(forgone, earned),
            per_income_gap,
            in_hardship(income[i], savings[i], poverty_line),
            poverty_multiplier,
            months_unsupported[i] >= lapse_months,
            lapse_multiplier,
            signed_share[district[i]],
            peer_pressure,
        )
        # defection_probability is 1 - exp(-hazard), at most the hazard (plus a few 1e-16 of
        # rounding): a draw above that bound keeps the agreement without the exp (most draws).
        if u[i] >= hazard * (1.0 + 1e-9) + 1e-15:
            continue
        if u[i] < hazard_probability(hazard):
            agreement[i] = False
            broke += 1
    return broke


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
