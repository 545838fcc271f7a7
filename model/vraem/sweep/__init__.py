"""Sweeps: experiments over scenarios x parameter points x replicates, run on Dask.

- :mod:`vraem.sweep.experiment`: experiment files (designs, validation, the list of runs);
- :mod:`vraem.sweep.engine`: the Dask driver (bounded in-flight tasks, streaming, resume);
- :mod:`vraem.sweep.store`: the folder format (Parquet parts, a run log, maps) and its readers;
- :mod:`vraem.sweep.progress`: the terminal progress display.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vraem.lazy import lazy_exports

_WHERE = {
    "Experiment": "vraem.sweep.experiment",
    "ExperimentError": "vraem.sweep.experiment",
    "LoadedExperiment": "vraem.sweep.experiment",
    "RunSpec": "vraem.sweep.experiment",
    "load_experiment": "vraem.sweep.experiment",
    "shadowed_parameters": "vraem.sweep.experiment",
    "SweepError": "vraem.sweep.engine",
    "SweepSummary": "vraem.sweep.engine",
    "execute_run": "vraem.sweep.engine",
    "run_sweep": "vraem.sweep.engine",
}
"""Where each public name lives: imported on first use, so reading an experiment file does not
load Dask and the simulation (a refused file costs what refusing needs)."""

__all__ = [
    "Experiment",
    "ExperimentError",
    "LoadedExperiment",
    "RunSpec",
    "SweepError",
    "SweepSummary",
    "execute_run",
    "load_experiment",
    "run_sweep",
    "shadowed_parameters",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from vraem.sweep.engine import SweepError, SweepSummary, execute_run, run_sweep
    from vraem.sweep.experiment import (
        Experiment,
        ExperimentError,
        LoadedExperiment,
        RunSpec,
        load_experiment,
        shadowed_parameters,
    )


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
