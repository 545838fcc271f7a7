"""Farmers: expectations and perceived risk (docs/odd.md, section 7.2).

Each month a household moves its expected value of a kilogram of leaf part of the way toward what
leaf is worth to it now (made into paste at home, or sold), and its perceived yearly risk of
eradication toward what its district lost last month. The land decision
(:func:`vraem.agents.land.allocate_land`) applies both rules before it weighs coca against legal
crops.
"""

from __future__ import annotations

import numpy as np

from vraem.jit import clip, rule, where


@rule
def leaf_value(processes_paste, own_paste_leaf_usd, leaf_usd):
    """What a kilogram of leaf is worth to a household, USD: made into paste at home, or sold."""
    return where(processes_paste, own_paste_leaf_usd, leaf_usd)


def leaf_value_usd_per_kg(model) -> np.ndarray:
    """What a kilogram of leaf is worth to each household this month (rule :func:`leaf_value`)."""
    return leaf_value(
        model.households.processes_paste, model.prices.own_paste_leaf_usd, model.prices.leaf_usd
    )


@rule
def update_expectation(expected, observed, rate):
    """Adaptive expectation: move a fraction ``rate`` of the way to what was observed."""
    return expected + rate * (observed - expected)


@rule
def annual_risk(monthly_share):
    """Perceived yearly chance that a field is eradicated, from the share destroyed last month."""
    return 1.0 - (1.0 - clip(monthly_share, 0.0, 1.0)) ** 12
