"""The report's figures, drawn from saved results only.

Each ``fig_*`` function takes a :class:`~vraem.report.view.ReportView` and an output folder, writes
the figure as PNG (for the HTML report) and SVG (vector, for papers), and returns a :class:`Figure`
with its title and caption. A figure whose data is absent says so on its axes, or is skipped with a
note; it never raises. Lines are medians across runs, bands the 5-95% range; scenario colours are
Okabe-Ito (colour-blind safe); maps use viridis and a red-blue diverging scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from vraem.observed import CALIBRATION_YEARS, load_observed
from vraem.report.view import OKABE_ITO, RUN_KEYS, ReportView, quantile_bands

DPI = 110
FORMATS = ("png", "svg")
"""Files written per figure: PNG for the HTML report, SVG (vector) for papers; "pdf" also works."""
BAND_ALPHA = 0.18
MAP_MIN_WIDTH = 6.0
"""Inches: room for a map figure's title and its "generated valley" label with one map month."""
GREY = "#666666"
STAGE_COLOURS = ("#BBBBBB", *OKABE_ITO[:5])
LINESTYLES = ("-", "--", "-.", ":")
"""Cycled per scenario with the colours, so that lines that coincide stay distinguishable."""
RC = {
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.titlesize": 13,
    "figure.titleweight": "bold",
    "svg.hashsalt": "vraem",
}


@dataclass
class Figure:
    """One figure of the report: where it is and what it shows."""

    key: str
    section: str
    title: str
    caption: str
    files: list[Path] = field(default_factory=list)
    note: str = ""
    """Why the figure was not drawn (when ``files`` is empty)."""
    failed: bool = False
    """True when drawing raised: the report shows the error instead of the figure."""

    @property
    def png(self) -> Path | None:
        """The PNG file, if the figure was drawn."""
        return next((f for f in self.files if f.suffix == ".png"), None)


# ---------------------------------------------------------------------------------------------
# Helpers


def _save(fig, out_dir: Path, key: str, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write ``key.png`` (always: the HTML embeds it) and the other formats; close the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in dict.fromkeys(("png", *formats)):
        path = out_dir / f"{key}.{ext}"
        if ext == "png":
            fig.savefig(path, dpi=DPI)
        else:
            fig.savefig(path, metadata={"Date": None} if ext in {"svg", "pdf"} else None)
        paths.append(path)
    plt.close(fig)
    return paths


def _message(ax, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=GREY,
        fontsize=9,
        wrap=True,
    )


def _empty_panel(ax, title: str, text: str) -> None:
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    _message(ax, text)


def _style(view: ReportView, scenario: str) -> dict:
    i = view.scenarios.index(scenario) if scenario in view.scenarios else 0
    return {"color": view.colours.get(scenario, GREY), "ls": LINESTYLES[i % len(LINESTYLES)]}


def _draw_bands(ax, view: ReportView, b: pd.DataFrame) -> None:
    for name, g in b.groupby("scenario", sort=False):
        style = _style(view, name)
        ax.fill_between(g["year"], g["p5"], g["p95"], color=style["color"], alpha=BAND_ALPHA, lw=0)
        ax.plot(g["year"], g["median"], lw=1.8, **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))


def _band_panel(
    ax,
    view: ReportView,
    column: str,
    title: str,
    ylabel: str,
    cumulative: bool = False,
    series: pd.DataFrame | None = None,
    percent: bool = False,
    smooth_months: int = 0,
) -> bool:
    """Median and 5-95% band of one output per scenario; says so when the data is missing."""
    if series is None and not view.has(column):
        _empty_panel(ax, title, f"'{column}' is not in these results")
        return False
    if series is None:
        series = view.series(column, cumulative, smooth_months=smooth_months)
        own = True
    else:
        own = False
    b = quantile_bands(series)
    if b["median"].isna().all():
        _empty_panel(ax, title, "no values in these results")
        return False
    _draw_bands(ax, view, b)
    if own and view.all_zero([column]):
        _message(ax, "zero in every run")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("year")
    ax.grid(alpha=0.3)
    if np.nanmin(b["p5"].to_numpy(dtype=float)) >= 0:
        ax.set_ylim(bottom=0)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return True


def _scenario_legend(fig, view: ReportView, extra: list | None = None, band: bool = True) -> None:
    handles = [Line2D([], [], lw=2, label=s, **_style(view, s)) for s in view.scenarios]
    if band:
        handles.append(Patch(color=GREY, alpha=0.3, label="5-95% of runs (line: median)"))
    handles += extra or []
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), frameon=False)


def _runs_note(view: ReportView) -> str:
    runs = ", ".join(f"{s}: {view.runs_of(s)}" for s in view.scenarios)
    pooled = " (pooled over every parameter point of the sweep)" if view.n_points > 1 else ""
    return f"Runs per scenario{pooled}: {runs}."


def _figure(rows: int, cols: int, width: float, height: float):
    return plt.subplots(rows, cols, figsize=(width, height), layout="constrained", squeeze=False)


# ---------------------------------------------------------------------------------------------
# Time series


def fig_headline(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Coca ha per month per scenario, with the observed VRAEM series on the status quo."""
    title = "VRAEM coca area by scenario"
    with plt.rc_context(RC):
        fig, axes = _figure(1, 1, 9, 5.4)
        ax = axes[0, 0]
        _band_panel(ax, view, "coca_ha", title, "coca (ha)")
        handles = [Line2D([], [], lw=2, label=s, **_style(view, s)) for s in view.scenarios]
        handles.append(Patch(color=GREY, alpha=0.3, label="5-95% of runs (line: median)"))
        obs_note = "No status_quo scenario in these results, so the observed series is not shown."
        if "status_quo" in view.scenarios and view.has("coca_ha"):
            scale = view.scale("status_quo")
            obs = load_observed()
            lo, hi = view.table["year"].min(), view.table["year"].max()
            obs = obs[(obs["year"] >= lo - 0.01) & (obs["year"] <= hi + 0.01)]
            tuned = obs["year"].between(*CALIBRATION_YEARS)
            colour = view.colours["status_quo"]
            scaled = f" x {scale:.3g}" if scale != 1 else ""
            years = f"{CALIBRATION_YEARS[0]}-{CALIBRATION_YEARS[1]}"
            ax.plot(
                obs.loc[tuned, "year"],
                obs.loc[tuned, "coca_ha"] * scale,
                "s",
                color="k",
                mfc=colour,
                ms=6,
                zorder=5,
            )
            ax.plot(
                obs.loc[~tuned, "year"],
                obs.loc[~tuned, "coca_ha"] * scale,
                "s",
                color="k",
                mfc="white",
                ms=6,
                zorder=5,
            )
            handles += [
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="s",
                    color="k",
                    mfc=colour,
                    label=f"observed{scaled}, {years} (calibration)",
                ),
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="s",
                    color="k",
                    mfc="white",
                    label=f"observed{scaled}, other years (not tuned)",
                ),
            ]
            obs_note = (
                "Squares: the observed VRAEM coca area (UNODC / DEVIDA surveys, shipped in "
                "model/vraem/data/vraem_coca_observed.csv), to compare with status_quo; filled squares "
                "are "
                "the years the status quo was calibrated to, hollow ones were not used for tuning."
            )
            if scale != 1:
                obs_note += (
                    f" These results simulate a scaled valley ({scale:.3g} of the about 20,000 "
                    f"households), so the observed areas are multiplied by {scale:.3g}."
                )
            if obs.empty:
                obs_note = "No observed survey year falls inside the simulated period."
            ax.autoscale(axis="y")  # _band_panel fixed the limits before the surveys were drawn
            ax.set_ylim(bottom=0)
        data_end = _price_data_end(view)
        lo, hi = view.table["year"].min(), view.table["year"].max()
        if data_end is not None and lo < data_end < hi:
            ax.axvline(data_end, color=GREY, ls=":", lw=1.2, zorder=1)
            label = f"end of the legal price data ({data_end - 1:.0f}); reverting to a long-run mean after"
            handles.append(Line2D([], [], color=GREY, ls=":", label=label))
        ax.legend(handles=handles, frameon=False, fontsize=8.5, loc="best")
        files = _save(fig, out, "headline", formats)
    caption = (
        "Coca under cultivation in the valley, ha, month by month: the median across runs (line) "
        f"and the 5-95% range (band). {obs_note} {_runs_note(view)}"
    )
    return Figure("headline", "Coca area", title, caption, files)


def _price_data_end(view: ReportView) -> float | None:
    """The year after the baseline's cacao price path ends (prices hold from there), if it has one."""
    path = (view.parameters(view.baseline).get("crops") or {}).get("cacao_price_index_by_year")
    return view.start_year() + len(path) if path else None


def _running_share(view: ReportView) -> pd.DataFrame:
    e = view.series("eradicated_ha", cumulative=True)
    r = view.series("replanted_ha", cumulative=True)
    s = e.copy()
    s["value"] = r["value"] / e["value"].where(e["value"] > 0)
    return s


def fig_eradication(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Cumulative eradicated and replanted ha, and the share replanted."""
    title = "Eradication and replanting"
    with plt.rc_context(RC):
        fig, axes = _figure(1, 3, 14, 4.6)
        a, b, c = axes[0]
        _band_panel(a, view, "eradicated_ha", "Eradicated, cumulative", "ha", cumulative=True)
        _band_panel(b, view, "replanted_ha", "Replanted, cumulative", "ha", cumulative=True)
        extra = []
        if view.has("eradicated_ha") and view.has("replanted_ha") and not view.all_zero(["eradicated_ha"]):
            _band_panel(
                c,
                view,
                "replanted_share",
                "Share of eradicated ha replanted",
                "replanted / eradicated (cumulative)",
                series=_running_share(view),
                percent=True,
            )
            c.axhline(0.5, color="k", ls=":", lw=1.2)
            c.set_ylim(0, 1.05)
            extra = [Line2D([], [], color="k", ls=":", label="about 50% observed (seed interview)")]
        else:
            _empty_panel(c, "Share of eradicated ha replanted", "no eradication in these results")
        _scenario_legend(fig, view, extra)
        fig.suptitle(title)
        files = _save(fig, out, "eradication", formats)
    caption = (
        "Left and middle: hectares of coca eradicated and hectares replanted, summed from the "
        "first month. Right: replanted over eradicated hectares so far (undefined until "
        "something has been eradicated); the dotted line is the about 50% replanting reported "
        f"in the seed interview (Peru 2025: 43-46%). {_runs_note(view)}"
    )
    return Figure("eradication", "Eradication and replanting", title, caption, files)


def fig_displacement(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Draw new coca in previously uncultivated cells and forest cleared, cumulative."""
    title = "Displacement and deforestation"
    with plt.rc_context(RC):
        fig, axes = _figure(1, 2, 11, 4.6)
        _band_panel(
            axes[0, 0],
            view,
            "new_coca_virgin_ha",
            "New coca in previously uncultivated cells",
            "ha, cumulative",
            cumulative=True,
        )
        _band_panel(
            axes[0, 1],
            view,
            "forest_cleared_ha",
            "Forest cleared",
            "ha, cumulative",
            cumulative=True,
        )
        _scenario_legend(fig, view)
        fig.suptitle(title)
        files = _save(fig, out, "displacement", formats)
    caption = (
        "Left: coca planted in cells that had none before (the frontier the balloon effect "
        "pushes out), summed from the first month. Right: forest cleared for any crop, summed from "
        f"the first month. {_runs_note(view)}"
    )
    return Figure("displacement", "Where coca moved", title, caption, files)


def fig_market(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Leaf and paste prices; exports by air and by land."""
    title = "Prices along the chain and exports by route"
    with plt.rc_context(RC):
        fig, axes = _figure(2, 2, 11, 7.6)
        _band_panel(axes[0, 0], view, "leaf_price_usd_per_kg", "Farm-gate coca leaf price", "USD/kg")
        _band_panel(axes[0, 1], view, "paste_price_usd_per_kg", "Paste / base price in the valley", "USD/kg")
        _band_panel(axes[1, 0], view, "exports_air_t", "Exports by air (small planes)", "t/month")
        _band_panel(axes[1, 1], view, "exports_land_t", "Exports by land (couriers)", "t/month")
        _scenario_legend(fig, view)
        fig.suptitle(title)
        files = _save(fig, out, "market", formats)
    caption = (
        "Top: the farm-gate price of sun-dried coca leaf and the price of paste/base in the "
        "valley, USD/kg (observed: leaf US$2.2-4.3/kg in 2003-2013, paste about US$800-900/kg). "
        f"Bottom: cocaine base leaving the valley per month by route, t. {_runs_note(view)}"
    )
    return Figure("market", "The drug economy", title, caption, files)


def fig_households(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Mean household income and the share below the poverty line."""
    title = "Household income and poverty"
    with plt.rc_context(RC):
        fig, axes = _figure(1, 2, 11, 4.6)
        _band_panel(axes[0, 0], view, "income_mean_usd", "Mean household net income", "USD/month")
        _band_panel(
            axes[0, 1],
            view,
            "poverty_share",
            "Households below the poverty line",
            "share of households",
            percent=True,
        )
        _scenario_legend(fig, view)
        fig.suptitle(title)
        files = _save(fig, out, "households", formats)
    caption = (
        "Left: mean net income of coca-growing households, USD/month, from every crop and payment. "
        f"Right: the share of households whose income is below the poverty line. {_runs_note(view)}"
    )
    return Figure("households", "Households", title, caption, files)


def fig_programme(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Households by development-programme stage, one panel per scenario."""
    title = "Households by development-programme stage"
    stages = [c for c in view.table.columns if c.startswith("households_stage_")]
    if not stages:
        return Figure("programme", "Households", title, "", note="No households_stage_* columns.")
    n = len(view.scenarios)
    cols = min(n, 3)
    rows = -(-n // cols)
    with plt.rc_context(RC):
        fig, axes = _figure(rows, cols, 4.4 * cols + 0.5, 3.5 * rows + 0.8)
        means = view.table.groupby(["scenario", "month"], sort=False)[[*stages, "year"]].mean()
        colours = {s: STAGE_COLOURS[i % len(STAGE_COLOURS)] for i, s in enumerate(stages)}
        for ax, name in zip(axes.flat, view.scenarios, strict=False):
            g = means.loc[name]
            total = g[stages].sum(axis=1).replace(0, np.nan)
            shares = g[stages].div(total, axis=0).fillna(0.0)
            ax.stackplot(g["year"], *[shares[s] for s in stages], colors=[colours[s] for s in stages], lw=0)
            ax.set_title(name)
            ax.set_ylim(0, 1)
            ax.set_xlim(g["year"].min(), g["year"].max())
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_ylabel("share of households")
            ax.set_xlabel("year")
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        handles = [
            Patch(color=colours[s], label=s.removeprefix("households_stage_").replace("_", " "))
            for s in stages
        ]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncol=len(handles),
            frameon=False,
            title="programme stage (ID, land title, soil, quick crops, perennials)",
        )
        fig.suptitle(title)
        files = _save(fig, out, "programme", formats)
    caption = (
        "Share of households at each stage of the development programme (identity documents, "
        "land title, soil recovery, quick crops, perennial crops); 'none' have not joined. Mean "
        f"across runs. {_runs_note(view)}"
    )
    return Figure("programme", "Households", title, caption, files)


def fig_security(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Labs, airstrips, flights, couriers, confrontations and casualties."""
    title = "Security: labs, airstrips, flights, arrests and violence"
    panels = [
        ("active_labs", "Active labs (12-month mean)", "labs", False),
        ("labs_destroyed", "Labs destroyed, cumulative", "labs", True),
        ("labs_rebuilt", "Labs rebuilt, cumulative", "labs", True),
        ("active_airstrips", "Active airstrips (12-month mean)", "airstrips", False),
        ("airstrips_destroyed", "Airstrips destroyed, cumulative", "airstrips", True),
        ("airstrips_rebuilt", "Airstrips rebuilt, cumulative", "airstrips", True),
        ("flights_per_day", "Drug flights (12-month mean)", "flights/day", False),
        ("couriers_arrested", "Couriers arrested, cumulative", "people", True),
        ("confrontations", "Confrontations, cumulative", "events", True),
        ("casualties", "Casualties, cumulative", "people", True),
    ]
    with plt.rc_context(RC):
        fig, axes = _figure(2, 5, 19, 7.6)
        for ax, (col, name, unit, cum) in zip(axes.flat, panels, strict=True):
            _band_panel(ax, view, col, name, unit, cumulative=cum, smooth_months=0 if cum else 12)
        _scenario_legend(fig, view)
        fig.suptitle(title)
        files = _save(fig, out, "security", formats)
    caption = (
        "Stocks (active labs, active airstrips, flights per day) as 12-month trailing means of "
        "each run, since they jump month to month; events (labs and "
        "airstrips destroyed and rebuilt, couriers arrested, confrontations, casualties) summed "
        "from the first month, so that destroyed and rebuilt can be compared directly (observed: "
        "about 20 "
        f"labs destroyed a month; airstrips back within a week). {_runs_note(view)}"
    )
    return Figure("security", "Security", title, caption, files)


# ---------------------------------------------------------------------------------------------
# Maps


def _border_overlay(edges: np.ndarray) -> np.ndarray:
    rgba = np.zeros((*edges.T.shape, 4))
    rgba[edges.T] = (0.0, 0.0, 0.0, 0.55)
    return rgba


def _show_grid(ax, grid: np.ndarray, edges: np.ndarray | None, **kwargs):
    im = ax.imshow(grid.T, origin="lower", interpolation="nearest", **kwargs)
    if edges is not None and edges.shape == grid.shape:
        ax.imshow(_border_overlay(edges), origin="lower", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _month_label(view: ReportView, month: int) -> str:
    year = view.start_year() + month / 12.0
    return f"month {month} ({year:.4g})"


def _landscape_sentence(view: ReportView) -> str:
    """Whether the maps show the real valley or a generated one."""
    if view.landscape is None:
        return (
            "A generated valley, not real geography: these runs loaded no landscape_file, so the "
            "terrain, rivers, roads and districts were generated from the model's parameters."
        )
    return f"The valley of real rasters ({view.landscape})."


def _cell_label(view: ReportView) -> str:
    cell = view.cell_ha()
    return f"coca, ha per cell ({cell:g} ha cells)" if cell else "coca, ha per cell"


def fig_maps(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Coca per cell at the map months, one row per scenario, with district borders."""
    title = "Coca per cell at the map months"
    months = view.map_months()
    if not months:
        return Figure("maps", "Where coca moved", title, "", note="These results hold no coca maps.")
    edges = view.district_edges
    grids = {(s, m): view.mean_map(s, m) for s in view.scenarios for m in months}
    values = [g for g, _ in grids.values() if g is not None]
    vmax = max(float(np.percentile(np.concatenate([v.ravel() for v in values]), 99.5)), 1e-9)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#f2f2f2", over="#fde725")
    n_rows, n_cols = len(view.scenarios), len(months)
    with plt.rc_context(RC):
        fig, axes = _figure(n_rows, n_cols, max(2.9 * n_cols + 1.2, MAP_MIN_WIDTH), 2.45 * n_rows + 1.3)
        im = None
        for i, s in enumerate(view.scenarios):
            for j, m in enumerate(months):
                ax = axes[i, j]
                grid, _ = grids[(s, m)]
                if grid is None:
                    _empty_panel(ax, _month_label(view, m) if i == 0 else "", "no map")
                    continue
                im = _show_grid(ax, np.ma.masked_less_equal(grid, 0), edges, cmap=cmap, vmin=0, vmax=vmax)
                if i == 0:
                    ax.set_title(_month_label(view, m))
                if j == 0:
                    ax.set_ylabel(s, fontweight="bold")
                ax.text(
                    0.02,
                    0.03,
                    f"{np.nansum(grid):,.0f} ha",
                    transform=ax.transAxes,
                    fontsize=8,
                    bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1.5},
                )
        if im is not None:
            fig.colorbar(im, ax=axes, shrink=0.8, extend="max", label=_cell_label(view))
        fig.suptitle(f"{title}\n({view.landscape_label})")
        files = _save(fig, out, "maps", formats)
    pooled = "every parameter point and " if view.n_points > 1 else ""
    caption = (
        f"{_landscape_sentence(view)} Coca per map cell at each map month (columns) for each scenario "
        f"(rows): the mean over {pooled}the replicates that kept maps. Grey cells have no coca; black "
        "lines are district borders; the number in each panel is the valley total. The colour scale "
        "is shared and capped at the 99.5th percentile."
    )
    return Figure("maps", "Where coca moved", title, caption, files)


def fig_difference_maps(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Each scenario minus the baseline, per cell: where coca moved (the balloon effect)."""
    base = view.baseline
    title = f"Where coca moved: each scenario minus {base}"
    others = [s for s in view.scenarios if s != base]
    months = [m for m in view.map_months() if m > 0]
    if not others or not months:
        if not others:
            why = "needs at least two scenarios"
        elif view.map_months():
            why = "the only maps are of month 0, where every scenario starts from the same valley"
        else:
            why = "these results hold no coca maps"
        return Figure("difference_maps", "Where coca moved", title, "", note=f"Skipped: {why}.")
    edges = view.district_edges
    diffs = {}
    for s in others:
        for m in months:
            a, _ = view.mean_map(s, m)
            b, _ = view.mean_map(base, m)
            diffs[(s, m)] = None if a is None or b is None or a.shape != b.shape else a - b
    values = [np.abs(d).ravel() for d in diffs.values() if d is not None]
    vmax = max(float(np.percentile(np.concatenate(values), 99.5)), 1e-6) if values else 1.0
    with plt.rc_context(RC):
        width = max(2.9 * len(months) + 1.2, MAP_MIN_WIDTH)
        fig, axes = _figure(len(others), len(months), width, 2.45 * len(others) + 1.3)
        im = None
        for i, s in enumerate(others):
            for j, m in enumerate(months):
                ax = axes[i, j]
                d = diffs[(s, m)]
                if d is None:
                    _empty_panel(ax, _month_label(view, m) if i == 0 else "", "no map")
                    continue
                im = _show_grid(ax, d, edges, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
                if i == 0:
                    ax.set_title(_month_label(view, m))
                if j == 0:
                    ax.set_ylabel(f"{s}\nminus {base}", fontweight="bold")
                more, less = d[d > 0].sum(), -d[d < 0].sum()
                ax.text(
                    0.02,
                    0.03,
                    f"+{more:,.0f} / -{less:,.0f} ha",
                    transform=ax.transAxes,
                    fontsize=8,
                    bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 1.5},
                )
        if im is not None:
            fig.colorbar(
                im,
                ax=axes,
                shrink=0.8,
                extend="both",
                label=f"difference in coca, ha per cell\n(red: more than {base})",
            )
        fig.suptitle(f"{title}\n({view.landscape_label})")
        files = _save(fig, out, "difference_maps", formats)
    caption = (
        f"{_landscape_sentence(view)} "
        f"Coca per cell in each scenario minus {base} at the same month (runs are paired by seed). "
        f"Red cells have more coca than under {base}, blue cells less: red appearing where blue "
        "disappears is the balloon effect. Each panel gives the hectares gained and lost across "
        "cells; black lines are district borders."
    )
    return Figure("difference_maps", "Where coca moved", title, caption, files)


def fig_districts(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Change in coca per district from the first to the last month, per scenario."""
    title = "Change in coca by district, first to last month"
    cols = sorted(c for c in view.table.columns if c.startswith("coca_ha_d"))
    if not cols:
        return Figure("districts", "Where coca moved", title, "", note="No per-district columns.")
    t = view.table
    first = t[t["month"] == t.groupby(RUN_KEYS)["month"].transform("min")]
    last = t[t["month"] == t.groupby(RUN_KEYS)["month"].transform("max")]
    change = (
        (last.set_index(RUN_KEYS)[cols] - first.set_index(RUN_KEYS)[cols])
        .groupby(level="scenario", sort=False)
        .median()
    )
    n = len(view.scenarios)
    width = 0.8 / n
    x = np.arange(len(cols))
    with plt.rc_context(RC):
        fig, axes = _figure(1, 1, min(12, max(8, 0.25 * len(cols) * n + 3)), 4.6)
        ax = axes[0, 0]
        for i, s in enumerate(view.scenarios):
            ax.bar(
                x + (i - (n - 1) / 2) * width,
                change.loc[s].to_numpy(),
                width,
                color=view.colours[s],
                label=s,
            )
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(x, [c.removeprefix("coca_ha_d").lstrip("0") or "0" for c in cols])
        ax.set_xlabel("district")
        ax.set_ylabel("change in coca (ha), median across runs")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(frameon=False, ncol=min(n, 4))
        files = _save(fig, out, "districts", formats)
    caption = (
        "Coca in each district at the last month minus the first, ha (median across runs): "
        "districts that lose coca under one scenario while their neighbours gain show displacement "
        f"rather than reduction. {_runs_note(view)}"
    )
    return Figure("districts", "Where coca moved", title, caption, files)


# ---------------------------------------------------------------------------------------------
# Posterior draws


def fig_draws(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Coca at the end in every posterior draw, per scenario, each draw's runs joined by a line."""
    title = "Coca at the end, draw by draw"
    if not view.drawn or not view.has("coca_ha"):
        return Figure("draws", "Posterior draws", title, "", note="No posterior draws in these results.")
    final = view.final("coca_ha")
    wide = final.pivot_table(
        index=["point", "replicate"], columns="scenario", values="coca_ha", aggfunc="first"
    ).reindex(columns=view.scenarios)
    x = np.arange(len(view.scenarios))
    with plt.rc_context(RC):
        fig, axes = _figure(1, 1, max(6.5, 2.4 * len(x) + 2.5), 4.8)
        ax = axes[0, 0]
        for _, row in wide.iterrows():
            ax.plot(x, row.to_numpy(dtype=float), color=GREY, alpha=0.3, lw=0.9, zorder=1)
        for i, s in enumerate(view.scenarios):
            v = wide[s].dropna()
            if v.empty:
                continue
            dots = {"s": 24, "color": view.colours[s], "edgecolor": "white", "lw": 0.5, "zorder": 3}
            ax.scatter(np.full(len(v), i), v, **dots)
            p5, med, p95 = (float(v.quantile(q)) for q in (0.05, 0.5, 0.95))
            ax.plot([i + 0.16, i + 0.16], [p5, p95], color="k", lw=1.4, zorder=4)
            ax.plot([i + 0.08, i + 0.24], [med, med], color="k", lw=2.4, zorder=4)
        ax.set_xticks(x, view.scenarios)
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.set_ylabel("coca at the last month (ha)")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(title)
        handles = [
            Line2D([], [], color=GREY, alpha=0.5, label="one posterior draw (same parameters and seed)"),
            Line2D([], [], color="k", lw=2.4, label="median over the draws"),
            Line2D([], [], color="k", lw=1.4, label="5-95% over the draws"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False)
        files = _save(fig, out, "draws", formats)
    caption = (
        f"Coca at the last simulated month in each of the {len(wide)} posterior draws (dots), per "
        "scenario. A grey line joins the runs of one draw, which have the same parameters and the "
        "same seed in every scenario: lines that cross mark draws where the scenarios' order changes. "
        "Black: median and 5-95% range over the draws. The draws are samples of the parameters, not "
        "a sweep, so no line is drawn through them."
    )
    return Figure("draws", "Posterior draws", title, caption, files)


# ---------------------------------------------------------------------------------------------
# Sweeps


def _binned(values: pd.Series, max_levels: int = 12) -> pd.Series:
    """Exact values for a grid; quantile-bin midpoints for many distinct values (e.g. LHS)."""
    if values.nunique() <= max_levels:
        return values
    bins = pd.qcut(values, q=8, duplicates="drop")
    return values.groupby(bins, observed=True).transform("median")


def fig_sweep_response(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Draw final coca ha against each swept parameter (median and 5-95% band over runs)."""
    title = "Final coca area against each swept parameter"
    if not view.swept:
        return Figure("sweep_response", "Sweep", title, "", note="No swept parameters.")
    final = view.final("coca_ha")
    n = len(view.swept)
    cols = min(n, 3)
    rows = -(-n // cols)
    with plt.rc_context(RC):
        fig, axes = _figure(rows, cols, 5.0 * cols + 0.5, 4.0 * rows + 0.8)
        for ax, p in zip(axes.flat, view.swept, strict=False):
            for s in view.scenarios:
                f = final[final["scenario"] == s]
                x = _binned(f[p])
                q = (
                    f["coca_ha"].groupby(x).quantile(0.5),
                    f["coca_ha"].groupby(x).quantile(0.05),
                    f["coca_ha"].groupby(x).quantile(0.95),
                )
                colour = view.colours[s]
                if x.nunique() != f[p].nunique():
                    ax.plot(f[p], f["coca_ha"], ".", color=colour, alpha=0.25, ms=3)
                ax.fill_between(q[0].index, q[1], q[2], color=colour, alpha=BAND_ALPHA, lw=0)
                ax.plot(q[0].index, q[0], marker="o", lw=1.8, ms=4, **_style(view, s))
            ax.set_xlabel(p)
            ax.set_ylabel("coca at the last month (ha)")
            ax.set_title(p)
            ax.grid(alpha=0.3)
            ax.set_ylim(bottom=0)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        _scenario_legend(fig, view)
        fig.suptitle(title)
        files = _save(fig, out, "sweep_response", formats)
    others = " and over the other swept parameters" if n > 1 else ""
    caption = (
        "Coca at the last simulated month against the value of each swept parameter, per scenario: "
        f"median (line) and 5-95% range (band) over replicates{others}. With many distinct values "
        "(a Latin hypercube) the runs are shown as dots and grouped into eight quantile bins."
    )
    return Figure("sweep_response", "Sweep", title, caption, files)


def fig_sweep_heatmap(view: ReportView, out: Path, formats: tuple[str, ...] = FORMATS) -> Figure:
    """Median final coca ha over the two swept parameters, one panel per scenario."""
    title = "Final coca area over the two swept parameters"
    if len(view.swept) != 2:
        return Figure(
            "sweep_heatmap",
            "Sweep",
            title,
            "",
            note=f"A heatmap needs exactly two swept parameters (these results have {len(view.swept)}).",
        )
    px, py = view.swept
    final = view.final("coca_ha")
    final = final.assign(_x=_binned(final[px], 10), _y=_binned(final[py], 10))
    table = final.groupby(["scenario", "_y", "_x"])["coca_ha"].median()
    vmin, vmax = float(table.min()), float(table.max())
    n = len(view.scenarios)
    cols = min(n, 3)
    rows = -(-n // cols)
    with plt.rc_context(RC):
        fig, axes = _figure(rows, cols, 4.6 * cols + 1.2, 3.9 * rows + 0.8)
        im = None
        for ax, s in zip(axes.flat, view.scenarios, strict=False):
            grid = table.loc[s].unstack("_x")
            im = ax.imshow(
                grid.to_numpy(dtype=float),
                origin="lower",
                cmap="viridis",
                vmin=vmin,
                vmax=vmax if vmax > vmin else vmin + 1,
                aspect="auto",
            )
            ax.set_xticks(range(grid.shape[1]), [f"{v:.3g}" for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), [f"{v:.3g}" for v in grid.index])
            ax.set_xlabel(px)
            ax.set_ylabel(py)
            ax.set_title(s)
            if grid.size <= 100:
                mid = (vmin + vmax) / 2
                for (r, c), v in np.ndenumerate(grid.to_numpy(dtype=float)):
                    if np.isfinite(v):
                        ax.text(
                            c,
                            r,
                            f"{v:,.0f}",
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if v < mid else "black",
                        )
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        if im is not None:
            fig.colorbar(im, ax=axes, shrink=0.8, label="coca at the last month (ha), median")
        fig.suptitle(title)
        files = _save(fig, out, "sweep_heatmap", formats)
    caption = (
        f"Median coca at the last simulated month over the grid of {px} (x) and {py} (y), one "
        "panel per scenario, on a shared colour scale (values written in each cell)."
    )
    return Figure("sweep_heatmap", "Sweep", title, caption, files)


# ---------------------------------------------------------------------------------------------

FIGURES: tuple[Callable[[ReportView, Path], Figure], ...] = (
    fig_headline,
    fig_eradication,
    fig_maps,
    fig_difference_maps,
    fig_districts,
    fig_displacement,
    fig_market,
    fig_households,
    fig_programme,
    fig_security,
)
SWEEP_FIGURES = (fig_sweep_response, fig_sweep_heatmap)
"""Drawn only for a real sweep (:attr:`ReportView.is_sweep`)."""
DRAW_FIGURES = (fig_draws,)
"""Drawn only when the runs used posterior draws."""
_SECTIONS = {
    "eradication": "Eradication and replanting",
    "maps": "Where coca moved",
    "difference_maps": "Where coca moved",
    "districts": "Where coca moved",
    "displacement": "Where coca moved",
    "market": "The drug economy",
    "households": "Households",
    "programme": "Households",
    "security": "Security",
    "sweep_response": "Sweep",
    "sweep_heatmap": "Sweep",
    "draws": "Posterior draws",
}


def make_figures(view: ReportView, out_dir: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Figure]:
    """Draw every figure that applies to these results into ``out_dir``, in ``formats``.

    A figure that raises is reported (``failed=True``, with the error as its note) rather than
    stopping the report: one unexpected column should not cost the reader every other figure.
    Every caption ends with the assumptions that drive the long run (:meth:`ReportView.assumption_note`).
    """
    out = Path(out_dir)
    makers = FIGURES + (DRAW_FIGURES if view.drawn else ()) + (SWEEP_FIGURES if view.is_sweep else ())
    figures = []
    for make in makers:
        try:
            figures.append(make(view, out, formats))
        except Exception as exc:
            plt.close("all")
            key = make.__name__.removeprefix("fig_")
            figures.append(
                Figure(
                    key,
                    _SECTIONS.get(key, "Coca area"),
                    key.replace("_", " "),
                    "",
                    note=f"Could not be drawn: {type(exc).__name__}: {exc}",
                    failed=True,
                )
            )
    note = view.assumption_note()
    for f in figures:
        if f.files:
            f.caption = f"{f.caption} {note}".strip()
    return figures
