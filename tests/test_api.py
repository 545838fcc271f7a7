"""The model as one plain function: vraem.outcomes, called directly, by EMA Workbench and by SALib.

A small valley (200 households) and a few months keep each call well under a second.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vraem
from tests.test_sweep import dask_cluster
from vraem import OUTCOME_NAMES, OUTCOMES, ScenarioError, load_scenario, outcomes, run_once

TINY = {"months": 6, "households": 200, "replicates": 1}
"""Keyword arguments of a fast call."""


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal outcomes, NaN equal to NaN (``replanted_share`` when nothing was eradicated)."""
    return list(a) == list(b) and all(
        x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a.values(), b.values(), strict=True)
    )


def test_outcomes_returns_every_named_outcome_as_a_float():
    out = outcomes(**TINY)
    assert tuple(out) == OUTCOME_NAMES
    assert all(type(v) is float for v in out.values())
    assert out["coca_ha_start"] > 0 and out["coca_ha_final"] > 0
    assert out["eradicated_ha_total"] == 0.0  # the status quo eradicates nothing in the VRAEM
    assert math.isnan(out["replanted_share"])  # so no share of it was replanted


def test_outcomes_table_prints_names_units_and_meanings():
    """`print(vraem.OUTCOMES)` is a table a person can read, and OUTCOMES is still a mapping."""
    text = str(OUTCOMES)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "unit", "meaning"]
    assert len(lines) == 2 + len(OUTCOME_NAMES)
    row = next(line for line in lines if line.startswith("coca_ha_final "))
    assert row.split(None, 2) == ["coca_ha_final", "ha", "coca in the valley at the last month"]
    assert "function" not in text and "lambda" not in text and "<" not in text
    assert "function" not in repr(OUTCOMES) and text in repr(OUTCOMES)
    assert "function" not in repr(OUTCOMES["coca_ha_final"])
    assert OUTCOMES["income_mean_usd"].unit == "USD/month"
    assert tuple(OUTCOMES) == OUTCOME_NAMES and len(OUTCOMES) == len(OUTCOME_NAMES)
    assert "replanted_share" in OUTCOMES and "nothing" not in OUTCOMES
    assert dict(OUTCOMES)["seized_t_total"].name == "seized_t_total"
    assert list(OUTCOMES.to_frame().columns) == ["name", "unit", "description"]


def test_quantiles_come_with_the_means():
    out = outcomes("eradication_first", months=6, households=200, replicates=3, quantiles=(0.05, 0.5, 0.95))
    assert tuple(out)[: len(OUTCOME_NAMES)] == OUTCOME_NAMES
    for name in ("coca_ha_final", "eradicated_ha_total"):
        low, mid, high = (out[f"{name}_p{q}"] for q in ("5", "50", "95"))
        assert low <= mid <= high
        assert low < high  # three different seeds
        assert low <= out[name] <= high
    assert same({k: out[k] for k in OUTCOME_NAMES}, outcomes("eradication_first", months=6, households=200))


def test_outcomes_is_exported_from_the_package():
    assert vraem.outcomes is outcomes
    assert "outcomes" in vraem.__all__


def test_the_three_ways_of_naming_a_value_agree():
    # eradication_first: its first phase sets amounts itself (the status quo's phase takes them
    # from the state's record, observed_history, and refuses amounts of its own).
    key = "policy.phases[0].eradication_ha_per_month"
    er = {**TINY, "scenario": "eradication_first"}
    by_kwarg = outcomes(**er, farmer__p_replant=0.2, policy__phases__0__eradication_ha_per_month=1500)
    by_mapping = outcomes(**er, parameters={"farmer.p_replant": 0.2, key: 1500})
    by_dotted = outcomes(**er, **{"farmer.p_replant": 0.2, key: 1500})
    assert by_kwarg == by_mapping
    assert by_kwarg == by_dotted
    assert by_kwarg["eradicated_ha_total"] > 0


def test_same_inputs_same_outcomes_and_the_seed_matters():
    assert same(outcomes(**TINY), outcomes(**TINY))
    assert outcomes(**TINY, seed=1)["coca_ha_final"] != outcomes(**TINY, seed=2)["coca_ha_final"]


def test_outcomes_average_the_replicates_of_vraem_run():
    """Replicate k is run_once's replicate k of the same scenario: the seeds of `vraem run`."""
    both = outcomes("eradication_first", months=6, households=200, replicates=2)
    sc = load_scenario("eradication_first", {"months": 6, "farmer.n_households": 200})
    per_run = [{o.name: o.compute(run_once(sc, k).table) for o in OUTCOMES.values()} for k in (0, 1)]
    for o in OUTCOMES.values():
        if o.name == "replanted_share":  # pooled: total replanted over total eradicated (below)
            continue
        assert both[o.name] == pytest.approx((per_run[0][o.name] + per_run[1][o.name]) / 2, rel=1e-12)
    assert per_run[0]["coca_ha_final"] != per_run[1]["coca_ha_final"]
    assert both["replanted_share"] == pytest.approx(both["replanted_ha_total"] / both["eradicated_ha_total"])


def test_a_lever_moves_the_outcomes_it_should():
    """Paired seeds: eradicating 2,000 ha/month valley-wide leaves less coca than none."""
    lever = "policy__phases__0__eradication_ha_per_month"
    none = outcomes("eradication_first", months=12, households=200, replicates=2, **{lever: 0})
    much = outcomes("eradication_first", months=12, households=200, replicates=2, **{lever: 2000})
    assert none["eradicated_ha_total"] == 0.0
    assert much["eradicated_ha_total"] > 10
    assert much["coca_ha_final"] < none["coca_ha_final"]
    assert much["coca_ha_start"] == none["coca_ha_start"]


def test_a_loaded_scenario_and_numpy_scalars_are_accepted():
    sc = load_scenario("status_quo")
    direct = outcomes(sc, **TINY, farmer__p_replant=0.4, clan__n_clans=20)
    numpy_in = outcomes(sc, **TINY, farmer__p_replant=np.float64(0.4), clan__n_clans=np.int64(20))
    assert same(direct, numpy_in)
    assert same(direct, outcomes("status_quo", **TINY, farmer__p_replant=0.4, clan__n_clans=20))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"farmer__p_replnt": 0.3}, "unknown key 'p_replnt' at parameters.farmer (allowed: "),
        ({"farmer__p_replant": 1.5}, "parameters.farmer.p_replant must be <= 1.0 (got 1.5)"),
        ({"policy__phases__5__eradication_ha_per_month": 1}, "policy.phases has 1 entries, no index 5"),
        ({"policy__phases__0__eradication_ha_per_month": -5}, "eradication_ha_per_month must be >= 0"),
        ({"clan__n_clans": 12.5}, "parameters.clan.n_clans"),
        ({"replicates": 0}, "replicates must be an integer >= 1 (got 0)"),
        ({"months": 0}, "months must be an integer >= 1 (got 0)"),
        ({"seed": -1}, "seed must be an integer >= 0 (got -1)"),
        ({"households": 10}, "n_households must be >= 50 (got 10)"),
        ({"scenario": "no_such_scenario"}, "no_such_scenario: unknown scenario (known: "),
        ({"scenario": 3}, "scenario must be a shipped name, a YAML path or a Scenario (got int)"),
        (
            {"parameters": {"farmer.p_replant": 0.3}, "farmer__p_replant": 0.4},
            "farmer.p_replant is given twice",
        ),
        ({"parameters": {"months": 24}}, "months is given twice"),
        ({"parameters": [("farmer.p_replant", 0.3)]}, "parameters must be a mapping"),
        ({"replicates": None, "draws": 0}, "draws must be an integer >= 1 (got 0)"),
        ({"draws": 2, "replicates": 3}, "replicates (3) must equal draws (2)"),
        ({"replicates": None, "draws": 61}, "n_draws must be at most the posterior's 60 particles (got 61)"),
        ({"posterior": "posterior.parquet"}, "posterior needs draws"),
        ({"replicates": None, "draws": 2, "posterior": "no/such.parquet"}, "no/such.parquet: file not found"),
        (
            {"replicates": None, "draws": 2, "farmer__max_coca_ha": 3.0},
            "farmer.max_coca_ha come from the posterior draws",
        ),
        ({"quantiles": (0.5, 1.5)}, "quantiles must be numbers in [0, 1] (got 1.5)"),
        ({"quantiles": 0.5}, "quantiles must be a list of numbers in [0, 1] (got 0.5)"),
    ],
)
def test_bad_input_is_one_scenario_error_line(kwargs, message):
    with pytest.raises(ScenarioError) as info:
        outcomes(**{"months": 3, "households": 200, "replicates": 1, **kwargs})
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_ema_workbench_runs_outcomes_as_its_model_function():
    """EMA Workbench calls Model(function=...) with one keyword argument per parameter name."""
    with warnings.catch_warnings():
        # The workbench warns on import that ipyparallel (an optional evaluator) is missing.
        warnings.simplefilter("ignore")
        import ema_workbench as ema

    model = ema.Model("vraem", function=outcomes)
    model.uncertainties = [ema.RealParameter("farmer__p_replant", 0.1, 0.9)]
    model.levers = [ema.RealParameter("policy__phases__0__eradication_ha_per_month", 0, 2000)]
    model.constants = [
        ema.Constant("scenario", "eradication_first"),
        ema.Constant("months", 6),
        ema.Constant("households", 200),
        ema.Constant("replicates", 1),
    ]
    model.outcomes = [ema.ScalarOutcome("coca_ha_final"), ema.ScalarOutcome("eradicated_ha_total")]
    with ema.SequentialEvaluator(model) as evaluator:
        experiments, results = ema.perform_experiments(model, scenarios=2, policies=2, evaluator=evaluator)
    assert len(experiments) == 4
    assert results["coca_ha_final"].shape == (4,)
    row = experiments.iloc[3]
    again = outcomes(
        "eradication_first",
        months=6,
        households=200,
        replicates=1,
        farmer__p_replant=row["farmer__p_replant"],
        policy__phases__0__eradication_ha_per_month=row["policy__phases__0__eradication_ha_per_month"],
    )
    assert results["coca_ha_final"][3] == again["coca_ha_final"]
    assert results["eradicated_ha_total"][3] == again["eradicated_ha_total"]


def test_salib_evaluates_outcomes_by_dotted_names():
    """SALib's ProblemSpec names the inputs; `parameters=` takes them as they are."""
    from SALib import ProblemSpec

    names = ["farmer.p_replant", "policy.phases[0].eradication_ha_per_month"]
    wanted = ["coca_ha_final", "eradicated_ha_total"]
    spec = ProblemSpec({"names": names, "bounds": [[0.1, 0.9], [0, 2000]], "outputs": wanted})

    def model(X: np.ndarray) -> np.ndarray:
        rows = [outcomes("eradication_first", **TINY, parameters=dict(zip(names, x, strict=True))) for x in X]
        return np.array([[row[k] for k in wanted] for row in rows])

    spec.sample_latin(4, seed=1).evaluate(model)
    assert spec.results.shape == (4, 2)
    erad = spec.results[:, 1]
    capacity = spec.samples[:, 1]
    assert np.all(np.diff(erad[np.argsort(capacity)]) > 0)  # more capacity, more eradicated


DRAWS_EXPERIMENT = """\
name: api_draws
description: experiments/default.yaml in small (API test)
scenarios: [status_quo, eradication_first]
base_seed: 2013
parameter_draws: posterior.parquet
n_draws: 3
overrides: {months: 6, farmer.n_households: 200, map_months: []}
"""


@pytest.mark.slow
def test_outcomes_over_posterior_draws_agree_with_vraem_compare(tmp_path):
    """`vraem.outcomes(draws=3)` is `make run` in small: a Dask sweep over 3 draws, then compare."""
    exp = tmp_path / "draws.yaml"
    exp.write_text(DRAWS_EXPERIMENT)
    out = tmp_path / "out"
    bin_dir = Path(sys.executable).parent
    with dask_cluster(tmp_path) as (address, _):
        sweep = subprocess.run(
            [str(bin_dir / "vraem"), "sweep", str(exp), "--scheduler", address, "--out", str(out)],
            capture_output=True, text=True, timeout=900,
        )
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    compare = subprocess.run(
        [str(bin_dir / "vraem"), "compare", str(out)], capture_output=True, text=True, timeout=300
    )
    assert compare.returncode == 0, compare.stdout + compare.stderr
    table = pd.read_csv(out / "compare" / "summary.csv").set_index("scenario")
    pairs = {  # compare's column -> (outcome, scale)
        "coca_ha_start": ("coca_ha_start", 1.0),
        "coca_ha_end_mean": ("coca_ha_final", 1.0),
        "coca_ha_end_p5": ("coca_ha_final_p5", 1.0),
        "coca_ha_end_median": ("coca_ha_final_p50", 1.0),
        "coca_ha_end_p95": ("coca_ha_final_p95", 1.0),
        "eradicated_ha_total": ("eradicated_ha_total", 1.0),
        "exports_t": ("exports_t_total", 1.0),
        "development_million_soles": ("development_spent_soles_total", 1e-6),
        "replanted_share": ("replanted_share", 1.0),
    }
    for scenario in ("status_quo", "eradication_first"):
        got = outcomes(scenario, months=6, households=200, draws=3, quantiles=(0.05, 0.5, 0.95))
        row = table.loc[scenario]
        assert row["replicates"] == 3
        for column, (name, scale) in pairs.items():
            want = float(row[column])
            if math.isnan(want):
                assert math.isnan(got[name]), (scenario, name)
            else:
                assert got[name] * scale == pytest.approx(want, rel=1e-9, abs=1e-9), (scenario, name)
        assert got["coca_ha_final_p5"] < got["coca_ha_final_p95"]  # the draws differ
    # the same call without the posterior runs other parameters and disagrees with the table
    plain = outcomes("eradication_first", months=6, households=200, replicates=3)
    want = table.loc["eradication_first", "coca_ha_end_mean"]
    assert plain["coca_ha_final"] != pytest.approx(want, rel=1e-6)
