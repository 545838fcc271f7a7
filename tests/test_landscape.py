"""The generated valley has the shape MODEL_SPEC asks for; user rasters can replace it."""

import random

import numpy as np
import pytest

from vraem.landscape import build_landscape, generate_arrays
from vraem.params import LandscapeParams
from vraem.runner import run_once
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
