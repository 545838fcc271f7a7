"""The self-contained HTML report: one file, figures embedded, no external CSS, JS or fonts.

Sections: key findings (computed, with the assumptions that drive the long run), scenarios, the
posterior draws (when the runs used them), the sweep (only for a real sweep: swept parameters with
more than one point), the figures with captions (grouped by theme), the parameter table with units
and sources, and provenance (seeds, code version, package versions, run date). Every text from the
results is HTML-escaped; every number is formatted by :mod:`vraem.formatting`. Tables wrap their
long headers and scroll inside the page when they are still too wide.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from html import escape
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from vraem.formatting import fmt, fmt_value, formatter
from vraem.params import ModelParams, parameter_table
from vraem.patterns import PAGE_CSS
from vraem.report.figures import Figure
from vraem.report.findings import (
    difference_formatter,
    headlines,
    key_findings,
    observed_fit,
    paired_differences,
)
from vraem.report.view import ReportView

SECTION_ORDER = (
    "Coca area",
    "Eradication and replanting",
    "Where coca moved",
    "The drug economy",
    "Households",
    "Security",
)
MAX_POINT_ROWS = 200
MAX_SEEDS_SHOWN = 12

CSS = """
:root { --ink: #1a1a1a; --muted: #555; --rule: #d9d9d9; --band: #f6f6f6; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); margin: 0; line-height: 1.5; background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1rem; }
h1 { font-size: 1.8rem; margin: 0.2rem 0; }
h2 { font-size: 1.35rem; margin-top: 2.6rem; border-bottom: 1px solid var(--rule);
     padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; }
.meta, .note, figcaption, .small { color: var(--muted); font-size: .92rem; }
.note { background: #fff8e5; border-left: 4px solid #E69F00; padding: .4rem .8rem; }
.error { background: #fdecea; border-left: 4px solid #D55E00; padding: .4rem .8rem; }
nav ol { columns: 3; font-size: .95rem; padding-left: 1.2rem; }
nav a, a { color: var(--accent); }
figure { margin: 1.4rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); display: block; }
figcaption { margin-top: .4rem; max-width: 70em; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .6rem; text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
th { background: var(--band); position: sticky; top: 0; z-index: 1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap;
         overflow-wrap: normal; }
td.num.long { white-space: normal; min-width: 12em; }
.assumptions { background: #eef5fb; border-left: 4px solid var(--accent); padding: .4rem .8rem; }
.assumptions ul { margin: .2rem 0; }
tr.differs td { background: #fff8e5; }
.swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; margin-right: .4em;
          vertical-align: -0.05em; }
pre { background: var(--band); padding: .6rem; overflow-x: auto; font-size: .82rem; }
details { margin: .3rem 0; }
summary { cursor: pointer; color: var(--accent); }
ul.findings li { margin: .25rem 0; }
.table-wrap { overflow: auto; max-width: 100%; max-height: 85vh; margin: .6rem 0 1rem; }
.table-wrap table { margin: 0; }
"""


# ---------------------------------------------------------------------------------------------
# Small builders


def _e(x: Any) -> str:
    return escape(str(x), quote=True)


def _value(x: Any) -> str:
    return fmt_value(x)


def _header(h: str) -> str:
    """An escaped header that may break after dots and underscores (long dotted parameter names)."""
    return _e(h).replace(".", ".<wbr>").replace("_", "_<wbr>")


def _text_cell(v: Any) -> str:
    """An escaped text cell; a dotted name (one word) may break after its dots and underscores."""
    text = str(v)
    return _header(text) if "." in text and " " not in text.strip() else _e(text)


LONG_CELL = 24
"""Characters above which a numeric cell may wrap (a parameter's price path, a list)."""


def table(
    headers: list[str],
    rows: list[list[Any]],
    numeric: set[int] = frozenset(),
    row_classes: list[str] | None = None,
    table_id: str | None = None,
) -> str:
    """Build an escaped HTML table; columns whose index is in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{_header(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(
            (f'<td class="num{" long" if len(str(v)) > LONG_CELL else ""}">{_e(v)}</td>')
            if j in numeric
            else f"<td>{_text_cell(v)}</td>"
            for j, v in enumerate(row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    tid = f' id="{_e(table_id)}"' if table_id else ""
    return f'<div class="table-wrap"><table{tid}>{thead}<tbody>{"".join(body)}</tbody></table></div>'


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{_e(colour)}"></span>'


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{_e(sid)}"><h2>{_e(title)}</h2>{body}</section>'


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


# ---------------------------------------------------------------------------------------------
# Sections


def _findings_section(view: ReportView) -> str:
    parts = ['<ul class="findings">' + "".join(f"<li>{_e(s)}</li>" for s in headlines(view)) + "</ul>"]
    parts.append(_assumptions_block(view))
    kf = key_findings(view)
    if not kf.empty:
        headers = ["outcome", "unit", *view.scenarios]
        rows = [[r["label"], r["unit"], *(r[s] for s in view.scenarios)] for r in kf.to_dict("records")]
        parts.append(
            "<p class=small>Per scenario: the median across runs, with the 5-95% range in brackets "
            "when runs differ. Totals are summed over the whole simulated period.</p>"
        )
        parts.append(table(headers, rows, numeric=set(range(2, len(headers))), table_id="key-findings"))
    pd_ = paired_differences(view)
    if not pd_.empty:
        parts.append(f"<h3>Coca at the end: each scenario minus {_e(view.baseline)}, run by run</h3>")
        from vraem.stats import NOISE_ONLY

        noise_only = NOISE_ONLY in str(pd_["interval"].iloc[0])
        scope = (
            "The range is how much single runs differ; it does not include uncertainty about the "
            "parameters (see a sensitivity analysis, or compare over a posterior)."
            if noise_only
            else "The range covers both how much single runs differ and the calibration posterior's "
            "parameter uncertainty (replicate k runs posterior draw k, with seed k, in every scenario)."
        )
        parts.append(
            "<p class=small>Replicate k has the same seed in every scenario (common random "
            "numbers), so the difference is taken within each pair of runs. Shown: the "
            f"{_e(pd_['interval'].iloc[0])}. {scope}</p>"
        )
        d = difference_formatter(pd_)
        rel = formatter(pd_["median_relative"], percent=True)
        share = formatter(pd_["share_less"], percent=True)
        rows = [
            [
                r.scenario,
                r.pairs,
                d(r.median),
                f"{d(r.p5)} to {d(r.p95)}",
                rel(r.median_relative),
                share(r.share_less),
            ]
            for r in pd_.itertuples()
        ]
        parts.append(
            table(
                [
                    "scenario",
                    "pairs",
                    "median difference (ha)",
                    "5-95% (ha)",
                    "median relative",
                    "pairs with less coca",
                ],
                rows,
                numeric={1, 2, 3, 4, 5},
                table_id="paired-differences",
            )
        )
    fit = observed_fit(view)
    if not fit.empty:
        scale = view.scale("status_quo")
        scaled = f" (observed x {scale:.3g}, the model's scale)" if scale != 1 else ""
        parts.append(f"<h3>Status quo against the observed VRAEM series{_e(scaled)}</h3>")
        ha_cols = ["observed_ha", "model_median_ha", "model_p5_ha", "model_p95_ha"]
        ha = formatter(fit[ha_cols].to_numpy().ravel())
        err = formatter(fit["error"], percent=True)
        rows = [
            [
                r.year,
                r.period,
                ha(r.observed_ha),
                ha(r.model_median_ha),
                f"{ha(r.model_p5_ha)} to {ha(r.model_p95_ha)}",
                err(r.error),
                r.source,
            ]
            for r in fit.itertuples()
        ]
        parts.append(
            table(
                [
                    "year",
                    "period",
                    "observed (ha)",
                    "model median (ha)",
                    "model 5-95% (ha)",
                    "error",
                    "source",
                ],
                rows,
                numeric={0, 2, 3, 4, 5},
                table_id="observed-fit",
            )
        )
    return _section("findings", "Key findings", "".join(parts))


def _assumptions_block(view: ReportView) -> str:
    """What the runs assume after the observed data: legal prices, export demand, mechanisms."""
    from vraem.robustness import ensemble_info

    def sentences(a) -> list[str]:
        if not ensemble_info(view.manifest):
            return list(a.sentences)
        # Over model variants the switches differ by replicate: the scenario file's are not the runs'.
        return [x for x in a.sentences if not x.startswith("Model mechanisms")] + [
            "Model mechanisms: each replicate runs one model variant, a set of mechanism switches "
            "(see Policy rankings across model variants)."
        ]

    items = []
    for names, a in view.assumptions:
        who = f"<b>{_e(', '.join(names))}:</b> " if len(view.assumptions) > 1 else ""
        items.append(who + " ".join(_e(x) for x in sentences(a)))
    body = "".join(f"<li>{x}</li>" for x in items) if len(items) > 1 else ""
    single = f"<ul>{''.join(f'<li>{_e(x)}</li>' for x in sentences(view.assumptions[0][1]))}</ul>"
    return (
        '<div class="assumptions" id="assumptions"><b>Assumptions that drive the long run.</b> '
        "Every number in this report depends on what the runs assume once the observed data end; "
        "they are read from the parameters these results were made with:"
        f"{single if len(items) == 1 else f'<ul>{body}</ul>'}</div>"
    )


def _draws_section(view: ReportView, figures_html: str) -> str:
    """Posterior draws: which, how their parameters spread, and the outcome's spread over draws."""
    info = view.draws or {}
    name = Path(str(info.get("parameter_draws", "posterior"))).name
    exp = view.manifest.get("experiment")
    digest = exp.get("parameter_draws_sha256") if isinstance(exp, dict) else None
    n = info.get("n_draws") or int(view.table["replicate"].nunique())
    from vraem.robustness import ensemble_info

    ens = ensemble_info(view.manifest)
    if ens is not None:  # the pooled draws come from each variant's own posterior, where it has one
        variants = ens["variants"]
        own = [v for v, d in variants.items() if d.get("separately_calibrated") and d.get("pooled_draws")]
        if own:
            name = f"{name} and the own posteriors of {', '.join(own)}"
    parts = [
        f"<p>These results run <b>{_e(n)} draws</b> of the calibration posterior <b>{_e(name)}</b>"
        + (f" (SHA-256 {_e(str(digest)[:12])}...)" if digest else "")
        + ": replicate k runs draw k with seed k in every scenario, so scenarios are compared draw "
        "by draw, with the same parameters and the same random numbers. The draws are samples of "
        "what the parameters may be, not a design: they show a spread, not a response curve.</p>"
    ]
    if ens is not None:
        parts.append(
            "<p>Each replicate also runs one model variant: these are the pooled draws, split among "
            "the variants by their stacking weights (section Policy rankings across model "
            "variants, which also shows the variants' extra draws).</p>"
        )
    base = view.table[view.table["scenario"] == view.baseline]
    per_draw = base.groupby("replicate", sort=True)[view.drawn].first() if view.drawn else pd.DataFrame()
    if not per_draw.empty:
        units = {r["parameter"]: r["unit"] for r in parameter_table(ModelParams())}
        rows = []
        for key in view.drawn:
            v = per_draw[key].astype(float)
            f = formatter(v)
            rows.append([key, units.get(key, ""), f(v.min()), f(v.median()), f(v.max())])
        parts.append("<h3>The drawn parameters</h3>")
        parts.append(
            table(
                ["parameter", "unit", "lowest", "median", "highest"],
                rows,
                numeric={2, 3, 4},
                table_id="draw-parameters",
            )
        )
    final = view.final("coca_ha") if "coca_ha" in view.table.columns else pd.DataFrame()
    if not final.empty:
        g = final.groupby("scenario", sort=False)["coca_ha"]
        summ = g.agg(
            draws="size",
            median="median",
            p5=lambda x: x.quantile(0.05),
            p95=lambda x: x.quantile(0.95),
            low="min",
            high="max",
        ).reindex(view.scenarios)
        ha = formatter(summ[["median", "p5", "p95", "low", "high"]].to_numpy().ravel())
        rows = [
            [s, int(r.draws), ha(r.median), f"{ha(r.p5)} to {ha(r.p95)}", f"{ha(r.low)} to {ha(r.high)}"]
            for s, r in zip(summ.index, summ.itertuples(index=False), strict=True)
        ]
        parts.append("<h3>Coca at the end: the spread over draws, per scenario</h3>")
        parts.append(
            table(
                ["scenario", "draws", "median (ha)", "5-95% (ha)", "lowest to highest (ha)"],
                rows,
                numeric={1, 2, 3, 4},
                table_id="draw-spread",
            )
        )
    parts.append(figures_html)
    return _section("draws", "Posterior draws", "".join(parts))


def _robustness_section(view: ReportView) -> str:
    """Issue 10: which uncertainty the ranges include, ranking robustness, flip discovery."""
    from vraem.robustness import UNCERTAINTY_WORDS, robustness_tables, uncertainty_label, uncertainty_note

    label = uncertainty_label(view.manifest)
    note = uncertainty_note(view.manifest).split(": ", 1)[1]
    includes = UNCERTAINTY_WORDS[label]
    parts = [
        f"<p><strong>Uncertainty in this report: {_e(label)}.</strong> {_e(note[0].upper() + note[1:])}. "
        f"Every 5-95% band, range and interval in the figures and tables of this report includes {includes}."
        "</p>"
    ]
    ranking, found = robustness_tables(view.all_table, view.manifest)
    if not ranking.empty:
        has_points = ranking["point"].nunique() > 1
        parts.append(
            "<h3>How robust the ranking is</h3><p class=small>For each pair of scenarios, the share of "
            "paired draws (replicate k of both: the same parameters and seed) in which each has less "
            f"coca in the last month. The shares cover {_e(includes)}.</p>"
        )
        rows = [
            [
                r.scenario_a,
                r.scenario_b,
                *([r.point] if has_points else []),
                r.draws,
                fmt(r.share_a_lower, percent=True),
                fmt(r.share_b_lower, percent=True),
                f"{r.majority} ({fmt(r.majority_share, percent=True)})",
            ]
            for r in ranking.itertuples()
        ]
        heads = ["A", "B", *(["point"] if has_points else []), "draws", "A lower", "B lower"]
        heads.append("lower more often")
        numeric = {len(heads) - 4, len(heads) - 3, len(heads) - 2}
        parts.append(table(heads, rows, numeric=numeric, table_id="ranking-robustness"))
    if found:
        parts.append(
            "<h3>When the ranking flips</h3><p class=small>Scenario discovery: a "
            f"{_e(found[0]['method'])} separates the draws where a pair's ranking goes against its "
            "majority from the others. Importance: the share of the tree's separation due to each "
            "parameter.</p>"
        )
        rows = []
        for d in found:
            top = ", ".join(f"{k} ({v:.2f})" for k, v in d["importance"].items() if v > 0) or "none"
            region = " and ".join(d["region"]) or "all draws"
            row = [
                f"{d['scenario_a']} vs {d['scenario_b']}",
                f"{d['flips']} of {d['draws']}",
                top,
                f"{region}: {d['region_flips']} of {d['region_draws']} draws flip",
            ]
            if d.get("by_variant"):
                row.append("; ".join(f"{v} {f} of {n}" for v, (f, n) in d["by_variant"].items()))
            rows.append(row)
        heads = ["pair", "flipped draws", "factors (importance)", "flip region"]
        if any(d.get("by_variant") for d in found):
            heads.append("flips by variant")
            rows = [r + [""] * (len(heads) - len(r)) for r in rows]
        parts.append(table(heads, rows, table_id="flip-discovery"))
    elif label != "runs only" and not ranking.empty:
        parts.append("<p class=small>No pair's ranking flips in any draw: nothing to separate.</p>")
    return _section("robustness", "Uncertainty and ranking robustness", "".join(parts))


DOMINANT_WEIGHT = 0.95
"""A variant with at least this stacking weight makes the pooled ranking its own (said in the report)."""


def _ensemble_section(view: ReportView) -> str:
    """Issue 17, item 5: the ranking per model variant and pooled, Kendall's tau, regret."""
    from vraem.robustness import POOLED, RUNS_AND_PARAMETERS, UNCERTAINTY_WORDS, ensemble_tables

    ens = ensemble_tables(view.all_table, view.manifest)
    if ens is None:
        return ""
    rankings, agreement, regret, variants = ens["rankings"], ens["agreement"], ens["regret"], ens["variants"]
    scenarios = [s for s in view.scenarios if s in set(rankings["scenario"])]
    parts = [
        "<p>The policies are compared over an ensemble of model variants: competing explanations of "
        "the valley's history, each a set of mechanism switches (<code>data/variants.yaml</code>, "
        'documented in the model description, <code>docs/odd.md</code>, section "Model variants"). '
        f"The pooled draws are split among the variants by {_e(ens['weights_source'])}; a variant "
        "with fewer pooled draws than the experiment's minimum gets extra draws that count only in "
        "its own ranking, so that every variant has one. The pooled results (every other section of "
        "this report) cover "
        f"{_e(UNCERTAINTY_WORDS['runs, parameters and structure'])}; a variant's own row covers "
        f"{_e(UNCERTAINTY_WORDS[RUNS_AND_PARAMETERS])}, within that variant.</p>"
    ]
    top = max(variants, key=lambda v: variants[v].get("weight", 0.0))
    if variants[top].get("weight", 0.0) >= DOMINANT_WEIGHT and len(variants) > 1:
        parts.append(
            f'<p class="note">The stacking weights put {fmt(variants[top]["weight"], percent=True)} of '
            f"the weight on <b>{_e(top)}</b>, so the pooled ranking is in practice {_e(top)}'s and "
            "the pooled results carry next to no structural uncertainty. The other variants' rows "
            "show what would change if one of the other explanations were the true one.</p>"
        )
    scale = view.scale(view.baseline)
    if scale != 1:
        parts.append(
            f"<p class=small>Hectares are those of the simulated valley ({fmt(scale, 2)} of the "
            f"about 20,000 households of the full valley), as everywhere in this report; divide by "
            f"{fmt(scale, 2)} for the full valley.</p>"
        )
    rows = []
    for v, d in variants.items():
        rows.append(
            [
                v,
                ", ".join(d.get("mechanisms") or []) or "none",
                fmt(d.get("weight"), 2),
                d.get("pooled_draws", 0),
                d.get("extra_draws", 0),
                d.get("posterior_label", d.get("posterior", "")),
            ]
        )
    parts.append("<h3>The variants and their draws</h3>")
    parts.append(
        table(
            ["variant", "mechanisms on", "stacking weight", "pooled draws", "extra draws", "posterior"],
            rows,
            numeric={2, 3, 4},
            table_id="ensemble-variants",
        )
    )
    ha = formatter(rankings["mean_ha"])
    rows = []
    for group in dict.fromkeys(rankings["group"]):
        g = rankings[rankings["group"] == group].set_index("scenario")
        tau = agreement.loc[group, POOLED] if POOLED in agreement.columns else float("nan")
        cells = [
            f"{int(g.loc[sc, 'rank'])}: {ha(g.loc[sc, 'mean_ha'])} ha; least in "
            f"{fmt(g.loc[sc, 'share_best'], percent=True)}"
            if sc in g.index
            else "–"
            for sc in scenarios
        ]
        label = f"{group} (weighted)" if group == POOLED else group
        rows.append([label, int(g["draws"].iloc[0]), *cells, fmt(tau, 2)])
    parts.append(
        "<h3>The ranking per variant and pooled</h3><p class=small>Rank 1 has the least coca in the "
        "last month, on average over the group's draws; then the mean and the share of the group's "
        "draws in which the policy has the least coca. The last column is Kendall's tau "
        "(<code>scipy.stats.kendalltau</code>) between the variant's ranking and the pooled one: 1 the "
        "same order, -1 the reverse.</p>"
    )
    parts.append(
        table(
            ["variant", "draws", *scenarios, "Kendall's tau vs pooled"],
            rows,
            numeric={1, len(scenarios) + 2},
            table_id="ensemble-rankings",
        )
    )
    names = [g for g in agreement.index if g != POOLED]
    mean_tau = ens["mean_tau"]
    parts.append(
        "<h3>Rank stability across variants</h3><p>Mean Kendall's tau between the rankings of two "
        f"variants: <b>{fmt(mean_tau, 2)}</b> over {len(names) * (len(names) - 1) // 2} pairs "
        "(1: every variant ranks the policies alike).</p>"
    )
    parts.append(
        table(
            ["variant", *agreement.columns],
            [[g, *[fmt(x, 2) for x in agreement.loc[g]]] for g in agreement.index],
            numeric=set(range(1, len(agreement.columns) + 1)),
            table_id="ensemble-kendall",
        )
    )
    rf = formatter(regret.to_numpy().ravel())
    best = regret["worst"].idxmin()
    parts.append(
        "<h3>Regret: policy by variant</h3><p class=small>In each draw, a policy's regret is its "
        "coca in the last month minus the least coca of any policy in that same draw (same variant, "
        "parameters and seed); the table gives its mean in hectares over each variant's draws, over "
        "the pooled sample, and under the worst variant. "
        f"The policy with the least worst-case regret (minimax regret) is <b>{_e(best)}</b>.</p>"
    )
    parts.append(
        table(
            ["policy", *regret.columns],
            [[sc, *[rf(x) for x in row]] for sc, row in regret.iterrows()],
            numeric=set(range(1, len(regret.columns) + 1)),
            table_id="ensemble-regret",
        )
    )
    return _section("ensemble", "Policy rankings across model variants", "".join(parts))


def _corroboration_section(history) -> str:
    """Issue 17, item 4: validate-history's corroboration tables, as TRACE's element."""
    where = _e(str(history.folder))
    intro = (
        "<p>TRACE's \"model output corroboration\" element (Grimm et al. 2014): how the model's "
        "output compares with documented patterns of the valley's history that it was not built "
        f"from, as <code>vraem validate-history</code> wrote them in <code>{where}</code>"
        f" ({_e(str(history.record.get('created', 'date unknown')))[:10]}, code "
        f"{_e(str(history.record.get('git_commit', 'unknown'))[:12])}).</p>"
    )
    return _section("corroboration", "Model output corroboration", intro + history.body(level=3))


def _policy_table(policy: dict) -> str:
    phases = (policy or {}).get("phases") or []
    if not phases:
        return "<p class=small>No policy phases.</p>"
    keys = list(dict.fromkeys(k for ph in phases for k in ph))
    rows = [[_value(ph.get(k)) for k in keys] for ph in phases]
    return table([k.replace("_", " ") for k in keys], rows)


def _scenarios_section(view: ReportView) -> str:
    parts = []
    for s in view.scenarios:
        rec = view.records.get(s) or {}
        resolved = rec.get("resolved") or {}
        desc = rec.get("description") or resolved.get("description") or "(no description in the manifest)"
        facts = []
        if resolved:
            facts.append(f"start year {resolved.get('start_year')}, {resolved.get('months')} months")
        facts.append(f"{view.runs_of(s)} runs in these results")
        if rec.get("path"):
            facts.append(f"file {rec['path']}")
        parts.append(f'<h3 id="scenario-{_e(_slug(s))}">{_swatch(view.colours[s])}{_e(s)}</h3>')
        parts.append(f"<p>{_e(' '.join(str(desc).split()))}</p><p class=small>{_e('; '.join(facts))}.</p>")
        if resolved.get("policy"):
            parts.append(
                f"<details><summary>Policy timeline</summary>{_policy_table(resolved['policy'])}</details>"
            )
        if rec.get("yaml"):
            parts.append(f"<details><summary>Scenario file</summary><pre>{_e(rec['yaml'])}</pre></details>")
    return _section("scenarios", "Scenarios", "".join(parts))


def _figure_html(fig: Figure, number: int) -> str:
    files = ", ".join(f.name for f in fig.files)
    return (
        f'<figure id="fig-{_e(fig.key)}"><img src="{_data_uri(fig.png)}" alt="{_e(fig.title)}">'
        f"<figcaption><b>Figure {number}. {_e(fig.title)}.</b> {_e(fig.caption)} "
        f"<span class=small>(Files: {_e(files)} in {_e(fig.png.parent.name)}/.)</span>"
        "</figcaption></figure>"
    )


class _Numbering:
    """Figure numbers in document order."""

    def __init__(self) -> None:
        self.n = 0

    def figures(self, figs: list[Figure]) -> str:
        body = []
        for f in figs:
            if f.png is not None:
                self.n += 1
                body.append(_figure_html(f, self.n))
            else:
                cls = "error" if f.failed else "note"
                body.append(f'<p class="{cls}"><b>{_e(f.title)}:</b> {_e(f.note)}</p>')
        return "".join(body)


def _sweep_section(view: ReportView, figures_html: str) -> str:
    """Swept parameters, points, final coca per point, and the sweep figures."""
    parts = []
    params = ", ".join(view.swept) or "none found"
    parts.append(
        f"<p>Swept parameters: <b>{_e(params)}</b>. Points: {view.table['point'].nunique()}; "
        f"runs: {view.n_runs}.</p>"
    )
    points = view.manifest.get("points") or []
    if points:
        rows = [
            [p.get("point"), *(_value((p.get("params") or {}).get(k)) for k in view.swept)]
            for p in points[:MAX_POINT_ROWS]
        ]
        more = len(points) - MAX_POINT_ROWS
        parts.append(
            "<details><summary>Parameter points</summary>"
            + table(
                ["point", *view.swept],
                rows,
                numeric=set(range(len(view.swept) + 1)),
                table_id="sweep-points",
            )
            + (f"<p class=small>... and {more} more points (see manifest.json).</p>" if more > 0 else "")
            + "</details>"
        )
    final = view.final("coca_ha") if "coca_ha" in view.table.columns else pd.DataFrame()
    if not final.empty:
        g = final.groupby(["scenario", "point", *view.swept], sort=False)["coca_ha"]
        summ = g.agg(
            runs="size",
            median="median",
            p5=lambda s: s.quantile(0.05),
            p95=lambda s: s.quantile(0.95),
        ).reset_index()
        summ = summ.sort_values("scenario", key=lambda c: c.map(view.scenarios.index), kind="stable")
        ha = formatter(summ[["median", "p5", "p95"]].to_numpy().ravel())
        rows = [
            [
                r["scenario"],
                r["point"],
                *(_value(r[k]) for k in view.swept),
                r["runs"],
                ha(r["median"]),
                f"{ha(r['p5'])} to {ha(r['p95'])}",
            ]
            for r in summ.head(MAX_POINT_ROWS).to_dict("records")
        ]
        n = len(view.swept)
        parts.append("<h3>Coca at the end, per scenario and parameter point</h3>")
        parts.append(
            table(
                ["scenario", "point", *view.swept, "runs", "median (ha)", "5-95% (ha)"],
                rows,
                numeric=set(range(1, n + 5)),
                table_id="sweep-final",
            )
        )
        if len(summ) > MAX_POINT_ROWS:
            parts.append(f"<p class=small>First {MAX_POINT_ROWS} of {len(summ)} rows.</p>")
    parts.append(figures_html)
    return _section("sweep", "Sweep", "".join(parts))


def _resolved_rows(view: ReportView, scenario: str) -> list[dict] | None:
    params = view.parameters(scenario)
    if not params:
        return None
    try:
        return parameter_table(ModelParams.model_validate(params))
    except ValidationError:
        rows = parameter_table(ModelParams())
        for r in rows:
            group, name = r["parameter"].split(".", 1)
            r["value"] = (params.get(group) or {}).get(name, r["value"])
        return rows


def _parameters_section(view: ReportView) -> str:
    per = {s: _resolved_rows(view, s) for s in view.scenarios}
    have = {s: rows for s, rows in per.items() if rows}
    intro = (
        "<p class=small>Every model parameter with its unit and source, as resolved for each "
        "scenario from the manifest. Highlighted rows differ between scenarios."
    )
    if view.is_sweep:
        intro += " Swept parameters vary by point (see the Sweep section); the value shown is the base."
    if view.drawn:
        intro += (
            " Parameters marked (posterior draw) take a different value in each draw (see the "
            "Posterior draws section); the value shown is the scenario file's, which the draws replace."
        )
    intro += "</p>"
    if not have:
        return _section(
            "parameters",
            "Parameters",
            intro + '<p class="note">The manifest holds no resolved parameters.</p>',
        )
    names = list(have)
    base = next(iter(have.values()))
    values = {s: {r["parameter"]: r["value"] for r in rows} for s, rows in have.items()}
    same_everywhere = all(values[s] == values[names[0]] for s in names)
    cols = ["value"] if same_everywhere else names
    rows, classes = [], []
    for r in base:
        p = r["parameter"]
        vals = [_value(values[s].get(p)) for s in (names[:1] if same_everywhere else names)]
        swept = " (swept)" if p in view.swept and view.is_sweep else ""
        swept = " (posterior draw)" if p in view.drawn else swept
        rows.append([p + swept, *vals, r["unit"], r["source"]])
        classes.append("differs" if (len(set(vals)) > 1 or swept) else "")
    n = len(cols)
    return _section(
        "parameters",
        "Parameters",
        intro
        + table(
            ["parameter", *cols, "unit", "source"],
            rows,
            numeric=set(range(1, n + 1)),
            row_classes=classes,
            table_id="parameter-table",
        ),
    )


def _seeds(view: ReportView) -> list[list[Any]]:
    rows = []
    t = view.table
    for s in view.scenarios:
        pairs = t.loc[t["scenario"] == s, ["replicate", "seed"]].drop_duplicates().sort_values("replicate")
        seeds = [int(x) for x in pairs["seed"]] if "seed" in pairs else []
        shown = ", ".join(f"r{int(r)}: {sd}" for r, sd in zip(pairs["replicate"], seeds, strict=False))
        if len(seeds) > MAX_SEEDS_SHOWN:
            head = pairs.head(MAX_SEEDS_SHOWN)
            shown = ", ".join(
                f"r{int(r)}: {int(sd)}" for r, sd in zip(head["replicate"], head["seed"], strict=True)
            )
            shown += f", ... ({len(seeds)} replicates)"
        base = ((view.records.get(s) or {}).get("resolved") or {}).get("seed", "")
        rows.append([s, base, len(seeds), shown])
    return rows


def _provenance_section(view: ReportView, figures_dir: Path) -> str:
    m = view.manifest
    skip = {"scenarios", "points", "packages", "kind"}
    facts = [["results folder", str(view.results.path)], ["kind", view.kind]]
    long = []
    for k, v in m.items():
        if k in skip:
            continue
        text = json.dumps(v, indent=1, default=str) if isinstance(v, dict | list) else str(v)
        if len(text) > 160 or "\n" in text:
            label = _e(k.replace("_", " "))
            long.append(f"<details><summary>{label}</summary><pre>{_e(text)}</pre></details>")
        else:
            facts.append([k.replace("_", " "), text])
    parts = ["<h3>Run</h3>", table([], facts, table_id="provenance-run"), *long]
    parts.append(
        "<h3>Seeds</h3><p class=small>Replicate k has the same seed in every scenario and "
        "parameter point (common random numbers).</p>"
    )
    parts.append(
        table(
            ["scenario", "base seed", "replicates", "seed per replicate"],
            _seeds(view),
            numeric={1, 2},
            table_id="provenance-seeds",
        )
    )
    pk = m.get("packages") or {}
    if pk:
        parts.append("<h3>Package versions</h3>")
        parts.append(
            table(
                ["package", "version"],
                [[k, v] for k, v in pk.items()],
                table_id="provenance-packages",
            )
        )
    try:
        version = metadata.version("vraem")
    except metadata.PackageNotFoundError:
        version = "unknown"
    from vraem.runner import git_commit

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    parts.append("<h3>This report</h3>")
    parts.append(
        table(
            [],
            [
                ["generated", now],
                ["vraem version", version],
                ["report code commit", git_commit()],
                ["figure files (PNG, SVG)", str(figures_dir)],
            ],
            table_id="provenance-report",
        )
    )
    return _section("provenance", "Provenance", "".join(parts))


# ---------------------------------------------------------------------------------------------


def render(view: ReportView, figures: list[Figure], figures_dir: Path, history=None) -> str:
    """Render the whole report as one HTML string (with validate-history's page when given)."""
    experiment = view.manifest.get("experiment")
    folder = view.results.path.name or str(view.results.path)
    name = experiment.get("name", folder) if isinstance(experiment, dict) else folder
    months = int(view.table["month"].max()) if not view.table.empty else 0
    created = view.manifest.get("created", "unknown date")
    commit = str(view.manifest.get("git_commit", "unknown"))[:12]
    meta = (
        f"{view.kind} of {len(view.scenarios)} scenario(s), {view.n_runs} runs, {months} months; "
        f"simulated {created}, code {commit}"
    )
    numbering = _Numbering()
    toc = [("findings", "Key findings"), ("robustness", "Uncertainty and ranking robustness")]
    toc.append(("scenarios", "Scenarios"))
    body = [_findings_section(view), _robustness_section(view)]
    ensemble = _ensemble_section(view)
    if ensemble:
        toc.insert(2, ("ensemble", "Policy rankings across model variants"))
        body.append(ensemble)
    body.append(_scenarios_section(view))
    if view.drawn:
        toc.append(("draws", "Posterior draws"))
        draw_figs = [f for f in figures if f.section == "Posterior draws"]
        body.append(_draws_section(view, numbering.figures(draw_figs)))
    if view.is_sweep:
        toc.append(("sweep", "Sweep"))
        sweep_figs = [f for f in figures if f.section == "Sweep"]
        body.append(_sweep_section(view, numbering.figures(sweep_figs)))
    for section in SECTION_ORDER:
        figs = [f for f in figures if f.section == section]
        if figs:
            toc.append((_slug(section), section))
            body.append(_section(_slug(section), section, numbering.figures(figs)))
    if history is not None:
        toc.append(("corroboration", "Model output corroboration"))
        body.append(_corroboration_section(history))
    toc += [("parameters", "Parameters"), ("provenance", "Provenance")]
    body += [_parameters_section(view), _provenance_section(view, figures_dir)]
    nav = "<nav><ol>" + "".join(f'<li><a href="#{_e(i)}">{_e(t)}</a></li>' for i, t in toc) + "</ol></nav>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>vraem report: {_e(name)}</title><style>{CSS}{PAGE_CSS}</style></head><body><main>"
        f'<header><h1>vraem report: {_e(name)}</h1><p class="meta">{_e(meta)}</p></header>'
        f"{nav}{''.join(body)}</main></body></html>\n"
    )
