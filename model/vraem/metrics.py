"""Named reporters: every monthly output of docs/odd.md.

Each reporter takes the model and returns one number; :data:`REPORTERS` maps output names (the
columns of the results table) to them. Flows of the month (eradicated, exported, paid ...) are
read from ``model.month_flows``; stocks (coca, labs, trust ...) from the model's state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vraem.agents.farmer import ProgrammeStage, mean_soil_fertility

DISTRICT_COLUMN = "coca_ha_d{:02d}"


def coca_ha(m) -> float:
    """Coca in the valley, ha (young and mature)."""
    return float(m.landscape.layer("coca_ha").sum())


def replanted_share(m) -> float:
    """Replanted ha over eradicated ha this month (NaN when nothing was eradicated)."""
    e = m.month_flows["eradicated_ha"]
    return m.month_flows["replanted_ha"] / e if e > 0 else float("nan")


def income_mean(m) -> float:
    """Mean household net income, USD/month."""
    return float(m.households.income.mean())


def poverty_share(m) -> float:
    """Share of households below the poverty line."""
    return float((m.households.income < m.params.farmer.poverty_line_usd_per_month).mean())


def mean_fertility(m) -> float:
    """Mean soil fertility of farmed land: home farms and remote fields, weighted by area."""
    return mean_soil_fertility(m.households)


def _flow(name: str) -> Callable:
    def reporter(m) -> float:
        return float(m.month_flows[name])

    reporter.__doc__ = f"This month's {name.replace('_', ' ')}."
    return reporter


def _stage_count(stage: ProgrammeStage) -> Callable:
    def reporter(m) -> int:
        return int(np.count_nonzero(m.households.stage == stage))

    reporter.__doc__ = f"Households whose programme stage is {stage.name}."
    return reporter


def _district(d: int) -> Callable:
    def reporter(m) -> float:
        return float(m.district_coca_ha[d])

    reporter.__doc__ = f"Coca in district {d + 1}, ha."
    return reporter


def build_reporters(n_districts: int) -> dict[str, Callable]:
    """All reporters, in column order."""
    h = lambda m: m.households  # noqa: E731
    reporters: dict[str, Callable] = {
        "coca_ha": coca_ha,
        "coca_mature_ha": lambda m: float(h(m).coca_mature.sum()),
        "coca_remote_ha": lambda m: float((h(m).coca_young[1] + h(m).coca_mature[1]).sum()),
        "new_coca_virgin_ha": _flow("new_coca_virgin_ha"),
        "eradicated_ha": _flow("eradicated_ha"),
        "replanted_ha": _flow("replanted_ha"),
        "replanted_share": replanted_share,
        "replanted_remote_ha": _flow("replanted_remote_ha"),
        "food_ha": lambda m: float((h(m).food_young + h(m).food_mature).sum()),
        "cacao_ha": lambda m: float((h(m).cacao_young + h(m).cacao_mature).sum()),
        "coffee_ha": lambda m: float((h(m).coffee_young + h(m).coffee_mature).sum()),
        "fallow_ha": lambda m: float(h(m).fallow.sum()),
        "legal_planted_own_ha": _flow("legal_planted_own_ha"),
        "forest_ha": lambda m: float(m.landscape.layer("forest_ha").sum()),
        "forest_cleared_ha": _flow("forest_cleared_ha"),
        "mean_trust": lambda m: float(h(m).trust.mean()),
        "households_in_programme": lambda m: int(h(m).in_programme.sum()),
        "agreements": lambda m: int(h(m).agreement.sum()),
        "agreements_broken": _flow("agreements_broken"),
        "leaf_price_usd_per_kg": lambda m: m.prices.leaf_usd,
        "paste_price_usd_per_kg": lambda m: m.prices.paste_usd,
        "export_demand_t": lambda m: m.prices.demand_t,
        "leaf_t": _flow("leaf_t"),
        "leaf_unsold_t": _flow("leaf_unsold_t"),
        "paste_t": _flow("paste_t"),
        "exports_air_t": _flow("exports_air_t"),
        "exports_land_t": _flow("exports_land_t"),
        "seized_t": _flow("seized_t"),
        "seized_in_transit_t": _flow("seized_in_transit_t"),
        "flights_per_day": _flow("flights_per_day"),
        "flights_interdicted": _flow("flights_interdicted"),
        "active_airstrips": lambda m: int(m.airstrips.active.sum()),
        "airstrips_destroyed": _flow("airstrips_destroyed"),
        "airstrips_rebuilt": _flow("airstrips_rebuilt"),
        "airstrips_rebuilt_within_week": _flow("airstrips_rebuilt_within_week"),
        "active_labs": lambda m: int(m.labs.active.sum()),
        "labs_destroyed": _flow("labs_destroyed"),
        "labs_rebuilt": _flow("labs_rebuilt"),
        "couriers": _flow("couriers"),
        "couriers_arrested": _flow("couriers_arrested"),
        "confrontations": _flow("confrontations"),
        "casualties": _flow("casualties"),
        "mean_hostility": lambda m: float(m.hostility.mean()),
        "bribes_usd": _flow("usd_bribes"),
        "protection_usd": _flow("usd_protection"),
        "payments_to_households_usd": _flow("usd_clans_to_households"),
        "export_revenue_usd": _flow("usd_export_revenue"),
        "development_spent_soles": _flow("soles_spent"),
        "mayors_accepting": lambda m: int(m.district_accepting.sum()),
        "income_mean_usd": income_mean,
        "coca_income_mean_usd": lambda m: float(h(m).coca_income.mean()),
        "poverty_share": poverty_share,
        "mean_fertility": mean_fertility,
    }
    for stage in ProgrammeStage:
        reporters[f"households_stage_{stage.name.lower()}"] = _stage_count(stage)
    for d in range(n_districts):
        reporters[DISTRICT_COLUMN.format(d + 1)] = _district(d)
    return reporters


FLOW_NAMES = (
    "new_coca_virgin_ha",
    "eradicated_ha",
    "eradication_planned_ha",
    "replanted_ha",
    "replanted_remote_ha",
    "forest_cleared_ha",
    "legal_planted_own_ha",
    "leaf_t",
    "leaf_unsold_t",
    "paste_unsold_t",
    "paste_t",
    "exports_air_t",
    "exports_land_t",
    "seized_t",
    "seized_in_transit_t",
    "shipped_t",
    "flights_per_day",
    "flights_interdicted",
    "couriers",
    "couriers_arrested",
    "airstrips_destroyed",
    "airstrips_rebuilt",
    "airstrips_rebuilt_within_week",
    "labs_raided",
    "labs_destroyed",
    "labs_rebuilt",
    "confrontations",
    "casualties",
    "elections",
    "agreements_broken",
    "road_cells_built",
    "usd_clans_to_households",
    "usd_cartels_to_clans",
    "usd_clan_processing",
    "usd_household_processing",
    "usd_protection",
    "usd_bribes",
    "usd_lab_rebuilding",
    "usd_export_revenue",
    "usd_legal_sales",
    "usd_welfare",
    "soles_spent",
    "soles_unspent",
)
"""Quantities accumulated within a month and reset at its start."""


def new_flows() -> dict[str, float]:
    """A zeroed ledger for the month's flows."""
    return dict.fromkeys(FLOW_NAMES, 0.0)
