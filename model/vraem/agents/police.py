"""Police and military units: docs/odd.md.

Budget-limited monthly capacities (from the policy timeline) for eradication, lab raids, airstrip
destructions, flight interdictions and courier arrests, less what poor coordination between
police, military and civil authorities wastes (seed interview). Eradication teams choose fields
by the scenario's targeting rule; where a community's hostility is high they can meet resistance
(Samugari: stones and shotguns, the forces withdrew): the operation fails, hostility rises, and
there may be casualties. Corruption warns clans of raids (seed article: plata before plomo).
"""

from __future__ import annotations

import math

import numpy as np

from vraem.agents.farmer import HOME, REMOTE
from vraem.agents.replanting import respond_to_eradication
from vraem.jit import clip, kernel, pairwise_sum, rule, unsigned
from vraem.landscape import SitedAgent
from vraem.policy import Levers, Targeting
from vraem.rng import skip

ROUNDING_MARGIN = 1e-12
"""Relative margin by which the running total must pass the capacity before the rest of a ranking
is skipped: the arithmetic of :func:`allocate_eradication` (``total - coca``) could otherwise give
the next field a sliver of a few ulp. Far above rounding (1e-16), far below a hectare's meaning."""


@rule
def resistance_probability(hostility, threshold, slope):
    """Chance that an operation in a district meets resistance (logistic in hostility)."""
    return 1.0 / (1.0 + np.exp(-slope * (hostility - threshold)))


N_BUCKETS = 64
"""Buckets of priority by which :func:`_take_in_order` guesses how far down a ranking its capacity
reaches, so that the heap holds only the fields before that point."""


REACH_FACTOR = 0.9
"""Next month's reach of a district's ranking, as a share of the priority of the last plot planned
this month (:func:`_intelligence_plan`): it lists the plots with at least 90% of that plot's
(blurred) coca. Speed only, never the plan: 0.5 listed too few plots (slower than the histogram),
0.95 fell short every other month (docs/performance.md)."""


USED_UP, RAN_OUT, UNSURE = 0, 1, 2
"""How :func:`_heap_take` ended: the capacity was used, the fields ran out first, or whether the
capacity was used depends on the most coca of a field, known only within bounds."""


@kernel
def _take_in_order(coca, keys, idx, capacity_ha, out, taken, n_taken):
    """Fill ``out[idx]`` in order of ``keys`` (lowest first) until ``capacity_ha`` is used.

    The fields given capacity are listed in ``taken[n_taken:]`` (in the order they were given it);
    returns the new count. ``keys`` and ``idx`` (the fields' priorities and indices) may be reordered.

    The capacity usually reaches a few percent of the coca in a month, so only the fields with the
    lowest priorities are ranked: a histogram of the coca by priority (``N_BUCKETS`` equal slices
    between the lowest and highest) shows below which slice the capacity should run out, and the
    heap of :func:`_heap_take` gets only the fields up to that slice. A field's slice can only grow
    with its priority, so those fields come first in the full order, ties included, and are handed
    out exactly as from the full ranking. The histogram's sums are only a guess: if the capacity
    outlasts the chosen fields, the whole ranking is taken in order instead (the same fields get
    the same values again).
    """
    size = idx.size
    largest = 0.0
    lo, hi = np.inf, -np.inf
    ordered = True  # no NaN priority (a NaN has no slice)
    for k in range(size):
        largest = max(largest, coca[idx[k]])
        lo = min(lo, keys[k])
        hi = max(hi, keys[k])
        ordered &= keys[k] == keys[k]
    if size > 4 * N_BUCKETS and ordered and 0.0 < hi - lo < np.inf:
        scale = N_BUCKETS / (hi - lo)
        coca_by_bucket = np.zeros(N_BUCKETS)
        for k in range(size):
            coca_by_bucket[min(int((keys[k] - lo) * scale), N_BUCKETS - 1)] += coca[idx[k]]
        cut = N_BUCKETS - 1
        reached = 0.0
        for b in range(N_BUCKETS):
            reached += coca_by_bucket[b]
            if reached > capacity_ha * (1.0 + 1e-6) + 1e-9 * largest:  # clear of rounding
                cut = b
                break
        if cut < N_BUCKETS - 1:
            first_keys = np.empty(size)
            first_idx = np.empty(size, dtype=idx.dtype)
            m = 0
            for k in range(size):  # no branch: a field up to the cut moves m on
                first_keys[m], first_idx[m] = keys[k], idx[k]
                m += min(int((keys[k] - lo) * scale), N_BUCKETS - 1) <= cut
            used, ended = _heap_take(
                coca, first_keys[:m], first_idx[:m], capacity_ha, largest, largest, out, taken, n_taken
            )
            if ended == USED_UP:
                return used
    return _heap_take(coca, keys, idx, capacity_ha, largest, largest, out, taken, n_taken)[0]


@kernel
def _heap_take(coca, keys, idx, capacity_ha, largest, largest_bound, out, taken, n_taken):
    """:func:`_take_in_order` from a binary heap of the fields given.

    The heap hands out the fields in the order a stable sort would (ties by index), but only as
    many as the capacity reaches, so the rest is never sorted. The most coca of a field in the
    whole ranking (in the margin by which the capacity counts as used) lies between ``largest``
    and ``largest_bound`` (the same number when it is known). Returns the new count of ``taken``
    and how the heap ended (``USED_UP``, ``RAN_OUT`` or ``UNSURE``, when the bounds disagree).
    """
    size = idx.size
    unbuilt = size // 2  # heap construction sifts down nodes unbuilt-1 .. 0, then fields are taken
    total = 0.0
    while size > 0:
        if unbuilt > 0:
            unbuilt -= 1
            i = unbuilt
        else:
            top = idx[0]
            total += coca[top]
            before = total - coca[top]
            out[top] = clip(capacity_ha - before, 0.0, coca[top])
            taken[n_taken] = top
            n_taken += 1
            if total - capacity_ha > ROUNDING_MARGIN * (total + largest_bound):
                return n_taken, USED_UP  # every later field starts past the capacity: it gets nothing
            if total - capacity_ha > ROUNDING_MARGIN * (total + largest):
                return n_taken, UNSURE
            size -= 1
            keys[0], idx[0] = keys[size], idx[size]
            i = 0
        key, index = keys[i], idx[i]
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            right = child + 1
            if right < size and (
                keys[right] < keys[child] or (keys[right] == keys[child] and idx[right] < idx[child])
            ):
                child = right
            if not (keys[child] < key or (keys[child] == key and idx[child] < index)):
                break
            keys[i], idx[i] = keys[child], idx[child]
            i = child
        keys[i], idx[i] = key, index
    return n_taken, RAN_OUT


@kernel
def allocate_eradication(coca_by_cell, priority, capacity_ha):
    """Hectares eradicated per cell: cells in priority order (lowest first) until capacity runs out."""
    keys = np.empty(coca_by_cell.size)
    idx = np.empty(coca_by_cell.size, dtype=np.int64)
    n = 0
    for c in range(coca_by_cell.size):  # keep the cells with coca (no branch: a kept cell moves n on)
        keys[n], idx[n] = priority[c], c
        n += coca_by_cell[c] > 0
    out = np.zeros_like(coca_by_cell)
    _take_in_order(coca_by_cell, keys[:n], idx[:n], capacity_ha, out, np.empty(n, dtype=np.int64), 0)
    return out


@rule
def intelligence_priority(coca_ha, u, corruption):
    """Rank of a plot for intelligence-led eradication, lowest first (docs/odd.md).

    Informants name the plots with most coca; corruption (``clan.corruption``) blurs the ranking,
    by a uniform draw ``u`` per plot.
    """
    return -coca_ha * (1.0 + u * corruption)


@kernel
def district_blocks(plot_district, n_districts):
    """Where each district's block of plots starts in an array of all plots grouped by district.

    Each block has room for the district's plots and one spare slot (see :func:`_rank_plots`); the
    last entry is the length of the whole array.
    """
    block = np.zeros(n_districts + 1, dtype=np.int64)
    for i in range(plot_district.size):
        block[plot_district[i] + 1] += 1
    for d in range(n_districts):
        block[d + 1] += block[d] + 1
    return block


@kernel
def live_plots(plots):
    """Indices of the plots that hold coca (or any non-zero area), in plot order.

    Plots without coca add nothing to any sum of the plan and lose nothing, so the month's passes
    run over these only (in the second half of a run most households grow none).
    """
    live = np.empty(plots.size, dtype=np.uint32)
    n = 0
    for i in range(plots.size):  # no branch: a live plot moves n on
        live[n] = i
        n += plots[i] != 0.0
    return live[:n]


@kernel
def _rank_plots(plots, live, plot_district, block, rank, u, corruption, reach):
    """Each district's coca (ha) and, when ``rank``, its plots with coca and their priorities.

    ``live`` lists the plots to visit (:func:`live_plots`; the others hold no coca). District
    ``d``'s plots with coca and a priority up to ``reach[d]`` (``inf``: all) are
    ``idx[block[d] : end[d]]``, in plot order, with priorities ``keys``
    (:func:`intelligence_priority`). Plots are copied without a branch: each is written at its
    block's end, which a listed plot moves on and another leaves to be overwritten.
    """
    n_districts = block.size - 1
    plot_district = unsigned(plot_district)
    coca_d = np.zeros(n_districts)
    end = unsigned(block[:-1].copy())
    keys = np.empty(block[-1] if rank else 0)
    idx = np.empty(keys.size, dtype=np.uint32)
    for i in live:
        # A plot's coca and its block's end read once: the stores between could alias them for
        # the compiler, which read them again.
        d = plot_district[i]
        coca = plots[i]
        coca_d[d] += coca
        if rank:
            at = end[d]
            key = intelligence_priority(coca, u[i], corruption)
            keys[at], idx[at] = key, i
            end[d] = at + ((coca > 0) & (key <= reach[d]))
    return coca_d, keys, idx, end


@kernel
def intelligence_plan(plots, plot_district, district_trust, u, corruption, capacity_ha, n_districts):
    """Intelligence-led eradication plan per plot (ha).

    Informants point to the densest fields where communities cooperate: the month's capacity is
    shared among districts in proportion to their coca times their mean trust in the state, and
    within a district goes to the plots with most coca first (corruption blurs the ranking). Sharing
    by district first keeps the plan the same at any scale of the valley: ranking all plots at
    once sends a small valley's few teams to fewer districts than the full valley's.
    """
    block = district_blocks(plot_district, n_districts)
    live = live_plots(plots)
    reach = np.full(n_districts, np.inf)
    coca_d, keys, idx, end = _rank_plots(plots, live, plot_district, block, True, u, corruption, reach)
    plan = np.zeros_like(plots)
    taken = np.empty(idx.size, dtype=np.uint32)
    _intelligence_plan(
        plots, coca_d, keys, idx, block, end, district_trust, capacity_ha, plan, taken, reach, live,
        plot_district, u, corruption,
    )  # fmt: skip
    return plan


@kernel
def _intelligence_plan(
    plots, coca_d, keys, idx, block, end, district_trust, capacity_ha, plan, taken, reach, live,
    plot_district, u, corruption,
):  # fmt: skip
    """:func:`intelligence_plan` from :func:`_rank_plots`' sums and rankings, into ``plan``.

    Only the plots given capacity are written, and listed in ``taken`` (district by district, in
    the order they were given it); returns how many.

    A district ranked up to a finite ``reach[d]`` (:func:`_rank_plots`) is planned from those
    plots alone: they come first in the full order, ties included, so they are handed out as
    from the full ranking as long as the capacity is used among them. The margin of that test
    needs the district's most coca; the plots left out hold less than ``-reach[d]`` (a priority
    is minus the coca times at least 1, with ``u`` in [0, 1) and ``corruption >= 0``), which
    bounds it. When the capacity outlasts the listed plots, or the bound leaves the test open, the
    district's plots are ranked in full (:func:`_take_in_order`). Each planned district's ``reach``
    is then set for next month: ``REACH_FACTOR`` (0.9) times the priority of the last plot planned,
    which lists the plots with at least 90% of its (blurred) coca. A month's capacity and coca
    change little: in ``integrated`` at 20,000 households that lists about 1,500 plots a month of
    the valley's 27,000 with coca, and a district is ranked in full about once in 25 months
    (``REACH_FACTOR`` says why 0.9).
    """
    weight = coca_d * district_trust
    total = pairwise_sum(weight)
    if total <= 0:
        return 0
    share = capacity_ha * weight / total
    n_taken = 0
    for d in range(coca_d.size):
        if share[d] <= 0:
            continue
        first, last = block[d], end[d]
        start = n_taken
        done = False
        if reach[d] < np.inf:
            largest = 0.0
            for k in range(first, last):
                largest = max(largest, plots[idx[k]])
            n_taken, ended = _heap_take(
                plots, keys[first:last], idx[first:last], share[d], largest, max(largest, -reach[d]), plan,
                taken, n_taken,
            )  # fmt: skip
            done = ended == USED_UP
            if not done:  # every plot of the district with coca, ranked in full
                n_taken = start
                last = first
                for i in live:  # no branch: a plot of the district with coca moves last on
                    keys[last] = intelligence_priority(plots[i], u[i], corruption)
                    idx[last] = i
                    last += (plot_district[i] == d) & (plots[i] > 0)
        if not done:
            n_taken = _take_in_order(plots, keys[first:last], idx[first:last], share[d], plan, taken, n_taken)
        reach[d] = np.inf
        if n_taken > start and corruption >= 0:
            i = taken[n_taken - 1]
            key = intelligence_priority(plots[i], u[i], corruption)
            if key < 0:
                reach[d] = REACH_FACTOR * key
    return n_taken


def effective_capacity(capacity, coordination_waste):
    """Capacity left after coordination losses between police, military and civil authorities."""
    return capacity * (1.0 - coordination_waste)


class SecurityUnit(SitedAgent):
    """A police or military unit; it moves to where it operated last (for the map).

    ``site`` is its flat cell index; its Mesa ``cell`` is looked up when read.
    """

    def __init__(self, model, idx: int, site: int) -> None:
        super().__init__(model, site)
        self.idx = idx


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
    # Every month moves the eradication stream past one draw per cell, then one per plot, whichever
    # of them the targeting uses (skip: the same stream positions, without making unused draws).
    draws = model.streams.eradication
    u_resist = model.streams.resistance.random(n_d)
    casualties_draw = model.streams.resistance.poisson(sp.casualties_per_confrontation, n_d)
    capacity = effective_capacity(levers.eradication_ha, sp.coordination_waste)
    if capacity <= 0:
        skip(draws, L.n_cells + 2 * h.n)
        respond_to_eradication(model, None, None, levers.p_replant)
        model.district_eradicated_share[:] = 0.0
        return
    intelligence = levers.targeting is Targeting.INTELLIGENCE
    if intelligence:  # plots are ranked, not cells: the cell priority is unused (only its size is read)
        skip(draws, L.n_cells)
        cell_priority = np.zeros(L.n_cells)
        u_plots = draws.random(2 * h.n)
    else:
        u_cells = draws.random(L.n_cells)
        skip(draws, 2 * h.n)
        u_plots = np.empty(0)  # unused: cells are ranked
        if levers.targeting is Targeting.ACCESSIBLE:
            cell_priority = L.layer("dist_road") + u_cells
        else:
            cell_priority = u_cells
    plot_cell, plot_district, block = fields_of(model)
    e_home, e_remote, confrontations, casualties, planned_ha, effort_by_cell = _eradicate_plots(
        h.coca_young,
        h.coca_mature,
        bool(levers.spare_agreement_households),
        h.agreement,
        plot_cell,
        plot_district,
        block,
        intelligence,
        cell_priority,
        u_plots,
        model.district_mean_trust,
        p.clan.corruption,
        capacity,
        model.hostility,
        u_resist,
        casualties_draw,
        sp.resistance_threshold,
        sp.resistance_slope,
        sp.hostility_per_share_eradicated,
        sp.hostility_after_confrontation,
        model.district_eradicated_share,
        eradication_reach(model),
    )
    respond_to_eradication(model, e_home, e_remote, levers.p_replant)
    f["confrontations"] += confrontations
    f["casualties"] += casualties
    f["eradication_planned_ha"] += planned_ha
    move_units(model, effort_by_cell)


def eradication_reach(model) -> np.ndarray:
    """How far down each district's ranking intelligence-led eradication looks (kept on the model).

    Set each month by :func:`_intelligence_plan` from the month's plan; ``inf`` (the whole ranking)
    until then. Only the speed of the plan depends on it, never the plan.
    """
    reach = getattr(model, "_eradication_reach", None)
    if reach is None:
        reach = model._eradication_reach = np.full(model.params.landscape.n_districts, np.inf)
    return reach


def fields_of(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell and district of every plot (home plots, then remote fields), and the districts' blocks.

    Households never move (their home cell and remote field are drawn once, in
    ``farmer.create_households``), so these are made on the first call and kept on the model.
    """
    fields = getattr(model, "_eradication_fields", None)
    if fields is None:
        h, L = model.households, model.landscape
        plot_cell = np.concatenate((h.cell, h.remote_cell))
        plot_district = L.district[plot_cell].astype(np.int16)
        fields = plot_cell, plot_district, district_blocks(plot_district, model.params.landscape.n_districts)
        model._eradication_fields = fields
    return fields


@kernel
def _eradicate_plots(
    coca_young,
    coca_mature,
    spare_agreements,
    agreement,
    plot_cell,
    plot_district,
    block,
    intelligence,
    cell_priority,
    u_plots,
    district_trust,
    corruption,
    capacity_ha,
    hostility,
    u_resist,
    casualties_draw,
    resistance_threshold,
    resistance_slope,
    hostility_per_share,
    hostility_after_confrontation,
    eradicated_share,
    reach,
):
    """The month's eradication plan, resistance and destruction, plot by plot (see :func:`eradicate`).

    Updates the coca (young and mature alike lose each plot's planned share), the districts'
    hostility and eradicated share in place, and, under intelligence-led targeting, how far down
    each district's ranking to look next month (``reach``, :func:`_intelligence_plan`). Returns the
    coca destroyed per household on the home and remote plots, the confrontations (districts that
    resisted) and their casualties, the hectares planned and the hectares eradicated per cell.
    """
    n = coca_young.shape[1]
    n_d = hostility.size
    n_cells = cell_priority.size
    # Unsigned indices throughout (jit.unsigned, and the uint32 plot lists): no negative-index checks.
    plot_cell, plot_district = unsigned(plot_cell), unsigned(plot_district)
    plots = np.empty(2 * n)  # home plots, then remote fields
    home_plots, remote_fields = plots[:n], plots[n:]
    # A loop the compiler vectorizes: no branch (& where `and` would branch) and no computed index
    # (plots[n + j] was checked for being negative).
    for j in range(n):
        counted = 0.0 if spare_agreements & agreement[j] else 1.0
        home_plots[j] = (coca_young[HOME, j] + coca_mature[HOME, j]) * counted
        remote_fields[j] = (coca_young[REMOTE, j] + coca_mature[REMOTE, j]) * counted
    # Plots without coca add nothing to the sums below and lose nothing: only the others are visited.
    live = live_plots(plots)
    coca_d, keys, idx, end = _rank_plots(
        plots, live, plot_district, block, intelligence, u_plots, corruption, reach
    )
    plan = np.empty(2 * n)  # written and read at live plots only
    # Plots with nothing planned add nothing to the sums below and lose nothing: only the others
    # are listed, in plot order (the order of every sum below).
    planned = np.empty(live.size, dtype=np.uint32)
    n_planned = 0
    planned_d = np.zeros(n_d)
    if intelligence:  # a few percent of the plots are given capacity: sort those, not scan all
        taken = np.empty(live.size, dtype=np.uint32)
        n_taken = _intelligence_plan(
            plots, coca_d, keys, idx, block, end, district_trust, capacity_ha, plan, taken, reach, live,
            plot_district, u_plots, corruption,
        )  # fmt: skip
        for i in np.sort(taken[:n_taken]):
            if plan[i] != 0:
                planned_d[plot_district[i]] += plan[i]
                planned[n_planned] = i
                n_planned += 1
    else:
        by_cell = np.zeros(n_cells)
        for i in live:
            by_cell[plot_cell[i]] += plots[i]
        cell_plan = allocate_eradication(by_cell, cell_priority, capacity_ha)
        frac = np.zeros(n_cells)
        for c in range(n_cells):
            if by_cell[c] > 0:
                frac[c] = cell_plan[c] / by_cell[c]
        for i in live:
            plan[i] = plots[i] * frac[plot_cell[i]]
        for i in live:
            if plan[i] != 0:
                planned_d[plot_district[i]] += plan[i]
                planned[n_planned] = i
                n_planned += 1
    resisted = np.zeros(n_d, dtype=np.bool_)
    for d in range(n_d):
        p_resist = resistance_probability(hostility[d], resistance_threshold, resistance_slope)
        resisted[d] = planned_d[d] > 0 and u_resist[d] < p_resist
    done_d = np.zeros(n_d)
    effort_by_cell = np.zeros(n_cells)
    destroyed = np.zeros((2, n))
    for i in planned[:n_planned]:
        d = plot_district[i]
        if resisted[d]:
            continue
        k, j = (HOME, i) if i < n else (REMOTE, i - n)
        hit = plan[i] / plots[i] if plots[i] > 0 else 0.0
        destroyed[k, j] = plots[i] * hit
        keep = 1.0 - hit
        coca_young[k, j] *= keep
        coca_mature[k, j] *= keep
        done_d[d] += plan[i]
        effort_by_cell[plot_cell[i]] += plan[i]
    confrontations = casualties = 0
    for d in range(n_d):
        share = done_d[d] / coca_d[d] if coca_d[d] > 0 else 0.0
        eradicated_share[d] = share
        raised = hostility[d] + hostility_per_share * share
        if resisted[d]:
            raised += hostility_after_confrontation
            confrontations += 1
            casualties += casualties_draw[d]
        hostility[d] = clip(raised, 0.0, 1.0)
    return (
        destroyed[HOME],
        destroyed[REMOTE],
        confrontations,
        casualties,
        pairwise_sum(planned_d),
        effort_by_cell,
    )


def move_units(model, effort_by_cell: np.ndarray) -> None:
    """Send each unit to one of the cells where most work was done this month."""
    units = model.security_units
    if effort_by_cell.max() <= 0:
        return
    k = min(len(units), effort_by_cell.size)
    top = np.argpartition(-effort_by_cell, k - 1)[:k]
    for unit, c in zip(units, top, strict=False):
        if effort_by_cell[c] > 0:
            unit.site = int(c)


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
    n = math.floor(effective_capacity(raids, sp.coordination_waste) + u_pick[0])
    if n <= 0:
        return
    raided, destroyed, confronted, seized = _raid_labs(
        labs.cell,
        labs.clan,
        labs.active,
        labs.rebuild_in,
        u_pick,
        u_warn,
        u_resist,
        L.layer("police_reach"),
        L.district,
        model.hostility,
        sp.resistance_threshold,
        sp.resistance_slope,
        n,
        p.clan.corruption,
        p.clan.lab_rebuild_months,
        model.clan_stock_kg,
    )
    if raided == 0:
        return
    f["confrontations"] += int(confronted)
    f["labs_raided"] += int(raided)
    f["labs_destroyed"] += int(destroyed)
    f["seized_t"] += float(seized.sum()) / 1_000.0


@kernel
def _raid_labs(
    lab_cell,
    lab_clan,
    active,
    rebuild_in,
    u_pick,
    u_warn,
    u_resist,
    police_reach,
    cell_district,
    hostility,
    resistance_threshold,
    resistance_slope,
    n_raids,
    corruption,
    rebuild_months,
    clan_stock_kg,
):
    """The month's raids (see :func:`raid_labs`); updates the labs and the clans' stock in place.

    Returns the labs raided, the labs destroyed, the districts that resisted and the kg seized
    per clan.
    """
    n_clans = clan_stock_kg.size
    candidates = np.flatnonzero(active)
    if candidates.size == 0:
        return 0, 0, 0, np.zeros(n_clans)
    order_key = np.empty(candidates.size)
    active_by_clan = np.zeros(n_clans, dtype=np.int64)
    for k in range(candidates.size):
        lab = candidates[k]
        order_key[k] = u_pick[lab] / (police_reach[lab_cell[lab]] + 1e-3)
        active_by_clan[lab_clan[lab]] += 1
    targets = candidates[np.argsort(order_key)[:n_raids]]
    confronted = np.zeros(hostility.size, dtype=np.bool_)
    caught_by_clan = np.zeros(n_clans, dtype=np.int64)
    destroyed = 0
    for lab in targets:
        d = cell_district[lab_cell[lab]]
        if u_resist[d] < resistance_probability(hostility[d], resistance_threshold, resistance_slope):
            confronted[d] = True
            continue
        active[lab] = False
        rebuild_in[lab] = rebuild_months
        destroyed += 1
        # Each destroyed lab of an unwarned clan loses its share of the clan's stock.
        if u_warn[lab] >= corruption:
            caught_by_clan[lab_clan[lab]] += 1
    seized = np.empty(n_clans)
    for c in range(n_clans):
        seized[c] = clan_stock_kg[c] * (caught_by_clan[c] / max(active_by_clan[c], 1))
        clan_stock_kg[c] -= seized[c]
    return targets.size, destroyed, confronted.sum(), seized


def destroy_airstrips(model, destructions: float) -> None:
    """Airstrip destructions: random active strips are made unusable.

    Seed interview: a destroyed strip is rebuilt nearby within a week by local peasants; press:
    7 of 18 disabled strips were back in use within a month. The quick share is usable again
    before the next month's flights; the rest wait for cartel.p_rebuild_strip_per_month.
    """
    strips, f = model.airstrips, model.month_flows
    u = model.streams.airstrips.random(strips.cell.size + 1)
    u_quick = model.streams.airstrips.random(strips.cell.size)
    n = math.floor(effective_capacity(destructions, model.params.security.coordination_waste) + u[-1])
    if n <= 0:
        return
    destroyed, quick = _destroy_airstrips(
        strips.active, u, u_quick, n, model.params.cartel.share_strips_back_within_week
    )
    f["airstrips_destroyed"] += int(destroyed)
    f["airstrips_rebuilt_within_week"] += int(quick)


@kernel
def _destroy_airstrips(active, u, u_quick, n_destructions, share_back_within_week):
    """Destroy the first active strips in the order of ``u`` (see :func:`destroy_airstrips`).

    Returns the strips destroyed and how many of them are back within the week.
    """
    candidates = np.flatnonzero(active)
    hit = candidates[np.argsort(u[candidates])[:n_destructions]]
    quick = 0
    for strip in hit:
        if u_quick[strip] < share_back_within_week:
            quick += 1
        else:
            active[strip] = False
    return hit.size, quick
