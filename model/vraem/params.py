"""Every parameter of the model, in one place, with its unit and its source.

Parameters are grouped by concern (landscape, farmers, clans, cartels, security forces, mayors,
development programme, market). Each field carries ``unit`` and ``source`` metadata; a source is a
seed fact (the interview with Carmen Masías, DEVIDA 2012-2014 and 2016-2018), a published figure
(UNODC, DEVIDA, press), ``calibrated`` (see ``docs/calibration.md``) or ``assumption: <reason>``.

Policy *levers* (eradication capacity, budgets, interdiction, timing) are not here: they live in
the scenario's policy timeline (:mod:`vraem.policy`). What is here are the uncertain facts about the
valley, following the EMA Workbench's split between levers and uncertainties.

All groups are pydantic models with ``extra="forbid"`` and ``frozen=True``: an unknown key or an
out-of-range value fails when the scenario is loaded, never on the first step.
"""

from __future__ import annotations

import csv
import re
from importlib import resources
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from vraem.user_input import NumbersNotBooleans, echo

REFERENCE_HOUSEHOLDS = 20_000
"""Households in the full valley (docs/odd.md: about 20,000 coca-growing households).

Quantities given for the whole valley (initial coca, export demand, policy capacities, budgets,
clans, labs, the land in each cell and the cost of a road cell) are multiplied by
``n_households / REFERENCE_HOUSEHOLDS`` so that a small classroom valley behaves like a thinned copy
of the full one (the scaling rule in docs/model.md). The export route (airstrips, flights, couriers
and the levers against them) keeps the full valley's counts, each carrying that share of its load.
"""

USD_PER_SOL = 9.7 / 32.0
"""Exchange rate, USD per Peruvian sol: seed interview (32 million soles = 9.7 million dollars, 2013)."""


def P(
    default: Any,
    unit: str,
    source: str,
    *,
    plausible: tuple[float, float] | None = None,
    plausible_source: str | None = None,
    fixed: str | None = None,
    **constraints: Any,
) -> Any:
    """Declare a parameter field with its unit, its source and its plausible range.

    Args:
        default: Default value.
        unit: Physical or economic unit ("ha", "USD/kg", "1" for dimensionless ...).
        source: Where the default comes from, or ``"assumption: <reason>"``.
        plausible: ``(low, high)``, the range a sensitivity analysis or a prior explores.
        plausible_source: Where the range comes from: a published interval, the spread of the
            figures in the sources, or a stated rule for an assumption (``"rule: x0.5 to x2"``).
        fixed: Instead of a range, why the parameter is held fixed (it sets the valley's size or
            generated geometry, or is a unit conversion).
        **constraints: pydantic constraints such as ``ge``, ``le``, ``gt``.
    """
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if plausible is not None:
        extra["plausible"] = [plausible[0], plausible[1]]
        extra["plausible_source"] = plausible_source or ""
    if fixed is not None:
        extra["fixed"] = fixed
    return Field(default, json_schema_extra=extra, **constraints)


MAX_HOUSEHOLDS = 2_000_000
"""Upper bound of ``farmer.n_households``: 100 times the real valley. Measured on this project's
machines, a run needs about 0.6 kB of memory per household (20,000 households: ~200 MB in all;
200,000: ~310 MB) and its time grows with households, so 2,000,000 households need over 1 GB and
seconds per month: the largest valley a workstation runs. 10^12 would need petabytes."""


MAX_MAGNITUDE = 1e9
"""No parameter may exceed this in size. The largest default is 2 million (soles per road cell);
far beyond it, products in the monthly arithmetic (x households x cells x months) overflow to inf
and turn outputs into NaN without a word, and integer draws (a field radius of 10^20 cells) fail."""


def _data_column(filename: str, column: str) -> list[float]:
    """A numeric column of a CSV file of ``vraem/data``, in file order."""
    with resources.files("vraem.data").joinpath(filename).open() as fh:
        return [float(row[column]) for row in csv.DictReader(fh)]


def _world_price_index(column: str) -> tuple[float, ...]:
    """A world price series of ``data/legal_prices.csv`` by year from 2013, relative to 2013."""
    values = _data_column("legal_prices.csv", column)
    return tuple(round(v / values[0], 4) for v in values)


def _export_demand_index() -> tuple[float, ...]:
    """World cocaine users by year from 2013 (``data/export_demand.csv``), relative to 2013."""
    values = _data_column("export_demand.csv", "cocaine_users_million")
    return tuple(round(v / values[0], 4) for v in values)


def _export_demand_shocks() -> dict[str, float]:
    """Export demand multipliers by calendar month (``data/export_demand_shocks.csv``)."""
    with resources.files("vraem.data").joinpath("export_demand_shocks.csv").open() as fh:
        return {row["date"]: float(row["multiplier"]) for row in csv.DictReader(fh)}


class _Group(NumbersNotBooleans):
    # allow_inf_nan=False: an infinite or NaN parameter (YAML .inf, .nan) is refused when loaded.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _not_absurd(cls, value: Any) -> Any:
        numbers = value if isinstance(value, tuple | list) else (value,)
        if any(isinstance(x, int | float) and abs(x) > MAX_MAGNITUDE for x in numbers):
            raise ValueError(f"must be between -{MAX_MAGNITUDE:,.0f} and {MAX_MAGNITUDE:,.0f}")
        return value


class LandscapeParams(_Group):
    """The generated valley (docs/odd.md)."""

    width: int = P(
        72,
        "cells",
        "assumption: about 90 km across at 1.25 km cells",
        fixed="size of the generated valley (cells), not an uncertain fact",
        ge=24,
        le=400,
    )
    height: int = P(
        56,
        "cells",
        "assumption: about 70 km along the rivers",
        fixed="size of the generated valley (cells), not an uncertain fact",
        ge=24,
        le=400,
    )
    cell_ha: float = P(
        156.25,
        "ha",
        "assumption: 1.25 km x 1.25 km cells",
        fixed="geometry: the area of a grid cell (a unit of the map)",
        gt=0,
    )
    n_districts: int = P(
        15,
        "districts",
        "seed interview: the state works with 15 mayors",
        fixed="geometry: the number of districts the map is cut into",
        ge=1,
        le=60,
    )
    forest_share: float = P(
        0.85,
        "1",
        "assumption: most unfarmed land below 2,200 m is montane forest",
        plausible=(0.7, 0.95),
        plausible_source="rule: the assumed share +/-0.15, capped below 1",
        ge=0,
        le=1,
    )
    farm_share_near_rivers: float = P(
        0.5,
        "1",
        "assumption: share of a cell near a river that is farmed",
        plausible=(0.3, 0.7),
        plausible_source="rule: the assumed share +/-0.2 (a share with no published spread)",
        ge=0,
        le=1,
    )
    initial_fertility_farmed: float = P(
        0.75,
        "1",
        "assumption: decades of coca have partly exhausted farmed soils",
        plausible=(0.5, 0.9),
        plausible_source="rule: from half-exhausted to nearly fresh soils",
        ge=0,
        le=1,
    )
    fertility_loss_per_year_coca: float = P(
        0.035,
        "1/yr",
        "seed interview: 20-30 years of coca exhaust the soil (1/28 per year)",
        plausible=(0.033333, 0.05),
        plausible_source="seed interview: 20-30 years of coca exhaust the soil (1/30 to 1/20 per year)",
        ge=0,
        le=1,
    )
    fertility_recovery_per_year: float = P(
        0.02,
        "1/yr",
        "assumption: fallow and forest restore soils slowly (about 50 years)",
        plausible=(0.01, 0.04),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    road_access_decay_cells: float = P(
        8.0,
        "cells",
        "assumption: legal-crop market access halves about 7 cells from a road",
        plausible=(4.0, 16.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    police_reach_decay_cells: float = P(
        10.0,
        "cells",
        "assumption: police reach fades with distance from roads",
        plausible=(5.0, 20.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )


class FarmerParams(_Group):
    """Farmer households (docs/odd.md)."""

    n_households: int = P(
        REFERENCE_HOUSEHOLDS,
        "households",
        "design assumption: about 20,000 households",
        fixed="size of the valley; valley-wide quantities scale with it",
        ge=50,
        le=MAX_HOUSEHOLDS,
    )
    farm_size_sigma: float = P(
        0.5,
        "1",
        "assumption: lognormal spread of farm sizes (mean kept at farm_ha_mean)",
        plausible=(0.25, 1.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    initial_legal_spread: float = P(
        0.5,
        "1",
        "assumption: legal hectares vary +/-50% around their mean between farms",
        plausible=(0.25, 0.75),
        plausible_source="rule: the assumed share +/-0.25 (a share with no published spread)",
        ge=0,
        lt=1,
    )
    max_initial_legal_share: float = P(
        0.8,
        "1",
        "assumption: at most 80% of a farm starts in legal crops",
        plausible=(0.6, 1.0),
        plausible_source="rule: the assumed share +/-0.2 (a share with no published spread)",
        ge=0,
        le=1,
    )
    max_initial_perennial_share: float = P(
        0.6,
        "1",
        "assumption: up to 60% of legal land is old cacao or coffee, the rest food",
        plausible=(0.3, 0.9),
        plausible_source="rule: the assumed share +/-0.3 (a share with no published spread)",
        ge=0,
        le=1,
    )
    initial_trust_sd: float = P(
        0.1,
        "1",
        "assumption: spread of trust in the state between households",
        plausible=(0.05, 0.2),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    remote_field_radius_cells: int = P(
        8,
        "cells",
        "assumption: a remote field lies up to ~10 km (a day's walk) from home",
        plausible=(4, 12),
        plausible_source="rule: half a day's to a day and a half's walk (x0.5 to x1.5)",
        ge=1,
    )
    initial_coca_ha: float = P(
        19_167.0,
        "ha",
        "UNODC Peru coca survey 2014: 19,167 ha in the VRAEM in 2013",
        fixed="the observed opening state (UNODC 2013 survey); max_coca_ha is derived from it",
        ge=0,
    )
    farm_ha_mean: float = P(
        3.5,
        "ha/household",
        "assumption: VRAEM smallholdings of a few hectares",
        plausible=(2.0, 5.0),
        plausible_source="rule: 'a few hectares': 2 to 5 ha per household",
        gt=0,
    )
    initial_legal_ha_mean: float = P(
        1.0,
        "ha/household",
        "assumption: food plots and old coffee/cacao on most farms",
        plausible=(0.5, 2.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    share_never: float = P(
        0.33,
        "1",
        "Colombian field experiment: about one third would never grow coca",
        plausible=(0.2, 0.45),
        plausible_source="rule: the experiment's one third +/-0.12 (one small field experiment)",
        ge=0,
        le=1,
    )
    share_committed: float = P(
        0.40,
        "1",
        "Colombian field experiment: about two fifths need extreme compensation or risk to stop",
        plausible=(0.25, 0.55),
        plausible_source="rule: the experiment's two fifths +/-0.15 (one small field experiment)",
        ge=0,
        le=1,
    )
    moral_cost_usd_per_ha_year: float = P(
        2_500.0,
        "USD/ha/yr",
        "assumption: moral cost of the responsive third, in coca-income terms",
        plausible=(1_250.0, 5_000.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    coca_maturity_months: float = P(
        15.0,
        "months",
        "design assumption: new coca produces after about 12-18 months",
        plausible=(12.0, 18.0),
        plausible_source="design assumption: 12-18 months",
        gt=0,
    )
    food_maturity_months: float = P(
        10.5,
        "months",
        "design assumption: banana produces after about 9-12 months",
        plausible=(9.0, 12.0),
        plausible_source="design assumption: 9-12 months",
        gt=0,
    )
    perennial_maturity_months: float = P(
        30.0,
        "months",
        "design assumption: cacao and coffee produce after about 24-36 months",
        plausible=(24.0, 36.0),
        plausible_source="design assumption: 24-36 months",
        gt=0,
    )
    coca_cost_share: float = P(
        0.35,
        "1",
        "assumption: labour and inputs take about a third of coca revenue",
        plausible=(0.25, 0.5),
        plausible_source="rule: a quarter to a half of revenue",
        ge=0,
        lt=1,
    )
    legal_cost_share: float = P(
        0.40,
        "1",
        "assumption: labour and inputs of legal crops",
        plausible=(0.3, 0.55),
        plausible_source="rule: the assumed share -0.1 to +0.15 (legal crops need more inputs)",
        ge=0,
        lt=1,
    )
    allocation_sensitivity: float = P(
        1.8,
        "1/(1000 USD/ha/yr)",
        "calibrated: median of the ABC posterior of variant full, 2013-2019 (1.79; 90% 0.57-2.87;"
        " docs/calibration.md)",
        plausible=(0.4, 3.0),
        plausible_source="rule: the calibration's prior, x1/2 to x4 of the older grid calibration's 0.8",
        gt=0,
    )
    illegality_premium_usd_per_ha_year: float = P(
        4_200.0,
        "USD/ha/yr",
        "calibrated: coca's edge at which a family half-fills its labour with it; median of the ABC"
        " posterior of variant full, 2013-2019 (4,211; 90% 2,553-6,092; docs/calibration.md)",
        plausible=(2_250.0, 9_000.0),
        plausible_source="rule: the calibration's prior, x0.5 to x2 of the older grid calibration's 4,500",
        ge=0,
    )
    norm_weight: float = P(
        1.0,
        "1",
        "assumption: weight of the neighbours' coca share (social norm)",
        plausible=(0.5, 2.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    risk_weight: float = P(
        0.5,
        "1",
        "assumption: farmers discount eradication risk, as half of eradicated fields are replanted",
        plausible=(0.25, 1.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    max_coca_ha: float = P(
        2.51,
        "ha/household",
        "calibrated: opening desired coca equals the 2013 survey (docs/calibration.md)",
        fixed="derived: set so that the opening state is an equilibrium at the 2013 survey",
        gt=0,
    )
    max_expand_ha_per_month: float = P(
        0.045,
        "ha/month",
        "calibrated: labour limits how fast a family opens coca",
        plausible=(0.0225, 0.09),
        plausible_source="rule: x0.5 to x2 of the calibrated value",
        gt=0,
    )
    labour_noise: float = P(
        0.5,
        "1",
        "assumption: a family's monthly planting capacity varies +/-50% (weather, labour)",
        plausible=(0.25, 0.75),
        plausible_source="rule: the assumed share +/-0.25 (a share with no published spread)",
        ge=0,
        lt=1,
    )
    max_abandon_ha_per_month: float = P(
        0.08,
        "ha/month",
        "assumption: pulling out coca is faster than planting it",
        plausible=(0.04, 0.16),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    expectation_rate: float = P(
        0.039,
        "1/month",
        "calibrated: slow adaptive price expectations (about two years' memory); median of the ABC"
        " posterior of variant full, 2013-2019 (0.039; 90% 0.010-0.075; docs/calibration.md)",
        plausible=(0.007, 0.08),
        plausible_source="rule: memory of one to twelve years (1/rate months)",
        gt=0,
        le=1,
    )
    risk_memory_rate: float = P(
        0.15,
        "1/month",
        "assumption: perceived eradication risk follows recent eradication",
        plausible=(0.075, 0.3),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
        le=1,
    )
    p_replant: float = P(
        0.5,
        "1",
        "seed interview: on average 50% of destroyed fields are replanted",
        plausible=(0.3, 0.7),
        plausible_source="rule: the interview's 50% +/-0.2 (the replanting scenarios span 0.3-0.7)",
        ge=0,
        le=1,
    )
    p_replant_agreement: float = P(
        0.006,
        "1",
        "UNODC 2019: 0.6% replanted after a year under voluntary agreements (Colombia)",
        plausible=(0.003, 0.03),
        plausible_source="rule: x0.5 to x5 of the Colombian figure (Peru may differ)",
        ge=0,
        le=1,
    )
    no_alternative_legal_ha: float = P(
        0.25,
        "ha",
        "assumption: below a quarter hectare of producing legal crops there is no alternative",
        plausible=(0.125, 0.5),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    replant_no_alternative_bonus: float = P(
        0.15,
        "1",
        "assumption: households with no legal income replant more often",
        plausible=(0.075, 0.3),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    share_replant_remote: float = P(
        0.4,
        "1",
        "assumption: share of replanting done in a new remote field (balloon effect)",
        plausible=(0.2, 0.6),
        plausible_source="rule: the assumed share +/-0.2 (a share with no published spread)",
        ge=0,
        le=1,
    )
    initial_trust: float = P(
        0.3,
        "1",
        "seed interview: the state was absent for decades; confidence must be built",
        plausible=(0.15, 0.45),
        plausible_source="rule: x0.5 to x1.5 of the assumed trust",
        ge=0,
        le=1,
    )
    trust_gain_per_month_programme: float = P(
        0.015,
        "1/month",
        "assumption: trust grows with each month of delivered programme",
        plausible=(0.0075, 0.03),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    trust_loss_eradicated: float = P(
        0.25,
        "1",
        "assumption: forced eradication outside a programme costs trust",
        plausible=(0.125, 0.5),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    share_process_paste: float = P(
        0.5,
        "1",
        "seed interview: most peasants now make cocaine base themselves",
        plausible=(0.3, 0.7),
        plausible_source="rule: 'most peasants' read as 30% to 70%",
        ge=0,
        le=1,
    )
    share_child_courier: float = P(
        0.08,
        "1",
        "seed interview: many VRAEM teenagers carry drugs for the mafia",
        plausible=(0.04, 0.16),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    child_worry_usd_per_ha_year: float = P(
        1_500.0,
        "USD/ha/yr",
        "assumption: parents' worry for courier children, in income terms",
        plausible=(750.0, 3_000.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    worry_decay_per_month: float = P(
        0.05,
        "1/month",
        "assumption: parents' fear after an arrest fades over about two years",
        plausible=(0.025, 0.1),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    poverty_line_usd_per_month: float = P(
        260.0,
        "USD/month/household",
        "assumption: INEI rural poverty line near S/215 per person, 4 people",
        plausible=(195.0, 325.0),
        plausible_source="rule: households of 3 to 5 people at the same line per person",
        ge=0,
    )
    savings_months_mean: float = P(
        3.0,
        "months of opening income",
        "assumption: smallholders hold a few months of income in cash, animals and stored crops"
        " (no VRAEM survey of savings in the project's sources)",
        plausible=(1.0, 6.0),
        plausible_source="rule: one month to half a year",
        ge=0,
    )
    savings_sigma: float = P(
        1.0,
        "1",
        "assumption: savings are spread more unequally than incomes (lognormal, mean kept at"
        " savings_months_mean months of income)",
        plausible=(0.5, 1.5),
        plausible_source="rule: x0.5 to x1.5 of the assumed spread",
        ge=0,
    )
    saving_share: float = P(
        0.1,
        "1",
        "assumption: households put aside a tenth of their income above the poverty line, and"
        " draw on savings to stay at the line when income falls below it",
        plausible=(0.05, 0.3),
        plausible_source="rule: x0.5 to x3 of the assumed share",
        ge=0,
        le=1,
    )


class CropParams(_Group):
    """Yields and prices of coca and legal crops (docs/odd.md)."""

    coca_leaf_kg_per_ha_year: float = P(
        3_600.0,
        "kg/ha/yr",
        "UNODC 2013: over 3,600 kg/ha/yr sun-dried leaf in the VRAEM",
        plausible=(2_700.0, 4_500.0),
        plausible_source="rule: the UNODC figure +/-25% (yields vary between survey zones)",
        gt=0,
    )
    coffee_usd_per_ha_year: float = P(
        1_033.0,
        "USD/ha/yr",
        "UNODC via JNC: coffee revenue US$1,033/ha (2013)",
        plausible=(700.0, 1_500.0),
        plausible_source="rule: the 2013 figure -1/3 to +45% (coffee prices swing)",
        ge=0,
    )
    cacao_kg_per_ha_year: float = P(
        710.0,
        "kg/ha/yr",
        "MINAGRI / local officials: 650-770 kg/ha",
        plausible=(650.0, 770.0),
        plausible_source="MINAGRI / local officials: 650-770 kg/ha",
        ge=0,
    )
    cacao_pass_through: float = P(
        0.7,
        "1",
        "farm-gate cacao price / ICCO world price: press (2023) about US$2/kg at the VRAEM farm gate"
        " when the world price was above US$3/kg (about 0.6); MINAGRI / local officials about"
        " US$2.5/kg in 2013 at the ICCO US$2.44/kg (about 1.0, fine-aroma premium); assumption: 0.7,"
        " nearer the recent figure (traders, cooperatives' costs and quality discounts)",
        plausible=(0.6, 1.0),
        plausible_source="the two figures: press 2023 (0.6) to MINAGRI 2013 (1.0)",
        ge=0,
        le=1.5,
    )
    food_usd_per_ha_year: float = P(
        1_200.0,
        "USD/ha/yr",
        "assumption: banana and garden crops sold locally",
        plausible=(600.0, 2_400.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    programme_yield_bonus: float = P(
        0.1,
        "1",
        "MODEL_SPEC: cacao 650-770 kg/ha; VRAEM reports cited by issue 16's review: supported cacao"
        " yields 600-800 kg/ha, so support lifts the 710 kg/ha mean by at most about 13% (780 kg/ha)",
        plausible=(0.0, 0.2),
        plausible_source="rule: no gain to the top of the VRAEM reports' range and a little beyond"
        " (710-850 kg/ha)",
        ge=0,
    )
    cacao_price_index_by_year: tuple[float, ...] = P(
        _world_price_index("cacao_usd_per_t"),
        "1 per model year (2013 = 1)",
        "ICCO daily price of cocoa beans, annual averages 2013-2024 relative to 2013"
        " (model/vraem/data/legal_prices.csv, with the 2024 spike); farm-gate prices follow it in"
        " proportion (assumption); year 1 = the first 12 months, the last year holds after",
        fixed="an input series (observed world prices by year), replaced as a whole in a scenario"
        " rather than sampled",
    )
    coffee_price_index_by_year: tuple[float, ...] = P(
        _world_price_index("coffee_usc_per_lb"),
        "1 per model year (2013 = 1)",
        "ICO composite indicator price, annual averages 2013-2024 relative to 2013"
        " (model/vraem/data/legal_prices.csv); coffee revenue follows it in proportion (assumption)",
        fixed="an input series (observed world prices by year), replaced as a whole in a scenario"
        " rather than sampled",
    )
    legal_min_net_usd_per_ha_year: float = P(
        300.0,
        "USD/ha/yr",
        "assumption: below this expected net income a hectare is not worth a perennial crop's labour"
        " (about 25 days' wages a year) and stays fallow",
        plausible=(100.0, 800.0),
        plausible_source="rule: x1/3 to x2.7",
        ge=0,
    )
    legal_expand_ha_per_month: float = P(
        0.02,
        "ha/month",
        "assumption: a family plants at most about a quarter hectare of cacao or coffee a year on its"
        " own (half the programme's perennial plot in two years), when prices rise above 2013's",
        plausible=(0.005, 0.06),
        plausible_source="rule: x1/4 to x3",
        ge=0,
    )

    cacao_world_usd_per_kg: float = P(
        _data_column("legal_prices.csv", "cacao_usd_per_t")[0] / 1_000.0,
        "USD/kg",
        "ICCO daily price of cocoa beans, 2013 annual average (model/vraem/data/legal_prices.csv);"
        " the farm-gate price is this x crops.cacao_price_index_by_year x crops.cacao_pass_through",
        fixed="an observed world price (the first year of the input series)",
        gt=0,
    )
    cacao_long_run_index: float = P(
        1.07,
        "1 (2013 = 1)",
        "ICCO annual averages 2013-2023 averaged 1.07x 2013 (model/vraem/data/legal_prices.csv);"
        " after the series ends (2024's spike) the world price reverts toward this level"
        " (assumption: the spike, a West African harvest failure, passes)",
        plausible=(0.83, 2.0),
        plausible_source="the series' lowest year (2017, 0.83) to a lasting doubling after the 2024"
        " spike (3.2x 2013)",
        ge=0,
    )
    coffee_long_run_index: float = P(
        1.13,
        "1 (2013 = 1)",
        "ICO composite annual averages 2013-2023 averaged 1.13x 2013 (model/vraem/data/legal_prices.csv);"
        " after the series ends the world price reverts toward this level",
        plausible=(0.84, 1.7),
        plausible_source="the series' lowest year (2019, 0.84) to its highest (2022, 1.68)",
        ge=0,
    )
    world_price_reversion_per_year: float = P(
        0.35,
        "1/yr",
        "assumption: after the observed series the world prices of cacao and coffee close the gap"
        " to their long-run levels at this rate (a half-life of two years: commodity price shocks"
        " fade over a few years)",
        plausible=(0.14, 0.69),
        plausible_source="rule: half-lives of one to five years",
        ge=0,
        le=5,
    )
    local_price_flexibility: float = P(
        0.3,
        "1",
        "assumption: the VRAEM farm-gate price of cacao (coffee) falls 0.3% per 1% more cacao"
        " (coffee) in production in the valley than in the first month (few buyers, one road out:"
        " press 2023, farm gate about US$2/kg at world prices above US$3); mechanisms.local_market",
        plausible=(0.1, 0.6),
        plausible_source="rule: x1/3 to x2 of the assumed value",
        ge=0,
        le=3,
    )
    coffee_max_m: float = P(
        2_000.0,
        "m",
        "assumption: Peru's coffee belt reaches about 2,000 m (JNC/MINAGRI descriptions of the"
        " ceja de selva); above it neither cacao nor coffee grows, only food crops; cacao below"
        " programme.cacao_below_m",
        plausible=(1_800.0, 2_400.0),
        plausible_source="rule: the assumed altitude -200 to +400 m",
        ge=0,
    )
    cacao_outbreak_per_year: float = P(
        0.08,
        "1/yr",
        "press (2023): a moniliasis epidemic destroyed about half of VRAEM cacao, the one valley-wide"
        " epidemic in the 12 years 2013-2024 (about 1 in 12 years); drawn each month from the"
        " disease stream (mechanisms.crop_disease)",
        plausible=(0.04, 0.2),
        plausible_source="rule: one epidemic in 25 years to one in 5",
        ge=0,
        le=1,
    )
    coffee_outbreak_per_year: float = P(
        0.08,
        "1/yr",
        "press: the 2012-2013 coffee rust epidemic in Peru's coffee belt, one in the 12 years 2012-2024"
        " (about 1 in 12 years); drawn each month from the disease stream (mechanisms.crop_disease)",
        plausible=(0.04, 0.2),
        plausible_source="rule: one epidemic in 25 years to one in 5",
        ge=0,
        le=1,
    )
    outbreak_harvest_loss: float = P(
        0.5,
        "1",
        "press (2023): moniliasis destroyed about half of VRAEM cacao; the same share of the coffee"
        " harvest in a rust epidemic (assumption)",
        plausible=(0.3, 0.7),
        plausible_source="rule: the press figure +/-0.2",
        ge=0,
        le=1,
    )
    outbreak_plants_lost: float = P(
        0.15,
        "1",
        "assumption: an epidemic kills or makes farmers abandon this share of the crop's mature"
        " plants (to fallow): moniliasis mostly rots pods, rust kills and exhausts coffee bushes",
        plausible=(0.05, 0.4),
        plausible_source="rule: x1/3 to x2.7 of the assumed share",
        ge=0,
        le=1,
    )
    outbreak_months: int = P(
        12,
        "months",
        "assumption: an epidemic spoils one year's harvests (a rainy season to the next)",
        plausible=(6, 18),
        plausible_source="rule: half a year to a year and a half",
        ge=1,
        le=120,
    )


class MarketParams(_Group):
    """Prices and the leaf -> paste/base -> export chain (docs/odd.md)."""

    paste_price_usd_per_kg: float = P(
        850.0,
        "USD/kg",
        "press: paste/base in the VRAEM about US$800-900/kg",
        plausible=(800.0, 900.0),
        plausible_source="press: US$800-900/kg in the VRAEM",
        gt=0,
    )
    leaf_kg_per_kg_base: float = P(
        250.0,
        "kg/kg",
        "UNODC: 240-260 kg dry leaf per kg cocaine hydrochloride now (370 historically); the model's"
        " product is washed base, which converts to hydrochloride about 1:1 by weight (DEA 1993:"
        " 1 t leaf -> 3 kg crude paste -> 1.5 kg base -> 1.5 kg HCl), so the ratio holds for base;"
        " crude paste would need about half as much leaf",
        plausible=(240.0, 370.0),
        plausible_source="UNODC: 240-260 now, 370 historically",
        gt=0,
    )
    processing_usd_per_kg_base: float = P(
        120.0,
        "USD/kg",
        "assumption: chemicals and labour of maceration pits",
        plausible=(60.0, 240.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    clan_margin: float = P(
        0.2,
        "1",
        "assumption: clans keep a fifth of the paste value net of costs",
        plausible=(0.1, 0.4),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        lt=1,
    )
    export_value_usd_per_kg: float = P(
        2_000.0,
        "USD/kg",
        "assumption: wholesale value at the Bolivian/Brazilian side",
        plausible=(1_000.0, 4_000.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    export_demand_growth_per_year: float = P(
        0.039,
        "1/yr",
        "UNODC World Drug Reports: world cocaine users 17 to 25 million over 2013-2023 (+3.9% a"
        " year; model/vraem/data/export_demand.csv); demand for VRAEM base grows at this rate after"
        " that series ends, for market.export_demand_growth_years, then holds (assumption)",
        plausible=(0.0, 0.08),
        plausible_source="rule: no growth to twice the 2013-2023 trend",
        ge=-0.5,
        le=1,
    )
    export_demand_growth_years: float = P(
        5.0,
        "years",
        "assumption: world cocaine use keeps its 2013-2023 trend for five years after the data"
        " (to 2028), then demand for VRAEM base holds: a stated path, not a growth rate for ever",
        plausible=(0.0, 10.0),
        plausible_source="rule: no growth after the data to ten years of it",
        ge=0,
    )
    export_demand_growth_by_year: tuple[float, ...] = P(
        (),
        "1/yr per model year",
        "assumption: optional demand path (year 1 = the first 12 months) to replay a boom or a crash;"
        " when given it replaces market.export_demand_index_by_year and the growth after it, and"
        " demand holds after its last year",
        fixed="an optional path (a list) that scenarios set to replay a boom or crash; empty by default",
    )
    export_demand_shock_by_month: dict[int, float] = P(
        {},
        "1 (multiplier) by model month",
        "assumption: optional one-off multipliers of export demand in given months (a lockdown,"
        " closed borders), on top of the yearly path; e.g. {85: 0.35, 86: 0.35, 87: 0.45} replays"
        " the April 2020 crash (DEVIDA: VRAEM leaf -62% in three months)",
        fixed="an input series (scenario shocks), not sampled",
    )
    price_flexibility: float = P(
        0.8,
        "1",
        "assumption: paste price moves 0.8% per 1% excess demand",
        plausible=(0.4, 1.6),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=5,
    )
    interdiction_pass_through: float = P(
        1.0,
        "1",
        "assumption: cartels pass seizure losses down the chain in full",
        plausible=(0.5, 1.5),
        plausible_source="rule: half to one and a half times the seizure losses",
        ge=0,
        le=2,
    )
    leaf_price_min_usd_per_kg: float = P(
        0.45,
        "USD/kg",
        "press: the 2021 crash to S/20 per arroba (11.5 kg), about US$0.45/kg, the lowest farm-gate"
        " price on record; the paste price is bounded where it would pay less (a data bound)",
        plausible=(0.3, 1.24),
        plausible_source="press 2021 trough (S/20 per arroba) to DEVIDA's April 2020 VRAEM low"
        " (S/4.2/kg, US$1.24)",
        ge=0,
    )
    leaf_price_max_usd_per_kg: float = P(
        4.3,
        "USD/kg",
        "UNODC Peru survey 2014: national mean US$4.3/kg, the highest annual mean on record"
        " (2003-2014 range US$2.2-4.3); beyond it buyers turn to other valleys and Bolivia (a data bound)",
        plausible=(3.3, 6.0),
        plausible_source="DEVIDA Jan 2020 VRAEM S/11.2/kg (US$3.3) to 1.4x the record annual mean"
        " (months above the annual mean)",
        gt=0,
    )
    export_demand_index_by_year: tuple[float, ...] = P(
        _export_demand_index(),
        "1 per model year (2013 = 1)",
        "UNODC World Drug Reports: world past-year cocaine users 2013-2023 relative to 2013"
        " (model/vraem/data/export_demand.csv); assumption: demand for VRAEM base follows world"
        " use (the valley keeps its market share); year 1 = the first 12 months, interpolated"
        " month by month; after it, market.export_demand_growth_per_year",
        fixed="an input series (observed world use by year), replaced as a whole in a scenario"
        " (or by market.export_demand_growth_by_year) rather than sampled",
    )
    export_demand_shock_by_date: dict[str, float] = P(
        _export_demand_shocks(),
        "1 (multiplier) by calendar month (YYYY-MM)",
        "Peru's lockdown from 16 March 2020 closed roads, borders and flights; DEVIDA's price"
        " monitoring: VRAEM leaf -62% from January to April 2020, recovering from May (multipliers"
        " set by hand to reproduce it: model/vraem/data/export_demand_shocks.csv); on top of"
        " market.export_demand_shock_by_month, which a scenario uses for shocks by model month",
        fixed="an input series (observed shocks by calendar month), replaced as a whole in a scenario",
    )

    export_demand_substitution: float = P(
        1.0,
        "1",
        "assumption: when VRAEM base is dearer than its reference, buyers turn to other valleys and"
        " Bolivia (the source of market.leaf_price_max_usd_per_kg): demand for it falls 1% per 1%"
        " rise of its price, so excess demand raises the price less and no bound binds for years",
        plausible=(0.25, 3.0),
        plausible_source="rule: x1/4 to x3 of the assumed unit elasticity",
        ge=0,
        le=10,
    )

    @field_validator("export_demand_shock_by_date")
    @classmethod
    def _calendar_months(cls, value: dict[str, float]) -> dict[str, float]:
        for date, factor in value.items():
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", date):
                raise ValueError(f"keys must be calendar months YYYY-MM (got {date!r})")
            if factor < 0:
                raise ValueError(f"multipliers must be >= 0 (got {factor} for {date})")
        return value


class ClanParams(_Group):
    """Clans: buyers, labs, protection and bribes (docs/odd.md)."""

    n_clans: int = P(
        30,
        "clans",
        "design assumption: tens of family clans",
        plausible=(15, 60),
        plausible_source="rule: 'tens of family clans' read as 15 to 60",
        ge=1,
        le=500,
    )
    labs_per_clan: int = P(
        8,
        "labs",
        "assumption: 'huge quantities' of labs; 240 in the valley",
        plausible=(4, 16),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=1,
    )
    lab_capacity_margin: float = P(
        1.3,
        "1",
        "assumption: labs can process 30% more than the leaf clans bought in 2013",
        plausible=(1.1, 1.6),
        plausible_source="rule: 10% to 60% spare capacity",
        gt=0,
    )
    lab_expansion_per_month: float = P(
        0.2,
        "1/month",
        "assumption: clans enlarge kitchens toward the leaf on offer within months",
        plausible=(0.1, 0.4),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    working_capital_months: float = P(
        2.0,
        "months",
        "assumption: clans hold about two months of their opening purchases (leaf, household paste,"
        " processing) in cash and buy nothing on credit",
        plausible=(1.0, 6.0),
        plausible_source="rule: from one month (paid on delivery) to half a year of purchases",
        gt=0,
    )
    lab_rebuild_months: float = P(
        1.5,
        "months",
        "assumption: a kitchen is cheap and quick to rebuild",
        plausible=(0.75, 3.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    lab_rebuild_cost_usd: float = P(
        5_000.0,
        "USD",
        "assumption: pits, drums and chemicals",
        plausible=(2_500.0, 10_000.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    protection_share: float = P(
        0.05,
        "1",
        "seed interview: Shining Path remnants escort the trade for pay",
        plausible=(0.025, 0.1),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        lt=1,
    )
    broker_margin: float = P(
        0.08,
        "1",
        "assumption: clans resell household-made paste for a smaller cut than own",
        plausible=(0.04, 0.16),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        lt=1,
    )
    bribe_share: float = P(
        0.05,
        "1",
        "seed article: plata before plomo; bribes preferred to violence",
        plausible=(0.025, 0.1),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        lt=1,
    )
    corruption: float = P(
        0.3,
        "1",
        "assumption: share of raids warned off by bribed officials",
        plausible=(0.15, 0.6),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )


class CartelParams(_Group):
    """Cartels: airstrips, flights, couriers (docs/odd.md)."""

    n_cartels: int = P(
        3,
        "cartels",
        "design assumption: a few firmas and foreign buyers",
        plausible=(2, 6),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=1,
        le=50,
    )
    buyer_origin: str = P(
        "mexican",
        "label",
        "seed interview says Mexican; other sources Bolivian/Brazilian",
        fixed="a label (who the foreign buyers are), not a quantity",
    )
    n_airstrips: int = P(
        65,
        "strips",
        "press: 65 known clandestine strips",
        plausible=(50, 100),
        plausible_source="rule: the 65 known strips -15 to +35 (unknown strips exist)",
        ge=1,
    )
    kg_per_flight: float = P(
        300.0,
        "kg",
        "seed interview: up to 300 kg (press: 350-500 kg)",
        plausible=(250.0, 500.0),
        plausible_source="seed interview up to 300 kg; press 350-500 kg",
        gt=0,
    )
    flights_per_strip_per_day: float = P(
        0.25,
        "flights/day",
        "assumption: a strip is used about once in four days",
        plausible=(0.125, 0.5),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    share_strips_back_within_week: float = P(
        7 / 18,
        "1",
        "seed interview: a destroyed runway is rebuilt nearby within a week by local peasants; press:"
        " 7 of 18 disabled strips back in use within a month (the share that comes back at once)",
        plausible=(0.2, 0.8),
        plausible_source="rule: from about the press share halved to most strips (the seed's 'a runway')",
        ge=0,
        le=1,
    )
    p_rebuild_strip_per_month: float = P(
        0.1,
        "1/month",
        "assumption: the strips not rebuilt within the week (11 of 18 in the press report) come back"
        " slowly, over about ten months",
        plausible=(0.03, 0.4),
        plausible_source="rule: from three years to under three months",
        ge=0,
        le=1,
    )
    land_share: float = P(
        0.12,
        "1",
        "assumption: some base leaves by land on couriers' backs",
        plausible=(0.06, 0.24),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    land_capacity_multiple: float = P(
        2.0,
        "1",
        "assumption: the land route can carry at most twice its usual share",
        plausible=(1.0, 4.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=1,
    )
    kg_per_courier: float = P(
        6.0,
        "kg",
        "seed interview: teenagers carry 2-10 kg in a backpack",
        plausible=(2.0, 10.0),
        plausible_source="seed interview: 2-10 kg in a backpack",
        gt=0,
    )


class SecurityParams(_Group):
    """Police and military units (docs/odd.md)."""

    n_units: int = P(
        5,
        "units",
        "design assumption: a handful of security units",
        plausible=(3, 10),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=1,
        le=100,
    )
    coordination_waste: float = P(
        0.2,
        "1",
        "seed interview: poor police/military/civil coordination wastes capacity",
        plausible=(0.1, 0.4),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        lt=1,
    )
    resistance_threshold: float = P(
        0.75,
        "1",
        "assumption: hostility above which communities may resist (Samugari)",
        plausible=(0.6, 0.9),
        plausible_source="rule: the assumed threshold +/-0.15",
        ge=0,
        le=1,
    )
    resistance_slope: float = P(
        12.0,
        "1",
        "assumption: steepness of resistance probability around the threshold",
        plausible=(6.0, 24.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    initial_hostility: float = P(
        0.45,
        "1",
        "seed interview: the population supports the cartels rather than the state",
        plausible=(0.3, 0.6),
        plausible_source="rule: the assumed hostility +/-0.15",
        ge=0,
        le=1,
    )
    hostility_per_share_eradicated: float = P(
        0.3,
        "1",
        "assumption: hostility rises with the share of a district's coca destroyed",
        plausible=(0.15, 0.6),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    hostility_after_confrontation: float = P(
        0.02,
        "1",
        "assumption: a confrontation hardens a community",
        plausible=(0.01, 0.04),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    hostility_decay_per_month: float = P(
        0.05,
        "1/month",
        "assumption: anger fades over about two years",
        plausible=(0.025, 0.1),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    casualties_per_confrontation: float = P(
        0.3,
        "people",
        "seed interview: several losses after skirmishes; seed article: little violence",
        plausible=(0.15, 0.6),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )


class MayorParams(_Group):
    """District mayors (docs/odd.md)."""

    p_linked: float = P(
        0.2,
        "1",
        "assumption: share of mayors linked to the drug trade",
        plausible=(0.1, 0.4),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    linked_bias: float = P(
        0.5,
        "1",
        "assumption: a linked mayor weighs growers' pressure 50% more",
        plausible=(0.25, 1.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    election_interval_months: int = P(
        48,
        "months",
        "Peru's local elections every 4 years",
        fixed="set by law: Peru's local elections every 4 years",
        ge=1,
    )
    trust_wanting_projects: float = P(
        0.35,
        "1",
        "assumption: trust above which a household wants state projects",
        plausible=(0.2, 0.5),
        plausible_source="rule: the assumed share +/-0.15 (a share with no published spread)",
        ge=0,
        le=1,
    )
    pressure_spread: float = P(
        0.1,
        "1",
        "assumption: a mayor hears the district's pressure with this uncertainty (share points): the"
        " chance of accepting state projects is logistic in (share for - weighted share against)"
        " with this scale, rather than a sharp threshold; a sharp threshold on shares of a small"
        " valley's few households per district decided differently from the full valley's",
        plausible=(0.05, 0.25),
        plausible_source="rule: from about the sampling spread of 100 households to a quarter",
        gt=0,
    )


class ProgrammeParams(_Group):
    """The state's development programme (docs/odd.md)."""

    road_share: float = P(
        0.4,
        "1",
        "seed interview: 2013 money went especially to roads and bridges",
        plausible=(0.2, 0.6),
        plausible_source="rule: the assumed share +/-0.2 (a share with no published spread)",
        ge=0,
        le=1,
    )
    road_cost_soles_per_cell: float = P(
        2.0e6,
        "soles/cell",
        "assumption: about S/1.6 million per km of rural road",
        plausible=(1.0e6, 4.0e6),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    join_trust: float = P(
        0.25,
        "1",
        "assumption: trust needed to register for the programme",
        plausible=(0.15, 0.35),
        plausible_source="rule: the assumed share +/-0.1 (a share with no published spread)",
        ge=0,
        le=1,
    )
    leave_trust: float = P(
        0.1,
        "1",
        "assumption: households below this trust drop out",
        plausible=(0.05, 0.15),
        plausible_source="rule: the assumed share +/-0.05 (a share with no published spread)",
        ge=0,
        le=1,
    )
    stage_cost_soles: tuple[float, float, float, float, float] = P(
        (300.0, 1_500.0, 4_000.0, 5_000.0, 12_000.0),
        "soles/household",
        "assumption: ID, title, soil, quick crops, perennial crops; about US$7,000 a family in all,"
        " the order of alternative-development spending per family in Peru",
        fixed="a list of five stage costs, varied as a whole by programme.stage_cost_multiplier",
    )
    stage_min_months: tuple[int, int, int, int, int] = P(
        (2, 6, 9, 6, 12),
        "months",
        "assumption: minimum time at the previous stage before the next",
        fixed="a list of five stage durations, varied as a whole by programme.stage_duration_multiplier",
    )
    cacao_below_m: float = P(
        1_200.0,
        "m",
        "assumption: cacao is planted in the low valley, coffee above about 1,200 m",
        plausible=(900.0, 1_500.0),
        plausible_source="rule: the assumed altitude -300 to +300 m",
        ge=0,
    )
    welfare_usd_per_month: float = P(
        30.0,
        "USD/month",
        "Juntos cash transfer: S/200 every two months, unlocked by an ID",
        fixed="a published transfer (Juntos: S/200 every two months), a policy amount",
        ge=0,
    )
    soil_fertility_gain: float = P(
        0.2,
        "1",
        "assumption: soil recovery programme lifts fertility",
        plausible=(0.1, 0.4),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    quick_crop_ha: float = P(
        0.5,
        "ha",
        "assumption: banana and garden plots per household",
        plausible=(0.25, 1.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    perennial_ha: float = P(
        1.0,
        "ha",
        "assumption: cacao or coffee per household",
        plausible=(0.5, 2.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
    )
    title_credit_boost: float = P(
        0.5,
        "1",
        "seed interview: a land title gives legal certainty and lets farmers borrow money; assumption:"
        " titled households plant perennials on their fallow at this share of"
        " crops.legal_expand_ha_per_month even at 2013 prices (credit for the investment)",
        plausible=(0.0, 1.5),
        plausible_source="rule: no effect to three times the assumed one",
        ge=0,
    )
    p_agreement_per_month: float = P(
        0.08,
        "1/month",
        "assumption: programme households for whom an agreement pays (its legal income and transfers"
        " cover the coca income it gives up) sign one in about a year",
        plausible=(0.04, 0.16),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    committed_agreement_factor: float = P(
        0.15,
        "1",
        "Colombian field experiment: two fifths need extreme compensation to stop; they sign far less",
        plausible=(0.075, 0.3),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        ge=0,
        le=1,
    )
    defection_per_year: float = P(
        0.006,
        "1/yr",
        "UNODC 2019: 0.6% of families under voluntary agreements replanted after a year (Colombia,"
        " where support arrived and agreements were verified): the yearly defection of supported,"
        " monitored signers with no income gap; the unmonitored rate is derived from it"
        " (programme.monitoring_detection), never discounted again",
        plausible=(0.002, 0.03),
        plausible_source="rule: a third to five times the UNODC figure",
        ge=0,
        le=1,
    )
    defection_per_income_gap: float = P(
        4.0,
        "1",
        "assumption: a signer's defection hazard grows by this multiple of its income shortfall, the"
        " share of the coca income it gave up (at today's expected leaf value) that its legal income"
        " and transfers do not replace: a signer earning nothing in its place defects at 1 + this"
        " times the base rate",
        plausible=(1.0, 10.0),
        plausible_source="rule: x0.25 to x2.5 of the assumed response",
        ge=0,
    )
    defection_lapse_multiplier: float = P(
        30.0,
        "1",
        "assumption, after Colombia's PNIS: families complied where payments arrived and replanted"
        " where they did not; without support for support_lapse_months the hazard is this multiple"
        " (0.6%/yr becomes about 17%/yr)",
        plausible=(5.0, 80.0),
        plausible_source="rule: a sixth to over twice the assumed multiple",
        ge=1,
    )
    support_lapse_months: int = P(
        3,
        "months",
        "assumption: promised support has lapsed after a quarter without programme delivery",
        plausible=(1, 12),
        plausible_source="rule: a month to a year",
        ge=1,
    )
    monitoring_detection: float = P(
        0.8,
        "1",
        "assumption: share of would-be defectors deterred by monitoring (field checks, satellite"
        " surveys); the sourced base rate (programme.defection_per_year) is the monitored one, so"
        " unmonitored signers defect at that rate / (1 - this share): 3%/yr at 0.8",
        plausible=(0.3, 0.95),
        plausible_source="rule: spans weak to near-complete verification",
        ge=0,
        lt=1,
    )
    peer_pressure: float = P(
        0.9,
        "1",
        "seed interview, Monzón: of 41 communities under agreement only one replanted, and gave up when"
        " the others pressed it (they feared for their aid): defection falls by this share times the"
        " district's share of signers",
        plausible=(0.5, 1.0),
        plausible_source="rule: half to full suppression in a district where all signed",
        ge=0,
        le=1,
    )
    trust_gain_per_month_services: float = P(
        0.004,
        "1/month",
        "assumption: households of a district where roads or services were delivered this month gain"
        " trust even outside the programme (seed interview: confidence in the state must be built"
        " first; a way in for those below the joining threshold)",
        plausible=(0.0, 0.015),
        plausible_source="rule: none to the programme's own monthly gain",
        ge=0,
    )
    defection_poverty_multiplier: float = P(
        5.0,
        "1",
        "assumption, after Colombia's PNIS (families replanted where payments did not arrive and"
        " they had nothing else): a signer whose income is below farmer.poverty_line_usd_per_month"
        " and whose savings are spent defects at this multiple of the hazard",
        plausible=(2.0, 20.0),
        plausible_source="rule: x0.4 to x4 of the assumed multiple",
        ge=1,
    )
    leakage_share: float = P(
        0.25,
        "1",
        "assumption: overhead, leakage and corruption take this share of the development budget"
        " before it reaches a road or a household (seed interview: 'a huge bureaucracy that devours"
        " resources', 'corruption is a problem'); no audited VRAEM figure in the project's sources",
        plausible=(0.1, 0.5),
        plausible_source="rule: a tenth to a half (a wide range for want of an audited figure)",
        ge=0,
        le=1,
    )
    stage_cost_multiplier: float = P(
        1.0,
        "1",
        "assumption: the stage costs (programme.stage_cost_soles) are uncertain as a whole",
        plausible=(0.5, 2.0),
        plausible_source="rule: x0.5 to x2 of the assumed costs",
        gt=0,
    )
    stage_duration_multiplier: float = P(
        1.0,
        "1",
        "assumption: the minimum stage durations (programme.stage_min_months) are uncertain as a whole",
        plausible=(0.5, 2.0),
        plausible_source="rule: x0.5 to x2 of the assumed durations",
        gt=0,
    )


SWITCH_FIXED = "a switch of model structure: compared as a named variant, not varied over a range"


class MechanismParams(_Group):
    """Named switches of the mechanisms by which a policy can fail (docs/odd.md, section 7).

    Each is a competing or complementary explanation of the valley's history: a scenario, an
    experiment or a calibration config turns it on or off by name, either as a mapping
    (``mechanisms: {open_valley: false}``, ``--set mechanisms.open_valley=false``) or as the list
    of those switched on (``mechanisms: [open_valley, state_retreat]``; ``[]`` is the reference
    variant with none of them). The default is every mechanism on.
    """

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            names = list(cls.model_fields)
            unknown = [v for v in value if v not in names]
            if unknown:
                raise ValueError(f"unknown mechanism {unknown[0]!r} (allowed: {', '.join(names)})")
            return {name: name in value for name in names}
        return value

    local_market: bool = P(
        True,
        "switch",
        "press (2023): VRAEM farm gate paid about US$2/kg for cacao when world prices passed US$3;"
        " the valley's own cacao and coffee supply lowers their farm-gate prices (a local glut)",
        fixed=SWITCH_FIXED,
    )
    crop_disease: bool = P(
        True,
        "switch",
        "press (2023): moniliasis destroyed about half of VRAEM cacao; coffee rust 2012-2013:"
        " disease destroys legal crops as a stochastic hazard",
        fixed=SWITCH_FIXED,
    )
    open_valley: bool = P(
        True,
        "switch",
        "press and DEVIDA: settlers planted coca in native-community land and protected areas"
        " (about 10,000 ha in 2020, 18,700 in 2022), coffee-rust and low-price refugees came, and"
        " labourers left in April 2020: households and workers arrive and leave",
        fixed=SWITCH_FIXED,
    )
    standing_coca: bool = P(
        True,
        "switch",
        "UNODC/DEVIDA survey method: satellite and field surveys count standing coca, harvested or"
        " not; with it on, coca stands unharvested when prices crash instead of being uprooted",
        fixed=SWITCH_FIXED,
    )
    rising_yields: bool = P(
        True,
        "switch",
        "DEVIDA: VRAEM yields about 3.6 t/ha in 2020, up from the UNODC 2013 figure; with it on,"
        " coca yields rise with inputs, beside soil exhaustion",
        fixed=SWITCH_FIXED,
    )
    state_retreat: bool = P(
        True,
        "switch",
        "DEVIDA/CORAH: national eradication fell from 25,526 ha (2019) to 6,273 ha (2020); with it"
        " on, field operations follow the retreat_factor of data/state_actions.csv, off they keep"
        " the pre-2020 level",
        fixed=SWITCH_FIXED,
    )

    def on(self) -> tuple[str, ...]:
        """The names of the mechanisms switched on."""
        return tuple(name for name in type(self).model_fields if getattr(self, name))


class ValleyParams(_Group):
    """An open valley, standing coca and rising coca yields (docs/odd.md, sections 7.16-7.18).

    Each part acts only when its switch in ``mechanisms`` is on (``open_valley``,
    ``standing_coca``, ``rising_yields``).
    """

    outside_wage_usd_per_month: float = P(
        280.0,
        "USD/month/household",
        "Peru's minimum wage, S/930 a month (2018-2021), at the model's exchange rate: what a family"
        " earns outside the valley",
        plausible=(200.0, 400.0),
        plausible_source="rule: S/750 (2013 minimum wage) less rural pay gaps to S/1,025 (2022) and"
        " above",
        gt=0,
    )
    settler_coca_ha: float = P(
        1.0,
        "ha/household",
        "UNODC 2013: 19,167 ha over the valley's about 20,000 coca households: about a hectare each",
        plausible=(0.5, 2.0),
        plausible_source="rule: x0.5 to x2 of the valley's mean",
        gt=0,
    )
    settler_rate_per_year: float = P(
        0.02,
        "households per resident household per year",
        "assumption: settlers arrive at about 2% of the valley's households a year when a hectare of"
        " coca pays twice the outside wage (press and DEVIDA: coca in native-community land and"
        " protected areas grew from about 10,000 ha in 2020 to 18,700 ha in 2022)",
        plausible=(0.005, 0.05),
        plausible_source="rule: x1/4 to x2.5 of the assumed rate",
        ge=0,
    )
    settler_max_income_ratio: float = P(
        4.0,
        "1",
        "assumption: above four times the outside wage, coca's pull on settlers saturates (land,"
        " danger and the journey limit how many come)",
        plausible=(2.0, 8.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=1,
    )
    refugee_rate_per_year: float = P(
        0.03,
        "households per resident household per year",
        "assumption: coffee-rust and low-price refugees from neighbouring regions arrive at about 3%"
        " of the valley's households a year per unit fall of the world coffee price below its 2013"
        " level (issue 16: coffee-rust and low-price refugees)",
        plausible=(0.0, 0.08),
        plausible_source="rule: none to x2.7 of the assumed rate",
        ge=0,
    )
    settler_farm_ha: float = P(
        0.5,
        "ha/household",
        "assumption: a settler family clears a small food plot on arrival, then opens coca in forest",
        plausible=(0.25, 1.0),
        plausible_source="rule: x0.5 to x2 of the assumed value (a scale-free quantity)",
        gt=0,
    )
    leave_rate_per_year: float = P(
        0.05,
        "1/yr",
        "assumption: a household with no income leaves the valley at about 5% a year, in proportion"
        " to how far its income falls short of the outside wage",
        plausible=(0.01, 0.15),
        plausible_source="rule: x0.2 to x3 of the assumed rate",
        ge=0,
    )
    lockdown_exodus_share: float = P(
        0.3,
        "1",
        "assumption: share of the valley's hired labour (harvesters) that left in April 2020, at the"
        " national lockdown (issue 16: labourers left in April 2020)",
        plausible=(0.1, 0.6),
        plausible_source="rule: the assumed share -0.2 to +0.3 (a share with no published figure)",
        ge=0,
        lt=1,
    )
    lockdown_year: int = P(
        2020,
        "calendar year",
        "Peru's national lockdown from 16 March 2020 (Decreto Supremo 044-2020-PCM)",
        fixed="an observed date (an input), not an uncertain fact",
        ge=1900,
    )
    lockdown_month: int = P(
        4,
        "calendar month (1-12)",
        "Peru's national lockdown began on 16 March 2020; labourers left the valley in April (issue 16"
        " review)",
        fixed="an observed date (an input), not an uncertain fact",
        ge=1,
        le=12,
    )
    labour_return_per_month: float = P(
        0.1,
        "1/month",
        "assumption: hired labour returns over about ten months as the lockdown eases",
        plausible=(0.05, 0.3),
        plausible_source="rule: x0.5 to x3 of the assumed rate",
        gt=0,
        le=1,
    )
    migration_interval_months: int = P(
        12,
        "months",
        "design assumption: households arrive and leave once a year (a year's rates at once), so that"
        " the household columns are rebuilt once a year: monthly rebuilds cost the core about a"
        " quarter of its speed, quarterly ones a third more time than a closed valley",
        fixed="a numerical design choice (how often arrivals and departures are applied), not an"
        " uncertain fact",
        ge=1,
        le=12,
    )
    standing_months: float = P(
        24.0,
        "months",
        "assumption: coca left unharvested stands about two years before its owner uproots it or the"
        " bush takes it back (the plant lives for decades)",
        plausible=(6.0, 60.0),
        plausible_source="rule: half a year to five years",
        gt=0,
    )
    coca_input_gain_per_year: float = P(
        0.013,
        "1/yr",
        "assumption: fertiliser and denser planting raise coca yields about 1.3% a year, enough to"
        " hold them near the observed level (UNODC 2013: over 3,600 kg/ha/yr in the VRAEM; DEVIDA:"
        " about 3.6 t/ha in 2020) against soil exhaustion (-12% by 2023 in the model without it)",
        plausible=(0.0, 0.04),
        plausible_source="rule: none to x3 of the assumed rate",
        ge=0,
    )
    coca_input_max_factor: float = P(
        1.3,
        "1",
        "assumption: inputs can raise coca yields at most 30% above the 2013 level",
        plausible=(1.1, 1.6),
        plausible_source="rule: +10% to +60%",
        ge=1,
    )


class ModelParams(_Group):
    """All parameter groups of a run."""

    landscape: LandscapeParams = LandscapeParams()
    farmer: FarmerParams = FarmerParams()
    crops: CropParams = CropParams()
    market: MarketParams = MarketParams()
    clan: ClanParams = ClanParams()
    cartel: CartelParams = CartelParams()
    security: SecurityParams = SecurityParams()
    mayor: MayorParams = MayorParams()
    programme: ProgrammeParams = ProgrammeParams()
    mechanisms: MechanismParams = MechanismParams()
    valley: ValleyParams = ValleyParams()

    @property
    def scale(self) -> float:
        """Households relative to the full valley; scales valley-wide quantities."""
        return self.farmer.n_households / REFERENCE_HOUSEHOLDS


def parameter_table(params: ModelParams | None = None) -> list[dict[str, Any]]:
    """Flatten parameters into rows of group, name, value, unit and source (for reports)."""
    params = params or ModelParams()
    rows = []
    for group_name, _group_field in type(params).model_fields.items():
        group = getattr(params, group_name)
        for name, field in type(group).model_fields.items():
            extra = field.json_schema_extra or {}
            rows.append(
                {
                    "parameter": f"{group_name}.{name}",
                    "value": getattr(group, name),
                    "unit": extra.get("unit", ""),
                    "source": extra.get("source", ""),
                    "plausible": tuple(extra["plausible"]) if "plausible" in extra else None,
                    "plausible_source": extra.get("plausible_source", ""),
                    "fixed": extra.get("fixed", ""),
                }
            )
    return rows


def plausible_ranges(params: ModelParams | None = None) -> dict[str, tuple[float, float]]:
    """Dotted key to ``(low, high)`` for every parameter that has a plausible range."""
    return {r["parameter"]: r["plausible"] for r in parameter_table(params) if r["plausible"] is not None}


def parameter_fields(params: ModelParams | None = None) -> dict[str, tuple[Any, Any]]:
    """Dotted key to ``(pydantic FieldInfo, value)`` for every parameter."""
    params = params or ModelParams()
    out = {}
    for group_name in type(params).model_fields:
        group = getattr(params, group_name)
        for name, field in type(group).model_fields.items():
            out[f"{group_name}.{name}"] = (field, getattr(group, name))
    return out


def range_problem(field: Any, low: float, high: float, default: Any = None) -> str | None:
    """What is wrong with ``(low, high)`` as the range of a parameter field, or None.

    The range must be ordered, contain the default (when given), lie inside the field's own
    constraints (``ge``, ``gt``, ``le``, ``lt``), and be whole numbers for an integer field.
    """
    for x in (low, high):
        if isinstance(x, bool) or not isinstance(x, int | float):
            return f"bounds must be numbers (got {echo(x)})"
    if field.annotation not in (int, float):
        return f"a {getattr(field.annotation, '__name__', field.annotation)} parameter has no numeric range"
    if low > high:
        return f"low {low} is above high {high}"
    if field.annotation is int and (low != int(low) or high != int(high)):
        return f"an integer parameter needs whole-number bounds (got [{low}, {high}])"
    if default is not None and not low <= default <= high:
        return f"the range [{low}, {high}] does not contain the default {default}"
    for c in field.metadata:
        for attr, ok, words in (
            ("ge", lambda x, b: x >= b, ">="),
            ("gt", lambda x, b: x > b, ">"),
            ("le", lambda x, b: x <= b, "<="),
            ("lt", lambda x, b: x < b, "<"),
        ):
            bound = getattr(c, attr, None)
            if bound is not None and not (ok(low, bound) and ok(high, bound)):
                return f"the range [{low}, {high}] leaves the allowed values (must be {words} {bound})"
    return None


def validate_plausible_ranges(params: ModelParams | None = None) -> list[str]:
    """Problems with the declared ranges: each parameter has a valid range or a fixed reason."""
    problems = []
    for key, (field, value) in parameter_fields(params).items():
        extra = field.json_schema_extra or {}
        has_range, fixed = "plausible" in extra, bool(extra.get("fixed"))
        if has_range == fixed:
            what = "both a plausible range and a fixed reason" if has_range else "neither a range nor fixed"
            problems.append(f"{key}: has {what}")
            continue
        if has_range:
            if not extra.get("plausible_source"):
                problems.append(f"{key}: the plausible range has no source")
            low, high = extra["plausible"]
            why = range_problem(field, low, high, value)
            if why:
                problems.append(f"{key}: {why}")
    return problems
