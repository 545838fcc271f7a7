"""CPU time per household-month of this tree against an earlier revision, side by side.

Run with ``make bench-compare`` (or ``python benchmarks/bench_household_month.py --rev REV``).
Issue 16 asked that the core stay within 20% of its speed before the issue's rules
(``a63d3bb``) per household-month: an open valley has more households than it started with
(settlers and refugees), so a run is compared per household present per month, not per run.

The revision's ``model/``, ``scenarios/`` and ``pyproject.toml`` are extracted with ``git archive`` into
``results/bench/rev-REV/`` (kept, so that its compiled kernels are cached after the first call).
Each round runs both trees in fresh processes, one after the other, alternating which goes first;
each process runs the scenario once to load its kernels, then ``--runs`` times, and reports the
median CPU seconds of a run (``time.process_time``: set-up, months and output table) and the
households present summed over the months. The medians over rounds are compared; so is the
median of the rounds' own ratios, which a host whose speed drifts between rounds disturbs less.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.20
"""Issue 16: at most 20% more CPU time per household-month than before its rules."""

CHILD = r"""
import json, statistics, sys, time
from vraem.scenario import load_scenario, ScenarioError
from vraem.simulation import VraemModel
runs, n, months = (int(a) for a in sys.argv[1:4])
name, mechanisms = sys.argv[4:6]
overrides = {"farmer.n_households": n, "months": months}
if mechanisms == "off":
    overrides["mechanisms"] = []
try:
    sc = load_scenario(name, overrides)
except ScenarioError:  # a revision before the named mechanisms: it has none to switch off
    overrides.pop("mechanisms", None)
    sc = load_scenario(name, overrides)
cpu, household_months = [], 0
for i in range(runs + 1):
    t0 = time.process_time()
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=1, months=months)
    present = 0
    while m.running and m.month < months:
        present += m.households.n
        m.step()
    m.results()
    if i:  # the first run loads (or compiles) the kernels
        cpu.append(time.process_time() - t0)
        household_months = present
print(json.dumps({"cpu_s": statistics.median(cpu), "household_months": household_months}))
"""


def extract(rev: str) -> Path:
    """The revision's ``model/`` and ``scenarios/`` under ``results/bench/rev-REV`` (made once).

    A revision git does not know (a typo, or a shallow clone without it) ends the script with one
    line and exit status 2.
    """
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "--short=12", f"{rev}^{{commit}}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except OSError as err:
        print(f"bench_household_month: --rev {rev}: git is needed to extract it ({err})", file=sys.stderr)
        sys.exit(2)
    if found.returncode:
        print(
            f"bench_household_month: --rev {rev}: no such commit in {ROOT} "
            "(a revision of this repository's history; a shallow clone needs `git fetch --unshallow`)",
            file=sys.stderr,
        )
        sys.exit(2)
    commit = found.stdout.strip()
    tree = ROOT / "results" / "bench" / f"rev-{commit}"
    if not (tree / "model" / "vraem").is_dir():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "model", "scenarios", "pyproject.toml"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        tree.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
    return tree


def run_tree(tree: Path, args: argparse.Namespace) -> dict:
    """One fresh process of ``tree``'s code: median CPU seconds of a run and its household-months."""
    env = {**os.environ, "PYTHONPATH": str(tree / "model")}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(args.runs),
            str(args.households),
            str(args.months),
            args.scenario,
            "off" if args.mechanisms_off else "on",
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"bench_household_month: the run of {tree} failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print each round, the medians, ns per household-month and the ratio against the target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="a63d3bb", help="the revision to compare with (before issue 16's rules)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds, each a fresh process of either tree")
    ap.add_argument("--runs", type=int, default=3, help="timed runs in each process, after one to warm up")
    ap.add_argument("--scenario", default="integrated", help="a busy scenario: every mechanism active")
    ap.add_argument("--households", type=int, default=20_000)
    ap.add_argument("--months", type=int, default=240)
    ap.add_argument(
        "--mechanisms-off",
        action="store_true",
        help="this tree with mechanisms: [] (the rules that are always on)",
    )
    args = ap.parse_args()
    trees = {"before": extract(args.rev), "now": ROOT}
    rows = []
    for k in range(args.rounds):
        order = ("before", "now") if k % 2 == 0 else ("now", "before")
        row = {name: run_tree(trees[name], args) for name in order}
        rows.append(row)
        ns = {name: 1e9 * row[name]["cpu_s"] / row[name]["household_months"] for name in row}
        cells = [f"{k} {row[k]['cpu_s'] * 1000:6.0f} ms ({ns[k]:5.1f} ns)" for k in ("before", "now")]
        print(f"round {k + 1}: {', '.join(cells)}, ratio {ns['now'] / ns['before']:.3f}", flush=True)
    per = {name: [1e9 * r[name]["cpu_s"] / r[name]["household_months"] for r in rows] for name in trees}
    med = {name: statistics.median(v) for name, v in per.items()}
    paired = statistics.median(n / b for n, b in zip(per["now"], per["before"], strict=True))
    months = {name: rows[0][name]["household_months"] / args.months for name in trees}
    print(
        f"{args.scenario}, {args.households:,} households at the start, {args.months} months"
        f"{' (this tree with every mechanism off)' if args.mechanisms_off else ''}; {args.rounds} rounds x "
        f"{args.runs} runs, CPU time"
    )
    for name, label in (("before", f"before ({args.rev})"), ("now", "now")):
        print(
            f"  {label:18} {med[name]:6.1f} ns per household-month "
            f"({months[name]:,.0f} households a month on average)"
        )
    ratio = med["now"] / med["before"]
    print(f"  now / before: {ratio:.3f} (ratio of medians), {paired:.3f} (median of the rounds' ratios)")
    print(f"  target <= {TARGET:.2f}: {'met' if max(ratio, paired) <= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
