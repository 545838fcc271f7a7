"""The seeded baseline summary: a fingerprint of the model's behaviour.

``tests/test_baseline.py`` compares a fresh run with ``tests/data/baseline.json``. After a
deliberate change to the model, look at the differences it reports, then refresh the file with
``make baseline`` (``python -m tests.baseline --refresh``) and commit it with the change.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vraem.runner import run_once
from vraem.scenario import load_scenario

PATH = Path(__file__).parent / "data" / "baseline.json"
SCENARIOS = ("status_quo", "eradication_first", "development_first", "integrated", "interdiction_heavy")
SETTINGS = {"farmer.n_households": 600, "months": 36}
COLUMNS = (
    "coca_ha",
    "eradicated_ha",
    "replanted_ha",
    "agreements",
    "leaf_price_usd_per_kg",
    "exports_air_t",
    "active_labs",
    "confrontations",
    "income_mean_usd",
    "poverty_share",
    "mean_trust",
)


def summary() -> dict[str, dict[str, float]]:
    """Final values and totals of key outputs for each scenario, replicate 0."""
    out = {}
    for name in SCENARIOS:
        t = run_once(load_scenario(name, SETTINGS), 0).table
        row = {f"final.{c}": float(t[c].iloc[-1]) for c in COLUMNS}
        row.update({f"total.{c}": float(t[c].sum()) for c in COLUMNS})
        out[name] = row
    return out


def main() -> None:
    """Print the summary, or rewrite the stored baseline with ``--refresh``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refresh", action="store_true", help="rewrite tests/data/baseline.json")
    args = ap.parse_args()
    s = summary()
    if args.refresh:
        PATH.parent.mkdir(parents=True, exist_ok=True)
        PATH.write_text(json.dumps(s, indent=1, sort_keys=True) + "\n")
        print(f"wrote {PATH}")
    else:
        print(json.dumps(s, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
