"""Global sensitivity analysis with SALib, run on the sweep engine (``vraem sensitivity``).

- :mod:`vraem.sensitivity.design`: the experiment file, the SALib problem and its seeded sample,
  turned into a sweep whose ``points`` are the sample's rows;
- :mod:`vraem.sensitivity.outcomes`: named summaries of the run table (a month, a window's mean or
  total, a paired difference between two scenarios);
- :mod:`vraem.sensitivity.analysis`: SALib's Morris or Sobol' indices from the saved runs;
- :mod:`vraem.sensitivity.figures`: the mu*-sigma plot and the S1/ST bars.

Running, storing and analysing are separate steps: :func:`run_sensitivity` runs the sweep (resumable
after ``kill -9``, Parquet written as it goes, a manifest) and then analyses the saved folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from vraem.runner import run_once
from vraem.sensitivity.analysis import Analysis, AnalysisError, analyse_folder
from vraem.sensitivity.design import (
    PROBLEM,
    SensitivityDesign,
    SensitivityError,
    clear_design,
    load_sensitivity,
    write_design,
)
from vraem.sweep.engine import SweepSummary, clear_results, run_sweep
from vraem.sweep.store import MANIFEST
from vraem.user_input import echo, read_text_file

__all__ = [
    "Analysis",
    "AnalysisError",
    "SensitivityDesign",
    "SensitivityError",
    "analyse_folder",
    "load_sensitivity",
    "run_sensitivity",
]


def run_sensitivity(
    design: SensitivityDesign,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    restart: bool = False,
    progress=None,
    note: Callable[[str], None] = print,
    run: Callable = run_once,
) -> tuple[SweepSummary, Analysis | None]:
    """Run (or resume) a sensitivity analysis's sweep into ``out``, then analyse it when complete.

    Args:
        design: From :func:`load_sensitivity`.
        out: The folder: the sweep's files plus ``problem.json``, ``sample.npy`` and the analysis.
        workers: Local worker processes, as for :func:`vraem.sweep.run_sweep`.
        scheduler: A running Dask scheduler's address instead.
        client: An existing ``distributed.Client`` instead (not closed here).
        progress: Receives the sweep's progress.
        note: Prints one-line notes.
        restart: Discard earlier results in ``out`` first.
        run: The run function (:func:`vraem.runner.run_once`); tests give an analytic function
            of the parameters to check that the pipeline recovers its known indices.

    Returns:
        The sweep's summary, and the analysis (None while runs are missing).

    Raises:
        SensitivityError: ``out`` holds something else.

    """
    out = Path(out)
    if restart:
        clear_results(out)
        clear_design(out)
    if (out / MANIFEST).exists() and not (out / PROBLEM).exists():
        try:
            old = json.loads(read_text_file(out / MANIFEST, "a manifest", max_bytes=None))
        except (ValueError, OSError, RecursionError):
            old = None
        kind = old.get("kind", "run") if isinstance(old, dict) else "unreadable"
        raise SensitivityError(
            f"--out {out}: holds {echo(kind)} results, not a sensitivity analysis; use another folder"
        )
    write_design(design, out)
    summary = run_sweep(
        design.experiment,
        out,
        workers=workers,
        scheduler=scheduler,
        client=client,
        progress=progress,
        note=note,
        run=run,
    )
    analysis = analyse_folder(out) if summary.complete else None
    return summary, analysis
