"""Speed of the full valley against a per-agent Mesa loop of the same size, and peak memory.

Run with ``make bench``. In one process, alternating, it times

- the reference: one Mesa ``Agent`` per household (20,000), each with a ``step()`` of three lines of
  trivial arithmetic, run by ``model.agents.shuffle_do("step")`` for 240 steps (set-up included);
- the model: ``VraemModel`` with 20,000 households, scenario ``integrated`` (every mechanism
  active), 240 months, set-up and the output table included;

and prints the medians of wall-clock and CPU time and the ratios (reference time / model time).
Timing both side by side makes the ratio hold on a busy machine, where single timings do not; CPU
time is the figure the target is checked on, because on a shared machine the wall-clock time of
either run depends on how often it is descheduled (the pairwise wall ratios spread widely). Then,
in fresh processes, it measures the model's peak resident memory (``ru_maxrss``: interpreter and
imports included) at full and classroom scale. Targets (issue 11): the model at least 6x faster
than the reference loop, and peak memory at or below 500 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import mesa

from vraem.scenario import load_scenario
from vraem.simulation import VraemModel

HOUSEHOLDS = 20_000
MONTHS = 240
TARGET_RATIO = 6.0
TARGET_PEAK_MB = 500.0


class ReferenceHousehold(mesa.Agent):
    """A household reduced to three lines of arithmetic: the cheapest per-agent model there is."""

    def __init__(self, model: ReferenceValley) -> None:
        super().__init__(model)
        self.expected_price = 1.0
        self.coca_ha = 1.0
        self.income = 0.0

    def step(self) -> None:
        """Adapt a price expectation, adjust the coca area, book the income."""
        self.expected_price += 0.02 * (self.model.price - self.expected_price)
        self.coca_ha = min(self.coca_ha + 0.01 * (self.expected_price - 1.0), 3.0)
        self.income = self.coca_ha * self.expected_price


class ReferenceValley(mesa.Model):
    """The reference loop: every household steps once a month, in random order."""

    def __init__(self, n: int, seed: int = 1) -> None:
        super().__init__(rng=seed)
        self.price = 1.2
        ReferenceHousehold.create_agents(self, n)

    def step(self) -> None:
        """One month."""
        self.agents.shuffle_do("step")


def time_reference(n: int, months: int) -> tuple[float, float]:
    """Wall and CPU seconds to build the reference valley and run it."""
    t0, c0 = time.perf_counter(), time.process_time()
    m = ReferenceValley(n)
    for _ in range(months):
        m.step()
    return time.perf_counter() - t0, time.process_time() - c0


def time_model(n: int, months: int, scenario: str) -> tuple[float, float, int]:
    """Wall and CPU seconds to build the model, run it and produce its output table, and its
    household-months (households present at the start of each month, summed: an open valley
    gains and loses households)."""
    sc = load_scenario(scenario, {"farmer.n_households": n, "months": months})
    t0, c0 = time.perf_counter(), time.process_time()
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=1, months=months, map_months=sc.map_months)
    m.run()
    table = m.results()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, int(table["households"].iloc[:months].sum())


PEAK_CHILD = r"""
import json, resource, sys, time
import mesa
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel
n, months, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sc = load_scenario(name, {"farmer.n_households": n, "months": months})
t0 = time.perf_counter()
m = VraemModel(params=sc.parameters, policy=sc.policy, seed=1, months=months, map_months=sc.map_months)
t1 = time.perf_counter()
m.run()
m.results()
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
built = len(mesa.Model.agents.fget(m))  # Mesa agents the run built (households are built on first read)
print(json.dumps({"setup_s": t1 - t0, "run_s": t2 - t1, "agents": built, "peak_rss_mb": peak}))
"""


def fresh_process_run(n: int, months: int, scenario: str, env: dict | None = None) -> dict:
    """One run in a fresh interpreter: its set-up and run seconds and its peak resident memory."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK_CHILD, str(n), str(months), scenario],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    """Print the side-by-side timing, the ratio and the peak memory."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="alternating pairs of runs")
    ap.add_argument("--scenario", default="integrated", help="a busy scenario: every mechanism active")
    ap.add_argument("--households", type=int, default=HOUSEHOLDS)
    args = ap.parse_args()
    n = args.households

    time_reference(n, 3)  # warm up imports and caches, not counted
    time_model(n, 3, args.scenario)
    ref, model = [], []
    for _ in range(args.repeats):
        gc.collect()
        ref.append(time_reference(n, MONTHS))
        gc.collect()
        model.append(time_model(n, MONTHS, args.scenario))
    print(f"{n:,} households, {MONTHS} months, {args.repeats} alternating pairs in one process")
    print(f"  {'':46} {'wall s':>7} {'CPU s':>7}   (median; range of CPU s)")
    rows = (("reference Mesa loop (shuffle_do, 3-line step)", ref), (f"model, {args.scenario}", model))
    for label, runs in rows:
        wall, cpu = (statistics.median(r[j] for r in runs) for j in (0, 1))
        lo, hi = min(r[1] for r in runs), max(r[1] for r in runs)
        print(f"  {label:46} {wall:7.2f} {cpu:7.2f}   ({lo:.2f}-{hi:.2f})")
    ratios = {}
    for j, clock in ((1, "CPU"), (0, "wall")):
        pairs = sorted(r[j] / m[j] for r, m in zip(ref, model, strict=True))
        ratios[clock] = statistics.median(r[j] for r in ref) / statistics.median(m[j] for m in model)
        print(
            f"  ratio reference/model, {clock + ' time:':10} {ratios[clock]:5.2f}x "
            f"(ratio of medians; pairs {pairs[0]:.2f}-{pairs[-1]:.2f}x)"
        )
    household_months = model[0][2]
    ns = 1e9 * statistics.median(m[1] for m in model) / household_months
    print(
        f"  model: {ns:.1f} ns of CPU per household-month ({household_months / MONTHS:,.0f} households "
        "a month on average); `make bench-compare` sets it beside the code before issue 16's rules"
    )
    met = "met" if ratios["CPU"] >= TARGET_RATIO else "NOT met"
    print(f"  target: model >= {TARGET_RATIO:.0f}x faster in CPU time (not inflated by descheduling): {met}")

    print("fresh process per run (peak resident memory includes the interpreter and imports):")
    print(f"  {'households':>10} {'agents built':>12} {'setup s':>8} {'run s':>7} {'peak MB':>8}")
    peaks = []
    for size in (n, 1_500):
        r = fresh_process_run(size, MONTHS, args.scenario)
        peaks.append(r["peak_rss_mb"])
        setup, run, peak = r["setup_s"], r["run_s"], r["peak_rss_mb"]
        print(f"  {size:>10,} {r['agents']:>12,} {setup:>8.2f} {run:>7.2f} {peak:>8.0f}")
    print(
        f"  peak memory target <= {TARGET_PEAK_MB:.0f} MB: "
        f"{'met' if max(peaks) <= TARGET_PEAK_MB else 'NOT met'}"
    )
    # The kernels compile on a process's first run when no cached copy fits the sources (a fresh
    # install, or after an edit); later processes load them from the cache.
    with tempfile.TemporaryDirectory() as empty:
        cold = fresh_process_run(n, MONTHS, args.scenario, env={**os.environ, "NUMBA_CACHE_DIR": empty})
    print(
        f"  first run with an empty kernel cache (compiles the kernels): set-up {cold['setup_s']:.2f} s, "
        f"run {cold['run_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
