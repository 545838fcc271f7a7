"""Parameter draws from a calibration posterior, for comparisons that carry parameter uncertainty.

A scenario or an experiment may set ``parameter_draws: PATH/posterior.parquet`` and ``n_draws``.
The posterior (written by ``vraem calibrate``) holds weighted particles: one column per calibrated
parameter (dotted keys of :mod:`vraem.params`), ``weight``, and optional bookkeeping columns
(``generation``, ``distance``). :func:`draw_parameters` resamples ``n_draws`` particles by weight
with a generator seeded by the experiment's base seed, so draw ``k`` is the same in every scenario;
replicate ``k`` runs draw ``k`` with seed ``k`` (common random numbers): scenario differences are
paired in both parameters and randomness.

A relative path is taken relative to the scenario or experiment file; a bare file name that is
not there names a posterior shipped in ``vraem/data`` (``posterior.parquet``, from ``make
calibrate``).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from vraem.params import ModelParams

BOOKKEEPING = ("weight", "generation", "distance")
"""Posterior columns that are not parameters."""


class PosteriorError(ValueError):
    """A posterior file or draw count that cannot be used (message without the file name)."""


def is_parameter(key: str) -> bool:
    """Whether ``key`` is a dotted ``group.name`` of :class:`vraem.params.ModelParams`."""
    group, _, name = key.partition(".")
    fields = ModelParams.model_fields
    return group in fields and name in fields[group].annotation.model_fields


def resolve_posterior_path(ref: str, relative_to: Path) -> Path:
    """A path relative to ``relative_to`` (a file's folder), else a posterior shipped in vraem/data."""
    p = Path(ref)
    if p.is_absolute():
        return p
    beside = relative_to / p
    if beside.exists() or "/" in ref:
        return beside
    shipped = Path(str(resources.files("vraem.data").joinpath(ref)))
    return shipped if shipped.exists() else beside


def read_posterior(path: Path) -> pd.DataFrame:
    """Read and check a posterior file: parameter columns and a non-negative ``weight``.

    Raises:
        PosteriorError: Missing, unreadable, without weights, or with columns that are not parameters.
    """
    if not path.is_file():
        raise PosteriorError("file not found")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise PosteriorError(f"not a readable Parquet file ({type(exc).__name__})") from None
    if "weight" not in df.columns:
        raise PosteriorError("has no 'weight' column (expected the posterior.parquet of vraem calibrate)")
    params = [c for c in df.columns if c not in BOOKKEEPING]
    bad = [c for c in params if not is_parameter(c)]
    if bad:
        raise PosteriorError(
            f"columns {bad} are not model parameters (allowed: dotted keys such as "
            f"farmer.expectation_rate, and {', '.join(BOOKKEEPING)})"
        )
    if not params:
        raise PosteriorError("has no parameter columns")
    w = df["weight"].to_numpy(dtype=float)
    if len(df) == 0 or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise PosteriorError("needs at least one particle and finite, non-negative weights that sum above 0")
    if not np.all(np.isfinite(df[params].to_numpy(dtype=float))):
        raise PosteriorError("has missing or infinite parameter values")
    return df


def draw_parameters(posterior: pd.DataFrame, n_draws: int, seed: int) -> list[dict[str, float]]:
    """``n_draws`` parameter sets resampled by weight (with replacement), seeded.

    More draws than the posterior has particles could only repeat particles, so ``n_draws`` is at
    most the number of particles.

    Raises:
        PosteriorError: ``n_draws`` outside 1 .. the number of particles.
    """
    if not 1 <= n_draws <= len(posterior):
        raise PosteriorError(
            f"n_draws must be between 1 and the posterior's {len(posterior)} particles (got {n_draws})"
        )
    w = posterior["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x0D4A]))
    idx = rng.choice(len(posterior), size=n_draws, replace=True, p=w / w.sum())
    params = [c for c in posterior.columns if c not in BOOKKEEPING]
    return [{k: float(posterior.iloc[i][k]) for k in params} for i in idx]


def file_digest(path: Path) -> str:
    """SHA-256 of a file (recorded so that a resumed sweep notices a changed posterior)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
