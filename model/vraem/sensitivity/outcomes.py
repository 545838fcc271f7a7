"""Outcomes of a sensitivity analysis: named summaries of the saved run table.

Each outcome reduces a column of the monthly run table (``coca_ha``, ``forest_cleared_ha``,
``income_mean_usd`` ...) to one number per run, in one of three ways:

- ``at_month: 120``: the value in month 120;
- ``mean_over: [61, 120]``: the mean over months 61 to 120 (inclusive);
- ``total_over: [1, 120]``: the sum over months 1 to 120 (for monthly flows such as hectares
  cleared).

An outcome is taken in one ``scenario``, or as a paired ``difference`` between two scenarios
(``development_first - eradication_first``: run by run, same point and same replicate seed); with
neither, it is taken in every scenario of the experiment and named ``name[scenario]``. The value of
an outcome at a parameter point is its mean over the point's replicates: that is what SALib
analyses.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import ConfigDict, Field, field_validator, model_validator

from vraem.user_input import NumbersNotBooleans, echo

RUN_KEYS = ["scenario", "point", "replicate"]


def known_columns() -> list[str]:
    """The run table's output columns (the model's reporters)."""
    from vraem.metrics import build_reporters

    return list(build_reporters(1))


class OutcomeSpec(NumbersNotBooleans):
    """One outcome as written in the experiment file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(description="a column of the run table (a model reporter)")
    at_month: int | None = Field(None, ge=0)
    mean_over: tuple[int, int] | None = None
    total_over: tuple[int, int] | None = None
    scenario: str | None = None
    difference: str | None = Field(None, description="'scenario_a - scenario_b', paired by replicate")

    @field_validator("column")
    @classmethod
    def _known(cls, v: str) -> str:
        known = known_columns()
        if v not in known:
            raise ValueError(f"unknown column {echo(v)} (one of {', '.join(known)})")
        return v

    @field_validator("mean_over", "total_over")
    @classmethod
    def _window(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and not 0 <= v[0] <= v[1]:
            raise ValueError(f"give [first month, last month] with 0 <= first <= last (got {list(v)})")
        return v

    @field_validator("difference")
    @classmethod
    def _pair(cls, v: str | None) -> str | None:
        if v is not None and len(split_difference(v)) != 2:
            raise ValueError(f"write it as 'scenario_a - scenario_b' (got {echo(v)})")
        return v

    @model_validator(mode="after")
    def _one_statistic(self) -> OutcomeSpec:
        given = [k for k in ("at_month", "mean_over", "total_over") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of at_month, mean_over, total_over"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.scenario is not None and self.difference is not None:
            raise ValueError("give scenario or difference, not both")
        return self


def split_difference(text: str) -> list[str]:
    """``'a - b'`` -> ``['a', 'b']`` (scenario names may contain '-' only without spaces)."""
    return [p.strip() for p in text.split(" - ") if p.strip()]


def expand_outcomes(specs: dict[str, OutcomeSpec], scenarios: list[str]) -> list[dict[str, Any]]:
    """One record per analysed outcome, with the scenarios checked against the experiment's.

    Raises:
        ValueError: An outcome names a scenario that the experiment does not run.

    """
    out = []
    for name, o in specs.items():
        if o.at_month is not None:
            stat, window, words = "at_month", None, f"in month {o.at_month}"
        elif o.mean_over is not None:
            stat, window = "mean", list(o.mean_over)
            words = f"mean over months {window[0]}-{window[1]}"
        else:
            stat, window = "total", list(o.total_over or ())
            words = f"total over months {window[0]}-{window[1]}"
        base = {"column": o.column, "stat": stat, "at_month": o.at_month, "window": window}
        if o.difference is not None:
            a, b = split_difference(o.difference)
            for s in (a, b):
                if s not in scenarios:
                    raise ValueError(
                        f"outcomes.{name}.difference: unknown scenario {s!r} "
                        f"(the experiment runs {', '.join(scenarios)})"
                    )
            out.append(
                {
                    "name": name,
                    **base,
                    "scenario": None,
                    "difference": [a, b],
                    "label": f"{o.column} {words}: {a} minus {b} (paired runs)",
                }
            )
            continue
        if o.scenario is not None and o.scenario not in scenarios:
            raise ValueError(
                f"outcomes.{name}.scenario: unknown scenario {o.scenario!r} "
                f"(the experiment runs {', '.join(scenarios)})"
            )
        for s in [o.scenario] if o.scenario else scenarios:
            label = f"{o.column} {words} under {s}"
            key = name if o.scenario else f"{name}[{s}]"
            out.append({"name": key, **base, "scenario": s, "difference": None, "label": label})
    return out


def outcome_columns(outcomes: list[dict[str, Any]]) -> list[str]:
    """The table columns the outcomes read."""
    return list(dict.fromkeys(o["column"] for o in outcomes))


def _per_run(table: pd.DataFrame, o: dict[str, Any]) -> pd.Series:
    """The outcome's column reduced to one value per (scenario, point, replicate)."""
    col = o["column"]
    if o["stat"] == "at_month":
        rows = table[table["month"] == o["at_month"]]
        return rows.set_index(RUN_KEYS)[col]
    first, last = o["window"]
    rows = table[(table["month"] >= first) & (table["month"] <= last)]
    g = rows.groupby(RUN_KEYS, sort=False)[col]
    return g.mean() if o["stat"] == "mean" else g.sum()


def run_values(table: pd.DataFrame, o: dict[str, Any]) -> pd.Series:
    """One outcome per (point, replicate): in its scenario, or the paired difference."""
    per_run = _per_run(table, o)
    if o["difference"] is not None:
        a, b = o["difference"]
        va = per_run.xs(a, level="scenario")
        vb = per_run.xs(b, level="scenario")
        return (va - vb.reindex(va.index)).rename(o["name"])
    return per_run.xs(o["scenario"], level="scenario").rename(o["name"])


def point_values(table: pd.DataFrame, outcomes: list[dict[str, Any]]) -> pd.DataFrame:
    """Each outcome at each point: its mean over the point's replicates (rows: points)."""
    cols = {o["name"]: run_values(table, o).groupby(level="point").mean() for o in outcomes}
    return pd.DataFrame(cols).sort_index()
