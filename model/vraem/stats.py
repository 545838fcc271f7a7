"""Statistics of a comparison between scenarios or parameter points, in one place.

A comparison pairs runs: replicate ``k`` has the same seed in every scenario and at every point
(common random numbers), so ``a_k - b_k`` is a paired difference and its spread is the
run-to-run noise of the model at one parameter set. Two summaries of the same differences are in
use, and each says what it is:

- :func:`mean_interval` (``vraem compare``): the mean paired difference and its Student's t
  confidence interval: where the *average* difference lies, given this many replicates; it
  shrinks as replicates are added;
- :func:`spread_interval` (``vraem report``): the median paired difference and the 5-95% range of
  the differences: how much *single runs* differ; it does not shrink with more replicates.

Neither includes parameter uncertainty: that is what ``vraem sensitivity`` (and, later, parameter
bands from the calibration) addresses. The functions take plain arrays of paired differences, so
any source of differences (replicates, parameter draws) can use them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

NOISE_ONLY = "run-to-run noise only, at one parameter set"
WITH_PARAMETERS = "run-to-run noise and parameter uncertainty: replicate k runs posterior draw k"


def uncertainty_source(with_parameter_draws: bool) -> str:
    """What a spread across paired replicates includes: noise only, or noise and parameters."""
    return WITH_PARAMETERS if with_parameter_draws else NOISE_ONLY


@dataclass(frozen=True)
class Interval:
    """A central value with an interval, and the words that say what it is."""

    centre: float
    low: float
    high: float
    n: int
    """Paired differences it is computed from (NaN values dropped)."""
    describe: str
    """What the interval is, for people (printed beside it)."""


def _clean(diff) -> np.ndarray:
    diff = np.asarray(diff, dtype=float)
    return diff[~np.isnan(diff)]


def mean_interval(diff, level: float = 0.95, source: str = NOISE_ONLY) -> Interval:
    """Mean of paired differences and its two-sided Student's t confidence interval.

    Low and high are NaN for fewer than two differences; everything is NaN for none.
    """
    d = _clean(diff)
    n = len(d)
    words = (
        f"{level:.0%} t-interval of the mean paired difference over {n} replicate"
        f"{'s' if n != 1 else ''} ({source})"
    )
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, 0, words)
    mean = float(d.mean())
    if n < 2:
        return Interval(mean, np.nan, np.nan, n, words)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, words)


def spread_interval(diff, low_q: float = 0.05, high_q: float = 0.95, source: str = NOISE_ONLY) -> Interval:
    """Median of paired differences and the range between two quantiles of them (5-95%)."""
    d = _clean(diff)
    n = len(d)
    words = (
        f"median and {low_q:.0%}-{high_q:.0%} range of {n} paired difference"
        f"{'s' if n != 1 else ''} ({source})"
    )
    if n == 0:
        return Interval(np.nan, np.nan, np.nan, 0, words)
    return Interval(
        float(np.median(d)), float(np.quantile(d, low_q)), float(np.quantile(d, high_q)), n, words
    )


def share_below(diff, threshold: float = 0.0) -> float:
    """Share of paired differences below ``threshold`` (NaN when there are none)."""
    d = _clean(diff)
    return float((d < threshold).mean()) if len(d) else float("nan")


def mean_ci(diff, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)`` of :func:`mean_interval`, as a tuple."""
    i = mean_interval(diff, level)
    return i.centre, i.low, i.high
