"""Numbers for the report, computed from the saved results (never written by hand).

:func:`run_summary` reduces each run to one row of outcomes; :func:`key_findings` summarises those
per scenario (median and 5-95% range across runs); :func:`paired_differences` compares each scenario
with the baseline run by run (replicate ``k`` has the same seed in every scenario, so differences
are paired; the statistics are :mod:`vraem.stats`'s); :func:`observed_fit` sets the status quo
against the observed VRAEM survey series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vraem.formatting import fmt, formatter
from vraem.observed import CALIBRATION_YEARS, VALIDATION_YEARS, load_observed
from vraem.report.view import RUN_KEYS, ReportView
from vraem.stats import share_below, spread_interval, uncertainty_source


@dataclass(frozen=True)
class Metric:
    """One outcome of a run: how to compute it and how to print it."""

    key: str
    label: str
    unit: str
    how: str
    """``start`` / ``end`` (value at the first / last month) or ``sum`` (total over the run)."""
    columns: tuple[str, ...]
    percent: bool = False
    scale: float = 1.0
    integer: bool = False
    """A count of events: printed without decimals."""


METRICS: tuple[Metric, ...] = (
    Metric("coca_start", "Coca at the start", "ha", "start", ("coca_ha",)),
    Metric("coca_end", "Coca at the end", "ha", "end", ("coca_ha",)),
    Metric("eradicated", "Eradicated, total", "ha", "sum", ("eradicated_ha",)),
    Metric("replanted", "Replanted, total", "ha", "sum", ("replanted_ha",)),
    Metric(
        "new_virgin",
        "New coca in previously uncultivated cells, total",
        "ha",
        "sum",
        ("new_coca_virgin_ha",),
    ),
    Metric("forest_cleared", "Forest cleared, total", "ha", "sum", ("forest_cleared_ha",)),
    Metric("leaf_price_end", "Leaf price at the end", "USD/kg", "end", ("leaf_price_usd_per_kg",)),
    Metric("paste_price_end", "Paste price at the end", "USD/kg", "end", ("paste_price_usd_per_kg",)),
    Metric("exports_air", "Exports by air, total", "t", "sum", ("exports_air_t",)),
    Metric("exports_land", "Exports by land, total", "t", "sum", ("exports_land_t",)),
    Metric("income_end", "Mean household income at the end", "USD/month", "end", ("income_mean_usd",)),
    Metric(
        "poverty_end",
        "Households below the poverty line at the end",
        "%",
        "end",
        ("poverty_share",),
        percent=True,
    ),
    Metric("labs_destroyed", "Labs destroyed, total", "labs", "sum", ("labs_destroyed",), integer=True),
    Metric("labs_rebuilt", "Labs rebuilt, total", "labs", "sum", ("labs_rebuilt",), integer=True),
    Metric(
        "airstrips_destroyed",
        "Airstrips destroyed, total",
        "airstrips",
        "sum",
        ("airstrips_destroyed",),
        integer=True,
    ),
    Metric(
        "couriers_arrested",
        "Couriers arrested, total",
        "people",
        "sum",
        ("couriers_arrested",),
        integer=True,
    ),
    Metric(
        "confrontations",
        "Confrontations, total",
        "events",
        "sum",
        ("confrontations",),
        integer=True,
    ),
    Metric("casualties", "Casualties, total", "people", "sum", ("casualties",), integer=True),
    Metric(
        "development_spent",
        "Development money spent, total",
        "million soles",
        "sum",
        ("development_spent_soles",),
        scale=1e-6,
    ),
)


def run_summary(view: ReportView) -> pd.DataFrame:
    """One row per run (scenario, point, replicate) with every metric whose column exists."""
    t = view.table
    g = t.groupby(RUN_KEYS, sort=False)
    first = t[t["month"] == g["month"].transform("min")].set_index(RUN_KEYS)
    last = t[t["month"] == g["month"].transform("max")].set_index(RUN_KEYS)
    out = pd.DataFrame(index=first.index)
    for m in METRICS:
        col = m.columns[0]
        if col not in t.columns:
            continue
        if m.how == "start":
            values = first[col]
        elif m.how == "end":
            values = last[col]
        else:
            values = g[col].sum(min_count=1)
        out[m.key] = values * m.scale
    if {"eradicated", "replanted"} <= set(out.columns):
        out["replanted_share"] = out["replanted"] / out["eradicated"].where(out["eradicated"] > 0)
    if {"coca_start", "coca_end"} <= set(out.columns):
        out["coca_change"] = out["coca_end"] / out["coca_start"].where(out["coca_start"] > 0) - 1.0
    for p in view.swept:
        out[p] = first[p]
    return out


EXTRA_ROWS = {
    "coca_change": ("Change in coca, start to end", "%", True),
    "replanted_share": ("Share of eradicated ha replanted", "%", True),
}


def _spread(values: pd.Series) -> tuple[float, float, float] | None:
    """Median, 5% and 95% quantiles of the runs' values (None when there are none)."""
    v = values.dropna()
    if v.empty:
        return None
    return float(v.median()), float(v.quantile(0.05)), float(v.quantile(0.95))


def _cell(stats: tuple[float, float, float] | None, f) -> str:
    if stats is None:
        return "–"
    med, lo, hi = stats
    if lo == hi:
        return f(med)
    return f"{f(med)} [{f(lo)} to {f(hi)}]"


def key_findings(view: ReportView, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per scenario: median [5-95%] across runs of each metric; rows are metrics.

    Columns: ``label``, ``unit``, then one per scenario.
    """
    summary = run_summary(view) if summary is None else summary
    rows = []
    order: list[tuple[str, str, str, bool, bool]] = []
    for m in METRICS:
        order.append((m.key, m.label, m.unit, m.percent, m.integer))
        if m.key == "coca_end":
            order.append(("coca_change", *EXTRA_ROWS["coca_change"], False))
        if m.key == "replanted":
            order.append(("replanted_share", *EXTRA_ROWS["replanted_share"], False))
    for key, label, unit, percent, integer in order:
        if key not in summary.columns:
            continue
        stats = {s: _spread(summary.xs(s, level="scenario")[key]) for s in view.scenarios}
        values = [x for st in stats.values() if st for x in st]
        f = (lambda x: fmt(x, 0)) if integer else formatter(values, percent)  # one precision per row
        rows.append({"label": label, "unit": unit, **{s: _cell(st, f) for s, st in stats.items()}})
    return pd.DataFrame(rows)


def paired_differences(
    view: ReportView, summary: pd.DataFrame | None = None, metric: str = "coca_end"
) -> pd.DataFrame:
    """Each scenario minus the baseline, run by run (same point and replicate, same seed).

    Returns one row per other scenario: pairs, median and 5-95% of the difference
    (:func:`vraem.stats.spread_interval`), the median relative difference, the share of pairs in
    which the scenario had less, and ``interval``, the words saying what the range is.
    """
    summary = run_summary(view) if summary is None else summary
    if metric not in summary.columns:
        return pd.DataFrame()
    from vraem.robustness import WITH_STRUCTURE, draw_info, ensemble_info

    source = uncertainty_source(draw_info(view.manifest) is not None)
    if ensemble_info(view.manifest):
        source = WITH_STRUCTURE
    base = view.baseline
    b = summary.xs(base, level="scenario")[metric]
    rows = []
    for s in view.scenarios:
        if s == base:
            continue
        a = summary.xs(s, level="scenario")[metric]
        d = (a - b).dropna()
        rel = ((a - b) / b.where(b != 0)).dropna()
        if d.empty:
            continue
        spread = spread_interval(d.to_numpy(), source=source)
        rows.append(
            {
                "scenario": s,
                "baseline": base,
                "pairs": spread.n,
                "median": spread.centre,
                "p5": spread.low,
                "p95": spread.high,
                "median_relative": float(rel.median()) if not rel.empty else float("nan"),
                "share_less": share_below(d.to_numpy()),
                "interval": spread.describe,
            }
        )
    return pd.DataFrame(rows)


def difference_formatter(diffs: pd.DataFrame):
    """One precision for every paired difference in hectares (medians and 5-95% ranges)."""
    cols = [c for c in ("median", "p5", "p95") if c in diffs.columns]
    return formatter(diffs[cols].to_numpy().ravel() if cols else [])


def observed_fit(view: ReportView) -> pd.DataFrame:
    """Status quo (median and 5-95% over runs) at each observed survey year it covers.

    The observed areas are multiplied by the model's scale (households / 20,000).
    """
    if "status_quo" not in view.scenarios or not view.has("coca_ha"):
        return pd.DataFrame()
    start = view.start_year("status_quo")
    scale = view.scale("status_quo")
    sq = view.table[view.table["scenario"] == "status_quo"]
    rows = []
    for r in load_observed().itertuples():
        month = round(12 * (r.year - start))
        at = sq.loc[sq["month"] == month, "coca_ha"]
        if month < 0 or at.empty:
            continue
        if CALIBRATION_YEARS[0] <= r.year <= CALIBRATION_YEARS[1]:
            period = "calibration"
        elif VALIDATION_YEARS[0] <= r.year <= VALIDATION_YEARS[1]:
            period = "validation (not tuned)"
        else:
            period = "not tuned"
        obs = float(r.coca_ha) * scale
        med = float(at.median())
        rows.append(
            {
                "year": int(r.year),
                "period": period,
                "observed_ha": obs,
                "model_median_ha": med,
                "model_p5_ha": float(at.quantile(0.05)),
                "model_p95_ha": float(at.quantile(0.95)),
                "error": med / obs - 1.0 if obs else float("nan"),
                "source": r.source,
            }
        )
    return pd.DataFrame(rows)


def headlines(view: ReportView, summary: pd.DataFrame | None = None) -> list[str]:
    """Short sentences stating the main results, every number taken from the data."""
    summary = run_summary(view) if summary is None else summary
    out: list[str] = []
    if "coca_end" not in summary.columns:
        return ["These results have no coca_ha column, so no coca findings can be computed."]
    months = int(view.table["month"].max())
    year = view.start_year() + months / 12.0
    end = summary["coca_end"].groupby(level="scenario", sort=False).median()
    end = end.reindex(view.scenarios)
    ha = formatter(end)  # one precision for the hectares of every scenario
    if len(end) > 1:
        lo, hi = end.idxmin(), end.idxmax()
        out.append(
            f"After {months} months ({year:.4g}), coca is lowest under {lo} "
            f"(median {ha(end[lo])} ha) and highest under {hi} ({ha(end[hi])} ha)."
        )
    else:
        out.append(f"After {months} months ({year:.4g}), coca stands at a median {ha(end.iloc[0])} ha.")
    if "coca_change" in summary.columns:
        change = summary["coca_change"].groupby(level="scenario", sort=False).median()
        pct = formatter(change, percent=True)
        parts = [
            f"{s} {'+' if change[s] >= 0 else ''}{pct(change[s])}"
            for s in view.scenarios
            if np.isfinite(change.get(s, np.nan))
        ]
        if parts:
            out.append("Change in coca from the first to the last month (median): " + "; ".join(parts) + ".")
    diffs = paired_differences(view, summary)
    d = difference_formatter(diffs)
    for r in diffs.itertuples():
        sign = "more" if r.median > 0 else "less"
        out.append(
            f"{r.scenario} ends with {d(abs(r.median))} ha {sign} coca than {r.baseline} "
            f"(median of {r.pairs} paired runs; 5-95%: {d(r.p5)} to {d(r.p95)} ha; "
            f"{fmt(r.median_relative, percent=True)}); it has less coca in "
            f"{fmt(r.share_less, percent=True)} of the pairs. These are the {r.interval}."
        )
    if "replanted_share" in summary.columns:
        share = summary["replanted_share"].groupby(level="scenario", sort=False).median().dropna()
        if not share.empty:
            out.append(
                "Share of eradicated hectares replanted (median): "
                + "; ".join(f"{s} {formatter(share, percent=True)(v)}" for s, v in share.items())
                + "."
            )
    fit = observed_fit(view)
    if not fit.empty:
        for period, g in fit.groupby("period", sort=False):
            mae = float(g["error"].abs().mean())
            years = ", ".join(str(y) for y in g["year"])
            out.append(
                f"Status quo against the observed series, {period} years ({years}): mean absolute "
                f"error {fmt(mae, percent=True)} of the observed area."
            )
    return out
