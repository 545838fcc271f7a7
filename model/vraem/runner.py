"""Running scenarios and writing results: a tidy table, coca maps and a manifest.

``run_once`` is the unit of work (one scenario, one replicate, one seed); sweeps call it in worker
processes. ``run_scenarios`` runs replicates of one or more scenarios in this process and writes:

- ``results.parquet``: one row per run and month, one column per output, plus ``scenario``,
  ``replicate``, ``seed``, ``month`` and ``year``;
- ``maps.npz``: coca ha per cell at the scenario's map months, per run, and the district raster;
- ``manifest.json``: scenario texts, resolved parameters, seeds, git commit, package versions.

Replicate ``k`` gets the same seed in every scenario (common random numbers), so scenario
differences are paired.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from vraem.landscape import load_rasters, read_rasters
from vraem.rng import replicate_seed
from vraem.scenario import Scenario, ScenarioError, with_parameters
from vraem.simulation import VraemModel

ID_COLUMNS = ("scenario", "replicate", "seed", "month", "year")
PACKAGES = ("vraem", "mesa", "numpy", "pandas", "pydantic", "pyarrow", "matplotlib")


@dataclass
class RunResult:
    """One run's monthly table and coca maps."""

    table: pd.DataFrame
    maps: dict[int, np.ndarray] = field(default_factory=dict)
    district: np.ndarray | None = None


def run_once(
    scenario: Scenario, replicate: int, seed: int | None = None, months: int | None = None
) -> RunResult:
    """Run one replicate of a scenario and return its table and maps."""
    seed = replicate_seed(scenario.seed, replicate) if seed is None else seed
    months = months or scenario.months
    m = VraemModel(
        params=scenario.parameters,
        policy=scenario.policy,
        seed=seed,
        months=months,
        map_months=[mm for mm in scenario.map_months if mm <= months],
        rasters=load_rasters(scenario.landscape_file) if scenario.landscape_file else None,
        start_year=scenario.start_year,
    )
    m.run()
    table = m.results()
    table.insert(0, "scenario", scenario.name)
    table.insert(1, "replicate", replicate)
    table.insert(2, "seed", seed)
    table.insert(4, "year", scenario.start_year + table["month"] / 12.0)
    L = m.landscape
    return RunResult(table, m.maps, L.layer("district").reshape(L.width, L.height).astype(np.int16))


def git_commit() -> str:
    """The source checkout's git commit (``-dirty`` if it has changes), or what was installed.

    Only a checkout of vraem itself is asked (its root holds ``pyproject.toml`` and ``.git``), so
    an installed package never reports the commit of whatever repository its venv sits in.
    """
    root = Path(__file__).resolve().parent.parent.parent
    if not ((root / "pyproject.toml").is_file() and (root / ".git").exists()):
        return f"none: installed package vraem {vraem_version()}"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return f"unknown: git failed in {root}"


def vraem_version() -> str:
    """The installed vraem's version (from its package metadata)."""
    try:
        return metadata.version("vraem")
    except metadata.PackageNotFoundError:
        return "not installed"


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages results depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance() -> dict:
    """Code version, packages, machine and time: what every result records."""
    return {
        "vraem_version": vraem_version(),
        "git_commit": git_commit(),
        "packages": package_versions(),
        "platform": platform.platform(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
    }


def scenario_record(scenario: Scenario, text: str, path: str, seeds: list[int]) -> dict:
    """What the manifest keeps of one scenario."""
    return {
        "name": scenario.name,
        "path": path,
        "description": scenario.description,
        "yaml": text,
        "resolved": scenario.model_dump(mode="json"),
        "replicates": len(seeds),
        "seeds": seeds,
        "landscape": (
            {"file": scenario.landscape_file, **read_rasters(scenario.landscape_file).describe()}
            if scenario.landscape_file
            else {"form": "generated"}
        ),
    }


def run_scenarios(
    scenarios: list[tuple[Scenario, str, str]],
    out_dir: str | Path,
    replicates: int | None = None,
    seed: int | None = None,
    progress=None,
) -> pd.DataFrame:
    """Run replicates of each scenario here and write table, maps and manifest to ``out_dir``.

    Args:
        scenarios: ``(scenario, yaml_text, path)`` triples.
        out_dir: Output folder (created).
        replicates: Overrides each scenario's ``replicates``.
        seed: Overrides each scenario's base ``seed``.
        progress: Optional callable ``(done, total, label)``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables, maps, records = [], {}, []
    district = None
    total = sum(s.n_draws or replicates or s.replicates for s, _, _ in scenarios)
    done = 0
    if seed is not None:
        scenarios = [(sc.model_copy(update={"seed": seed}), text, path) for sc, text, path in scenarios]
    plan = [(sc, text, path, scenario_replicates(sc, replicates, path)) for sc, text, path in scenarios]
    for sc, text, path, reps in plan:
        seeds = [rep.seed for rep in reps]
        for rep in reps:
            k = rep.replicate
            res = run_once(rep.scenario, k, rep.seed)
            for key, value in rep.draw.items():
                res.table[key] = value
            tables.append(res.table)
            district = res.district
            for month, grid in res.maps.items():
                maps[f"{sc.name}/r{k}/m{month}"] = grid.astype(np.float32)
            done += 1
            if progress:
                progress(done, total, f"{sc.name} r{k}")
        records.append(scenario_record(sc, text, path, seeds))
    table = pd.concat(tables, ignore_index=True)
    table.to_parquet(out / "results.parquet", index=False)
    np.savez_compressed(out / "maps.npz", district=district, **maps)
    manifest = {"kind": "run", "scenarios": records, **provenance()}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return table


@dataclass(frozen=True)
class Replicate:
    """Replicate ``k`` of a scenario as ``vraem run`` runs it: its seed, and posterior draw ``k``."""

    replicate: int
    seed: int
    scenario: Scenario
    """The scenario to run: with draw ``k``'s parameters when the scenario sets ``parameter_draws``."""
    draw: dict[str, float] = field(default_factory=dict)
    """Draw ``k``'s parameter values (empty without ``parameter_draws``)."""


def scenario_replicates(
    scenario: Scenario, replicates: int | None = None, origin: str | None = None
) -> list[Replicate]:
    """The replicates of a scenario: ``k`` gets seed ``k`` and, with ``parameter_draws``, draw ``k``.

    One place for what ``vraem run`` and :func:`vraem.outcomes` run (``vraem sweep`` draws the
    same parameters with the experiment's base seed: :mod:`vraem.sweep.experiment`).

    Args:
        scenario: A validated scenario.
        replicates: Overrides the scenario's ``replicates`` (must equal ``n_draws`` with draws).
        origin: How errors name the scenario (default: its name).

    Raises:
        ScenarioError: ``replicates`` disagrees with ``n_draws``, or a draw is out of range.
    """
    draws = scenario_draws(scenario, replicates)
    n = len(draws) if draws else replicates or scenario.replicates
    origin = origin or f"scenario {scenario.name}"
    out = []
    for k in range(n):
        seed = replicate_seed(scenario.seed, k)
        if draws:
            run_sc = with_parameters(scenario, draws[k], f"{origin}, posterior draw {k}")
            out.append(Replicate(k, seed, run_sc, draws[k]))
        else:
            out.append(Replicate(k, seed, scenario))
    return out


def scenario_draws(scenario: Scenario, replicates: int | None = None) -> list[dict[str, float]]:
    """A scenario's posterior draws (none without ``parameter_draws``); replicate k runs draw k.

    Draws are resampled by weight with the scenario's base seed, so two scenarios with the same
    posterior, ``n_draws`` and seed run the same draw k with the same seed k.

    Raises:
        ScenarioError: ``--replicates`` disagrees with ``n_draws``.
    """
    from vraem.posterior import draw_parameters, read_posterior

    if scenario.parameter_draws is None:
        return []
    n = int(scenario.n_draws or 0)
    if replicates is not None and replicates != n:
        raise ScenarioError(
            f"--replicates {replicates}: scenario {scenario.name} runs one replicate per posterior draw "
            f"(n_draws: {n}); leave --replicates out or change n_draws"
        )
    return draw_parameters(read_posterior(Path(scenario.parameter_draws)), n, scenario.seed)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Coca ha at the start and the end per scenario, with the spread across replicates."""
    rows = []
    for name, g in table.groupby("scenario", sort=False):
        start = g.loc[g["month"] == 0, "coca_ha"]
        end = g.loc[g["month"] == g["month"].max(), "coca_ha"]
        rows.append(
            {
                "scenario": name,
                "replicates": g["replicate"].nunique(),
                "months": int(g["month"].max()),
                "coca_ha_start": start.mean(),
                "coca_ha_end_mean": end.mean(),
                "coca_ha_end_p5": end.quantile(0.05),
                "coca_ha_end_p95": end.quantile(0.95),
                "eradicated_ha_total": g["eradicated_ha"].sum() / g["replicate"].nunique(),
            }
        )
    return pd.DataFrame(rows)
