"""Cartels (firmas and foreign buyers): docs/odd.md.

Cartels buy paste/base from the clans and move it out: mostly by small planes from clandestine
airstrips (seed interview: about 6 flights a day, up to 300 kg each, mostly to Bolivia), some by
land on teenage couriers' backs (2-10 kg each). Destroyed strips are rebuilt by paid locals
(press: 7 of 18 back within a month). Seizures raise their costs, which they pass down the chain
as a lower paste price (:func:`vraem.economy.paste_price_usd_per_kg`). Who buys is a label
(``cartel.buyer_origin``), not a hard fact.

The export route is the cartels' and, like them, is not thinned in a smaller valley (docs/model.md,
the scaling rule): it keeps the full valley's strips, and its flights and couriers are counted as in
the full valley, each carrying ``scale`` times its load of the simulated valley's base
(:func:`load_per_unit_kg`). The levers that act on it are full-valley counts
(:func:`vraem.policy.levers_at`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from mesa import Agent

from vraem.jit import kernel

DAYS_PER_MONTH = 30.0


def load_per_unit_kg(kg_per_unit, scale):
    """Base of the simulated valley that one flight or courier of the export route carries (kg).

    The route keeps the full valley's strips, flights and couriers at any scale, so each carries
    ``scale`` of its real load: forced landings and arrests (full-valley counts) then seize the
    same share of the valley's exports at any scale, where a thinned route of a few flights a month
    lost whole flights to rounding and capped the landings at its few flights.
    """
    return kg_per_unit * scale


def air_capacity_kg(active_strips, flights_per_strip_per_day, kg_per_flight):
    """Kilograms the cartels can fly out in a month, limited by the strips in use.

    The seed's 6 flights a day is an average, not a ceiling: planes come from Bolivia as cargo
    needs (flight schools in Santa Cruz train pilots for it, seed interview), so only the strips
    limit the air route; the model's flights per day are what the cargo needs at full loads.
    """
    return active_strips * flights_per_strip_per_day * DAYS_PER_MONTH * kg_per_flight


@dataclass
class Airstrips:
    """Columns of airstrip state."""

    cell: np.ndarray
    cartel: np.ndarray
    active: np.ndarray


class Cartel(Agent):
    """A trafficking organisation; its strips are rows of ``model.airstrips`` with ``cartel == idx``."""

    def __init__(self, model, idx: int, origin: str) -> None:
        super().__init__(model)
        self.idx = idx
        self.origin = origin

    @property
    def active_airstrips(self) -> int:
        """Strips usable this month."""
        a = self.model.airstrips
        return int(np.count_nonzero(a.active & (a.cartel == self.idx)))


def create_cartels(model, rng: np.random.Generator) -> tuple[list[Cartel], Airstrips]:
    """The cartels and their strips, cut into remote flat forest away from the roads."""
    p, L = model.params, model.landscape
    cp = p.cartel
    cartels = [Cartel(model, i, cp.buyer_origin) for i in range(cp.n_cartels)]
    n = cp.n_airstrips  # the full valley's strips at any scale (module docstring)
    w = (1.0 - L.layer("police_reach")) * (L.layer("elevation_m") < 1_500) + 1e-6
    cells = rng.choice(L.n_cells, size=n, replace=n > L.n_cells, p=w / w.sum())
    return cartels, Airstrips(cell=cells, cartel=np.arange(n) % cp.n_cartels, active=np.ones(n, bool))


def export(model, bought_kg: float, flight_interdictions: float, courier_arrests: float) -> None:
    """Move the month's purchases out by air and by land; interdiction seizes part of it.

    ``flight_interdictions`` and ``courier_arrests`` are full-valley counts, as are the flights,
    couriers and strips of the route (module docstring).
    """
    p, f, prices = model.params, model.month_flows, model.prices
    cp, mp = p.cartel, p.market
    strips = model.airstrips
    kg_per_flight = load_per_unit_kg(cp.kg_per_flight, p.scale)
    kg_per_courier = load_per_unit_kg(cp.kg_per_courier, p.scale)
    on_hand = bought_kg + model.cartel_stock_kg
    air_cap = air_capacity_kg(
        int(strips.active.sum()),
        cp.flights_per_strip_per_day,
        kg_per_flight,
    )
    air_kg = min(on_hand * (1.0 - cp.land_share), air_cap)
    land_kg = min(on_hand - air_kg, on_hand * cp.land_share * cp.land_capacity_multiple)
    model.cartel_stock_kg = on_hand - air_kg - land_kg
    flights = air_kg / kg_per_flight
    forced = min(float(model.streams.interdiction.poisson(flight_interdictions)), float(math.floor(flights)))
    seized_air = forced * kg_per_flight
    couriers = land_kg / kg_per_courier
    arrested = min(float(model.streams.couriers.poisson(courier_arrests)), float(math.floor(couriers)))
    seized_land = arrested * kg_per_courier
    mark_courier_arrests(model, int(arrested))
    exported = air_kg + land_kg - seized_air - seized_land
    revenue = exported * mp.export_value_usd_per_kg
    f["exports_air_t"] += (air_kg - seized_air) / 1_000.0
    f["exports_land_t"] += (land_kg - seized_land) / 1_000.0
    f["seized_t"] += (seized_air + seized_land) / 1_000.0
    f["seized_in_transit_t"] += (seized_air + seized_land) / 1_000.0
    f["flights_per_day"] += flights / DAYS_PER_MONTH
    f["flights_interdicted"] += forced
    f["couriers"] += couriers
    f["couriers_arrested"] += arrested
    f["usd_export_revenue"] += revenue
    f["shipped_t"] += (air_kg + land_kg) / 1_000.0
    model.cartel_cash_usd += revenue - bought_kg * prices.paste_usd


def mark_courier_arrests(model, arrested: int) -> None:
    """Arrested couriers are teenagers of courier households; their parents start to worry.

    Seed interview: prisons are crowded with young couriers and parents 'want a better future for
    their kids', which weighs against coca (``farmer.child_worry_usd_per_ha_year``). Worry fades
    at ``farmer.worry_decay_per_month``. ``arrested`` counts the full valley's couriers; the
    simulated households hold ``scale`` of them (rounded stochastically).
    """
    h = model.households
    u = model.streams.couriers.random(h.n)
    arrested = households_hit(arrested, model.params.scale, model.streams.courier_households.random())
    couriers = courier_households(model)
    if not _worry(h.worry, couriers, u, model.params.farmer.worry_decay_per_month, arrested):
        # Two couriers drew the same number at the cut: the first in household order is arrested
        # (a stable sort, the same on every machine).
        h.worry[couriers[np.argsort(u[couriers], kind="stable")[:arrested]]] = 1.0


def households_hit(arrested: int, scale: float, u: float) -> int:
    """Simulated households among ``arrested`` full-valley couriers (``arrested x scale``).

    Rounded stochastically with the uniform draw ``u``; exact at full scale (where ``arrested + u``
    could round up in floating point).
    """
    return arrested if scale == 1.0 else math.floor(arrested * scale + u)


def courier_households(model) -> np.ndarray:
    """Indices of the households with a child who carries paste (fixed at set-up), kept on the model."""
    couriers = getattr(model, "_courier_households", None)
    if couriers is None:
        couriers = model._courier_households = np.flatnonzero(model.households.child_courier)
    return couriers


@kernel
def _worry(worry, couriers, u, decay, arrested):
    """Worry fades; the ``arrested`` courier households (of ``couriers``) with the lowest draws worry.

    Returns False (leaving the arrests undone) when the draws tie at the cut.
    """
    for i in range(worry.size):
        worry[i] *= 1.0 - decay
    n = couriers.size
    if arrested <= 0 or n == 0:
        return True
    if arrested >= n:
        for k in range(n):
            worry[couriers[k]] = 1.0
        return True
    draws = np.empty(n)
    for k in range(n):
        draws[k] = u[couriers[k]]
    cut = _kth_smallest(draws, arrested)
    at_or_below = 0
    for k in range(n):
        at_or_below += draws[k] <= cut
    if at_or_below != arrested:
        return False
    for k in range(n):
        if draws[k] <= cut:
            worry[couriers[k]] = 1.0
    return True


@kernel
def _kth_smallest(values, k):
    """The ``k``-th smallest of ``values`` (1 <= k <= size; no NaN), as ``np.partition`` finds it.

    A month arrests a few dozen of about 2,000 couriers: a max-heap of the ``k`` smallest values
    seen so far rejects most values with one comparison with its top, which ends as the ``k``-th
    smallest (the heap holds the same values whichever of equal values it kept).
    """
    heap = values[:k].copy()
    for start in range(k // 2 - 1, -1, -1):
        _sift_down_max(heap, start, k)
    for j in range(k, values.size):
        if values[j] < heap[0]:
            heap[0] = values[j]
            _sift_down_max(heap, 0, k)
    return heap[0]


@kernel
def _sift_down_max(heap, i, size):
    """Move ``heap[i]`` down a max-heap of ``size`` values until no child exceeds it."""
    value = heap[i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] > heap[child]:
            child += 1
        if not heap[child] > value:
            break
        heap[i] = heap[child]
        i = child
    heap[i] = value


def rebuild_airstrips(model) -> None:
    """Disabled strips come back with the monthly rebuild probability (press: 7 of 18)."""
    strips, cp = model.airstrips, model.params.cartel
    u = model.streams.airstrips.random(strips.cell.size)
    back = (~strips.active) & (u < cp.p_rebuild_strip_per_month)
    strips.active[back] = True
    model.month_flows["airstrips_rebuilt"] += int(back.sum())
