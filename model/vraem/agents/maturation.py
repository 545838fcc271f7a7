"""Crops mature (docs/odd.md, section 7.12).

Young plantings of coca, food crops, cacao and coffee move into production at a constant monthly
hazard of 1/maturity, so that the mean delay is the crop's maturity.
"""

from __future__ import annotations

from vraem.agents.farmer import HOME, REMOTE
from vraem.jit import kernel, rule


@rule
def mature(young, mature_ha, maturity_months):
    """Move young plantings into production; returns (young, mature).

    A constant monthly hazard of 1/maturity gives the mean delay from docs/odd.md
    (coca 12-18 months, banana 9-12, cacao and coffee 24-36).
    """
    moved = young / maturity_months
    return young - moved, mature_ha + moved


def mature_crops(model) -> None:
    """Young plantings of every crop move into production (rule :func:`mature`)."""
    fp, h = model.params.farmer, model.households
    _mature_crops(
        h.coca_young,
        h.coca_mature,
        h.food_young,
        h.food_mature,
        h.cacao_young,
        h.cacao_mature,
        h.coffee_young,
        h.coffee_mature,
        fp.coca_maturity_months,
        fp.food_maturity_months,
        fp.perennial_maturity_months,
    )


@kernel
def _mature_crops(
    coca_young,
    coca_mature,
    food_young,
    food_mature,
    cacao_young,
    cacao_mature,
    coffee_young,
    coffee_mature,
    coca_months,
    food_months,
    perennial_months,
):
    """:func:`mature_crops`, household by household."""
    for i in range(food_young.size):
        for plot in (HOME, REMOTE):
            coca_young[plot, i], coca_mature[plot, i] = mature(
                coca_young[plot, i], coca_mature[plot, i], coca_months
            )
        food_young[i], food_mature[i] = mature(food_young[i], food_mature[i], food_months)
        cacao_young[i], cacao_mature[i] = mature(cacao_young[i], cacao_mature[i], perennial_months)
        coffee_young[i], coffee_mature[i] = mature(coffee_young[i], coffee_mature[i], perennial_months)
