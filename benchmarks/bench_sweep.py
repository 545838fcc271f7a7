"""Sweep benchmark (``make bench-sweep``): throughput with 1 and 2 workers, driver memory.

1. Runs per minute at 2,000 households (240 months) on a local Dask cluster of 1 and of 2
   worker processes, timed from the first submission to the last commit, with the workers
   already started and warmed up (the model imported). Median of ``--repeats`` sweeps each.
2. Peak resident memory (ru_maxrss) of the sweep's driver process for 100 and for 1,000 runs,
   each in a fresh process (the workers are separate processes and not counted). A flat
   figure means results stream to disk instead of piling up in the driver.

Run from the project root: ``.venv/bin/python benchmarks/bench_sweep.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXPERIMENT = """
name: bench
scenarios: [status_quo]
replicates: {runs}
base_seed: 1
overrides: {{farmer.n_households: {households}, months: {months}}}
"""


def experiment(folder: Path, runs: int, households: int, months: int = 240):
    from vraem.sweep import load_experiment

    path = folder / f"bench-{runs}-{households}.yaml"
    path.write_text(EXPERIMENT.format(runs=runs, households=households, months=months))
    return load_experiment(path)


def throughput(workers: int, runs: int, repeats: int) -> list[float]:
    """Runs per minute of ``repeats`` sweeps on one warmed-up local cluster."""
    from distributed import Client, LocalCluster

    from vraem.runner import run_once
    from vraem.sweep import run_sweep

    rates = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # loopback, any free port (None still serves 8787)
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        exp = experiment(Path(tmp), runs, 2_000)
        warm = experiment(Path(tmp), workers, 2_000, months=1)
        client.gather(
            [
                client.submit(run_once, s.scenario, s.replicate, s.seed, pure=False)
                for s in warm.runs()
            ]
        )
        for k in range(repeats):
            t0 = time.perf_counter()
            summary = run_sweep(exp, Path(tmp) / f"out{k}", client=client, note=lambda _: None)
            seconds = time.perf_counter() - t0
            assert summary.complete, summary
            rates.append(runs / seconds * 60)
    return rates


def driver_memory(runs: int) -> dict:
    """Peak RSS of a fresh driver process running a sweep of ``runs`` runs (2 workers)."""
    code = f"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from bench_sweep import experiment
from vraem.sweep import run_sweep
if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        exp = experiment(Path(tmp), {runs}, 500)
        t0 = time.perf_counter()
        s = run_sweep(exp, Path(tmp) / "out", workers=2, note=lambda _: None)
        assert s.complete
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        seconds = time.perf_counter() - t0
        print(json.dumps({{"runs": {runs}, "seconds": seconds, "peak_rss_mb": rss}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="sweeps per worker count (median)")
    ap.add_argument("--runs", type=int, default=30, help="runs per throughput sweep")
    ap.add_argument("--skip-memory", action="store_true", help="only the throughput part")
    args = ap.parse_args()

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} (other processes skew the figures)")
    print(f"throughput: {args.runs} runs of status_quo at 2,000 households x 240 months per sweep")
    medians = {}
    for workers in (1, 2):
        rates = throughput(workers, args.runs, args.repeats)
        medians[workers] = statistics.median(rates)
        shown = ", ".join(f"{r:.1f}" for r in rates)
        print(f"  {workers} worker(s): median {medians[workers]:.1f} runs/min  (sweeps: {shown})")
    print(f"  speed-up with 2 workers: {medians[2] / medians[1]:.2f}x (target >= 1.7x)")

    if not args.skip_memory:
        print("driver peak memory (status_quo, 500 households x 240 months, 2 workers):")
        for runs in (100, 1_000):
            m = driver_memory(runs)
            print(f"  {runs:>5} runs: peak RSS {m['peak_rss_mb']:.0f} MB ({m['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
