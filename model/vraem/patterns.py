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
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


POSTERIORS_DIR = "posteriors"
"""Per-variant posteriors shipped in ``vraem/data/posteriors/<variant>.parquet`` (``vraem calibrate``)."""
WEIGHTS_FILE = "variant_weights.csv"
"""The variants' stacking weights shipped by ``vraem validate-history --ship``."""
NOT_CALIBRATED = "not separately calibrated"


def variant_posterior(
    variant: str, fallback: Path | None, folder: str | Path | None = None
) -> tuple[Path | None, bool]:
    """The posterior a variant's draws come from, and whether it is the variant's own.

    A variant calibrated on its own (``vraem/data/posteriors/<variant>.parquet``, or in
    ``folder``) uses that posterior; any other uses ``fallback`` (the shared
    ``posterior.parquet``), and the reports say it is "not separately calibrated".
    """
    own = (Path(folder) if folder is not None else _shipped(POSTERIORS_DIR)) / f"{variant}.parquet"
    if own.is_file():
        return own, True
    return fallback, False


NOT_CALIBRATED_FOR_ORIGIN = "not calibrated for this origin"


def origin_name(variant: str, origin: int) -> str:
    """The name of a variant's posterior fitted up to a rolling origin: ``<variant>-to<origin>``."""
    return f"{variant}-to{origin}"


def origin_posterior(variant: str, origin: int, folder: str | Path | None = None) -> Path | None:
    """A variant's posterior fitted up to ``origin``, or None when it was not calibrated for it.

    Looked up in ``folder`` (default: the shipped ``vraem/data/posteriors``) as
    ``<variant>-to<origin>.parquet`` (``vraem calibrate --origin --ship``) or as
    ``<variant>-to<origin>/posterior.parquet`` (the output folder of ``vraem calibrate --origin``).
    Never the posterior fitted to 2019: that would leak the scored years into the fit.

    Raises:
        PatternError: The posterior's manifest says it was fitted past the origin.
    """
    folder = Path(folder) if folder is not None else _shipped(POSTERIORS_DIR)
    name = origin_name(variant, origin)
    for path, manifest in (
        (folder / f"{name}.parquet", folder / f"{name}.json"),
        (folder / name / "posterior.parquet", folder / name / "manifest.json"),
    ):
        if not path.is_file():
            continue
        fitted_to = _fit_end_year(manifest)
        if fitted_to is not None and fitted_to > origin:
            raise PatternError(
                f"{manifest}: fit_end_year {fitted_to} is after the origin {origin}: scoring this "
                "posterior would leak the scored years into the fit (re-run vraem calibrate --origin)"
            )
        return path
    return None


def _fit_end_year(manifest: Path) -> int | None:
    if not manifest.is_file():
        return None
    try:
        value = json.loads(manifest.read_text(encoding="utf-8")).get("fit_end_year")
    except (ValueError, OSError, UnicodeDecodeError, AttributeError):
        raise PatternError(f"{manifest}: not a readable calibration manifest") from None
    return int(value) if isinstance(value, int | float) else None


def posterior_label(path: Path | None, own: bool) -> str:
    """How a report names a variant's posterior: its file, and whether it is the variant's own."""
    if path is None:
        return "defaults (no posterior)"
    return f"{POSTERIORS_DIR}/{path.name}" if own else f"{path.name} ({NOT_CALIBRATED})"


def load_variant_weights(path: str | Path | None = None) -> dict[str, dict[str, Any]] | None:
    """The shipped stacking weights, one row per variant, or None when none were shipped.

    Read with the ``csv`` module (no pandas, no pyarrow): an experiment that names variants reads
    this file when it is checked, and checking a file must stay small.

    Returns:
        Each variant's row (the file's columns as text), with ``weight`` as a float normalised to
        sum to 1.

    Raises:
        PatternError: A weights file that exists but cannot be used.
    """
    import csv

    path = Path(path) if path is not None else _shipped(WEIGHTS_FILE)
    if not path.is_file():
        return None
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (ValueError, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise PatternError(f"{path}: not a readable CSV file ({type(exc).__name__})") from None
    fields = set(rows[0]) if rows else set()
    missing = [c for c in ("variant", "weight") if c not in fields]
    if missing:
        raise PatternError(f"{path}: has no {missing[0]!r} column (expected vraem validate-history --ship)")
    weights = []
    for row in rows:
        try:
            weights.append(float(row["weight"]))
        except (TypeError, ValueError):
            weights.append(math.nan)
    w = np.array(weights, dtype=float)
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise PatternError(f"{path}: weight: needs finite, non-negative weights that sum above 0")
    names = [row["variant"] for row in rows]
    if len(set(names)) != len(names):
        raise PatternError(f"{path}: variant: each variant once")
    return {row["variant"]: {**row, "weight": float(x / w.sum())} for row, x in zip(rows, w, strict=True)}


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
    needed: dict[str, int] = {}
    for p in patterns:
        sc = load_scenario(p.scenario)
        end = max(p.months(sc.start_year)) + 1
        needed[p.scenario] = max(needed.get(p.scenario, 1), end)
    return run_scenarios(needed, mechanisms, draws, households, progress)


def run_scenarios(
    needed: dict[str, int],
    mechanisms: list[str],
    draws: list[dict[str, float]],
    households: int,
    progress: Callable[[str], None] | None = None,
) -> dict[str, tuple[list[pd.DataFrame], int, float]]:
    """Run each scenario for its months, once per draw (draw ``k`` with seed ``k``).

    Returns:
        For each scenario name: the run tables, its start year and its scale.
    """
    from vraem.runner import run_once

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
    draws: list[dict[str, float]] | dict[str, list[dict[str, float]]],
    households: int,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, tuple[list[pd.DataFrame], int, float]]]]:
    """Every pattern under every variant: the model's median, 90% interval and whether it passes.

    Args:
        patterns: The patterns (:func:`load_patterns`).
        variants: The variants by name (:func:`load_variants`).
        draws: Parameter sets (dotted keys), one run each with seed ``k``; ``[{}]`` runs the defaults.
            A mapping gives each variant its own draws (from its own posterior, when it has one).
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
        own = draws[vname] if isinstance(draws, dict) else draws
        tables = runs[vname] = run_tables(patterns, variant.mechanisms, own, households, progress)
        for p in patterns:
            scenario_runs, start_year, scale = tables[p.scenario]
            values = np.array([statistic(p, t, start_year, scale) for t in scenario_runs])
            finite = values[np.isfinite(values)]
            median = float(np.median(finite)) if finite.size else math.nan
            low, high = np.quantile(finite, [0.05, 0.95]) if finite.size else (math.nan, math.nan)
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
                    "description": p.description,
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


PAGE_CSS = """
td.pass { background: #e6f4e6; } td.fail { background: #fbe6e6; }
"""
"""The pass and fail colours of the corroboration tables (the page and the report share them)."""


def _variant_fields(variant: Variant | dict) -> tuple[list[str], str, str]:
    if isinstance(variant, Variant):
        return list(variant.mechanisms), variant.explanation, variant.source
    return (
        list(variant.get("mechanisms") or []),
        str(variant.get("explanation", "")),
        str(variant.get("source", "")),
    )


def corroboration_body(
    scores: pd.DataFrame,
    variants: dict[str, Variant] | dict[str, dict],
    note: str,
    forecast_scores: pd.DataFrame | None = None,
    weights: dict[str, float] | None = None,
    posteriors: dict[str, str] | None = None,
    order: list[str] | None = None,
    level: int = 2,
) -> str:
    """The corroboration tables as an HTML fragment, from the rows of :func:`evaluate`.

    The standalone page (:func:`corroboration_html`) and the ``vraem report`` section both use it,
    so that the page is written once. It reads only what ``patterns.csv`` holds.

    Args:
        scores: One row per pattern and variant (:func:`evaluate`, or ``patterns.csv`` read back).
        variants: The variants by name (:class:`Variant` or its fields as a mapping).
        note: What the intervals are over (draws, seeds, households).
        forecast_scores: The leave-future-out scores, or None.
        weights: The stacking weights by variant, or None.
        posteriors: Which posterior each variant's draws came from (:func:`posterior_label`).
        order: Pattern names in the order to show (default: as in ``scores``).
        level: The heading level of the fragment's headings.
    """
    h = f"h{level}"
    names = [v for v in variants if v in set(scores["variant"])]
    by = {(r["pattern"], r["variant"]): r for r in scores.to_dict("records")}
    pattern_names = order or list(dict.fromkeys(scores["pattern"]))
    head = "".join(f"<th>{html.escape(v)}</th>" for v in names)
    body = []
    for name in pattern_names:
        first = next((by[(name, v)] for v in names if (name, v) in by), None)
        if first is None:
            continue
        cells = []
        for v in names:
            r = by.get((name, v))
            if r is None:
                cells.append("<td>–</td>")
                continue
            mark = "pass" if bool(r["passes"]) else "fail"
            cells.append(
                f'<td class="{mark}">{number(r["median"])}'
                f"<br><small>[{number(r['q05'])}, {number(r['q95'])}]</small>"
                f"<br><small>{mark}</small></td>"
            )
        sample = "in sample" if bool(first["in_sample"]) else "out of sample"
        description = first.get("description")
        description = "" if description is None or description != description else str(description)
        observed = first["observed"]
        body.append(
            f"<tr><td><b>{html.escape(str(name))}</b><br><small>{html.escape(description)}</small></td>"
            f"<td>{number(None if observed != observed else observed)}<br><small>accept "
            f"[{number(first['accept_low'])}, {number(first['accept_high'])}]; {sample}</small></td>"
            f"<td><small>{html.escape(str(first['source']))}</small></td>{''.join(cells)}</tr>"
        )
    passed = scores.groupby("variant")["passes"].sum()
    n = len(pattern_names)
    totals = "".join(f"<td><b>{int(passed.get(v, 0))} / {n}</b></td>" for v in names)
    posteriors = posteriors or {}
    variant_rows = []
    for v in names:
        mechanisms, explanation, source = _variant_fields(variants[v])
        variant_rows.append(
            f"<tr><td>{html.escape(v)}</td><td>{html.escape(', '.join(mechanisms) or 'none')}</td>"
            f"<td>{html.escape(explanation)}</td><td><small>{html.escape(source)}</small></td>"
            f"<td><small>{html.escape(posteriors.get(v, ''))}</small></td></tr>"
        )
    return f"""<p>Each documented pattern of the VRAEM's history (<code>data/patterns.yaml</code>), what was
observed and its source, and under each model variant the model's median with its 90% interval
over {html.escape(note)}. A pattern passes when the median lies in its acceptance band. Patterns
marked "in sample" were calibration targets; the others were not.</p>
<{h}>Variants</{h}>
<div class="scroll table-wrap"><table id="corroboration-variants"><tr><th>variant</th><th>mechanisms on</th>
<th>explanation</th><th>source</th><th>posterior</th></tr>
{"".join(variant_rows)}</table></div>
<{h}>Patterns</{h}>
<div class="scroll table-wrap"><table id="corroboration-patterns"><tr><th>pattern</th><th>observed</th>
<th>source</th>{head}</tr>
{"".join(body)}
<tr><td colspan="3"><b>patterns passed</b></td>{totals}</tr></table></div>
{_forecast_section(forecast_scores, weights, h)}"""


def corroboration_html(
    scores: pd.DataFrame,
    patterns: list[Pattern],
    variants: dict[str, Variant],
    note: str,
    forecast_scores: pd.DataFrame | None = None,
    weights: dict[str, float] | None = None,
    posteriors: dict[str, str] | None = None,
    origins: list[OriginScores] | None = None,
) -> str:
    """A self-contained HTML page in TRACE's "model output corroboration" form.

    With ``forecast_scores`` and ``weights`` (:func:`vraem.scoring.leave_future_out`), it also
    shows the variants' leave-future-out scores of 2020-2024 and their stacking weights; with
    ``origins`` (:func:`read_origins`), each rolling origin's scores and the skill pooled over them.
    """
    body = corroboration_body(
        scores, variants, note, forecast_scores, weights, posteriors, [p.name for p in patterns]
    )
    return corroboration_page(body + origins_body(origins or [], forecast_scores))


def corroboration_page(body: str) -> str:
    """The standalone corroboration page around an HTML fragment."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vraem: model output corroboration</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 1400px; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
{PAGE_CSS}</style></head><body>
<h1>Model output corroboration</h1>
{body}
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


def _forecast_section(
    forecast_scores: pd.DataFrame | None,
    weights: dict[str, float] | None,
    h: str = "h2",
    origin: OriginScores | None = None,
) -> str:
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
    table = f"""<div class="scroll table-wrap"><table id="corroboration-scores{
        "" if origin is None else f"-to{origin.origin}"
    }"><tr><th>forecast</th>
<th>stacking weight</th>{head}</tr>
{"".join(rows)}</table></div>"""
    if origin is not None:
        return origin.heading(h) + table
    return f"""<{h}>Leave-future-out scores: the 2020-2024 surveys</{h}>
<p>Each variant's status-quo runs as a forecast of the surveys it was not calibrated on. CRPS
(lower is better), the share of years inside the central 50% and 90% intervals, the mean error of
the median as a share of the observed area, and the skill against persistence of 2019 and the
2013-2019 linear trend (1 - CRPS / CRPS of the naive forecast; above 0 is better than it). The
weights are stacking weights (Yao et al. 2018) minimising the CRPS of the variants' mixture.</p>
{table}"""


# ---------------------------------------------------------------------------------------------
# Rolling origins: scores from calibrations cut at earlier years (validate-history --origin)

ORIGIN_SCORES = "scores_to{origin}.csv"
"""validate-history --origin's scores of one origin, beside the main run's ``scores.csv``."""
ORIGIN_RECORD = "origin_to{origin}.json"
"""validate-history --origin's record: scored years, posteriors, variants not calibrated, weights."""


@dataclass
class OriginScores:
    """The scores of one rolling origin, read back from a validate-history folder."""

    origin: int
    forecast: pd.DataFrame
    """One row per variant calibrated for the origin, the naive forecasts and the stacked ensemble."""
    record: dict[str, Any]
    """``origin_to<origin>.json``: years, note, posteriors, not_calibrated, weights, provenance."""

    @property
    def weights(self) -> dict[str, float]:
        """The stacking weights of the variants calibrated for this origin."""
        return dict(self.record.get("weights") or {})

    def heading(self, h: str) -> str:
        """The origin's heading and what it fitted, scored and left out."""
        years = self.record.get("years") or []
        scored = f"{years[0]}-{years[-1]}" if len(years) > 1 else "".join(map(str, years))
        missing = list(self.record.get("not_calibrated") or [])
        left_out = (
            f" {NOT_CALIBRATED_FOR_ORIGIN.capitalize()}, so left out of the scores and the stacking: "
            f"{html.escape(', '.join(missing))}."
            if missing
            else ""
        )
        posteriors = self.record.get("posteriors") or {}
        files = "; ".join(f"{v}: {d.get('label', '')}" for v, d in posteriors.items())
        title = f"Rolling origin {self.origin}: fitted to 2013-{self.origin}, scored on the {scored} surveys"
        return f"""<{h}>{title}</{h}>
<p>Each variant calibrated on the years up to {self.origin} only (its own posterior
<code>{html.escape(origin_name("VARIANT", self.origin))}.parquet</code>), its status quo scored on the
surveys after it, against persistence of the {self.origin} survey and the 2013-{self.origin} linear
trend; over {html.escape(str(self.record.get("note", "")))}.{left_out}
<small>{html.escape(files)}</small></p>
"""


def write_origin(out: Path, origin: int, forecast: pd.DataFrame, record: dict[str, Any]) -> Path:
    """Write one origin's scores and record into a validate-history folder; return the scores' path."""
    path = out / ORIGIN_SCORES.format(origin=origin)
    forecast.to_csv(path, index=False)
    (out / ORIGIN_RECORD.format(origin=origin)).write_text(
        json.dumps(record, indent=1, default=str), encoding="utf-8"
    )
    return path


def read_origins(folder: str | Path) -> list[OriginScores]:
    """Every rolling origin scored in a validate-history folder, earliest first.

    Raises:
        PatternError: An origin's files exist but cannot be read.
    """
    folder = Path(folder)
    out = []
    for record_path in folder.glob(ORIGIN_RECORD.format(origin="*")):
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            origin = int(record["origin"])
            scores = folder / ORIGIN_SCORES.format(origin=origin)
            forecast = pd.read_csv(scores) if scores.is_file() else pd.DataFrame()
        except (ValueError, OSError, UnicodeDecodeError, KeyError, TypeError) as exc:
            what = type(exc).__name__
            raise PatternError(f"{record_path}: rolling-origin output unreadable ({what})") from None
        out.append(OriginScores(origin, forecast, record))
    return sorted(out, key=lambda o: o.origin)


def pooled_skill(tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Each forecast's skill at every origin, and its mean over the origins that scored it.

    Args:
        tables: The scores of each origin (its ``scores_to<origin>.csv``; the 2019 origin's
            ``scores.csv``).

    Returns:
        One row per variant (and the stacked ensemble): ``skill_vs_persistence_<origin>``,
        ``skill_vs_trend_<origin>``, their means ``mean_skill_vs_persistence`` and
        ``mean_skill_vs_trend``, and ``origins``, how many origins scored it.
    """
    rows: dict[str, dict[str, Any]] = {}
    for origin, table in sorted(tables.items()):
        for r in table.to_dict("records"):
            if str(r["forecast"]).startswith("naive: "):
                continue
            row = rows.setdefault(str(r["forecast"]), {"forecast": str(r["forecast"])})
            for kind in ("persistence", "trend"):
                row[f"skill_vs_{kind}_{origin}"] = float(r[f"skill_vs_{kind}"])
    df = pd.DataFrame(list(rows.values()))
    if df.empty:
        return df
    for kind in ("persistence", "trend"):
        cols = [f"skill_vs_{kind}_{o}" for o in sorted(tables) if f"skill_vs_{kind}_{o}" in df]
        df[f"mean_skill_vs_{kind}"] = df[cols].mean(axis=1)
    df["origins"] = df[[c for c in df if c.startswith("skill_vs_persistence_")]].notna().sum(axis=1)
    return df


def origins_body(origins: list[OriginScores], main: pd.DataFrame | None = None, h: str = "h2") -> str:
    """Each rolling origin's scores, and the skill pooled over the origins (with the 2019 one, ``main``)."""
    if not origins:
        return ""
    sections = [_forecast_section(o.forecast, o.weights, h, o) for o in origins]
    tables = {o.origin: o.forecast for o in origins if not o.forecast.empty}
    if main is not None and not main.empty:
        from vraem.observed import CALIBRATION_YEARS

        tables[CALIBRATION_YEARS[1]] = main
    pooled = pooled_skill(tables) if len(tables) > 1 else pd.DataFrame()
    if pooled.empty:  # one origin: nothing to pool
        return "".join(sections)
    head = "".join(f"<th>from {o}<br><small>vs persistence / trend</small></th>" for o in sorted(tables))
    rows = []
    for r in pooled.to_dict("records"):
        cells = "".join(
            f"<td>{number(r.get(f'skill_vs_persistence_{o}'))} / {number(r.get(f'skill_vs_trend_{o}'))}</td>"
            for o in sorted(tables)
        )
        rows.append(
            f"<tr><td>{html.escape(r['forecast'])}</td>{cells}<td>{number(r['mean_skill_vs_persistence'])}</td>"
            f"<td>{number(r['mean_skill_vs_trend'])}</td><td>{int(r['origins'])}</td></tr>"
        )
    return (
        "".join(sections)
        + f"""<{h}>CRPS skill pooled over the origins</{h}>
<p>Each forecast's skill (1 - CRPS / CRPS of the naive forecast) from every origin it was
calibrated for, and its mean over those origins (a variant not calibrated for an origin is not
scored there: compare means over the same number of origins).</p>
<div class="scroll table-wrap"><table id="corroboration-origins"><tr><th>forecast</th>{head}
<th>mean skill vs persistence</th><th>mean skill vs trend</th><th>origins</th></tr>
{"".join(rows)}</table></div>"""
    )


# ---------------------------------------------------------------------------------------------
# What validate-history leaves in its folder, read back by `vraem report`, and the shipped weights

HISTORY_RECORD = "history.json"
"""validate-history's record of a run: settings, variants, posteriors, stacking weights."""
WEIGHT_SCORES = (
    "crps_ha",
    "coverage_50",
    "coverage_90",
    "median_error_share",
    "skill_vs_persistence",
    "skill_vs_trend",
)
"""The leave-future-out scores shipped beside each variant's stacking weight."""


@dataclass
class History:
    """A validate-history folder read back: the pattern rows, the scores and the settings."""

    folder: Path
    scores: pd.DataFrame
    """One row per pattern and variant (``patterns.csv``)."""
    forecast: pd.DataFrame | None
    """The leave-future-out scores (``scores.csv``), or None."""
    record: dict[str, Any]
    """``history.json``: note, draws, households, variants, posteriors, weights, provenance."""
    origins: list[OriginScores] = field(default_factory=list)
    """The rolling origins scored in the same folder (``validate-history --origin``)."""

    @property
    def weights(self) -> dict[str, float]:
        """The stacking weights by variant."""
        return dict(self.record.get("weights") or {})

    @property
    def variants(self) -> dict[str, dict]:
        """The variants by name, as mappings (mechanisms, explanation, source)."""
        return dict(self.record.get("variants") or {})

    @property
    def posteriors(self) -> dict[str, str]:
        """How each variant's posterior is named (:func:`posterior_label`)."""
        return {v: str(d.get("label", "")) for v, d in (self.record.get("posteriors") or {}).items()}

    def body(self, level: int = 2) -> str:
        """The corroboration tables (:func:`corroboration_body`) of this folder."""
        return corroboration_body(
            self.scores,
            self.variants,
            str(self.record.get("note", "the runs of validate-history")),
            self.forecast,
            self.weights,
            self.posteriors,
            level=level,
        ) + origins_body(self.origins, self.forecast, f"h{level}")


def write_history_record(out: Path, record: dict[str, Any]) -> Path:
    """Write ``history.json`` beside ``patterns.csv`` (what :func:`read_history` reads back)."""
    path = out / HISTORY_RECORD
    path.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    return path


def read_history(folder: str | Path) -> History | None:
    """A validate-history folder's output, or None when ``folder`` has none.

    Raises:
        PatternError: The folder has the files but they cannot be read.
    """
    folder = Path(folder)
    rows, record_path = folder / "patterns.csv", folder / HISTORY_RECORD
    if not rows.is_file() or not record_path.is_file():
        return None
    try:
        scores = pd.read_csv(rows)
        record = json.loads(record_path.read_text(encoding="utf-8"))
        forecast = pd.read_csv(folder / "scores.csv") if (folder / "scores.csv").is_file() else None
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise PatternError(f"{folder}: validate-history output unreadable ({type(exc).__name__})") from None
    needed = {"pattern", "variant", "median", "q05", "q95", "passes", "observed", "accept_low", "accept_high"}
    missing = sorted(needed - set(scores.columns))
    if missing or not isinstance(record, dict):
        what = f"no {missing[0]!r} column" if missing else "history.json is not a mapping"
        raise PatternError(f"{folder / 'patterns.csv'}: {what} (expected vraem validate-history output)")
    return History(folder, scores, forecast, record, read_origins(folder))


def weights_table(history: History) -> pd.DataFrame:
    """One row per variant: its stacking weight, the scores it came from, and the settings."""
    rec = history.record
    scores = history.forecast.set_index("forecast") if history.forecast is not None else pd.DataFrame()
    rows = []
    for v, w in history.weights.items():
        post = (rec.get("posteriors") or {}).get(v, {})
        mechanisms, _, _ = _variant_fields(history.variants.get(v, {}))
        file = Path(str(post.get("file", ""))).name
        row = {
            "variant": v,
            "weight": round(float(w), 6),
            "mechanisms": " ".join(mechanisms) or "none",
            "posterior": f"{POSTERIORS_DIR}/{file}" if post.get("own") and file else file,
            "separately_calibrated": bool(post.get("own", False)),
        }
        for c in WEIGHT_SCORES:
            row[c] = float(scores.loc[v, c]) if v in scores.index and c in scores.columns else math.nan
        row.update(
            draws=rec.get("draws"),
            households=rec.get("households"),
            validation_years=rec.get("validation_years"),
            created=rec.get("created"),
            git_commit=rec.get("git_commit"),
            command=rec.get("command"),
        )
        rows.append(row)
    return pd.DataFrame(rows)


def ship_weights(history: History, dest: Path | None = None) -> Path:
    """Write the stacking weights of a validate-history run to ``vraem/data/variant_weights.csv``.

    Raises:
        PatternError: The run computed no weights (no status quo pattern was run).
    """
    if not history.weights:
        raise PatternError(f"{history.folder}: no stacking weights to ship (the patterns ran no status quo)")
    dest = dest if dest is not None else _shipped(WEIGHTS_FILE)
    weights_table(history).to_csv(dest, index=False)
    return dest
