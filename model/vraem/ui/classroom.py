"""What the classroom app runs: a scenario file plus the students' slider settings.

Plain functions with no browser in sight, so that they can be unit-tested. The app
(:mod:`vraem.ui.app`) only draws widgets around them.

How sliders change a scenario (the panel tells students the same):

* The picked ``scenarios/*.yaml`` file is the starting point: its parameters and its policy
  timeline, exactly as ``vraem run`` would use them.
* A slider starts at the scenario's own value (for a lever, the value in force over most of the
  run). A slider left there changes nothing; the scenario's timeline is kept phase by phase.
* A moved lever slider replaces that lever in every month of the run: eradication capacity and the
  replanting rate from month 0, the development budget from its start month (none before it).
  Interdiction effort multiplies the scenario's own lab raids, airstrip destructions, forced
  landings and courier arrests. Uncertainty sliders (export demand growth) set the parameter.
* "More settings" takes ``dotted.key=value`` items, the syntax of ``vraem run --set``, applied to
  the file before the sliders.

Everything goes through the scenario schema (:func:`vraem.scenario.validate_scenario`), so a bad
combination becomes a one-line :class:`~vraem.scenario.ScenarioError` shown in the app, never a
crash: :class:`ClassroomModel` then runs the scenario file as written and says so.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vraem.policy import PolicyPhase
from vraem.runner import replicate_seed
from vraem.scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    apply_override,
    parse_set_options,
    read_yaml_mapping,
    resolve_scenario_path,
    validate_scenario,
)
from vraem.simulation import VraemModel

CLASSROOM_HOUSEHOLDS = 1_500
"""Default households in the classroom valley: fast enough to watch, big enough to see patterns.

Valley-wide quantities (initial coca, export demand, policy capacities, budgets) scale with the
number of households (``params.REFERENCE_HOUSEHOLDS``), so the valley is a scaled-down copy.
"""

DEFAULT_SCENARIO = "status_quo"

INTERDICTION_LEVERS = (
    "lab_raids_per_month",
    "airstrip_destructions_per_month",
    "flight_interdictions_per_month",
    "courier_arrests_per_month",
)
"""Policy levers that the interdiction-effort slider multiplies."""

SOLES_PER_MILLION = 1.0e6


@dataclass(frozen=True)
class UISettings:
    """What the students chose. ``None`` means "as the scenario says"."""

    scenario: str = DEFAULT_SCENARIO
    """Stem of a file in ``scenarios/`` (or a path)."""
    n_households: int = CLASSROOM_HOUSEHOLDS
    replicate: int = 0
    """Which random valley: the run's seed is the scenario's replicate seed, as in ``vraem run``."""
    p_replant: float | None = None
    eradication_ha_per_month: float | None = None
    development_million_soles_per_year: float | None = None
    development_start_month: int | None = None
    interdiction_factor: float = 1.0
    export_demand_growth_per_year: float | None = None
    extra: str = ""
    """``dotted.key=value`` items separated by ``;`` or new lines (as ``vraem run --set``)."""

    def with_scenario(self, scenario: str) -> UISettings:
        """Another scenario, every slider back at its value (households and replicate kept)."""
        return UISettings(scenario=scenario, n_households=self.n_households, replicate=self.replicate)


@dataclass(frozen=True)
class LeverDefaults:
    """Slider positions that leave a scenario unchanged."""

    p_replant: float
    eradication_ha_per_month: float
    development_million_soles_per_year: float
    development_start_month: int
    export_demand_growth_per_year: float
    months: int


@dataclass
class Built:
    """A scenario ready to run, or the one-line reason it could not be built."""

    scenario: Scenario | None
    error: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    """The parameter overrides the sliders applied (for the panel)."""


# ---------------------------------------------------------------------------------------------
# Scenario files


def scenario_choices(folder: Path = SCENARIO_DIR) -> list[str]:
    """Stems of the shipped scenario files, ``status_quo`` first."""
    stems = sorted(p.stem for p in folder.glob("*.yaml"))
    if DEFAULT_SCENARIO in stems:
        stems.remove(DEFAULT_SCENARIO)
        stems.insert(0, DEFAULT_SCENARIO)
    return stems


def _raw(name: str) -> tuple[dict[str, Any], str]:
    path = resolve_scenario_path(name)
    return read_yaml_mapping(path), str(path)


def parse_extra(text: str) -> dict[str, Any]:
    """Parse the "More settings" box: ``key=value`` items split by ``;`` or new lines."""
    items = [s.strip() for s in re.split(r"[;\n]", text or "") if s.strip()]
    return parse_set_options(items)


# ---------------------------------------------------------------------------------------------
# Levers


def _main_value(scenario: Scenario, lever: str) -> tuple[float, int]:
    """Return the lever's value in force over most months, and the first month it holds."""
    months = scenario.months
    values = np.zeros(months)
    for phase in scenario.policy.phases:
        end = months if phase.end_month is None else min(phase.end_month, months)
        if phase.start_month < end:
            values[phase.start_month : end] = float(getattr(phase, lever))
    uniq, counts = np.unique(values, return_counts=True)
    main = float(uniq[np.argmax(counts)])
    return main, int(np.flatnonzero(values == main)[0])


def lever_defaults(scenario: Scenario) -> LeverDefaults:
    """Slider positions at which the scenario runs exactly as written."""
    phase_replant = [ph.p_replant for ph in scenario.policy.phases if ph.p_replant is not None]
    budget, start = _main_value(scenario, "development_budget_soles_per_year")
    eradication, _ = _main_value(scenario, "eradication_ha_per_month")
    return LeverDefaults(
        p_replant=phase_replant[-1] if phase_replant else scenario.parameters.farmer.p_replant,
        eradication_ha_per_month=eradication,
        development_million_soles_per_year=budget / SOLES_PER_MILLION,
        development_start_month=start if budget > 0 else 0,
        export_demand_growth_per_year=scenario.parameters.market.export_demand_growth_per_year,
        months=scenario.months,
    )


def moved(settings: UISettings, defaults: LeverDefaults) -> dict[str, Any]:
    """Return the sliders that differ from the scenario's values, by setting name."""
    out: dict[str, Any] = {}
    for name in (
        "p_replant",
        "eradication_ha_per_month",
        "development_million_soles_per_year",
        "development_start_month",
        "export_demand_growth_per_year",
    ):
        value = getattr(settings, name)
        if value is not None and not np.isclose(value, getattr(defaults, name)):
            out[name] = value
    if not np.isclose(settings.interdiction_factor, 1.0):
        out["interdiction_factor"] = settings.interdiction_factor
    return out


def rewrite_phases(
    phases: list[PolicyPhase], changes: dict[str, Any], defaults: LeverDefaults
) -> list[dict[str, Any]]:
    """Rewrite the policy timeline with the moved levers applied to every month (raw phases).

    The run is cut at every phase boundary (and at the development start month); each piece keeps
    the scenario's levers in force there, then the moved sliders overwrite theirs. Neighbouring
    pieces that end up equal are merged again.
    """
    dev_moved = "development_million_soles_per_year" in changes or "development_start_month" in changes
    budget = changes.get("development_million_soles_per_year", defaults.development_million_soles_per_year)
    dev_start = int(changes.get("development_start_month", defaults.development_start_month))
    cuts = {0}
    for ph in phases:
        cuts.add(ph.start_month)
        if ph.end_month is not None:
            cuts.add(ph.end_month)
    if dev_moved:
        cuts.add(dev_start)
    cuts_sorted = sorted(cuts)
    pieces: list[dict[str, Any]] = []
    for i, start in enumerate(cuts_sorted):
        end = cuts_sorted[i + 1] if i + 1 < len(cuts_sorted) else None
        phase = _phase_at(phases, start)
        levers = phase.model_dump(mode="json", exclude={"start_month", "end_month"})
        if "eradication_ha_per_month" in changes:
            levers["eradication_ha_per_month"] = float(changes["eradication_ha_per_month"])
        if dev_moved:
            levers["development_budget_soles_per_year"] = (
                float(budget) * SOLES_PER_MILLION if start >= dev_start else 0.0
            )
        if "interdiction_factor" in changes:
            for name in INTERDICTION_LEVERS:
                levers[name] = float(levers[name]) * float(changes["interdiction_factor"])
        if "p_replant" in changes:
            levers["p_replant"] = float(changes["p_replant"])
        if pieces and pieces[-1]["levers"] == levers:
            pieces[-1]["end_month"] = end
            continue
        pieces.append({"start_month": start, "end_month": end, "levers": levers})
    out = []
    for piece in pieces:
        row = {"start_month": piece["start_month"]}
        if piece["end_month"] is not None:
            row["end_month"] = piece["end_month"]
        row.update(piece["levers"])
        out.append(row)
    return out


def _phase_at(phases: list[PolicyPhase], month: int) -> PolicyPhase:
    for ph in phases:
        if ph.start_month <= month and (ph.end_month is None or month < ph.end_month):
            return ph
    return PolicyPhase()


def build_scenario(settings: UISettings) -> tuple[Built, LeverDefaults | None]:
    """Apply the settings to their scenario file and validate the result.

    Returns:
        The built scenario (or its one-line error) and the slider defaults of the scenario
        (those of the file alone if the extra settings are wrong; ``None`` when even the file
        cannot be used).

    """
    try:
        raw, origin = _raw(settings.scenario)
        for key, value in parse_extra(settings.extra).items():
            apply_override(raw, key, value, source="More settings:")
        apply_override(raw, "farmer.n_households", int(settings.n_households), source="households:")
        base = validate_scenario(copy.deepcopy(raw), origin)
    except ScenarioError as exc:
        return Built(None, str(exc)), _file_defaults(settings)
    defaults = lever_defaults(base)
    changes = moved(settings, defaults)
    overrides: dict[str, Any] = {}
    try:
        if "p_replant" in changes:
            overrides["farmer.p_replant"] = changes["p_replant"]
        if "export_demand_growth_per_year" in changes:
            overrides["market.export_demand_growth_per_year"] = changes["export_demand_growth_per_year"]
        for key, value in overrides.items():
            apply_override(raw, key, value, source="slider")
        if changes.keys() - {"export_demand_growth_per_year"}:
            raw["policy"] = {"phases": rewrite_phases(base.policy.phases, changes, defaults)}
        scenario = validate_scenario(raw, origin)
    except ScenarioError as exc:
        return Built(None, str(exc)), defaults
    return Built(scenario, None, overrides), defaults


def _file_defaults(settings: UISettings) -> LeverDefaults | None:
    """Slider defaults of the file alone (sliders stay usable while "More settings" is wrong)."""
    try:
        raw, origin = _raw(settings.scenario)
        return lever_defaults(validate_scenario(raw, origin))
    except ScenarioError:
        return None


def describe_timeline(scenario: Scenario) -> list[str]:
    """One line per policy phase, for students: when, and which levers are on."""
    lines = []
    for ph in scenario.policy.phases:
        end = "end" if ph.end_month is None else f"month {ph.end_month}"
        parts = []
        if ph.eradication_ha_per_month:
            ha = ph.eradication_ha_per_month
            parts.append(f"eradicate {ha:,.0f} ha/month ({ph.eradication_targeting})")
        if ph.development_budget_soles_per_year:
            parts.append(f"develop S/{ph.development_budget_soles_per_year / 1e6:,.0f} M/yr")
        raids = ph.lab_raids_per_month + ph.airstrip_destructions_per_month
        if raids or ph.flight_interdictions_per_month or ph.courier_arrests_per_month:
            parts.append(
                f"interdict ({ph.lab_raids_per_month:g} lab raids, "
                f"{ph.airstrip_destructions_per_month:g} strips, "
                f"{ph.flight_interdictions_per_month:g} flights, "
                f"{ph.courier_arrests_per_month:g} couriers /month)"
            )
        if ph.p_replant is not None:
            parts.append(f"replanting {ph.p_replant:.2f}")
        lines.append(f"month {ph.start_month} to {end}: " + ("; ".join(parts) or "no policy"))
    return lines or ["no policy at any time"]


# ---------------------------------------------------------------------------------------------
# The model the app runs


class ClassroomModel(VraemModel):
    """A :class:`~vraem.simulation.VraemModel` built from UI settings; never fails to build.

    SolaraViz rebuilds its model on Reset by calling the model class with its parameters:
    ``settings`` (the settings themselves, or a callable returning the current ones: the app
    passes a reader of the session's panel state), and the households and replicate that Mesa's
    own "Model Parameters" card sets. The run's seed is ``replicate_seed(scenario.seed,
    replicate)``, as for replicate ``replicate`` of ``vraem run``.

    Attributes:
        classroom: The settings, the scenario that runs and any error (see :class:`ClassroomRun`).

    """

    def __init__(
        self,
        settings: UISettings | Callable[[], UISettings] | None = None,
        n_households: int | None = None,
        replicate: int | None = None,
    ) -> None:
        current = settings() if callable(settings) else settings
        current = current or UISettings()
        if n_households is not None:
            current = replace(current, n_households=int(n_households))
        if replicate is not None:
            current = replace(current, replicate=int(replicate))
        built, defaults = build_scenario(current)
        error = built.error
        scenario = built.scenario
        if scenario is None:  # run the file as written, else the default scenario
            fallback = replace(UISettings(), n_households=current.n_households)
            for candidate in (current.with_scenario(current.scenario), fallback):
                scenario = build_scenario(candidate)[0].scenario
                if scenario is not None:
                    break
        if scenario is None:  # pragma: no cover - only if the shipped scenarios are all broken
            scenario = Scenario(name="no policy")
        super().__init__(
            params=scenario.parameters,
            policy=scenario.policy,
            seed=replicate_seed(scenario.seed, current.replicate),
            months=scenario.months,
        )
        coca = self.landscape.layer("coca_ha")
        grown = coca[coca > 0]
        self.classroom = ClassroomRun(
            settings=current,
            scenario=scenario,
            defaults=defaults or lever_defaults(scenario),
            error=error,
            coca_scale_ha=float(np.quantile(grown, 0.95)) if grown.size else 1.0,
            legal_scale_ha=_legal_scale(self),
        )


def _legal_scale(m: VraemModel) -> float:
    legal = legal_ha_by_cell(m)
    grown = legal[legal > 0]
    return float(np.quantile(grown, 0.95)) if grown.size else 1.0


def legal_ha_by_cell(m: VraemModel) -> np.ndarray:
    """Legal crops (food, cacao, coffee) per cell, ha (flat)."""
    h = m.households
    return np.bincount(h.cell, weights=h.legal_ha(), minlength=m.landscape.n_cells)


@dataclass
class ClassroomRun:
    """What the app knows about the model it is showing."""

    settings: UISettings
    scenario: Scenario
    defaults: LeverDefaults
    error: str | None
    coca_scale_ha: float
    """Coca ha per cell drawn at full colour (95th percentile of the opening map, fixed per run)."""
    legal_scale_ha: float
