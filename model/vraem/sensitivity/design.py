"""Sensitivity experiment files: which parameters over which ranges, sampled by SALib.

A sensitivity experiment is a sweep whose parameter points come from a SALib sample. It is read,
validated (one-line :class:`SensitivityError` naming the file and the key), turned into a SALib
problem (names and bounds), sampled with a fixed seed, and handed to the sweep engine as a
``points`` design: every sample row is one parameter point, run in every scenario for replicates
``0..n-1`` with common random numbers (replicate ``k`` has the same seed in every scenario and at
every point). Example::

    name: screening
    kind: morris                 # or sobol
    trajectories: 10             # morris: r, the number of trajectories
    levels: 4                    # morris: the grid of each parameter
    sample_seed: 1               # seed of the SALib sample (not of the runs)
    parameters: all              # every parameter with a plausible range (vraem params)
    scenarios: [eradication_first, development_first]
    replicates: 1
    months: 120
    base_seed: 2013
    overrides: {farmer.n_households: 2000}
    outcomes:
      gap_coca_ha_120:
        column: coca_ha
        at_month: 120
        difference: development_first - eradication_first

``parameters`` may instead list dotted keys; a key may carry its own range
(``- farmer.p_replant: [0.2, 0.8]``) which must lie inside the parameter's constraints (a parameter
marked fixed can be varied this way). Morris uses :func:`SALib.sample.morris.sample` (Morris 1991;
Campolongo et al. 2007 with ``optimal_trajectories``), Sobol' uses :func:`SALib.sample.sobol.sample`
(Saltelli 2002, Sobol' sequence, scrambled and seeded). Integer parameters are rounded to whole
numbers in the runs; the analysis uses the sample as drawn.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from vraem.params import parameter_fields, plausible_ranges, range_problem
from vraem.scenario import describe_error, read_yaml_mapping
from vraem.sensitivity.outcomes import OutcomeSpec, expand_outcomes
from vraem.sweep.experiment import (
    ExperimentError,
    LoadedExperiment,
    build_experiment,
    resolve_experiment_path,
)
from vraem.user_input import NumbersNotBooleans, clip, echo

PROBLEM = "problem.json"
SAMPLE = "sample.npy"
"""What a sensitivity folder holds beside the sweep's files: the SALib problem and its sample."""


class SensitivityError(ExperimentError):
    """A sensitivity experiment that cannot be used, with a one-line message for people."""


class _Strict(NumbersNotBooleans):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Common(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    sample_seed: int = Field(0, ge=0, description="seed of the SALib sample (not of the runs)")
    parameters: Literal["all"] | list[str | dict[str, list[float]]] = Field(
        description="'all', or a list of dotted keys, each optionally with [low, high]"
    )
    scenarios: list[str] = Field(min_length=1)
    replicates: int = Field(1, ge=1, le=10_000)
    months: int | None = Field(None, ge=1, le=1200)
    base_seed: int = Field(2013, ge=0)
    overrides: dict[str, Any] = Field(default_factory=dict)
    outcomes: dict[str, OutcomeSpec] = Field(min_length=1)

    @field_validator("parameters")
    @classmethod
    def _entries(cls, v: Any) -> Any:
        if isinstance(v, list):
            if not v:
                raise ValueError("lists no parameter (give 'all' or dotted keys)")
            for item in v:
                if isinstance(item, dict) and len(item) != 1:
                    raise ValueError(f"{echo(item)}: one key per entry, as '- farmer.p_replant: [0.2, 0.8]'")
                if isinstance(item, dict):
                    (key, bounds), = item.items()
                    if len(bounds) != 2:
                        raise ValueError(f"{clip(str(key))}: give [low, high] (got {echo(bounds)})")
        return v


class MorrisSpec(_Common):
    """Elementary effects (Morris 1991): ``trajectories`` x (parameters + 1) points."""

    kind: Literal["morris"]
    trajectories: int = Field(ge=1, le=10_000, description="r, the number of trajectories")
    levels: int = Field(4, ge=2, le=100, description="grid levels of each parameter (even)")
    optimal_trajectories: int | None = Field(
        None, ge=2, description="draw this many candidates and keep the best spread (Campolongo 2007)"
    )

    @model_validator(mode="after")
    def _levels_even(self) -> MorrisSpec:
        if self.levels % 2:
            raise ValueError(f"levels must be even (got {self.levels})")
        if self.optimal_trajectories is not None and self.optimal_trajectories <= self.trajectories:
            raise ValueError(
                f"optimal_trajectories ({self.optimal_trajectories}) must exceed trajectories "
                f"({self.trajectories}): it is the pool the trajectories are chosen from"
            )
        return self


class SobolSpec(_Common):
    """Sobol' indices from Saltelli's sampling: ``base_samples`` x (parameters + 2) points."""

    kind: Literal["sobol"]
    base_samples: int = Field(ge=2, le=1_048_576, description="N, a power of two")
    second_order: bool = False

    @field_validator("base_samples")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError(f"must be a power of two, as the Sobol' sequence needs (got {v})")
        return v


Spec = Annotated[MorrisSpec | SobolSpec, Field(discriminator="kind")]
KINDS: dict[str, type[BaseModel]] = {"morris": MorrisSpec, "sobol": SobolSpec}


@dataclass(frozen=True)
class SensitivityDesign:
    """A validated sensitivity experiment: the SALib problem, its sample and the sweep to run."""

    spec: MorrisSpec | SobolSpec
    path: str
    problem: dict[str, Any]
    """SALib's problem: ``num_vars``, ``names`` (dotted keys), ``bounds``."""
    sources: dict[str, str]
    """Where each range comes from (``params.py``'s plausible source, or the experiment file)."""
    sample: np.ndarray
    """The SALib sample as drawn, one row per parameter point."""
    outcomes: list[dict[str, Any]]
    """The expanded outcomes (:func:`vraem.sensitivity.outcomes.expand_outcomes`)."""
    experiment: LoadedExperiment

    def record(self) -> dict[str, Any]:
        """The folder's ``problem.json``: what ``analyse`` needs besides the sample and the runs."""
        spec = self.spec
        method = {"kind": spec.kind, "sample_seed": spec.sample_seed}
        if isinstance(spec, MorrisSpec):
            method.update(
                trajectories=spec.trajectories,
                levels=spec.levels,
                optimal_trajectories=spec.optimal_trajectories,
            )
        else:
            method.update(base_samples=spec.base_samples, second_order=spec.second_order)
        return {
            "name": spec.name,
            "description": spec.description,
            "method": method,
            "problem": self.problem,
            "sources": self.sources,
            "integer": [k for k in self.problem["names"] if _is_int(k)],
            "outcomes": self.outcomes,
            "scenarios": [e.name for e in self.experiment.scenarios],
            "replicates": spec.replicates,
            "months": self.experiment.grid[(self.experiment.scenarios[0].name, 0)].months,
            "base_seed": spec.base_seed,
            "overrides": self.experiment.spec.overrides,
            "points": int(self.sample.shape[0]),
        }


def _is_int(key: str) -> bool:
    return parameter_fields()[key][0].annotation is int


def describe_spec_error(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line for a validation error, naming keys within the chosen kind."""
    err = exc.errors(include_url=False)[0]
    kinds = ", ".join(KINDS)
    if err["type"] == "union_tag_not_found":
        return f"kind: required key is missing (one of {kinds})"
    if err["type"] == "union_tag_invalid":
        return f"kind must be one of {kinds} (got {echo(raw.get('kind'))})"
    cls = KINDS.get(str(raw.get("kind")))
    if cls is not None:
        try:
            cls.model_validate(raw)
        except ValidationError as inner:
            return describe_error(inner, cls)
    return describe_error(exc, MorrisSpec)


def resolve_parameters(spec: MorrisSpec | SobolSpec) -> tuple[list[str], list[list[float]], dict[str, str]]:
    """Dotted keys, bounds and range sources of the parameters a spec varies.

    Raises:
        ValueError: An unknown key, a fixed parameter without a range, a range outside the
            parameter's constraints, a key listed twice or also in ``overrides``.

    """
    fields = parameter_fields()
    ranges = plausible_ranges()
    extras = {k: (f.json_schema_extra or {}) for k, (f, _) in fields.items()}
    entries: list[tuple[str, list[float] | None]]
    if spec.parameters == "all":
        entries = [(k, None) for k in ranges]
    else:
        entries = []
        for item in spec.parameters:
            if isinstance(item, dict):
                ((key, bounds),) = item.items()
                entries.append((key, list(bounds)))
            else:
                entries.append((item, None))
    names, bounds, sources = [], [], {}
    for key, given in entries:
        if key not in fields:
            raise ValueError(f"parameters: unknown parameter {echo(key)} (vraem params lists them)")
        if key in names:
            raise ValueError(f"parameters: {key} is listed twice")
        if key in spec.overrides:
            raise ValueError(f"parameters: {key} is also in overrides (vary it or fix it, not both)")
        field, _ = fields[key]
        if given is None:
            if key not in ranges:
                why = extras[key].get("fixed", "")
                raise ValueError(
                    f"parameters: {key} is fixed ({why}); give it a range as '{key}: [low, high]' "
                    "to vary it anyway"
                )
            low, high = ranges[key]
            sources[key] = extras[key].get("plausible_source", "")
        else:
            low, high = given
            problem = range_problem(field, low, high)
            if problem is None and not high > low:
                problem = f"low {low} must be below high {high}"
            if problem:
                raise ValueError(f"parameters: {key}: {problem}")
            sources[key] = "the experiment file"
        names.append(key)
        bounds.append([float(low), float(high)])
    return names, bounds, sources


def draw_sample(spec: MorrisSpec | SobolSpec, problem: dict[str, Any]) -> np.ndarray:
    """The seeded SALib sample of a spec (the same matrix on every call)."""
    if isinstance(spec, MorrisSpec):
        from SALib.sample import morris

        return morris.sample(
            problem,
            spec.optimal_trajectories or spec.trajectories,
            num_levels=spec.levels,
            optimal_trajectories=spec.trajectories if spec.optimal_trajectories else None,
            seed=spec.sample_seed,
        )
    from SALib.sample import sobol

    return sobol.sample(
        problem, spec.base_samples, calc_second_order=spec.second_order, seed=spec.sample_seed
    )


def sample_points(names: list[str], sample: np.ndarray) -> list[dict[str, Any]]:
    """One parameter point per sample row; integer parameters rounded to whole numbers."""
    integer = [_is_int(k) for k in names]
    return [
        {k: (round(float(x)) if i else float(x)) for k, x, i in zip(names, row, integer, strict=True)}
        for row in sample
    ]


def load_sensitivity(path: str | Path) -> SensitivityDesign:
    """Read and validate a sensitivity experiment, draw its sample and build its sweep.

    Raises:
        SensitivityError: With a one-line message naming the file, the key and what is allowed.

    """
    exp_path = resolve_experiment_path(path)
    raw = read_yaml_mapping(exp_path, SensitivityError, "a sensitivity experiment YAML file")
    if "design" in raw:
        raise SensitivityError(
            f"{exp_path}: design: a sensitivity experiment has no design (SALib draws the points); "
            "run it with vraem sweep, or give kind: morris or sobol"
        )
    try:
        spec = _SpecAdapter.validate_python(raw)
    except ValidationError as exc:
        raise SensitivityError(f"{exp_path}: {describe_spec_error(exc, raw)}") from None
    try:
        names, bounds, sources = resolve_parameters(spec)
    except ValueError as exc:
        raise SensitivityError(f"{exp_path}: {exc}") from None
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if isinstance(spec, MorrisSpec) and len(names) < 2:
        raise SensitivityError(f"{exp_path}: parameters: Morris needs at least two parameters")
    sample = draw_sample(spec, problem)
    overrides = dict(spec.overrides)
    if spec.months is not None:
        overrides["months"] = spec.months
    overrides.setdefault("map_months", [])  # the analysis reads the table only: no coca maps
    sweep_raw = {
        "name": spec.name,
        "description": spec.description,
        "scenarios": list(spec.scenarios),
        "replicates": spec.replicates,
        "base_seed": spec.base_seed,
        "overrides": overrides,
        "design": {"kind": "points", "points": sample_points(names, sample)},
    }
    try:
        loaded = build_experiment(sweep_raw, exp_path, exp_path.read_text(encoding="utf-8"))
    except ExperimentError as exc:
        raise SensitivityError(str(exc)) from None
    months = {sc.months for sc in loaded.grid.values()}
    try:
        outcomes = expand_outcomes(spec.outcomes, [e.name for e in loaded.scenarios])
        _check_months(outcomes, min(months))
    except ValueError as exc:
        raise SensitivityError(f"{exp_path}: {exc}") from None
    return SensitivityDesign(spec, str(exp_path), problem, sources, sample, outcomes, loaded)


def _check_months(outcomes: list[dict[str, Any]], months: int) -> None:
    for o in outcomes:
        last = o["at_month"] if o["at_month"] is not None else o["window"][1]
        if last > months:
            raise ValueError(
                f"outcomes.{o['name']}: month {last} is beyond the runs' last month ({months})"
            )


_SpecAdapter: TypeAdapter[MorrisSpec | SobolSpec] = TypeAdapter(Spec)


def write_design(design: SensitivityDesign, out: Path) -> None:
    """Write ``problem.json`` and ``sample.npy``, or check that ``out`` holds this same design.

    Raises:
        SensitivityError: ``out`` holds a different problem or sample (use --restart or
            another folder).

    """
    from vraem.sweep.store import atomic_write_bytes, atomic_write_text

    record = design.record()
    problem_path, sample_path = out / PROBLEM, out / SAMPLE
    if problem_path.exists() or sample_path.exists():
        try:
            old = json.loads(problem_path.read_text())
            old_sample = np.load(sample_path)
        except (OSError, ValueError):
            raise SensitivityError(
                f"--out {out}: problem.json or sample.npy is missing or unreadable; use --restart"
            ) from None
        same_problem = json.dumps(old, sort_keys=True) == json.dumps(
            json.loads(json.dumps(record)), sort_keys=True
        )
        if not same_problem or old_sample.shape != design.sample.shape or not np.array_equal(
            old_sample, design.sample
        ):
            raise SensitivityError(
                f"--out {out}: holds a sensitivity analysis with a different problem or sample; "
                "use another --out, or --restart"
            )
        return
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(sample_path, lambda f: np.save(f, design.sample))
    atomic_write_text(problem_path, json.dumps(record, indent=2))


def clear_design(out: Path) -> None:
    """Remove a sensitivity folder's own files (for ``--restart``)."""
    from vraem.sensitivity.analysis import ANALYSIS_FILES

    for name in (PROBLEM, SAMPLE, *ANALYSIS_FILES):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
