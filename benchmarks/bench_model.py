"""Speed and memory of single runs: full valley and classroom scale.

Run with ``make bench``. Each configuration runs in a fresh subprocess (so peak memory is that
run's alone) several times; the script prints the median seconds per run (set-up included),
milliseconds per monthly step and peak resident memory. Targets (issue 2): full scale (20,000
households, all agents, 240 months) <= 3 s and <= 1 GB on one core; the aim is about 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel
n, months, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sc = load_scenario(name, {"farmer.n_households": n, "months": months})
t0 = time.perf_counter()
m = VraemModel(params=sc.parameters, policy=sc.policy, seed=1, months=months, map_months=sc.map_months)
t1 = time.perf_counter()
m.run()
t2 = time.perf_counter()
m.results()
t3 = time.perf_counter()
print(json.dumps({"setup_s": t1 - t0, "run_s": t2 - t1, "collect_s": t3 - t2, "total_s": t3 - t0,
                  "agents": len(m.agents),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(n: int, months: int, scenario: str, repeats: int) -> dict:
    """Median of ``repeats`` fresh-process runs."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(months), scenario],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    med["ms_per_step"] = 1000 * med["run_s"] / months
    med["spread_total_s"] = (min(r["total_s"] for r in runs), max(r["total_s"] for r in runs))
    return med


def main() -> None:
    """Print the table of measurements."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scenario", default="integrated", help="a busy scenario: every mechanism active")
    args = ap.parse_args()
    print(f"scenario {args.scenario}, 240 months, median of {args.repeats} fresh processes")
    print(
        f"{'households':>10} {'agents':>7} {'setup s':>8} {'run s':>7} {'total s':>8} {'ms/step':>8} "
        f"{'peak MB':>8}  total range s"
    )
    for n in (20_000, 2_000):
        r = measure(n, 240, args.scenario, args.repeats)
        lo, hi = r["spread_total_s"]
        print(
            f"{n:>10} {int(r['agents']):>7} {r['setup_s']:>8.2f} {r['run_s']:>7.2f} {r['total_s']:>8.2f} "
            f"{r['ms_per_step']:>8.2f} {r['peak_rss_mb']:>8.0f}  {lo:.2f}-{hi:.2f}"
        )
    print("targets: full scale <= 3 s and <= 1024 MB (aim about 1 s)")


if __name__ == "__main__":
    main()
