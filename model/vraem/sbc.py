"""Simulation-based calibration of the ABC posterior: the coverage test of Prangle et al. (2014).

Prangle, Blum, Popovic & Sisson (2014, "Diagnostic tools for approximate Bayesian computation
using the coverage property", Aust. N. Z. J. Stat. 56:309-329): running ABC-SMC once per
synthetic dataset is too costly, so one reference table of prior simulations serves them all.
Each run of the table is taken in turn as pseudo-observed data; its rejection-ABC posterior is
the parameters of the table's other runs nearest to it, under the calibration's own distance
(:class:`vraem.calibration.PatternDistance`, tolerances scaled to the pseudo-data) at a fixed
acceptance rate. If the ABC posterior is calibrated, the true parameter's rank in its posterior is
uniform, and a central credible interval of level ``q`` covers the truth a share ``q`` of the time.

Two controls keep the check honest: the posterior must be narrower than the prior (the prior
itself is trivially calibrated), and a deliberately shifted posterior must fail
(``coverage(..., shift=...)``, used by the tests).

``python -m vraem.sbc [--out DIR] [--draws N] [--households H] [--workers W]`` (``make sbc``)
runs it on the shipped calibration config and writes ``coverage.csv``, ``ranks.csv``,
``reference_table.parquet`` and ``sbc.json``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vraem.calibration import (
    DERIVED,
    GROUPS,
    CalibrationConfig,
    Simulator,
    load_config,
    observed_targets,
    target_tolerances,
)

LEVELS = (0.5, 0.9)
"""The credible intervals checked (central, equal-tailed)."""
BANDS = {0.5: 0.10, 0.9: 0.05}
"""Issue 17: the 50% interval must cover 50 +/- 10% of the time, the 90% one 90 +/- 5%."""


def _simulate(args: tuple) -> dict[str, float]:
    simulator, values = args
    return simulator.simulate(values)


def reference_table(
    config: CalibrationConfig,
    n: int,
    *,
    households: int | None = None,
    seed: int = 0,
    workers: int = 1,
    draws: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Prior draws and their statistics: one row per run (parameters, the derived capacity, targets).

    Args:
        config: The calibration config (priors, scenario, variant, targets).
        n: Number of prior draws (ignored when ``draws`` is given).
        households: The valley's size (default: the config's).
        seed: Seed of the prior draws (each run's own seed comes from its values).
        workers: Processes to run them on (forked).
        draws: Parameter values to run instead of fresh prior draws (one column per parameter).
    """
    priors = config.priors()
    if draws is None:
        rng = np.random.default_rng(seed)
        draws = pd.DataFrame({k: rng.uniform(lo, hi, n) for k, (lo, hi) in priors.items()})
    simulator = Simulator(config, list(observed_targets(config)), households=households)
    jobs = [(simulator, {k: float(row[k]) for k in priors}) for _, row in draws.iterrows()]
    if workers > 1:
        import multiprocessing as mp

        _simulate(jobs[0])  # compile the kernels before forking
        with mp.get_context("fork").Pool(workers) as pool:
            stats = pool.map(_simulate, jobs, chunksize=4)
    else:
        stats = [_simulate(j) for j in jobs]
    return pd.concat([draws.reset_index(drop=True), pd.DataFrame(stats)], axis=1)


class TableDistance:
    """:class:`~vraem.calibration.PatternDistance` of every row of a reference table to data, vectorised.

    The tolerances of surveys and prices are scaled to the pseudo-observed values, as in a
    calibration on synthetic data.
    """

    def __init__(self, config: CalibrationConfig, table: pd.DataFrame):
        self.real = observed_targets(config)
        self.tol = target_tolerances(config)
        self.x = {key: table[key].to_numpy(dtype=float) for key in self.tol}

    def __call__(self, obs: dict[str, float]) -> np.ndarray:
        """The distance of every row to ``obs``."""
        errors: dict[str, list[np.ndarray]] = {g: [] for g in GROUPS}
        for key, (below, above, group) in self.tol.items():
            if key.startswith(("coca_", "leaf_")) and self.real[key]:
                f = obs[key] / self.real[key]
                below, above = below * f, above * f
            x = self.x[key]
            diff = x - obs[key]
            with np.errstate(invalid="ignore"):
                z = diff / np.where(diff > 0, above, below)
            errors[group].append(np.where(np.isnan(x), 1.0, z))
        groups = [np.mean(np.square(np.vstack(e)), axis=0) for e in errors.values() if e]
        return np.sqrt(np.mean(np.vstack(groups), axis=0))


def distances(config: CalibrationConfig, table: pd.DataFrame, obs: dict[str, float]) -> np.ndarray:
    """The distance of every row of ``table`` to ``obs`` (:class:`TableDistance`)."""
    return TableDistance(config, table)(obs)


def table_from_abc(db: str | Path, config: CalibrationConfig) -> pd.DataFrame:
    """A reference table from a calibration's first generation (``abc.db``): its prior draws and statistics.

    Generation 0 of ABC-SMC samples the prior and keeps every candidate within ``initial_epsilon``
    (and with a plausible capacity): a reference table of the prior truncated there, at no extra cost.
    """
    import pyabc

    from vraem.calibration import candidate_values

    history = pyabc.History(f"sqlite:///{Path(db).resolve()}", create=False)
    rows = []
    for p in history.get_population(t=0).particles:
        row = candidate_values(p.parameter, config.priors())
        row.update({k: float(v) for k, v in p.sum_stat.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def usable(table: pd.DataFrame, config: CalibrationConfig) -> pd.DataFrame:
    """The rows the truncated prior keeps: a plausible derived capacity, so finite statistics."""
    keys = list(observed_targets(config))
    ok = ~np.isinf(table[keys].to_numpy(dtype=float)).any(axis=1)
    return table[ok].reset_index(drop=True)


def coverage(
    config: CalibrationConfig,
    table: pd.DataFrame,
    *,
    accept_rate: float = 0.05,
    datasets: int | None = None,
    shift: float = 0.0,
) -> pd.DataFrame:
    """Each held-out run's truth against its rejection-ABC posterior from the rest of the table.

    Args:
        config: The calibration config (targets, tolerances, priors).
        table: A reference table (:func:`reference_table`), rows with infinite statistics dropped.
        accept_rate: Share of the other rows accepted (the nearest ones).
        datasets: How many rows to hold out in turn (default: all).
        shift: Move every posterior draw by this share of the prior's width (a negative control).

    Returns:
        One row per dataset and parameter: ``truth``, ``rank`` (share of the posterior below the
        truth), ``covered_50``, ``covered_90`` and ``width_90`` (the 90% interval over the prior's width).
    """
    priors = config.priors()
    n = len(table)
    k = max(2, round(accept_rate * (n - 1)))
    keys = list(observed_targets(config))
    rows = []
    dist = TableDistance(config, table)
    params = {p: table[p].to_numpy() for p in priors}
    for j in range(n if datasets is None else min(datasets, n)):
        obs = {key: float(dist.x[key][j]) for key in keys}
        d = dist(obs)
        d[j] = math.inf
        nearest = np.argpartition(d, k)[:k]
        for p, (lo, hi) in priors.items():
            post = params[p][nearest] + shift * (hi - lo)
            truth = float(params[p][j])
            row = {"dataset": j, "parameter": p, "truth": truth, "rank": float(np.mean(post < truth))}
            for level in LEVELS:
                a, b = np.quantile(post, [(1 - level) / 2, (1 + level) / 2])
                row[f"covered_{round(level * 100)}"] = bool(a <= truth <= b)
                if level == LEVELS[-1]:
                    row["width_90"] = float((b - a) / (hi - lo))
            rows.append(row)
    return pd.DataFrame(rows)


def summarise(ranks: pd.DataFrame) -> pd.DataFrame:
    """Coverage of the 50% and 90% intervals per parameter and pooled, with the pass bands."""
    def one(g: pd.DataFrame, name: str) -> dict:
        out = {"parameter": name, "datasets": int(g["dataset"].nunique())}
        for level in LEVELS:
            col = f"covered_{round(level * 100)}"
            out[col] = float(g[col].mean())
            out[f"pass_{round(level * 100)}"] = bool(abs(out[col] - level) <= BANDS[level])
        out["width_90"] = float(g["width_90"].mean())
        return out

    rows = [one(g, p) for p, g in ranks.groupby("parameter", sort=False)]
    rows.append(one(ranks, "all (pooled)"))
    return pd.DataFrame(rows)


def run_sbc(
    config: CalibrationConfig,
    out: str | Path,
    *,
    draws: int,
    households: int,
    accept_rate: float,
    workers: int,
    seed: int = 17,
    from_abc: str | Path | None = None,
    note=print,
) -> dict:
    """The full check: a reference table, every run held out in turn, coverage written to ``out``.

    With ``from_abc`` the table is a calibration's generation 0 (:func:`table_from_abc`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if from_abc is not None:
        table = table_from_abc(from_abc, config)
    else:
        table = reference_table(config, draws, households=households, seed=seed, workers=workers)
    table.to_parquet(out / "reference_table.parquet", index=False)
    kept = usable(table, config)
    seconds = time.perf_counter() - t0
    note(f"reference table: {len(table)} prior runs ({len(kept)} with a plausible capacity), {seconds:.0f} s")
    ranks = coverage(config, kept, accept_rate=accept_rate)
    ranks.to_csv(out / "ranks.csv", index=False)
    summary = summarise(ranks)
    summary.to_csv(out / "coverage.csv", index=False)
    result = {
        "kind": "sbc",
        "method": "Prangle et al. (2014): reference table of prior runs, each held out in turn, "
        "rejection-ABC posterior under the calibration's distance",
        "variant": config.label(),
        "reference_table": str(from_abc) if from_abc is not None else "prior runs",
        "households": households if from_abc is None else config.households,
        "fit_end_year": config.fit_end_year,
        "prior_runs": len(table),
        "datasets": len(kept),
        "accept_rate": accept_rate,
        "accepted_per_posterior": max(2, round(accept_rate * (len(kept) - 1))),
        "bands": {str(k): v for k, v in BANDS.items()},
        "coverage": summary.to_dict(orient="records"),
        "seconds": round(time.perf_counter() - t0, 1),
        DERIVED: "derived per run (opening equilibrium), not checked",
    }
    (out / "sbc.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m vraem.sbc``: the full coverage check on the shipped calibration config."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m vraem.sbc", description=main.__doc__)
    ap.add_argument("--config", default=None, help="calibration YAML (default: the shipped one)")
    ap.add_argument("--variant", default=None, help="model variant (default: the config's)")
    ap.add_argument("--out", default="results/sbc")
    ap.add_argument("--draws", type=int, default=2000, help="prior runs in the reference table")
    ap.add_argument("--households", type=int, default=1000)
    ap.add_argument("--accept-rate", type=float, default=0.05)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--from-abc", default=None, help="a calibration's abc.db: its generation 0 is the table")
    args = ap.parse_args(argv)
    from vraem.calibration import CalibrationError

    try:
        config = load_config(args.config, args.variant)
    except CalibrationError as exc:
        print(exc)
        return 2
    result = run_sbc(
        config, args.out, draws=args.draws, households=args.households,
        accept_rate=args.accept_rate, workers=args.workers, from_abc=args.from_abc,
    )
    for row in result["coverage"]:
        print(
            f"{row['parameter']}: 50% covers {row['covered_50']:.1%}, 90% covers {row['covered_90']:.1%} "
            f"(90% width {row['width_90']:.2f} of the prior) over {row['datasets']} datasets"
        )
    print(f"written: {Path(args.out) / 'sbc.json'} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
