"""How robust a ranking of scenarios is over posterior draws, and what makes it flip.

Reads saved results only. When a sweep or run used ``parameter_draws``, replicate ``k`` of every
scenario ran posterior draw ``k`` with seed ``k``, and the draw's parameter values are columns of
the results table. Then, for each pair of scenarios (at the same design point):

- :func:`ranking_robustness`: the share of draws in which each has less coca than the other at
  the headline month (the last month, the ``coca_ha_end`` of :mod:`vraem.compare`);
- :func:`flip_discovery`: which parameters best separate the draws where the pair's ranking flips
  (goes against the majority) from the others. Scenario discovery (Bryant and Lempert 2010) with a
  shallow classification tree (scikit-learn's CART, depth 2, balanced classes): its feature
  importances rank the parameters and its purest leaf describes the flip region. PRIM (the EMA
  Workbench's) is the classic method; it is not used because ema-workbench would add nine
  packages (statsmodels, seaborn, Platypus ...) for one function, while scikit-learn already
  comes with pyabc.

Without draws the replicates differ only in their random numbers, and the shares then measure
run-to-run noise only: :func:`uncertainty_label` says which.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from vraem.posterior import is_parameter

RUNS_ONLY = "runs only"
RUNS_AND_PARAMETERS = "runs and parameters"
TREE_DEPTH = 2
"""A tree a reader can follow: at most two conditions per region."""
MIN_LEAF_SHARE = 0.1
"""Each leaf holds at least this share of the draws (no single-draw regions)."""
METHOD = (
    f"classification tree (scikit-learn CART, depth {TREE_DEPTH}, balanced classes, leaves of at "
    f"least {MIN_LEAF_SHARE:.0%} of the draws)"
)


def draw_info(manifest: dict) -> dict | None:
    """The posterior draws a results folder used: path and count, or None."""
    exp = manifest.get("experiment")
    if isinstance(exp, dict) and exp.get("parameter_draws"):
        return {"parameter_draws": exp["parameter_draws"], "n_draws": exp.get("n_draws")}
    for sc in manifest.get("scenarios") or []:
        resolved = sc.get("resolved") or {}
        if resolved.get("parameter_draws"):
            return {"parameter_draws": resolved["parameter_draws"], "n_draws": resolved.get("n_draws")}
    return None


def uncertainty_label(manifest: dict) -> str:
    """Which uncertainty the spread across replicates includes: runs only, or runs and parameters."""
    return RUNS_AND_PARAMETERS if draw_info(manifest) else RUNS_ONLY


def draw_parameter_columns(table: pd.DataFrame, manifest: dict) -> list[str]:
    """The posterior parameters recorded per run (table columns that are model parameters)."""
    swept = set(manifest.get("swept_parameters") or [])
    return [c for c in table.columns if is_parameter(c) and c not in swept]


def end_values(table: pd.DataFrame, column: str = "coca_ha") -> pd.DataFrame:
    """Each run's ``column`` at its last month: scenario, point, replicate, value."""
    t = table.sort_values("month", kind="stable")
    keys = ["scenario", "point", "replicate"]
    return t.groupby(keys, sort=False)[column].last().reset_index(name="value")


def ranking_robustness(ends: pd.DataFrame) -> pd.DataFrame:
    """For each pair of scenarios at each point: the share of paired draws where each is lower.

    Args:
        ends: One row per run with ``scenario``, ``point``, ``replicate`` and ``value`` (coca ha
            at the headline month). Runs are paired by ``replicate`` (draw k, seed k).

    Returns:
        One row per pair: ``scenario_a``, ``scenario_b``, ``point``, ``draws``, ``share_a_lower``,
        ``share_b_lower``, ``share_tied``, ``majority`` (the scenario lower in most draws) and
        ``majority_share``.
    """
    rows = []
    scenarios = list(dict.fromkeys(ends["scenario"]))
    for point, g in ends.groupby("point", sort=True):
        wide = g.pivot_table(index="replicate", columns="scenario", values="value", aggfunc="first")
        for a, b in itertools.combinations([s for s in scenarios if s in wide.columns], 2):
            pair = wide[[a, b]].dropna()
            n = len(pair)
            if n == 0:
                continue
            a_lower = float((pair[a] < pair[b]).mean())
            b_lower = float((pair[b] < pair[a]).mean())
            majority = a if a_lower >= b_lower else b
            rows.append(
                {
                    "scenario_a": a,
                    "scenario_b": b,
                    "point": int(point),
                    "draws": n,
                    "share_a_lower": a_lower,
                    "share_b_lower": b_lower,
                    "share_tied": 1.0 - a_lower - b_lower,
                    "majority": majority,
                    "majority_share": max(a_lower, b_lower),
                }
            )
    return pd.DataFrame(rows)


def flip_discovery(
    ends: pd.DataFrame, params: pd.DataFrame, a: str, b: str, point: int = 0
) -> dict | None:
    """Which parameters separate the draws where the ranking of ``a`` and ``b`` flips.

    Args:
        ends: As for :func:`ranking_robustness`.
        params: One row per replicate (draw): the draw's parameter values.
        a: The first scenario of the pair.
        b: The second scenario of the pair.
        point: The design point.

    Returns:
        None when every draw ranks the pair the same way; else ``importance`` (parameter ->
        the tree's feature importance, largest first), ``region`` (the conditions of the leaf
        with the highest share of flips), ``region_flips`` and ``region_draws``, ``flips`` and
        ``draws``, and ``method``.
    """
    from sklearn.tree import DecisionTreeClassifier

    g = ends[ends["point"] == point]
    wide = g.pivot_table(index="replicate", columns="scenario", values="value", aggfunc="first")[[a, b]]
    wide = wide.dropna().join(params, how="inner")
    if wide.empty:
        return None
    a_lower = (wide[a] < wide[b]).to_numpy()
    majority_a = a_lower.mean() >= 0.5
    flipped = a_lower != majority_a
    n_flips = int(flipped.sum())
    if n_flips == 0 or n_flips == len(flipped):
        return None
    cols = list(params.columns)
    x = wide[cols].to_numpy(dtype=float)
    leaf = max(1, int(np.ceil(MIN_LEAF_SHARE * len(x))))
    tree = DecisionTreeClassifier(
        max_depth=TREE_DEPTH, min_samples_leaf=leaf, class_weight="balanced", random_state=0
    ).fit(x, flipped)
    importance = dict(
        sorted(
            ((c, float(v)) for c, v in zip(cols, tree.feature_importances_, strict=True)),
            key=lambda kv: -kv[1],
        )
    )
    leaves = tree.apply(x)
    best, best_share = None, -1.0
    for lf in np.unique(leaves):
        share = float(flipped[leaves == lf].mean())
        if share > best_share:
            best, best_share = lf, share
    region = _leaf_conditions(tree, int(best), cols)
    in_region = leaves == best
    return {
        "scenario_a": a,
        "scenario_b": b,
        "point": point,
        "majority": a if majority_a else b,
        "flips": n_flips,
        "draws": len(flipped),
        "importance": importance,
        "region": region,
        "region_flips": int(flipped[in_region].sum()),
        "region_draws": int(in_region.sum()),
        "method": METHOD,
    }


def _leaf_conditions(tree, leaf: int, names: list[str]) -> list[str]:
    """The split conditions on the path from the root to ``leaf``."""
    t = tree.tree_
    parent: dict[int, tuple[int, bool]] = {}
    for node in range(t.node_count):
        if t.children_left[node] != -1:
            parent[int(t.children_left[node])] = (node, True)
            parent[int(t.children_right[node])] = (node, False)
    out = []
    node = leaf
    while node in parent:
        up, left = parent[node]
        op = "<=" if left else ">"
        out.append(f"{names[t.feature[up]]} {op} {t.threshold[up]:.4g}")
        node = up
    return out[::-1]


def robustness_tables(table: pd.DataFrame, manifest: dict) -> tuple[pd.DataFrame, list[dict]]:
    """Ranking robustness for every pair, and scenario discovery for pairs whose ranking flips."""
    ends = end_values(table)
    order = {sc.get("name"): i for i, sc in enumerate(manifest.get("scenarios") or [])}
    if order:  # the order the scenarios were listed in, not the table's
        ends = ends.sort_values("scenario", key=lambda c: c.map(order), kind="stable", ignore_index=True)
    ranking = ranking_robustness(ends)
    cols = draw_parameter_columns(table, manifest)
    found: list[dict] = []
    if cols and len(ranking):
        params = table.groupby("replicate")[cols].first()
        for r in ranking.itertuples():
            if r.majority_share < 1.0:
                d = flip_discovery(ends, params, r.scenario_a, r.scenario_b, r.point)
                if d is not None:
                    found.append(d)
    return ranking, found


def write_robustness(table: pd.DataFrame, manifest: dict, out_dir: Path) -> dict[str, Path]:
    """Write ``ranking_robustness.csv`` and ``flip_discovery.csv`` (one row per pair and parameter)."""
    ranking, found = robustness_tables(table, manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"ranking_robustness": out_dir / "ranking_robustness.csv"}
    ranking.assign(uncertainty=uncertainty_label(manifest)).to_csv(files["ranking_robustness"], index=False)
    rows = [
        {
            "scenario_a": d["scenario_a"],
            "scenario_b": d["scenario_b"],
            "point": d["point"],
            "parameter": k,
            "importance": v,
            "flips": d["flips"],
            "draws": d["draws"],
            "region": " and ".join(d["region"]),
            "region_flips": d["region_flips"],
            "region_draws": d["region_draws"],
            "method": d["method"],
        }
        for d in found
        for k, v in d["importance"].items()
    ]
    files["flip_discovery"] = out_dir / "flip_discovery.csv"
    pd.DataFrame(rows).to_csv(files["flip_discovery"], index=False)
    return files


# ---------------------------------------------------------------------------------------------
# vraem compare: the uncertainty statement, the robustness table and the discovery


def uncertainty_note(manifest: dict) -> str:
    """One sentence: what the 5-95% ranges and confidence intervals of a comparison include."""
    info = draw_info(manifest)
    if info is None:
        return (
            "uncertainty: runs only: every run uses the same parameters, so 5-95% ranges and CIs "
            "show run-to-run randomness, not parameter uncertainty (set parameter_draws for that)"
        )
    return (
        f"uncertainty: runs and parameters: replicate k runs posterior draw k of "
        f"{Path(str(info['parameter_draws'])).name} ({info['n_draws']} draws, seed k in every "
        "scenario), so 5-95% ranges and CIs include both"
    )


def compare_robustness(folder: str | Path, out: str | Path | None = None):
    """Read a results folder and write the robustness tables; return (manifest, ranking, found, files)."""
    from vraem.results import load_results

    folder = Path(folder)
    res = load_results(folder, maps=False)
    ranking, found = robustness_tables(res.table, res.manifest)
    files = write_robustness(res.table, res.manifest, Path(out) if out is not None else folder / "compare")
    return res.manifest, ranking, found, files


def print_robustness(folder: str | Path, console, out: str | Path | None = None) -> None:
    """Print the uncertainty statement, the ranking robustness and the flip discovery."""
    from rich.table import Table

    manifest, ranking, found, files = compare_robustness(folder, out)
    console.print(uncertainty_note(manifest), highlight=False)
    if ranking.empty:
        return
    has_points = ranking["point"].nunique() > 1
    label = uncertainty_label(manifest)
    t = Table(title=f"ranking robustness: share of paired draws with less coca at the end ({label})")
    for col in ("pair", *(["point"] if has_points else []), "draws", "A lower", "B lower", "ranking"):
        t.add_column(col, justify="left" if col in ("pair", "ranking") else "right")
    for r in ranking.itertuples():
        t.add_row(
            f"A {r.scenario_a} / B {r.scenario_b}",
            *([str(r.point)] if has_points else []),
            str(r.draws),
            f"{r.share_a_lower:.0%}",
            f"{r.share_b_lower:.0%}",
            f"{r.majority} lower in {r.majority_share:.0%}",
        )
    console.print(t)
    for d in found:
        top = ", ".join(f"{k} ({v:.2f})" for k, v in list(d["importance"].items())[:3] if v > 0)
        region = " and ".join(d["region"]) or "everywhere"
        console.print(
            f"flips {d['scenario_a']} vs {d['scenario_b']}: {d['flips']} of {d['draws']} draws go against "
            f"{d['majority']}; separated best by {top or 'no parameter'}; "
            f"{d['region_flips']} of the {d['region_draws']} draws with {region} flip "
            f"[{d['method']}]",
            highlight=False,
        )
    console.print(f"robustness tables: {', '.join(str(p) for p in files.values())}", highlight=False)
