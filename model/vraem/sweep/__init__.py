"""Sweeps: experiments over scenarios x parameter points x replicates, run on Dask.

- :mod:`vraem.sweep.experiment`: experiment files (designs, validation, the list of runs);
- :mod:`vraem.sweep.engine`: the Dask driver (bounded in-flight tasks, streaming, resume);
- :mod:`vraem.sweep.store`: the folder format (Parquet parts, a run log, maps) and its readers;
- :mod:`vraem.sweep.progress`: the terminal progress display.
"""

from vraem.sweep.engine import SweepError, SweepSummary, execute_run, run_sweep
from vraem.sweep.experiment import (
    Experiment,
    ExperimentError,
    LoadedExperiment,
    RunSpec,
    load_experiment,
    shadowed_parameters,
)

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
