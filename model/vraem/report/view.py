"""A read-only view of a results folder shaped for reporting.

:class:`ReportView` wraps a :class:`vraem.results.Results` and answers the questions every figure
and table asks: which scenarios, in which order and colour; which one is the baseline; which
parameters a sweep varied; the model's scale relative to the full valley; quantile bands over runs.
It never runs the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from vraem.params import REFERENCE_HOUSEHOLDS
from vraem.report.assumptions import Assumptions, long_run_assumptions
from vraem.results import Results

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
"""Okabe and Ito's colour-blind-safe palette."""

RUN_KEYS = ["scenario", "point", "replicate"]
"""Columns that identify one run in the tidy table."""

BASELINE = "status_quo"
"""The scenario others are compared with when present (else the first scenario)."""

QUANTILES = (0.05, 0.5, 0.95)


class ReportView:
    """Results plus the derived facts the report needs."""

    def __init__(self, results: Results):
        self.results = results
        table = results.table
        if "point" not in table.columns:
            table = table.assign(point=0)
        if "year" not in table.columns:
            table = table.assign(year=table["month"] / 12.0)
        self.manifest = results.manifest or {}
        self.all_table = table.sort_values([*RUN_KEYS, "month"], kind="stable").reset_index(drop=True)
        """Every run, with an ensemble's extra draws (those that give each variant its ranking)."""
        from vraem.robustness import pooled_replicates

        keep = pooled_replicates(self.manifest)
        self.table = self.all_table
        """The runs the report summarises: over model variants, their sample by stacking weight."""
        if keep is not None:
            self.table = self.all_table[self.all_table["replicate"].isin(keep)].reset_index(drop=True)

    # -- identity --------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """``run`` or ``sweep``."""
        return self.manifest.get("kind", "run")

    @cached_property
    def scenarios(self) -> list[str]:
        """Scenario names in the manifest's order (then any others in the table)."""
        in_table = list(dict.fromkeys(self.results.table["scenario"]))
        listed = [r.get("name") for r in self.manifest.get("scenarios", []) if isinstance(r, dict)]
        return [s for s in listed if s in in_table] + [s for s in in_table if s not in listed]

    @cached_property
    def colours(self) -> dict[str, str]:
        """One Okabe-Ito colour per scenario."""
        return {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(self.scenarios)}

    @property
    def baseline(self) -> str:
        """The scenario the others are compared with."""
        return BASELINE if BASELINE in self.scenarios else self.scenarios[0]

    @cached_property
    def records(self) -> dict[str, dict]:
        """Manifest records of the scenarios, by name."""
        return {r.get("name"): r for r in self.manifest.get("scenarios", []) if isinstance(r, dict)}

    @cached_property
    def swept(self) -> list[str]:
        """Dotted names of the parameters a sweep varied (empty for plain runs)."""
        names: list[str] = list(self.manifest.get("swept_parameters") or [])
        for point in self.manifest.get("points", []) or []:
            for key in point.get("params") or {}:
                if key not in names:
                    names.append(key)
        if not names and self.kind == "sweep" and not self.draws:
            names = [c for c in self.table.columns if "." in c]
        return [n for n in names if n in self.table.columns]

    @cached_property
    def draws(self) -> dict | None:
        """The posterior draws the runs used (``parameter_draws`` and ``n_draws``), or None."""
        from vraem.robustness import draw_info

        return draw_info(self.manifest)

    @cached_property
    def drawn(self) -> list[str]:
        """Dotted names of the parameters that came from posterior draws (one value per replicate)."""
        if self.draws is None:
            return []
        from vraem.robustness import draw_parameter_columns

        return [c for c in draw_parameter_columns(self.table, self.manifest) if c not in self.swept]

    @property
    def is_sweep(self) -> bool:
        """Whether these results vary parameters over design points (a real sweep, not draws)."""
        return bool(self.swept) and self.n_points > 1

    @cached_property
    def varied(self) -> dict[str, tuple[float, float]]:
        """Parameters that differ between runs (swept or drawn): (lowest, highest) value."""
        out = {}
        for key in [*self.swept, *self.drawn]:
            values = pd.to_numeric(self.table[key], errors="coerce").dropna()
            if not values.empty:
                out[key] = (float(values.min()), float(values.max()))
        return out

    def months(self, scenario: str | None = None) -> int:
        """Months simulated (the scenario's resolved ``months``, else the table's last month)."""
        rec = self.records.get(scenario or self.baseline) or {}
        months = (rec.get("resolved") or {}).get("months")
        t = self.table if scenario is None else self.table[self.table["scenario"] == scenario]
        last = int(t["month"].max()) if not t.empty else 0
        return min(int(months), last) if months else last

    @cached_property
    def assumptions(self) -> list[tuple[list[str], Assumptions]]:
        """What the runs assume after the data (prices, demand, mechanisms), per group of scenarios.

        Scenarios with the same assumptions share one entry; most comparisons have one.
        """
        groups: dict[Assumptions, list[str]] = {}
        for s in self.scenarios:
            a = long_run_assumptions(self.parameters(s), int(self.start_year(s)), self.months(s), self.varied)
            groups.setdefault(a, []).append(s)
        return [(names, a) for a, names in groups.items()]

    def assumption_note(self) -> str:
        """One line for figure captions: the long-run assumptions (per scenario when they differ)."""
        if len(self.assumptions) == 1:
            return self.assumptions[0][1].short
        return " ".join(f"{', '.join(names)}: {a.short}" for names, a in self.assumptions)

    @cached_property
    def landscape(self) -> str | None:
        """The real raster file the runs loaded (``landscape_file``), or None for a generated valley."""
        for s in self.scenarios:
            rec = self.records.get(s) or {}
            resolved = rec.get("resolved") or {}
            found = (rec.get("landscape") or {}).get("file") or resolved.get("landscape_file")
            if found:
                return str(found)
        return None

    @property
    def landscape_label(self) -> str:
        """How maps name their valley: generated unless real rasters were loaded."""
        if self.landscape is None:
            return "generated valley, not real geography"
        return f"real rasters: {Path(self.landscape).name}"

    @property
    def n_points(self) -> int:
        """Number of parameter points in the table (1 for plain runs)."""
        return int(self.table["point"].nunique())

    @property
    def n_runs(self) -> int:
        """Number of runs in the table."""
        return int(self.table[RUN_KEYS].drop_duplicates().shape[0])

    def runs_of(self, scenario: str) -> int:
        """Count the runs of one scenario."""
        t = self.table[self.table["scenario"] == scenario]
        return int(t[["point", "replicate"]].drop_duplicates().shape[0])

    # -- scale -----------------------------------------------------------------------------
    def parameters(self, scenario: str) -> dict:
        """Return the resolved parameter groups of a scenario, as stored in the manifest."""
        rec = self.records.get(scenario) or {}
        return (rec.get("resolved") or {}).get("parameters") or {}

    def scale(self, scenario: str) -> float:
        """Households relative to the full valley (1.0 when unknown)."""
        n = (self.parameters(scenario).get("farmer") or {}).get("n_households")
        return float(n) / REFERENCE_HOUSEHOLDS if n else 1.0

    def cell_ha(self, scenario: str | None = None) -> float | None:
        """Area of one map cell, ha."""
        return (self.parameters(scenario or self.baseline).get("landscape") or {}).get("cell_ha")

    def start_year(self, scenario: str | None = None) -> float:
        """Calendar year of month 0."""
        rec = self.records.get(scenario or self.baseline) or {}
        year = (rec.get("resolved") or {}).get("start_year")
        if year is not None:
            return float(year)
        t = self.table
        row = t.loc[t["month"].idxmin()]
        return float(row["year"] - row["month"] / 12.0)

    # -- data ------------------------------------------------------------------------------
    def has(self, column: str) -> bool:
        """Whether the column exists and holds at least one number."""
        return column in self.table.columns and bool(self.table[column].notna().any())

    def all_zero(self, columns: Iterable[str]) -> bool:
        """Tell whether every present column is zero or missing in every run."""
        cols = [c for c in columns if c in self.table.columns]
        if not cols:
            return True
        values = self.table[cols].to_numpy(dtype=float)
        return bool(np.all(np.nan_to_num(values) == 0))

    def series(
        self, column: str, cumulative: bool = False, transform=None, smooth_months: int = 0
    ) -> pd.DataFrame:
        """Per-run monthly values of ``column`` (run keys, month, year, value).

        Args:
            column: A column of the table.
            cumulative: Running total per run (for monthly flows; missing months count as 0).
            transform: Optional callable ``DataFrame -> Series`` to derive the value instead.
            smooth_months: Trailing moving average over this many months per run (0: none), for
                noisy monthly stocks such as active airstrips.

        """
        t = self.table
        base = t[[*RUN_KEYS, "month", "year"]].copy()
        if transform is not None:
            base["value"] = transform(t).to_numpy(dtype=float)
        else:
            base["value"] = t[column].to_numpy(dtype=float)
        if cumulative:
            base["value"] = base["value"].fillna(0.0).groupby([base[k] for k in RUN_KEYS]).cumsum()
        if smooth_months > 1:
            runs = base["value"].groupby([base[k] for k in RUN_KEYS], sort=False)
            base["value"] = runs.transform(lambda v: v.rolling(smooth_months, min_periods=1).mean())
        return base

    def bands(self, column: str, cumulative: bool = False, transform=None) -> pd.DataFrame:
        """Median and 5-95% band across runs, per scenario and month.

        Returns columns ``scenario, month, year, p5, median, p95``.
        """
        return quantile_bands(self.series(column, cumulative, transform))

    def final(self, column: str = "coca_ha") -> pd.DataFrame:
        """Each run's value of ``column`` at its last month, with the swept parameter values."""
        t = self.table
        last = t.groupby(RUN_KEYS, sort=False)["month"].transform("max")
        cols = [*RUN_KEYS, *self.swept, column]
        return t.loc[t["month"] == last, cols].reset_index(drop=True)

    def map_months(self) -> list[int]:
        """Months at which coca maps exist, ascending."""
        return sorted({k[3] for k in self.results.maps})

    def mean_map(self, scenario: str, month: int) -> tuple[np.ndarray | None, int]:
        """Mean coca map (ha per cell) over the runs that kept one, and how many did."""
        grids = [g for (s, _p, _r, m), g in self.results.maps.items() if s == scenario and m == month]
        if not grids:
            return None, 0
        return np.mean(np.stack([np.asarray(g, dtype=float) for g in grids]), axis=0), len(grids)

    @cached_property
    def district_edges(self) -> np.ndarray | None:
        """Boolean mask of cells where the district id changes (same shape as the maps)."""
        d = self.results.district
        if d is None:
            return None
        d = np.asarray(d)
        edge = np.zeros(d.shape, dtype=bool)
        edge[1:, :] |= d[1:, :] != d[:-1, :]
        edge[:, 1:] |= d[:, 1:] != d[:, :-1]
        return edge


def quantile_bands(series: pd.DataFrame) -> pd.DataFrame:
    """Median and 5-95% band of a per-run ``series`` (see :meth:`ReportView.series`)."""
    g = series.groupby(["scenario", "month"], sort=False)
    q = g["value"].quantile(list(QUANTILES)).unstack()
    q.columns = ["p5", "median", "p95"]
    q["year"] = g["year"].mean()
    return q.reset_index()
