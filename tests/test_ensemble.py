"""Policy rankings across an ensemble of model variants (issue 17, item 5), and the shipped weights.

The synthetic tests build a results table by hand, where one variant reverses the ranking of the
others, so that every number (ranks, Kendall's tau, regret, the flip region) is known in advance.
The real ones (marked slow: the sweep compiles the model's kernels, about a minute) run a tiny sweep
over two variants on a real (in-process) Dask cluster, then compare and report it, with a
validate-history folder whose page must appear in the report.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import vraem.patterns
from vraem.robustness import (
    POOLED,
    RUNS_PARAMETERS_AND_STRUCTURE,
    ensemble_tables,
    flip_discovery,
    mean_pairwise_tau,
    pooled_replicates,
    ranking_text,
    robustness_tables,
    uncertainty_label,
    uncertainty_note,
)
from vraem.sweep.experiment import ExperimentError, allocate_draws, load_experiment

SCENARIOS = ["status_quo", "eradication_first", "development_first"]


# ---------------------------------------------------------------------------------------------
# Splitting the draws


def test_draws_follow_the_weights_and_every_variant_gets_its_minimum():
    counts = allocate_draws({"a": 0.6, "b": 0.3, "c": 0.1, "d": 0.0}, 20, 3)
    assert counts == {"a": (12, 0), "b": (6, 0), "c": (2, 1), "d": (0, 3)}
    assert sum(p for p, _ in counts.values()) == 20
    # Largest remainders: 10 x (0.45, 0.45, 0.1) = 4.5, 4.5, 1 -> the first tie wins.
    assert allocate_draws({"a": 0.45, "b": 0.45, "c": 0.1}, 10, 1) == {"a": (5, 0), "b": (4, 0), "c": (1, 0)}
    assert allocate_draws({"a": 1.0, "b": 0.0}, 5, 2) == {"a": (5, 0), "b": (0, 2)}


# ---------------------------------------------------------------------------------------------
# A synthetic ensemble: variant "main" (weight 1, four pooled draws) ranks development first best;
# variant "other" (two extra draws) ranks eradication first best.

MAIN = {"status_quo": 100.0, "eradication_first": 120.0, "development_first": 80.0}
OTHER = {"status_quo": 100.0, "eradication_first": 70.0, "development_first": 90.0}


def synthetic(noise: float = 1.0) -> tuple[pd.DataFrame, dict]:
    rows = []
    tags = []
    for k in range(6):
        variant = "main" if k < 4 else "other"
        base = MAIN if variant == "main" else OTHER
        tags.append({"replicate": k, "variant": variant, "pooled": variant == "main"})
        for s in SCENARIOS:
            for month in (0, 12):
                value = 100.0 if month == 0 else base[s] + noise * k
                rows.append({"scenario": s, "point": 0, "replicate": k, "month": month, "coca_ha": value,
                             "farmer.expectation_rate": 0.1 + 0.01 * k})
    manifest = {
        "experiment": {
            "parameter_draws": "posterior.parquet",
            "n_draws": 4,
            "ensemble": {
                "weights_source": "test weights",
                "variants": {
                    "main": {"mechanisms": [], "weight": 1.0, "pooled_draws": 4, "extra_draws": 0,
                             "posterior_label": "posterior.parquet (not separately calibrated)"},
                    "other": {"mechanisms": ["open_valley"], "weight": 0.0, "pooled_draws": 0,
                              "extra_draws": 2, "separately_calibrated": True,
                              "posterior_label": "posteriors/other.parquet"},
                },
                "replicates": tags,
            },
        },
        "scenarios": [{"name": s} for s in SCENARIOS],
    }
    return pd.DataFrame(rows), manifest


def test_rankings_per_variant_and_pooled():
    table, manifest = synthetic()
    ens = ensemble_tables(table, manifest)
    assert ens is not None
    r = ens["rankings"].set_index(["group", "scenario"])
    assert r.loc[("main", "development_first"), "rank"] == 1
    assert r.loc[("main", "eradication_first"), "rank"] == 3
    assert r.loc[("other", "eradication_first"), "rank"] == 1
    assert r.loc[("other", "development_first"), "rank"] == 2
    # The pooled sample is the weighted one: main's four draws, not other's extra two.
    assert r.loc[(POOLED, "development_first"), "draws"] == 4
    assert r.loc[(POOLED, "development_first"), "mean_ha"] == pytest.approx(80 + 1.5)
    assert r.loc[(POOLED, "development_first"), "share_best"] == 1.0
    assert ranking_text(ens["rankings"], "other") == "eradication_first < development_first < status_quo"
    assert pooled_replicates(manifest) == [0, 1, 2, 3]


def test_kendall_tau_between_the_variants_rankings():
    table, manifest = synthetic()
    ens = ensemble_tables(table, manifest)
    tau = ens["agreement"]
    assert tau.loc["main", POOLED] == pytest.approx(1.0)
    # main: dev 1, sq 2, erad 3; other: erad 1, dev 2, sq 3 -> one concordant pair of three: -1/3.
    assert tau.loc["main", "other"] == pytest.approx(-1 / 3)
    assert mean_pairwise_tau(tau) == pytest.approx(-1 / 3)
    # The same order everywhere: tau 1.
    same, m = synthetic()
    same.loc[same["replicate"] >= 4, "coca_ha"] = same.loc[same["replicate"] < 2, "coca_ha"].to_numpy()
    assert ensemble_tables(same, m)["mean_tau"] == pytest.approx(1.0)


def test_regret_is_coca_above_the_best_policy_of_the_same_draw():
    table, manifest = synthetic()
    regret = ensemble_tables(table, manifest)["regret"]
    # main: best is development first (80 + k): status quo 20, eradication first 40 in every draw.
    assert regret.loc["status_quo", "main"] == pytest.approx(20)
    assert regret.loc["eradication_first", "main"] == pytest.approx(40)
    assert regret.loc["development_first", "main"] == pytest.approx(0)
    # other: best is eradication first (70): development first 20, status quo 30.
    assert regret.loc["development_first", "other"] == pytest.approx(20)
    assert regret.loc["status_quo", "other"] == pytest.approx(30)
    assert regret.loc["development_first", "worst"] == pytest.approx(20)
    assert regret.loc["eradication_first", POOLED] == pytest.approx(40)
    assert regret["worst"].idxmin() == "development_first"  # minimax regret


def test_scenario_discovery_names_the_variant_that_flips_the_ranking():
    table, manifest = synthetic(noise=0.0)
    ranking, found = robustness_tables(table, manifest)
    # The shares come from the pooled draws only: development first beats eradication first in all.
    pair = ranking.set_index(["scenario_a", "scenario_b"]).loc[("eradication_first", "development_first")]
    assert pair["share_b_lower"] == 1.0 and pair["draws"] == 4
    flips = {(d["scenario_a"], d["scenario_b"]): d for d in found}
    d = flips[("eradication_first", "development_first")]
    assert d["flips"] == 2 and d["draws"] == 6
    assert next(iter(d["importance"])) == "variant"
    assert d["region"] == ["variant is other"] or d["region"] == ["variant is not main"]
    assert d["by_variant"] == {"main": (0, 4), "other": (2, 2)}


def test_the_flip_tree_without_a_variant_is_unchanged():
    ends = pd.DataFrame(
        [{"scenario": s, "point": 0, "replicate": k, "value": (k if s == "a" else 5.0)}
         for k in range(10) for s in ("a", "b")]
    )
    params = pd.DataFrame({"x": np.arange(10.0)}, index=pd.Index(range(10), name="replicate"))
    d = flip_discovery(ends, params, "a", "b")
    assert d["importance"] == {"x": 1.0} and d["by_variant"] == {}
    assert d["region"] == ["x > 4.5"]  # draws 5-9: a is not lower


def test_the_uncertainty_words_name_structure_and_uncalibrated_variants():
    _, manifest = synthetic()
    assert uncertainty_label(manifest) == RUNS_PARAMETERS_AND_STRUCTURE
    note = uncertainty_note(manifest)
    assert note.startswith("uncertainty: runs, parameters and structure")
    assert "other draw from their own posteriors" in note
    assert "not separately calibrated" in note
    assert "main 4, other 0+2" in note
    # Once every variant has its own posterior, no "others" are named.
    for d in manifest["experiment"]["ensemble"]["variants"].values():
        d["separately_calibrated"] = True
    note = uncertainty_note(manifest)
    assert "every variant draws from its own posterior" in note and "not separately" not in note


# ---------------------------------------------------------------------------------------------
# The experiment's keys


def write_experiment(tmp_path: Path, **keys) -> Path:
    exp = {
        "name": "tiny_ensemble",
        "scenarios": ["status_quo", "development_first"],
        "parameter_draws": "posterior.parquet",
        "n_draws": 3,
        "variants": ["reference", "full"],
        "min_draws_per_variant": 1,
        "overrides": {"farmer.n_households": 200, "months": 12},
        **keys,
    }
    exp = {k: v for k, v in exp.items() if v is not None}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    return path


def write_weights(tmp_path: Path, weights: dict[str, float]) -> Path:
    path = tmp_path / "weights.csv"
    pd.DataFrame({"variant": list(weights), "weight": list(weights.values()),
                  "created": "2026-12-05T00:00:00+00:00"}).to_csv(path, index=False)
    return path


def test_an_experiment_splits_its_draws_by_the_shipped_weights(tmp_path):
    write_weights(tmp_path, {"reference": 0.25, "full": 0.75, "open_valley": 0.5})
    loaded = load_experiment(write_experiment(tmp_path, n_draws=4, variant_weights="weights.csv"))
    ens = loaded.resolved()["ensemble"]
    # open_valley is not in the experiment: the two listed are renormalised (0.25, 0.75).
    assert ens["variants"]["reference"]["pooled_draws"] == 1
    assert ens["variants"]["full"]["pooled_draws"] == 3
    assert loaded.spec.replicates == 4
    runs = [r for r in loaded.runs() if r.scenario.name == "status_quo"]
    assert [r.params["variant"] for r in runs] == ["reference", "full", "full", "full"]
    mech = {r.params["variant"]: r.scenario.parameters.mechanisms for r in runs}
    assert not any(mech["reference"].model_dump().values())
    assert all(mech["full"].model_dump().values())
    # A variant with its own shipped posterior (vraem/data/posteriors/<variant>.parquet) draws
    # from it; full has one.
    assert ens["variants"]["full"]["posterior_label"] == "posteriors/full.parquet"
    assert ens["variants"]["full"]["separately_calibrated"]
    own = (Path(vraem.patterns.__file__).parent / "data" / "posteriors" / "reference.parquet").is_file()
    assert ens["variants"]["reference"]["separately_calibrated"] == own
    assert "weights.csv" in ens["weights_source"]


def test_a_variant_without_its_own_posterior_draws_the_shared_one_and_says_so(tmp_path, monkeypatch):
    import vraem.patterns

    monkeypatch.setattr(vraem.patterns, "POSTERIORS_DIR", "no_such_posteriors")
    loaded = load_experiment(write_experiment(tmp_path, n_draws=2, min_draws_per_variant=1))
    for v in ("reference", "full"):
        variant = loaded.resolved()["ensemble"]["variants"][v]
        assert variant["posterior_label"] == "posterior.parquet (not separately calibrated)"
        assert not variant["separately_calibrated"]


def test_without_shipped_weights_the_variants_weigh_alike(tmp_path, monkeypatch):
    import vraem.patterns

    monkeypatch.setattr(vraem.patterns, "WEIGHTS_FILE", "no_such_weights.csv")
    loaded = load_experiment(write_experiment(tmp_path, n_draws=2, min_draws_per_variant=2))
    ens = loaded.resolved()["ensemble"]
    assert ens["weights_source"].startswith("equal weights")
    assert [ens["variants"][v]["pooled_draws"] for v in ("reference", "full")] == [1, 1]
    assert [ens["variants"][v]["extra_draws"] for v in ("reference", "full")] == [1, 1]
    assert loaded.spec.replicates == 4


@pytest.mark.parametrize(
    ("keys", "needle"),
    [
        ({"variants": ["reference", "flat_earth"]}, "variants: unknown variant 'flat_earth'"),
        ({"variants": "some"}, "variants"),
        ({"variants": []}, "variants: list at least one"),
        ({"variants": ["full", "full"]}, "'full' is listed twice"),
        ({"parameter_draws": None, "n_draws": None}, "variants: needs parameter_draws"),
        ({"replicates": 3}, "replicates: leave it out with variants"),
        ({"min_draws_per_variant": 0}, "min_draws_per_variant must be >= 1"),
        ({"variants": None, "replicates": 3}, "min_draws_per_variant: goes with variants"),
        ({"variant_weights": "nowhere.csv"}, "variant_weights"),
        ({"overrides": {"mechanisms": []}}, "the variants set the mechanisms"),
        ({"n_draws": 5000}, "n_draws must be between 1 and the posterior's"),
    ],
)
def test_bad_variant_keys_are_one_line(tmp_path, keys, needle):
    with pytest.raises(ExperimentError) as info:
        load_experiment(write_experiment(tmp_path, **keys))
    message = str(info.value)
    assert needle in message and str(tmp_path / "exp.yaml") in message
    assert "\n" not in message


# ---------------------------------------------------------------------------------------------
# Shipping the weights from a validate-history folder


def history_folder(tmp_path: Path) -> Path:
    """What validate-history writes, for two variants (a real run is in test_patterns)."""
    from vraem.patterns import write_history_record

    out = tmp_path / "history"
    out.mkdir()
    rows = [
        {"pattern": "coca_2014", "variant": v, "observed": 18845.0, "accept_low": 16960.0,
         "accept_high": 20730.0, "median": m, "q05": m - 100, "q95": m + 100, "passes": ok,
         "in_sample": True, "source": "UNODC Peru coca survey 2014", "description": "coca in 2014",
         "runs": 2}
        for v, m, ok in (("reference", 18000.0, True), ("full", 25000.0, False))
    ]
    pd.DataFrame(rows).to_csv(out / "patterns.csv", index=False)
    pd.DataFrame([
        {"forecast": "reference", "crps_ha": 14000.0, "coverage_50": 0.0, "coverage_90": 0.0,
         "median_error_share": -0.4, "skill_vs_persistence": -0.8, "skill_vs_trend": -1.4},
        {"forecast": "full", "crps_ha": 9000.0, "coverage_50": 0.2, "coverage_90": 0.4,
         "median_error_share": -0.2, "skill_vs_persistence": -0.1, "skill_vs_trend": -0.5},
    ]).to_csv(out / "scores.csv", index=False)
    write_history_record(out, {
        "note": "2 draws of each variant's posterior, 300 households",
        "draws": 2, "households": 300,
        "variants": {
            "reference": {"mechanisms": [], "explanation": "none", "source": "assumption: base"},
            "full": {"mechanisms": ["open_valley"], "explanation": "all", "source": "assumption: x"},
        },
        "posteriors": {"reference": {"file": "/x/posterior.parquet", "own": False,
                                     "label": "posterior.parquet (not separately calibrated)"},
                       "full": {"file": "/x/posteriors/full.parquet", "own": True,
                                "label": "posteriors/full.parquet"}},
        "weights": {"reference": 0.2, "full": 0.8},
        "validation_years": "2020-2024", "created": "2026-12-05T01:00:00+00:00", "git_commit": "abc",
        "command": "vraem validate-history",
    })
    return out


def test_shipped_weights_carry_their_scores_and_settings(tmp_path):
    from vraem.patterns import load_variant_weights, read_history, ship_weights

    history = read_history(history_folder(tmp_path))
    dest = ship_weights(history, tmp_path / "variant_weights.csv")
    table = pd.DataFrame.from_dict(load_variant_weights(dest), orient="index")
    for c in ("crps_ha", "draws", "households"):
        table[c] = pd.to_numeric(table[c])
    table["separately_calibrated"] = table["separately_calibrated"] == "True"
    assert table.loc["full", "weight"] == pytest.approx(0.8)
    assert table.loc["full", "crps_ha"] == 9000.0
    assert bool(table.loc["full", "separately_calibrated"])
    assert not table.loc["reference", "separately_calibrated"]
    assert (table["draws"] == 2).all() and (table["households"] == 300).all()
    assert table.loc["full", "created"].startswith("2026-12-05")
    # An experiment reads them.
    loaded = load_experiment(write_experiment(tmp_path, n_draws=5, variant_weights=str(dest)))
    ens = loaded.resolved()["ensemble"]["variants"]
    assert (ens["reference"]["pooled_draws"], ens["full"]["pooled_draws"]) == (1, 4)


def test_the_corroboration_page_is_written_once_for_both_places(tmp_path):
    from vraem.patterns import corroboration_body, read_history

    history = read_history(history_folder(tmp_path))
    body = history.body(level=3)
    assert body == corroboration_body(history.scores, history.variants, history.record["note"],
                                      history.forecast, history.weights, history.posteriors, level=3)
    assert "<h3>Patterns</h3>" in body and "UNODC Peru coca survey 2014" in body
    assert "posteriors/full.parquet" in body and "not separately calibrated" in body
    assert '<td class="fail">25,000' in body and "0.80" in body


# ---------------------------------------------------------------------------------------------
# A tiny real sweep over two variants, compared and reported


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory) -> Path:
    from distributed import Client, LocalCluster

    from vraem.sweep import run_sweep

    tmp = tmp_path_factory.mktemp("ensemble")
    weights = write_weights(tmp, {"reference": 0.5, "full": 0.5})
    exp = load_experiment(write_experiment(tmp, n_draws=2, min_draws_per_variant=2,
                                           variant_weights=str(weights)))
    out = tmp / "sweep"
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                     dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster,
        Client(cluster) as client,
    ):
        s = run_sweep(exp, out, client=client, note=lambda _: None)
    assert s.complete and s.failed == 0
    return out


@pytest.mark.slow
def test_a_tiny_real_sweep_ranks_per_variant_and_pooled(tiny_sweep):
    from vraem.compare import compare_folder
    from vraem.results import load_results

    res = load_results(tiny_sweep, maps=False)
    # Two pooled draws (one per variant) and one extra per variant: four replicates.
    assert sorted(res.table["replicate"].unique()) == [0, 1, 2, 3]
    assert set(res.table["variant"]) == {"reference", "full"}
    ens = ensemble_tables(res.table, res.manifest)
    assert set(ens["rankings"]["group"]) == {"reference", "full", POOLED}
    draws = ens["rankings"].groupby("group")["draws"].first().to_dict()
    assert draws == {"reference": 2, "full": 2, POOLED: 2}
    assert set(ens["regret"].columns) == {"reference", "full", POOLED, "worst"}
    assert (ens["regret"].to_numpy() >= 0).all()
    # compare summarises the pooled sample only, and says what its intervals cover.
    comparison = compare_folder(tiny_sweep)
    assert set(comparison.summary["replicates"]) == {2}
    assert set(comparison.paired.loc[comparison.paired.metric == "coca_ha_end", "pairs"]) == {2}
    assert "model structure" in comparison.paired["interval"].iloc[0]


@pytest.mark.slow
def test_the_report_shows_the_ensemble_and_the_corroboration_page(tiny_sweep, tmp_path):
    from vraem.patterns import read_history
    from vraem.report import build_report
    from vraem.results import load_results

    history = read_history(history_folder(tmp_path))
    out = build_report(load_results(tiny_sweep), tmp_path / "report.html", formats=("png",), history=history)
    page = out.html.read_text()
    assert '<section id="ensemble">' in page and 'id="ensemble-regret"' in page
    assert "Kendall" in page and "minimax regret" in page
    assert "Each replicate also runs one model variant" in page  # the draws section says so
    assert "noise, parameter uncertainty and structural uncertainty" in page
    assert '<section id="corroboration">' in page and "Model output corroboration" in page
    assert "UNODC Peru coca survey 2014" in page
    # Without a history folder, no corroboration section.
    plain = build_report(load_results(tiny_sweep), tmp_path / "plain.html", formats=("png",))
    assert '<section id="corroboration">' not in plain.html.read_text()


def test_every_variant_is_documented_in_odd_md_with_its_mechanisms():
    from vraem.patterns import load_variants

    odd = (Path(__file__).resolve().parent.parent / "docs" / "odd.md").read_text(encoding="utf-8")
    section = odd.split("### 7.19 Model variants", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(" `"): line for line in section.splitlines() if line.startswith("| `")}
    for name, variant in load_variants().items():
        assert name in rows, f"variant {name} is not in docs/odd.md, section 7.19"
        cells = rows[name].split("|")
        assert [m.strip(" `") for m in cells[2].split(",") if m.strip() != "none"] == variant.mechanisms
        assert cells[4].strip(), f"variant {name} has no source in docs/odd.md"
