"""Sensitivity indices from a finished sensitivity folder (it reads saved results only).

:func:`analyse_folder` reads ``problem.json``, ``sample.npy`` and the runs' Parquet parts, reduces
the runs to each outcome's value at each parameter point (the mean over replicates,
:mod:`vraem.sensitivity.outcomes`), and hands the sample and the values to SALib:

- Morris (:func:`SALib.analyze.morris.analyze`): ``mu_star``, the mean absolute elementary effect
  (how much the outcome moves when the parameter moves across its range; the screening measure
  of Campolongo et al. 2007), with its bootstrap confidence interval ``mu_star_conf``, and
  ``sigma``, the spread of the effects (large when the effect depends on the other parameters:
  interactions or a non-linear response);
- Sobol' (:func:`SALib.analyze.sobol.analyze`): ``S1``, the share of the outcome's variance that the
  parameter explains alone, and ``ST``, the share it explains with all its interactions, each with
  a bootstrap confidence interval.

Written to the folder: ``indices.csv`` (columns outcome, parameter, method, mu_star, mu_star_conf,
sigma, S1, S1_conf, ST, ST_conf; a column a method does not produce is empty),
``outcome_values.csv`` (each outcome at each point) and the figures in ``figures/``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vraem.sensitivity.outcomes import outcome_columns, point_values
from vraem.sweep.store import atomic_write_text, read_log, read_table

INDICES = "indices.csv"
VALUES = "outcome_values.csv"
FIGURES = "figures"
ANALYSIS_FILES = (INDICES, VALUES, FIGURES)
COLUMNS = (
    "outcome",
    "parameter",
    "method",
    "mu_star",
    "mu_star_conf",
    "sigma",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
)
CONF_LEVEL = 0.95
RESAMPLES = 1000
"""Bootstrap resamples of SALib's confidence intervals."""


class AnalysisError(ValueError):
    """A folder that cannot be analysed yet, with a one-line message for people."""


@dataclass
class Analysis:
    """What :func:`analyse_folder` computed and wrote."""

    folder: Path
    record: dict[str, Any]
    values: pd.DataFrame
    indices: pd.DataFrame
    files: list[Path] = field(default_factory=list)


def read_record(folder: Path) -> dict[str, Any]:
    """The folder's ``problem.json``."""
    from vraem.sensitivity.design import PROBLEM

    path = folder / PROBLEM
    if not path.exists():
        raise AnalysisError(f"{folder}: not a sensitivity folder (no {PROBLEM})")
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise AnalysisError(f"{folder}: {PROBLEM} is not valid JSON") from None


def read_sample(folder: Path, record: dict[str, Any]) -> np.ndarray:
    """The folder's SALib sample, checked against its problem."""
    from vraem.sensitivity.design import SAMPLE

    try:
        sample = np.load(folder / SAMPLE)
    except (OSError, ValueError):
        raise AnalysisError(f"{folder}: {SAMPLE} is missing or unreadable") from None
    if sample.shape != (record["points"], record["problem"]["num_vars"]):
        raise AnalysisError(f"{folder}: {SAMPLE} does not match problem.json")
    return sample


def point_table(folder: Path, record: dict[str, Any]) -> pd.DataFrame:
    """Every outcome at every parameter point (rows: points 0..n-1).

    Raises:
        AnalysisError: Some runs are not finished (the analysis needs every point).

    """
    expected = record["points"] * len(record["scenarios"]) * record["replicates"]
    ok = sum(1 for r in read_log(folder).values() if r.get("status") == "ok")
    if ok < expected:
        raise AnalysisError(
            f"{folder}: {expected - ok} of {expected} runs are not finished; run the same "
            "vraem sensitivity command again to finish them"
        )
    cols = ["scenario", "point", "replicate", "month", *outcome_columns(record["outcomes"])]
    table = read_table(folder, cols)
    values = point_values(table, record["outcomes"])
    values = values.reindex(range(record["points"]))
    missing = values.columns[values.isna().any()].tolist()
    if missing:
        raise AnalysisError(f"{folder}: outcome(s) {', '.join(missing)} missing at some points")
    return values


def _salib_problem(record: dict[str, Any]) -> dict[str, Any]:
    p = record["problem"]
    return {"num_vars": p["num_vars"], "names": list(p["names"]), "bounds": [list(b) for b in p["bounds"]]}


def indices_for(record: dict[str, Any], sample: np.ndarray, y: np.ndarray, outcome: str) -> pd.DataFrame:
    """SALib's indices of one outcome, one row per parameter, in the columns of ``indices.csv``."""
    problem = _salib_problem(record)
    method = record["method"]
    names = problem["names"]
    rows = pd.DataFrame({"outcome": outcome, "parameter": names, "method": method["kind"]})
    for c in COLUMNS[3:]:
        rows[c] = np.nan
    if method["kind"] == "morris":
        from SALib.analyze import morris

        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = morris.analyze(
                problem,
                sample,
                y,
                num_resamples=RESAMPLES,
                conf_level=CONF_LEVEL,
                num_levels=method["levels"],
                seed=method["sample_seed"],
            )
        for c in ("mu_star", "mu_star_conf", "sigma"):
            rows[c] = np.asarray(res[c], dtype=float)
        return rows
    from SALib.analyze import sobol

    if np.nanstd(y) == 0:  # every point gave the same value: no variance to share out
        for c in ("S1", "ST"):
            rows[c] = 0.0
        return rows
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol.analyze(
            problem,
            y,
            calc_second_order=method["second_order"],
            num_resamples=RESAMPLES,
            conf_level=CONF_LEVEL,
            seed=method["sample_seed"],
        )
    for c in ("S1", "S1_conf", "ST", "ST_conf"):
        rows[c] = np.asarray(res[c], dtype=float)
    return rows


def rank(indices: pd.DataFrame) -> pd.DataFrame:
    """Indices sorted within each outcome by importance (mu* for Morris, ST for Sobol')."""
    key = np.where(indices["method"] == "morris", indices["mu_star"], indices["ST"])
    out = indices.assign(_key=key).sort_values(["_key"], ascending=False, kind="stable")
    order = {o: i for i, o in enumerate(dict.fromkeys(indices["outcome"]))}
    out = out.assign(_o=out["outcome"].map(order)).sort_values("_o", kind="stable")
    out["rank"] = out.groupby("outcome", sort=False).cumcount() + 1
    return out.drop(columns=["_key", "_o"]).reset_index(drop=True)


def analyse_folder(folder: str | Path, figures: bool = True) -> Analysis:
    """Compute and write the indices (and figures) of a finished sensitivity folder.

    Raises:
        AnalysisError: Not a sensitivity folder, or runs are missing.

    """
    from vraem.sweep.store import atomic_write_bytes

    folder = Path(folder)
    record = read_record(folder)
    sample = read_sample(folder, record)
    values = point_table(folder, record)
    frames = [
        indices_for(record, sample, values[o["name"]].to_numpy(dtype=float), o["name"])
        for o in record["outcomes"]
    ]
    indices = rank(pd.concat(frames, ignore_index=True))
    atomic_write_text(folder / INDICES, indices[[*COLUMNS, "rank"]].to_csv(index=False))
    atomic_write_bytes(folder / VALUES, lambda f: f.write(values.to_csv(index_label="point").encode()))
    files = [folder / INDICES, folder / VALUES]
    if figures:
        from vraem.sensitivity.figures import draw_figures

        files += draw_figures(record, indices, folder / FIGURES)
    return Analysis(folder, record, values, indices, files)


def read_indices(folder: str | Path) -> pd.DataFrame:
    """The saved ``indices.csv`` of a folder."""
    path = Path(folder) / INDICES
    if not path.exists():
        raise AnalysisError(f"{folder}: no {INDICES} yet; run vraem sensitivity on it first")
    return pd.read_csv(path)
