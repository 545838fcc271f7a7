"""Comparing scenarios and parameter points from saved results (``vraem compare DIR``).

Reads a ``vraem sweep`` or ``vraem run`` folder (never runs the model) and writes three CSV files:

- ``coca_ha_by_month.csv``: per scenario, point and month, coca ha across replicates (mean,
  median, 5% and 95% quantiles);
- ``paired_differences.csv``: per point, each scenario minus the baseline scenario, and, when
  there are several points, each point minus point 0 within a scenario, for the summary metrics;
  differences are paired by replicate and seed (the runs share their random numbers), with a 95%
  confidence interval of the mean difference from Student's t (:func:`vraem.stats.mean_interval`:
  run-to-run noise only, not parameter uncertainty);
- ``summary.csv``: per scenario and point, coca ha at the end, cumulative eradicated ha, the
  replanted share, exports, development money spent and hectares avoided per million soles.

Hectares avoided per million soles compares a scenario with the baseline in the same point and
replicate: coca ha at the end avoided, over the development money spent beyond the baseline's
(in millions of soles); it is blank when the scenario does not spend more than the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vraem.formatting import fmt
from vraem.results import ResultsError, load_results
from vraem.stats import NOISE_ONLY, mean_ci, mean_interval, uncertainty_source

__all__ = ["compare_folder", "mean_ci", "paired_differences", "print_comparison"]

COLUMNS = (
    "seed",
    "year",
    "coca_ha",
    "eradicated_ha",
    "replanted_ha",
    "exports_air_t",
    "exports_land_t",
    "development_spent_soles",
)
"""The table columns a comparison reads."""

METRICS = {
    "coca_ha_end": "coca ha in the last month",
    "eradicated_ha_total": "eradicated ha, cumulative",
    "replanted_share": "replanted ha / eradicated ha, cumulative",
    "exports_t": "exports by air and land, t, cumulative",
    "development_million_soles": "development money spent, million soles, cumulative",
}
"""Per-run summary metrics and their meaning."""


class CompareError(ValueError):
    """A folder that cannot be compared, with a message for people."""


@dataclass
class Comparison:
    """The three tables of a comparison and where they were written."""

    folder: Path
    baseline: str
    by_month: pd.DataFrame
    paired: pd.DataFrame
    summary: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)
    uncertainty: str = NOISE_ONLY
    """What the intervals include (:func:`vraem.stats.uncertainty_source`)."""


def run_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """Summarise each run (scenario, point, replicate) by the metrics of :data:`METRICS`."""
    t = table.sort_values("month", kind="stable")  # keeps the order of scenarios and runs
    keys = ["scenario", "point", "replicate", "seed"]
    t = t.assign(exports_t=t["exports_air_t"] + t["exports_land_t"])
    g = t.groupby(keys, sort=False)
    runs = g.agg(
        coca_ha_start=("coca_ha", "first"),
        coca_ha_end=("coca_ha", "last"),
        eradicated_ha_total=("eradicated_ha", "sum"),
        replanted_ha_total=("replanted_ha", "sum"),
        exports_t=("exports_t", "sum"),
        development_soles=("development_spent_soles", "sum"),
    ).reset_index()
    erad = runs["eradicated_ha_total"]
    runs["replanted_share"] = (runs["replanted_ha_total"] / erad).where(erad > 0)
    runs["development_million_soles"] = runs["development_soles"] / 1e6
    return runs.drop(columns="development_soles")


def coca_by_month(table: pd.DataFrame) -> pd.DataFrame:
    """Coca ha per scenario, point and month across replicates: mean, median, 5-95%."""
    g = table.groupby(["scenario", "point", "month"], sort=False)
    out = g.agg(
        year=("year", "first"),
        replicates=("coca_ha", "size"),
        coca_ha_mean=("coca_ha", "mean"),
        coca_ha_median=("coca_ha", "median"),
        coca_ha_p5=("coca_ha", lambda x: x.quantile(0.05)),
        coca_ha_p95=("coca_ha", lambda x: x.quantile(0.95)),
    )
    return out.reset_index()


def _pair(
    runs: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame, labels: dict, source: str = NOISE_ONLY
) -> list[dict]:
    merged = a.merge(b, on=["replicate", "seed"], suffixes=("", "_base"))
    rows = []
    for metric in METRICS:
        diff = (merged[metric] - merged[f"{metric}_base"]).to_numpy(dtype=float)
        ci = mean_interval(diff, source=source)
        rows.append(
            {
                **labels,
                "metric": metric,
                "pairs": int((~np.isnan(diff)).sum()),
                "mean": merged[metric].mean(),
                "mean_base": merged[f"{metric}_base"].mean(),
                "difference_mean": ci.centre,
                "difference_ci95_low": ci.low,
                "difference_ci95_high": ci.high,
                "interval": ci.describe,
            }
        )
    return rows


def paired_differences(runs: pd.DataFrame, baseline: str, source: str = NOISE_ONLY) -> pd.DataFrame:
    """Scenario minus baseline in each point; point minus point 0 in each scenario.

    ``source`` says what the intervals include (noise only, or noise and posterior draws).
    """
    rows: list[dict] = []
    points = sorted(runs["point"].unique())
    scenarios = list(dict.fromkeys(runs["scenario"]))
    for p in points:
        base = runs[(runs["scenario"] == baseline) & (runs["point"] == p)]
        for sc in scenarios:
            if sc == baseline:
                continue
            this = runs[(runs["scenario"] == sc) & (runs["point"] == p)]
            labels = {"scenario": sc, "point": p, "versus_scenario": baseline, "versus_point": p}
            rows += _pair(runs, this, base, labels, source)
    if len(points) > 1:
        for sc in scenarios:
            base = runs[(runs["scenario"] == sc) & (runs["point"] == points[0])]
            for p in points[1:]:
                this = runs[(runs["scenario"] == sc) & (runs["point"] == p)]
                labels = {
                    "scenario": sc,
                    "point": p,
                    "versus_scenario": sc,
                    "versus_point": points[0],
                }
                rows += _pair(runs, this, base, labels, source)
    return pd.DataFrame(rows)


def summary_table(runs: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per scenario and point: the metrics across replicates, and ha avoided per million soles."""
    base = runs[runs["scenario"] == baseline][
        ["point", "replicate", "seed", "coca_ha_end", "development_million_soles"]
    ]
    merged = runs.merge(base, on=["point", "replicate", "seed"], how="left", suffixes=("", "_base"))
    merged["avoided_ha"] = merged["coca_ha_end_base"] - merged["coca_ha_end"]
    merged["extra_million_soles"] = (
        merged["development_million_soles"] - merged["development_million_soles_base"]
    )
    rows = []
    for (sc, p), g in merged.groupby(["scenario", "point"], sort=False):
        extra = g["extra_million_soles"].mean()
        avoided = g["avoided_ha"].mean()
        erad = g["eradicated_ha_total"].sum()
        rows.append(
            {
                "scenario": sc,
                "point": p,
                "replicates": len(g),
                "coca_ha_start": g["coca_ha_start"].mean(),
                "coca_ha_end_mean": g["coca_ha_end"].mean(),
                "coca_ha_end_median": g["coca_ha_end"].median(),
                "coca_ha_end_p5": g["coca_ha_end"].quantile(0.05),
                "coca_ha_end_p95": g["coca_ha_end"].quantile(0.95),
                "eradicated_ha_total": g["eradicated_ha_total"].mean(),
                "replanted_share": g["replanted_ha_total"].sum() / erad if erad > 0 else np.nan,
                "exports_t": g["exports_t"].mean(),
                "development_million_soles": g["development_million_soles"].mean(),
                "coca_ha_avoided_vs_baseline": avoided,
                "ha_avoided_per_million_soles": avoided / extra if extra > 1e-9 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _point_labels(manifest: dict) -> dict[int, str]:
    labels = {}
    for entry in manifest.get("points", []):
        params = entry.get("params") or {}
        labels[int(entry["point"])] = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
        )
    return labels


def compare_folder(
    folder: str | Path, baseline: str | None = None, out: str | Path | None = None
) -> Comparison:
    """Compare the scenarios and points of a results folder and write the three CSV files.

    Args:
        folder: A ``vraem sweep`` or ``vraem run`` folder.
        baseline: The scenario the others are compared with (default ``status_quo`` if present,
            else the first scenario).
        out: Where to write the CSV files (default ``folder/compare``).

    Raises:
        CompareError: The folder cannot be read, or ``baseline`` is not one of its scenarios.

    """
    folder = Path(folder)
    try:
        res = load_results(folder, columns=list(COLUMNS), maps=False)
    except (ResultsError, OSError) as exc:
        raise CompareError(str(exc)) from None
    except (KeyError, ValueError) as exc:  # pyarrow: a column missing from older results
        raise CompareError(f"{folder}: the results lack a column the comparison needs ({exc})") from None
    table = res.table
    from vraem.robustness import WITH_STRUCTURE, draw_info, pooled_replicates

    keep = pooled_replicates(res.manifest)
    if keep is not None:  # model variants: their sample by stacking weight, not the extra draws
        table = table[table["replicate"].isin(keep)]
    scenarios = list(dict.fromkeys(table["scenario"]))
    if baseline is None:
        baseline = "status_quo" if "status_quo" in scenarios else scenarios[0]
    elif baseline not in scenarios:
        raise CompareError(
            f"--baseline {baseline}: not a scenario of {folder} (there: {', '.join(scenarios)})"
        )
    runs = run_metrics(table)
    labels = _point_labels(res.manifest)
    by_month = coca_by_month(table)
    source = WITH_STRUCTURE if keep is not None else uncertainty_source(draw_info(res.manifest) is not None)
    paired = paired_differences(runs, baseline, source)
    summary = summary_table(runs, baseline)
    for df in (by_month, paired, summary):
        if labels and len(df):
            df.insert(df.columns.get_loc("point") + 1, "params", df["point"].map(labels))
    out_dir = Path(out) if out is not None else folder / "compare"
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, df in (
        ("coca_ha_by_month", by_month),
        ("paired_differences", paired),
        ("summary", summary),
    ):
        files[name] = out_dir / f"{name}.csv"
        df.to_csv(files[name], index=False)
    return Comparison(folder, baseline, by_month, paired, summary, files, source)


def _num(x: float, digits: int = 0) -> str:
    """A table cell: :func:`vraem.formatting.fmt` with a fixed precision per column; blank if missing."""
    return "" if pd.isna(x) else fmt(x, digits)


def print_comparison(c: Comparison, console) -> None:
    """Print the summary table and the paired differences in coca ha at the end."""
    from rich.table import Table

    has_points = c.summary["point"].nunique() > 1
    t = Table(title=f"{c.folder}: summary per scenario (means across replicates)")
    cols = [
        "scenario",
        *(["point"] if has_points else []),
        "n",
        "coca ha end [5-95%]",
        "eradicated ha",
        "replanted share",
        "exports t",
        "dev. M soles",
        "ha avoided / M soles",
    ]
    for col in cols:
        t.add_column(col, justify="left" if col in ("scenario", "point") else "right")
    for r in c.summary.itertuples():
        point = [getattr(r, "params", None) or str(r.point)] if has_points else []
        t.add_row(
            r.scenario,
            *point,
            str(r.replicates),
            f"{_num(r.coca_ha_end_mean)} [{_num(r.coca_ha_end_p5)}-{_num(r.coca_ha_end_p95)}]",
            _num(r.eradicated_ha_total),
            _num(r.replanted_share, 2),
            _num(r.exports_t),
            _num(r.development_million_soles, 1),
            _num(r.ha_avoided_per_million_soles, 1),
        )
    console.print(t)
    end = c.paired[c.paired["metric"] == "coca_ha_end"] if len(c.paired) else c.paired
    if len(end):
        t = Table(title="coca ha at the end: paired differences (mean, 95% CI)")
        n = int(end["pairs"].max())
        t.caption = mean_interval(np.zeros(n), source=c.uncertainty).describe.replace("95%", "95% CI:", 1)
        heads = ("scenario", *(["point"] if has_points else []), "versus", "pairs", "difference", "95% CI")
        for col in heads:
            t.add_column(col, justify="left" if col in ("scenario", "point", "versus") else "right")
        for r in end.itertuples():
            versus = r.versus_scenario if r.versus_point == r.point else f"point {r.versus_point}"
            point = [getattr(r, "params", None) or str(r.point)] if has_points else []
            t.add_row(
                r.scenario,
                *point,
                versus,
                str(r.pairs),
                _num(r.difference_mean),
                f"[{_num(r.difference_ci95_low)}, {_num(r.difference_ci95_high)}]",
            )
        console.print(t)
    console.print(
        f"baseline: {c.baseline}; tables: {', '.join(str(p) for p in c.files.values())}",
        highlight=False,
    )
