"""The compiled kernels agree with the rules and with themselves run as plain Python.

Each behaviour rule is one function used two ways (vraem/jit.py): NumPy from Python, and compiled
for scalars inside the monthly kernels. These tests check that both forms give the same numbers,
that the whole model gives the same results with the kernels compiled and interpreted
(``NUMBA_DISABLE_JIT=1``), and that the kernel cache is keyed by every source of the package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numba
import numpy as np
import pytest

import vraem.simulation  # noqa: F401  (imports every module that defines rules)
from vraem import jit

# Inputs for each rule: booleans and the edge cases (zeros, bounds) its docstring names.
SAMPLES: dict[str, list[tuple]] = {
    "vraem.landscape.fertility_change": [(0.7, 1.0, 0.0, 0.035, 0.02), (0.06, 0.0, 1.0, 0.9, 0.02)],
    "vraem.economy.coca_net_usd_per_ha_year": [(2.1, 2300.0, 0.9, 0.35, 0.2, 1.0, 150.0)],
    "vraem.economy.legal_net_usd_per_ha_year": [(1800.0, 1.1, 0.6, 0.3)],
    "vraem.economy.rationed_share": [(50.0, 100.0), (200.0, 100.0), (-1e-12, 0.0), (3.0, 0.0)],
    "vraem.agents.coca_wanted.sigmoid": [(-3.0,), (0.0,), (40.0,)],
    "vraem.agents.coca_wanted.target_coca_ha": [(9000.0, 500.0, 4000.0, 1.2, 0.6, 1.0, 8.0)],
    "vraem.agents.coca_wanted.allocation_logit": [(9000.0, 500.0, 4000.0, 1.2, 0.6, 1.0)],
    "vraem.agents.coca_wanted.coca_wanted_ha": [(-3.0, 8.0), (5.46, 8.0)],
    "vraem.agents.land.land_change_ha": [
        (10.0, 1.0, 0.05, 0.08),
        (0.0, 2.0, 0.05, 0.08),
        (1.02, 1.0, 0.05, 0.08),
    ],
    "vraem.agents.replanting.replant_probability": [
        (0.5, False, False, 0.006, 0.2),
        (0.5, True, True, 0.006, 0.2),
        (0.95, False, True, 0.006, 0.2),
    ],
    "vraem.agents.expectations.annual_risk": [(0.0,), (0.013,), (2.0,)],
    "vraem.agents.expectations.update_expectation": [(2.0, 4.0, 0.25)],
    "vraem.agents.maturation.mature": [(1.5, 0.2, 15.0)],
    "vraem.agents.replanting.trust_after_eradication": [
        (0.5, 0.3, False, 0.4),
        (0.5, 0.3, True, 0.4),
        (0.1, 1.0, False, 0.4),
    ],
    "vraem.agents.legal_crops.own_legal_planting": [
        (2.0, 0.05, 1.4, True, 0.3, True),
        (2.0, 0.05, 0.8, False, 0.3, True),
    ],
    "vraem.agents.soils.relative_fertility": [(0.6, 0.7, 0.1), (0.95, 0.7, 0.2)],
    "vraem.agents.soils.farmed_plots_ha": [(3.0, 1.0), (0.5, 1.0)],
    "vraem.agents.soils.plot_land_shares": [(3.0, 0.5, 1.0, 0.4), (2.0, 0.5, 1.0, 0.0)],
    "vraem.agents.clan.affordable_share": [(120.0, 100.0), (80.0, 100.0), (10.0, -5.0)],
    "vraem.agents.clan.expand_lab_capacity": [(100.0, 120.0, 1.2, 0.1), (100.0, 50.0, 1.2, 0.1)],
    "vraem.agents.clan.lab_site_weight": [(0.3, 12.0), (1.0, 0.0)],
    "vraem.agents.mayor.acceptance_gap": [(0.6, 0.3, True, 0.5), (0.6, 0.3, False, 0.5)],
    "vraem.agents.mayor.acceptance_probability": [(0.1, 0.05), (-0.4, 0.05)],
    "vraem.agents.mayor.mayor_accepts": [(0.6, 0.5, True, 0.5), (0.6, 0.5, False, 0.5)],
    "vraem.landscape.market_access": [(0.0, 4.0), (7.5, 4.0)],
    "vraem.landscape.police_reach": [(0.0, 3.0), (7.5, 3.0)],
    "vraem.programme.advance_within_budget": [(np.array([3.0, 5.0, 2.0, 9.0]), 10.0)],
    "vraem.programme.agreement_probability": [(0.05, True, 0.2), (0.05, False, 0.2)],
    "vraem.programme.defection_hazard": [
        (0.006, True, 0.8, 0.4, 4.0, False, 5.0, True, 30.0, 0.3, 0.9),
        (0.006, False, 0.8, 0.0, 4.0, True, 5.0, False, 30.0, 0.0, 0.9),
    ],
    "vraem.programme.defection_probability": [
        (0.006, True, 0.8, 0.4, 4.0, False, 5.0, True, 30.0, 0.3, 0.9),
        (0.006, False, 0.8, 0.0, 4.0, True, 5.0, False, 30.0, 0.0, 0.9),
    ],
    "vraem.programme.hazard_probability": [(0.0,), (0.02,), (3.0,)],
    "vraem.programme.planting_from_fallow_or_coca": [(0.5, 2.0, 1.0), (2.0, 2.0, 1.0), (0.2, 0.3, 1.0)],
    "vraem.programme.agreement_pays": [(100.0, 30.0, 120.0), (100.0, 30.0, 140.0)],
    "vraem.programme.coca_income_forgone_usd": [
        (1.2, 2.3, 3_600.0, 0.9, 0.35, 0.1, 0.5),
        (0.0, 2.3, 3_600.0, 0.9, 0.35, 0.0, 0.5),
        (1.0, 2.3, 3_600.0, 0.9, 0.35, 2.0, 1.0),
    ],
    "vraem.programme.income_shortfall": [(100.0, 25.0), (0.0, 25.0), (100.0, 150.0)],
    "vraem.programme.delivery_intensity": [
        (5_000.0, 10.0, 650.0),
        (50_000.0, 10.0, 650.0),
        (0.0, 0.0, 650.0),
    ],
    "vraem.agents.farmer.altitude_zone": [
        (600.0, 1_200.0, 2_000.0),
        (1_500.0, 1_200.0, 2_000.0),
        (2_500.0, 1_200.0, 2_000.0),
    ],
    "vraem.agents.legal_crops.zone_crops": [
        (0, 1_800.0, 1_000.0, 1_200.0),
        (1, 1_800.0, 1_300.0, 1_200.0),
        (2, 1.0, 1.0, 1.0),
    ],
    "vraem.agents.income.savings_after_month": [(100.0, 460.0, 260.0, 0.1), (10.0, 200.0, 260.0, 0.1)],
    "vraem.agents.income.in_hardship": [(200.0, 0.0, 260.0), (200.0, 5.0, 260.0), (300.0, 0.0, 260.0)],
    "vraem.agents.mayor.coca_dependence": [(900.0, 100.0), (0.0, 0.0)],
    "vraem.agents.mayor.household_pressure": [(0.5, 0.35, 0.75), (0.1, 0.35, 0.9)],
    "vraem.programme.welfare_transfer_usd": [(0, 30.0), (3, 30.0)],
    "vraem.agents.police.intelligence_priority": [(2.5, 0.4, 0.3), (0.0, 0.9, 0.3)],
    "vraem.agents.police.resistance_probability": [(0.2, 0.6, 12.0), (0.9, 0.6, 12.0)],
    "vraem.agents.expectations.leaf_value": [(True, 2.6, 2.1), (False, 2.6, 2.1)],
    "vraem.agents.coca_wanted.moral_cost": [(150.0, 0.5, 400.0), (0.0, 0.0, 400.0)],
    "vraem.agents.legal_crops.programme_yield_factor": [(0, 0.3), (5, 0.3)],
    "vraem.agents.coca_wanted.grows_coca": [(0, False), (1, False), (2, True)],
    "vraem.agents.coca_wanted.desired_coca": [
        (2.4, 2300.0, 0.9, 0.35, 0.2, 1.0, 150.0, 1800.0, 0.6, 0.3, 4000.0, 1.2, 0.6, 1.0, 3.0, 1, False),
        (2.4, 2300.0, 0.9, 0.35, 0.2, 1.0, 0.0, 1800.0, 0.6, 0.3, 4000.0, 1.2, 0.6, 1.0, 3.0, 2, True),
    ],
    "vraem.agents.coca_wanted.desired_coca_logit": [
        (2.4, 2300.0, 0.9, 0.35, 0.2, 1.0, 150.0, 1800.0, 0.6, 0.3, 4000.0, 1.2, 0.6, 1.0),
        (2.4, 2300.0, 0.9, 0.35, 0.2, 1.0, 0.0, 1800.0, 0.6, 0.3, 4000.0, 1.2, 0.6, 1.0),
    ],
    "vraem.agents.legal_crops.plant_legal_crops": [
        (0.3, 1.0, True, 0.9, 0.6, 2, 2700.0, 1900.0, 900.0, 1.2, 1.0, 0.3, 300.0, 0.05, 0.3),
        (0.3, 1.0, False, 0.9, 0.6, 0, 2700.0, 1900.0, 900.0, 0.8, 1.0, 0.3, 300.0, 0.05, 0.3),
        (0.3, 1.0, True, 0.1, 0.05, 0, 2700.0, 1900.0, 900.0, 1.2, 1.0, 0.3, 3000.0, 0.05, 0.3),
        (0.3, 1.0, False, 0.9, 0.6, 2, 2700.0, 1900.0, 900.0, 1.2, 1.5, 0.3, 300.0, 0.05, 0.3, False),
    ],
    "vraem.agents.harvest.leaf_harvest_kg": [(2300.0, 1.5, 0.9, 0.4, 1.2)],
    "vraem.economy.local_price_factor": [(2.0, 1.0, 0.3), (0.5, 1.0, 0.3), (3.0, 0.0, 0.3), (0.0, 1.0, 0.3)],
    "vraem.agents.legal_crops.reverting_index": [(3.2, 1.07, 0.35, 0.0), (3.2, 1.07, 0.35, 4.0)],
    "vraem.agents.legal_crops.perennial_usd": [
        (800.0, 1200.0, 2000.0, 1700.0, 1033.0),
        (1500.0, 1200.0, 2000.0, 1700.0, 1033.0),
        (2500.0, 1200.0, 2000.0, 1700.0, 1033.0),
    ],
    "vraem.agents.legal_crops.best_legal_usd": [(1700.0, 1200.0, 1.1), (0.0, 1200.0, 1.1)],
    "vraem.agents.legal_crops.outbreak_revenue_factor": [(True, 0.5), (False, 0.5)],
    "vraem.agents.legal_crops.outbreak_starts": [
        (0.005, 0.12, False),
        (0.005, 0.12, True),
        (0.5, 0.12, False),
    ],
    "vraem.agents.income.legal_revenue": [(0.5, 1.0, 0.2, 900.0, 2700.0, 1900.0, 1.3, 0.9, 0.6)],
    "vraem.agents.income.net_income_usd": [(300.0, 0.35, 120.0, 2.1, 80.0, 30.0)],
    "vraem.agents.standing_coca.left_standing_ha": [
        (0.5, 2.0, 0.3, True, False),
        (0.5, 2.0, 0.3, False, False),
        (3.0, 2.0, 0.3, True, False),
        (0.5, 2.0, 0.3, True, True),
    ],
    "vraem.agents.standing_coca.uprooted_standing_ha": [(0.4, 0.01, 24.0), (0.4, 0.5, 24.0)],
    "vraem.agents.harvest.harvested_share": [(0.3, 1.2, 0.8), (0.0, 0.0, 1.0)],
    "vraem.agents.rising_yields.input_yield_factor": [(1.05, 0.013, 1.3, 0.7), (1.3, 0.013, 1.3, 2.0)],
    "vraem.migration.settler_income_ratio": [(2.3, 3600.0, 0.35, 1.0, 280.0)],
    "vraem.migration.arrivals_per_household_month": [
        (1.8, 0.02, 4.0, 0.8, 0.03),
        (0.5, 0.02, 4.0, 1.2, 0.03),
    ],
    "vraem.migration.leave_probability": [(120.0, 280.0, 0.05), (400.0, 280.0, 0.05)],
    "vraem.migration.labour_after_month": [(0.8, 0.1, 0.3, True), (0.8, 0.1, 0.3, False)],
}


def _name(fn) -> str:
    return f"{fn.__module__}.{fn.__name__}"


def test_every_rule_has_samples():
    missing = sorted({_name(fn) for fn in jit.RULES} - set(SAMPLES))
    assert not missing, f"add inputs to SAMPLES for: {missing}"


@pytest.mark.parametrize("fn", jit.RULES, ids=_name)
def test_compiled_rule_equals_numpy_rule(fn):
    compiled = numba.njit(fn)
    for args in SAMPLES[_name(fn)]:
        want = np.atleast_1d(np.asarray(fn(*args), dtype=float))
        got = np.atleast_1d(np.asarray(compiled(*args), dtype=float))
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, err_msg=f"{_name(fn)}{args}")


def test_rule_helpers_act_per_element_on_arrays():
    cond = np.array([True, False])
    np.testing.assert_array_equal(jit.where(cond, 1.0, 2.0), [1.0, 2.0])
    np.testing.assert_array_equal(jit.clip(np.array([-1.0, 0.5, 3.0]), 0.0, 1.0), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(jit.minimum(np.array([1.0, 3.0]), 2.0), [1.0, 2.0])
    np.testing.assert_array_equal(jit.maximum(np.array([1.0, 3.0]), 2.0), [2.0, 3.0])


@pytest.mark.parametrize("name", ["minimum", "maximum"])
def test_compiled_minimum_and_maximum_are_numpys_for_scalars(name):
    """The scalar forms inside kernels give NumPy's answer, NaN included (either side)."""
    helper, numpy_fn = getattr(jit, name), getattr(np, name)
    compiled = numba.njit(lambda a, b: helper(a, b))
    values = [-1.5, 0.0, 2.0, np.inf, -np.inf, np.nan]
    for a in values:
        for b in values:
            np.testing.assert_array_equal(compiled(a, b), numpy_fn(a, b), err_msg=f"{name}({a}, {b})")



@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_unsigned_views_an_index_array_at_its_width(dtype):
    """``jit.unsigned`` gives the same non-negative values, unsigned, same width, from Python and kernels."""
    index = np.array([0, 3, 1, 2], dtype=dtype)
    values = np.array([10.0, 11.0, 12.0, 13.0])
    view = jit.unsigned(index)
    assert view.dtype == np.dtype(f"u{index.itemsize}") and view.size == index.size
    np.testing.assert_array_equal(view, index)
    gathered = numba.njit(lambda idx, v: v[jit.unsigned(idx)])(index, values)
    np.testing.assert_array_equal(gathered, values[index])
    compiled_view = numba.njit(lambda idx: jit.unsigned(idx))(index)
    assert compiled_view.dtype == view.dtype


RUN = r"""
import json, sys
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel
out = {}
for name in ("integrated", "eradication_first"):
    sc = load_scenario(name, {"farmer.n_households": 150, "months": 18})
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=3, months=18)
    m.run()
    out[name] = m.results().drop(columns="month").to_numpy(dtype=float).tolist()
print(json.dumps(out))
"""


def _run(env_extra: dict[str, str]) -> dict:
    env = {**os.environ, **env_extra}
    done = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kernels_compiled_and_interpreted_agree():
    """The compiled month equals the same kernels run line by line as Python (NUMBA_DISABLE_JIT)."""
    compiled = _run({})
    interpreted = _run({"NUMBA_DISABLE_JIT": "1"})
    for name in compiled:
        a, b = np.array(compiled[name]), np.array(interpreted[name])
        assert a.shape == b.shape and a.shape[0] == 19
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=name)


def test_cache_key_covers_every_source_of_the_package(tmp_path, monkeypatch):
    """Editing any module (not only a kernel's own file) gives the kernels a new cache folder."""
    pkg = tmp_path / "vraem"
    shutil.copytree(jit._PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(jit, "_PACKAGE", pkg)
    before = jit._source_hash()
    economy = pkg / "economy.py"
    economy.write_text(economy.read_text() + "\n# an edit\n")
    assert jit._source_hash() != before
