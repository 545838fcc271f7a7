"""CPU time per phase of a full-scale run: where the time goes (docs/performance.md).

Run with ``python benchmarks/bench_phases.py [N]``: wraps each phase function of
``VraemModel.step`` with ``time.process_time``, runs the full valley (20,000 households,
``integrated``, 240 months) N + 1 times (the first to warm up and load the kernels) and prints the
median milliseconds per phase and of the whole run.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

from vraem import economy, programme
from vraem import simulation as sim
from vraem.agents import cartel, clan, harvest, land, maturation, mayor, police
from vraem.scenario import load_scenario

PHASES = {
    economy: ("update_market",),
    land: ("allocate_land",),
    harvest: ("harvest",),
    maturation: ("mature_crops",),
    clan: ("buy_and_process", "sell_to_cartels", "rebuild_labs"),
    cartel: ("export", "rebuild_airstrips"),
    police: ("eradicate", "raid_labs", "destroy_airstrips"),
    mayor: ("decide",),
    programme: ("spend",),
}
MODEL_PHASES = ("_update_landscape", "_update_households_income", "_collect")


def timed(fn, label: str, acc: dict[str, float]):
    """``fn``, adding its CPU seconds to ``acc[label]`` at every call."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[label] = acc.get(label, 0.0) + time.process_time() - t0

    return wrapper


def main() -> None:
    """Print the median CPU milliseconds per phase of N full-scale runs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="?", type=int, default=5)
    ap.add_argument("--scenario", default="integrated")
    ap.add_argument("--households", type=int, default=20_000)
    args = ap.parse_args()
    acc: dict[str, float] = {}
    for module, names in PHASES.items():
        for name in names:
            label = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
            setattr(module, name, timed(getattr(module, name), label, acc))
    for name in MODEL_PHASES:
        setattr(sim.VraemModel, name, timed(getattr(sim.VraemModel, name), name, acc))
    sc = load_scenario(args.scenario, {"farmer.n_households": args.households, "months": 240})
    runs, totals = [], []
    for i in range(args.runs + 1):
        acc.clear()
        t0 = time.process_time()
        m = sim.VraemModel(params=sc.parameters, policy=sc.policy, seed=1, months=240)
        setup = time.process_time() - t0
        m.run()
        m.results()
        if i:  # the first run warms up (and loads or compiles the kernels)
            runs.append(dict(acc, setup=setup))
            totals.append(time.process_time() - t0)
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"{args.households:,} households, {args.scenario}, 240 months: CPU ms a run, median of {args.runs}")
    for k in sorted(median, key=median.get, reverse=True):
        print(f"  {k:32} {median[k] * 1000:7.1f}")
    print(f"  {'whole run':32} {statistics.median(totals) * 1000:7.1f}")


if __name__ == "__main__":
    main()
