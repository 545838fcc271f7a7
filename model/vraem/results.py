"""Reading a results folder written by ``vraem run`` or ``vraem sweep``.

Reports and comparisons read only saved results through :func:`load_results`, never by running
the model again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

MapKey = tuple[str, int, int, int]
"""(scenario, point, replicate, month)."""


class ResultsError(ValueError):
    """A folder that is not a readable results folder."""


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
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise ResultsError(f"{path}: not a results folder (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        raise ResultsError(f"{path}: manifest.json is not valid JSON") from None
    kind = manifest.get("kind", "run")
    if columns is not None:
        columns = list(dict.fromkeys(["scenario", "point", "replicate", "month", *columns]))
    if kind == "sweep":
        return _load_sweep(path, manifest, columns, maps)
    if kind != "run":
        raise ResultsError(f"{path}: results of kind {kind!r} are not readable")
    file_columns = None if columns is None else [c for c in columns if c != "point"]
    table = pd.read_parquet(path / "results.parquet", columns=file_columns)
    if "point" not in table.columns:
        table.insert(1, "point", 0)
    run_maps: dict[MapKey, np.ndarray] = {}
    district = None
    maps_path = path / "maps.npz"
    if maps and maps_path.exists():
        with np.load(maps_path) as data:
            for key in data.files:
                if key == "district":
                    district = data[key]
                    continue
                scenario, rep, month = key.split("/")
                run_maps[(scenario, 0, int(rep[1:]), int(month[1:]))] = data[key]
    return Results(path, manifest, table, run_maps, district)


def _load_sweep(path: Path, manifest: dict, columns: list[str] | None, maps: bool) -> Results:
    from vraem.sweep.store import read_maps, read_table

    try:
        table = read_table(path, columns)
    except FileNotFoundError:
        raise ResultsError(f"{path}: the sweep has no finished runs yet") from None
    order = {sc["name"]: i for i, sc in enumerate(manifest.get("scenarios", []))}
    if order:  # the experiment's order of scenarios, not the alphabet's
        table = table.sort_values(
            ["scenario", "point", "replicate", "month"],
            key=lambda col: col.map(order) if col.name == "scenario" else col,
            kind="stable",
            ignore_index=True,
        )
    sweep_maps, district = read_maps(path) if maps else ({}, None)
    return Results(path, manifest, table, sweep_maps, district)
