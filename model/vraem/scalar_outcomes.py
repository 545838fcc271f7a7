"""Named scalar outcomes of a scenario, and :func:`outcomes`, the model as one plain function.

Exploratory modelling tools, sensitivity analysis and optimisers want a model that takes numbers
and gives numbers: ``f(lever_1=..., uncertainty_1=...) -> {"outcome": value, ...}``. That is
:func:`outcomes`. Levers (the policy timeline, e.g. ``policy.phases[0].eradication_ha_per_month``)
and uncertainties (the parameters of :mod:`vraem.params`, e.g. ``farmer.p_replant``) go in as
keyword arguments; the outcomes below come out, averaged over replicates that use the same seeds
at every call (common random numbers), so that two calls differ only by their inputs.

Each outcome is computed per run from the monthly table of :func:`vraem.runner.run_once` (the
columns of :mod:`vraem.metrics`), then averaged over the replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vraem.runner import run_once
from vraem.scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    read_yaml_mapping,
    resolve_scenario_path,
    validate_scenario,
)
from vraem.user_input import echo

SOURCE = "vraem.outcomes"
"""How errors name the inputs of :func:`outcomes`."""


@dataclass(frozen=True)
class Outcome:
    """A named scalar outcome of one run."""

    name: str
    unit: str
    description: str
    compute: Callable[[pd.DataFrame], float]


def _final(column: str) -> Callable[[pd.DataFrame], float]:
    return lambda t: float(t[column].iloc[-1])


def _mean(column: str) -> Callable[[pd.DataFrame], float]:
    """Mean over the simulated months (month 0, the starting state, left out)."""
    return lambda t: float(t.loc[t["month"] > 0, column].mean())


def _total(*columns: str) -> Callable[[pd.DataFrame], float]:
    """Sum of monthly flows over the run (month 0 records no flows)."""
    return lambda t: float(t.loc[t["month"] > 0, list(columns)].to_numpy().sum())


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("coca_ha_start", "ha", "coca in the valley at month 0", lambda t: float(t["coca_ha"].iloc[0])),
    Outcome("coca_ha_final", "ha", "coca in the valley at the last month", _final("coca_ha")),
    Outcome("coca_ha_mean", "ha", "coca in the valley, mean over the months", _mean("coca_ha")),
    Outcome("eradicated_ha_total", "ha", "coca eradicated over the run", _total("eradicated_ha")),
    Outcome("replanted_ha_total", "ha", "eradicated coca replanted over the run", _total("replanted_ha")),
    Outcome(
        "new_coca_virgin_ha_total",
        "ha",
        "new coca on previously uncultivated cells",
        _total("new_coca_virgin_ha"),
    ),
    Outcome("forest_cleared_ha_total", "ha", "forest cleared over the run", _total("forest_cleared_ha")),
    Outcome(
        "income_mean_usd",
        "USD/month",
        "mean household net income, mean over the months",
        _mean("income_mean_usd"),
    ),
    Outcome(
        "poverty_share_final",
        "1",
        "share of households below the poverty line at the end",
        _final("poverty_share"),
    ),
    Outcome("mean_trust_final", "1", "households' mean trust in the state at the end", _final("mean_trust")),
    Outcome(
        "leaf_price_usd_per_kg_mean",
        "USD/kg",
        "farm-gate coca leaf price, mean over the months",
        _mean("leaf_price_usd_per_kg"),
    ),
    Outcome(
        "exports_t_total",
        "t",
        "drugs exported by air and by land",
        _total("exports_air_t", "exports_land_t"),
    ),
    Outcome("seized_t_total", "t", "drugs seized over the run", _total("seized_t")),
    Outcome("labs_destroyed_total", "labs", "labs destroyed over the run", _total("labs_destroyed")),
    Outcome(
        "couriers_arrested_total", "couriers", "couriers arrested over the run", _total("couriers_arrested")
    ),
    Outcome(
        "confrontations_total",
        "events",
        "confrontations between forces and communities",
        _total("confrontations"),
    ),
    Outcome("casualties_total", "people", "casualties of confrontations", _total("casualties")),
    Outcome(
        "development_spent_soles_total",
        "soles",
        "development money spent over the run",
        _total("development_spent_soles"),
    ),
)
"""The outcomes :func:`outcomes` returns, in order (``replanted_share`` is added from the totals)."""

OUTCOME_NAMES: tuple[str, ...] = (*(o.name for o in OUTCOMES), "replanted_share")
"""Every key of the dict :func:`outcomes` returns."""


def _plain(value: Any) -> Any:
    """NumPy scalars (as EMA Workbench and SALib pass them) as plain Python numbers."""
    return value.item() if isinstance(value, np.generic) else value


def _dotted(key: str) -> str:
    """``farmer__p_replant`` -> ``farmer.p_replant``; ``policy__phases__0__x`` -> ``policy.phases.0.x``."""
    return key.replace("__", ".")


def _raw_scenario(scenario: str | Path | Scenario) -> tuple[dict[str, Any], str]:
    """The raw mapping of a scenario (file, shipped name or loaded :class:`Scenario`) and its origin."""
    if isinstance(scenario, Scenario):
        return scenario.model_dump(mode="json"), f"scenario {scenario.name}"
    if not isinstance(scenario, str | Path):
        kind = type(scenario).__name__
        raise ScenarioError(
            f"{SOURCE}: scenario must be a shipped name, a YAML path or a Scenario (got {kind})"
        )
    path = resolve_scenario_path(scenario)
    return read_yaml_mapping(path), str(path)


def _check_int(name: str, value: Any, low: int, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ScenarioError(f"{SOURCE}: {name} must be an integer >= {low} (got {echo(value)})")


def outcomes(
    scenario: str | Path | Scenario = "status_quo",
    months: int | None = 120,
    replicates: int = 3,
    seed: int | None = None,
    households: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    **levers_and_uncertainties: Any,
) -> dict[str, float]:
    """Run replicates of a scenario with some values changed, and return its named outcomes.

    The model as one plain function, for notebooks, exploratory modelling (EMA Workbench's
    ``Model("vraem", function=vraem.outcomes)``), sensitivity analysis (SALib) and optimisers.
    Replicate ``k`` uses the seed of replicate ``k`` of ``vraem run`` (common random numbers), so
    two calls with the same ``seed`` differ only by their inputs.

    Args:
        scenario: A shipped scenario's name (``"status_quo"``), a YAML path, or a loaded
            :class:`~vraem.scenario.Scenario`.
        months: Months to simulate; ``None`` keeps the scenario's own.
        replicates: Runs to average, replicates ``0..replicates-1``.
        seed: Base seed; ``None`` keeps the scenario's.
        households: Households in the valley (``farmer.n_households``); ``None`` keeps the
            scenario's. Valley-wide amounts (policy capacities, budgets, demand) scale with it.
        parameters: Values to change, by dotted key as in ``vraem run --set``:
            ``{"farmer.p_replant": 0.3, "policy.phases[1].eradication_ha_per_month": 400}``.
        **levers_and_uncertainties: The same as keyword arguments, with ``__`` for each dot and
            each index: ``farmer__p_replant=0.3``, ``policy__phases__1__eradication_ha_per_month=400``.
            Dotted names work too when passed as ``**{"farmer.p_replant": 0.3}``.

    Returns:
        ``{name: value}`` for every name in :data:`OUTCOME_NAMES`, each the mean over the
        replicates (see :data:`OUTCOMES` for units). ``replanted_share`` is replanted over
        eradicated hectares, NaN when nothing was eradicated.

    Raises:
        ScenarioError: A one-line message naming the scenario, the key and what is allowed, for an
            unknown key, an out-of-range value or a bad argument.

    Example:
        >>> import vraem
        >>> out = vraem.outcomes("eradication_first", months=24, households=500, farmer__p_replant=0.3)
        >>> sorted(out)[:2]
        ['casualties_total', 'coca_ha_final']
    """
    _check_int("replicates", replicates, 1)
    _check_int("months", months, 1, optional=True)
    _check_int("seed", seed, 0, optional=True)
    _check_int("households", households, 1, optional=True)
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ScenarioError(f"{SOURCE}: parameters must be a mapping of dotted keys to values")

    changes: dict[str, Any] = {
        key: int(value)
        for key, value in (("months", months), ("seed", seed), ("farmer.n_households", households))
        if value is not None
    }
    for key, value in (*(parameters or {}).items(), *levers_and_uncertainties.items()):
        if not isinstance(key, str):
            raise ScenarioError(f"{SOURCE}: parameter names must be strings (got {echo(key)})")
        dotted = _dotted(key)
        if dotted in changes:
            raise ScenarioError(f"{SOURCE}: {dotted} is given twice (give each value once)")
        changes[dotted] = _plain(value)
    changes["map_months"] = []  # no coca maps: only the table is needed

    raw, origin = _raw_scenario(scenario)
    for key, value in changes.items():
        apply_override(raw, key, value, source=SOURCE)
    sc = validate_scenario(raw, origin)

    tables = (run_once(sc, k).table for k in range(int(replicates)))
    per_run = [{o.name: o.compute(table) for o in OUTCOMES} for table in tables]
    out = {name: float(np.mean([r[name] for r in per_run])) for name in per_run[0]}
    eradicated = out["eradicated_ha_total"]
    out["replanted_share"] = out["replanted_ha_total"] / eradicated if eradicated > 0 else float("nan")
    return out
