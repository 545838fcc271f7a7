"""Calibration of the status quo by approximate Bayesian computation (ABC-SMC, pyabc), per model variant.

``vraem calibrate [CONFIG.yaml] [--variant NAME|all] [--out DIR] [--workers N | --scheduler ADDR]
[--ship]`` (``make calibrate``: every variant) fits the parameters listed in the config (default
``vraem/data/calibration.yaml``) to the documented patterns of 2013-2019 and writes a weighted
posterior with its diagnostics.

- **Variant**: the config names a model variant of ``data/variants.yaml`` (``variant: full``) or a
  list of mechanisms (``mechanisms: [open_valley]``); every run of the calibration carries those
  switches (``parameters.mechanisms``).
- **Leave-future-out**: nothing after ``fit_end_year`` (2019) may be fitted: a survey year, a leaf
  price date or a pattern window that reaches later is refused when the config is read, so the
  2020-2024 surveys stay out of sample for ``vraem validate-history``. ``--origin YEAR`` fits a
  rolling origin instead: the config cut at an earlier year (:meth:`CalibrationConfig.at_origin`),
  into ``<variant>-to<YEAR>``.
- **Priors**: uniform on each parameter's plausible range (:func:`vraem.params.plausible_ranges`),
  or on a ``[low, high]`` given in the config. ``farmer.max_coca_ha`` is not sampled: for every
  candidate it is derived (:func:`equilibrium_max_coca_ha`) so that the opening desired coca equals
  the 2013 survey and the initial state is an equilibrium.
- **Model**: one run of the config's scenario per candidate, at the config's (small) scale, to
  the last month any target needs. Its seed is derived from the candidate's values
  (:func:`evaluation_seed`), so any evaluation can be repeated exactly.
- **Distance** (:class:`PatternDistance`): every target's error is counted in units of its
  tolerance (the half-width of its acceptance band on that side: 10% for a survey, the bands of
  ``data/patterns.yaml`` for a pattern); the distance is the root of the mean, over three groups
  (coca area, leaf price, programme and security), of each group's mean squared error. A distance
  of 1 puts the targets on average at the edge of their bands.
- **Sampler**: ABC-SMC (Toni et al. 2009; Klinger et al. 2018) with pyabc's adaptive
  multivariate normal transitions; the first generation accepts distances below
  ``initial_epsilon``, each later one below the ``epsilon_quantile`` of the previous one's. On one
  machine pyabc's ``MulticoreEvalParallelSampler`` runs the candidates with ``check_max_eval``, so
  a generation stops at ``population_size / min_acceptance_rate`` evaluations and the run at
  ``max_total_simulations`` (checked between generations): a hard stop. ``--scheduler`` uses
  pyabc's ``DaskDistributedSampler`` on a cluster instead; that sampler does not honour a
  generation's evaluation limit, so there only ``max_total_simulations`` and ``max_minutes``
  (between generations) stop it.

Output folder: ``posterior.parquet`` (the last generation's particles: one column per calibrated
parameter, the derived ``farmer.max_coca_ha``, ``weight`` and ``generation``), ``generations.csv``
and ``posterior_summary.csv`` (tables), ``manifest.json`` (ESS, epsilon and acceptance per
generation, simulations, runtime), ``abc.db`` (pyabc's full history), ``posterior_marginals.png``,
``posterior_pairs.png``, ``generations.png`` and ``posterior_predictive.png`` (coca ha 2013-2024
and the leaf price, from posterior draws run to 2024, observed points overlaid, unfitted ones
marked). ``--ship`` copies the posterior and manifest to ``vraem/data/posteriors/<variant>``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import math
import shutil
import struct
import time
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from vraem.observed import (
    CALIBRATION_YEARS,
    load_leaf_prices,
    load_observed,
    month_of_date,
    month_of_year,
)
from vraem.params import plausible_ranges
from vraem.posterior import draw_parameters, is_parameter
from vraem.runner import provenance, replicate_seed, run_once
from vraem.scenario import (
    ScenarioError,
    apply_override,
    describe_error,
    load_scenario,
    read_yaml_mapping,
    resolve_scenario_path,
    validate_scenario,
)
from vraem.simulation import VraemModel
from vraem.user_input import NumbersNotBooleans, clip, echo

DEFAULT_CONFIG = "calibration.yaml"
"""The default config, shipped in ``vraem/data``."""
POSTERIORS_DIR = "posteriors"
"""``vraem/data/posteriors/<variant>.parquet`` and ``.json``: each variant's shipped posterior."""
DERIVED = "farmer.max_coca_ha"
"""Derived for every candidate (opening equilibrium), never sampled."""
PREDICTIVE_END_YEAR = 2024
"""The posterior-predictive runs reach the last survey."""
TOLERANCE = 0.10
"""Issue 2: the status quo's defaults follow 2013-2019 within 10% in every year (replicate mean)."""
SURVEY_TOLERANCE = 0.10
"""A survey's tolerance in the distance: +/-10% (data/patterns.yaml: survey error; two sources
differ by up to 6.6%, 2017)."""
PRICE_TOLERANCE = 0.20
"""A single month's leaf price tolerance: +/-20% (data/patterns.yaml: exchange rate and one month)."""
GROUPS = ("coca", "leaf", "programme")
"""The distance's groups, each weighing the same: coca area, leaf price, programme and security."""


class CalibrationError(ScenarioError):
    """A calibration config or option that cannot be used, with a one-line message for people."""


class PatternFit(NumbersNotBooleans):
    """A documented pattern fitted as documented, optionally over other years or on another scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    years: list[str] | None = Field(
        None,
        min_length=1,
        max_length=2,
        description="the window (default: the pattern's own years)",
    )
    scenario: str | None = Field(
        None, description="the scenario that replays it (default: the pattern's own)"
    )


class CalibrationConfig(NumbersNotBooleans):
    """A validated calibration config (see ``vraem/data/calibration.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = "status_quo"
    variant: str | None = Field(None, description="a model variant of data/variants.yaml")
    mechanisms: list[str] | None = Field(
        None, description="the mechanisms switched on (instead of a variant)"
    )
    households: int = Field(1500, ge=50)
    fit_end_year: int = Field(CALIBRATION_YEARS[1], description="nothing later is fitted (leave-future-out)")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="dotted keys set in every calibration run: the observed history the scenario "
        "lacks, not parameters to fit",
    )
    parameters: dict[str, tuple[float, float] | None] = Field(min_length=1)
    coca_years: list[int] = Field(min_length=1)
    leaf_price_dates: list[str] = Field(default_factory=list)
    patterns: dict[str, PatternFit | None] = Field(
        default_factory=dict,
        description="documented patterns (data/patterns.yaml) fitted, each on its scenario",
    )
    population_size: int = Field(100, ge=4, le=100_000)
    generations: int = Field(6, ge=1, le=100)
    epsilon_quantile: float = Field(0.5, gt=0, lt=1)
    prior_share: float = Field(
        0.3, ge=0, lt=1,
        description="share of each generation's proposals drawn from the prior (defensive mixture)",
    )
    minimum_epsilon: float = Field(0.02, ge=0)
    initial_epsilon: float = Field(10.0, gt=0)
    min_acceptance_rate: float = Field(0.02, gt=0, le=1)
    max_total_simulations: int = Field(20_000, ge=4)
    target_ess: float = Field(500, ge=0)
    max_minutes: float = Field(30.0, gt=0)
    predictive_draws: int = Field(24, ge=0, le=10_000)
    seed: int = Field(2013, ge=0)
    max_coca_ha_range: tuple[float, float] = Field(
        (1.5, 6.1), description="candidates whose derived labour capacity falls outside are rejected"
    )

    @field_validator("parameters")
    @classmethod
    def _known(cls, v: dict[str, tuple[float, float] | None]) -> dict[str, tuple[float, float] | None]:
        ranges = plausible_ranges()
        for key, rng in v.items():
            if key == DERIVED:
                raise ValueError(f"{key} is derived for every candidate (opening equilibrium), not sampled")
            if not is_parameter(key):
                raise ValueError(f"{clip(key)} is not a model parameter (see `vraem params`)")
            if rng is None and key not in ranges:
                raise ValueError(f"{key} has no plausible range in params.py: give [low, high]")
            if rng is not None and not rng[1] > rng[0]:
                raise ValueError(f"{key}: high must be greater than low (got {echo(list(rng))})")
        return v

    @field_validator("coca_years")
    @classmethod
    def _surveyed(cls, v: list[int]) -> list[int]:
        surveyed = set(load_observed()["year"])
        missing = [y for y in v if y not in surveyed]
        if missing:
            raise ValueError(f"no survey in {missing} (surveyed: {sorted(surveyed)})")
        return sorted(set(v))

    @field_validator("leaf_price_dates")
    @classmethod
    def _priced(cls, v: list[str]) -> list[str]:
        vraem = set(load_leaf_prices().query("area == 'VRAEM'")["date"])
        missing = [d for d in v if d not in vraem]
        if missing:
            raise ValueError(f"no VRAEM leaf price at {missing} (dates: {sorted(vraem)})")
        return sorted(set(v))

    @field_validator("variant")
    @classmethod
    def _variant(cls, v: str | None) -> str | None:
        from vraem.patterns import load_variants

        if v is not None and v not in (names := load_variants()):
            raise ValueError(f"unknown variant {clip(v)!r} (data/variants.yaml: {', '.join(names)})")
        return v

    @field_validator("mechanisms")
    @classmethod
    def _mechanisms(cls, v: list[str] | None) -> list[str] | None:
        from vraem.params import MechanismParams

        unknown = [m for m in v or [] if m not in MechanismParams.model_fields]
        if unknown:
            allowed = ", ".join(MechanismParams.model_fields)
            raise ValueError(f"unknown mechanism {clip(unknown[0])!r} (allowed: {allowed})")
        return v

    @field_validator("patterns")
    @classmethod
    def _documented(cls, v: dict[str, PatternFit | None]) -> dict[str, PatternFit | None]:
        from vraem.patterns import load_patterns

        names = {p.name for p in load_patterns()}
        unknown = [k for k in v if k not in names]
        if unknown:
            raise ValueError(
                f"no pattern {clip(unknown[0])!r} in data/patterns.yaml (see `vraem validate-history`)"
            )
        return v

    @model_validator(mode="after")
    def _after_start(self) -> CalibrationConfig:
        lo, hi = self.max_coca_ha_range
        if not 0 < lo < hi:
            raise ValueError(f"max_coca_ha_range must be [low, high] with 0 < low < high (got {[lo, hi]})")
        if self.variant is not None and self.mechanisms is not None:
            raise ValueError("give variant or mechanisms, not both")
        if self.predictive_draws > self.population_size:
            raise ValueError(
                f"predictive_draws ({self.predictive_draws}) must be at most population_size "
                f"({self.population_size}): draws are resampled from the final particles"
            )
        start = load_scenario(self.scenario).start_year
        early = [y for y in self.coca_years if y < start] + [
            d for d in self.leaf_price_dates if int(d[:4]) < start
        ]
        if early:
            raise ValueError(f"coca_years/leaf_price_dates before the scenario's start {start}: {early}")
        late = [str(y) for y in self.coca_years if y > self.fit_end_year]
        late += [d for d in self.leaf_price_dates if int(d[:4]) > self.fit_end_year]
        late += [
            f"{p.name} {p.years}" for p in self.fitted_patterns() if int(p.years[-1][:4]) > self.fit_end_year
        ]
        if late:
            raise ValueError(
                f"fit_end_year {self.fit_end_year}: leave-future-out, nothing later may be fitted "
                f"(got {late})"
            )
        for p in self.fitted_patterns():
            if load_scenario(p.scenario).start_year != start:
                raise ValueError(f"patterns.{p.name}: scenario {p.scenario} does not start in {start}")
        return self

    def priors(self) -> dict[str, tuple[float, float]]:
        """Dotted key -> (low, high) of each uniform prior."""
        ranges = plausible_ranges()
        return {k: tuple(map(float, v if v is not None else ranges[k])) for k, v in self.parameters.items()}

    def mechanism_list(self) -> list[str] | None:
        """The mechanisms every run carries (None: the scenario's own switches)."""
        if self.variant is not None:
            from vraem.patterns import load_variants

            return list(load_variants()[self.variant].mechanisms)
        return None if self.mechanisms is None else list(self.mechanisms)

    def label(self) -> str:
        """The variant's name, or a name made of the mechanisms (``custom`` for the scenario's own)."""
        if self.variant is not None:
            return self.variant
        if self.mechanisms is None:
            return "custom"
        return "+".join(self.mechanisms) or "none"

    def run_overrides(self) -> dict[str, Any]:
        """The overrides of every run: the config's, and the variant's mechanisms."""
        mechanisms = self.mechanism_list()
        return {**self.overrides, **({"mechanisms": mechanisms} if mechanisms is not None else {})}

    def fitted_patterns(self) -> list:
        """The documented patterns fitted, each on its scenario over its years (as given here)."""
        from vraem.patterns import load_patterns

        shipped = {p.name: p for p in load_patterns()}
        out = []
        for name, fit_ in self.patterns.items():
            update: dict[str, Any] = {}
            if fit_ is not None:
                update = {k: v for k, v in fit_.model_dump().items() if v is not None}
            out.append(type(shipped[name]).model_validate({**shipped[name].model_dump(), **update}))
        return out

    def with_variant(self, variant: str) -> CalibrationConfig:
        """The same config for another variant (validated again)."""
        data = {**self.model_dump(), "variant": variant, "mechanisms": None}
        return CalibrationConfig.model_validate(data)

    def origins(self) -> list[int]:
        """The rolling origins it can be cut at: survey years after the start, before ``fit_end_year``."""
        start = load_scenario(self.scenario).start_year
        return sorted(int(y) for y in load_observed()["year"] if start < y < self.fit_end_year)

    def at_origin(self, origin: int) -> tuple[CalibrationConfig, dict[str, list[str]]]:
        """The same config fitted only up to a rolling origin (``fit_end_year: origin``).

        Surveys and leaf prices after the origin are dropped. A pattern whose window starts after
        it is dropped; one that reaches past it is cut at the origin's December when its statistic
        holds over any part of the window (a mean, a share), and dropped when it is a date's
        figure (``at``, ``ratio``, ``min``, ``max``: a shorter window would be another pattern).

        Returns:
            The cut config (validated again: leave-future-out still holds) and what was cut:
            ``{"dropped": [...], "clipped": [...]}``, each a target and its dates.

        Raises:
            CalibrationError: The origin is not one of :meth:`origins`, or leaves no target.
        """
        from vraem.patterns import Statistic

        allowed = self.origins()
        if origin not in allowed:
            raise CalibrationError(
                f"--origin {origin}: must be a survey year after the scenario's start and before the "
                f"config's fit_end_year {self.fit_end_year} "
                f"(allowed: {', '.join(map(str, allowed)) or 'none'})"
            )
        dropped = [f"coca_{y}" for y in self.coca_years if y > origin]
        dropped += [f"leaf_{d}" for d in self.leaf_price_dates if int(d[:4]) > origin]
        clipped: list[str] = []
        patterns: dict[str, Any] = {}
        for p in self.fitted_patterns():
            given = self.patterns[p.name]
            first, last = p.years[0], p.years[-1]
            window = "..".join(p.years)
            if int(first[:4]) > origin or (
                int(last[:4]) > origin and p.statistic not in (Statistic.MEAN, Statistic.SHARE)
            ):
                dropped.append(f"{p.name} {window}")
                continue
            if int(last[:4]) > origin:
                cut = [first, f"{origin}-12"]
                clipped.append(f"{p.name} {window} -> {'..'.join(cut)}")
                given = PatternFit(years=cut, scenario=given.scenario if given is not None else None)
            patterns[p.name] = None if given is None else given.model_dump()
        coca = [y for y in self.coca_years if y <= origin]
        prices = [d for d in self.leaf_price_dates if int(d[:4]) <= origin]
        if not coca:  # a calibration fits the surveys at least (coca_years may not be empty)
            raise CalibrationError(
                f"--origin {origin}: leaves no survey to fit (coca_years {self.coca_years} all come "
                f"later; allowed: {', '.join(str(o) for o in allowed if o >= self.coca_years[0]) or 'none'})"
            )
        data = {
            **self.model_dump(),
            "fit_end_year": origin,
            "coca_years": coca,
            "leaf_price_dates": prices,
            "patterns": patterns,
        }
        return CalibrationConfig.model_validate(data), {"dropped": dropped, "clipped": clipped}


def package_data_dir() -> Path:
    """The package's data folder (``model/vraem/data`` in a checkout)."""
    return Path(str(resources.files("vraem.data")))


def default_config_path() -> Path:
    """The shipped default config."""
    return package_data_dir() / DEFAULT_CONFIG


def load_config(path: str | Path | None = None, variant: str | None = None) -> CalibrationConfig:
    """Read and validate a calibration config; every problem is one :class:`CalibrationError` line.

    Args:
        path: The YAML file (default: the shipped one).
        variant: A variant of ``data/variants.yaml`` that replaces the config's variant or mechanisms.
    """
    path = Path(path) if path is not None else default_config_path()
    raw = read_yaml_mapping(path, CalibrationError, "a calibration YAML file")
    if variant is not None:
        raw = {**raw, "variant": variant}
        raw.pop("mechanisms", None)
    try:
        load_scenario(raw.get("scenario", "status_quo"))
    except ScenarioError as exc:
        raise CalibrationError(f"{path}: scenario: {exc}") from None
    try:
        config = CalibrationConfig.model_validate(raw)
    except ValidationError as exc:
        where = "--variant" if variant is not None and _names_variant(exc) else str(path)
        raise CalibrationError(f"{where}: {describe_error(exc, CalibrationConfig)}") from None
    try:
        load_scenario(config.scenario, config.run_overrides(), source="overrides")
    except ScenarioError as exc:
        raise CalibrationError(f"{path}: {exc}") from None
    return config


def _names_variant(exc: ValidationError) -> bool:
    return any(e.get("loc", ())[:1] == ("variant",) for e in exc.errors())


# ---------------------------------------------------------------------------------------------
# Observed targets, the model and the distance


def observed_targets(config: CalibrationConfig) -> dict[str, float]:
    """The observed summary statistics: ``coca_<year>`` (ha), ``leaf_<date>`` (USD/kg), ``pattern_<name>``.

    A pattern with no observed figure (a direction) is given the middle of its acceptance band.
    """
    coca = load_observed().set_index("year")["coca_ha"]
    prices = load_leaf_prices().query("area == 'VRAEM'").set_index("date")["price_usd_per_kg"]
    out = {f"coca_{y}": float(coca[y]) for y in config.coca_years}
    out.update({f"leaf_{d}": float(prices[d]) for d in config.leaf_price_dates})
    for p in config.fitted_patterns():
        out[f"pattern_{p.name}"] = float(p.observed if p.observed is not None else sum(p.accept) / 2)
    return out


def target_tolerances(config: CalibrationConfig) -> dict[str, tuple[float, float, str]]:
    """Per target: its tolerance below and above the observed value, and its group.

    A survey: +/-10% (:data:`SURVEY_TOLERANCE`); a month's leaf price: +/-20%
    (:data:`PRICE_TOLERANCE`); a pattern: the distance from its observed figure to each edge of
    its acceptance band (``data/patterns.yaml``), in the group of its column (coca, leaf price, or
    else programme and security).
    """
    obs = observed_targets(config)
    out: dict[str, tuple[float, float, str]] = {}
    for key, value in obs.items():
        if key.startswith("coca_"):
            out[key] = (SURVEY_TOLERANCE * value, SURVEY_TOLERANCE * value, "coca")
        elif key.startswith("leaf_"):
            out[key] = (PRICE_TOLERANCE * value, PRICE_TOLERANCE * value, "leaf")
    for p in config.fitted_patterns():
        key = f"pattern_{p.name}"
        lo, hi = p.accept
        group = {"coca_ha": "coca", "leaf_price_usd_per_kg": "leaf"}.get(p.column, "programme")
        centre = obs[key]
        below, above = centre - lo, hi - centre
        if below <= 0 or above <= 0:  # an observed value on the band's edge: the band's half-width
            below = above = (hi - lo) / 2
        out[key] = (float(below), float(above), group)
    return out


class PatternDistance:
    """The root of the mean over groups of each group's mean squared error in tolerance units.

    Each target's error is ``(simulated - observed) / tolerance``, the tolerance being the one on
    the side the simulated value falls (:func:`target_tolerances`); each group (coca area, leaf
    price, programme and security) weighs the same however many targets it has. Keys of the
    simulation that are not targets (the derived capacity) are ignored; a missing or NaN
    statistic (a share of nothing) counts as one tolerance off.

    Args:
        tolerances: Target -> (below, above, group).
    """

    def __init__(self, tolerances: dict[str, tuple[float, float, str]]):
        self.tolerances = dict(tolerances)

    def errors(self, sim: dict[str, float], obs: dict[str, float]) -> dict[str, float]:
        """Each target's error in tolerance units."""
        out = {}
        for key, (below, above, _) in self.tolerances.items():
            x = float(sim.get(key, math.nan))
            diff = x - obs[key]
            out[key] = 1.0 if math.isnan(x) else diff / (above if diff > 0 else below)
        return out

    def __call__(self, sim: dict[str, float], obs: dict[str, float]) -> float:
        """The distance between a simulation's statistics and the observed ones."""
        return self._combine(self.errors(sim, obs))

    def lower_bound(self, partial: dict[str, float], obs: dict[str, float]) -> float:
        """The least distance a candidate can reach, knowing only some of its statistics.

        Each target not yet in ``partial`` counts as a perfect fit (error 0): whatever the later
        statistics are, the distance is at least this, so a candidate whose bound exceeds epsilon
        is rejected exactly as its full distance would reject it.
        """
        err = self.errors(partial, obs)
        return self._combine({k: (e if k in partial else 0.0) for k, e in err.items()})

    def _combine(self, err: dict[str, float]) -> float:
        groups = []
        for g in GROUPS:
            e = [err[k] for k, (_, _, gk) in self.tolerances.items() if gk == g]
            if e:
                groups.append(float(np.mean(np.square(e))))
        return math.sqrt(float(np.mean(groups)))


def evaluation_seed(base_seed: int, values: list[float]) -> int:
    """A seed derived from a candidate's parameter values: the same candidate, the same run."""
    words = np.frombuffer(struct.pack(f"<{len(values)}d", *values), dtype=np.uint32)
    return int(np.random.SeedSequence([int(base_seed), *map(int, words)]).generate_state(1)[0])


@functools.lru_cache(maxsize=16)
def _scenario_file(name: str) -> tuple[str, dict[str, Any]]:
    path = resolve_scenario_path(name)
    return str(path), read_yaml_mapping(path)


def cached_scenario(name: str, overrides: dict[str, Any]):
    """:func:`vraem.scenario.load_scenario`, with the file read once per process.

    A calibration loads the same few scenarios thousands of times with different overrides;
    parsing their YAML each time cost about a tenth of an evaluation.
    """
    path, raw = _scenario_file(name)
    raw = copy.deepcopy(raw)
    for key, value in overrides.items():
        apply_override(raw, key, value, source="--set")
    return validate_scenario(raw, path)


def equilibrium_max_coca_ha(overrides: dict, seed: int = 1, scenario: str = "status_quo") -> float:
    """Labour capacity that makes the opening desired coca equal the observed area."""
    sc = cached_scenario(scenario, overrides)
    current = sc.parameters.farmer.max_coca_ha
    for _ in range(2):
        sc = cached_scenario(scenario, {**overrides, DERIVED: current})
        m = VraemModel(params=sc.parameters, policy=sc.policy, seed=seed, months=1)
        current *= m.initial_coca_rescale
    return float(current)


def pyabc_name(key: str) -> str:
    """The name pyabc knows a dotted key by (its parameters are attribute-like names)."""
    return key.replace(".", "__")


def candidate_values(par, priors: dict[str, tuple[float, float]]) -> dict[str, float]:
    """A pyabc parameter's values on the model's scale (dotted keys).

    pyabc samples each parameter on the logit scale of its prior range,
    ``z = log(u / (1 - u))`` with ``u = (x - low) / (high - low)``, under a standard logistic
    prior: the image of the uniform prior on ``[low, high]``, so the posterior is the same. On a
    bounded scale, pyabc's Gaussian proposals spill over the edges and their density there falls,
    so particles near the edges of the range (where a flat posterior of eight parameters puts
    many) took most of the importance weight: in a 150-particle trial on the uniform scale the
    ESS fell to 29 and then 18. On the logit scale the proposals have no edges.
    """
    from scipy.special import expit

    return {k: lo + (hi - lo) * float(expit(float(par[pyabc_name(k)]))) for k, (lo, hi) in priors.items()}


def pyabc_prior(priors: dict[str, tuple[float, float]]):
    """The prior pyabc samples: standard logistic on each range's logit scale (:func:`candidate_values`)."""
    import pyabc

    return pyabc.Distribution(**{pyabc_name(k): pyabc.RV("logistic", 0.0, 1.0) for k in priors})


class Simulator:
    """One model evaluation: candidate values -> summary statistics (picklable; pyabc calls it).

    Args:
        config: The calibration config (scenario, variant, scale, targets).
        targets: Names of the statistics to report (those of :func:`observed_targets`).
        households: The valley's size (default: the config's).
    """

    def __init__(self, config: CalibrationConfig, targets: list[str], households: int | None = None):
        self.scenario = config.scenario
        self.households = households or config.households
        self.fixed = config.run_overrides()
        self.seed = config.seed
        self.keys = list(config.parameters)
        self.priors = config.priors()
        self.targets = targets
        self.capacity_range = config.max_coca_ha_range
        fitted = {f"pattern_{p.name}": p for p in config.fitted_patterns()}
        self.patterns = {k: p for k, p in fitted.items() if k in targets}
        start = load_scenario(config.scenario).start_year
        self.start_year = start
        self.months: dict[str, int] = {}
        for t in targets:
            name = self.patterns[t].scenario if t in self.patterns else self.scenario
            self.months[name] = max(self.months.get(name, 0), self._last_month(t))

    def _last_month(self, target: str) -> int:
        if target in self.patterns:
            return max(self.patterns[target].months(self.start_year))
        kind, _, when = target.partition("_")
        if kind == "coca":
            return month_of_year(int(when), self.start_year)
        return month_of_date(when, self.start_year)

    def overrides(self, values: dict[str, float]) -> dict[str, Any]:
        """Scenario overrides of a candidate: its values, the scale and the derived capacity."""
        base = {**self.fixed, **values, "farmer.n_households": self.households}
        return {**base, DERIVED: equilibrium_max_coca_ha(base, scenario=self.scenario)}

    def simulate(self, values: dict[str, float]) -> dict[str, float]:
        """Run each scenario the targets need once for a candidate (dotted keys); return the statistics.

        Every scenario runs with the candidate's values, its derived capacity and the same seed,
        to the last month its targets need. A candidate whose derived labour capacity is outside
        ``max_coca_ha_range`` is not run: its statistics are infinite, so its distance is infinite
        and ABC rejects it (the prior is truncated to candidates with a plausible capacity).
        """
        *_, out = self.stages(values)
        return out

    def stages(self, values: dict[str, float]) -> Iterator[dict[str, float]]:
        """The statistics known after each scenario run, in order (the last holds them all).

        The first scenario is the config's (it holds most targets); a caller that can tell from
        a part of the statistics that the candidate will be rejected stops asking
        (:class:`vraem.abc_model.EarlyRejection`), and the later scenarios are never run.
        """
        from vraem.patterns import statistic
        from vraem.sweep.engine import relax_malloc_trim

        relax_malloc_trim()
        over = self.overrides(values)
        lo, hi = self.capacity_range
        if not lo <= over[DERIVED] <= hi:
            yield {DERIVED: over[DERIVED], **dict.fromkeys(self.targets, math.inf)}
            return
        seed = evaluation_seed(self.seed, list(values.values()))
        out = {DERIVED: over[DERIVED]}
        for name, months in self.months.items():
            sc = cached_scenario(name, {**over, "months": months + 1})
            table, scale = run_once(sc, 0, seed).table, sc.parameters.scale
            by_month = table.set_index("month") if name == self.scenario else None
            for t in self.targets:
                if t in self.patterns:
                    p = self.patterns[t]
                    if p.scenario == name:
                        out[t] = statistic(p, table, self.start_year, scale)
                    continue
                if name != self.scenario:
                    continue
                col = "coca_ha" if t.startswith("coca_") else "leaf_price_usd_per_kg"
                value = float(by_month.at[self._last_month(t), col])
                out[t] = value / scale if col == "coca_ha" else value
            yield dict(out)

    def __call__(self, par) -> dict[str, float]:
        """Run the scenario once for a pyabc parameter and return the statistics."""
        return self.simulate(self.values(par))

    def values(self, par) -> dict[str, float]:
        """A pyabc parameter's candidate values (:func:`candidate_values`)."""
        return candidate_values(par, self.priors)


# ---------------------------------------------------------------------------------------------
# Running ABC-SMC


PRIOR_CHECK_DRAWS = 12
"""Prior draws whose derived labour capacity is checked before ABC starts (see below)."""


def check_capacity_range(config: CalibrationConfig) -> None:
    """Refuse a config under which no prior candidate can have a plausible labour capacity.

    A candidate whose derived ``farmer.max_coca_ha`` is outside ``max_coca_ha_range`` has an
    infinite distance. If all are, ABC would search until its evaluation limits, so a few seeded
    prior draws are checked first.
    """
    rng = np.random.default_rng(config.seed)
    keys = list(config.parameters)
    bounds = config.priors()
    draws = [{k: float(rng.uniform(*bounds[k])) for k in keys} for _ in range(PRIOR_CHECK_DRAWS)]
    lo, hi = config.max_coca_ha_range
    seen = []
    for values in draws:
        base = {**config.run_overrides(), **values, "farmer.n_households": config.households}
        capacity = equilibrium_max_coca_ha(base, scenario=config.scenario)
        if lo <= capacity <= hi:
            return
        seen.append(capacity)
    raise CalibrationError(
        f"max_coca_ha_range [{lo:g}, {hi:g}]: none of {PRIOR_CHECK_DRAWS} prior draws has a labour "
        f"capacity inside it (they need {min(seen):.3g} to {max(seen):.3g} ha); widen the range or "
        "narrow the priors"
    )


def _sampler(client, workers: int | None, scheduler: str | None):
    """Pyabc's sampler: on a Dask cluster (a client or ``--scheduler``), else processes on this machine.

    Returns:
        ``(sampler, mapper, close)``: the sampler, a ``map(function, items)`` for the
        posterior-predictive runs, and what to call at the end.
    """
    import os

    from pyabc.sampler import DaskDistributedSampler, MulticoreEvalParallelSampler

    if client is None and scheduler:
        from vraem.sweep.engine import connect

        client, _ = connect(None, scheduler)
        owned = client
    else:
        owned = None
    if client is not None:
        def mapper(fn, items):
            return client.gather([client.submit(fn, *args, pure=False) for args in items])

        close = owned.close if owned is not None else (lambda: None)
        return DaskDistributedSampler(dask_client=client, batch_size=1), mapper, close
    procs = workers or os.cpu_count() or 1

    def mapper(fn, items):
        import multiprocessing as mp

        with mp.get_context("fork").Pool(procs) as pool:
            return pool.starmap(fn, list(items))

    sampler = MulticoreEvalParallelSampler(n_procs=procs, check_max_eval=True)
    sampler.show_progress = False
    return sampler, mapper, lambda: None


def run_calibration(
    config: CalibrationConfig,
    out: str | Path,
    *,
    client=None,
    workers: int | None = None,
    scheduler: str | None = None,
    config_path: str | None = None,
    observed: dict[str, float] | None = None,
    resume: bool = False,
    finish: bool = False,
    note=print,
) -> dict[str, Any]:
    """Run ABC-SMC, write the posterior and diagnostics to ``out``, and return the manifest.

    Args:
        config: The validated config.
        out: Output folder (created; an earlier calibration there is replaced).
        client: A connected Dask client (pyabc's Dask sampler); else ``scheduler`` (Dask) or
            ``workers`` local processes (pyabc's multicore sampler, which honours the limits).
        workers: Local worker processes (default one per core).
        scheduler: Address of a running Dask scheduler.
        config_path: Where the config came from (recorded).
        observed: Targets to fit instead of the observed data (synthetic data in tests), with the
            keys of :func:`observed_targets`.
        resume: Continue the run stored in ``out/abc.db`` with up to ``generations`` more
            generations (raise ``max_total_simulations`` and ``max_minutes`` to give it room).
        finish: Sample nothing more: write the posterior and diagnostics of the run stored in
            ``out/abc.db`` (its last full generation), after an interruption or a stop that left
            no outputs.
        note: Where progress lines go.
    """
    import pyabc

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if finish and not (out / "abc.db").exists():
        raise CalibrationError(f"--finish: no stored run in {out} (abc.db); run the calibration first")
    resume = (resume or finish) and (out / "abc.db").exists()
    for name in ("posterior.parquet", "manifest.json", *(() if resume else ("abc.db",))):
        (out / name).unlink(missing_ok=True)
    priors = config.priors()
    targets = observed if observed is not None else observed_targets(config)
    check_capacity_range(config)
    simulator = Simulator(config, list(targets))
    # compile the kernels once here: forked workers inherit them
    simulator.simulate({k: (lo + hi) / 2 for k, (lo, hi) in priors.items()})
    sampler, mapper, close = _sampler(client, workers, scheduler)
    db = f"sqlite:///{(out / 'abc.db').resolve()}"
    initial_epsilon = config.initial_epsilon
    if resume:  # the next epsilon from the stored last generation, not the first generation's
        from pyabc.weighted_statistics import weighted_quantile

        stored = pyabc.History(db, create=False)
        d = stored.get_weighted_distances(t=stored.max_t)
        initial_epsilon = float(weighted_quantile(d["distance"].to_numpy(), d["w"].to_numpy(),
                                                  alpha=config.epsilon_quantile))
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    try:
        prior = pyabc_prior(priors)
        from vraem.abc_model import DefensiveTransition, EarlyRejection

        distance = PatternDistance(
            target_tolerances(config) if observed is None else _tolerances_for(config, targets)
        )
        abc = pyabc.ABCSMC(
            EarlyRejection(simulator, distance, targets),
            prior,
            distance,
            population_size=config.population_size,
            transitions=DefensiveTransition(prior, config.prior_share, config.seed),
            eps=pyabc.QuantileEpsilon(initial_epsilon=initial_epsilon, alpha=config.epsilon_quantile),
            sampler=sampler,
        )
        if finish:  # pyabc runs at least one generation once asked to run: read the store instead
            history = pyabc.History(db, create=False)
            note(f"finishing {out / 'abc.db'} at its generation {history.max_t}")
        else:
            if resume:
                abc.load(db, 1)
                note(f"resuming {out / 'abc.db'} after generation {abc.history.max_t}")
            else:
                abc.new(db, targets)
            history = abc.run(
                minimum_epsilon=config.minimum_epsilon,
                max_nr_populations=config.generations,
                min_acceptance_rate=config.min_acceptance_rate,
                max_total_nr_simulations=config.max_total_simulations,
                max_walltime=dt.timedelta(minutes=config.max_minutes),
            )
        abc_seconds, abc_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        if history.max_t < 0:
            limit = math.ceil(config.population_size / config.min_acceptance_rate)
            raise CalibrationError(
                f"min_acceptance_rate {config.min_acceptance_rate:g}: the first generation stopped after "
                f"{sampler.nr_evaluations_} evaluations (limit {limit}) with fewer than "
                f"{config.population_size} accepted; raise initial_epsilon or lower min_acceptance_rate"
            )
        posterior = posterior_frame(history, priors)
        generations = generation_table(history)
        note(f"ABC-SMC {config.label()}: {len(generations)} generations, {int(generations['samples'].sum())} "
             f"simulations, {abc_seconds:.0f} s; final epsilon {generations['epsilon'].iloc[-1]:.4f}, "
             f"ESS {generations['ess'].iloc[-1]:.0f}")
        predictive = posterior_predictive(posterior, config, mapper)
    finally:
        close()
    posterior.to_parquet(out / "posterior.parquet", index=False)
    generations.to_csv(out / "generations.csv", index=False)
    summary = posterior_summary(posterior, priors)
    summary.to_csv(out / "posterior_summary.csv", index=False)
    predictive.to_csv(out / "posterior_predictive.csv", index=False)
    write_figures(out, history, posterior, priors, generations, predictive, config)
    ess = float(generations["ess"].iloc[-1])
    manifest = {
        "kind": "calibration",
        "variant": config.label(),
        "mechanisms": config.mechanism_list(),
        "config_path": config_path or f"vraem/data/{DEFAULT_CONFIG} (the shipped config)",
        "config": json.loads(config.model_dump_json()),
        "priors": {k: {"distribution": "uniform", "low": lo, "high": hi} for k, (lo, hi) in priors.items()},
        "derived": {DERIVED: "set per candidate so that the opening desired coca equals the 2013 survey"},
        "observed": targets,
        "tolerances": None
        if observed is not None
        else {k: {"below": b, "above": a, "group": g} for k, (b, a, g) in target_tolerances(config).items()},
        "fit_end_year": config.fit_end_year,
        "distance": (PatternDistance.__doc__ or "").splitlines()[0],
        "sampler": type(sampler).__name__,
        "seeds": "each evaluation: vraem.calibration.evaluation_seed(config.seed, candidate values); "
        "the ABC proposals come from NumPy's global generator in the worker processes, so a rerun "
        "gives a different but equivalent posterior",
        "generations": generations.to_dict(orient="records"),
        "posterior_summary": summary.to_dict(orient="records"),
        "posterior_predictive": predictive.to_dict(orient="records"),
        "particles": len(posterior),
        "effective_sample_size": ess,
        # ESS alone would call generation 0 (rejection ABC, equal weights) converged
        "converged": bool(ess >= config.target_ess and len(generations) > 1),
        "target_ess": config.target_ess,
        "final_epsilon": float(generations["epsilon"].iloc[-1]),
        "simulations": int(generations["samples"].sum()),
        "abc_seconds": round(abc_seconds, 1),
        # CPU of this process and its finished workers (local samplers): on a machine with nothing
        # else running, ABC-SMC's wall time is about this over the number of workers
        "abc_cpu_seconds": round(abc_cpu, 1),
        "abc_seconds_all_generations": round(float(generations["wall_seconds"].sum()), 1),
        "resumed": resume,
        "finished_from_store": finish,
        "seconds": round(time.perf_counter() - t0, 1),
        **provenance(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def _tolerances_for(
    config: CalibrationConfig, targets: dict[str, float]
) -> dict[str, tuple[float, float, str]]:
    """Tolerances for synthetic targets: the observed data's bands, scaled to the synthetic values."""
    real = observed_targets(config)
    out = {}
    for key, (below, above, group) in target_tolerances(config).items():
        if key.startswith(("coca_", "leaf_")) and real[key]:
            f = targets[key] / real[key]
            out[key] = (below * f, above * f, group)
        else:
            out[key] = (below, above, group)
    return out


def cpu_seconds() -> float:
    """CPU time (user and system) of this process and of its children that have finished."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def posterior_frame(history, priors: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """The last generation's particles: parameters, derived capacity, weight, generation."""
    t = history.max_t
    rows = []
    for p in history.get_population(t).particles:
        row = candidate_values(p.parameter, priors)
        row[DERIVED] = float(p.sum_stat[DERIVED])
        row["weight"] = float(p.weight)
        row["distance"] = float(p.distance)
        rows.append(row)
    df = pd.DataFrame(rows)
    df["weight"] /= df["weight"].sum()
    df["generation"] = int(t)
    return df


def generation_table(history) -> pd.DataFrame:
    """Per generation: epsilon, simulations, accepted particles, acceptance rate, ESS, wall time."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].copy()
    counts = history.get_nr_particles_per_population()
    rows = []
    for _, r in pops.iterrows():
        t = int(r["t"])
        _, w = history.get_distribution(m=0, t=t)
        rows.append(
            {
                "generation": t,
                "epsilon": float(r["epsilon"]),
                "samples": int(r["samples"]),
                "accepted": int(counts[t]),
                "acceptance_rate": float(counts[t]) / max(int(r["samples"]), 1),
                "ess": float(effective_sample_size(w)),
                "wall_seconds": float(r["wall_time"]) if pd.notna(r["wall_time"]) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: list[float]) -> list[float]:
    """Quantiles of a weighted sample (pyabc's weighted_quantile)."""
    from pyabc.weighted_statistics import weighted_quantile

    return [float(weighted_quantile(np.asarray(x), np.asarray(w), alpha=q)) for q in qs]


def posterior_summary(posterior: pd.DataFrame, priors: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Weighted mean, median and 90% credible interval of each parameter, with its prior."""
    rows = []
    w = posterior["weight"].to_numpy()
    for key in [*priors, DERIVED]:
        x = posterior[key].to_numpy()
        q05, q50, q95 = weighted_quantiles(x, w, [0.05, 0.5, 0.95])
        lo, hi = priors.get(key, (float("nan"), float("nan")))
        rows.append(
            {
                "parameter": key,
                "mean": float(np.sum(w * x)),
                "median": q50,
                "q05": q05,
                "q95": q95,
                "prior_low": lo,
                "prior_high": hi,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Drawing from a posterior, and the posterior predictive


def _predictive_run(scenario: str, overrides: dict[str, Any], replicate: int, seed: int) -> pd.DataFrame:
    from vraem.sweep.engine import relax_malloc_trim

    relax_malloc_trim()
    sc = load_scenario(scenario, overrides)
    t = run_once(sc, replicate, seed).table
    return pd.DataFrame(
        {
            "draw": replicate,
            "month": t["month"],
            "coca_ha": t["coca_ha"] / sc.parameters.scale,
            "leaf_price_usd_per_kg": t["leaf_price_usd_per_kg"],
        }
    )


def posterior_predictive(
    posterior: pd.DataFrame, config: CalibrationConfig, mapper: Callable[[Callable, list], list]
) -> pd.DataFrame:
    """Draws run to 2024: per survey/price point, observed value, median and 5-95% of the draws.

    Draw k uses replicate k's seed (:func:`vraem.runner.replicate_seed` of the config's seed).
    ``mapper(function, argument tuples)`` runs them (on the calibration's workers).
    """
    if config.predictive_draws == 0:
        return pd.DataFrame()
    start = load_scenario(config.scenario).start_year
    months = month_of_year(PREDICTIVE_END_YEAR, start)
    draws = pd.DataFrame(draw_parameters(posterior, config.predictive_draws, config.seed))
    jobs = [
        (
            config.scenario,
            {
                **config.run_overrides(),
                **row.to_dict(),
                "farmer.n_households": config.households,
                "months": months,
            },
            k,
            replicate_seed(config.seed, k),
        )
        for k, row in draws.iterrows()
    ]
    runs = pd.concat(mapper(_predictive_run, jobs), ignore_index=True)
    obs = load_observed().set_index("year")["coca_ha"]
    rows = []
    for y in range(start, PREDICTIVE_END_YEAR + 1):
        v = runs.loc[runs["month"] == month_of_year(y, start), "coca_ha"]
        rows.append(
            {
                "what": "coca_ha",
                "when": str(y),
                "observed": float(obs[y]) if y in obs.index else float("nan"),
                "median": float(v.median()),
                "p05": float(v.quantile(0.05)),
                "p95": float(v.quantile(0.95)),
                "fitted": y in config.coca_years,
            }
        )
    prices = load_leaf_prices().query("area == 'VRAEM'")
    for _, r in prices.iterrows():
        m = month_of_date(r["date"], start)
        if 0 <= m <= months:
            v = runs.loc[runs["month"] == m, "leaf_price_usd_per_kg"]
            rows.append(
                {
                    "what": "leaf_price_usd_per_kg",
                    "when": r["date"],
                    "observed": float(r["price_usd_per_kg"]),
                    "median": float(v.median()),
                    "p05": float(v.quantile(0.05)),
                    "p95": float(v.quantile(0.95)),
                    "fitted": r["date"] in config.leaf_price_dates,
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["runs"] = runs
    return table


# ---------------------------------------------------------------------------------------------
# Figures



def write_figures(out: Path, history, posterior, priors, generations, predictive, config) -> None:
    """Marginals, pairs, acceptance rate and ESS per generation, posterior predictive."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pyabc.visualization import plot_kde_1d, plot_kde_matrix

    keys = list(priors)
    df = posterior[keys].rename(columns=pyabc_name)
    w = posterior["weight"].to_numpy()
    fig, axes = plt.subplots(1, len(keys), figsize=(3.4 * len(keys), 3.0), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        lo, hi = priors[key]
        plot_kde_1d(df, w, pyabc_name(key), xmin=lo, xmax=hi, ax=ax, xname=key)
        ax.set_title(key, fontsize=8)
        ax.set_xlabel("")
    fig.suptitle("Posterior marginals (weighted KDE) over the prior ranges", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "posterior_marginals.png", dpi=110)
    plt.close(fig)

    if len(keys) > 1:
        limits = {pyabc_name(k): priors[k] for k in keys}
        arr = plot_kde_matrix(df, w, limits=limits, names={pyabc_name(k): k for k in keys})
        arr[0, 0].figure.savefig(out / "posterior_pairs.png", dpi=90)
        plt.close(arr[0, 0].figure)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    a1.plot(generations["generation"], generations["acceptance_rate"], "o-")
    a1.set(xlabel="generation", ylabel="acceptance rate", title="Acceptance rate")
    a2.plot(generations["generation"], generations["ess"], "o-", color="C1")
    a2.set(xlabel="generation", ylabel="particles", title="Effective sample size", ylim=(0, None))
    fig.tight_layout()
    fig.savefig(out / "generations.png", dpi=110)
    plt.close(fig)

    if not predictive.empty:
        plot_predictive(predictive, config, out / "posterior_predictive.png")


def plot_predictive(predictive: pd.DataFrame, config: CalibrationConfig, path: Path) -> None:
    """Coca ha 2013-2024 and the VRAEM leaf price: draws' median and 5-95%, observed points."""
    import matplotlib.pyplot as plt

    start = load_scenario(config.scenario).start_year
    runs = predictive.attrs["runs"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, col, what in ((a1, "coca_ha", "coca_ha"), (a2, "leaf_price_usd_per_kg", "leaf_price_usd_per_kg")):
        g = runs.groupby("month")[col]
        x = start + g.median().index / 12
        ax.fill_between(x, g.quantile(0.05), g.quantile(0.95), alpha=0.3, color="C0", label="5-95% of draws")
        ax.plot(x, g.median(), color="C0", label="median of draws")
        pts = predictive[predictive["what"] == what].dropna(subset=["observed"])
        xs = np.array([start + month_of_date(w, start) / 12 for w in pts["when"]])
        fit = pts["fitted"].to_numpy(dtype=bool)
        ax.plot(xs[fit], pts["observed"][fit], "ko", label="observed, fitted")
        ax.plot(xs[~fit], pts["observed"][~fit], "o", mfc="white", mec="k", label="observed, not fitted")
    a1.axvspan(config.fit_end_year + 0.5, PREDICTIVE_END_YEAR + 0.5, color="0.9", zorder=0)
    top = a1.get_ylim()[1] * 0.97
    unfitted = f"{config.fit_end_year + 1}-{PREDICTIVE_END_YEAR}: not fitted"
    a1.text(config.fit_end_year + 0.7, top, unfitted, va="top", fontsize=8)
    a1.set(
        title=f"Coca ha, {config.scenario} ({config.label()}) over the posterior",
        xlabel="year",
        ylabel="ha (valley)",
    )
    a2.set(title="VRAEM farm-gate leaf price", xlabel="year", ylabel="USD/kg")
    a1.legend(fontsize=7, loc="upper left")
    a2.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# The status quo's defaults (the check CI runs)


def fit(overrides: dict, replicates: int, months: int) -> pd.Series:
    """Replicate-mean coca ha at each survey year for one parameter point of the status quo."""
    sc = load_scenario("status_quo", {**overrides, "months": months})
    obs_years = [y for y in load_observed()["year"] if sc.start_year <= y <= sc.start_year + months / 12]
    rows = []
    for k in range(replicates):
        t = run_once(sc, k, replicate_seed(sc.seed, k)).table
        coca = t.set_index("month")["coca_ha"] / sc.parameters.scale
        rows.append(coca.reindex([month_of_year(y, sc.start_year) for y in obs_years]).to_numpy())
    return pd.Series(np.mean(rows, axis=0), index=obs_years)


def score(sim: pd.Series) -> tuple[float, pd.Series]:
    """Largest relative error over the calibration years, and all relative errors."""
    obs = load_observed().set_index("year")["coca_ha"]
    rel = (sim - obs.reindex(sim.index)) / obs.reindex(sim.index)
    lo, hi = CALIBRATION_YEARS
    cal = rel[(rel.index >= lo) & (rel.index <= hi)]
    return float(cal.abs().max()), rel


def ship(out: str | Path, data_dir: str | Path, variant: str | None = None) -> Path:
    """Copy a calibration's posterior and manifest into the package data.

    With a ``variant``: ``<data_dir>/posteriors/<variant>.parquet`` and ``.json`` (what the
    ensemble over variants reads); without: ``posterior.parquet`` and ``posterior_manifest.json``
    (what ``make run`` has read so far).

    Returns:
        The shipped posterior's path.
    """
    out, data_dir = Path(out), Path(data_dir)
    if variant is None:
        shutil.copyfile(out / "posterior.parquet", data_dir / "posterior.parquet")
        shutil.copyfile(out / "manifest.json", data_dir / "posterior_manifest.json")
        return data_dir / "posterior.parquet"
    folder = data_dir / POSTERIORS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "posterior.parquet", folder / f"{variant}.parquet")
    shutil.copyfile(out / "manifest.json", folder / f"{variant}.json")
    return folder / f"{variant}.parquet"


if __name__ == "__main__":
    import sys

    from vraem.cli import app

    app(["calibrate", *sys.argv[1:]])
