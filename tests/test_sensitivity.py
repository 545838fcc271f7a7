"""``vraem sensitivity``: SALib on the sweep engine, checked against analytic functions and the model.

The analytic tests put Sobol's G function (known indices) in place of the model: the experiment
file, the SALib sample, the sweep engine and its Parquet store, the outcomes and the analysis are
the same code paths as for the model; only the run function differs (the engine's ``run`` hook).
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.processes import wait_for_log_lines
from vraem.runner import RunResult
from vraem.sensitivity import load_sensitivity, run_sensitivity
from vraem.sensitivity.design import SensitivityError
from vraem.sweep.store import LOG, read_table

BIN = Path(sys.executable).parent

# Sobol's G function on five parameters whose constraints allow [0, 1]: the smaller a_i, the more
# important x_i (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, 3.6).
G_KEYS = [
    "farmer.p_replant",
    "farmer.share_replant_remote",
    "clan.corruption",
    "mayor.p_linked",
    "programme.road_share",
]
G_A = np.array([0.0, 1.0, 4.5, 9.0, 99.0])


def g_run(scenario, replicate, seed):
    """A "model" whose coca_ha is Sobol's G function of five parameters, plus seeded noise."""
    from SALib.test_functions import Sobol_G

    dumped = scenario.parameters.model_dump()
    x = np.array([[dumped[g][n] for g, n in (k.split(".") for k in G_KEYS)]])
    y = float(Sobol_G.evaluate(x, G_A)[0])
    noise = np.random.default_rng(seed).normal(0.0, 0.01)
    months = np.arange(scenario.months + 1)
    table = pd.DataFrame(
        {
            "scenario": scenario.name,
            "replicate": replicate,
            "seed": seed,
            "month": months,
            "year": scenario.start_year + months / 12.0,
            "coca_ha": y + noise,
        }
    )
    return RunResult(table)


def g_experiment(tmp_path: Path, method: str) -> Path:
    params = "\n".join(f"  - {k}: [0.0, 1.0]" for k in G_KEYS)
    path = tmp_path / "g.yaml"
    path.write_text(
        f"""
name: g
{method}
sample_seed: 7
parameters:
{params}
scenarios: [status_quo]
replicates: 2
months: 2
outcomes:
  g: {{column: coca_ha, at_month: 2, scenario: status_quo}}
"""
    )
    return path


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            dashboard_address="127.0.0.1:0",  # any free port: 8787 may be taken
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def test_morris_recovers_the_ranking_of_sobols_g_function(tmp_path, client):
    design = load_sensitivity(g_experiment(tmp_path, "kind: morris\ntrajectories: 20\nlevels: 4"))
    assert design.sample.shape == (20 * 6, 5)
    out = tmp_path / "out"
    summary, analysis = run_sensitivity(design, out, client=client, run=g_run, note=lambda _: None)
    assert summary.complete and summary.total == 20 * 6 * 2
    got = analysis.indices.set_index("parameter").loc[G_KEYS]
    mu = got["mu_star"].to_numpy()
    assert list(np.argsort(-mu)) == [0, 1, 2, 3, 4]
    assert mu[4] < 0.05 * mu[0]  # a = 99: next to no effect
    assert np.isfinite(got[["mu_star", "mu_star_conf", "sigma"]].to_numpy()).all()
    assert got[["S1", "ST"]].isna().all().all()  # Morris does not produce these

    saved = pd.read_csv(out / "indices.csv")
    assert list(saved.columns[:10]) == [
        "outcome", "parameter", "method", "mu_star", "mu_star_conf", "sigma", "S1", "S1_conf", "ST",
        "ST_conf",
    ]
    assert (out / "figures" / "morris_g.png").exists() and (out / "figures" / "morris_g.svg").exists()
    session = json.loads((out / "manifest.json").read_text())["sessions"][-1]
    assert session["ran"] == summary.total and session["seconds"] > 0
    # the runs went through the sweep store: every point and replicate once, with its parameters
    table = read_table(out, ["point", "replicate", "month", *G_KEYS])
    assert len(table) == summary.total * 3
    assert np.allclose(table[table["month"] == 0].groupby("point")[G_KEYS].first().to_numpy(), design.sample)


@pytest.mark.slow
def test_sobol_recovers_the_indices_of_sobols_g_function(tmp_path, client):
    design = load_sensitivity(g_experiment(tmp_path, "kind: sobol\nbase_samples: 256"))
    assert design.sample.shape == (256 * 7, 5)
    _, analysis = run_sensitivity(design, tmp_path / "out", client=client, run=g_run, note=lambda _: None)
    got = analysis.indices.set_index("parameter").loc[G_KEYS]
    # analytic first-order indices of G: V_i / V with V_i = 1 / (3 (1 + a_i)^2)
    vi = 1.0 / (3.0 * (1.0 + G_A) ** 2)
    s1 = vi / (np.prod(1.0 + vi) - 1.0)
    assert list(np.argsort(-got["ST"].to_numpy()))[:3] == [0, 1, 2]
    assert got["S1"].iloc[0] == pytest.approx(s1[0], abs=0.1)
    assert got["ST"].iloc[4] < 0.01
    assert got["mu_star"].isna().all()
    assert (tmp_path / "out" / "figures" / "sobol_g.png").exists()


def test_a_changed_sample_is_refused_and_restart_clears(tmp_path, client):
    out = tmp_path / "out"
    first = load_sensitivity(g_experiment(tmp_path, "kind: morris\ntrajectories: 2"))
    run_sensitivity(first, out, client=client, run=g_run, note=lambda _: None)
    other = load_sensitivity(g_experiment(tmp_path, "kind: morris\ntrajectories: 3"))
    with pytest.raises(SensitivityError, match="different problem or sample"):
        run_sensitivity(other, out, client=client, run=g_run, note=lambda _: None)
    summary, analysis = run_sensitivity(
        other, out, client=client, run=g_run, note=lambda _: None, restart=True
    )
    assert analysis is not None and len(analysis.indices) == 5
    assert summary.total == 3 * 6 * 2 and summary.skipped == 0
    assert np.load(out / "sample.npy").shape == (18, 5)


def vraem(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "vraem"), *args], capture_output=True, text=True, timeout=600, **kw)


MODEL = """
name: small_{kind}
kind: morris
trajectories: {trajectories}
levels: 4
sample_seed: 3
parameters: {parameters}
scenarios: [eradication_first, development_first]
replicates: 1
months: {months}
overrides: {{farmer.n_households: 300}}
outcomes:
  gap: {{column: coca_ha, at_month: {months}, difference: development_first - eradication_first}}
  coca: {{column: coca_ha, mean_over: [1, {months}]}}
  forest: {{column: forest_cleared_ha, total_over: [1, {months}], scenario: eradication_first}}
  income: {{column: income_mean_usd, mean_over: [1, {months}], scenario: development_first}}
"""


@pytest.mark.slow
def test_morris_on_the_model_gives_finite_indices_for_every_parameter(tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text(MODEL.format(kind="all", trajectories=2, parameters="all", months=12))
    out = tmp_path / "out"
    r = vraem("sensitivity", str(path), "--out", str(out), "--workers", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    record = json.loads((out / "problem.json").read_text())
    k = record["problem"]["num_vars"]
    assert k > 80
    assert f"{2 * (k + 1) * 2}/{2 * (k + 1) * 2} runs done" in r.stdout
    indices = pd.read_csv(out / "indices.csv")
    outcomes = ["gap", "coca[eradication_first]", "coca[development_first]", "forest", "income"]
    assert list(dict.fromkeys(indices["outcome"])) == outcomes
    for outcome in outcomes:
        rows = indices[indices["outcome"] == outcome]
        assert len(rows) == k
        assert np.isfinite(rows[["mu_star", "mu_star_conf", "sigma"]].to_numpy()).all(), outcome
    gap = indices[indices["outcome"] == "gap"]
    assert gap["mu_star"].max() > 0  # the policies differ, and some parameter moves the gap
    assert "The parameter that moves this outcome most is" in r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["status"]["done"] == 2 * (k + 1) * 2

    report = vraem("report", str(out))
    assert report.returncode == 0, report.stdout + report.stderr
    html = (out / "report.html").read_text()
    assert "Which parameters matter" in html
    assert "data:image/png;base64," in html
    assert "gap" in html and "mu*" in html


@pytest.mark.slow
def test_a_killed_sensitivity_run_resumes_to_exactly_the_expected_runs(tmp_path):
    path = tmp_path / "few.yaml"
    params = "[farmer.p_replant, farmer.risk_weight, clan.corruption]"
    # More runs than the engine commits in one batch (64), so the first commit, after which the run
    # is killed, cannot hold them all however fast the model runs.
    path.write_text(MODEL.format(kind="few", trajectories=20, parameters=params, months=24))
    total = 20 * 4 * 2
    out = tmp_path / "out"
    args = [str(BIN / "vraem"), "sensitivity", str(path), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        logged = wait_for_log_lines(out / LOG, 1, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no clean-up at all, workers included
        proc.wait()
    assert 1 <= logged < total
    assert not (out / "indices.csv").exists()
    r = vraem(*args[1:])
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{total}/{total} runs done" in r.stdout
    assert "before)" in r.stdout and ", 0 before)" not in r.stdout
    table = read_table(out, ["run_id", "month"])
    assert table["run_id"].nunique() == total
    assert (table.groupby("run_id").size() == 25).all()  # no run twice
    indices = pd.read_csv(out / "indices.csv")
    assert len(indices) == 5 * 3 and np.isfinite(indices["mu_star"]).all()


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


GOOD = """
name: bad
kind: morris
trajectories: 2
parameters: [farmer.p_replant, farmer.risk_weight]
scenarios: [eradication_first, development_first]
months: 12
overrides: {farmer.n_households: 300}
outcomes:
  gap: {column: coca_ha, at_month: 12, difference: development_first - eradication_first}
"""


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ("farmer.p_replant,", "farmer.p_replnt,", ["parameters", "unknown parameter 'farmer.p_replnt'"]),
        (
            "farmer.p_replant,",
            "{farmer.p_replant: [0.2, 1.5]},",
            ["farmer.p_replant", "leaves the allowed values", "<= 1"],
        ),
        ("farmer.p_replant,", "{farmer.p_replant: [0.8, 0.2]},", ["farmer.p_replant", "above high"]),
        ("kind: morris", "kind: fast", ["kind must be one of morris, sobol", "'fast'"]),
        ("trajectories: 2", "trajectories: 0", ["trajectories", ">= 1"]),
        (
            "development_first - eradication_first",
            "development_first - eradication_frist",
            ["outcomes.gap.difference", "unknown scenario 'eradication_frist'"],
        ),
        ("parameters: [farmer.p_replant,", "parameters: [landscape.width,", ["is fixed", "size"]),
        ("at_month: 12,", "at_month: 13,", ["outcomes.gap", "beyond the runs' last month (12)"]),
        ("column: coca_ha", "column: coca", ["outcomes.gap.column", "unknown column 'coca'"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, old, new, needles):
    assert old in GOOD
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(SensitivityError) as exc:
        load_sensitivity(path)
    assert "\n" not in str(exc.value)
    for needle in needles:
        assert needle in str(exc.value), str(exc.value)
    assert str(exc.value).startswith(str(path))


def test_bad_input_on_the_command_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("trajectories: 2", "trajectories: 0"))
    assert_one_line_error(vraem("sensitivity", str(path)), str(path), "trajectories")
    assert_one_line_error(vraem("sensitivity", str(tmp_path / "none.yaml")), "file not found")


def test_the_shipped_experiments_load():
    screening = load_sensitivity("screening")
    k = screening.problem["num_vars"]
    assert screening.spec.kind == "morris" and k > 80
    assert screening.experiment.n_runs == screening.spec.trajectories * (k + 1) * 3
    assert any(o["difference"] == ["development_first", "eradication_first"] for o in screening.outcomes)
    sobol = load_sensitivity("sobol_policy_gap")
    assert sobol.spec.kind == "sobol" and 5 <= sobol.problem["num_vars"] <= 10
    assert math.log2(sobol.spec.base_samples).is_integer()


def test_rankings_in_words_follow_the_indices():
    from vraem.sensitivity.report import ranking_table, sentences

    record = {"problem": {"names": ["a.x", "a.y", "a.z"], "bounds": [[0, 1], [0, 2], [1, 3]]}}
    morris = pd.DataFrame(
        {
            "outcome": "o", "parameter": ["a.x", "a.y", "a.z"], "method": "morris",
            "mu_star": [1.0, 10.0, 0.1], "mu_star_conf": [0.5, 2.0, 0.1], "sigma": [0.2, 12.0, 0.0],
        }
    )
    words = " ".join(sentences(record, morris, "o"))
    assert "most is a.y: across its plausible range (0 to 2) it changes the outcome by about 10.0" in words
    assert "overlap" not in words  # 10 - 2 > 1: the leader is clear
    assert "1 of the 3 parameters have mu* below 5% of the largest" in words
    assert "For a.y sigma exceeds mu*" in words
    assert list(ranking_table(morris, "o")["parameter"]) == ["a.y", "a.x", "a.z"]
    sobol = pd.DataFrame(
        {
            "outcome": "o", "parameter": ["a.x", "a.y", "a.z"], "method": "sobol",
            "S1": [0.5, 0.2, 0.0], "S1_conf": [0.1] * 3, "ST": [0.55, 0.5, 0.01], "ST_conf": [0.1] * 3,
        }
    )
    words = " ".join(sentences(record, sobol, "o"))
    assert "most of this outcome's variance is a.x (range 0 to 1): 50% on its own (S1) and 55%" in words
    assert "The ST intervals overlap" in words
    assert "first-order indices add up to 70%: the rest of the variance comes from interactions" in words
    noisy = sobol.assign(S1=[0.9, 0.5, 0.0])
    assert "add up to 140%: more than the whole" in " ".join(sentences(record, noisy, "o"))
