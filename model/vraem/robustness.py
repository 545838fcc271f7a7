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
RUNS_PARAMETERS_AND_STRUCTURE = "runs, parameters and structure"
UNCERTAINTY_WORDS = {
    RUNS_ONLY: "run-to-run noise only",
    RUNS_AND_PARAMETERS: "run-to-run noise and parameter uncertainty (one model structure)",
    RUNS_PARAMETERS_AND_STRUCTURE: (
        "run-to-run noise, parameter uncertainty and structural uncertainty (the model variants, "
        "weighted by stacking)"
    ),
}
"""What each uncertainty label covers, in words a reader can quote beside a share of draws."""
WITH_STRUCTURE = (
    "run-to-run noise, parameter uncertainty and model structure: replicate k runs one model variant "
    "at posterior draw k, the variants in proportion to their stacking weights"
)
"""What a spread over an ensemble's pooled draws includes (beside :mod:`vraem.stats`' two)."""
VARIANT = "variant"
"""The factor name of the model variant in scenario discovery."""
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


def ensemble_info(manifest: dict) -> dict | None:
    """The model variants a sweep ran (``experiment.ensemble``), or None for one model structure."""
    exp = manifest.get("experiment")
    ens = exp.get("ensemble") if isinstance(exp, dict) else None
    return ens if isinstance(ens, dict) and ens.get("replicates") else None


def replicate_variants(manifest: dict) -> pd.DataFrame | None:
    """One row per replicate of an ensemble: ``variant`` and ``pooled``, indexed by replicate."""
    ens = ensemble_info(manifest)
    if ens is None:
        return None
    return pd.DataFrame(ens["replicates"]).set_index("replicate")[["variant", "pooled"]]


def pooled_replicates(manifest: dict) -> list[int] | None:
    """The replicates of an ensemble's weighted sample (None: every replicate counts, no ensemble).

    The pooled draws are a sample of the variants' mixture in proportion to their stacking
    weights; the extra draws that give each variant a ranking of its own are left out of it.
    """
    tags = replicate_variants(manifest)
    return None if tags is None else [int(k) for k in tags.index[tags["pooled"].astype(bool)]]


def uncertainty_label(manifest: dict) -> str:
    """Which uncertainty the spread across replicates includes: runs, parameters, structure."""
    if ensemble_info(manifest):
        return RUNS_PARAMETERS_AND_STRUCTURE
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
    ends: pd.DataFrame, params: pd.DataFrame, a: str, b: str, point: int = 0, majority: str | None = None
) -> dict | None:
    """Which parameters separate the draws where the ranking of ``a`` and ``b`` flips.

    Args:
        ends: As for :func:`ranking_robustness`.
        params: One row per replicate (draw): the draw's parameter values.
        a: The first scenario of the pair.
        b: The second scenario of the pair.
        point: The design point.
        majority: The scenario that is lower in the ranking to explain (default: the one lower in
            most of these draws); over an ensemble, the pooled sample's.

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
    majority_a = a_lower.mean() >= 0.5 if majority is None else majority == a
    flipped = a_lower != majority_a
    n_flips = int(flipped.sum())
    if n_flips == 0 or n_flips == len(flipped):
        return None
    factors = factor_matrix(wide[list(params.columns)])
    cols = list(factors.columns)
    x = factors.to_numpy(dtype=float)
    leaf = max(1, int(np.ceil(MIN_LEAF_SHARE * len(x))))
    tree = DecisionTreeClassifier(
        max_depth=TREE_DEPTH, min_samples_leaf=leaf, class_weight="balanced", random_state=0
    ).fit(x, flipped)
    summed: dict[str, float] = {}
    for c, v in zip(cols, tree.feature_importances_, strict=True):
        factor = c.split("=", 1)[0]  # a categorical factor's indicators add up to the factor
        summed[factor] = summed.get(factor, 0.0) + float(v)
    importance = dict(sorted(summed.items(), key=lambda kv: -kv[1]))
    by_variant: dict[str, tuple[int, int]] = {}
    if VARIANT in wide.columns:
        for v, in_v in wide.groupby(VARIANT, sort=False).groups.items():
            mask = wide.index.isin(in_v)
            by_variant[str(v)] = (int(flipped[mask].sum()), int(mask.sum()))
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
        "by_variant": by_variant,
        "method": METHOD,
    }


def factor_matrix(params: pd.DataFrame) -> pd.DataFrame:
    """The factors of scenario discovery as numbers: a categorical one (the variant) as indicators.

    A column of names becomes one 0/1 column per name, ``variant=open_valley``, so that the tree
    can split "variant is open_valley" from the rest, as for any parameter threshold.
    """
    parts = []
    for c in params.columns:
        col = params[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            parts.append(col.astype(float).rename(c))
        else:
            for level in dict.fromkeys(col.astype(str)):
                parts.append((col.astype(str) == level).astype(float).rename(f"{c}={level}"))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=params.index)


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
        name = names[t.feature[up]]
        if "=" in name:  # an indicator: below its threshold (0.5) is "not this level"
            factor, level = name.split("=", 1)
            out.append(f"{factor} is {'not ' if left else ''}{level}")
        else:
            out.append(f"{name} {'<=' if left else '>'} {t.threshold[up]:.4g}")
        node = up
    return out[::-1]


def ordered_end_values(table: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    """:func:`end_values`, with the scenarios in the order the manifest lists them."""
    ends = end_values(table)
    order = {sc.get("name"): i for i, sc in enumerate(manifest.get("scenarios") or [])}
    if order:  # the order the scenarios were listed in, not the table's
        ends = ends.sort_values("scenario", key=lambda c: c.map(order), kind="stable", ignore_index=True)
    return ends


def robustness_tables(table: pd.DataFrame, manifest: dict) -> tuple[pd.DataFrame, list[dict]]:
    """Ranking robustness for every pair, and scenario discovery for pairs whose ranking flips.

    Over an ensemble of variants, the shares come from the pooled draws (the sample of the
    variants' mixture by stacking weight), and the discovery looks at every draw of every
    variant with the variant as one more factor beside the drawn parameters.
    """
    ends = ordered_end_values(table, manifest)
    pooled = pooled_replicates(manifest)
    tags = replicate_variants(manifest)
    ranking = ranking_robustness(ends if pooled is None else ends[ends["replicate"].isin(pooled)])
    cols = draw_parameter_columns(table, manifest)
    found: list[dict] = []
    if (cols or tags is not None) and len(ranking):
        params = table.groupby("replicate")[cols].first() if cols else pd.DataFrame(index=tags.index)
        params = params.loc[:, params.notna().all()]  # a parameter only some variants draw: left out
        if tags is not None:
            params = params.join(tags[[VARIANT]], how="inner")
        for r in ranking.itertuples():
            # Over an ensemble, flips may hide in a variant's extra draws: every draw of every
            # variant is checked against the pooled sample's ranking.
            if r.majority_share < 1.0 or tags is not None:
                majority = r.majority if tags is not None else None
                d = flip_discovery(ends, params, r.scenario_a, r.scenario_b, r.point, majority)
                if d is not None:
                    found.append(d)
    return ranking, found


# ---------------------------------------------------------------------------------------------
# Policy rankings across an ensemble of model variants (issue 17, item 5)

POOLED = "pooled"
"""The name of the weighted ensemble in the ranking tables."""


def policy_rankings(ends: pd.DataFrame, tags: pd.DataFrame, point: int = 0) -> pd.DataFrame:
    """The ranking of the scenarios within each variant, and pooled over the weighted sample.

    A scenario ranks higher (1 is best) the less coca it leaves at the end on average over the
    group's draws; ``share_best`` is the share of those draws in which it has the least.

    Args:
        ends: One row per run (:func:`end_values`).
        tags: Per replicate: ``variant`` and ``pooled`` (:func:`replicate_variants`).
        point: The design point.

    Returns:
        One row per group (each variant, then ``pooled``) and scenario: ``group``, ``scenario``,
        ``draws``, ``mean_ha``, ``median_ha``, ``share_best`` and ``rank``.
    """
    wide = ends[ends["point"] == point].pivot_table(
        index="replicate", columns="scenario", values="value", aggfunc="first"
    )
    scenarios = [s for s in dict.fromkeys(ends["scenario"]) if s in wide.columns]
    wide = wide[scenarios].dropna().join(tags, how="inner")
    groups = [(str(v), g) for v, g in wide.groupby(VARIANT, sort=False)]
    groups.append((POOLED, wide[wide["pooled"].astype(bool)]))
    rows = []
    for name, g in groups:
        if g.empty:
            continue
        values = g[scenarios].astype(float)
        best = values.eq(values.min(axis=1), axis=0)
        mean = values.mean()
        ranks = mean.rank(method="min").astype(int)
        for sc in scenarios:
            rows.append(
                {
                    "group": name,
                    "scenario": sc,
                    "draws": len(g),
                    "mean_ha": float(mean[sc]),
                    "median_ha": float(values[sc].median()),
                    "share_best": float(best[sc].mean()),
                    "rank": int(ranks[sc]),
                }
            )
    return pd.DataFrame(rows)


def rank_agreement(rankings: pd.DataFrame) -> pd.DataFrame:
    """Kendall's tau between each variant's ranking and the pooled one, and between variants.

    Returns:
        A square table (groups x groups) of ``scipy.stats.kendalltau`` of the rank vectors; 1 is
        the same order, -1 the reverse (NaN when a ranking has every scenario tied).
    """
    from scipy.stats import kendalltau

    wide = rankings.pivot_table(index="scenario", columns="group", values="rank", aggfunc="first")
    groups = [g for g in dict.fromkeys(rankings["group"]) if g in wide.columns]
    out = pd.DataFrame(index=groups, columns=groups, dtype=float)
    for a in groups:
        for b in groups:
            x, y = wide[a].to_numpy(float), wide[b].to_numpy(float)
            if np.ptp(x) == 0 or np.ptp(y) == 0:
                out.loc[a, b] = np.nan
            else:
                out.loc[a, b] = float(kendalltau(x, y).statistic)
    return out


def mean_pairwise_tau(agreement: pd.DataFrame) -> float:
    """The mean of Kendall's tau over pairs of distinct variants (the pooled ranking left out)."""
    names = [g for g in agreement.index if g != POOLED]
    taus = [agreement.loc[a, b] for i, a in enumerate(names) for b in names[i + 1 :]]
    taus = [t for t in taus if np.isfinite(t)]
    return float(np.mean(taus)) if taus else float("nan")


def regret_table(ends: pd.DataFrame, tags: pd.DataFrame, point: int = 0) -> pd.DataFrame:
    """A policy x variant table of regret: coca above the best policy of the same draw, in ha.

    In each draw, a scenario's regret is its coca at the end minus the least of any scenario in
    that draw (the same parameters, variant and seed); the table gives its mean over each
    variant's draws, over the pooled (stacking-weighted) sample, and the worst variant's.

    Returns:
        One row per scenario: a column per variant, then ``pooled`` and ``worst``.
    """
    wide = ends[ends["point"] == point].pivot_table(
        index="replicate", columns="scenario", values="value", aggfunc="first"
    )
    scenarios = [s for s in dict.fromkeys(ends["scenario"]) if s in wide.columns]
    values = wide[scenarios].dropna().astype(float)
    regret = values.sub(values.min(axis=1), axis=0).join(tags, how="inner")
    variants = list(dict.fromkeys(regret[VARIANT]))
    out = pd.DataFrame(index=pd.Index(scenarios, name="scenario"))
    for v in variants:
        out[v] = regret.loc[regret[VARIANT] == v, scenarios].mean()
    out[POOLED] = regret.loc[regret["pooled"].astype(bool), scenarios].mean()
    out["worst"] = out[variants].max(axis=1)
    return out


def ensemble_tables(table: pd.DataFrame, manifest: dict, point: int = 0) -> dict | None:
    """Rankings per variant and pooled, their Kendall's tau, and regret; None without variants."""
    tags = replicate_variants(manifest)
    if tags is None:
        return None
    ends = ordered_end_values(table, manifest)
    rankings = policy_rankings(ends, tags, point)
    if rankings.empty:
        return None
    agreement = rank_agreement(rankings)
    return {
        "rankings": rankings,
        "agreement": agreement,
        "mean_tau": mean_pairwise_tau(agreement),
        "regret": regret_table(ends, tags, point),
        "variants": ensemble_info(manifest)["variants"],
        "weights_source": ensemble_info(manifest).get("weights_source", ""),
    }


def ranking_text(rankings: pd.DataFrame, group: str) -> str:
    """A group's ranking as text: ``development_first < status_quo < eradication_first``."""
    g = rankings[rankings["group"] == group].sort_values(["rank", "mean_ha"], kind="stable")
    out = ""
    for i, r in enumerate(g.itertuples()):
        if i:
            out += " = " if r.rank == g.iloc[i - 1]["rank"] else " < "
        out += str(r.scenario)
    return out


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
    ens = ensemble_tables(table, manifest)
    if ens is not None:
        files["policy_rankings"] = out_dir / "policy_rankings.csv"
        ens["rankings"].to_csv(files["policy_rankings"], index=False)
        files["rank_agreement"] = out_dir / "rank_agreement_kendall_tau.csv"
        ens["agreement"].rename_axis("group").to_csv(files["rank_agreement"])
        files["regret"] = out_dir / "regret.csv"
        ens["regret"].to_csv(files["regret"])
    return files


# ---------------------------------------------------------------------------------------------
# vraem compare: the uncertainty statement, the robustness table and the discovery


def uncertainty_note(manifest: dict) -> str:
    """One sentence: what the 5-95% ranges and confidence intervals of a comparison include."""
    info = draw_info(manifest)
    ens = ensemble_info(manifest)
    if ens is not None and info is not None:
        variants = ens["variants"]
        split = ", ".join(
            f"{v} {d['pooled_draws']}" + (f"+{d['extra_draws']}" if d.get("extra_draws") else "")
            for v, d in variants.items()
        )
        own = [v for v, d in variants.items() if d.get("separately_calibrated")]
        shared = Path(str(info["parameter_draws"])).name
        if not own:
            posts = f"every variant draws from {shared} (none is separately calibrated yet)"
        elif len(own) == len(variants):
            posts = "every variant draws from its own posterior"
        else:
            posts = (
                f"variants {', '.join(own)} draw from their own posteriors, the others from {shared} "
                "(not separately calibrated)"
            )
        return (
            f"uncertainty: runs, parameters and structure: replicate k runs one model variant at "
            f"posterior draw k with seed k in every scenario; {info['n_draws']} pooled draws are split "
            f"among the variants by {ens.get('weights_source', 'weight')}, and a variant with too few "
            f"gets extra draws used only for its own ranking (pooled+extra: {split}); "
            f"{posts}; pooled 5-95% ranges and shares include noise, parameters and structure"
        )
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
            f"{d['region_flips']} of the {d['region_draws']} draws with {region} flip"
            + (
                "; by variant: " + ", ".join(f"{v} {f}/{n}" for v, (f, n) in d["by_variant"].items())
                if d.get("by_variant")
                else ""
            )
            + f" [{d['method']}]",
            highlight=False,
        )
    ens = ensemble_tables(res_table_for_print(folder), manifest) if ensemble_info(manifest) else None
    if ens is not None:
        print_ensemble(ens, console)
    console.print(f"robustness tables: {', '.join(str(p) for p in files.values())}", highlight=False)


def res_table_for_print(folder: str | Path) -> pd.DataFrame:
    """The results table of ``folder`` with the columns the ensemble tables read."""
    from vraem.results import load_results

    return load_results(Path(folder), columns=["coca_ha"], maps=False).table


def print_ensemble(ens: dict, console) -> None:
    """Print the rankings per variant and pooled, Kendall's tau and the regret table."""
    from rich.table import Table

    rankings, regret = ens["rankings"], ens["regret"]
    t = Table(title="policy ranking per model variant and pooled (1: least coca at the end, mean over draws)")
    for col in ("variant", "weight", "draws", "ranking (least coca first)", "tau vs pooled"):
        t.add_column(col, justify="right" if col in ("weight", "draws", "tau vs pooled") else "left")
    for group in dict.fromkeys(rankings["group"]):
        d = ens["variants"].get(group, {})
        tau = ens["agreement"].loc[group, POOLED] if POOLED in ens["agreement"].columns else np.nan
        n = int(rankings.loc[rankings["group"] == group, "draws"].iloc[0])
        weight = f"{d['weight']:.2f}" if d else "1.00"
        t.add_row(group, weight, str(n), ranking_text(rankings, group),
                  "" if not np.isfinite(tau) else f"{tau:+.2f}")
    console.print(t)
    console.print(
        f"rank stability across variants: mean Kendall's tau between variants' rankings "
        f"{ens['mean_tau']:+.2f} (1: every variant ranks the policies alike)",
        highlight=False,
    )
    r = Table(title="regret: mean coca (ha) above the best policy of the same draw, per variant")
    r.add_column("policy")
    for c in regret.columns:
        r.add_column(c, justify="right")
    for sc, row in regret.iterrows():
        r.add_row(str(sc), *[f"{x:,.0f}" for x in row])
    console.print(r)
