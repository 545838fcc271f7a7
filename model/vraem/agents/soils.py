"""Soils per plot (docs/odd.md, section 7.13).

Each household's home farm and remote field keep their own soil: a plot wears down under its own
coca and recovers under its own fallow (seed interview: 20-30 years of coca exhaust the soil). The
sourced yields are those of 2013's farmed soils, so the harvest, the coca a household wants and its
legal income use each plot's fertility relative to them (:func:`relative_fertility`).
"""

from __future__ import annotations

import numpy as np

from vraem.agents.farmer import HOME, REMOTE
from vraem.jit import clip, kernel, maximum, minimum, rule, unsigned, where
from vraem.landscape import UNFARMED_FERTILITY, fertility_change


@rule
def relative_fertility(soil, initial_farmed, bonus=0.0):
    """Soil fertility relative to the 2013 farmed soils the sourced yields were measured on."""
    return clip(soil + bonus, 0.0, 1.0) / initial_farmed


def home_fertility(model) -> np.ndarray:
    """Relative fertility of each household's home farm, with the programme's soil recovery."""
    h = model.households
    return relative_fertility(h.soil_home, model.params.landscape.initial_fertility_farmed, h.soil_bonus)


def remote_fertility(model) -> np.ndarray:
    """Relative fertility of each household's remote field."""
    return relative_fertility(model.households.soil_remote, model.params.landscape.initial_fertility_farmed)


@rule
def plot_land_shares(farm_ha, fallow_ha, coca_home_ha, coca_remote_ha):
    """Coca and fallow shares of the home farm, and of the remote field (ha/ha, 0-1).

    The remote field is all coca while it has any (it is opened for coca, the balloon effect) and
    lies fallow once it has none; the home farm is the rest of the household's land.
    """
    home_farm = maximum(farm_ha - coca_remote_ha, 1e-9)
    remote_coca = where(coca_remote_ha > 0, 1.0, 0.0)
    return (
        clip(coca_home_ha / home_farm, 0.0, 1.0),
        clip(fallow_ha / home_farm, 0.0, 1.0),
        remote_coca,
        1.0 - remote_coca,
    )


def wear_soils(model) -> float:
    """Monthly soil change of every household's home farm and remote field; the soil map.

    The rule is :func:`vraem.landscape.fertility_change`, applied per plot.

    Each plot wears down under its own coca and recovers under its own fallow (seed interview:
    20-30 years of coca exhaust the soil), so a remote field loses fertility like any other and
    never climbs above the fertility of soil that was never farmed (``UNFARMED_FERTILITY``).
    Soils are per plot, not per cell: the loss depends on a plot's own coca share, which a
    cell-wide share would average differently in a small valley with fewer households per cell.
    The map shows the farmland-weighted soil of the home farms in each cell.

    Returns the new :func:`mean_soil_fertility`, taken in the same pass as the map.
    """
    h, lp = model.households, model.params.landscape
    return _wear_soils(
        h.cell,
        h.farm_ha,
        h.fallow,
        h.coca_young,
        h.coca_mature,
        h.soil_home,
        h.soil_remote,
        lp.fertility_loss_per_year_coca,
        lp.fertility_recovery_per_year,
        model.landscape.layer("fertility"),
    )


@kernel
def _wear_soils(
    cell, farm_ha, fallow, coca_young, coca_mature, soil_home, soil_remote, loss, gain, fertility
):
    """The soils of :func:`wear_soils`, the cells' farmland-weighted home soil (``fertility``).

    The soils are updated in a loop of their own, which the compiler vectorizes (no scatter into
    cells in it); the cells' sums follow in a second loop, in household order, with the sums of
    :func:`mean_soil_fertility` (returned).
    """
    for i in range(cell.size):
        home_coca, home_fallow, remote_coca, remote_fallow = plot_land_shares(
            farm_ha[i],
            fallow[i],
            coca_young[HOME, i] + coca_mature[HOME, i],
            coca_young[REMOTE, i] + coca_mature[REMOTE, i],
        )
        soil_home[i] = minimum(
            fertility_change(soil_home[i], home_coca, home_fallow, loss, gain), UNFARMED_FERTILITY
        )
        soil_remote[i] = minimum(
            fertility_change(soil_remote[i], remote_coca, remote_fallow, loss, gain), UNFARMED_FERTILITY
        )
    farm = np.zeros(fertility.size)
    soil = np.zeros(fertility.size)
    soil_sum = 0.0
    area = 0.0
    cell_u = unsigned(cell)  # no wraparound check
    for i in range(cell.size):
        c = cell_u[i]  # read once: the stores below could alias the cells' column
        farm[c] += farm_ha[i]
        soil[c] += farm_ha[i] * soil_home[i]
        home, remote = farmed_plots_ha(farm_ha[i], coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        soil_sum += soil_home[i] * home + soil_remote[i] * remote
        area += home + remote
    for c in range(fertility.size):
        if farm[c] > 0:
            fertility[c] = soil[c] / farm[c]
    return soil_sum / max(area, 1e-9)


@rule
def farmed_plots_ha(farm_ha, remote_coca_ha):
    """Farmed area of the home farm and of the remote field, ha (weights of the mean soil).

    The remote field is its coca, the home farm the rest of the household's land.
    """
    return maximum(farm_ha - remote_coca_ha, 0.0), remote_coca_ha


def mean_soil_fertility(h) -> float:
    """Mean soil fertility of farmed land (home farms and remote fields, weighted by area)."""
    return _mean_soil_fertility(h.farm_ha, h.coca_young, h.coca_mature, h.soil_home, h.soil_remote)


@kernel
def _mean_soil_fertility(farm_ha, coca_young, coca_mature, soil_home, soil_remote):
    """:func:`mean_soil_fertility`, over :func:`farmed_plots_ha`."""
    soil = 0.0
    area = 0.0
    for i in range(farm_ha.size):
        home, remote = farmed_plots_ha(farm_ha[i], coca_young[REMOTE, i] + coca_mature[REMOTE, i])
        soil += soil_home[i] * home + soil_remote[i] * remote
        area += home + remote
    return soil / max(area, 1e-9)
