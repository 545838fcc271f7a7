"""Comparisons over a posterior: paired draws, ranking robustness, flip discovery, bad input."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vraem.posterior import draw_parameters, read_posterior
from vraem.robustness import (
    RUNS_AND_PARAMETERS,
    RUNS_ONLY,
    flip_discovery,
    ranking_robustness,
    uncertainty_label,
)
from vraem.sweep.experiment import ExperimentError, load_experiment

KEYS = ("market.export_demand_growth_per_year", "farmer.expectation_rate")


def write_posterior(path: Path, n: int = 20, weights=None, extra: dict | None = None) -> Path:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            KEYS[0]: rng.uniform(0.05, 0.12, n),
            KEYS[1]: rng.uniform(0.01, 0.05, n),
            "farmer.max_coca_ha": rng.uniform(7.5, 8.5, n),
            "weight": np.full(n, 1.0 / n) if weights is None else weights,
            "generation": 4,
            **(extra or {}),
        }
    )
    df.to_parquet(path, index=False)
    return path


def write_experiment(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(
        "name: over_posterior\nscenarios: [status_quo, eradication_first, development_first]\n"
        "base_seed: 11\noverrides: {farmer.n_households: 300, months: 3}\n" + body
    )
    return path


def test_draw_k_and_seed_k_are_the_same_in_every_scenario(tmp_path):
    write_posterior(tmp_path / "posterior.parquet")
    exp = load_experiment(write_experiment(tmp_path, "parameter_draws: posterior.parquet\nn_draws: 6\n"))
    assert exp.spec.replicates == 6 and exp.n_runs == 18
    runs = list(exp.runs())
    by_k: dict[int, list] = {}
    for spec in runs:
        by_k.setdefault(spec.replicate, []).append(spec)
    for specs in by_k.values():
        assert {s.scenario.name for s in specs} == {"status_quo", "eradication_first", "development_first"}
        assert len({s.seed for s in specs}) == 1
        draws = {tuple(s.params[key] for key in (*KEYS, "farmer.max_coca_ha")) for s in specs}
        assert len(draws) == 1, draws
        (draw,) = draws
        for s in specs:  # the draw is what the scenario runs with, not only a label
            assert s.scenario.parameters.market.export_demand_growth_per_year == draw[0]
            assert s.scenario.parameters.farmer.expectation_rate == draw[1]
            assert s.scenario.parameters.farmer.max_coca_ha == draw[2]
    assert len({s.seed for s in runs}) == 6
    assert len({s.params[KEYS[0]] for s in runs}) > 1  # different draws for different k
    again = load_experiment(exp.path)
    assert [s.params for s in again.runs()] == [s.params for s in runs]  # seeded resampling


def test_a_run_of_two_scenarios_pairs_draws_and_seeds(tmp_path):
    """`vraem run` with a scenario-level posterior: the results table carries draw and seed."""
    post = write_posterior(tmp_path / "posterior.parquet")
    from vraem.runner import run_scenarios
    from vraem.scenario import load_scenario

    over = {"farmer.n_households": 300, "months": 2, "parameter_draws": str(post), "n_draws": 4}
    scs = [(load_scenario(name, over), "", name) for name in ("status_quo", "integrated")]
    table = run_scenarios(scs, tmp_path / "out")
    last = table[table["month"] == 2].set_index(["replicate", "scenario"])
    for k in range(4):
        rows = last.loc[k]
        assert rows["seed"].nunique() == 1
        assert rows[KEYS[0]].nunique() == 1 and rows[KEYS[1]].nunique() == 1
    assert last.loc[(0, "status_quo"), KEYS[0]] != last.loc[(1, "status_quo"), KEYS[0]] or (
        last.loc[(0, "status_quo"), KEYS[1]] != last.loc[(1, "status_quo"), KEYS[1]]
    )
    # compare's and the report's intervals say they include the parameters, not noise alone
    from vraem.compare import compare_folder
    from vraem.report.findings import paired_differences
    from vraem.report.view import ReportView
    from vraem.results import load_results
    from vraem.stats import WITH_PARAMETERS

    c = compare_folder(tmp_path / "out")
    assert c.uncertainty == WITH_PARAMETERS
    view = ReportView(load_results(tmp_path / "out"))
    assert WITH_PARAMETERS in paired_differences(view)["interval"].iloc[0]


def test_resampling_follows_the_weights(tmp_path):
    post = read_posterior(write_posterior(tmp_path / "p.parquet", n=5, weights=[0, 0, 1.0, 0, 0]))
    draws = draw_parameters(post, 5, seed=1)
    assert all(d[KEYS[0]] == post[KEYS[0]].iloc[2] for d in draws)
    post = read_posterior(write_posterior(tmp_path / "q.parquet", n=4, weights=[0.7, 0.1, 0.1, 0.1]))
    counts = pd.Series([d[KEYS[0]] for d in draw_parameters(post, 4, seed=2) * 1]).value_counts()
    assert counts.index[0] == post[KEYS[0]].iloc[0]


def test_ranking_robustness_on_a_constructed_case():
    # A below B in draws 0-6, above in 7-9; C above both everywhere; a tie between A and B nowhere.
    a = [1, 1, 1, 1, 1, 1, 1, 5, 5, 5]
    b = [2] * 10
    c = [9] * 10
    ends = pd.DataFrame(
        [
            {"scenario": s, "point": 0, "replicate": k, "value": float(v)}
            for s, vals in (("A", a), ("B", b), ("C", c))
            for k, v in enumerate(vals)
        ]
    )
    r = ranking_robustness(ends).set_index(["scenario_a", "scenario_b"])
    assert r.loc[("A", "B"), "share_a_lower"] == pytest.approx(0.7)
    assert r.loc[("A", "B"), "share_b_lower"] == pytest.approx(0.3)
    assert r.loc[("A", "B"), "majority"] == "A"
    assert r.loc[("A", "C"), "share_a_lower"] == 1.0 and r.loc[("B", "C"), "majority_share"] == 1.0
    assert len(r) == 3


def test_flip_discovery_finds_the_parameter_that_flips_the_ranking():
    rng = np.random.default_rng(5)
    n = 40
    params = pd.DataFrame(
        {
            "market.export_demand_growth_per_year": rng.uniform(0, 0.16, n),
            "farmer.expectation_rate": rng.uniform(0, 1, n),
        },
        index=pd.RangeIndex(n, name="replicate"),
    )
    flips = params["market.export_demand_growth_per_year"] > 0.12  # A above B only when demand grows fast
    ends = pd.DataFrame(
        [{"scenario": "A", "point": 0, "replicate": k, "value": 3.0 if flips[k] else 1.0} for k in range(n)]
        + [{"scenario": "B", "point": 0, "replicate": k, "value": 2.0} for k in range(n)]
    )
    d = flip_discovery(ends, params, "A", "B")
    assert d["majority"] == "A" and d["flips"] == int(flips.sum())
    top = next(iter(d["importance"]))
    assert top == "market.export_demand_growth_per_year"
    assert d["importance"][top] > 0.9
    assert any(c.startswith("market.export_demand_growth_per_year >") for c in d["region"])
    assert d["region_flips"] == d["region_draws"] == int(flips.sum())
    assert "tree" in d["method"]
    same = ends.assign(value=np.where(ends["scenario"] == "A", 1.0, 2.0))
    assert flip_discovery(same, params, "A", "B") is None


def test_uncertainty_label_reads_the_manifest():
    assert (
        uncertainty_label({"experiment": {"parameter_draws": "p.parquet", "n_draws": 5}})
        == RUNS_AND_PARAMETERS
    )
    assert uncertainty_label({"experiment": {"parameter_draws": None}}) == RUNS_ONLY
    assert uncertainty_label({"scenarios": [{"resolved": {"parameter_draws": "x"}}]}) == RUNS_AND_PARAMETERS


def vraem(*args):
    return subprocess.run(
        [sys.executable, "-m", "vraem.cli", *args], capture_output=True, text=True, timeout=120
    )


def assert_one_line(proc, *needles):
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("make", "body", "needles"),
    [
        (
            None,
            "parameter_draws: missing.parquet\nn_draws: 3\n",
            ["parameter_draws", "missing.parquet", "not found"],
        ),
        (
            "corrupt",
            "parameter_draws: posterior.parquet\nn_draws: 3\n",
            ["parameter_draws", "not a readable Parquet"],
        ),
        (
            "extra",
            "parameter_draws: posterior.parquet\nn_draws: 3\n",
            ["parameter_draws", "'coca_ha'", "not model parameters"],
        ),
        (
            "ok",
            "parameter_draws: posterior.parquet\nn_draws: 21\n",
            ["parameter_draws", "n_draws", "20 particles"],
        ),
        ("ok", "parameter_draws: posterior.parquet\n", ["n_draws", "required"]),
        ("ok", "n_draws: 3\nreplicates: 3\n", ["n_draws", "needs parameter_draws"]),
        (
            "ok",
            "parameter_draws: posterior.parquet\nn_draws: 3\nreplicates: 5\n",
            ["replicates must equal n_draws"],
        ),
    ],
)
def test_bad_posterior_input_is_one_line_and_exit_2(tmp_path, make, body, needles):
    post = tmp_path / "posterior.parquet"
    if make == "corrupt":
        post.write_bytes(b"PAR1 this is not parquet")
    elif make == "extra":
        write_posterior(post, extra={"coca_ha": 1.0})
    elif make == "ok":
        write_posterior(post)
    exp = write_experiment(tmp_path, body)
    with pytest.raises(ExperimentError):
        load_experiment(exp)
    assert_one_line(vraem("sweep", str(exp), "--out", str(tmp_path / "out")), str(exp), *needles)


def test_bad_posterior_in_a_scenario_is_one_line(tmp_path):
    sc = tmp_path / "sc.yaml"
    sc.write_text("name: x\nparameter_draws: nowhere.parquet\nn_draws: 2\n")
    assert_one_line(
        vraem("run", str(sc), "--out", str(tmp_path / "o")), str(sc), "nowhere.parquet", "not found"
    )
    write_posterior(tmp_path / "p.parquet")
    sc.write_text(
        "name: x\nmonths: 2\nparameters: {farmer: {n_households: 300}}\n"
        "parameter_draws: p.parquet\nn_draws: 2\n"
    )
    assert_one_line(vraem("run", str(sc), "--replicates", "3", "--out", str(tmp_path / "o")), "n_draws: 2")
