"""A sha256 of every output column, to show that a speed-up changes no output bit.

Runs six shipped scenarios x 2 seeds at 2,000 households for 240 months, once with every mechanism
on (the default) and once with ``mechanisms: []``, and prints one line per run: the sha256 of each
model-level column of ``results()``, of each household column and of the final coca map, and one
digest over all of them. Record the lines before a change (``> before.txt``) and ``diff`` them with
the lines after it: any difference is a changed output.

    .venv/bin/python benchmarks/output_fingerprint.py > /tmp/after.txt
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib

import numpy as np

from vraem.scenario import load_scenario
from vraem.simulation import VraemModel

SCENARIOS = ("status_quo", "eradication_first", "development_first", "integrated", "interdiction_heavy",
             "replanting_030")
SEEDS = (1, 2)


def digest(values: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and bytes."""
    a = np.ascontiguousarray(values)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def fingerprint(scenario: str, seed: int, mechanisms_off: bool, n: int, months: int) -> dict[str, str]:
    """Digests of one run's model-level columns, household columns and last coca map."""
    overrides = {"farmer.n_households": n, "months": months}
    if mechanisms_off:
        overrides["mechanisms"] = []
    sc = load_scenario(scenario, overrides)
    m = VraemModel(params=sc.parameters, policy=sc.policy, seed=seed, months=months, map_months=[months])
    m.run()
    out = {}
    df = m.results()
    for col in df.columns:
        column = df[col]
        out[f"model.{col}"] = digest(column.to_numpy()) if column.dtype != object else hashlib.sha256(
            repr(column.tolist()).encode()).hexdigest()
    for f in dataclasses.fields(m.households):
        out[f"household.{f.name}"] = digest(getattr(m.households, f.name))
    out["map"] = digest(m.maps[months])
    return out


def main() -> None:
    """Print one line per run, then the digest of each column on request."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=2_000)
    ap.add_argument("--months", type=int, default=240)
    ap.add_argument("--columns", action="store_true", help="print every column's digest too")
    args = ap.parse_args()
    for mechanisms_off in (False, True):
        for scenario in SCENARIOS:
            for seed in SEEDS:
                fp = fingerprint(scenario, seed, mechanisms_off, args.households, args.months)
                total = hashlib.sha256("".join(f"{k}={v}\n" for k, v in fp.items()).encode()).hexdigest()
                label = f"{scenario} seed={seed} mechanisms={'[]' if mechanisms_off else 'all'}"
                print(f"{label:50} {len(fp):4d} columns {total}", flush=True)
                if args.columns:
                    for k, v in fp.items():
                        print(f"    {k:40} {v}")


if __name__ == "__main__":
    main()
