"""Scenario files: loading, validation, dotted overrides and one-line errors.

A scenario YAML holds a name, a description, the run settings (``start_year``, ``months``,
``replicates``, ``seed``, ``map_months``), only the parameter overrides it needs under
``parameters`` (grouped as in :mod:`vraem.params`), and a ``policy`` timeline
(:mod:`vraem.policy`). Everything is validated when loaded; a wrong key or value raises
:class:`ScenarioError` whose message is one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import functools
import math
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vraem.params import ModelParams
from vraem.policy import MAX_MONTHS, Policy
from vraem.shipped import shipped_folder
from vraem.user_input import (
    FieldProblem,
    NumbersNotBooleans,
    YamlRefused,
    clip,
    echo,
    load_yaml,
    read_text_file,
)

SCENARIO_DIR = shipped_folder("scenarios")


class ScenarioError(ValueError):
    """A scenario or option that cannot be used, with a message for people."""


SCENARIO_NAME = re.compile(r"^\w[\w .-]{0,99}$")
"""A scenario's name: no path separators or leading dot (results folders are named by it)."""


class Scenario(NumbersNotBooleans):
    """A validated scenario."""

    # allow_inf_nan=False: no .inf or .nan anywhere (parameter groups and phases say so too).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1)
    description: str = ""
    start_year: int = Field(2013, ge=1990, le=2100)
    months: int = Field(240, ge=1, le=MAX_MONTHS)
    # 100,000 replicates of the full valley take days on a workstation; more is no experiment.
    replicates: int = Field(5, ge=1, le=100_000)
    # Seeds feed numpy's SeedSequence, which takes any size; 2^63 keeps them in Parquet's int64.
    seed: int = Field(2013, ge=0, le=2**63 - 1)
    map_months: list[int] = Field(default_factory=lambda: [0, 60, 120, 180, 240], max_length=MAX_MONTHS + 1)
    landscape_file: str | None = Field(
        None,
        description="optional real rasters (elevation_m, river, road, district): an .npz, a GeoTIFF "
        "stack or a folder of GeoTIFFs (see vraem.landscape)",
    )
    parameters: ModelParams = ModelParams()
    policy: Policy = Policy()
    parameter_draws: str | None = Field(
        None, description="posterior.parquet of vraem calibrate: replicate k runs posterior draw k"
    )
    n_draws: int | None = Field(None, ge=1, description="posterior draws (with parameter_draws)")

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not SCENARIO_NAME.match(v):
            raise ValueError(
                "use at most 100 letters, digits, spaces, '_', '-' or '.', starting with a letter or "
                "digit (it names folders and keys of results)"
            )
        return v

    @field_validator("map_months")
    @classmethod
    def _non_negative(cls, v: list[int]) -> list[int]:
        if any(m < 0 or m > MAX_MONTHS for m in v):
            raise ValueError(f"map months must be between 0 and {MAX_MONTHS}")
        return sorted(set(v))


# ---------------------------------------------------------------------------------------------
# Loading


def read_yaml_mapping(
    path: Path, error: type[ScenarioError] = ScenarioError, what: str = "a YAML file"
) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping; every problem is one ``error`` line.

    The one reader of YAML files (:mod:`vraem.user_input`): a key given twice, aliases that
    expand too far, a device, pipe or huge file are refused before anything walks the data.
    """
    try:
        text = read_text_file(path, what)
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, expected {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise error(f"{path}: {exc}") from None
    try:
        data = load_yaml(text)
    except YamlRefused as exc:
        raise error(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = clip(getattr(exc, "problem", None) or "not valid YAML")
        raise error(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of keys at the top level")
    return data


def shipped_or_path(name_or_path: str | Path, folder: Path) -> Path | None:
    """A path as given, or the shipped ``folder/<name>.yaml`` for a bare name; None if neither."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in {".yaml", ".yml"} or "/" in str(name_or_path):
        return path
    shipped = folder / f"{name_or_path}.yaml"
    return shipped if shipped.exists() else None


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """Accept a path, or the bare name of a shipped scenario (``status_quo``)."""
    found = shipped_or_path(name_or_path, SCENARIO_DIR)
    if found is not None:
        return found
    known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
    raise ScenarioError(f"{name_or_path}: unknown scenario (known: {known}; or give a file path)")


def load_scenario(
    path: str | Path, overrides: dict[str, Any] | None = None, *, source: str | None = None
) -> Scenario:
    """Read, override and validate a scenario file.

    Args:
        path: YAML file, or the name of a shipped scenario.
        overrides: Dotted keys to values (``{"farmer.p_replant": 0.3}``), applied before validation.
        source: What to call the overrides in error messages (default ``--set``).

    Raises:
        ScenarioError: With a one-line message naming the file, the key and what is allowed.
    """
    path = resolve_scenario_path(path)
    raw = read_yaml_mapping(path)
    for key, value in (overrides or {}).items():
        apply_override(raw, key, value, source=source or "--set")
    return validate_scenario(raw, str(path))


def _named(origin: str | typing.Callable[[], str]) -> str:
    return origin() if callable(origin) else origin


def validate_scenario(raw: dict[str, Any], origin: str | typing.Callable[[], str]) -> Scenario:
    """Validate a raw scenario mapping; ``origin`` names it in errors.

    ``origin`` may be a function that makes the name, called only when there is an error (a
    design validates thousands of points). A relative ``landscape_file`` is resolved against the
    scenario file's folder and must exist.
    """
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(f"{_named(origin)}: {describe_error(exc, Scenario)}") from None
    if sc.landscape_file is not None:
        origin = _named(origin)
        path = Path(sc.landscape_file)
        if not path.is_absolute():
            path = Path(origin).resolve().parent / path
        if not path.exists():
            raise ScenarioError(f"{origin}: landscape_file: {sc.landscape_file} not found")
        from vraem.landscape import RasterError, read_rasters

        try:
            rasters = read_rasters(path)
        except RasterError as exc:
            raise ScenarioError(f"{origin}: landscape_file: {exc}") from None
        n_districts = int(rasters.arrays["district"].max()) + 1
        if n_districts != sc.parameters.landscape.n_districts:
            raise ScenarioError(
                f"{origin}: landscape_file has {n_districts} districts but parameters.landscape.n_districts"
                f" is {sc.parameters.landscape.n_districts} (set it to {n_districts})"
            )
        update: dict[str, Any] = {"landscape_file": str(path)}
        if rasters.cell_ha is not None:  # a GeoTIFF's transform gives the cell area
            landscape = (raw.get("parameters") or {}).get("landscape") or {}
            given = sc.parameters.landscape.cell_ha
            if "cell_ha" in landscape and not math.isclose(given, rasters.cell_ha, rel_tol=1e-6):
                raise ScenarioError(
                    f"{origin}: parameters.landscape.cell_ha is {given:g} but the cells of "
                    f"landscape_file are {rasters.cell_ha:g} ha (from its transform); remove cell_ha"
                )
            params = sc.parameters.model_copy(
                update={"landscape": sc.parameters.landscape.model_copy(update={"cell_ha": rasters.cell_ha})}
            )
            update["parameters"] = params
        sc = sc.model_copy(update=update)
    if (sc.parameter_draws is None) != (sc.n_draws is None):
        raise ScenarioError(
            f"{_named(origin)}: parameter_draws and n_draws go together (set both or neither)"
        )
    if sc.parameter_draws is not None:
        origin = _named(origin)
        from vraem.posterior import PosteriorError, read_posterior, resolve_posterior_path

        path = resolve_posterior_path(sc.parameter_draws, Path(origin).resolve().parent)
        try:
            n = len(read_posterior(path))
        except PosteriorError as exc:
            raise ScenarioError(f"{origin}: parameter_draws: {path}: {exc}") from None
        if sc.n_draws > n:
            raise ScenarioError(
                f"{origin}: n_draws must be at most the posterior's {n} particles (got {sc.n_draws})"
            )
        sc = sc.model_copy(update={"parameter_draws": str(path)})
    return sc


def with_parameters(scenario: Scenario, values: dict[str, float], origin: str) -> Scenario:
    """The scenario with some parameters replaced (dotted keys), validated."""
    raw = {**scenario.model_dump(mode="json"), "parameter_draws": None, "n_draws": None}
    for key, value in values.items():
        apply_override(raw, key, value, source="parameter_draws")
    return validate_scenario(raw, origin)


def scenario_yaml_text(path: str | Path) -> str:
    """The scenario file's text (recorded in manifests)."""
    return resolve_scenario_path(path).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Error messages


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _unwrap(annotation: Any) -> Any:
    """The pydantic model class inside ``X``, ``X | None`` or ``list[X]``, if any."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple):
        for arg in typing.get_args(annotation):
            inner = _unwrap(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
        return None
    return annotation


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class reached by following ``loc`` (skipping list indices)."""
    current: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Keys allowed at ``loc`` in the schema rooted at ``root``."""
    return list(_allowed_keys(root, tuple(loc)))


@functools.lru_cache(maxsize=4096)
def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, ...]:
    """:func:`allowed_keys`, remembered: a design applies the same keys thousands of times."""
    model = _model_at(root, loc)
    return tuple(sorted(model.model_fields)) if model else ()


BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}


def describe_error(exc: ValidationError, root: type[BaseModel]) -> str:
    """One line for the first problem in a pydantic ``ValidationError``."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    # For unions (e.g. ``int | None``) pydantic appends the tried type to the location.
    loc = tuple(p for p in loc if p not in {"int", "float", "str", "bool", "none", "list[int]"})
    got = echo(err.get("input"))
    problem = (err.get("ctx") or {}).get("error")
    if isinstance(problem, FieldProblem):  # a model validator that names the field
        loc, got = (*loc, problem.field), echo(problem.value)
    key = clip(_fmt_loc(loc)) or "(top level)"
    kind = err["type"]
    extra = "" if len(exc.errors()) == 1 else f" (and {len(exc.errors()) - 1} more problems)"
    if kind == "extra_forbidden":
        allowed = ", ".join(allowed_keys(root, loc[:-1]))
        return f"{key}: unknown key (allowed: {allowed}){extra}"
    if kind == "missing":
        return f"{key}: required key is missing{extra}"
    if kind in BOUNDS:
        sym, ctx_key = BOUNDS[kind]
        return f"{key} must be {sym} {err['ctx'][ctx_key]} (got {got}){extra}"
    if kind == "enum":
        return f"{key} must be one of {err['ctx']['expected']} (got {got}){extra}"
    msg = re.sub(r"^Value error, ", "", err["msg"])
    return f"{key}: {msg} (got {got}){extra}"


# ---------------------------------------------------------------------------------------------
# Dotted overrides (--set and experiment designs)

PARAM_GROUPS = frozenset(ModelParams.model_fields)
_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


def split_dotted(key: str) -> list[str | int]:
    """Split ``policy.phases[1].p_replant`` (or ``policy.phases.1.p_replant``) into parts.

    A key starting with a parameter group (``farmer.p_replant``) is read under ``parameters``.
    """
    return list(_split_dotted(key))


@functools.lru_cache(maxsize=4096)
def _split_dotted(key: str) -> tuple[str | int, ...]:
    """:func:`split_dotted`, remembered (a design splits the same keys thousands of times)."""
    parts: list[str | int] = []
    for chunk in key.split("."):
        if chunk.isdigit():
            parts.append(int(chunk))
            continue
        m = _PART.match(chunk)
        if not m:
            raise ScenarioError(
                f"{key}: not a dotted key (e.g. farmer.p_replant or policy.phases[0].p_replant)"
            )
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    if parts and parts[0] in PARAM_GROUPS:
        parts.insert(0, "parameters")
    return tuple(parts)


def parse_value(text: str) -> Any:
    """Parse an option value as YAML (``0.3``, ``true``, ``[1, 2]``, ``accessible``).

    Text that is not YAML is taken as a string; a key given twice or aliases that expand too
    far raise :class:`~vraem.user_input.YamlRefused`.
    """
    try:
        return load_yaml(text)
    except YamlRefused:
        raise
    except yaml.YAMLError:
        return text


def apply_override(raw: dict[str, Any], key: str, value: Any, *, source: str = "--set") -> None:
    """Set a dotted key in a raw scenario mapping, checking the path against the schema."""
    parts = split_dotted(key)
    if not parts:
        raise ScenarioError(f"{source} {key}: empty key")
    node: Any = raw
    walked: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                n = len(node) if isinstance(node, list) else 0
                raise ScenarioError(
                    f"{source} {key}: {_fmt_loc(tuple(walked))} has {n} entries, no index {part}"
                )
        else:
            allowed = _allowed_keys(Scenario, tuple(walked))
            if part not in allowed:
                where = _fmt_loc(tuple(walked)) or "top level"
                raise ScenarioError(
                    f"{source} {key}: unknown key {part!r} at {where} (allowed: {', '.join(allowed)})"
                )
            if not isinstance(node, dict):
                raise ScenarioError(f"{source} {key}: {_fmt_loc(tuple(walked))} is not a mapping")
        if last:
            node[part] = value
        else:
            if isinstance(part, str) and part not in node:
                node[part] = {}
            node = node[part]
        walked.append(part)


def parse_set_options(items: list[str]) -> dict[str, Any]:
    """Turn ``["farmer.p_replant=0.3", ...]`` into a dict; malformed items raise ScenarioError."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ScenarioError(f"--set {item}: expected dotted.key=VALUE (e.g. farmer.p_replant=0.3)")
        key, _, value = item.partition("=")
        if not key.strip():
            raise ScenarioError(f"--set {item}: the key before '=' is empty")
        try:
            out[key.strip()] = parse_value(value.strip())
        except YamlRefused as exc:
            raise ScenarioError(f"--set {clip(key.strip())}: {exc}") from None
    return out
