"""Cartels (firmas and foreign buyers): docs/odd.md.

Cartels buy paste/base from the clans and move it out: mostly by small planes from clandestine
airstrips (seed interview: about 6 flights a day, up to 300 kg each, mostly to Bolivia), some by
land on teenage couriers' backs (2-10 kg each). Destroyed strips are rebuilt by paid locals
(press: 7 of 18 back within a month). Seizures raise their costs, which they pass down the chain
as a lower paste price (:func:`vraem.economy.paste_price_usd_per_kg`). Who buys is a label
(``cartel.buyer_origin``), not a hard fact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from mesa import Agent

from vraem.jit import kernel

DAYS_PER_MONTH = 30.0


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
    n = max(1, round(cp.n_airstrips * p.scale))
    w = (1.0 - L.layer("police_reach")) * (L.layer("elevation_m") < 1_500) + 1e-6
    cells = rng.choice(L.n_cells, size=n, replace=n > L.n_cells, p=w / w.sum())
    return cartels, Airstrips(cell=cells, cartel=np.arange(n) % cp.n_cartels, active=np.ones(n, bool))


def export(model, bought_kg: float, flight_interdictions: float, courier_arrests: float) -> None:
    """Move the month's purchases out by air and by land; interdiction seizes part of it."""
    p, f, prices = model.params, model.month_flows, model.prices
    cp, mp = p.cartel, p.market
    strips = model.airstrips
    on_hand = bought_kg + model.cartel_stock_kg
    air_cap = air_capacity_kg(
        int(strips.active.sum()),
        cp.flights_per_strip_per_day,
        cp.kg_per_flight,
    )
    air_kg = min(on_hand * (1.0 - cp.land_share), air_cap)
    land_kg = min(on_hand - air_kg, on_hand * cp.land_share * cp.land_capacity_multiple)
    model.cartel_stock_kg = on_hand - air_kg - land_kg
    flights = air_kg / cp.kg_per_flight
    forced = min(float(model.streams.interdiction.poisson(flight_interdictions)), float(math.floor(flights)))
    seized_air = forced * cp.kg_per_flight
    couriers = land_kg / cp.kg_per_courier
    arrested = min(float(model.streams.couriers.poisson(courier_arrests)), float(math.floor(couriers)))
    seized_land = arrested * cp.kg_per_courier
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
    at ``farmer.worry_decay_per_month``.
    """
    h = model.households
    u = model.streams.couriers.random(h.n)
    couriers = courier_households(model)
    if not _worry(h.worry, couriers, u, model.params.farmer.worry_decay_per_month, arrested):
        # Two couriers drew the same number at the cut: the first in household order is arrested
        # (a stable sort, the same on every machine).
        h.worry[couriers[np.argsort(u[couriers], kind="stable")[:arrested]]] = 1.0


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
    cut = np.partition(draws, arrested - 1)[arrested - 1]
    if np.sum(draws <= cut) != arrested:
        return False
    for k in range(n):
        if draws[k] <= cut:
            worry[couriers[k]] = 1.0
    return True


def rebuild_airstrips(model) -> None:
    """Disabled strips come back with the monthly rebuild probability (press: 7 of 18)."""
    strips, cp = model.airstrips, model.params.cartel
    u = model.streams.airstrips.random(strips.cell.size)
    back = (~strips.active) & (u < cp.p_rebuild_strip_per_month)
    strips.active[back] = True
    model.month_flows["airstrips_rebuilt"] += int(back.sum())
