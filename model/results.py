"""Reading a results folder written by ``vraem run`` (and, once sweeps land, ``vraem sweep``).

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


def load_results(path: str | Path) -> Results:
    """Load a ``vraem run`` folder: ``results.parquet``, ``maps.npz``, ``manifest.json``."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise ResultsError(f"{path}: not a results folder (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("kind", "run") != "run":
        raise ResultsError(f"{path}: results of kind {manifest.get('kind')!r} are not readable yet")
    table = pd.read_parquet(path / "results.parquet")
    if "point" not in table.columns:
        table.insert(1, "point", 0)
    maps: dict[MapKey, np.ndarray] = {}
    district = None
    maps_path = path / "maps.npz"
    if maps_path.exists():
        with np.load(maps_path) as data:
            for key in data.files:
                if key == "district":
                    district = data[key]
                    continue
                scenario, rep, month = key.split("/")
                maps[(scenario, 0, int(rep[1:]), int(month[1:]))] = data[key]
    return Results(path, manifest, table, maps, district)
