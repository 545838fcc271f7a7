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
    CalibrationError,
    Simulator,
    distance,
    evaluation_seed,
    fit,
    load_config,
    observed_targets,
    pyabc_name,
    run_calibration,
    score,
)
from vraem.observed import load_leaf_prices, load_observed, month_of_date
from vraem.params import USD_PER_SOL
from vraem.scenario import load_scenario


@pytest.mark.xfail(
    strict=True,
    reason="a finding, not hidden: with issue 16's mechanisms and the state's record as inputs, the status"
    " quo at its defaults follows 2013-2017 but under-predicts 2018-2019 by up to 17% (docs/validation.md);"
    " it needs the recalibration of issue 17. strict: this test fails the suite once the fit returns",
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


def test_distance_weighs_the_two_patterns_equally():
    obs = {"coca_2014": 100.0, "coca_2015": 200.0, "leaf_2020-01": 2.0}
    assert distance(dict(obs), obs) == 0.0
    # coca 10% off in both years, price exact: sqrt((0.01 + 0) / 2)
    sim = {"coca_2014": 110.0, "coca_2015": 180.0, "leaf_2020-01": 2.0, DERIVED: 9.0}
    assert distance(sim, obs) == pytest.approx(np.sqrt(0.01 / 2))
    # price 20% off, coca exact: one price point weighs as much as all the coca years
    sim = {"coca_2014": 100.0, "coca_2015": 200.0, "leaf_2020-01": 2.4}
    assert distance(sim, obs) == pytest.approx(np.sqrt(0.04 / 2))


def test_default_config_and_its_targets():
    cfg = load_config()
    assert set(cfg.parameters) == {
        "farmer.allocation_sensitivity",
        "farmer.illegality_premium_usd_per_ha_year",
        "farmer.expectation_rate",
        "farmer.coca_cost_share",
    }
    assert cfg.leaf_price_dates == ["2020-01", "2020-04", "2020-05"]
    assert cfg.overrides == {}  # the 2020 lockdown is a default input (market.export_demand_shock_by_date)
    priors = cfg.priors()
    assert all(hi > lo for lo, hi in priors.values())
    t = observed_targets(cfg)
    assert t["coca_2019"] == 26028
    assert t["leaf_2020-01"] == pytest.approx(11.2 * USD_PER_SOL)


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
    """
    from distributed import Client, LocalCluster

    from vraem.calibration import CalibrationConfig

    truth = 0.10
    cfg = CalibrationConfig(
        households=600,
        # export demand growing from the first month (no observed series): the old structure, in
        # which the growth rate shapes 2013-2019 and can be recovered
        overrides={"market.export_demand_index_by_year": [], "market.export_demand_growth_years": 11.0},
        parameters={"market.export_demand_growth_per_year": [0.0, 0.22]},
        coca_years=[2014, 2015, 2017, 2018, 2019],
        leaf_price_dates=["2020-01"],
        population_size=40,
        generations=3,
        minimum_epsilon=0.0,
        max_minutes=10,
        predictive_draws=6,
        seed=3,
    )
    sim = Simulator(cfg, list(observed_targets(cfg)))
    synthetic = sim({pyabc_name("market.export_demand_growth_per_year"): truth})
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
    from vraem.calibration import CalibrationConfig

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
