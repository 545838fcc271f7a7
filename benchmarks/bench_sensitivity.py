"""Sensitivity benchmark (``make bench-sensitivity``): how long the shipped screening takes.

The shipped screening (``experiments/screening.yaml``: Morris, every uncertain parameter, 2,000
households, 120 months, three scenarios) is ``trajectories x (parameters + 1) x 3`` runs. This
script runs a stated fraction of it, ``--trajectories`` of the file's trajectories (default 1, so
one eighth), through the real path (``vraem sensitivity`` on a local cluster of ``--workers``
processes, the folder, the analysis), and extrapolates the wall time to the whole screening by
the ratio of runs. Other processes on the machine slow it down, so it also prints:

- the load average before and after;
- the model's CPU seconds per run measured in this process (``time.process_time``, median of
  ``--probe`` runs at sampled points), and from it the idle-machine estimate
  ``runs x CPU seconds per run / workers``, which ignores the engine's overhead.

``--full`` runs the whole screening instead (no extrapolation).

Run from the project root: ``.venv/bin/python benchmarks/bench_sensitivity.py [--trajectories 1]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENING = ROOT / "experiments" / "screening.yaml"
LIMIT_MINUTES = 15.0


def cpu_seconds_per_run(n: int) -> tuple[float, float]:
    """Median CPU and wall seconds of ``n`` runs at points of the screening's own sample."""
    from vraem.runner import run_once
    from vraem.sensitivity import load_sensitivity

    design = load_sensitivity(SCREENING)
    runs = list(design.experiment.runs())
    step = max(1, len(runs) // n)
    cpu, wall = [], []
    for spec in runs[::step][:n]:
        c0, w0 = time.process_time(), time.perf_counter()
        run_once(spec.scenario, spec.replicate, spec.seed)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trajectories", type=int, default=1, help="trajectories to run (a fraction)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--probe", type=int, default=9, help="runs timed in this process for CPU s/run")
    ap.add_argument("--full", action="store_true", help="run the whole screening")
    args = ap.parse_args()

    text = SCREENING.read_text()
    full_traj = int(re.search(r"^trajectories:\s*(\d+)", text, re.M).group(1))
    traj = full_traj if args.full else args.trajectories
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "screening_part.yaml"
        exp.write_text(re.sub(r"^trajectories:\s*\d+", f"trajectories: {traj}", text, flags=re.M))
        out = Path(tmp) / "out"
        cmd = [str(Path(sys.executable).parent / "vraem"), "sensitivity", str(exp), "--out", str(out),
               "--workers", str(args.workers)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"vraem sensitivity failed:\n{proc.stdout}\n{proc.stderr}")
        done = re.search(r"(\d+)/(\d+) runs done", proc.stdout)
        runs = int(done.group(2))
    load_after = os.getloadavg()
    cpu, wall = cpu_seconds_per_run(args.probe)
    k = runs // (traj * 3) - 1
    full_runs = full_traj * (k + 1) * 3
    scale = full_runs / runs
    estimate = seconds * scale
    idle = full_runs * cpu / args.workers
    print(f"screening: morris, {k} parameters, {full_traj} trajectories -> {full_runs} runs")
    print(f"ran {traj} trajectory(ies) = {runs} runs with {args.workers} workers: {seconds:,.0f} s wall "
          "(start-up, runs, analysis and figures)")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (this machine: "
          f"{os.cpu_count()} cores)")
    word = "measured" if scale == 1 else f"extrapolated x{scale:.1f}"
    verdict = "within" if estimate <= LIMIT_MINUTES * 60 else "OVER"
    target = f"{verdict} the {LIMIT_MINUTES:.0f}-minute target"
    print(f"whole screening, {word}: {estimate / 60:,.1f} min ({target})")
    print(f"model CPU per run (median of {args.probe}, this process): {cpu:.3f} s (wall {wall:.3f} s)")
    print(f"idle-machine estimate (runs x CPU s / {args.workers} workers, engine overhead excluded): "
          f"{idle / 60:,.1f} min")


if __name__ == "__main__":
    main()
