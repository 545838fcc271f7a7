"""Reading a results folder written by ``vraem run`` or ``vraem sweep``.

Reports and comparisons read only saved results through :func:`load_results`, never by running
the model again.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vraem.user_input import check_regular_file, read_text_file

MapKey = tuple[str, int, int, int]
"""(scenario, point, replicate, month)."""


class ResultsError(ValueError):
    """A folder that is not a readable results folder."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ScenarioRecord(_Open):
    """What readers use of a manifest's scenario record."""

    name: str
    resolved: dict[str, Any] = Field(default_factory=dict)


class PointRecord(_Open):
    """What readers use of a sweep manifest's parameter point."""

    point: int
    params: dict[str, Any] = Field(default_factory=dict)


class Manifest(_Open):
    """The shape of ``manifest.json`` that reports and comparisons rely on (more keys are kept)."""

    kind: Literal["run", "sweep"] = "run"
    scenarios: list[ScenarioRecord] = Field(default_factory=list)
    points: list[PointRecord] = Field(default_factory=list)
    swept_parameters: list[str] = Field(default_factory=list)
    experiment: dict[str, Any] | None = None
    packages: dict[str, Any] = Field(default_factory=dict)


TABLE_COLUMNS = ("scenario", "replicate", "month")
"""Columns every results table has (``point`` is added for plain runs)."""

NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError)
"""What ``np.load`` raises for a truncated, corrupt or foreign ``.npz`` file."""


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and check ``folder/manifest.json``; every problem is one :class:`ResultsError` line."""
    path = folder / "manifest.json"
    if not path.exists():
        raise ResultsError(f"{folder}: not a results folder (no manifest.json)")
    try:
        text = read_text_file(path, "a manifest of vraem run or vraem sweep", max_bytes=None)
    except (ValueError, OSError) as exc:
        raise ResultsError(f"{path}: {exc}") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ResultsError(
            f"{path}: not valid JSON (a manifest written by vraem run or vraem sweep)"
        ) from None
    if not isinstance(data, dict):
        raise ResultsError(
            f"{path}: expected a JSON object of keys at the top level, not {type(data).__name__}"
        )
    try:
        Manifest.model_validate(data)
    except ValidationError as exc:
        from vraem.scenario import describe_error

        raise ResultsError(f"{path}: {describe_error(exc, Manifest)}") from None
    return data


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a results Parquet file; a missing, truncated or foreign file is one ResultsError line."""
    if not path.exists():
        raise ResultsError(f"{path}: missing (the results folder is incomplete)")
    try:
        check_regular_file(path, "a Parquet file")
        table = pd.read_parquet(path, columns=columns)
    except (OSError, ValueError, KeyError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise ResultsError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {reason})") from None
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ResultsError(f"{path}: lacks the columns {missing} of a vraem results table")
    return table


@dataclass
class Results:
    """A results folder in memory."""

    path: Path
    manifest: dict
    table: pd.DataFrame
    """Tidy monthly table; always has a ``point`` column (0 for plain runs)."""
    maps: dict[MapKey, np.ndarray] = field(default_factory=dict)
    district: np.ndarray | None = None

    @property
    def kind(self) -> str:
        """``run`` or ``sweep``."""
        return self.manifest.get("kind", "run")


def load_results(
    path: str | Path, *, columns: list[str] | None = None, maps: bool = True
) -> Results:
    """Load a ``vraem run`` or ``vraem sweep`` folder.

    A run folder holds ``results.parquet``, ``maps.npz`` and ``manifest.json``; a sweep folder
    holds ``manifest.json``, Parquet parts, a run log and maps (:mod:`vraem.sweep.store`), and may
    be read while the sweep is still running or after it was interrupted: only runs logged as
    finished are read, each once.

    Args:
        path: The folder.
        columns: Read only these columns of the table (``scenario``, ``point``, ``replicate`` and
            ``month`` are always read); for large sweeps.
        maps: Also read the coca maps and the district raster.

    Raises:
        ResultsError: Not a results folder, or no finished runs yet.

    """
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"{path}: not a results folder (no such folder)")
    manifest = read_manifest(path)
    kind = manifest.get("kind", "run")
    if columns is not None:
        columns = list(dict.fromkeys(["scenario", "point", "replicate", "month", *columns]))
    if kind == "sweep":
        return _load_sweep(path, manifest, columns, maps)
    file_columns = None if columns is None else [c for c in columns if c != "point"]
    table = read_parquet(path / "results.parquet", file_columns)
    if "point" not in table.columns:
        table.insert(1, "point", 0)
    run_maps: dict[MapKey, np.ndarray] = {}
    district = None
    maps_path = path / "maps.npz"
    if maps and maps_path.exists():
        try:
            check_regular_file(maps_path, "an .npz file")
            with maps_path.open("rb") as f, np.load(f) as data:
                for key in data.files:
                    if key == "district":
                        district = data[key]
                        continue
                    scenario, rep, month = key.split("/")
                    run_maps[(scenario, 0, int(rep[1:]), int(month[1:]))] = data[key]
        except (*NPZ_ERRORS, AttributeError) as exc:
            raise ResultsError(
                f"{maps_path}: not a readable maps file of vraem run ({type(exc).__name__}); "
                "delete it to report without maps"
            ) from None
    return Results(path, manifest, table, run_maps, district)


def _load_sweep(path: Path, manifest: dict, columns: list[str] | None, maps: bool) -> Results:
    from vraem.sweep.store import read_maps, read_table

    try:
        table = read_table(path, columns)
    except FileNotFoundError:
        raise ResultsError(f"{path}: the sweep has no finished runs yet") from None
    except ValueError as exc:  # a corrupt part or map, named by the store
        raise ResultsError(str(exc)) from None
    order = {sc["name"]: i for i, sc in enumerate(manifest.get("scenarios", []))}
    if order:  # the experiment's order of scenarios, not the alphabet's
        table = table.sort_values(
            ["scenario", "point", "replicate", "month"],
            key=lambda col: col.map(order) if col.name == "scenario" else col,
            kind="stable",
            ignore_index=True,
        )
    try:
        sweep_maps, district = read_maps(path) if maps else ({}, None)
    except ValueError as exc:
        raise ResultsError(str(exc)) from None
    return Results(path, manifest, table, sweep_maps, district)
