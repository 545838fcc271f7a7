"""Figures drawn from saved results (never by re-running the model).

The headline figure: coca ha per month per scenario, median with a 5-95% band across replicates,
with the observed VRAEM series overlaid. Colours are Okabe-Ito (colour-blind safe).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from model.observed import load_observed

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def band(table: pd.DataFrame, column: str, by: str = "scenario") -> pd.DataFrame:
    """Median and 5-95% band of ``column`` per group and year."""
    g = table.groupby([by, "year"], sort=False)[column]
    out = g.quantile([0.05, 0.5, 0.95]).unstack()
    out.columns = ["p5", "median", "p95"]
    return out.reset_index()


def plot_coca_band(
    table: pd.DataFrame, path: str | Path, observed: bool = True, title: str | None = None
) -> Path:
    """Coca ha over time per scenario (median, 5-95% band), observed survey points overlaid."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=120)
    b = band(table, "coca_ha")
    for i, (name, g) in enumerate(b.groupby("scenario", sort=False)):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        ax.fill_between(g["year"], g["p5"], g["p95"], color=colour, alpha=0.2, linewidth=0)
        ax.plot(g["year"], g["median"], color=colour, lw=2, label=f"{name} (median, 5-95%)")
    if observed:
        obs = load_observed()
        lo, hi = table["year"].min(), table["year"].max()
        obs = obs[(obs["year"] >= lo - 1) & (obs["year"] <= hi)]
        ax.plot(obs["year"], obs["coca_ha"], "ks", ms=5, label="observed (UNODC / DEVIDA)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("coca (ha)")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "VRAEM coca area by scenario")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
