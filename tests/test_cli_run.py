"""`vraem run` writes a tidy table, maps, a manifest and a plot, and prints a summary."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd


def test_run_writes_results(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vraem.cli",
            "run",
            "status_quo",
            "eradication_first",
            "--replicates",
            "2",
            "--months",
            "12",
            "--seed",
            "5",
            "--set",
            "farmer.n_households=300",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "status_quo" in proc.stdout and "eradication_first" in proc.stdout
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 2 * 2 * 13
    assert {"scenario", "replicate", "seed", "month", "year", "coca_ha"} <= set(table.columns)
    # Common random numbers: replicate k has the same seed in every scenario.
    seeds = table.groupby(["scenario", "replicate"])["seed"].first().unstack(0)
    assert (seeds["status_quo"] == seeds["eradication_first"]).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "run"
    assert {"git_commit", "packages", "created"} <= set(manifest)
    assert manifest["packages"]["mesa"].startswith("3.")
    rec = manifest["scenarios"][0]
    assert rec["resolved"]["parameters"]["farmer"]["n_households"] == 300
    assert "name: status_quo" in rec["yaml"]
    assert len(rec["seeds"]) == 2
    with np.load(out / "maps.npz") as maps:
        assert "district" in maps.files
        assert any(k.startswith("status_quo/r0/m0") for k in maps.files)
    assert (out / "coca_ha.png").stat().st_size > 10_000
