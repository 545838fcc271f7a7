"""Experiment files: which scenarios, which parameter points, how many replicates, which seed.

An experiment YAML is validated when loaded, like a scenario (pydantic, ``extra="forbid"``) and a
wrong key or value raises :class:`ExperimentError` with a one-line message naming the file and the
key. Example::

    name: replanting_sweep
    description: Replanting 0.1-0.9 under three policies.
    scenarios: [eradication_first, development_first, integrated]
    replicates: 30
    base_seed: 2013
    overrides: {farmer.n_households: 20000}      # applied to every scenario and point
    design:
      kind: grid                                   # or latin_hypercube, or points
      parameters:
        farmer.p_replant: [0.1, 0.3, 0.5, 0.7, 0.9]

Parameter names are the dotted keys of ``vraem run --set`` (``farmer.p_replant``,
``policy.phases[0].p_replant``); they are applied to each scenario's raw YAML before validation,
so an out-of-range value fails here, with the point and the scenario named, not in a worker.

Designs follow the EMA Workbench's vocabulary: a full factorial grid, a Latin hypercube sample
(scipy's seeded, scrambled :class:`scipy.stats.qmc.LatinHypercube`) over bounds, or an explicit list
of points. Every (scenario, point) pair is run for replicates ``0..n-1``, and replicate ``k`` has
the seed :func:`vraem.rng.replicate_seed` ``(base_seed, k)`` everywhere (common random numbers):
differences between scenarios or points are paired.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vraem.rng import replicate_seed
from vraem.scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    describe_error,
    load_scenario,
    read_yaml_mapping,
    resolve_scenario_path,
    shipped_or_path,
    split_dotted,
    validate_scenario,
)
from vraem.shipped import shipped_folder
from vraem.user_input import FieldProblem, NumbersNotBooleans, clip, echo

EXPERIMENT_DIR = shipped_folder("experiments")


class ExperimentError(ScenarioError):
    """An experiment file or option that cannot be used, with a one-line message for people."""


MAX_POINTS = 1_000_000
"""Design points an experiment may have (every point of every scenario is validated on loading)."""


class _Strict(NumbersNotBooleans):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_dotted(keys: list[str]) -> None:
    for key in keys:
        split_dotted(key)  # raises ScenarioError with the key named


class GridDesign(_Strict):
    """Every combination of the listed values (a full factorial design)."""

    kind: Literal["grid"]
    parameters: dict[str, list[Any]] = Field(min_length=1, description="dotted key -> values")

    @field_validator("parameters")
    @classmethod
    def _non_empty(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"{clip(key)} has no values")
        n = math.prod(len(values) for values in v.values())
        if n > MAX_POINTS:
            raise ValueError(f"the grid has {n:,} points (at most {MAX_POINTS:,}); list fewer values")
        return v

    def points(self) -> list[dict[str, Any]]:
        """List the grid's points, the last parameter varying fastest."""
        keys = list(self.parameters)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.parameters.values())]


class Bounds(_Strict):
    """The range of one parameter in a Latin hypercube."""

    low: float
    high: float
    integer: bool = Field(False, description="round samples to whole numbers")

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if not self.high > self.low:
            raise ValueError(f"high must be greater than low ({self.low}), got {self.high}")
        return self


class LatinHypercubeDesign(_Strict):
    """A seeded Latin hypercube sample of ``samples`` points within bounds (McKay et al. 1979)."""

    kind: Literal["latin_hypercube"]
    samples: int = Field(ge=1, le=MAX_POINTS)
    seed: int = Field(0, ge=0, description="seed of the sample (not of the runs)")
    parameters: dict[str, Bounds] = Field(min_length=1, description="dotted key -> bounds")

    def points(self) -> list[dict[str, Any]]:
        """Sample the points, scaled to the bounds (scipy's scrambled LatinHypercube)."""
        from scipy.stats import qmc

        keys = list(self.parameters)
        unit = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(self.seed)).random(self.samples)
        low = [self.parameters[k].low for k in keys]
        high = [self.parameters[k].high for k in keys]
        scaled = qmc.scale(unit, low, high)
        out = []
        for row in scaled:
            point = {}
            for k, x in zip(keys, row, strict=True):
                point[k] = round(float(x)) if self.parameters[k].integer else float(x)
            out.append(point)
        return out


class PointsDesign(_Strict):
    """An explicit list of points; a key missing from a point keeps the scenario's own value."""

    kind: Literal["points"]
    points_: list[dict[str, Any]] = Field(alias="points", min_length=1)

    def points(self) -> list[dict[str, Any]]:
        """Return the listed points."""
        return [dict(p) for p in self.points_]


Design = Annotated[GridDesign | LatinHypercubeDesign | PointsDesign, Field(discriminator="kind")]
DESIGNS: dict[str, type[BaseModel]] = {
    "grid": GridDesign,
    "latin_hypercube": LatinHypercubeDesign,
    "points": PointsDesign,
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Experiment(_Strict):
    """A validated experiment file."""

    name: str = Field(min_length=1)
    description: str = ""
    scenarios: list[str] = Field(min_length=1, description="shipped scenario names or YAML paths")
    replicates: int = Field(ge=1, le=1_000_000)
    base_seed: int = Field(2013, ge=0)
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="dotted key -> value, applied to every scenario and point"
    )
    design: Design | None = None
    parameter_draws: str | None = Field(
        None, description="posterior.parquet of vraem calibrate: replicate k runs draw k"
    )
    n_draws: int | None = Field(None, ge=1, description="draws resampled by weight (with parameter_draws)")
    variants: Literal["all"] | list[str] | None = Field(
        None,
        description="model variants (vraem/data/variants.yaml), 'all' or a list: n_draws are split "
        "among them by their stacking weights, each drawing from its own posterior when it has one",
    )
    min_draws_per_variant: int = Field(
        3,
        ge=1,
        le=1_000,
        description="extra draws so that every variant has at least this many (with variants)",
    )
    variant_weights: str | None = Field(
        None, description="stacking weights CSV (default: the shipped variant_weights.csv; with variants)"
    )

    @model_validator(mode="before")
    @classmethod
    def _draws_set_replicates(cls, data: Any) -> Any:
        """With ``parameter_draws``, one replicate per draw: ``replicates`` defaults to ``n_draws``."""
        ensemble = isinstance(data, dict) and data.get("variants") is not None
        if ensemble and data.get("parameter_draws") is None:
            raise FieldProblem(
                "variants",
                data["variants"],
                "needs parameter_draws and n_draws (the posterior of variants not calibrated on "
                "their own, and how many draws to split among the variants)",
            )
        if isinstance(data, dict) and data.get("parameter_draws") is not None:
            if data.get("n_draws") is None:
                raise ValueError("n_draws: required with parameter_draws (how many posterior draws)")
            if data.get("variants") is not None and data.get("replicates") is not None:
                raise FieldProblem(
                    "replicates",
                    data["replicates"],
                    "leave it out with variants (one replicate per draw: n_draws split by weight, "
                    "plus the draws that give every variant min_draws_per_variant)",
                )
            if data.get("replicates") is None:
                data = {**data, "replicates": data["n_draws"]}
        return data

    @model_validator(mode="after")
    def _draws_pair_replicates(self) -> Experiment:
        if self.n_draws is not None and self.parameter_draws is None:
            raise ValueError("n_draws: needs parameter_draws (a posterior.parquet)")
        fields_set = self.model_fields_set
        if self.variants is None and fields_set & {"min_draws_per_variant", "variant_weights"}:
            key = sorted(fields_set & {"min_draws_per_variant", "variant_weights"})[0]
            raise FieldProblem(key, getattr(self, key), "goes with variants (which model variants to run)")
        if self.variants is not None:
            return self
        if self.parameter_draws is not None and self.replicates != self.n_draws:
            raise ValueError(
                f"replicates must equal n_draws ({self.n_draws}): replicate k runs posterior draw k"
            )
        return self

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '_', '-' or '.' (it names the output folder)")
        return v

    def points(self) -> list[dict[str, Any]]:
        """List the parameter points; one empty point when there is no design."""
        return self.design.points() if self.design is not None else [{}]

    def swept_keys(self) -> list[str]:
        """Every dotted key the design sets, in first-seen order."""
        keys: dict[str, None] = {}
        for point in self.points():
            keys.update(dict.fromkeys(point))
        return list(keys)


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario of an experiment: its file, its text and its validated base form."""

    name: str
    path: str
    text: str
    base: Scenario
    """The scenario with the experiment's overrides, without any design point."""


@dataclass(frozen=True)
class RunSpec:
    """One task of a sweep: a scenario at a parameter point, one replicate, one seed."""

    run_id: str
    scenario: Scenario
    point: int
    params: dict[str, Any]
    """The swept keys' effective values in this run (one table column each)."""
    replicate: int
    seed: int


def run_id(scenario: str, point: int, replicate: int) -> str:
    """Name a run uniquely within a sweep: ``status_quo/p0/r3``."""
    return f"{scenario}/p{point}/r{replicate}"


@dataclass(frozen=True)
class LoadedExperiment:
    """An experiment with its scenarios resolved and every (scenario, point) validated."""

    spec: Experiment
    path: str
    text: str
    scenarios: list[ScenarioEntry]
    points: list[dict[str, Any]]
    grid: dict[tuple[str, int], Scenario]
    """(scenario name, point) -> the scenario to run."""
    draws: list[dict[str, float]] = field(default_factory=list)
    """Posterior draws (``parameter_draws``): replicate k runs draw k in every scenario and point."""
    drawn: dict[tuple[str, int, int], Scenario] = field(default_factory=dict)
    """(scenario name, point, draw) -> the scenario with draw k's parameters."""
    draws_digest: str | None = None
    """SHA-256 of the posterior file the draws came from."""
    ensemble: EnsembleDraws | None = None
    """With ``variants``: which variant each replicate runs, and whether it is pooled."""

    @property
    def n_runs(self) -> int:
        """Scenarios x points x replicates."""
        return len(self.grid) * self.spec.replicates

    def seeds(self) -> list[int]:
        """List the seed of each replicate (the same in every scenario and point)."""
        return [replicate_seed(self.spec.base_seed, k) for k in range(self.spec.replicates)]

    def runs(self) -> Iterator[RunSpec]:
        """Every run, replicate by replicate, so that an interrupted sweep has balanced results."""
        keys = self.spec.swept_keys()
        params = {pair: effective_values(sc, keys) for pair, sc in self.grid.items()}
        for k, seed in enumerate(self.seeds()):
            for entry in self.scenarios:
                for i in range(len(self.points)):
                    pair = (entry.name, i)
                    if self.draws:
                        sc = self.drawn[(entry.name, i, k)]
                        tags = self.ensemble.tags[k] if self.ensemble is not None else {}
                        yield RunSpec(
                            run_id(entry.name, i, k),
                            sc,
                            i,
                            {**params[pair], **self.draws[k], **tags},
                            k,
                            seed,
                        )
                        continue
                    yield RunSpec(run_id(entry.name, i, k), self.grid[pair], i, params[pair], k, seed)

    def run_ids(self) -> set[str]:
        """Return the ids of every run of the experiment."""
        return {
            run_id(e.name, i, k)
            for k in range(self.spec.replicates)
            for e in self.scenarios
            for i in range(len(self.points))
        }

    def resolved(self) -> dict[str, Any]:
        """Return the experiment as JSON-ready data (what a resumed sweep must match)."""
        out = json.loads(self.spec.model_dump_json(by_alias=True))
        if self.draws:
            out["parameter_draws_sha256"] = self.draws_digest
        if self.ensemble is not None:
            out["ensemble"] = self.ensemble.record()
        return out


def effective_value(scenario: Scenario, key: str) -> Any:
    """Read the value of a dotted key in a validated scenario (JSON form)."""
    return effective_values(scenario, [key])[key]


def effective_values(scenario: Scenario, keys: list[str]) -> dict[str, Any]:
    """Read the values of dotted keys in a validated scenario (JSON form), dumping it once."""
    dumped: Any = scenario.model_dump(mode="json")
    out = {}
    for key in keys:
        node = dumped
        for part in split_dotted(key):
            node = node[part]
        out[key] = node
    return out


def resolve_experiment_path(name_or_path: str | Path) -> Path:
    """Accept a path, or the bare name of a shipped experiment (``policy_comparison``)."""
    return shipped_or_path(name_or_path, EXPERIMENT_DIR) or Path(name_or_path)


def _resolve_scenario(ref: str, exp_path: Path) -> Path:
    """Resolve a scenario reference in an experiment file.

    A path is taken relative to the experiment file (or the working folder). A bare name is looked
    up first in the ``scenarios/`` folder beside the experiment's folder, the layout of a checkout
    and of ``vraem init``, so that an edited copy wins; then among the shipped scenarios.
    """
    p = Path(ref)
    if not p.is_absolute() and (p.suffix in {".yaml", ".yml"} or "/" in ref):
        beside = exp_path.parent / p
        if beside.exists():
            return beside
    elif not p.is_absolute():
        sibling = exp_path.resolve().parent.parent / "scenarios" / f"{ref}.yaml"
        if sibling.is_file():
            return sibling
    return resolve_scenario_path(ref)


def _read(path: Path) -> dict[str, Any]:
    return read_yaml_mapping(path, ExperimentError, "an experiment YAML file")


def describe_experiment_error(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line for a validation error, naming design keys within the chosen design kind."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    if loc and loc[0] == "design" and isinstance(raw.get("design"), dict):
        kinds = ", ".join(DESIGNS)
        if err["type"] == "union_tag_not_found":
            return f"design.kind: required key is missing (one of {kinds})"
        if err["type"] == "union_tag_invalid":
            return f"design.kind must be one of {kinds} (got {echo(raw['design'].get('kind'))})"
        cls = DESIGNS.get(str(raw["design"].get("kind")))
        if cls is not None:
            try:
                cls.model_validate(raw["design"])
            except ValidationError as inner:
                return "design." + describe_error(inner, cls)
    return describe_error(exc, Experiment)


def _point_label(point: dict[str, Any]) -> str:
    return ", ".join(f"{clip(k)}={echo(v)}" for k, v in point.items()) or "no parameters"


def load_experiment(path: str | Path, overrides: dict[str, Any] | None = None) -> LoadedExperiment:
    """Read and validate an experiment, and every (scenario, point) it will run.

    Args:
        path: Experiment YAML, or the name of a shipped experiment.
        overrides: Extra dotted keys for every scenario (``vraem sweep --set``), after the file's
            own ``overrides``.

    Raises:
        ExperimentError: With a one-line message naming the file, the key and what is allowed.

    """
    exp_path = resolve_experiment_path(path)
    raw = _read(exp_path)
    if raw.get("kind") in ("morris", "sobol"):
        raise ExperimentError(
            f"{exp_path}: kind: {raw['kind']} makes this a sensitivity experiment; run it with "
            "vraem sensitivity"
        )
    if overrides:
        raw = copy.deepcopy(raw)
        raw["overrides"] = {**(raw.get("overrides") or {}), **overrides}
    return build_experiment(raw, exp_path, exp_path.read_text(encoding="utf-8"))


def build_experiment(raw: dict[str, Any], exp_path: Path, text: str) -> LoadedExperiment:
    """Validate an experiment given as data (``raw``) read from, or generated for, ``exp_path``.

    :func:`load_experiment` reads the file; a sensitivity analysis generates the ``points``
    design from a SALib sample (:mod:`vraem.sensitivity.design`). ``text`` is recorded in the
    manifest. Errors name ``exp_path`` as :func:`load_experiment`'s do.
    """
    try:
        spec = Experiment.model_validate(raw)
    except ValidationError as exc:
        raise ExperimentError(f"{exp_path}: {describe_experiment_error(exc, raw)}") from None
    try:
        _check_dotted(list(spec.overrides))
        _check_dotted(spec.swept_keys())
    except ScenarioError as exc:
        raise ExperimentError(f"{exp_path}: {exc}") from None

    ensemble = _load_ensemble(spec, exp_path) if spec.variants is not None else None
    if ensemble is not None:
        spec = spec.model_copy(update={"replicates": len(ensemble.draws)})
    draws, digest = _load_draws(spec, exp_path, ensemble)
    points = spec.points()
    entries: list[ScenarioEntry] = []
    drawn: dict[tuple[str, int, int], Scenario] = {}
    grid: dict[tuple[str, int], Scenario] = {}
    for ref in spec.scenarios:
        try:
            sc_path = _resolve_scenario(ref, exp_path)
            load_scenario(sc_path)  # the file on its own: errors name the scenario file
        except ScenarioError as exc:
            raise ExperimentError(f"{exp_path}: scenarios: {exc}") from None
        sc_text = sc_path.read_text(encoding="utf-8")
        raw_sc = read_yaml_mapping(sc_path, ExperimentError)
        try:
            for key, value in spec.overrides.items():
                apply_override(raw_sc, key, value, source="overrides")
            base = validate_scenario(raw_sc, f"scenario {ref}")
        except ScenarioError as exc:
            raise ExperimentError(f"{exp_path}: {exc}") from None
        if base.parameter_draws is not None:
            raise ExperimentError(
                f"{exp_path}: scenario {base.name} sets parameter_draws; in an experiment set "
                "parameter_draws and n_draws on the experiment, so every scenario shares the draws"
            )
        if any(e.name == base.name for e in entries):
            raise ExperimentError(f"{exp_path}: scenarios: {echo(base.name)} is listed twice")
        entries.append(ScenarioEntry(base.name, str(sc_path), sc_text, base))
        resolved: list[Scenario] = []
        for i, point in enumerate(points):
            raw_point = copy.deepcopy(raw_sc)

            def origin(name: str = base.name, i: int = i, point: dict[str, Any] = point) -> str:
                return f"scenario {name} at design point {i} ({_point_label(point)})"

            try:
                for key, value in point.items():
                    apply_override(raw_point, key, value, source="design")
                sc = validate_scenario(raw_point, origin)
            except ScenarioError as exc:
                raise ExperimentError(f"{exp_path}: {exc}") from None
            grid[(base.name, i)] = sc
            resolved.append(sc)
            for k, draw in enumerate(draws):
                raw_draw = copy.deepcopy(raw_point)
                try:
                    for key, value in draw.items():
                        apply_override(raw_draw, key, value, source="parameter_draws")
                    if ensemble is not None:
                        variant = ensemble.tags[k]["variant"]
                        mechanisms = ensemble.variants[variant]["mechanisms"]
                        apply_override(raw_draw, "mechanisms", list(mechanisms), source=f"variant {variant}")
                    drawn[(base.name, i, k)] = validate_scenario(
                        raw_draw, lambda k=k, origin=origin: f"{origin()}, posterior draw {k}"
                    )
                except ScenarioError as exc:
                    raise ExperimentError(f"{exp_path}: {exc}") from None
        if len(points) > 1 and all(sc == resolved[0] for sc in resolved[1:]):
            raise ExperimentError(
                f"{exp_path}: design: the parameters ({', '.join(spec.swept_keys())}) change "
                f"nothing in scenario {base.name} (does a policy phase pin them, like p_replant?)"
            )
    return LoadedExperiment(spec, str(exp_path), text, entries, points, grid, draws, drawn, digest, ensemble)


def _load_draws(
    spec: Experiment, exp_path: Path, ensemble: EnsembleDraws | None = None
) -> tuple[list[dict[str, float]], str | None]:
    """The experiment's posterior draws (none without ``parameter_draws``), and the file's digest."""
    from vraem.posterior import (
        PosteriorError,
        draw_parameters,
        file_digest,
        read_posterior,
        resolve_posterior_path,
    )

    if spec.parameter_draws is None:
        return [], None
    path = resolve_posterior_path(spec.parameter_draws, exp_path.parent)
    if ensemble is not None:
        draws = ensemble.draws
    else:
        try:
            posterior = read_posterior(path)
            draws = draw_parameters(posterior, int(spec.n_draws or 0), spec.base_seed)
        except PosteriorError as exc:
            raise ExperimentError(f"{exp_path}: parameter_draws: {path}: {exc}") from None
    clash = sorted({k for d in draws for k in d} & set(spec.swept_keys()))
    if clash:
        raise ExperimentError(
            f"{exp_path}: design: {', '.join(clash)} also come from parameter_draws; sweep other keys"
        )
    return draws, file_digest(path)


# ---------------------------------------------------------------------------------------------
# An ensemble of model variants (issue 17, item 5)


def allocate_draws(weights: dict[str, float], n_draws: int, minimum: int) -> dict[str, tuple[int, int]]:
    """Split ``n_draws`` among variants by weight, and top each up to ``minimum`` draws.

    The pooled draws follow the weights by the largest-remainder (Hamilton) method, so that the
    pooled sample is a sample of the weighted mixture of the variants. A variant with fewer than
    ``minimum`` pooled draws gets extra draws, used only for its own ranking, never pooled.

    Returns:
        For each variant: (pooled draws, extra draws).
    """
    names = list(weights)
    total = sum(weights.values())
    quota = np.array([n_draws * weights[v] / total for v in names]) if total > 0 else np.zeros(len(names))
    pooled = np.floor(quota).astype(int)
    left = n_draws - int(pooled.sum())
    # The largest remainders first; ties go to the variant listed first (a stable sort).
    for i in np.argsort(-(quota - pooled), kind="stable")[:left]:
        pooled[i] += 1
    return {v: (int(p), max(0, minimum - int(p))) for v, p in zip(names, pooled, strict=True)}


@dataclass(frozen=True)
class EnsembleDraws:
    """The draws of an experiment over model variants: one replicate per draw."""

    variants: dict[str, dict[str, Any]]
    """Per variant: mechanisms, weight, pooled and extra draws, posterior file, own or shared."""
    tags: list[dict[str, Any]]
    """Per replicate: its ``variant`` and whether it is ``pooled`` (in the weighted sample)."""
    draws: list[dict[str, float]]
    """Per replicate: the drawn parameters."""
    weights_source: str
    """Where the weights came from (the shipped file, another file, or equal weights)."""

    def record(self) -> dict[str, Any]:
        """What the manifest keeps (``experiment.ensemble``): read by compare and the report."""
        return {
            "weights_source": self.weights_source,
            "variants": self.variants,
            "replicates": [{"replicate": k, **t} for k, t in enumerate(self.tags)],
        }


def _ensemble_weights(spec: Experiment, names: list[str], exp_path: Path) -> tuple[dict[str, float], str]:
    from vraem.patterns import PatternError, load_variant_weights

    ref = spec.variant_weights
    path = resolve_experiment_weights(ref, exp_path) if ref else None
    try:
        table = load_variant_weights(path)
    except PatternError as exc:
        raise ExperimentError(f"{exp_path}: variant_weights: {exc}") from None
    if table is None and ref:
        raise ExperimentError(f"{exp_path}: variant_weights: {path}: file not found")
    if table is None:
        return dict.fromkeys(names, 1.0 / len(names)), "equal weights: no stacking weights are shipped"
    weights = {v: float(table[v]["weight"]) if v in table else 0.0 for v in names}
    where = f"stacking weights of {path or 'vraem/data/variant_weights.csv'}"
    created = next(iter(table.values())).get("created")
    if created:
        where += f" (validate-history of {str(created)[:10]})"
    total = sum(weights.values())
    if total <= 0:
        return dict.fromkeys(names, 1.0 / len(names)), f"equal weights: the {where} give these variants none"
    return {v: w / total for v, w in weights.items()}, where


def resolve_experiment_weights(ref: str, exp_path: Path) -> Path:
    """A weights file relative to the experiment's folder, else one shipped in vraem/data."""
    from vraem.posterior import resolve_posterior_path

    return resolve_posterior_path(ref, exp_path.parent)


def _load_ensemble(spec: Experiment, exp_path: Path) -> EnsembleDraws:
    """The variants' draws: n_draws split by stacking weight, each from the variant's posterior."""
    from vraem.patterns import PatternError, load_variants, posterior_label, variant_posterior
    from vraem.posterior import (
        PosteriorError,
        draw_parameters,
        file_digest,
        read_posterior,
        resolve_posterior_path,
    )

    try:
        every = load_variants()
    except PatternError as exc:
        raise ExperimentError(f"{exp_path}: variants: {exc}") from None
    names = list(every) if spec.variants == "all" else list(spec.variants or [])
    if not names:
        raise ExperimentError(
            f"{exp_path}: variants: list at least one (or 'all'; allowed: {', '.join(every)})"
        )
    for v in names:
        if v not in every:
            raise ExperimentError(
                f"{exp_path}: variants: unknown variant {echo(v)} (allowed: 'all' or a list of "
                f"{', '.join(every)})"
            )
    if len(set(names)) != len(names):
        twice = next(v for v in names if names.count(v) > 1)
        raise ExperimentError(f"{exp_path}: variants: {echo(twice)} is listed twice")
    clash = [
        k
        for k in [*spec.overrides, *spec.swept_keys()]
        if k.split(".")[0] in ("mechanisms", "parameters") and "mechanisms" in k
    ]
    if clash:
        raise ExperimentError(
            f"{exp_path}: {clip(clash[0])}: the variants set the mechanisms; leave them out of "
            "overrides and design"
        )
    weights, source = _ensemble_weights(spec, names, exp_path)
    counts = allocate_draws(weights, int(spec.n_draws or 0), spec.min_draws_per_variant)
    shared = resolve_posterior_path(str(spec.parameter_draws), exp_path.parent)
    variants: dict[str, dict[str, Any]] = {}
    tags: list[dict[str, Any]] = []
    draws: list[dict[str, float]] = []
    read: dict[Path, tuple[Any, str]] = {}  # each posterior file read once, however many variants share it
    for v in names:
        pooled, extra = counts[v]
        path, own = variant_posterior(v, shared)
        try:
            if path not in read:
                read[path] = (read_posterior(path), file_digest(path))
            sets = draw_parameters(read[path][0], pooled + extra, spec.base_seed)
        except PosteriorError as exc:
            raise ExperimentError(f"{exp_path}: parameter_draws: variant {v}: {path}: {exc}") from None
        variants[v] = {
            "mechanisms": list(every[v].mechanisms),
            "weight": weights[v],
            "pooled_draws": pooled,
            "extra_draws": extra,
            "posterior": path.name,
            "posterior_label": posterior_label(path, own),
            "separately_calibrated": own,
            "posterior_sha256": read[path][1],
        }
        tags += [{"variant": v, "pooled": j < pooled} for j in range(pooled + extra)]
        draws += sets
    return EnsembleDraws(variants, tags, draws, source)


def shadowed_parameters(loaded: LoadedExperiment) -> list[str]:
    """Warnings for swept farmer parameters that a policy phase overrides (``p_replant``)."""
    out = []
    if "farmer.p_replant" in loaded.spec.swept_keys():
        for entry in loaded.scenarios:
            pinned = [i for i, ph in enumerate(entry.base.policy.phases) if ph.p_replant is not None]
            if pinned:
                out.append(
                    f"scenario {entry.name}: policy.phases{pinned} set p_replant, which overrides "
                    "farmer.p_replant in those phases"
                )
    return out
