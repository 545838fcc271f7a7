"""Figures of a sensitivity analysis, drawn from its indices (PNG for the report, SVG for papers).

- Morris: for each outcome, the parameters ranked by ``mu_star`` (bars with their bootstrap
  confidence interval) beside the ``mu_star``-``sigma`` plane (Morris 1991; Campolongo et al.
  2007): far right means influential, high means the effect depends on the other parameters.
- Sobol': for each outcome, ``S1`` and ``ST`` bars with their confidence intervals.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vraem.report.figures import FORMATS, RC, _save
from vraem.report.view import OKABE_ITO

TOP = 20
"""Parameters shown in the bar panels (the most influential first)."""
LABELLED = 8
"""Parameters named in the mu*-sigma plane."""


def slug(text: str) -> str:
    """A file-name-safe form of an outcome name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def short(key: str) -> str:
    """A parameter's name without its group, for crowded axes."""
    return key.split(".", 1)[-1]


def _morris(rows: pd.DataFrame, label: str, out: Path, key: str) -> list[Path]:
    rows = rows.sort_values("mu_star", ascending=False)
    top = rows.head(TOP).iloc[::-1]
    with plt.rc_context(RC):
        fig, (bars, plane) = plt.subplots(
            1, 2, figsize=(12, max(4.0, 0.28 * len(top) + 1.5)), layout="constrained"
        )
        bars.barh(
            [short(p) for p in top["parameter"]],
            top["mu_star"],
            xerr=top["mu_star_conf"],
            color=OKABE_ITO[0],
            ecolor="#444444",
            capsize=2,
        )
        bars.set_xlabel("mu* (mean |elementary effect|, outcome units)")
        bars.set_title(f"Parameters ranked by mu* (top {len(top)} of {len(rows)})")
        plane.scatter(rows["mu_star"], rows["sigma"], s=18, color=OKABE_ITO[1])
        for r in rows.head(LABELLED).itertuples():
            plane.annotate(short(r.parameter), (r.mu_star, r.sigma), fontsize=8, xytext=(3, 3),
                           textcoords="offset points")
        lim = float(np.nanmax([rows["mu_star"].max(), rows["sigma"].max(), 0])) or 1.0
        plane.plot([0, lim], [0, lim], color="#999999", linestyle=":", linewidth=1)
        plane.set_xlabel("mu* (influence)")
        plane.set_ylabel("sigma (interactions, non-linearity)")
        plane.set_title("Morris mu*-sigma plane (dotted: sigma = mu*)")
        fig.suptitle(label)
        return _save(fig, out, key, FORMATS)


def _sobol(rows: pd.DataFrame, label: str, out: Path, key: str) -> list[Path]:
    rows = rows.sort_values("ST", ascending=False).head(TOP)
    x = np.arange(len(rows))
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(rows) + 2), 5.0), layout="constrained")
        ax.bar(x - 0.2, rows["S1"], 0.4, yerr=rows["S1_conf"], label="S1 (alone)",
               color=OKABE_ITO[0], capsize=2)
        ax.bar(x + 0.2, rows["ST"], 0.4, yerr=rows["ST_conf"], label="ST (with interactions)",
               color=OKABE_ITO[1], capsize=2)
        ax.set_xticks(x, [short(p) for p in rows["parameter"]], rotation=35, ha="right")
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.set_ylabel("share of the outcome's variance")
        ax.legend(frameon=False)
        ax.set_title(textwrap.fill(label, 80) + "\nSobol' indices with 95% bootstrap intervals")
        return _save(fig, out, key, FORMATS)


def figure_key(method: str, outcome: str) -> str:
    """The file stem of an outcome's figure."""
    return f"{'morris' if method == 'morris' else 'sobol'}_{slug(outcome)}"


def draw_figures(record: dict[str, Any], indices: pd.DataFrame, out: Path) -> list[Path]:
    """Draw one figure per outcome into ``out``; returns the files written."""
    labels = {o["name"]: o["label"] for o in record["outcomes"]}
    files: list[Path] = []
    for outcome, rows in indices.groupby("outcome", sort=False):
        method = rows["method"].iloc[0]
        key = figure_key(method, str(outcome))
        label = f"{outcome}: {labels.get(outcome, '')}"
        draw = _morris if method == "morris" else _sobol
        files += draw(rows, label, out, key)
    return files
