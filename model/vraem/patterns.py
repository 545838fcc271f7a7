"""Pattern-oriented validation: the documented history the model must reproduce, per variant.

Pattern-oriented modelling (Grimm et al. 2005) judges a model by several observed patterns at
once. Here each pattern of ``data/patterns.yaml`` names what was observed and its source, the
scenario that replays it, a statistic of one output column over a window of months, and the band
the model's median must fall in. Model variants (``data/variants.yaml``) are named sets of the
mechanism switches (``parameters.mechanisms``), each a competing explanation of the valley's
history. :func:`evaluate` runs every variant over parameter draws (the shipped posterior) and
seeds, and returns, for each pattern and variant, the model's median and 90% interval and
whether the median lies in the band: the rows of TRACE's "model output corroboration" element
(Grimm et al. 2014).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vraem.observed import month_of_date
from vraem.params import MechanismParams
from vraem.scenario import (
    ScenarioError,
    describe_error,
    load_scenario,
    read_yaml_mapping,
    resolve_scenario_path,
)

PATTERNS_FILE = "patterns.yaml"
VARIANTS_FILE = "variants.yaml"
CITATIONS = ("seed", "UNODC", "DEVIDA", "press", "Peru", "CORAH", "MINAGRI", "INEI", "assumption", "derived")
"""A pattern's source starts with (or names early) one of these: a citation or a marked assumption."""


class PatternError(ScenarioError):
    """A pattern or variant file that cannot be used; the message names the file and the key."""


class Statistic(StrEnum):
    """How a pattern reduces a run's monthly column to one number."""

    AT = "at"
    """The value in one month."""
    MEAN = "mean"
    """The mean over the window (months with no value, such as a share of nothing, are skipped)."""
    MIN = "min"
    """The lowest value in the window."""
    MAX = "max"
    """The highest value in the window."""
    RATIO = "ratio"
    """The value at the second month over the value at the first."""
    SHARE = "share"
    """The column's sum over the window divided by the largest value of ``denominator`` in it."""


def _is_citation(text: str) -> bool:
    return any(text.startswith(a) or a in text[:40] for a in CITATIONS)


class Pattern(BaseModel):
    """One documented pattern (see the header of ``data/patterns.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_]+$")
    description: str = Field(min_length=1, max_length=2_000)
    source: str = Field(min_length=1, max_length=2_000)
    scenario: str = Field(min_length=1, max_length=200)
    column: str = Field(min_length=1, max_length=80)
    statistic: Statistic
    years: list[str] = Field(min_length=1, max_length=2)
    denominator: str | None = None
    extensive: bool = False
    per_year: bool = False
    observed: float | None = Field(None, ge=-1e9, le=1e9)
    accept: tuple[float, float]
    accept_source: str = Field(min_length=1, max_length=2_000)
    in_sample: bool = False

    @field_validator("source")
    @classmethod
    def _cited(cls, value: str) -> str:
        if not _is_citation(value):
            raise ValueError(
                "must cite its source or say 'assumption: <reason>' (starting with one of: "
                f"{', '.join(CITATIONS)})"
            )
        return value

    @field_validator("years")
    @classmethod
    def _dates(cls, value: list[str]) -> list[str]:
        for when in value:
            year, _, month = str(when).partition("-")
            month_ok = not month or (month.isdigit() and 1 <= int(month) <= 12)
            if not (year.isdigit() and len(year) == 4 and month_ok):
                raise ValueError(f"dates are 'YYYY' or 'YYYY-MM' (got {str(when)[:20]!r})")
        return [str(v) for v in value]

    @field_validator("accept")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] <= value[1]:
            raise ValueError(f"must be [low, high] with low <= high (got [{value[0]:g}, {value[1]:g}])")
        if max(abs(value[0]), abs(value[1])) > 1e9:
            raise ValueError("bounds must be between -1e9 and 1e9")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Pattern:
        if self.statistic is not Statistic.AT and len(self.years) != 2:
            raise ValueError(f"statistic {self.statistic.value} needs two dates in years: [from, to]")
        if self.statistic is Statistic.AT and len(self.years) != 1:
            raise ValueError("statistic at needs one date in years")
        if (self.statistic is Statistic.SHARE) != (self.denominator is not None):
            raise ValueError("denominator goes with statistic share, and only with it")
        return self

    def months(self, start_year: int) -> list[int]:
        """The pattern's dates as model months of a run that starts in ``start_year``."""
        return [month_of_date(when, start_year) for when in self.years]


class Variant(BaseModel):
    """A named set of mechanisms: one explanation of the valley's history."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mechanisms: list[str] = Field(max_length=len(MechanismParams.model_fields))
    explanation: str = Field(min_length=1, max_length=2_000)
    source: str = Field(min_length=1, max_length=2_000)

    @field_validator("mechanisms")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        allowed = list(MechanismParams.model_fields)
        for name in value:
            if name not in allowed:
                raise ValueError(f"unknown mechanism {str(name)[:40]!r} (allowed: {', '.join(allowed)})")
        return value


class PatternFile(BaseModel):
    """The top level of a pattern file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patterns: list[Pattern] = Field(min_length=1, max_length=1_000)


class VariantFile(BaseModel):
    """The top level of a variant file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variants: dict[str, Variant] = Field(min_length=1, max_length=100)


def _shipped(name: str) -> Path:
    return Path(str(resources.files("vraem.data").joinpath(name)))


def load_patterns(path: str | Path | None = None) -> list[Pattern]:
    """Read and check a pattern file (default: the shipped ``data/patterns.yaml``).

    Raises:
        PatternError: One line naming the file, the key and what is allowed.
    """
    path = Path(path) if path is not None else _shipped(PATTERNS_FILE)
    raw = read_yaml_mapping(path, PatternError, "a pattern YAML file")
    try:
        patterns = PatternFile.model_validate(raw).patterns
    except ValidationError as exc:
        raise PatternError(f"{path}: {describe_error(exc, PatternFile)}") from None
    names = [p.name for p in patterns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise PatternError(f"{path}: patterns: the name {twice[0]!r} is used twice (names must be unique)")
    columns = output_columns()
    for i, p in enumerate(patterns):
        for key in ("column", "denominator"):
            name = getattr(p, key)
            if name is not None and name not in columns:
                raise PatternError(
                    f"{path}: patterns[{i}].{key}: no output column {name[:40]!r}"
                    " (the columns are listed in docs/odd.md, section 7.15)"
                )
        try:
            resolve_scenario_path(p.scenario)
        except ScenarioError as exc:
            raise PatternError(f"{path}: patterns[{i}].scenario: {exc}") from None
    return patterns


def output_columns() -> set[str]:
    """The model's monthly output columns (the results table, without the per-district ones)."""
    from vraem.metrics import build_reporters

    return set(build_reporters(1))


def load_variants(path: str | Path | None = None) -> dict[str, Variant]:
    """Read and check a variant file (default: the shipped ``data/variants.yaml``)."""
    path = Path(path) if path is not None else _shipped(VARIANTS_FILE)
    raw = read_yaml_mapping(path, PatternError, "a variant YAML file")
    try:
        return dict(VariantFile.model_validate(raw).variants)
    except ValidationError as exc:
        raise PatternError(f"{path}: {describe_error(exc, VariantFile)}") from None


# ---------------------------------------------------------------------------------------------
# Evaluation


def statistic(pattern: Pattern, table: pd.DataFrame, start_year: int, scale: float) -> float:
    """The pattern's statistic of one run's table (one row per month), for the full valley."""
    if pattern.column not in table.columns:
        raise PatternError(f"pattern {pattern.name}: column: no output column {pattern.column!r}")
    series = table.set_index("month")[pattern.column].astype(float)
    months = pattern.months(start_year)
    last = int(series.index.max())
    if any(m < 0 or m > last for m in months):
        return math.nan
    if pattern.statistic is Statistic.AT:
        value = series.loc[months[0]]
    elif pattern.statistic is Statistic.RATIO:
        first = series.loc[months[0]]
        value = series.loc[months[1]] / first if first else math.nan
    else:
        window = series.loc[months[0] : months[1]]
        if pattern.statistic is Statistic.SHARE:
            denominator = table.set_index("month")[pattern.denominator].astype(float)
            top = denominator.loc[months[0] : months[1]].max()
            value = window.sum() / top if top > 0 else math.nan
        else:
            reduce = {Statistic.MEAN: np.nanmean, Statistic.MIN: np.nanmin, Statistic.MAX: np.nanmax}
            finite = np.isfinite(window.to_numpy()).any()
            value = reduce[pattern.statistic](window.to_numpy()) if finite else math.nan
    if pattern.extensive and pattern.statistic not in (Statistic.RATIO, Statistic.SHARE):
        value = value / scale
    if pattern.per_year:
        value = value * 12.0
    return float(value)


def run_tables(
    patterns: Iterable[Pattern],
    mechanisms: list[str],
    draws: list[dict[str, float]],
    households: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, tuple[list[pd.DataFrame], int, float]]:
    """Run each scenario the patterns need, once per draw (draw ``k`` with seed ``k``).

    Returns:
        For each scenario name: the run tables, its start year and its scale.
    """
    from vraem.runner import run_once

    needed: dict[str, int] = {}
    for p in patterns:
        sc = load_scenario(p.scenario)
        end = max(p.months(sc.start_year)) + 1
        needed[p.scenario] = max(needed.get(p.scenario, 1), end)
    out = {}
    for name, months in needed.items():
        tables = []
        for k, draw in enumerate(draws):
            values = {**draw, "farmer.n_households": households, "months": months}
            values["mechanisms"] = list(mechanisms)
            sc = load_scenario(name, values, source="validate-history")
            tables.append(run_once(sc, k).table)
        if progress:
            progress(f"{name}: {len(draws)} run(s) of {months} months")
        out[name] = (tables, sc.start_year, sc.parameters.scale)
    return out


def evaluate(
    patterns: list[Pattern],
    variants: dict[str, Variant],
    draws: list[dict[str, float]],
    households: int,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, tuple[list[pd.DataFrame], int, float]]]]:
    """Every pattern under every variant: the model's median, 90% interval and whether it passes.

    Args:
        patterns: The patterns (:func:`load_patterns`).
        variants: The variants by name (:func:`load_variants`).
        draws: Parameter sets (dotted keys), one run each with seed ``k``; ``[{}]`` runs the defaults.
        households: The valley's size (extensive statistics are reported for the full valley).
        progress: Called with a line of progress, or None.

    Returns:
        One row per pattern and variant, and each variant's runs (tables, start year and scale)
        by scenario, for :func:`vraem.scoring.leave_future_out`.
    """
    rows = []
    runs: dict[str, dict[str, tuple[list[pd.DataFrame], int, float]]] = {}
    for vname, variant in variants.items():
        if progress:
            progress(f"variant {vname}: mechanisms {variant.mechanisms or 'none'}")
        tables = runs[vname] = run_tables(patterns, variant.mechanisms, draws, households, progress)
        for p in patterns:
            scenario_runs, start_year, scale = tables[p.scenario]
            values = np.array([statistic(p, t, start_year, scale) for t in scenario_runs])
            finite = values[np.isfinite(values)]
            median = float(np.median(finite)) if finite.size else math.nan
            low, high = (np.quantile(finite, [0.05, 0.95]) if finite.size else (math.nan, math.nan))
            rows.append(
                {
                    "pattern": p.name,
                    "variant": vname,
                    "observed": p.observed,
                    "accept_low": p.accept[0],
                    "accept_high": p.accept[1],
                    "median": median,
                    "q05": float(low),
                    "q95": float(high),
                    "passes": bool(p.accept[0] <= median <= p.accept[1]) if finite.size else False,
                    "in_sample": p.in_sample,
                    "source": p.source,
                    "runs": int(finite.size),
                }
            )
    return pd.DataFrame(rows), runs


# ---------------------------------------------------------------------------------------------
# The report page


def number(x: Any) -> str:
    """A figure as a table shows it: thousands separated, three significant digits below 100."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:,.3g}"


def corroboration_html(
    scores: pd.DataFrame,
    patterns: list[Pattern],
    variants: dict[str, Variant],
    note: str,
    forecast_scores: pd.DataFrame | None = None,
    weights: dict[str, float] | None = None,
) -> str:
    """A self-contained HTML page in TRACE's "model output corroboration" form.

    With ``forecast_scores`` and ``weights`` (:func:`vraem.scoring.leave_future_out`), it also
    shows the variants' leave-future-out scores of 2020-2024 and their stacking weights.
    """
    names = list(variants)
    head = "".join(f"<th>{html.escape(v)}</th>" for v in names)
    body = []
    for p in patterns:
        cells = []
        for v in names:
            r = scores[(scores.pattern == p.name) & (scores.variant == v)].iloc[0]
            mark = "pass" if r.passes else "fail"
            cells.append(
                f'<td class="{mark}">{number(r["median"])}'
                f"<br><small>[{number(r.q05)}, {number(r.q95)}]</small>"
                f"<br><small>{mark}</small></td>"
            )
        sample = "in sample" if p.in_sample else "out of sample"
        body.append(
            f"<tr><td><b>{html.escape(p.name)}</b><br><small>{html.escape(p.description)}</small></td>"
            f"<td>{number(p.observed)}<br><small>accept [{number(p.accept[0])}, {number(p.accept[1])}]; "
            f"{sample}</small></td><td><small>{html.escape(p.source)}</small></td>{''.join(cells)}</tr>"
        )
    passed = scores.groupby("variant")["passes"].sum()
    totals = "".join(f"<td><b>{int(passed.get(v, 0))} / {len(patterns)}</b></td>" for v in names)
    variant_rows = "".join(
        f"<tr><td>{html.escape(v)}</td><td>{html.escape(', '.join(var.mechanisms) or 'none')}</td>"
        f"<td>{html.escape(var.explanation)}</td><td><small>{html.escape(var.source)}</small></td></tr>"
        for v, var in variants.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vraem: model output corroboration</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 1400px; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
td.pass {{ background: #e6f4e6; }} td.fail {{ background: #fbe6e6; }}
</style></head><body>
<h1>Model output corroboration</h1>
<p>Each documented pattern of the VRAEM's history (<code>data/patterns.yaml</code>), what was
observed and its source, and under each model variant the model's median with its 90% interval
over {html.escape(note)}. A pattern passes when the median lies in its acceptance band. Patterns
marked "in sample" were calibration targets; the others were not.</p>
<h2>Variants</h2>
<div class="scroll"><table><tr><th>variant</th><th>mechanisms on</th><th>explanation</th><th>source</th></tr>
{variant_rows}</table></div>
<h2>Patterns</h2>
<div class="scroll"><table><tr><th>pattern</th><th>observed</th><th>source</th>{head}</tr>
{"".join(body)}
<tr><td colspan="3"><b>patterns passed</b></td>{totals}</tr></table></div>
{_forecast_section(forecast_scores, weights)}
</body></html>
"""


FORECAST_COLUMNS = {
    "crps_ha": "CRPS (ha)",
    "coverage_50": "50% coverage",
    "coverage_90": "90% coverage",
    "median_error_share": "median error",
    "skill_vs_persistence": "skill vs persistence",
    "skill_vs_trend": "skill vs trend",
}


def _forecast_section(forecast_scores: pd.DataFrame | None, weights: dict[str, float] | None) -> str:
    if forecast_scores is None or forecast_scores.empty:
        return ""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in FORECAST_COLUMNS.values())
    rows = []
    for r in forecast_scores.itertuples():
        weight = (weights or {}).get(r.forecast)
        cells = "".join(f"<td>{number(getattr(r, c))}</td>" for c in FORECAST_COLUMNS)
        rows.append(
            f"<tr><td>{html.escape(r.forecast)}</td>"
            f"<td>{'' if weight is None else f'{weight:.2f}'}</td>{cells}</tr>"
        )
    return f"""<h2>Leave-future-out scores: the 2020-2024 surveys</h2>
<p>Each variant's status-quo runs as a forecast of the surveys it was not calibrated on. CRPS
(lower is better), the share of years inside the central 50% and 90% intervals, the mean error of
the median as a share of the observed area, and the skill against persistence of 2019 and the
2013-2019 linear trend (1 - CRPS / CRPS of the naive forecast; above 0 is better than it). The
weights are stacking weights (Yao et al. 2018) minimising the CRPS of the variants' mixture.</p>
<div class="scroll"><table><tr><th>forecast</th><th>stacking weight</th>{head}</tr>
{"".join(rows)}</table></div>"""

