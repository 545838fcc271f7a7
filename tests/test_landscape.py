"""The generated valley has the shape MODEL_SPEC asks for; user rasters can replace it."""

import json
import random
import subprocess
import sys

import numpy as np
import pytest

from vraem import landscape
from vraem.landscape import RasterError, build_landscape, generate_arrays, read_rasters
from vraem.params import LandscapeParams
from vraem.runner import run_once, run_scenarios
from vraem.scenario import ScenarioError, load_scenario


def test_generated_valley():
    p = LandscapeParams()
    L = build_landscape(p, np.random.default_rng(3), random=random.Random(3))
    district = L.layer("district").astype(int)
    assert sorted(np.unique(district)) == list(range(15))  # 15 districts, one mayor each
    assert L.river.any() and L.road.any()
    # Roads and farmland follow the rivers; remote land is higher and forested.
    near = L.layer("dist_river") <= 2
    far = L.layer("dist_river") >= 10
    assert L.layer("elevation_m")[far].mean() > L.layer("elevation_m")[near].mean() + 500
    assert L.layer("farm_capacity_ha")[near].mean() > 10 * L.layer("farm_capacity_ha")[far].mean()
    assert L.layer("forest_ha").sum() > 2 * L.layer("farm_capacity_ha").sum()
    assert L.layer("farm_capacity_ha").sum() > 2 * 19_167  # room for the 2013 coca and more
    assert L.layer("market_access")[L.road].min() == pytest.approx(1.0)
    assert L.district_edges().any()


def test_rasterised_polyline_marks_every_cell_it_crosses():
    # A diagonal from corner to corner marks the diagonal cells and nothing else; the ends are
    # exact (a per-segment linspace's last point), and points off the grid are clipped to it.
    mask = landscape._rasterise(np.array([[0.0, 0.0], [9.0, 9.0], [9.0, 12.0]]), 10, 10)
    assert mask[np.arange(10), np.arange(10)].all()
    assert mask.sum() == 10  # the vertical leg past the edge lands on the corner cell
    assert not landscape._rasterise(np.array([[3.0, 4.0]]), 10, 10).any()


def test_a_kept_valley_is_the_same_draw_and_cannot_be_written_through(monkeypatch):
    monkeypatch.setattr(landscape, "_generated", type(landscape._generated)())
    p = LandscapeParams(width=30, height=30)
    drawn_rng = np.random.default_rng(11)
    first = generate_arrays(p, drawn_rng)
    first["elevation_m"][:] = -1.0  # a caller writing to its copy
    kept_rng = np.random.default_rng(11)
    again = generate_arrays(p, kept_rng)
    assert len(landscape._generated) == 1  # the second call was served from the kept valley
    monkeypatch.setattr(landscape, "_generated", type(landscape._generated)())
    fresh = generate_arrays(p, np.random.default_rng(11))
    for name in fresh:
        assert np.array_equal(again[name], fresh[name]), name
    # The stream is left where drawing the valley leaves it.
    assert kept_rng.bit_generator.state == drawn_rng.bit_generator.state
    other = generate_arrays(p, np.random.default_rng(12))
    assert not np.array_equal(other["elevation_m"], fresh["elevation_m"])


def test_user_rasters_from_npz(tmp_path):
    raw = generate_arrays(LandscapeParams(width=30, height=30), np.random.default_rng(5))
    np.savez(tmp_path / "valley.npz", **{k: raw[k] for k in ("elevation_m", "river", "road", "district")})
    (tmp_path / "s.yaml").write_text("name: real\nlandscape_file: valley.npz\nmonths: 3\n")
    sc = load_scenario(tmp_path / "s.yaml", {"farmer.n_households": 200})
    result = run_once(sc, 0)
    assert result.district.shape == (30, 30)
    assert result.table["coca_ha"].iloc[0] > 0


def test_bad_landscape_file(tmp_path):
    (tmp_path / "s.yaml").write_text("name: real\nlandscape_file: nowhere.npz\n")
    with pytest.raises(ScenarioError, match=r"landscape_file: nowhere\.npz not found"):
        load_scenario(tmp_path / "s.yaml")
    np.savez(tmp_path / "half.npz", elevation_m=np.zeros((5, 5)))
    (tmp_path / "t.yaml").write_text("name: real\nlandscape_file: half.npz\n")
    with pytest.raises(ScenarioError, match="missing arrays"):
        load_scenario(tmp_path / "t.yaml")
    raw = generate_arrays(LandscapeParams(width=30, height=30, n_districts=4), np.random.default_rng(5))
    np.savez(tmp_path / "four.npz", **{k: raw[k] for k in ("elevation_m", "river", "road", "district")})
    (tmp_path / "u.yaml").write_text("name: real\nlandscape_file: four.npz\n")
    with pytest.raises(ScenarioError, match=r"has 4 districts but parameters\.landscape\.n_districts is 15"):
        load_scenario(tmp_path / "u.yaml")


# ---------------------------------------------------------------------------------------------
# GeoTIFFs (rasterio, the `gis` extra, which `dev` includes)

LAYERS = ("elevation_m", "river", "road", "district")
WIDTH, HEIGHT = 30, 24  # not square, so that a transpose cannot pass unseen
NE_MARK = 4321.0


def _model_layers() -> dict[str, np.ndarray]:
    """Generated layers in model orientation [x, y], with the north-east cell's elevation marked."""
    raw = generate_arrays(LandscapeParams(width=WIDTH, height=HEIGHT), np.random.default_rng(5))
    layers = {k: np.asarray(raw[k], dtype="float32") for k in LAYERS}
    layers["elevation_m"][WIDTH - 1, HEIGHT - 1] = NE_MARK
    return layers


def _as_north_up(a: np.ndarray) -> np.ndarray:
    """The way a GIS holds it: rows from north to south, columns from west to east."""
    return a.T[::-1, :]


def _write_tif(path, bands: dict[str, np.ndarray], crs="EPSG:32718", res=1000.0):
    import rasterio
    from rasterio.transform import from_origin

    first = next(iter(bands.values()))
    profile = {
        "driver": "GTiff",
        "height": first.shape[0],
        "width": first.shape[1],
        "count": len(bands),
        "dtype": "float32",
        "crs": crs,
        # West edge 600 km, north edge 8,650 km of UTM 18S: about the VRAEM.
        "transform": from_origin(600_000.0, 8_650_000.0, res, res),
    }
    with rasterio.open(path, "w", **profile) as dst:
        for i, (name, band) in enumerate(bands.items(), start=1):
            dst.write(band, i)
            dst.set_band_description(i, name)


def test_geotiff_stack_north_east_lands_at_the_last_cell(tmp_path):
    layers = _model_layers()
    north_up = {k: _as_north_up(v) for k, v in layers.items()}
    assert north_up["elevation_m"][0, -1] == NE_MARK  # row 0 = north, last column = east
    _write_tif(tmp_path / "valley.tif", north_up)
    rasters = read_rasters(tmp_path / "valley.tif")
    elevation = rasters.arrays["elevation_m"]
    assert elevation.shape == (WIDTH, HEIGHT)
    assert elevation[WIDTH - 1, HEIGHT - 1] == NE_MARK
    for k in LAYERS:
        np.testing.assert_array_equal(rasters.arrays[k], layers[k])
    assert rasters.cell_ha == pytest.approx(100.0)  # 1 km x 1 km
    assert rasters.crs == "EPSG:32718"


def test_geotiff_folder_and_manifest_keep_crs_and_cell_area(tmp_path):
    layers = _model_layers()
    folder = tmp_path / "layers"
    folder.mkdir()
    for k, v in layers.items():
        _write_tif(folder / f"{k}.tif", {k: _as_north_up(v)}, res=500.0)
    rasters = read_rasters(folder)
    assert rasters.arrays["elevation_m"][WIDTH - 1, HEIGHT - 1] == NE_MARK
    assert rasters.cell_ha == pytest.approx(25.0)
    (tmp_path / "s.yaml").write_text("name: gis\nlandscape_file: layers\nmonths: 2\nreplicates: 1\n")
    sc = load_scenario(tmp_path / "s.yaml", {"farmer.n_households": 200})
    assert sc.parameters.landscape.cell_ha == pytest.approx(25.0)
    out = tmp_path / "out"
    run_scenarios([(sc, "", str(tmp_path / "s.yaml"))], out)
    record = json.loads((out / "manifest.json").read_text())["scenarios"][0]
    assert record["landscape"]["crs"] == "EPSG:32718"
    assert record["landscape"]["cell_ha"] == pytest.approx(25.0)
    assert (record["landscape"]["width"], record["landscape"]["height"]) == (WIDTH, HEIGHT)


def test_geotiff_refusals(tmp_path):
    north_up = {k: _as_north_up(v) for k, v in _model_layers().items()}
    _write_tif(tmp_path / "degrees.tif", north_up, crs="EPSG:4326", res=0.01)
    with pytest.raises(RasterError, match=r"geographic .*reproject"):
        read_rasters(tmp_path / "degrees.tif")
    _write_tif(tmp_path / "typo.tif", {**north_up, "elevaton": north_up["elevation_m"]})
    with pytest.raises(RasterError, match=r"band 5 is described as 'elevaton'"):
        read_rasters(tmp_path / "typo.tif")
    (tmp_path / "s.yaml").write_text("name: gis\nlandscape_file: degrees.tif\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml: landscape_file: .*degrees\.tif: CRS EPSG:4326"):
        load_scenario(tmp_path / "s.yaml")


def test_corrupt_geotiff_is_one_line_exit_2(tmp_path):
    north_up = {k: _as_north_up(v) for k, v in _model_layers().items()}
    _write_tif(tmp_path / "valley.tif", north_up)
    data = (tmp_path / "valley.tif").read_bytes()
    (tmp_path / "valley.tif").write_bytes(data[: len(data) // 3])  # a truncated download
    (tmp_path / "s.yaml").write_text("name: gis\nlandscape_file: valley.tif\n")
    proc = subprocess.run(
        [sys.executable, "-m", "vraem.cli", "validate", str(tmp_path / "s.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "s.yaml: landscape_file: " in lines[0] and "valley.tif: not a readable GeoTIFF" in lines[0]


def test_corrupt_npz_is_one_line(tmp_path):
    raw = generate_arrays(LandscapeParams(width=30, height=30), np.random.default_rng(5))
    np.savez(tmp_path / "valley.npz", **{k: raw[k] for k in LAYERS})
    data = (tmp_path / "valley.npz").read_bytes()
    (tmp_path / "valley.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "s.yaml").write_text("name: real\nlandscape_file: valley.npz\n")
    with pytest.raises(ScenarioError, match=r"valley\.npz: not a readable NumPy \.npz file"):
        load_scenario(tmp_path / "s.yaml")
    bad = {k: raw[k] for k in LAYERS} | {"elevation_m": np.full((30, 30), np.nan)}
    np.savez(tmp_path / "nan.npz", **bad)
    (tmp_path / "t.yaml").write_text("name: real\nlandscape_file: nan.npz\n")
    with pytest.raises(ScenarioError, match="elevation_m has NaN"):
        load_scenario(tmp_path / "t.yaml")
