"""Report figures and findings from small real runs: every figure is drawn, nothing crashes on
absent or all-zero data, and the numbers in the findings are the data's own."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vraem.observed import load_observed
from vraem.report import build_report
from vraem.report import figures as F
from vraem.report.findings import key_findings, observed_fit, paired_differences, run_summary
from vraem.report.view import ReportView
from vraem.results import Results, load_results
from vraem.runner import run_once, run_scenarios
from vraem.scenario import load_scenario, resolve_scenario_path

TINY = {"farmer.n_households": 300, "months": 24, "map_months": [0, 12, 24]}
SCENARIOS = ("status_quo", "eradication_first")
RUN_FIGURES = {
    "headline",
    "eradication",
    "maps",
    "difference_maps",
    "districts",
    "displacement",
    "market",
    "households",
    "programme",
    "security",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_results(tmp_path_factory) -> Results:
    """A real two-scenario run folder at tiny scale, read back through load_results."""
    out = tmp_path_factory.mktemp("run")
    loaded = []
    for name in SCENARIOS:
        path = resolve_scenario_path(name)
        loaded.append((load_scenario(path, TINY), path.read_text(), str(path)))
    run_scenarios(loaded, out, replicates=2)
    return load_results(out)


@pytest.fixture(scope="module")
def sweep_results(tmp_path_factory) -> Results:
    """A synthetic sweep folder in memory: real run_once outputs over a 2 x 2 parameter grid.

    Built as ``vraem sweep`` lays results out (a ``point`` column, one column per swept dotted
    parameter, maps keyed (scenario, point, replicate, month) for replicate 0 only).
    """
    grid = {"farmer.p_replant": [0.2, 0.8], "clan.bribe_share": [0.02, 0.1]}
    points = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    tables, maps, records, district = [], {}, [], None
    for name in SCENARIOS:
        for i, params in enumerate(points):
            sc = load_scenario(name, {**TINY, **params})
            for k in range(2):
                res = run_once(sc, k)
                t = res.table
                t.insert(1, "point", i)
                for key, value in params.items():
                    t[key] = value
                tables.append(t)
                district = res.district
                if k == 0:
                    maps.update({(name, i, 0, m): g for m, g in res.maps.items()})
        base = load_scenario(name, TINY)
        records.append(
            {
                "name": name,
                "description": base.description,
                "resolved": base.model_dump(mode="json"),
                "seeds": [],
            }
        )
    manifest = {
        "kind": "sweep",
        "points": [{"point": i, "params": p} for i, p in enumerate(points)],
        "scenarios": records,
        "git_commit": "synthetic",
        "created": "2026-01-01T00:00:00+00:00",
        "packages": {"numpy": np.__version__},
    }
    path = tmp_path_factory.mktemp("sweep")
    return Results(path, manifest, pd.concat(tables, ignore_index=True), maps, district)


def _assert_drawn(fig: F.Figure, formats=("png", "svg")) -> None:
    assert not fig.failed, fig.note
    assert [p.suffix for p in fig.files] == [f".{f}" for f in formats], fig.key
    for p in fig.files:
        assert p.stat().st_size > 1000, p
    assert fig.png.read_bytes()[:8] == PNG_MAGIC
    assert fig.title and fig.caption


def test_report_writes_every_run_figure_and_one_self_contained_file(run_results, tmp_path):
    report = build_report(run_results, tmp_path / "out" / "r.html")
    assert report.figures_dir == tmp_path / "out" / "r_figures"
    assert {f.key for f in report.figures} == RUN_FIGURES
    for fig in report.figures:
        _assert_drawn(fig)
    svg = (report.figures_dir / "headline.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    html = report.html.read_text()
    assert html.count('<img src="data:image/png;base64,') == len(RUN_FIGURES)
    for marker in ("http://", "https://", "<script", "<link", "@import"):
        assert marker not in html, marker


def test_headline_overlays_the_observed_series_scaled_to_the_model(run_results, tmp_path):
    fig = F.fig_headline(ReportView(run_results), tmp_path, ("png",))
    _assert_drawn(fig, ("png",))
    assert "multiplied by 0.015" in fig.caption  # 300 of 20,000 households


def test_figures_survive_absent_columns_and_maps(run_results, tmp_path):
    drop = [
        "eradicated_ha",
        "replanted_ha",
        "replanted_share",
        "exports_air_t",
        "new_coca_virgin_ha",
        "active_labs",
        "casualties",
        "income_mean_usd",
    ]
    drop += [c for c in run_results.table.columns if c.startswith(("households_stage_", "coca_ha_d"))]
    thin = replace(run_results, table=run_results.table.drop(columns=drop), maps={}, district=None)
    figures = F.make_figures(ReportView(thin), tmp_path, ("png",))
    assert not [f for f in figures if f.failed]
    notes = {f.key: f.note for f in figures if not f.files}
    assert set(notes) == {"maps", "difference_maps", "districts", "programme"}
    assert all(notes.values())


def test_figures_survive_all_zero_and_all_nan_outputs(run_results, tmp_path):
    t = run_results.table.copy()
    for c in ("eradicated_ha", "replanted_ha", "exports_land_t", "casualties", "forest_cleared_ha"):
        t[c] = 0.0
    t["replanted_share"] = np.nan
    t["leaf_price_usd_per_kg"] = np.nan
    zero = replace(run_results, table=t)
    view = ReportView(zero)
    for make in (F.fig_eradication, F.fig_market, F.fig_security, F.fig_displacement):
        _assert_drawn(make(view, tmp_path, ("png",)), ("png",))


def test_one_scenario_skips_difference_maps_with_a_note(run_results, tmp_path):
    t = run_results.table
    one = replace(
        run_results,
        table=t[t["scenario"] == "status_quo"],
        maps={k: v for k, v in run_results.maps.items() if k[0] == "status_quo"},
    )
    fig = F.fig_difference_maps(ReportView(one), tmp_path, ("png",))
    assert not fig.files and "two scenarios" in fig.note
    _assert_drawn(F.fig_maps(ReportView(one), tmp_path, ("png",)), ("png",))


def test_difference_maps_need_a_map_after_month_0(run_results, tmp_path):
    first = replace(run_results, maps={k: v for k, v in run_results.maps.items() if k[3] == 0})
    fig = F.fig_difference_maps(ReportView(first), tmp_path, ("png",))
    assert not fig.files and "month 0" in fig.note


def test_difference_maps_are_scenario_minus_baseline(run_results):
    view = ReportView(run_results)
    a, n = view.mean_map("eradication_first", 24)
    b, _ = view.mean_map("status_quo", 24)
    assert n == 2
    grids = [g for (s, _p, _r, m), g in run_results.maps.items() if s == "status_quo" and m == 24]
    np.testing.assert_allclose(b, np.mean(grids, axis=0))
    assert np.abs(a - b).sum() > 0  # eradication moves coca


def test_district_borders_follow_the_district_raster(run_results):
    edges = ReportView(run_results).district_edges
    d = run_results.district
    assert edges.shape == d.shape == next(iter(run_results.maps.values())).shape
    assert edges[1:, :][d[1:, :] != d[:-1, :]].all()
    assert 0 < edges.mean() < 0.3


def test_sweep_figures_from_a_synthetic_sweep(sweep_results, tmp_path):
    view = ReportView(sweep_results)
    assert view.swept == ["farmer.p_replant", "clan.bribe_share"]
    assert view.is_sweep and view.drawn == []
    assert view.scenarios == list(SCENARIOS)
    for make in (F.fig_sweep_response, F.fig_sweep_heatmap, F.fig_headline, F.fig_maps):
        _assert_drawn(make(view, tmp_path, ("png",)), ("png",))


def test_sweep_heatmap_needs_exactly_two_parameters(sweep_results, tmp_path):
    one = replace(
        sweep_results,
        table=sweep_results.table.drop(columns=["clan.bribe_share"]),
        manifest={
            **sweep_results.manifest,
            "points": [
                {"point": p["point"], "params": {"farmer.p_replant": p["params"]["farmer.p_replant"]}}
                for p in sweep_results.manifest["points"]
            ],
        },
    )
    view = ReportView(one)
    assert view.swept == ["farmer.p_replant"]
    assert not F.fig_sweep_heatmap(view, tmp_path, ("png",)).files
    _assert_drawn(F.fig_sweep_response(view, tmp_path, ("png",)), ("png",))


def test_sweep_response_bins_many_distinct_values(sweep_results, tmp_path):
    t = sweep_results.table.copy()
    rng = np.random.default_rng(1)
    runs = t[["scenario", "point", "replicate"]].drop_duplicates()
    runs["farmer.p_replant"] = rng.uniform(0.1, 0.9, len(runs))  # a Latin-hypercube-like spread
    t = t.drop(columns=["farmer.p_replant"]).merge(runs, on=["scenario", "point", "replicate"])
    lhs = replace(sweep_results, table=t)
    _assert_drawn(F.fig_sweep_response(ReportView(lhs), tmp_path, ("png",)), ("png",))


def test_findings_are_computed_from_the_table(run_results):
    view = ReportView(run_results)
    t = run_results.table
    summary = run_summary(view)
    last = t[t["month"] == t["month"].max()]
    for s in SCENARIOS:
        expected = last.loc[last["scenario"] == s, "coca_ha"].median()
        assert summary.xs(s, level="scenario")["coca_end"].median() == pytest.approx(expected)
        total = t[t["scenario"] == s].groupby("replicate")["eradicated_ha"].sum()
        np.testing.assert_allclose(summary.xs(s, level="scenario")["eradicated"].to_numpy(), total.to_numpy())
    table = key_findings(view, summary)
    assert list(table.columns) == ["label", "unit", *SCENARIOS]
    assert "Coca at the end" in set(table["label"])

    diffs = paired_differences(view, summary)
    e = last[last["scenario"] == "eradication_first"].set_index("replicate")["coca_ha"]
    b = last[last["scenario"] == "status_quo"].set_index("replicate")["coca_ha"]
    assert diffs.loc[0, "median"] == pytest.approx((e - b).median())


def test_observed_fit_scales_the_survey_to_the_model(run_results):
    fit = observed_fit(ReportView(run_results))
    obs = load_observed().set_index("year")["coca_ha"]
    assert list(fit["year"]) == [2013, 2014, 2015]
    assert fit.loc[0, "observed_ha"] == pytest.approx(obs[2013] * 300 / 20_000)
    assert set(fit["period"]) == {"calibration"}


def test_build_report_refuses_a_table_without_run_columns(run_results, tmp_path):
    from vraem.report import ReportError

    bad = replace(run_results, table=run_results.table.drop(columns=["replicate"]))
    with pytest.raises(ReportError, match="no replicate column"):
        build_report(bad, tmp_path / "r.html")
    assert not Path(tmp_path / "r.html").exists()


def drawn_results(run_results: Results) -> Results:
    """The run folder as a comparison over posterior draws: replicate k ran draw k's parameters."""
    t = run_results.table.copy()
    draws = {"farmer.max_coca_ha": [2.1, 3.4], "market.export_demand_growth_per_year": [0.09, 0.115]}
    for key, values in draws.items():
        t[key] = t["replicate"].map(dict(enumerate(values)))
    manifest = {
        **run_results.manifest,
        "kind": "sweep",
        "experiment": {"name": "drawn", "parameter_draws": "posterior.parquet", "n_draws": 2},
        "points": [{"point": 0, "params": {}}],
        "swept_parameters": [],
    }
    return replace(run_results, table=t, manifest=manifest)


def test_posterior_draws_are_not_a_sweep(run_results, tmp_path):
    """Draws get their own section and figure; no sweep section, no response curve through draws."""
    view = ReportView(drawn_results(run_results))
    assert view.swept == [] and not view.is_sweep
    assert view.drawn == ["farmer.max_coca_ha", "market.export_demand_growth_per_year"]
    assert view.varied["market.export_demand_growth_per_year"] == (0.09, 0.115)
    report = build_report(view.results, tmp_path / "r.html", ("png",))
    keys = {f.key for f in report.figures}
    assert "draws" in keys and not keys & {"sweep_response", "sweep_heatmap"}
    _assert_drawn(next(f for f in report.figures if f.key == "draws"), ("png",))
    html = report.html.read_text()
    assert 'id="draws"' in html and 'id="sweep"' not in html
    assert 'id="draw-spread"' in html and 'id="draw-parameters"' in html
    assert "9.0-11.5% a year (the range over the runs&#x27; parameters)" in html


def test_every_caption_states_the_long_run_assumptions(run_results, tmp_path):
    view = ReportView(run_results)
    note = view.assumption_note()
    assert note.startswith("Assumed: legal prices as observed; export demand observed to 2023")
    assert "mechanisms: local_market, crop_disease" in note
    figures = F.make_figures(view, tmp_path, ("png",))
    drawn = [f for f in figures if f.files]
    assert len(drawn) == len(RUN_FIGURES)
    for fig in drawn:
        assert fig.caption.endswith(note), fig.key


def test_maps_say_generated_valley_unless_real_rasters_were_loaded(run_results, tmp_path):
    view = ReportView(run_results)
    assert view.landscape is None and view.landscape_label == "generated valley, not real geography"
    for make in (F.fig_maps, F.fig_difference_maps):
        fig = make(view, tmp_path, ("png",))
        assert fig.caption.startswith("A generated valley, not real geography"), fig.key
    raster = {"landscape": {"file": "/data/vraem_rasters.npz"}}
    records = [{**r, **raster} for r in run_results.manifest["scenarios"]]
    real = ReportView(replace(run_results, manifest={**run_results.manifest, "scenarios": records}))
    assert real.landscape_label == "real rasters: vraem_rasters.npz"
    fig = F.fig_maps(real, tmp_path, ("png",))
    assert "generated" not in fig.caption and "/data/vraem_rasters.npz" in fig.caption


def test_key_findings_use_one_precision_per_row(run_results):
    table = key_findings(ReportView(run_results))
    for row in table.to_dict("records"):
        cells = [row[s] for s in SCENARIOS]
        numbers = [n for c in cells for n in re.findall(r"-?[\d,]+(?:\.\d+)?", c)]
        decimals = {len(n.split(".")[1]) if "." in n else 0 for n in numbers}
        assert len(decimals) <= 1, (row["label"], cells)
