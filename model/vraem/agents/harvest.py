"""Farmers: the coca harvest (docs/odd.md, section 7.4).

Each plot yields the sourced leaf per hectare times its own relative fertility (the home farm with
the programme's soil bonus, the remote field without) and the valley's yield factor from inputs
(:mod:`vraem.agents.rising_yields`); a household harvests its mature coca but what it leaves
standing (:mod:`vraem.agents.standing_coca`), times the valley's hired labour
(:mod:`vraem.migration`).
"""

from __future__ import annotations

import numpy as np

from vraem.agents.farmer import HOME, REMOTE
from vraem.agents.soils import relative_fertility
from vraem.jit import kernel, maximum, minimum, rule


@rule
def leaf_harvest_kg(leaf_kg_per_ha_year, home_ha, home_fertility, remote_ha, remote_fertility):
    """Leaf harvested in a month, kg: each plot's mature coca x yield x its relative fertility."""
    return leaf_kg_per_ha_year / 12.0 * (home_ha * home_fertility + remote_ha * remote_fertility)


@rule
def harvested_share(idle_ha, mature_ha, labour):
    """Share of a household's mature coca harvested this month (0-1).

    All but the coca left standing unharvested
    (:func:`vraem.agents.standing_coca.left_standing_ha`), times the valley's hired labour
    relative to normal (``VraemModel.labour_supply``: 1 but after the lockdown exodus).
    """
    return labour * (1.0 - minimum(idle_ha, mature_ha) / maximum(mature_ha, 1e-12))


def harvest(model) -> np.ndarray:
    """Leaf harvested by each household this month, kg (rule :func:`leaf_harvest_kg`)."""
    p, h = model.params, model.households
    leaf_kg, model.coca_harvested_ha, model.coca_unharvested_ha = _harvest(
        h.coca_mature,
        h.soil_home,
        h.soil_bonus,
        h.soil_remote,
        p.landscape.initial_fertility_farmed,
        p.crops.coca_leaf_kg_per_ha_year * model.coca_yield_factor,
        h.coca_idle,
        model.labour_supply,
    )
    return leaf_kg


@kernel
def _harvest(
    coca_mature, soil_home, soil_bonus, soil_remote, initial_fertility, leaf_kg_per_ha_year, coca_idle, labour
):
    """:func:`harvest`: the home farm with the programme's soil bonus, the remote field without.

    Each household harvests its :func:`harvested_share` of its mature coca. Returns the leaf of
    each household, kg, and the mature coca harvested and left unharvested this month, ha. The
    month's sums run in a loop of their own (in household order), so that the loop of divisions
    has no running sum and vectorizes.
    """
    n = soil_home.size
    leaf_kg = np.empty(n)
    share = np.empty(n)
    for i in range(n):
        mature_ha = coca_mature[HOME, i] + coca_mature[REMOTE, i]
        share[i] = harvested_share(coca_idle[i], mature_ha, labour)
        leaf_kg[i] = share[i] * leaf_harvest_kg(
            leaf_kg_per_ha_year,
            coca_mature[HOME, i],
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            coca_mature[REMOTE, i],
            relative_fertility(soil_remote[i], initial_fertility),
        )
    harvested = unharvested = 0.0
    for i in range(n):
        mature_ha = coca_mature[HOME, i] + coca_mature[REMOTE, i]
        harvested += share[i] * mature_ha
        unharvested += (1.0 - share[i]) * mature_ha
    return leaf_kg, harvested, unharvested
