"""Sweeps: experiments over scenarios x parameter points x replicates, run on Dask.

- :mod:`model.sweep.experiment`: experiment files (designs, validation, the list of runs);
- :mod:`model.sweep.engine`: the Dask driver (bounded in-flight tasks, streaming, resume);
- :mod:`model.sweep.store`: the folder format (Parquet parts, a run log, maps) and its readers;
- :mod:`model.sweep.progress`: the terminal progress display.
"""

from model.sweep.engine import SweepError, SweepSummary, execute_run, run_sweep
from model.sweep.experiment import (
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
