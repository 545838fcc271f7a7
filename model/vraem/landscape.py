"""The generated VRAEM valley: rivers, roads, towns, districts, soils, forest, suitability.

The default landscape is drawn from the run's ``landscape`` stream (docs/odd.md): the
Apurímac rises in the south and meets the Mantaro, coming from the west, to form the Ene, which
runs north. Roads and towns follow the rivers; land grows steeper and more remote away from them.
Fifteen districts (one mayor each, seed interview) are the Voronoi regions of the district towns.

Every per-cell quantity is a Mesa ``PropertyLayer`` on an ``OrthogonalMooreGrid``; model code
works on flat views (``layer.data.reshape(-1)``) so that the monthly arithmetic is vectorised.
A user with real rasters names them in the scenario's ``landscape_file``; :func:`read_rasters`
reads them. Three forms hold the layers ``elevation_m``, ``river``, ``road`` and ``district`` (ids
0..n-1):

- an ``.npz`` of equally shaped arrays already in the model's orientation (below), optionally with
  ``towns`` as flat cell indices;
- a GeoTIFF stack (``.tif``/``.tiff``), one band per layer, named by the band descriptions;
- a folder of GeoTIFFs, one per layer, each file's stem naming its layer (``elevation_m.tif``).

GeoTIFFs are read with rasterio (``pip install vraem[gis]``). Their cell area comes from the
raster's transform (``|a * e|`` square metres of a projected CRS, over 10,000 = ha) and replaces
``parameters.landscape.cell_ha``; their CRS goes into the run's manifest. A geographic CRS (degrees)
is refused: reproject to a metric CRS first (UTM zone 18S, EPSG:32718, covers the VRAEM).

Orientation: the model's arrays are indexed ``[x, y]`` with x growing east and y growing north
(``y = 0`` is the southern edge, Mesa's grid convention). A north-up raster is read as
``[row, column]`` with row 0 the northern edge. :func:`model_orientation` turns one into the other:
flip the rows (south first), then transpose; so the raster's north-east pixel is model cell
``(width - 1, height - 1)``. An ``.npz`` must already be in model orientation.
"""

from __future__ import annotations

import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from random import Random

import numpy as np
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid, PropertyLayer
from mesa.discrete_space.cell_agent import HasCell
from scipy import ndimage

from vraem.jit import clip, rule
from vraem.params import LandscapeParams
from vraem.user_input import check_regular_file

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
    """The grid and its named per-cell arrays (flat views share memory with the layers).

    The Mesa grid (:attr:`grid`) is built the first time something reads it: the monthly rules
    work on the layers' flat arrays and the agents' cell indices, so a sweep's runs never need
    its 4,000 connected cells (building them costs more than a tenth of a full-scale run's
    arithmetic). The UI, the tests and users get it, with every layer attached, on first read.
    """

    random: Random | None
    """The Mesa model's ``random.Random``, handed to the grid (Mesa's cells use it; the model does not)."""
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
        self._grid: OrthogonalMooreGrid | None = None
        self._flat = {name: layer.data.reshape(-1) for name, layer in self.layers.items()}
        self.district = self._flat["district"].astype(np.intp)
        """District id of every cell, as integers for indexing (districts never change)."""

    @property
    def grid(self) -> OrthogonalMooreGrid:
        """The Mesa grid, its property layers attached (also as ``grid.<name>``); built on first read."""
        if self._grid is None:
            grid = OrthogonalMooreGrid((self.width, self.height), torus=False, random=self.random)
            for layer in self.layers.values():
                grid.add_property_layer(layer)
            self._grid = grid
        return self._grid

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
    """Mark the cells along a polyline given as (n, 2) float points.

    Each segment is sampled at ``2 x`` its longest side plus 2 evenly spaced points (the ends
    included) and every sample's nearest cell is marked. All segments are sampled at once, with
    ``numpy.linspace``'s own arithmetic (``start + k x (stop - start) / (n - 1)``, the end point
    exact), so the cells are those a per-segment ``linspace`` marks.
    """
    mask = np.zeros((width, height), dtype=bool)
    pts = np.asarray(points, float)
    if len(pts) < 2:
        return mask
    start, stop = pts[:-1], pts[1:]
    delta = stop - start
    n = (np.abs(delta).max(axis=1) * 2).astype(int) + 2
    seg = np.repeat(np.arange(len(n)), n)
    k = (np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n)).astype(float)
    step = delta / (n - 1)[:, None]
    xy = k[:, None] * step[seg] + start[seg]
    last = np.cumsum(n) - 1
    xy[last] = stop
    xs = np.clip(np.rint(xy[:, 0]).astype(int), 0, width - 1)
    ys = np.clip(np.rint(xy[:, 1]).astype(int), 0, height - 1)
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


GENERATED_KEPT = 8
"""Generated valleys kept per process (:func:`generate_arrays`); a few hundred kB each."""

_generated: OrderedDict[tuple, tuple[dict[str, np.ndarray], dict]] = OrderedDict()
_generated_lock = threading.Lock()


def generate_arrays(p: LandscapeParams, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the raw rasters (elevation, rivers, roads, districts) of a VRAEM-like valley.

    The valley depends only on the grid's size, the number of districts and the stream's state,
    so the last few are kept: a calibration builds the same valley for each of a candidate's
    scenario runs. A kept valley is returned as fresh copies, and the stream is left where
    drawing it would leave it, so the run is the same bit for bit.
    """
    key = (p.width, p.height, p.n_districts, repr(rng.bit_generator.state))
    with _generated_lock:
        kept = _generated.get(key)
        if kept is not None:
            _generated.move_to_end(key)
    if kept is None:
        kept = (_draw_arrays(p, rng), rng.bit_generator.state)
        with _generated_lock:
            _generated[key] = kept
            while len(_generated) > GENERATED_KEPT:
                _generated.popitem(last=False)
    else:
        rng.bit_generator.state = kept[1]
    return {name: a.copy() for name, a in kept[0].items()}


def _draw_arrays(p: LandscapeParams, rng: np.random.Generator) -> dict[str, np.ndarray]:
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
    # Take road cells in that order, each one far enough from every town taken before it.
    ox, oy = np.divmod(order, h)
    far = np.ones(order.size, dtype=bool)
    i = 0
    while len(towns) < p.n_districts:
        free = np.flatnonzero(far[i:])
        if free.size == 0:
            break
        i += int(free[0])
        towns.append(int(order[i]))
        far &= np.hypot(ox - ox[i], oy - oy[i]) >= min_sep
        i += 1
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

    arrays = {
        "elevation_m": elevation,
        "dist_river": dist_river,
        "dist_road": dist_road,
        "district": district.astype(float),
        "suitability": suitability,
        "fertility": fertility,
        "forest_ha": forest,
        "farm_capacity_ha": farm_capacity,
        "market_access": market_access(dist_road, p.road_access_decay_cells),
        "police_reach": police_reach(dist_road, p.police_reach_decay_cells),
        "coca_ha": np.zeros((w, h)),
        "ever_coca": np.zeros((w, h)),
    }
    layers = {}
    for name in LAYER_NAMES:
        layers[name] = PropertyLayer.from_data(name, np.ascontiguousarray(arrays[name], float))
    return Landscape(random, w, h, cell_ha, towns, river.reshape(-1), road.reshape(-1), layers)


class SitedAgent(CellAgent):
    """A Mesa agent at a cell of the landscape, kept as a flat cell index (:attr:`site`).

    Its Mesa cell (``cell``) is looked up when read, so that placing or moving such agents does
    not build the grid (see :class:`Landscape`); assigning a Mesa cell moves the agent there.
    """

    def __init__(self, model, site: int) -> None:
        super().__init__(model)
        self.site = int(site)
        """Flat index ``x * height + y`` of the agent's cell."""

    @property
    def cell(self):
        """The Mesa cell at :attr:`site` (the agent joins it on first read after a move)."""
        placed = HasCell.cell.fget(self)
        if placed is None or placed.coordinate != divmod(self.site, self.model.landscape.height):
            HasCell.cell.fset(self, self.model.landscape.cell(self.site))
        return HasCell.cell.fget(self)

    @cell.setter
    def cell(self, cell) -> None:
        HasCell.cell.fset(self, cell)
        if cell is not None:
            x, y = cell.coordinate
            self.site = x * self.model.landscape.height + y


class RasterError(ValueError):
    """User rasters that cannot be used, with a one-line message naming the file and the layer."""


@dataclass(frozen=True)
class UserRasters:
    """User-supplied layers in model orientation, and what the files say about their cells."""

    arrays: dict[str, np.ndarray]
    cell_ha: float | None = None
    """Cell area from a GeoTIFF's transform (None for an ``.npz``: ``cell_ha`` applies)."""
    crs: str | None = None
    """The GeoTIFF's CRS (``EPSG:nnnn`` when it has a code, else WKT)."""
    form: str = "npz"
    """``npz``, ``geotiff`` or ``geotiff folder``."""

    def describe(self) -> dict[str, object]:
        """What a manifest records of the rasters."""
        width, height = self.arrays["elevation_m"].shape
        return {"form": self.form, "width": width, "height": height, "cell_ha": self.cell_ha, "crs": self.crs}


MAX_RASTER_CELLS = 400 * 400
"""The largest grid a scenario may use: the generated valley's ``width`` and ``height`` limits."""

OPTIONAL_RASTERS = ("towns",)
"""Arrays an ``.npz`` may add (``towns``: flat cell indices ``x * height + y``, one per district)."""


def model_orientation(band: np.ndarray, transform) -> np.ndarray:
    """Turn a raster band ``[row, column]`` into the model's ``[x, y]`` (x east, y north).

    Rows are flipped when they run north to south (``transform.e < 0``, the usual north-up
    raster), columns when they run east to west (``transform.a < 0``); then the array is
    transposed. The raster's north-east pixel becomes cell ``(width - 1, height - 1)``.
    """
    if transform.e < 0:
        band = band[::-1, :]
    if transform.a < 0:
        band = band[:, ::-1]
    return np.ascontiguousarray(band.T)


def read_rasters(path: str | Path) -> UserRasters:
    """Read user rasters: an ``.npz``, a GeoTIFF stack or a folder of GeoTIFFs (see module docs).

    Raises:
        RasterError: One line naming the file and the layer, for anything unusable.
    """
    path = Path(path)
    if path.is_dir():
        rasters = _read_geotiff_folder(path)
    elif path.suffix.lower() in {".tif", ".tiff"}:
        rasters = _read_geotiff_stack(path)
    elif path.suffix.lower() == ".npz":
        rasters = UserRasters(_read_npz(path))
    else:
        raise RasterError(
            f"{path}: unknown raster format "
            "(expected an .npz, a GeoTIFF .tif stack or a folder of .tif files)"
        )
    _check_layers(path, rasters.arrays)
    return rasters


def load_rasters(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of :func:`read_rasters`, in model orientation."""
    return read_rasters(path).arrays


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        check_regular_file(path, "an .npz file")
    except (OSError, ValueError) as exc:
        raise RasterError(f"{path}: {exc}") from None
    try:
        # Our own file object: np.load leaves its own open when a corrupt file fails to parse.
        with path.open("rb") as f, np.load(f, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise RasterError(f"{path}: a single .npy array, not an .npz of named arrays")
            missing = [k for k in REQUIRED_RASTERS if k not in data.files]
            if missing:
                raise RasterError(f"{path}: missing arrays {missing} (need {list(REQUIRED_RASTERS)})")
            return {k: data[k] for k in data.files}
    except RasterError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise RasterError(f"{path}: not a readable NumPy .npz file ({type(exc).__name__})") from None


def _rasterio(path: Path):
    try:
        import rasterio
    except ImportError:
        raise RasterError(
            f"{path}: reading GeoTIFFs needs rasterio: pip install 'vraem[gis]' (or convert to .npz)"
        ) from None
    return rasterio


def _open_geotiff(path: Path):
    """Read every band of one GeoTIFF: (bands as masked arrays, descriptions, transform, crs)."""
    rasterio = _rasterio(path)
    try:
        with rasterio.open(path) as src:
            bands = src.read(masked=True)
            return bands, list(src.descriptions), src.transform, src.crs
    except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise RasterError(f"{path}: not a readable GeoTIFF ({reason})") from None


def _cell_ha_and_crs(path: Path, transform, crs) -> tuple[float, str]:
    """Cell area (ha) from a north-up transform in a projected CRS, and the CRS as text."""
    if crs is None:
        raise RasterError(
            f"{path}: has no CRS, so its cell size has no unit; assign the projected CRS it is in "
            "(e.g. gdal_edit.py -a_srs EPSG:32718)"
        )
    if not crs.is_projected:
        raise RasterError(
            f"{path}: CRS {crs.to_string()} is geographic (degrees); reproject to a metric CRS first, "
            "e.g. gdalwarp -t_srs EPSG:32718 (UTM 18S covers the VRAEM)"
        )
    if transform.b != 0 or transform.d != 0:
        raise RasterError(f"{path}: the grid is rotated; warp it north-up first (gdalwarp)")
    metres = crs.linear_units_factor[1]
    area_m2 = abs(transform.a * transform.e) * metres**2
    if not np.isfinite(area_m2) or area_m2 <= 0:
        raise RasterError(f"{path}: the transform gives no cell size ({transform})")
    epsg = crs.to_epsg()
    return area_m2 / 10_000.0, f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _layer(path: Path, name: str, band: np.ma.MaskedArray, transform) -> np.ndarray:
    """One band in model orientation; nodata is refused where it matters, else read as 0."""
    if name in ("elevation_m", "district") and np.ma.count_masked(band):
        raise RasterError(
            f"{path}: layer {name} has {np.ma.count_masked(band)} nodata cells; fill or crop them"
        )
    return model_orientation(np.ma.filled(band, 0), transform)


def _read_geotiff_stack(path: Path) -> UserRasters:
    bands, names, transform, crs = _open_geotiff(path)
    cell_ha, crs_text = _cell_ha_and_crs(path, transform, crs)
    allowed = list(REQUIRED_RASTERS)
    arrays = {}
    for i, name in enumerate(names):
        if name not in allowed:
            raise RasterError(
                f"{path}: band {i + 1} is described as {name!r}; band descriptions must name the layers "
                f"{allowed}"
            )
        arrays[name] = _layer(path, name, bands[i], transform)
    missing = [k for k in REQUIRED_RASTERS if k not in arrays]
    if missing:
        raise RasterError(f"{path}: no bands described as {missing} (need {allowed})")
    return UserRasters(arrays, cell_ha, crs_text, "geotiff")


def _read_geotiff_folder(folder: Path) -> UserRasters:
    files = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in {".tif", ".tiff"}}
    missing = [k for k in REQUIRED_RASTERS if k not in files]
    if missing:
        raise RasterError(
            f"{folder}: no GeoTIFFs for {missing} (need one file per layer: "
            f"{', '.join(k + '.tif' for k in REQUIRED_RASTERS)})"
        )
    arrays, grids = {}, {}
    for name in REQUIRED_RASTERS:
        bands, _, transform, crs = _open_geotiff(files[name])
        cell_ha, crs_text = _cell_ha_and_crs(files[name], transform, crs)
        grids[name] = (tuple(transform)[:6], crs_text, bands.shape[1:])
        arrays[name] = _layer(files[name], name, bands[0], transform)
    if len(set(grids.values())) != 1:
        raise RasterError(
            f"{folder}: the layers are on different grids (transform, CRS or shape differ); "
            "warp them onto one grid first"
        )
    return UserRasters(arrays, cell_ha, crs_text, "geotiff folder")


def _check_layers(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Shapes, types and values every form of user rasters must have."""
    for k in REQUIRED_RASTERS:
        a = arrays[k]
        if a.ndim != 2 or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise RasterError(f"{path}: {k} must be a 2-D numeric array (got {a.dtype} of shape {a.shape})")
    shapes = {k: arrays[k].shape for k in REQUIRED_RASTERS}
    if len(set(shapes.values())) != 1:
        raise RasterError(f"{path}: arrays differ in shape {shapes}")
    width, height = shapes["elevation_m"]
    if width < 2 or height < 2 or width * height > MAX_RASTER_CELLS:
        raise RasterError(
            f"{path}: {width} x {height} cells; the model takes 2 x 2 up to {MAX_RASTER_CELLS:,} cells "
            "(resample to coarser cells, e.g. gdalwarp -tr 1250 1250)"
        )
    if not np.isfinite(arrays["elevation_m"]).all():
        raise RasterError(f"{path}: elevation_m has NaN or infinite cells; fill them")
    district = arrays["district"]
    if not np.isfinite(district).all() or (district != np.round(district)).any() or district.min() < 0:
        raise RasterError(f"{path}: district must hold whole ids 0..n-1 in every cell")
    if district.max() >= np.iinfo(np.int16).max:
        raise RasterError(f"{path}: district ids must be below {np.iinfo(np.int16).max}")
    ids = np.unique(district.astype(np.int64))
    if len(ids) != int(ids[-1]) + 1:
        gaps = sorted(set(range(int(ids[-1]) + 1)) - set(ids.tolist()))[:5]
        raise RasterError(f"{path}: district ids must run 0..n-1 without gaps (missing {gaps})")
    for k in ("river", "road"):
        if not np.isin(arrays[k], (0, 1)).all():
            raise RasterError(f"{path}: {k} must hold 0 or 1 (or booleans) in every cell")
    if "towns" in arrays:
        towns = arrays["towns"]
        n = int(ids[-1]) + 1
        ok = towns.ndim == 1 and len(towns) == n and np.issubdtype(towns.dtype, np.integer)
        if not ok or towns.min() < 0 or towns.max() >= width * height:
            raise RasterError(
                f"{path}: towns must be {n} whole flat cell indices x * height + y, one per district"
            )


@rule
def fertility_change(fertility, coca_share, fallow_share, loss_per_year, recovery_per_year):
    """Monthly soil fertility change of a cell (0-1 scale).

    Coca exhausts soils in 20-30 years (seed interview); fallow and forest restore them slowly
    (assumption). Shares are of the cell's farmed land.
    """
    loss = loss_per_year / 12.0 * coca_share
    gain = recovery_per_year / 12.0 * fallow_share * (1.0 - fertility)
    return clip(fertility - loss + gain, 0.05, 1.0)


@rule
def market_access(dist_road_cells, half_access_cells):
    """Market access of a cell (0-1): halves every ``half_access_cells`` cells away from a road.

    Legal crops must reach a market; the halving distance is ``landscape.road_access_decay_cells``.
    """
    return np.exp(-dist_road_cells * np.log(2.0) / half_access_cells)


@rule
def police_reach(dist_road_cells, decay_cells):
    """Police reach of a cell (0-1): fades exponentially with the distance from a road."""
    return np.exp(-dist_road_cells / decay_cells)
