"""Named scalar outcomes of a scenario, and :func:`outcomes`, the model as one plain function.

Exploratory modelling tools, sensitivity analysis and optimisers want a model that takes numbers
and gives numbers: ``f(lever_1=..., uncertainty_1=...) -> {"outcome": value, ...}``. That is
:func:`outcomes`. Levers (the policy timeline, e.g. ``policy.phases[0].eradication_ha_per_month``)
and uncertainties (the parameters of :mod:`vraem.params`, e.g. ``farmer.p_replant``) go in as
keyword arguments; the outcomes below come out, averaged over replicates that use the same seeds
at every call (common random numbers), so that two calls differ only by their inputs.

With ``draws=N`` replicate ``k`` runs draw ``k`` of the shipped calibration posterior with seed
``k``, as ``make run`` does (experiments/default.yaml), so the means and the ``quantiles`` include
parameter uncertainty and agree with the table ``vraem compare`` writes for the same draws.

Each outcome is computed per run from the monthly table of :func:`vraem.runner.run_once` (the
columns of :mod:`vraem.metrics`), then averaged over the replicates. ``print(vraem.OUTCOMES)``
shows their names, units and meanings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vraem.runner import run_once, scenario_replicates
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

REPLICATES = 3
"""Replicates :func:`outcomes` averages when neither ``replicates`` nor ``draws`` is given."""

POSTERIOR = "posterior.parquet"
"""The shipped calibration posterior (model/vraem/data, from ``make calibrate``) that ``draws`` uses."""


@dataclass(frozen=True)
class Outcome:
    """A named scalar outcome of one run."""

    name: str
    unit: str
    description: str
    compute: Callable[[pd.DataFrame], float] = field(repr=False)


class OutcomeTable(Mapping[str, Outcome]):
    """The named outcomes, by name; prints as a table of names, units and meanings.

    A read-only mapping (``OUTCOMES["coca_ha_final"].unit``, ``list(OUTCOMES)``, ``in``), whose
    ``str`` and ``repr`` are a plain-text table and :meth:`to_frame` a pandas table.
    """

    def __init__(self, outcomes: Iterable[Outcome]) -> None:
        self._by_name = {o.name: o for o in outcomes}

    def __getitem__(self, name: str) -> Outcome:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def to_frame(self) -> pd.DataFrame:
        """The outcomes as a table: ``name``, ``unit``, ``description``."""
        return pd.DataFrame(
            [(o.name, o.unit, o.description) for o in self.values()], columns=["name", "unit", "description"]
        )

    def __str__(self) -> str:
        rows = [("name", "unit", "meaning"), *((o.name, o.unit, o.description) for o in self.values())]
        widths = [max(len(r[i]) for r in rows) for i in range(2)]
        lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}".rstrip() for r in rows]
        lines.insert(1, f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * len('meaning')}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"vraem.OUTCOMES: {len(self)} outcomes of vraem.outcomes()\n{self}"

    def _repr_html_(self) -> str:
        """The table in a notebook."""
        return self.to_frame().to_html(index=False)


def _final(column: str) -> Callable[[pd.DataFrame], float]:
    return lambda t: float(t[column].iloc[-1])


def _mean(column: str) -> Callable[[pd.DataFrame], float]:
    """Mean over the simulated months (month 0, the starting state, left out)."""
    return lambda t: float(t.loc[t["month"] > 0, column].mean())


def _total(*columns: str) -> Callable[[pd.DataFrame], float]:
    """Sum of monthly flows over the run (month 0 records no flows)."""
    return lambda t: float(t.loc[t["month"] > 0, list(columns)].to_numpy().sum())


def _replanted_share(t: pd.DataFrame) -> float:
    eradicated = _total("eradicated_ha")(t)
    return _total("replanted_ha")(t) / eradicated if eradicated > 0 else float("nan")


OUTCOMES = OutcomeTable(
    (
        Outcome(
            "coca_ha_start", "ha", "coca in the valley at month 0", lambda t: float(t["coca_ha"].iloc[0])
        ),
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
        Outcome(
            "mean_trust_final", "1", "households' mean trust in the state at the end", _final("mean_trust")
        ),
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
            "couriers_arrested_total",
            "couriers",
            "couriers arrested over the run",
            _total("couriers_arrested"),
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
        Outcome(
            "replanted_share",
            "1",
            "replanted over eradicated ha (its mean: total replanted / total eradicated); NaN if none",
            _replanted_share,
        ),
    )
)
"""The outcomes :func:`outcomes` returns, by name, in order; ``print(OUTCOMES)`` lists them."""

OUTCOME_NAMES: tuple[str, ...] = tuple(OUTCOMES)
"""The names of the outcomes: the keys of the dict :func:`outcomes` returns (its means)."""

POOLED = {"replanted_share": ("replanted_ha_total", "eradicated_ha_total")}
"""Ratios whose mean over runs is the ratio of the means (pooled), as ``vraem compare`` reports."""


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


def shipped_posterior() -> Path:
    """The calibration posterior shipped with vraem (what ``make run`` draws from)."""
    return Path(str(resources.files("vraem.data").joinpath(POSTERIOR)))


def quantile_key(name: str, q: float) -> str:
    """The key of quantile ``q`` of an outcome: ``coca_ha_final_p5``, ``coca_ha_final_p50``."""
    return f"{name}_p{100 * q:g}"


def _check_quantiles(quantiles: Any) -> tuple[float, ...]:
    if isinstance(quantiles, str) or not isinstance(quantiles, Sequence):
        raise ScenarioError(f"{SOURCE}: quantiles must be a list of numbers in [0, 1] (got {quantiles!r})")
    out = []
    for q in quantiles:
        q = _plain(q)
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 1:
            raise ScenarioError(f"{SOURCE}: quantiles must be numbers in [0, 1] (got {q!r})")
        out.append(float(q))
    return tuple(out)


def summarise_runs(per_run: pd.DataFrame, quantiles: Sequence[float] = ()) -> dict[str, float]:
    """Means over runs of each outcome (pooled ratios for :data:`POOLED`), then the quantiles.

    Quantiles are pandas' (linear interpolation between runs), as in ``vraem compare``'s tables.
    """
    out = {name: float(per_run[name].mean()) for name in OUTCOMES}
    for name, (num, den) in POOLED.items():
        total = out[den]
        out[name] = out[num] / total if total > 0 else float("nan")
    for name in OUTCOMES:
        for q in quantiles:
            out[quantile_key(name, q)] = float(per_run[name].quantile(q))
    return out


def outcomes(
    scenario: str | Path | Scenario = "status_quo",
    months: int | None = 120,
    replicates: int | None = None,
    seed: int | None = None,
    households: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    draws: int | None = None,
    quantiles: Sequence[float] = (),
    posterior: str | Path | None = None,
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
        replicates: Runs to average, replicates ``0..replicates-1`` (default 3; with ``draws``,
            one per draw).
        seed: Base seed; ``None`` keeps the scenario's (2013 in the shipped scenarios, the
            ``base_seed`` of experiments/default.yaml).
        households: Households in the valley (``farmer.n_households``); ``None`` keeps the
            scenario's. Valley-wide amounts (policy capacities, budgets, demand) scale with it.
        parameters: Values to change, by dotted key as in ``vraem run --set``:
            ``{"farmer.p_replant": 0.3, "policy.phases[1].eradication_ha_per_month": 400}``.
        draws: Run over this many draws of the calibration posterior, as ``make run`` does:
            draws resampled by weight with the base seed, replicate ``k`` runs draw ``k`` with seed
            ``k``. The drawn parameters cannot also be set.
        quantiles: Quantiles over the runs to return as well as the means, e.g.
            ``(0.05, 0.5, 0.95)``: keys ``coca_ha_final_p5``, ``coca_ha_final_p50``, ...
        posterior: A ``posterior.parquet`` of ``vraem calibrate`` for ``draws`` (default: the
            shipped one, model/vraem/data/posterior.parquet).
        **levers_and_uncertainties: The same as keyword arguments, with ``__`` for each dot and
            each index: ``farmer__p_replant=0.3``, ``policy__phases__1__eradication_ha_per_month=400``.
            Dotted names work too when passed as ``**{"farmer.p_replant": 0.3}``.

    Returns:
        ``{name: value}`` for every name in :data:`OUTCOME_NAMES`, each the mean over the runs
        (see :data:`OUTCOMES` for units), then ``{name}_p{100 q}`` for each quantile.
        ``replanted_share`` is replanted over eradicated hectares, NaN when nothing was eradicated
        (its mean pools the runs; its quantiles are over the runs' own shares).

    Raises:
        ScenarioError: A one-line message naming the scenario, the key and what is allowed, for an
            unknown key, an out-of-range value or a bad argument.

    Examples:
        >>> import vraem
        >>> out = vraem.outcomes("eradication_first", months=24, households=500, farmer__p_replant=0.3)
        >>> sorted(out)[:2]
        ['casualties_total', 'coca_ha_final']
        >>> spread = vraem.outcomes(months=24, households=500, draws=4, quantiles=(0.05, 0.95))
        >>> spread["coca_ha_final_p5"] <= spread["coca_ha_final"] <= spread["coca_ha_final_p95"]
        True
    """
    _check_int("replicates", replicates, 1, optional=True)
    _check_int("months", months, 1, optional=True)
    _check_int("seed", seed, 0, optional=True)
    _check_int("households", households, 1, optional=True)
    _check_int("draws", draws, 1, optional=True)
    qs = _check_quantiles(quantiles)
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ScenarioError(f"{SOURCE}: parameters must be a mapping of dotted keys to values")
    if draws is not None and replicates is not None and replicates != draws:
        raise ScenarioError(
            f"{SOURCE}: replicates ({replicates}) must equal draws ({draws}): replicate k runs posterior "
            "draw k (leave replicates out)"
        )
    if posterior is not None and draws is None:
        raise ScenarioError(f"{SOURCE}: posterior needs draws (how many posterior draws to run)")

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
    if draws is not None:
        # a path relative to the working folder (not to the scenario file); else the shipped one
        ref = Path(posterior).resolve() if posterior is not None else shipped_posterior()
        raw["parameter_draws"] = str(ref)
        raw["n_draws"] = int(draws)
    sc = validate_scenario(raw, origin)

    reps = scenario_replicates(sc, None if sc.parameter_draws else replicates or REPLICATES, origin)
    clash = sorted(set(reps[0].draw) & set(changes))
    if clash:
        raise ScenarioError(
            f"{SOURCE}: {', '.join(clash)} come from the posterior draws; leave them out or run without draws"
        )
    tables = (run_once(rep.scenario, rep.replicate, rep.seed).table for rep in reps)
    per_run = pd.DataFrame([{name: o.compute(t) for name, o in OUTCOMES.items()} for t in tables])
    return summarise_runs(per_run, qs)
