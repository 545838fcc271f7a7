"""Time to a converged posterior: one variant's ABC-SMC calibration until its final generation's ESS >= 500.

``make bench-calibrate`` (or ``python benchmarks/bench_calibrate.py [--variant full] [--workers 2]``)
runs the shipped calibration config (model/vraem/data/calibration.yaml) for one variant into
``results/bench_calibrate/`` and prints the wall time of ABC-SMC, the final generation's effective
sample size and epsilon, and the number of model runs. The target of issue 17: ESS >= 500 in at
most 30 minutes on a 2-core machine. Exit 1 when the final ESS stays below the config's target.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> int:
    """Run one variant's calibration and print its time to ESS >= target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", default="full")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default="results/bench_calibrate")
    ap.add_argument("--config", default=None, help="calibration YAML (default: the shipped one)")
    args = ap.parse_args()

    from vraem.calibration import load_config, run_calibration

    cfg = load_config(args.config, args.variant)
    load = os.getloadavg()[0]
    print(f"calibrate {args.variant}: population {cfg.population_size}, {len(cfg.parameters)} parameters, "
          f"{cfg.households} households, {args.workers} worker(s); load average {load:.1f}")
    t0 = time.perf_counter()
    manifest = run_calibration(cfg, args.out, workers=args.workers, note=print)
    total = time.perf_counter() - t0
    print("generation  epsilon  simulations  acceptance  ESS  wall s")
    for g in manifest["generations"]:
        print(f"{g['generation']:>10}  {g['epsilon']:7.3f}  {g['samples']:>11}  "
              f"{g['acceptance_rate']:10.3f}  {g['ess']:5.0f}  {g['wall_seconds']:6.0f}")
    ess = manifest["effective_sample_size"]
    status = "reached" if manifest["converged"] else "NOT reached"
    print(f"final ESS {ess:.0f} ({status} {cfg.target_ess:.0f}), epsilon {manifest['final_epsilon']:.3f}, "
          f"{manifest['simulations']} simulations: ABC-SMC {manifest['abc_seconds'] / 60:.1f} min, "
          f"with the posterior predictive {total / 60:.1f} min")
    cpu = manifest["abc_cpu_seconds"]
    print(f"ABC-SMC CPU of all processes {cpu / 60:.1f} min: on a dedicated {args.workers}-core machine "
          f"about {cpu / args.workers / 60:.1f} min of wall time; the wall time above includes other jobs")
    return 0 if manifest["converged"] else 1


if __name__ == "__main__":
    sys.exit(main())
