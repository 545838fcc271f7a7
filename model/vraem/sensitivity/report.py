"""Rankings of a sensitivity analysis in words a student can follow (terminal and HTML report)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

NEGLIGIBLE = 0.05
"""A parameter whose index is below this share of the largest is called negligible."""
SHOWN = 8
"""Parameters printed per outcome in the terminal."""

MORRIS_HOW = (
    "mu* is the average size of an elementary effect: how much the outcome changes when the "
    "parameter alone moves across its plausible range (SALib extrapolates each step linearly to the "
    "whole range), averaged over many starting points. A large mu* means the parameter matters. "
    "sigma is the spread of those effects: when sigma is comparable to mu*, the effect depends on "
    "where the other parameters are (interactions) or is non-linear. The interval is a 95% "
    "bootstrap interval of mu*. Morris ranks parameters; it does not split the variance."
)
SOBOL_HOW = (
    "S1 is the share of the outcome's variance across the plausible ranges that the parameter "
    "explains on its own; ST the share it explains including its interactions with the others. "
    "ST - S1 is the part that acts only through interactions. Intervals are 95% bootstrap intervals; "
    "an index whose interval includes 0 is not distinguishable from no effect with this sample."
)


def _num(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.0f}%"


def ranked(indices: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One outcome's rows, most influential first."""
    rows = indices[indices["outcome"] == outcome]
    key = "mu_star" if rows["method"].iloc[0] == "morris" else "ST"
    return rows.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)


def sentences(record: dict[str, Any], indices: pd.DataFrame, outcome: str) -> list[str]:
    """A few sentences ranking the parameters for one outcome, every number from the indices."""
    rows = ranked(indices, outcome)
    bounds = dict(zip(record["problem"]["names"], record["problem"]["bounds"], strict=True))
    method = rows["method"].iloc[0]
    n = len(rows)
    out: list[str] = []

    def span(p: str) -> str:
        lo, hi = bounds[p]
        return f"{_num(lo)} to {_num(hi)}"

    if method == "morris":
        mu = rows["mu_star"].to_numpy(dtype=float)
        if not np.isfinite(mu).any() or np.nanmax(mu) == 0:
            return [f"No parameter changed this outcome at any of the {n} parameters' sampled values."]
        top = rows.iloc[0]
        out.append(
            f"The parameter that moves this outcome most is {top.parameter}: across its plausible "
            f"range ({span(top.parameter)}) it changes the outcome by about {_num(top.mu_star)} on "
            f"average (mu*, 95% interval ±{_num(top.mu_star_conf)})."
        )
        nxt = rows.iloc[1:3]
        if len(nxt):
            out.append(
                "Next come "
                + " and ".join(f"{r.parameter} (mu* {_num(r.mu_star)})" for r in nxt.itertuples())
                + "."
            )
            if top.mu_star - top.mu_star_conf < nxt.iloc[0].mu_star:
                out.append(
                    "The intervals overlap: with this sample the order among the leading "
                    "parameters is not certain, only that they lead."
                )
        total = np.nansum(mu)
        k = min(3, n)
        out.append(
            f"The top {k} together hold {_pct(np.nansum(mu[:k]) / total)} of the summed mu* of all "
            f"{n} parameters varied."
        )
        small = int((mu < NEGLIGIBLE * np.nanmax(mu)).sum())
        if small:
            out.append(
                f"{small} of the {n} parameters have mu* below {NEGLIGIBLE:.0%} of the largest: "
                "within their plausible ranges they hardly move this outcome."
            )
        inter = [r.parameter for r in rows.head(SHOWN).itertuples() if r.sigma > r.mu_star]
        if inter:
            out.append(
                "For " + ", ".join(inter) + " sigma exceeds mu*: the effect changes with the other "
                "parameters' values (interactions or a non-linear response)."
            )
        return out
    st = rows["ST"].to_numpy(dtype=float)
    if not np.isfinite(st).any() or np.nanmax(st) == 0:
        return ["This outcome did not vary across the sample: no variance to attribute."]
    top = rows.iloc[0]
    out.append(
        f"The parameter that explains most of this outcome's variance is {top.parameter} "
        f"(range {span(top.parameter)}): {_pct(top.S1)} on its own (S1) and {_pct(top.ST)} with its "
        "interactions (ST)."
    )
    nxt = rows.iloc[1:3]
    if len(nxt):
        out.append(
            "Next come "
            + " and ".join(f"{r.parameter} (S1 {_pct(r.S1)}, ST {_pct(r.ST)})" for r in nxt.itertuples())
            + "."
        )
        if top.ST - top.ST_conf < nxt.iloc[0].ST:
            out.append(
                "The ST intervals overlap: with this sample the order among the leading "
                "parameters is not certain, only that they lead."
            )
    s1 = float(np.nansum(np.clip(rows["S1"].to_numpy(dtype=float), 0, None)))
    if s1 > 1.05:
        why = (
            "more than the whole, which exact indices cannot do: with this sample the estimates are "
            "too noisy to share out the variance precisely (a larger base_samples would help)."
        )
    elif s1 >= 0.9:
        why = "the parameters act mostly one at a time."
    else:
        why = "the rest of the variance comes from interactions between parameters."
    out.append(f"The first-order indices add up to {_pct(s1)}: {why}")
    return out


def ranking_table(indices: pd.DataFrame, outcome: str, limit: int | None = None) -> pd.DataFrame:
    """The ranking of one outcome as a small table for people (strings)."""
    rows = ranked(indices, outcome)
    if limit:
        rows = rows.head(limit)
    if rows["method"].iloc[0] == "morris":
        return pd.DataFrame(
            {
                "rank": range(1, len(rows) + 1),
                "parameter": rows["parameter"],
                "mu*": [_num(x) for x in rows["mu_star"]],
                "mu* 95% ±": [_num(x) for x in rows["mu_star_conf"]],
                "sigma": [_num(x) for x in rows["sigma"]],
            }
        )
    return pd.DataFrame(
        {
            "rank": range(1, len(rows) + 1),
            "parameter": rows["parameter"],
            "S1": [f"{x:.2f} ± {c:.2f}" for x, c in zip(rows["S1"], rows["S1_conf"], strict=True)],
            "ST": [f"{x:.2f} ± {c:.2f}" for x, c in zip(rows["ST"], rows["ST_conf"], strict=True)],
        }
    )


def print_ranking(analysis, console) -> None:
    """Print each outcome's top parameters and the sentences that rank them."""
    from rich.table import Table

    labels = {o["name"]: o["label"] for o in analysis.record["outcomes"]}
    for outcome in dict.fromkeys(analysis.indices["outcome"]):
        df = ranking_table(analysis.indices, outcome, SHOWN)
        t = Table(title=f"{outcome}: {labels.get(outcome, '')}", title_justify="left")
        for col in df.columns:
            t.add_column(col, justify="left" if col == "parameter" else "right")
        for r in df.itertuples(index=False):
            t.add_row(*(str(x) for x in r))
        console.print(t)
        for line in sentences(analysis.record, analysis.indices, outcome):
            console.print(f"  {line}", highlight=False, soft_wrap=True)
