"""Experiment files: shipped experiments, designs, seeds, and one-line errors (exit code 2)."""
# ruff: noqa: E501 -- the bad-file table keeps each YAML case on one line

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from vraem.cli import app
from vraem.runner import replicate_seed
from vraem.sweep import ExperimentError, load_experiment
from vraem.sweep.experiment import EXPERIMENT_DIR, LatinHypercubeDesign

POLICIES = [
    "status_quo",
    "eradication_first",
    "development_first",
    "integrated",
    "interdiction_heavy",
]


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_shipped_experiment_loads():
    files = sorted(EXPERIMENT_DIR.glob("*.yaml"))
    assert {f.stem for f in files} >= {"default", "policy_comparison", "replanting_sweep"}
    for f in files:
        if yaml.safe_load(f.read_text()).get("kind") in ("morris", "sobol"):
            with pytest.raises(ExperimentError, match="run it with vraem sensitivity"):
                load_experiment(f)  # test_sensitivity.py loads these with load_sensitivity
            continue
        assert load_experiment(f).n_runs > 0


def test_policy_comparison_is_the_five_policies_times_30():
    exp = load_experiment("policy_comparison")
    assert [e.name for e in exp.scenarios] == POLICIES
    assert exp.spec.replicates == 30
    assert exp.n_runs == 150


def test_replanting_sweep_changes_replanting_in_every_month():
    exp = load_experiment("replanting_sweep")
    assert [e.name for e in exp.scenarios] == [
        "eradication_first",
        "development_first",
        "integrated",
    ]
    values = [p["farmer.p_replant"] for p in exp.points]
    assert values[0] == pytest.approx(0.1)
    assert values[-1] == pytest.approx(0.9)
    for (name, i), sc in exp.grid.items():
        assert sc.parameters.farmer.p_replant == pytest.approx(values[i]), name
        # a phase's p_replant would override farmer.p_replant in that phase
        assert all(phase.p_replant is None for phase in sc.policy.phases), name


def test_default_experiment_is_small():
    exp = load_experiment("default")
    assert [e.name for e in exp.scenarios] == [
        "status_quo",
        "eradication_first",
        "development_first",
    ]
    households = exp.grid[("status_quo", 0)].parameters.farmer.n_households
    assert 2_000 <= households <= 20_000
    # Over every model variant (issue 17), whatever the shipped weights: the pooled draws plus at
    # most min_draws_per_variant for each variant. Household-runs within what 20 draws of the full
    # valley cost (60 x 20,000), so make run stays a few minutes.
    assert exp.spec.variants == "all"
    worst = exp.spec.n_draws + exp.spec.min_draws_per_variant * len(exp.ensemble.variants)
    assert exp.n_runs <= 3 * worst
    assert 3 * worst * households <= 60 * 20_000


def test_replicate_k_has_the_same_seed_in_every_scenario_and_point(tmp_path):
    exp = load_experiment(
        write(
            tmp_path,
            """
name: t
scenarios: [status_quo, eradication_first]
replicates: 3
base_seed: 7
design: {kind: grid, parameters: {farmer.p_replant: [0.2, 0.8], market.clan_margin: [0.1, 0.3]}}
""",
        )
    )
    runs = list(exp.runs())
    assert len(runs) == exp.n_runs == 2 * 4 * 3
    assert len({r.run_id for r in runs}) == len(runs) == len(exp.run_ids())
    for r in runs:
        assert r.seed == replicate_seed(7, r.replicate)
        assert r.scenario.parameters.farmer.p_replant == r.params["farmer.p_replant"]
        assert r.scenario.parameters.market.clan_margin == r.params["market.clan_margin"]
    # the last parameter varies fastest; replicates outermost
    assert [p["market.clan_margin"] for p in exp.points] == [0.1, 0.3, 0.1, 0.3]
    assert [r.replicate for r in runs[:8]] == [0] * 8


def test_latin_hypercube_is_seeded_stratified_and_in_bounds():
    spec = {
        "kind": "latin_hypercube",
        "samples": 20,
        "seed": 3,
        "parameters": {
            "farmer.p_replant": {"low": 0.1, "high": 0.9},
            "clan.n_clans": {"low": 10, "high": 50, "integer": True},
        },
    }
    a = LatinHypercubeDesign.model_validate(spec).points()
    b = LatinHypercubeDesign.model_validate(spec).points()
    c = LatinHypercubeDesign.model_validate({**spec, "seed": 4}).points()
    assert a == b
    assert a != c
    x = np.array([p["farmer.p_replant"] for p in a])
    assert ((x >= 0.1) & (x <= 0.9)).all()
    # one sample in each of the 20 equal strata
    assert sorted(np.floor((x - 0.1) / 0.8 * 20).astype(int).tolist()) == list(range(20))
    assert all(isinstance(p["clan.n_clans"], int) and 10 <= p["clan.n_clans"] <= 50 for p in a)


def test_points_design_and_phase_keys(tmp_path):
    exp = load_experiment(
        write(
            tmp_path,
            """
name: t
scenarios: [eradication_first]
replicates: 1
design:
  kind: points
  points:
    - policy.phases[0].p_replant: 0.2
      policy.phases[1].p_replant: 0.2
    - policy.phases[1].p_replant: 0.9
""",
        )
    )
    first, second = exp.grid[("eradication_first", 0)], exp.grid[("eradication_first", 1)]
    assert [ph.p_replant for ph in first.policy.phases] == [0.2, 0.2]
    assert [ph.p_replant for ph in second.policy.phases] == [None, 0.9]
    runs = {r.point: r.params for r in exp.runs()}
    assert runs[1] == {"policy.phases[0].p_replant": None, "policy.phases[1].p_replant": 0.9}


def test_overrides_apply_to_every_scenario_and_set_adds_to_them(tmp_path):
    path = write(
        tmp_path,
        "name: t\nscenarios: [status_quo, integrated]\nreplicates: 1\noverrides: {months: 12}\n",
    )
    exp = load_experiment(path, {"farmer.n_households": 300})
    for sc in exp.grid.values():
        assert sc.months == 12
        assert sc.parameters.farmer.n_households == 300


def test_scenario_paths_resolve_beside_the_experiment(tmp_path):
    (tmp_path / "mine.yaml").write_text("name: mine\nmonths: 12\n")
    exp = load_experiment(write(tmp_path, "name: t\nscenarios: [mine.yaml]\nreplicates: 1\n"))
    assert exp.scenarios[0].name == "mine"


BAD = {
    "unknown key": (
        "name: t\nscenarios: [status_quo]\nreplicates: 1\nrepeats: 3\n",
        "repeats: unknown key (allowed: base_seed, description, design",
    ),
    "unknown design key": (
        "name: t\nscenarios: [status_quo]\nreplicates: 1\ndesign: {kind: grid, parameters: {farmer.p_replant: [0.1]}, samples: 3}\n",
        "design.samples: unknown key (allowed: kind, parameters)",
    ),
    "bad value": (
        "name: t\nscenarios: [status_quo]\nreplicates: 0\n",
        "replicates must be >= 1 (got 0)",
    ),
    "wrong type": (
        "name: t\nscenarios: [status_quo]\nreplicates: many\n",
        "replicates: Input should be a valid integer",
    ),
    "bad design kind": (
        "name: t\nscenarios: [status_quo]\nreplicates: 1\ndesign: {kind: sobol}\n",
        "design.kind must be one of grid, latin_hypercube, points (got 'sobol')",
    ),
    "bad bounds": (
        "name: t\nscenarios: [status_quo]\nreplicates: 1\ndesign: {kind: latin_hypercube, samples: 4, parameters: {farmer.p_replant: {low: 0.9, high: 0.1}}}\n",
        "high must be greater than low",
    ),
    "unknown scenario": (
        "name: t\nscenarios: [status_qou]\nreplicates: 1\n",
        "scenarios: status_qou: unknown scenario (known:",
    ),
    "missing scenario file": (
        "name: t\nscenarios: [nowhere/x.yaml]\nreplicates: 1\n",
        "nowhere/x.yaml: file not found",
    ),
    "bad dotted parameter": (
        "name: t\nscenarios: [status_quo]\nreplicates: 1\ndesign: {kind: grid, parameters: {farmer.p_replnt: [0.1, 0.2]}}\n",
        "design farmer.p_replnt: unknown key 'p_replnt' at parameters.farmer (allowed:",
    ),
    "malformed dotted parameter": (
        "name: t\nscenarios: [status_quo]\nreplicates: 1\noverrides: {farmer..x: 1}\n",
        "farmer..x: not a dotted key",
    ),
    "phase index out of range": (
        "name: t\nscenarios: [integrated]\nreplicates: 1\ndesign: {kind: grid, parameters: {'policy.phases[3].p_replant': [0.1, 0.2]}}\n",
        "policy.phases has 1 entries, no index 3",
    ),
    "design value out of range": (
        "name: t\nscenarios: [integrated]\nreplicates: 1\ndesign: {kind: grid, parameters: {farmer.p_replant: [0.5, 1.5]}}\n",
        "scenario integrated at design point 1 (farmer.p_replant=1.5): parameters.farmer.p_replant must be <= 1.0 (got 1.5)",
    ),
    "design that changes nothing": (
        "name: t\nscenarios: [replanting_030]\nreplicates: 1\ndesign: {kind: grid, parameters: {'policy.phases[0].end_month': [24, 24]}}\n",
        "change nothing in scenario replanting_030",
    ),
    "not yaml": ("name: [t\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_gives_one_line_and_exit_2(tmp_path, case):
    text, expected = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert expected in message
    assert message.startswith(str(path))
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_missing_experiment_file(tmp_path):
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found"


def test_bad_set_option(tmp_path):
    path = write(tmp_path, "name: t\nscenarios: [status_quo]\nreplicates: 1\n")
    result = CliRunner().invoke(app, ["sweep", str(path), "--set", "farmer.p_replant"])
    assert result.exit_code == 2
    assert "expected dotted.key=VALUE" in result.stderr
