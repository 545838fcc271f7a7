"""The generated VRAEM valley: rivers, roads, towns, districts, soils, forest, suitability.

The default landscape is drawn from the run's ``landscape`` stream (MODEL_SPEC section 2): the
Apurímac rises in the south and meets the Mantaro, coming from the west, to form the Ene, which
runs north. Roads and towns follow the rivers; land grows steeper and more remote away from them.
Fifteen districts (one mayor each, seed interview) are the Voronoi regions of the district towns.

Every per-cell quantity is a Mesa ``PropertyLayer`` on an ``OrthogonalMooreGrid``; model code
works on flat views (``layer.data.reshape(-1)``) so that the monthly arithmetic is vectorised.
A user with real rasters names an ``.npz`` of equally shaped arrays (``elevation_m``, ``river``,
``road``, ``district`` with ids 0..n-1; optionally ``towns`` as flat indices) in the scenario's
``landscape_file``; :func:`load_rasters` reads it. A GeoTIFF can be converted with rasterio.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid, PropertyLayer
from scipy import ndimage

from vraem.params import LandscapeParams

LAYER_NAMES = (
    "elevation_m",
    "dist_river",
    "dist_road",
    "district",
    "suitability",
    "fertility",
    "forest_ha",
    "farm_capacity_ha",
    "market_access",
    "police_reach",
    "coca_ha",
    "ever_coca",
)
"""Property layers every landscape carries; ``coca_ha`` and ``ever_coca`` are updated monthly."""

REQUIRED_RASTERS = ("elevation_m", "river", "road", "district")
"""Arrays a user-supplied landscape must provide (the rest are derived)."""

LOWEST_VALLEY_M = 550.0
"""Elevation of the Ene near Pichari, m (assumption from topographic maps)."""
METRES_PER_CELL_FROM_RIVER = 140.0
"""Assumption: the valley sides climb about 110 m per km."""
COCA_BEST_ELEVATION_M = (600.0, 2000.0)
"""VRAEM coca grows from the valley floor to about 2,000 m (UNODC surveys: ceja de selva)."""
COCA_BAND_FALLOFF_M = 800.0
"""Assumption: suitability falls to zero 800 m outside the best band."""
COCA_SLOPE_SCALE_M = 600.0
"""Assumption: elevation change per cell at which slope removes all suitability (floor 0.2)."""
TERRAIN_RELIEF_M = 500.0
"""Assumption: amplitude of the rolling terrain around the valley-side slope."""
UPSTREAM_RISE_M = 200.0
"""Assumption: the Apurímac's upstream (south) end lies this much higher than the Ene."""
FARM_DECAY_FROM_RIVER_CELLS = 5.0
"""Assumption: farmland thins out over about 6 km from a river."""
ROADSIDE_FARM_SHARE, ROADSIDE_DECAY_CELLS = 0.05, 6.0
"""Assumption: a thin band of farms along roads away from rivers."""
HIGHEST_FARM_M, FOREST_LINE_M, FOREST_LINE_WIDTH_M = 3_000.0, 3_200.0, 1_000.0
"""Assumption: no farming above 3,000 m; forest thins out between 2,200 and 3,200 m (puna above)."""
UNFARMED_FERTILITY = 0.9
"""Assumption: soils never farmed for coca are nearly intact (0-1 scale)."""
MIN_FARMED_HA = 1.0
"""Assumption: a full-scale cell with more than 1 ha of farmland (0.6%) counts as farmed."""


@dataclass
class Landscape:
    """The grid and its named per-cell arrays (flat views share memory with the layers)."""

    grid: OrthogonalMooreGrid
    width: int
    height: int
    cell_ha: float
    towns: np.ndarray
    """Flat indices of the district towns (one per district)."""
    river: np.ndarray
    road: np.ndarray
    layers: dict[str, PropertyLayer]
    """The Mesa property layers by name (also reachable as ``grid.<name>``)."""

    def __post_init__(self) -> None:
        self._flat = {name: layer.data.reshape(-1) for name, layer in self.layers.items()}
        self.district = self._flat["district"].astype(np.intp)
        """District id of every cell, as integers for indexing (districts never change)."""

    def layer(self, name: str) -> np.ndarray:
        """Flat view of a property layer (writes go to the layer)."""
        return self._flat[name]

    @property
    def n_cells(self) -> int:
        """Cells in the grid."""
        return self.width * self.height

    def xy(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid coordinates of flat cell indices."""
        return np.divmod(flat, self.height)

    def cell(self, flat: int):
        """The Mesa cell at a flat index."""
        x, y = divmod(int(flat), self.height)
        return self.grid[(x, y)]

    def district_edges(self) -> np.ndarray:
        """Boolean (width, height) mask of cells on a district border, for maps."""
        d = self.layer("district").reshape(self.width, self.height)
        edge = np.zeros_like(d, dtype=bool)
        edge[1:, :] |= d[1:, :] != d[:-1, :]
        edge[:, 1:] |= d[:, 1:] != d[:, :-1]
        return edge


def _rasterise(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Mark the cells along a polyline given as (n, 2) float points."""
    mask = np.zeros((width, height), dtype=bool)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        n = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 2
        xs = np.clip(np.rint(np.linspace(x0, x1, n)).astype(int), 0, width - 1)
        ys = np.clip(np.rint(np.linspace(y0, y1, n)).astype(int), 0, height - 1)
        mask[xs, ys] = True
    return mask


def _meander(start, end, rng: np.random.Generator, amplitude: float, n: int = 24) -> np.ndarray:
    """A river's course from ``start`` to ``end`` with random smooth bends."""
    t = np.linspace(0.0, 1.0, n)
    line = np.outer(1 - t, start) + np.outer(t, end)
    direction = np.asarray(end, float) - np.asarray(start, float)
    normal = np.array([-direction[1], direction[0]]) / (np.hypot(*direction) + 1e-9)
    walk = np.cumsum(rng.normal(0.0, 1.0, n))
    walk -= np.linspace(walk[0], walk[-1], n)
    walk *= amplitude / (np.abs(walk).max() + 1e-9)
    return line + np.outer(walk, normal)


def generate_arrays(p: LandscapeParams, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the raw rasters (elevation, rivers, roads, districts) of a VRAEM-like valley."""
    w, h = p.width, p.height
    confluence = np.array([0.48 * w, 0.42 * h])
    apurimac = _meander(np.array([0.38 * w, h - 1.0]), confluence, rng, 0.06 * w)
    mantaro = _meander(np.array([0.0, 0.30 * h]), confluence, rng, 0.05 * h)
    ene = _meander(confluence, np.array([0.70 * w, 0.0]), rng, 0.06 * w)
    river = _rasterise(apurimac, w, h) | _rasterise(mantaro, w, h) | _rasterise(ene, w, h)
    dist_river = ndimage.distance_transform_edt(~river)

    # Rolling terrain: smoothed noise, rising away from the rivers.
    noise = ndimage.gaussian_filter(rng.normal(0.0, 1.0, (w, h)), sigma=3.0)
    noise /= np.abs(noise).max() + 1e-9
    elevation = LOWEST_VALLEY_M + METRES_PER_CELL_FROM_RIVER * dist_river + TERRAIN_RELIEF_M * noise
    elevation += UPSTREAM_RISE_M * (np.arange(h)[None, :] / h)
    elevation = np.clip(elevation, 300.0, 4_500.0)

    # Roads run along the main rivers (not the Mantaro gorge) plus feeder roads to towns.
    road = _rasterise(apurimac, w, h) | _rasterise(ene, w, h)
    road = ndimage.binary_dilation(road, iterations=1) & (dist_river <= 1)

    # District towns: spread along the roads, one per district.
    road_cells = np.flatnonzero(road.reshape(-1))
    order = road_cells[np.argsort(rng.random(road_cells.size))]
    towns: list[int] = []
    min_sep = max(3.0, np.sqrt(w * h / p.n_districts) * 0.35)
    for c in order:
        cx, cy = divmod(c, h)
        if all(np.hypot(cx - tx, cy - ty) >= min_sep for tx, ty in (divmod(t, h) for t in towns)):
            towns.append(int(c))
        if len(towns) == p.n_districts:
            break
    while len(towns) < p.n_districts:  # small grids: place remaining towns anywhere
        towns.append(int(rng.integers(w * h)))
    towns_arr = np.array(towns)
    tx, ty = np.divmod(towns_arr, h)
    gx, gy = np.meshgrid(np.arange(w), np.arange(h), indexing="ij")
    d2 = (gx[..., None] - tx) ** 2 + (gy[..., None] - ty) ** 2
    district = np.argmin(d2, axis=-1).astype(np.int16)
    # Feeder roads from each town a few cells up its valley side.
    for t in towns_arr:
        x, y = divmod(int(t), h)
        dx, dy = rng.integers(-4, 5, size=2)
        road |= _rasterise(np.array([[x, y], [x + dx, y + dy]], float), w, h)
    return {
        "elevation_m": elevation,
        "river": river,
        "road": road,
        "district": district,
        "towns": towns_arr,
    }


def coca_suitability(elevation_m: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Coca suitability 0-1: best between 600 and 2,000 m, falling on steep slopes.

    Source: UNODC Peru surveys place VRAEM coca in the ceja de selva up to about 2,000 m;
    the slope penalty is an assumption.
    """
    lo, hi = COCA_BEST_ELEVATION_M
    band = np.clip(
        1.0 - np.maximum(lo - elevation_m, elevation_m - hi).clip(0) / COCA_BAND_FALLOFF_M, 0.0, 1.0
    )
    return band * np.clip(1.0 - slope / COCA_SLOPE_SCALE_M, 0.2, 1.0)


def build_landscape(
    p: LandscapeParams,
    rng: np.random.Generator,
    rasters: dict[str, np.ndarray] | None = None,
    random=None,
    area_scale: float = 1.0,
) -> Landscape:
    """Build the grid and its property layers from generated or user-supplied rasters.

    ``random`` is the Mesa model's ``random.Random`` (Mesa's cells use it; the model does not).
    ``area_scale`` is the valley's scale (households over the full valley's): a smaller valley
    keeps the same map, but each cell holds ``area_scale`` times the land, so farmland and forest
    per household are the same at any scale (docs/model.md, scaling rule).
    """
    raw = rasters if rasters is not None else generate_arrays(p, rng)
    elevation = np.asarray(raw["elevation_m"], float)
    w, h = elevation.shape
    river = np.asarray(raw["river"], bool)
    road = np.asarray(raw["road"], bool)
    district = np.asarray(raw["district"], np.int16)
    if "towns" in raw:
        towns = np.asarray(raw["towns"], int)
    else:
        towns = np.array(
            [np.flatnonzero(district.reshape(-1) == d)[0] for d in range(int(district.max()) + 1)]
        )
    dist_river = ndimage.distance_transform_edt(~river)
    dist_road = ndimage.distance_transform_edt(~road)
    gx, gy = np.gradient(elevation)
    slope = np.hypot(gx, gy)
    suitability = coca_suitability(elevation, slope)

    farm_share = p.farm_share_near_rivers * np.exp(-dist_river / FARM_DECAY_FROM_RIVER_CELLS)
    farm_share += ROADSIDE_FARM_SHARE * np.exp(-dist_road / ROADSIDE_DECAY_CELLS)
    cell_ha = p.cell_ha * area_scale
    farm_capacity = cell_ha * np.clip(farm_share, 0.0, 1.0) * (elevation < HIGHEST_FARM_M)
    non_farm = cell_ha - farm_capacity
    # Forest covers most non-farm land in the low valleys; puna above 3,200 m has none.
    forest = non_farm * p.forest_share * np.clip((FOREST_LINE_M - elevation) / FOREST_LINE_WIDTH_M, 0.0, 1.0)
    fertility = np.where(
        farm_capacity > MIN_FARMED_HA * area_scale, p.initial_fertility_farmed, UNFARMED_FERTILITY
    )

    grid = OrthogonalMooreGrid((w, h), torus=False, random=random)
    arrays = {
        "elevation_m": elevation,
        "dist_river": dist_river,
        "dist_road": dist_road,
        "district": district.astype(float),
        "suitability": suitability,
        "fertility": fertility,
        "forest_ha": forest,
        "farm_capacity_ha": farm_capacity,
        "market_access": np.exp(-dist_road * np.log(2) / p.road_access_decay_cells),
        "police_reach": np.exp(-dist_road / p.police_reach_decay_cells),
        "coca_ha": np.zeros((w, h)),
        "ever_coca": np.zeros((w, h)),
    }
    layers = {}
    for name in LAYER_NAMES:
        layers[name] = PropertyLayer.from_data(name, np.ascontiguousarray(arrays[name], float))
        grid.add_property_layer(layers[name])
    return Landscape(grid, w, h, cell_ha, towns, river.reshape(-1), road.reshape(-1), layers)


def load_rasters(path: str | Path) -> dict[str, np.ndarray]:
    """Read user rasters from an ``.npz`` with ``elevation_m``, ``river``, ``road``, ``district``.

    All arrays must share one (width, height) shape; ``district`` holds ids 0..n-1.
    """
    try:
        data = np.load(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a NumPy .npz file ({exc})") from None
    with data:
        missing = [k for k in REQUIRED_RASTERS if k not in data]
        if missing:
            raise ValueError(f"{path}: missing arrays {missing} (need {list(REQUIRED_RASTERS)})")
        arrays = {k: data[k] for k in data.files}
    shapes = {k: arrays[k].shape for k in REQUIRED_RASTERS}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"{path}: arrays differ in shape {shapes}")
    return arrays


def fertility_change(fertility, coca_share, fallow_share, loss_per_year, recovery_per_year):
    """Monthly soil fertility change of a cell (0-1 scale).

    Coca exhausts soils in 20-30 years (seed interview); fallow and forest restore them slowly
    (assumption). Shares are of the cell's farmed land.
    """
    loss = loss_per_year / 12.0 * coca_share
    gain = recovery_per_year / 12.0 * fallow_share * (1.0 - fertility)
    return np.clip(fertility - loss + gain, 0.05, 1.0)
