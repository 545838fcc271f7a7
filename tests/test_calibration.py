"""Calibration: the status quo's defaults, the observed patterns, and ABC-SMC on real Dask workers."""

import logging
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from vraem.calibration import (
    DERIVED,
    TOLERANCE,
    CalibrationConfig,
    CalibrationError,
    PatternDistance,
    Simulator,
    evaluation_seed,
    fit,
    load_config,
    observed_targets,
    pyabc_name,
    run_calibration,
    score,
    ship,
    target_tolerances,
)
from vraem.observed import load_leaf_prices, load_observed, month_of_date
from vraem.params import USD_PER_SOL
from vraem.scenario import load_scenario


@pytest.mark.xfail(
    strict=True,
    reason="a finding, not hidden: with issue 16's mechanisms and the state's record as inputs, the status"
    " quo at its defaults (full's posterior medians) follows 2013-2017 but under-predicts 2018-2019 by up"
    " to 15%, as the posterior predictive does (docs/calibration.md). strict: this test fails the suite"
    " once the fit returns",
)
def test_status_quo_within_ten_percent_2013_2019():
    months = 12 * (2019 - 2013)
    sim = fit({}, replicates=2, months=months)
    worst, rel = score(sim)
    assert worst < TOLERANCE, rel.round(3).to_dict()


def test_observed_series_is_shipped_with_sources():
    obs = load_observed()
    assert obs["year"].min() == 2004 and obs["year"].max() == 2024
    assert obs["source"].notna().all()
    assert obs.loc[obs.year == 2013, "coca_ha"].item() == 19167


def test_leaf_prices_are_shipped_with_sources_and_converted_to_usd():
    p = load_leaf_prices()
    assert p["source"].notna().all() and (p["source"].str.len() > 10).all()
    jan = p[(p.date == "2020-01") & (p.area == "VRAEM")].iloc[0]
    assert jan.currency == "PEN" and jan.price == 11.2
    assert np.isclose(jan.price_usd_per_kg, 11.2 * USD_PER_SOL)
    apr = p[p.date == "2020-04"].iloc[0]
    assert apr.price_usd_per_kg / jan.price_usd_per_kg == pytest.approx(4.2 / 11.2)  # the crash
    assert p.loc[p.currency == "USD", "price_usd_per_kg"].equals(p.loc[p.currency == "USD", "price"])
    assert month_of_date("2020-04", 2013) == 87 and month_of_date("2014", 2013) == 12


def test_status_quo_starts_at_the_2013_survey():
    sc = load_scenario("status_quo", {"farmer.n_households": 2000, "months": 1})
    from vraem.runner import run_once

    t = run_once(sc, 0).table
    assert np.isclose(t["coca_ha"].iloc[0] / sc.parameters.scale, 19167)


def test_distance_counts_tolerances_and_weighs_the_groups_equally():
    tol = {"coca_2014": (10.0, 10.0, "coca"), "coca_2015": (20.0, 20.0, "coca"),
           "pattern_labs": (5.0, 10.0, "programme")}
    obs = {"coca_2014": 100.0, "coca_2015": 200.0, "pattern_labs": 20.0}
    d = PatternDistance(tol)
    assert d(dict(obs), obs) == 0.0
    # coca one tolerance off in both years, labs exact: sqrt((1 + 0) / 2); the derived key is ignored
    sim = {"coca_2014": 110.0, "coca_2015": 180.0, "pattern_labs": 20.0, DERIVED: 9.0}
    assert d(sim, obs) == pytest.approx(np.sqrt(1 / 2))
    # the tolerance of the side the value falls on: 10 above, 5 below
    assert d({**obs, "pattern_labs": 30.0}, obs) == pytest.approx(np.sqrt(1 / 2))
    assert d({**obs, "pattern_labs": 10.0}, obs) == pytest.approx(np.sqrt(4 / 2))
    # a statistic of nothing (NaN) counts as one tolerance off; an infinite one rejects
    assert d({**obs, "pattern_labs": float("nan")}, obs) == pytest.approx(np.sqrt(1 / 2))
    assert d({**obs, "coca_2014": float("inf")}, obs) == float("inf")


def test_the_lower_bound_of_part_of_the_statistics_never_exceeds_the_distance():
    """Early rejection is exact: whatever the unknown statistics turn out to be, the bound holds."""
    tol = {"coca_2014": (10.0, 10.0, "coca"), "coca_2015": (20.0, 20.0, "coca"),
           "leaf_2014": (1.0, 2.0, "leaf"), "pattern_labs": (5.0, 10.0, "programme"),
           "pattern_replant": (0.1, 0.1, "programme")}
    obs = {"coca_2014": 100.0, "coca_2015": 200.0, "leaf_2014": 3.0, "pattern_labs": 20.0,
           "pattern_replant": 0.5}
    d = PatternDistance(tol)
    rng = np.random.default_rng(7)
    keys = list(obs)
    for _ in range(300):
        sim = {k: v * rng.uniform(0.3, 2.0) for k, v in obs.items()}
        if rng.random() < 0.2:
            sim["pattern_replant"] = float("nan")
        known = [k for k in keys if rng.random() < 0.6]
        partial = {k: sim[k] for k in known}
        assert d.lower_bound(partial, obs) <= d(sim, obs) + 1e-12
    assert d.lower_bound(obs, obs) == 0.0 and d.lower_bound({}, obs) == 0.0
    # everything known: the bound is the distance
    sim = {k: v * 1.3 for k, v in obs.items()}
    assert d.lower_bound(sim, obs) == pytest.approx(d(sim, obs))
    # coca 2014 two tolerances off, nothing else known: sqrt(mean(2^2 / 2 [coca], 0, 0))
    assert d.lower_bound({"coca_2014": 120.0}, obs) == pytest.approx(np.sqrt(2 / 3))


def test_the_logit_scale_prior_is_the_uniform_prior_on_each_range():
    """pyabc samples a standard logistic; mapped back, each parameter is uniform on its range."""
    from scipy import stats

    from vraem.calibration import candidate_values, pyabc_prior

    priors = {"farmer.expectation_rate": (0.007, 0.08), "clan.broker_margin": (0.04, 0.16)}
    prior = pyabc_prior(priors)
    np.random.seed(11)  # noqa: NPY002 (pyabc draws from NumPy's global generator)
    draws = [candidate_values(prior.rvs(), priors) for _ in range(4000)]
    for key, (lo, hi) in priors.items():
        x = np.array([d[key] for d in draws])
        assert lo <= x.min() and x.max() <= hi
        assert stats.kstest((x - lo) / (hi - lo), "uniform").pvalue > 0.01, key
    # the middle of the logit scale is the middle of the range
    mid = candidate_values({pyabc_name(k): 0.0 for k in priors}, priors)
    assert mid == pytest.approx({k: (lo + hi) / 2 for k, (lo, hi) in priors.items()})


def test_proposals_mixed_with_the_prior_bound_the_importance_weights():
    """Defensive importance sampling: weight = prior / proposal density is at most 1 / prior_share."""
    from vraem.abc_model import DefensiveTransition
    from vraem.calibration import pyabc_prior

    priors = {"a.x": (0.0, 1.0), "a.y": (0.0, 1.0)}
    prior = pyabc_prior(priors)
    rng = np.random.default_rng(4)
    # a last generation bunched in one corner of the logit scale: far points have a thin kernel density
    last = pd.DataFrame({pyabc_name(k): rng.normal(-3.0, 0.2, 300) for k in priors})
    w = np.full(300, 1 / 300)
    plain, mixed = DefensiveTransition(prior, 0.0), DefensiveTransition(prior, 0.3)
    plain.fit(last, w)
    mixed.fit(last, w)
    points = pd.DataFrame({pyabc_name(k): rng.normal(0.0, 2.0, 200) for k in priors})
    p = np.array([prior.pdf(dict(r)) for _, r in points.iterrows()])
    assert (p / mixed.pdf(points)).max() <= 1 / 0.3 + 1e-9
    with np.errstate(divide="ignore", over="ignore"):  # pyabc's kernels alone: huge (or infinite) weights
        assert (p / plain.pdf(points)).max() > 1e3
    assert mixed.pdf(points) == pytest.approx(0.3 * p + 0.7 * plain.pdf(points))
    np.random.seed(2)  # noqa: NPY002 (pyabc proposes from NumPy's global generator)
    draws = mixed.rvs(2000)
    far = (draws[pyabc_name("a.x")] > -1.5).mean()  # from the prior, not from the bunch at -3
    assert 0.2 < far < 0.35


def test_early_rejection_stops_a_hopeless_candidate_after_its_first_scenario():
    """pyabc's integrated model: the same statistics as a full evaluation, fewer runs when rejected."""
    from vraem.abc_model import EarlyRejection

    cfg = _small(fit_end_year=2015, patterns={"replanting_share": {"years": ["2013-02", "2015-12"]}})
    targets = observed_targets(cfg)
    sim = Simulator(cfg, list(targets))
    assert list(sim.months) == ["status_quo", "eradication_first"]
    stages = []
    real = sim.stages

    def counted(values):
        for s in real(values):
            stages.append(sorted(s))
            yield s

    sim.stages = counted
    model = EarlyRejection(sim, PatternDistance(target_tolerances(cfg)), targets)
    par = {pyabc_name("farmer.illegality_premium_usd_per_ha_year"): 0.0}  # the middle of 3,000-6,000
    whole = model.integrated_simulate(par, float("inf"))
    assert whole.accepted and len(stages) == 2
    assert whole.sum_stat == sim.simulate({"farmer.illegality_premium_usd_per_ha_year": 4500.0})
    assert whole.distance == pytest.approx(PatternDistance(target_tolerances(cfg))(whole.sum_stat, targets))
    stages.clear()
    # the status quo's coca alone puts it beyond an epsilon this small: the second run never starts
    bound = PatternDistance(target_tolerances(cfg)).lower_bound(
        {k: v for k, v in whole.sum_stat.items() if k.startswith("coca_")}, targets)
    assert bound > 0
    hopeless = model.integrated_simulate(par, bound / 2)
    assert not hopeless.accepted and len(stages) == 1
    assert "pattern_replanting_share" not in stages[0]


def test_tolerances_come_from_the_survey_error_and_the_pattern_bands():
    cfg = load_config()
    tol = target_tolerances(cfg)
    assert tol["coca_2019"] == pytest.approx((2602.8, 2602.8, "coca"))
    assert tol["pattern_labs_destroyed_per_month"] == pytest.approx((5.0, 5.0, "programme"))
    assert tol["pattern_backcast_900m"][:2] == pytest.approx((0.026, 0.144))  # band 0.93-1.10 round 0.956
    assert tol["pattern_leaf_price_2014"][2] == "leaf"
    assert tol["pattern_monzon_agreements_kept"][2] == "programme"


def test_default_config_and_its_targets():
    cfg = load_config()
    assert set(cfg.parameters) == {
        "farmer.allocation_sensitivity",
        "farmer.illegality_premium_usd_per_ha_year",
        "farmer.expectation_rate",
        "farmer.coca_cost_share",
        # the four the Morris screening ranks highest for the policy gap (issue 17)
        "programme.trust_gain_per_month_services",
        "security.resistance_threshold",
        "clan.broker_margin",
        "security.hostility_per_share_eradicated",
    }
    assert cfg.variant == "full" and cfg.fit_end_year == 2019
    assert cfg.population_size >= 500 and cfg.target_ess >= 500
    assert cfg.leaf_price_dates == []  # the 2020 prices are scored out of sample, not fitted
    assert cfg.overrides == {}
    priors = cfg.priors()
    assert all(hi > lo for lo, hi in priors.values())
    t = observed_targets(cfg)
    assert t["coca_2019"] == 26028
    assert t["pattern_labs_destroyed_per_month"] == 20 and t["pattern_replanting_share"] == 0.5
    assert not [k for k in t if "2020" in k or "2021" in k]
    scenarios = {p.scenario for p in cfg.fitted_patterns()}
    assert scenarios == {"status_quo", "eradication_first", "development_first"}
    assert all(int(p.years[-1][:4]) <= 2019 for p in cfg.fitted_patterns())


def test_variant_sets_the_mechanisms_of_every_run():
    from vraem.patterns import load_variants

    full, ref = load_config(None, "full"), load_config(None, "reference")
    assert full.mechanism_list() == list(load_variants()["full"].mechanisms)
    assert ref.mechanism_list() == [] and ref.label() == "reference"
    assert Simulator(ref, list(observed_targets(ref))).fixed["mechanisms"] == []
    sc = load_scenario("status_quo", ref.run_overrides())
    assert sc.parameters.mechanisms.on() == ()
    custom = CalibrationConfig(parameters={"farmer.expectation_rate": None}, coca_years=[2014],
                               mechanisms=["open_valley"])
    assert custom.run_overrides()["mechanisms"] == ["open_valley"] and custom.label() == "open_valley"


def test_evaluation_seed_depends_only_on_the_candidate():
    assert evaluation_seed(1, [0.1, 2.0]) == evaluation_seed(1, [0.1, 2.0])
    assert evaluation_seed(1, [0.1, 2.0]) != evaluation_seed(1, [0.1, 2.0000001])
    assert evaluation_seed(1, [0.1, 2.0]) != evaluation_seed(2, [0.1, 2.0])


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("parameters: {farmer.p_replnt: }\ncoca_years: [2014]\n", "not a model parameter"),
        ("parameters: {farmer.max_coca_ha: }\ncoca_years: [2014]\n", "derived"),
        ("parameters: {farmer.expectation_rate: [0.1, 0.01]}\ncoca_years: [2014]\n", "greater than low"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2016]\n", "no survey in [2016]"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\nleaf_price_dates: ['2014']\n",
         "no VRAEM leaf price"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\npopulation_sise: 5\n",
         "population_sise"),
        # leave-future-out: nothing after fit_end_year may be fitted
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014, 2021]\n", "leave-future-out"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\nleaf_price_dates: ['2020-04']\n",
         "leave-future-out"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\n"
         "patterns: {monzon_agreements_kept: }\n", "leave-future-out"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\npatterns: {labs_killed: }\n",
         "no pattern 'labs_killed'"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\nvariant: open_vally\n",
         "unknown variant 'open_vally'"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\nmechanisms: [open_vally]\n",
         "unknown mechanism 'open_vally'"),
        ("parameters: {farmer.expectation_rate: }\ncoca_years: [2014]\nvariant: full\nmechanisms: []\n",
         "not both"),
    ],
)
def test_bad_config_is_one_line_naming_the_file(tmp_path, text, needle):
    path = tmp_path / "cal.yaml"
    path.write_text(text)
    with pytest.raises(CalibrationError) as exc:
        load_config(path)
    assert str(path) in str(exc.value) and needle in str(exc.value)


def test_vraem_calibrate_with_a_bad_config_prints_one_line_and_exits_2(tmp_path):
    path = tmp_path / "cal.yaml"
    path.write_text("parameters: {farmer.p_replnt: }\ncoca_years: [2014]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "vraem.cli", "calibrate", str(path), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "farmer.p_replnt" in lines[0] and str(path) in lines[0], proc.stderr


@pytest.mark.slow
def test_abc_recovers_a_known_parameter_from_synthetic_data(tmp_path):
    """Data made by the model itself at a known export-demand growth; the 90% interval covers it.

    ABC-SMC on Dask is not repeatable draw for draw (workers return particles in the order they
    finish), so the posterior varies from run to run. With 20 particles its 90% interval was
    0.035-0.076 wide in 30 runs here and once over 0.096 in CI; with 40 it was 0.040-0.059 wide in
    12 runs, always covering the truth with a margin of at least 0.016.

    pyabc's own transition (``prior_share: 0``): with the defensive mixture, one parameter and a
    posterior a tenth as wide as its prior, a particle drawn from the prior and accepted in the
    posterior's tail weighs about 1 / 0.3 while those in the bulk weigh about 1 / (0.7 x 10); with 40
    particles one such particle once took over half the mass in CI (q05 = median = 0.111). The
    mixture's bound on the weights has its own test above.
    """
    from distributed import Client, LocalCluster

    truth = 0.10
    cfg = CalibrationConfig(
        households=600,
        # export demand growing from the first month (no observed series): the old structure, in
        # which the growth rate shapes 2013-2019 and can be recovered
        overrides={"market.export_demand_index_by_year": [], "market.export_demand_growth_years": 11.0},
        parameters={"market.export_demand_growth_per_year": [0.0, 0.22]},
        coca_years=[2014, 2015, 2017, 2018, 2019],
        leaf_price_dates=["2020-01"],
        fit_end_year=2020,  # a synthetic check of the method, not a leave-future-out fit
        variant="reference",
        population_size=40,
        generations=3,
        prior_share=0.0,
        minimum_epsilon=0.0,
        max_minutes=10,
        predictive_draws=6,
        seed=3,
    )
    sim = Simulator(cfg, list(observed_targets(cfg)))
    synthetic = sim.simulate({"market.export_demand_growth_per_year": truth})
    observed = {k: v for k, v in synthetic.items() if k != DERIVED}
    with (
        # dashboard_address None still serves /metrics on port 8787 of every interface (and warns
        # when another cluster holds it): a free port on 127.0.0.1 instead.
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                     dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster,
        Client(cluster) as client,
    ):
        manifest = run_calibration(cfg, tmp_path, client=client, observed=observed, note=lambda _: None)
    post = pd.read_parquet(tmp_path / "posterior.parquet")
    assert np.isclose(post["weight"].sum(), 1.0) and len(post) == 40
    rows = {r["parameter"]: r for r in manifest["posterior_summary"]}
    row = rows["market.export_demand_growth_per_year"]
    assert row["q05"] <= truth <= row["q95"], row
    assert row["q95"] - row["q05"] < 0.5 * (row["prior_high"] - row["prior_low"]), row  # the prior: 0-0.22
    gens = pd.read_csv(tmp_path / "generations.csv")
    assert list(gens["generation"]) == [0, 1, 2]
    assert gens["epsilon"].is_monotonic_decreasing and (gens["ess"] > 0).all()
    assert (gens["acceptance_rate"] > 0).all() and (gens["acceptance_rate"] <= 1).all()
    for name in ("posterior_marginals.png", "generations.png", "posterior_predictive.png", "manifest.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    pred = pd.read_csv(tmp_path / "posterior_predictive.csv")
    coca = pred[pred["what"] == "coca_ha"]
    assert list(coca["when"].astype(int)) == list(range(2013, 2025))
    assert set(coca.loc[coca["fitted"], "when"].astype(int)) == {2014, 2015, 2017, 2018, 2019}


def test_a_capacity_range_no_candidate_meets_is_refused_before_abc_starts(tmp_path):
    """pyabc's Dask sampler would search for ever: the config is refused first, in one line."""
    cfg = CalibrationConfig(
        households=200,
        parameters={"market.export_demand_growth_per_year": None},
        coca_years=[2014],
        population_size=4,
        predictive_draws=0,
        max_coca_ha_range=(100, 200),
    )
    with pytest.raises(CalibrationError, match=r"max_coca_ha_range \[100, 200\]: none of 12 prior draws"):
        run_calibration(cfg, tmp_path, client=object(), note=lambda _: None)


# ---------------------------------------------------------------------------------------------
# Per-variant ABC-SMC with a hard stop, shipping, and the coverage and scale checks


def _small(**kw) -> CalibrationConfig:
    """A short, small calibration: the reference variant, coca 2014-2015, a 300-household valley."""
    base = dict(
        variant="reference",
        households=300,
        fit_end_year=2015,
        parameters={"farmer.illegality_premium_usd_per_ha_year": [3000.0, 6000.0]},
        coca_years=[2014, 2015],
        population_size=4,
        predictive_draws=0,
        seed=5,
    )
    return CalibrationConfig(**{**base, **kw})


def test_multicore_sampler_stops_at_the_simulation_budget_and_ships_per_variant(tmp_path):
    """pyabc's multicore sampler honours the limits; --ship writes posteriors/<variant>.parquet/.json."""
    cfg = _small(generations=20, minimum_epsilon=0.0, max_total_simulations=12, min_acceptance_rate=0.5)
    manifest = run_calibration(cfg, tmp_path / "out", workers=2, note=lambda _: None)
    assert manifest["sampler"] == "MulticoreEvalParallelSampler"
    # between generations: stop once 12 are spent; within one: at most population / 0.5 = 8
    assert manifest["simulations"] <= 12 + 8, manifest["generations"]
    assert len(manifest["generations"]) < 20
    assert manifest["variant"] == "reference" and manifest["mechanisms"] == []
    for key in ("effective_sample_size", "final_epsilon", "abc_seconds", "converged"):
        assert key in manifest
    assert {"ess", "epsilon", "acceptance_rate"} <= set(manifest["generations"][0])
    shipped = ship(tmp_path / "out", tmp_path / "data", variant="reference")
    assert shipped == tmp_path / "data" / "posteriors" / "reference.parquet"
    post = pd.read_parquet(shipped)
    assert {"farmer.illegality_premium_usd_per_ha_year", DERIVED, "weight", "generation"} <= set(post.columns)
    assert (tmp_path / "data" / "posteriors" / "reference.json").exists()
    # --resume continues the stored run with more generations
    more = cfg.model_copy(update={"generations": 1, "max_total_simulations": manifest["simulations"] + 40,
                                  "epsilon_quantile": 0.95, "min_acceptance_rate": 0.1})
    again = run_calibration(more, tmp_path / "out", workers=2, resume=True, note=lambda _: None)
    assert again["resumed"] and len(again["generations"]) == len(manifest["generations"]) + 1
    eps = [g["epsilon"] for g in again["generations"]]
    assert eps[-1] < cfg.initial_epsilon and eps[-1] <= eps[-2]  # continues the epsilons
    # --finish samples nothing: the stored run's last generation, written again as it is
    before = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    done = run_calibration(more, tmp_path / "out", workers=2, finish=True, note=lambda _: None)
    assert done["finished_from_store"] and done["generations"] == again["generations"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "posterior.parquet"), before)
    with pytest.raises(CalibrationError, match=r"--finish: no stored run in .*empty"):
        run_calibration(more, tmp_path / "empty", workers=2, finish=True, note=lambda _: None)


def test_a_generation_that_cannot_fill_stops_at_its_evaluation_limit(tmp_path):
    cfg = _small(initial_epsilon=1e-9, min_acceptance_rate=0.5)
    with pytest.raises(CalibrationError, match=r"stopped after [0-9]+ evaluations \(limit 8\)") as exc:
        run_calibration(cfg, tmp_path, workers=1, note=lambda _: None)
    assert int(str(exc.value).split("after ")[1].split()[0]) <= 8


def test_vraem_calibrate_with_an_unknown_variant_prints_one_line_and_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "vraem.cli", "calibrate", "--variant", "open_vally", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "open_vally" in lines[0], proc.stderr


SBC_PARAMETERS = {
    "farmer.illegality_premium_usd_per_ha_year": [3000.0, 6000.0],
    "farmer.allocation_sensitivity": [0.6, 2.0],
}


@pytest.fixture(scope="module")
def small_table():
    """A reference table of 240 prior runs: two parameters, 300 households, 2013-2015."""
    from vraem.sbc import reference_table, usable

    cfg = _small(parameters=SBC_PARAMETERS, coca_years=[2014, 2015])
    return cfg, usable(reference_table(cfg, 240, seed=11, workers=2), cfg)


def test_credible_intervals_cover_the_truth_over_synthetic_datasets(small_table):
    """Prangle et al. (2014): each run held out in turn; its rejection-ABC posterior from the others.

    The 50% and 90% intervals must cover the truth 50 +/- 10% and 90 +/- 5% of the time (issue 17),
    the posterior must be narrower than the prior (else the check is empty: the prior itself is
    calibrated), and the same check must fail for a posterior shifted by a tenth of the prior.
    """
    from vraem.sbc import coverage, summarise

    cfg, table = small_table
    assert len(table) >= 200
    ranks = coverage(cfg, table, accept_rate=0.15)
    summary = summarise(ranks).set_index("parameter")
    pooled = summary.loc["all (pooled)"]
    assert pooled["datasets"] >= 50
    assert abs(pooled["covered_50"] - 0.5) <= 0.10, summary
    assert abs(pooled["covered_90"] - 0.9) <= 0.05, summary
    # informative: narrower than the prior (the premium is well identified; the sensitivity barely)
    assert summary["width_90"].min() < 0.5 and pooled["width_90"] < 0.75, summary
    shifted = summarise(coverage(cfg, table, accept_rate=0.15, shift=0.1)).set_index("parameter")
    assert not (shifted.loc["all (pooled)", ["pass_50", "pass_90"]].all()), shifted


def test_posterior_does_not_depend_on_the_valley_size(small_table):
    """Rejection ABC on the observed 2014-2015 surveys, the same prior draws at 300 and 1,200 households.

    The posterior medians agree within three Monte Carlo standard errors (bootstrap over the
    accepted draws); a 10% bias in one valley's coca, what a scaling error would make, is detected.
    """
    from vraem.sbc import distances, reference_table, usable

    cfg, small = small_table
    keys = list(SBC_PARAMETERS)
    big = usable(reference_table(cfg, 0, households=1200, workers=2, draws=small[keys].iloc[:120]), cfg)
    small = small.iloc[:120]
    obs = observed_targets(cfg)
    rng = np.random.default_rng(0)

    def medians(table: pd.DataFrame, bias: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        t = table.copy()
        t[list(obs)] *= bias
        d = distances(cfg, t, obs)
        post = t[keys].to_numpy()[np.argsort(d)[:30]]
        boot = [np.median(post[rng.integers(0, len(post), len(post))], axis=0) for _ in range(300)]
        return np.median(post, axis=0), np.std(boot, axis=0)

    (m1, s1), (m2, s2) = medians(small), medians(big)
    z = np.abs(m1 - m2) / np.sqrt(s1**2 + s2**2)
    assert (z < 3).all(), dict(zip(keys, z, strict=True))
    (m3, s3) = medians(big, bias=1.1)
    z_biased = np.abs(m1 - m3) / np.sqrt(s1**2 + s3**2)
    assert (z_biased >= 3).any(), dict(zip(keys, z_biased, strict=True))
