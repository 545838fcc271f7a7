"""Household income and savings (docs/odd.md, section 7.14).

Legal revenue from mature crops at this month's farm-gate prices, with the home farm's fertility,
the cell's market access and the programme's yield support; net income adds coca sales, less the
costs of growing the leaf, and welfare. Savings grow with income above the poverty line and are
drawn down below it; a household below the line with its savings spent is in hardship (which
raises defection, :mod:`vraem.programme`).
"""

from __future__ import annotations

import numpy as np

from vraem.agents.legal_crops import crop_revenues, programme_yield_factor
from vraem.agents.soils import home_fertility, relative_fertility
from vraem.jit import kernel, maximum, rule, where


@rule
def legal_revenue(
    food_ha, cacao_ha, coffee_ha, food_usd, cacao_usd, coffee_usd, yield_factor, fertility, access
):
    """Legal crop revenue of a household in a month, USD.

    Mature hectares times each crop's revenue per ha per year (cacao and coffee with the
    programme's :func:`vraem.agents.legal_crops.programme_yield_factor`), scaled by the home
    farm's relative fertility and the market access of its cell (docs/odd.md, section 7.14).
    """
    per_year = (
        food_ha * food_usd + yield_factor * cacao_ha * cacao_usd + yield_factor * coffee_ha * coffee_usd
    )
    return per_year * fertility * access / 12.0


def legal_revenue_usd(model) -> np.ndarray:
    """Legal crop revenue of each household this month, USD (rule :func:`legal_revenue`)."""
    cp, h, L = model.params.crops, model.households, model.landscape
    cacao, coffee, food = crop_revenues(model)
    return legal_revenue(
        h.food_mature,
        h.cacao_mature,
        h.coffee_mature,
        food,
        cacao,
        coffee,
        programme_yield_factor(h.stage, cp.programme_yield_bonus),
        home_fertility(model),
        L.layer("market_access")[h.cell],
    )


@rule
def net_income_usd(coca_income_usd, coca_cost_share, leaf_kg, leaf_usd, legal_income_usd, welfare_usd):
    """A household's net income in a month, USD.

    Coca sales less the costs of growing the leaf (a share of its worth at the farm-gate price),
    plus legal income (net of its costs) and welfare (docs/odd.md, section 7.14).
    """
    return coca_income_usd - coca_cost_share * leaf_kg * leaf_usd + legal_income_usd + welfare_usd


def update_incomes(model, leaf_kg: np.ndarray, welfare_usd: np.ndarray) -> float:
    """Each household's legal and net income this month; returns the legal sales, USD.

    Legal revenue is :func:`legal_revenue`, legal income that revenue net of
    ``farmer.legal_cost_share``, income :func:`net_income_usd`.
    """
    p, h, L = model.params, model.households, model.landscape
    cacao, coffee, food = crop_revenues(model)
    return _update_incomes(
        h.cell,
        h.stage,
        h.food_mature,
        h.cacao_mature,
        h.coffee_mature,
        h.soil_home,
        h.soil_bonus,
        h.coca_income,
        leaf_kg,
        welfare_usd,
        h.legal_income,
        h.income,
        L.layer("market_access"),
        food,
        cacao,
        coffee,
        p.crops.programme_yield_bonus,
        p.landscape.initial_fertility_farmed,
        p.farmer.legal_cost_share,
        p.farmer.coca_cost_share,
        model.prices.leaf_usd,
    )


@kernel
def _update_incomes(
    cell,
    stage,
    food_mature,
    cacao_mature,
    coffee_mature,
    soil_home,
    soil_bonus,
    coca_income,
    leaf_kg,
    welfare_usd,
    legal_income,
    income,
    market_access,
    food_usd,
    cacao_usd,
    coffee_usd,
    yield_bonus,
    initial_fertility,
    legal_cost_share,
    coca_cost_share,
    leaf_usd,
):
    """:func:`update_incomes`: writes ``legal_income`` and ``income``; returns the legal sales.

    The cells' market access is gathered first and the sales summed last (in household order), so
    that the loop over the incomes has neither and vectorizes.
    """
    n = cell.size
    access = np.empty(n)
    for i in range(n):
        access[i] = market_access[cell[i]]
    revenue = np.empty(n)
    for i in range(n):
        revenue[i] = legal_revenue(
            food_mature[i],
            cacao_mature[i],
            coffee_mature[i],
            food_usd,
            cacao_usd,
            coffee_usd,
            programme_yield_factor(stage[i], yield_bonus),
            relative_fertility(soil_home[i], initial_fertility, soil_bonus[i]),
            access[i],
        )
        legal_income[i] = revenue[i] * (1.0 - legal_cost_share)
        income[i] = net_income_usd(
            coca_income[i], coca_cost_share, leaf_kg[i], leaf_usd, legal_income[i], welfare_usd[i]
        )
    sales = 0.0
    for i in range(n):
        sales += revenue[i]
    return sales


@rule
def savings_after_month(savings, income, poverty_line, saving_share):
    """A household's savings after a month, USD.

    It puts aside ``saving_share`` of its income above the poverty line, and draws on its savings
    to stay at the line when its income falls below it, until they are spent (assumption).
    """
    surplus = income - poverty_line
    return maximum(savings + where(surplus > 0.0, saving_share * surplus, surplus), 0.0)


@rule
def in_hardship(income, savings, poverty_line):
    """Whether a household is poor with nothing left to fall back on: income below the line, savings spent."""
    return (income < poverty_line) & (savings <= 0.0)


def seed_savings(model) -> None:
    """Each household's opening savings, USD (stream ``wealth``).

    ``farmer.savings_months_mean`` months of its opening net income (not below the poverty line's
    worth), times a lognormal factor of mean 1 and spread ``farmer.savings_sigma``: households with
    more coca and land start richer, and savings vary more than incomes.
    """
    fp, h = model.params.farmer, model.households
    factor = model.streams.wealth.lognormal(-(fp.savings_sigma**2) / 2, fp.savings_sigma, h.n)
    h.savings[:] = fp.savings_months_mean * np.maximum(h.income, fp.poverty_line_usd_per_month) * factor


def update_savings(model) -> None:
    """Savings after the month's income (rule :func:`savings_after_month`)."""
    fp, h = model.params.farmer, model.households
    _update_savings(h.savings, h.income, fp.poverty_line_usd_per_month, fp.saving_share)


@kernel
def _update_savings(savings, income, poverty_line, saving_share):
    """:func:`update_savings`, household by household, in place (a loop the compiler vectorizes)."""
    for i in range(savings.size):
        savings[i] = savings_after_month(savings[i], income[i], poverty_line, saving_share)
