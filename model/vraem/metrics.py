"""Named reporters: every monthly output of docs/odd.md.

Each reporter takes the model and returns one number; :func:`build_reporters` maps output names
(the columns of the results table) to them. Flows of the month (eradicated, exported, paid ...)
are read from ``model.month_flows``; stocks (coca, labs, trust ...) from the model's state. The
valley-wide sums over households are taken once a month in one pass (:func:`household_totals`,
kept in ``model.household_totals``), and the household reporters read them from there.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from vraem.agents.farmer import ProgrammeStage
from vraem.agents.legal_crops import farm_gate_indices
from vraem.jit import kernel

HOUSEHOLD_TOTALS = (
    "coca_mature_ha",
    "coca_remote_ha",
    "food_ha",
    "cacao_ha",
    "coffee_ha",
    "fallow_ha",
    "trust",
    "in_programme",
    "agreements",
    "income_usd",
    "coca_income_usd",
    "poor",
)
"""Sums over households taken by :func:`household_totals` (``poor``: households below the line)."""

STAGE_TOTALS = tuple(f"stage_{s.name.lower()}" for s in ProgrammeStage)
"""Households per programme stage, in :class:`ProgrammeStage` order (in :func:`household_totals`)."""


@kernel
def _household_sums(
    coca_young,
    coca_mature,
    food_young,
    food_mature,
    cacao_young,
    cacao_mature,
    coffee_young,
    coffee_mature,
    fallow,
    trust,
    in_programme,
    agreement,
    income,
    coca_income,
    poverty_line,
    stage,
    n_stages,
):
    # The float sums, in household order, in one loop (local accumulators stay in registers); the
    # counts, exact in any order, apart in loops the compiler vectorizes (a count per stage kept in
    # an array would be stored and reloaded for every household).
    mature = remote = food = cacao = coffee = fallow_ha = trust_sum = income_sum = coca_sum = 0.0
    for i in range(fallow.size):
        mature += coca_mature[0, i] + coca_mature[1, i]
        remote += coca_young[1, i] + coca_mature[1, i]
        food += food_young[i] + food_mature[i]
        cacao += cacao_young[i] + cacao_mature[i]
        coffee += coffee_young[i] + coffee_mature[i]
        fallow_ha += fallow[i]
        trust_sum += trust[i]
        income_sum += income[i]
        coca_sum += coca_income[i]
    programme = signed = poor = 0
    for i in range(fallow.size):
        programme += in_programme[i]
        signed += agreement[i]
        poor += income[i] < poverty_line
    stages = np.zeros(n_stages, dtype=np.int64)
    for s in range(n_stages):
        count = 0
        for i in range(stage.size):
            count += stage[i] == s
        stages[s] = count
    sums = (
        mature,
        remote,
        food,
        cacao,
        coffee,
        fallow_ha,
        trust_sum,
        programme,
        signed,
        income_sum,
        coca_sum,
        poor,
    )
    return sums, stages


class MonthlyCollector(mesa.DataCollector):
    """Mesa's ``DataCollector`` for model reporters that return plain numbers.

    Mesa deep-copies every reported value in case a reporter returns a mutable object; every
    reporter here returns a float or an int (immutable; ``tests/test_household_agents.py``
    checks), so after Mesa's own first collection, which validates the reporters, each month's
    values are appended as they are. That is a third of the cost of collecting 75 outputs a month.
    """

    def collect(self, model) -> None:
        """Append this month's value of every model reporter (``model_vars``, as Mesa keeps them)."""
        if not self._validated or self.agent_reporters or self.agenttype_reporters:
            super().collect(model)
            return
        self._collection_steps.append(model.time)
        for name, reporter in self.model_reporters.items():
            self.model_vars[name].append(reporter(model))


def household_totals(m) -> dict[str, float]:
    """The month's sums over households (:data:`HOUSEHOLD_TOTALS`), and households per stage."""
    h = m.households
    sums, stages = _household_sums(
        h.coca_young,
        h.coca_mature,
        h.food_young,
        h.food_mature,
        h.cacao_young,
        h.cacao_mature,
        h.coffee_young,
        h.coffee_mature,
        h.fallow,
        h.trust,
        h.in_programme,
        h.agreement,
        h.income,
        h.coca_income,
        m.params.farmer.poverty_line_usd_per_month,
        h.stage,
        len(ProgrammeStage),
    )
    totals = dict(zip(HOUSEHOLD_TOTALS, sums, strict=True))
    totals.update(zip(STAGE_TOTALS, stages.tolist(), strict=True))
    return totals


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
    return m.household_totals["income_usd"] / m.households.n


def poverty_share(m) -> float:
    """Share of households below the poverty line."""
    return m.household_totals["poor"] / m.households.n


def mean_fertility(m) -> float:
    """Mean soil fertility of farmed land: home farms and remote fields, weighted by area.

    Taken by the soils' phase (:func:`vraem.agents.soils.wear_soils`, in the pass that maps the
    soils), after which nothing in the month changes soils, farms or coca.
    """
    return m.mean_fertility


def _flow(name: str) -> Callable:
    def reporter(m) -> float:
        return float(m.month_flows[name])

    reporter.__doc__ = f"This month's {name.replace('_', ' ')}."
    return reporter


def _stage_count(stage: ProgrammeStage) -> Callable:
    key = STAGE_TOTALS[stage]

    def reporter(m) -> int:
        return m.household_totals[key]

    reporter.__doc__ = f"Households whose programme stage is {stage.name}."
    return reporter


def _district(d: int) -> Callable:
    def reporter(m) -> float:
        return float(m.district_coca_ha[d])

    reporter.__doc__ = f"Coca in district {d + 1}, ha."
    return reporter


def cacao_price_usd_per_kg(m) -> float:
    """Farm-gate cacao price at the roadside this month, USD/kg.

    World price x pass-through x local glut; the harvest lost to a running epidemic is not
    counted, and market access lowers it further at each farm.
    """
    cp = m.params.crops
    return cp.cacao_world_usd_per_kg * cp.cacao_pass_through * farm_gate_indices(m)[0]


def build_reporters(n_districts: int) -> dict[str, Callable]:
    """All reporters, in column order."""
    t = lambda m: m.household_totals  # noqa: E731
    reporters: dict[str, Callable] = {
        "coca_ha": coca_ha,
        "coca_mature_ha": lambda m: t(m)["coca_mature_ha"],
        "coca_remote_ha": lambda m: t(m)["coca_remote_ha"],
        "new_coca_virgin_ha": _flow("new_coca_virgin_ha"),
        "eradicated_ha": _flow("eradicated_ha"),
        "replanted_ha": _flow("replanted_ha"),
        "replanted_share": replanted_share,
        "replanted_remote_ha": _flow("replanted_remote_ha"),
        "food_ha": lambda m: t(m)["food_ha"],
        "cacao_ha": lambda m: t(m)["cacao_ha"],
        "coffee_ha": lambda m: t(m)["coffee_ha"],
        "fallow_ha": lambda m: t(m)["fallow_ha"],
        "legal_planted_own_ha": _flow("legal_planted_own_ha"),
        "forest_ha": lambda m: float(m.landscape.layer("forest_ha").sum()),
        "forest_cleared_ha": _flow("forest_cleared_ha"),
        "mean_trust": lambda m: t(m)["trust"] / m.households.n,
        "households_in_programme": lambda m: int(t(m)["in_programme"]),
        "agreements": lambda m: int(t(m)["agreements"]),
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
        "development_leaked_soles": _flow("soles_leaked"),
        "mayors_accepting": lambda m: int(m.district_accepting.sum()),
        "income_mean_usd": income_mean,
        "coca_income_mean_usd": lambda m: t(m)["coca_income_usd"] / m.households.n,
        "poverty_share": poverty_share,
        "mean_fertility": mean_fertility,
        "cacao_price_usd_per_kg": cacao_price_usd_per_kg,
        "legal_lost_to_disease_ha": _flow("legal_lost_to_disease_ha"),
    }
    for stage in ProgrammeStage:
        reporters[f"households_stage_{stage.name.lower()}"] = _stage_count(stage)
    reporters.update(
        {
            "coca_harvested_ha": lambda m: float(m.coca_harvested_ha),
            "coca_unharvested_ha": lambda m: float(m.coca_unharvested_ha),
            "coca_yield_factor": lambda m: float(m.coca_yield_factor),
            "households": lambda m: int(m.households.n),
            "households_arrived": _flow("households_arrived"),
            "households_left": _flow("households_left"),
            "labour_supply": lambda m: float(m.labour_supply),
        }
    )
    for d in range(n_districts):
        reporters[DISTRICT_COLUMN.format(d + 1)] = _district(d)
    return reporters


FLOW_NAMES = (
    "legal_lost_to_disease_ha",
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
    "soles_leaked",
    "households_arrived",
    "households_left",
)
"""Quantities accumulated within a month and reset at its start."""


def new_flows() -> dict[str, float]:
    """A zeroed ledger for the month's flows."""
    return dict.fromkeys(FLOW_NAMES, 0.0)
