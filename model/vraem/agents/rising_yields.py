"""Farmers: rising yields (docs/odd.md, section 7.18; switch ``mechanisms.rising_yields``).

Observed VRAEM yields rose (DEVIDA: about 3.6 t/ha in 2020) while the model's soil exhaustion
alone cut them 12% by 2023 (issue 16): inputs (fertiliser, denser planting) raise the valley's
coca yields while the leaf pays, beside each plot's soil (:mod:`vraem.agents.soils`).
"""

from __future__ import annotations

from vraem.jit import clip, minimum, rule


@rule
def input_yield_factor(factor, gain_per_year, max_factor, price_ratio):
    """Coca yields relative to 2013 after a month of inputs (fertiliser, denser planting), 1.

    Yields rise by ``gain_per_year`` a year while the leaf pays at least its 2013 price, in
    proportion below it (inputs are bought from coca's income), up to ``max_factor``; they do not
    fall back (the planting and the know-how stay). Soil exhaustion still acts per plot
    (:func:`vraem.agents.soils.relative_fertility`): the two multiply. DEVIDA: about 3.6 t/ha in
    2020 while the model's soils alone cut yields 12% by 2023 (issue 16).
    """
    return minimum(factor + gain_per_year / 12.0 * clip(price_ratio, 0.0, 1.0), max_factor)


def update_yield_inputs(model) -> None:
    """Inputs raise coca yields this month (rule :func:`input_yield_factor`; ``rising_yields``).

    The valley's farm-gate leaf price relative to its opening level drives the inputs bought. Off,
    yields stay at the sourced 2013 level (times each plot's soil).
    """
    p = model.params
    if not p.mechanisms.rising_yields:
        return
    vp = p.valley
    model.coca_yield_factor = float(
        input_yield_factor(
            model.coca_yield_factor,
            vp.coca_input_gain_per_year,
            vp.coca_input_max_factor,
            model.prices.leaf_usd / max(model.opening_leaf_usd, 1e-12),
        )
    )
