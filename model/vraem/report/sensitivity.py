"""The report of a sensitivity folder: which parameters matter for each outcome, in words.

``vraem report DIR`` on a folder written by ``vraem sensitivity`` (it holds ``problem.json``) builds
this report instead of the scenario report: for each outcome, a few sentences ranking the
parameters (every number from ``indices.csv``), the ranking table, and the Morris mu*-sigma plot
or the Sobol' bars; then the parameters varied with their ranges and sources, and provenance. The
HTML file is self-contained (figures embedded as data URIs), like the scenario report. It reads
the saved indices, or computes them from the saved runs (never runs the model).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from vraem.report.html import CSS, _data_uri, _e, _section, table
from vraem.sensitivity.analysis import FIGURES, INDICES, AnalysisError, analyse_folder, read_record
from vraem.sensitivity.figures import figure_key
from vraem.sensitivity.report import MORRIS_HOW, SOBOL_HOW, ranking_table, sentences

TABLE_ROWS = 12
"""Parameters shown per outcome before "show all"."""


def is_sensitivity_folder(folder: Path) -> bool:
    """True for a folder written by ``vraem sensitivity``."""
    from vraem.sensitivity.design import PROBLEM

    return (Path(folder) / PROBLEM).exists()


def _indices(folder: Path) -> pd.DataFrame:
    path = folder / INDICES
    if path.exists():
        return pd.read_csv(path)
    return analyse_folder(folder).indices


def _outcome_block(
    record: dict, indices: pd.DataFrame, outcome: dict, number: int, folder: Path
) -> str:
    name = outcome["name"]
    rows = indices[indices["outcome"] == name]
    if rows.empty:
        return ""
    method = rows["method"].iloc[0]
    parts = [f'<h3 id="outcome-{_e(name)}">{_e(name)}: {_e(outcome["label"])}</h3>']
    words = "".join(f"<li>{_e(s)}</li>" for s in sentences(record, indices, name))
    parts.append(f"<ul class=findings>{words}</ul>")
    full = ranking_table(indices, name)
    numeric = set(range(2, len(full.columns))) | {0}
    head = full.head(TABLE_ROWS)
    parts.append(table(list(head.columns), head.values.tolist(), numeric=numeric, table_id=f"ranking-{name}"))
    if len(full) > TABLE_ROWS:
        parts.append(
            f"<details><summary>all {len(full)} parameters</summary>"
            + table(list(full.columns), full.values.tolist(), numeric=numeric)
            + "</details>"
        )
    png = folder / FIGURES / f"{figure_key(method, name)}.png"
    if png.exists():
        what = (
            "Left: the parameters ranked by mu* with 95% bootstrap intervals. Right: mu* against "
            "sigma; points far to the right matter, points high up act through interactions."
            if method == "morris"
            else "S1 (alone) and ST (with interactions) with 95% bootstrap intervals."
        )
        parts.append(
            f'<figure><img src="{_data_uri(png)}" alt="{_e(name)}">'
            f"<figcaption>Figure {number}. {_e(name)}. {_e(what)} Files: {_e(png.with_suffix(''))}"
            ".png/.svg</figcaption></figure>"
        )
    return "".join(parts)


def render_sensitivity(folder: Path) -> str:
    """The whole sensitivity report as one HTML string."""
    record = read_record(folder)
    indices = _indices(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    method = record["method"]
    names = record["problem"]["names"]
    runs = manifest.get("runs_total", "?")
    households = record.get("overrides", {}).get("farmer.n_households")
    valley = f", {households:,} households" if households else ""
    meta = (
        f"{method['kind']} over {len(names)} parameters: {record['points']} points x "
        f"{len(record['scenarios'])} scenario(s) x {record['replicates']} replicate(s) = {runs} runs, "
        f"{record['months']} months{valley}; simulated {manifest.get('created', '?')}, code "
        f"{str(manifest.get('git_commit', '?'))[:12]}"
    )
    how = MORRIS_HOW if method["kind"] == "morris" else SOBOL_HOW
    intro = (
        f"<p>{_e(record.get('description', ''))}</p>"
        "<p>Each parameter was varied across its plausible range (the table below gives each range "
        "and its source); every point was run in every scenario with the same seeds (common random "
        f"numbers), and each outcome averaged over the {record['replicates']} replicate(s) of a "
        f"point. {_e(how)}</p>"
    )
    blocks = [
        _outcome_block(record, indices, o, i + 1, folder) for i, o in enumerate(record["outcomes"])
    ]
    ranking = _section("sensitivity", "Which parameters matter", intro + "".join(blocks))
    bounds = dict(zip(names, record["problem"]["bounds"], strict=True))
    prow = [[k, f"{bounds[k][0]:.6g} to {bounds[k][1]:.6g}", record["sources"].get(k, "")] for k in names]
    varied = _section(
        "parameters",
        "Parameters varied",
        table(["parameter", "plausible range", "range source"], prow, table_id="sensitivity-parameters"),
    )
    sessions = manifest.get("sessions") or []
    facts = [
        ["results folder", str(folder)],
        ["method", json.dumps(method)],
        ["scenarios", ", ".join(record["scenarios"])],
        ["base seed", record["base_seed"]],
        ["overrides", json.dumps(record.get("overrides", {}))],
        ["sessions", len(sessions)],
        ["git commit", manifest.get("git_commit", "?")],
        ["report generated", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")],
    ]
    pk = manifest.get("packages") or {}
    prov = _section(
        "provenance",
        "Provenance",
        table([], facts, table_id="provenance-run")
        + (table(["package", "version"], [[k, v] for k, v in pk.items()]) if pk else ""),
    )
    title = f"vraem sensitivity analysis: {record['name']}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        f'<header><h1>{_e(title)}</h1><p class="meta">{_e(meta)}</p></header>'
        f"{ranking}{varied}{prov}</main></body></html>\n"
    )


def build_sensitivity_report(folder: str | Path, out_html: str | Path) -> Path:
    """Write the sensitivity report of ``folder`` to ``out_html``.

    Raises:
        AnalysisError: The folder's runs are not finished, or it is not a sensitivity folder.

    """
    folder, out_html = Path(folder), Path(out_html)
    if not (folder / "manifest.json").exists():
        raise AnalysisError(f"{folder}: no manifest.json (has vraem sensitivity started here?)")
    html = render_sensitivity(folder)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_text(html, encoding="utf-8")
    return out_html
