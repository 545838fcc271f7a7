"""Sweeps on Dask with real processes: equal to local runs, resumable after SIGKILL, failures kept.

The cluster tests start ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 and drive
``vraem sweep`` as a subprocess, as a user would.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.processes import wait_for_log_lines
from vraem.results import load_results
from vraem.runner import run_once, run_scenarios
from vraem.scenario import load_scenario
from vraem.sweep import load_experiment, run_sweep
from vraem.sweep.engine import clear_results, open_sweep_folder
from vraem.sweep.experiment import ExperimentError
from vraem.sweep.store import LOG, SweepStore, read_table

BIN = Path(sys.executable).parent
SMALL = """
name: small
scenarios: [status_quo, eradication_first]
replicates: 2
base_seed: 11
overrides: {{months: {months}, farmer.n_households: {households}}}
design:
  kind: grid
  parameters:
    farmer.p_replant: [0.2, 0.8]
"""


def small_experiment(
    tmp_path: Path, months: int = 12, households: int = 300, replicates: int = 2
) -> Path:
    path = tmp_path / "small.yaml"
    text = SMALL.format(months=months, households=households).replace(
        "replicates: 2", f"replicates: {replicates}"
    )
    path.write_text(text)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(tmp_path: Path, n_workers: int = 2):
    """Real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1: (address, workers)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    logs = tmp_path / "dask-logs"
    logs.mkdir(exist_ok=True)
    procs: list[subprocess.Popen] = []

    def start(args: list[str], name: str) -> subprocess.Popen:
        with (logs / f"{name}.log").open("wb") as log:
            p = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
                env=env,
                start_new_session=True,
            )
        procs.append(p)
        return p

    try:
        start(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            "scheduler",
        )
        workers = [
            start(
                [
                    str(BIN / "dask"),
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(tmp_path / "dask-scratch"),
                    "--name",
                    f"w{i}",
                ],
                f"worker{i}",
            )
            for i in range(n_workers)
        ]
        wait_for_workers(logs / "scheduler.log", n_workers)
        yield address, workers
    finally:  # workers first, then the scheduler, each asked to stop (SIGTERM)
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            with contextlib.suppress(ProcessLookupError):  # leave no orphan behind
                os.killpg(p.pid, signal.SIGKILL)


def wait_for_workers(scheduler_log: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (
            scheduler_log.exists()
            and scheduler_log.read_text(errors="replace").count("Register worker") >= n
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(
        f"{n} dask workers did not register:\n{scheduler_log.read_text(errors='replace')}"
    )


def vraem(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "vraem"), *args], capture_output=True, text=True, timeout=240, **kw
    )


def assert_same_as_local(exp_path: Path, out: Path) -> None:
    exp = load_experiment(exp_path)
    res = load_results(out)
    months = exp.grid[("status_quo", 0)].months
    assert set(res.table["run_id"]) == exp.run_ids()
    assert (res.table.groupby("run_id").size() == months + 1).all()  # each run once
    for spec in exp.runs():  # every run equals the same run made here with the same seed
        run_id = spec.run_id
        got = res.table[res.table["run_id"] == run_id].reset_index(drop=True)
        want = run_once(spec.scenario, spec.replicate, spec.seed).table
        pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)
        assert (got["farmer.p_replant"] == (0.2 if "/p0/" in run_id else 0.8)).all()


def test_sweep_on_a_dask_cluster_equals_local_runs(tmp_path):
    exp_path = small_experiment(tmp_path)
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, _):
        r = vraem("sweep", str(exp_path), "--scheduler", address, "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "8/8 runs done" in r.stdout
    assert_same_as_local(exp_path, out)
    workers = {rec["worker"] for rec in map(json.loads, (out / LOG).read_text().splitlines())}
    assert len(workers) == 2  # both worker processes took runs

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep"
    assert manifest["points"] == [
        {"point": 0, "params": {"farmer.p_replant": 0.2}},
        {"point": 1, "params": {"farmer.p_replant": 0.8}},
    ]
    assert [s["name"] for s in manifest["scenarios"]] == ["status_quo", "eradication_first"]
    assert manifest["replicates"] == 2
    assert manifest["base_seed"] == 11
    assert {"git_commit", "packages", "created", "experiment_yaml", "experiment"} <= set(manifest)
    assert manifest["status"] == {"total": 8, "done": 8, "failed": 0}

    res = load_results(out)
    assert res.kind == "sweep"
    assert res.district is not None
    assert res.district.shape == res.maps[("status_quo", 1, 0, 0)].shape
    assert {k[:3] for k in res.maps} == {
        (s, p, 0) for s in ("status_quo", "eradication_first") for p in (0, 1)
    }

    again = vraem("sweep", str(exp_path), "--scheduler", address, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "8/8 runs done (0 this time, 8 before)" in again.stdout


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_to_exactly_the_expected_runs(tmp_path):
    # More runs than the engine commits in one batch (64): each session is killed, or loses a
    # worker, after a commit that cannot hold all the runs, however fast the model runs.
    runs = 200
    exp_path = small_experiment(tmp_path, months=36, households=500, replicates=runs // 4)
    out = tmp_path / "out"
    with dask_cluster(tmp_path) as (address, workers):
        args = [
            str(BIN / "vraem"),
            "sweep",
            str(exp_path),
            "--scheduler",
            address,
            "--out",
            str(out),
        ]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        logged = wait_for_log_lines(out / LOG, 1, proc, timeout=120)
        proc.kill()  # SIGKILL: no clean-up at all
        proc.wait()
        assert 1 <= logged < runs
        # the next session: one worker is lost mid-way and the sweep still completes
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_log_lines(out / LOG, logged + 2, proc, timeout=120)
        os.killpg(workers[0].pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stdout + stderr
    assert f"{runs}/{runs} runs done" in stdout
    exp = load_experiment(exp_path)
    table = read_table(out, ["run_id"])
    assert set(table["run_id"]) == exp.run_ids()
    assert (table.groupby("run_id").size() == 37).all()  # no run twice
    assert len(list((out / "parts").glob(".tmp-*"))) == 0


def test_interrupted_folder_is_consistent_for_readers(tmp_path):
    """A part renamed but not logged, a torn log line: nothing lost, nothing doubled."""
    exp_path = small_experiment(tmp_path, replicates=1)
    exp = load_experiment(exp_path)
    out = tmp_path / "out"
    open_sweep_folder(exp, out, note=lambda _: None)
    specs = list(exp.runs())
    tables = {
        s.run_id: run_once(s.scenario, s.replicate, s.seed).table.assign(
            run_id=s.run_id, point=s.point
        )
        for s in specs
    }
    rec = lambda s: {"run_id": s.run_id, "status": "ok"}  # noqa: E731
    store = SweepStore(out)
    store.commit([tables[specs[0].run_id], tables[specs[1].run_id]], [rec(specs[0]), rec(specs[1])])
    store.commit([tables[specs[1].run_id]], [rec(specs[1])])  # the same run logged twice
    store.close()
    # a part renamed but never logged, a temporary file, and a torn last line
    (out / "parts" / "part-orphan-000001.parquet").write_bytes(
        (out / "parts").glob("*.parquet").__next__().read_bytes()
    )
    (out / "parts" / ".tmp-abc").write_bytes(b"partial")
    with (out / LOG).open("ab") as f:
        f.write(b'{"run_id": "status_quo/p1/r0", "sta')
    t = read_table(out, ["run_id"])
    assert sorted(t["run_id"].unique()) == sorted([specs[0].run_id, specs[1].run_id])
    assert (t.groupby("run_id").size() == 13).all()
    store = SweepStore(out)  # a new session repairs the folder
    assert store.done() == {specs[0].run_id, specs[1].run_id}
    assert not (out / "parts" / "part-orphan-000001.parquet").exists()
    assert not (out / "parts" / ".tmp-abc").exists()
    assert (out / LOG).read_bytes().endswith(b"}\n")
    store.close()


def failing_run(scenario, replicate, seed):
    if replicate == 1:
        raise RuntimeError("model blew up")
    return run_once(scenario, replicate, seed)


def test_a_run_that_raises_is_logged_and_retried_on_resume(tmp_path):
    from distributed import Client, LocalCluster

    exp = load_experiment(small_experiment(tmp_path))
    out = tmp_path / "out"
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            dashboard_address="127.0.0.1:0",  # loopback, any free port (None still serves 8787)
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        first = run_sweep(exp, out, client=client, run=failing_run, note=lambda _: None)
        assert (first.done, first.failed, first.total) == (4, 4, 8)
        assert not first.complete
        assert {rid for rid, _ in first.failures} == {r for r in exp.run_ids() if r.endswith("/r1")}
        assert all(err == "RuntimeError: model blew up" for _, err in first.failures)
        log = [json.loads(line) for line in (out / LOG).read_text().splitlines()]
        failed = [r for r in log if r["status"] == "failed"]
        assert len(failed) == 4
        assert "model blew up" in failed[0]["traceback"]
        assert set(load_results(out).table["replicate"]) == {0}

        second = run_sweep(exp, out, client=client, note=lambda _: None)
        assert (second.done, second.failed, second.ran, second.skipped) == (8, 0, 4, 4)
    assert json.loads((out / "manifest.json").read_text())["status"]["failed"] == 0


def test_cli_exit_status_reports_failures(tmp_path, monkeypatch):
    """``vraem sweep`` exits 1 and says how many failed when runs raise."""
    from typer.testing import CliRunner

    import vraem.sweep.engine as engine
    from vraem.cli import app

    def fake_run_sweep(loaded, out, **kw):
        s = engine.SweepSummary(
            Path(out), total=8, done=6, failed=2, ran=8, failures=[("a/p0/r1", "RuntimeError: x")]
        )
        return s

    monkeypatch.setattr("vraem.sweep.engine.run_sweep", fake_run_sweep)
    result = CliRunner().invoke(
        app, ["sweep", str(small_experiment(tmp_path)), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "6/8 runs done" in result.stdout
    assert "2 failed" in result.stdout
    assert "a/p0/r1: RuntimeError: x" in result.stderr


def test_resuming_into_a_folder_of_another_experiment_is_refused(tmp_path):
    exp_path = small_experiment(tmp_path)
    out = tmp_path / "out"
    open_sweep_folder(load_experiment(exp_path), out, note=lambda _: None)
    other = load_experiment(exp_path, {"months": 13})
    with pytest.raises(ExperimentError, match="holds a sweep with different experiment"):
        open_sweep_folder(other, out, note=lambda _: None)
    r = vraem("sweep", str(exp_path), "--set", "months=13", "--out", str(out))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    clear_results(out)  # what --restart does first
    open_sweep_folder(other, out, note=lambda _: None)
    assert json.loads((out / "manifest.json").read_text())["experiment"]["overrides"]["months"] == 13


def test_local_cluster_of_worker_processes(tmp_path):
    exp_path = small_experiment(tmp_path)
    out = tmp_path / "out"
    r = vraem("sweep", str(exp_path), "--workers", "2", "--out", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "sweep: 8/8 runs (100%)" in r.stdout  # plain progress lines when not on a terminal
    assert_same_as_local(exp_path, out)


def test_load_results_still_reads_run_folders(tmp_path):
    sc = load_scenario("status_quo", {"months": 12, "farmer.n_households": 300})
    run_scenarios([(sc, "", "status_quo")], tmp_path, replicates=2)
    res = load_results(tmp_path)
    assert res.kind == "run"
    assert (res.table["point"] == 0).all()
    assert ("status_quo", 0, 1, 0) in res.maps
    assert isinstance(res.district, np.ndarray)
    small = load_results(tmp_path, columns=["coca_ha"], maps=False)
    assert list(small.table.columns) == ["scenario", "point", "replicate", "month", "coca_ha"]
