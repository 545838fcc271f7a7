"""Pattern-oriented validation: the pattern and variant files, the statistics, the command."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from vraem.params import MechanismParams
from vraem.patterns import Pattern, PatternError, load_patterns, load_variants, statistic

VRAEM = [sys.executable, "-m", "vraem.cli"]

GOOD = {
    "name": "coca_2014",
    "description": "coca at the 2014 survey",
    "source": "UNODC Peru coca survey 2014",
    "scenario": "status_quo",
    "column": "coca_ha",
    "statistic": "at",
    "years": ["2014"],
    "extensive": True,
    "observed": 18845,
    "accept": [16960, 20730],
    "accept_source": "assumption: +/-10%",
}


def vraem(*args, cwd=None):
    return subprocess.run([*VRAEM, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def write_patterns(tmp_path: Path, *patterns: dict) -> Path:
    path = tmp_path / "patterns.yaml"
    path.write_text(yaml.safe_dump({"patterns": list(patterns)}, sort_keys=False))
    return path


def test_the_shipped_patterns_and_variants_load_with_sources():
    patterns = load_patterns()
    names = {p.name for p in patterns}
    for expected in ("backcast_900m", "lockdown_crash_2020", "labs_destroyed_per_month", "replanting_share",
                     "monzon_agreements_kept", "air_bridge_coca", "little_violence", "coca_2023"):
        assert expected in names
    assert all(p.source and p.accept_source for p in patterns)
    variants = load_variants()
    assert variants["reference"].mechanisms == []
    assert set(variants["full"].mechanisms) == set(MechanismParams.model_fields)
    assert len(variants) >= 6


def _table(values, start=0):
    months = np.arange(start, start + len(values))
    return pd.DataFrame({"month": months, "coca_ha": values, "agreements": np.full(len(values), 10.0),
                         "agreements_broken": np.ones(len(values))})


def test_statistics_of_a_run():
    table = _table(np.arange(37, dtype=float) * 10.0)
    at = Pattern.model_validate({**GOOD, "extensive": True})
    assert statistic(at, table, 2013, scale=0.1) == pytest.approx(120.0 / 0.1)  # month 12, full valley
    ratio = Pattern.model_validate({**GOOD, "statistic": "ratio", "years": ["2014", "2016"]})
    assert statistic(ratio, table, 2013, scale=0.1) == pytest.approx(360.0 / 120.0)  # ratios are not scaled
    mean = Pattern.model_validate(
        {**GOOD, "statistic": "mean", "years": ["2013-01", "2013-03"], "extensive": False}
    )
    assert statistic(mean, table, 2013, scale=0.1) == pytest.approx(10.0)
    share = Pattern.model_validate({**GOOD, "column": "agreements_broken", "denominator": "agreements",
                                    "statistic": "share", "years": ["2013-01", "2013-12"]})
    assert statistic(share, table, 2013, scale=0.1) == pytest.approx(12 / 10.0)
    late = Pattern.model_validate({**GOOD, "years": ["2030"]})
    assert np.isnan(statistic(late, table, 2013, scale=1.0))  # beyond the run: no value, not an error


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"source": "somebody said so"}, "must cite its source"),
        ({"accept": [5, 1]}, "low <= high"),
        ({"observed": "many"}, "observed"),
        ({"statistic": "median"}, "statistic"),
        ({"years": ["2014-13"]}, "YYYY-MM"),
        ({"column": "coca_hectares"}, "no output column 'coca_hectares'"),
        ({"scenario": "no_such_scenario"}, "scenario"),
        ({"statistic": "ratio"}, "needs two dates"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_pattern_file_is_one_line_and_exit_2(tmp_path, change, words):
    path = write_patterns(tmp_path, {**GOOD, **change})
    with pytest.raises(PatternError, match=None) as err:
        load_patterns(path)
    assert words in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("change", [{"source": "somebody said so"}, {"accept": ["a", 1]}])
def test_the_command_gives_one_line_and_exit_2(tmp_path, change):
    path = write_patterns(tmp_path, {**GOOD, **change})
    proc = vraem("validate-history", str(path), "--draws", "1")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr


def test_two_patterns_of_one_name_are_refused(tmp_path):
    path = write_patterns(tmp_path, GOOD, GOOD)
    with pytest.raises(PatternError, match="used twice"):
        load_patterns(path)


def test_an_unknown_variant_is_one_line(tmp_path):
    proc = vraem("validate-history", "--variants", "reference,flat_earth", "--draws", "1")
    assert proc.returncode == 2
    assert "flat_earth" in proc.stderr and "reference" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_validate_history_runs_and_writes_its_page(tmp_path):
    crash = {**GOOD, "name": "price_falls", "column": "leaf_price_usd_per_kg", "statistic": "ratio",
             "years": ["2013", "2014"], "extensive": False, "observed": None, "accept": [0.0, 0.99],
             "source": "assumption: a test pattern that the model is expected to fail"}
    path = write_patterns(tmp_path, GOOD, crash)
    proc = vraem("validate-history", str(path), "--draws", "2", "--households", "300",
                 "--variants", "reference,full", "--posterior", "none", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    scores = pd.read_csv(tmp_path / "out" / "patterns.csv")
    assert set(scores.variant) == {"reference", "full"}
    assert set(scores.pattern) == {"coca_2014", "price_falls"}
    assert (scores.runs == 2).all()
    page = (tmp_path / "out" / "corroboration.html").read_text()
    assert "Model output corroboration" in page and "UNODC Peru coca survey 2014" in page
    # The 2014 survey sits in its band at the start of the run; the price does not fall in 2013.
    first = scores.set_index(["pattern", "variant"])
    assert first.loc[("coca_2014", "reference"), "passes"]
    assert not first.loc[("price_falls", "reference"), "passes"]


@pytest.mark.parametrize("seed", [12, 14, 3])
def test_the_stacked_ensemble_never_scores_worse_than_the_best_single_variant(seed):
    """Seven variants under-predicting by 20-45% with spreads of 1-25% (as the shipped ones do):
    the mixture's CRPS is convex in the weights, so its minimum is at most any vertex's. A softmax
    Nelder-Mead from equal weights stopped at a worse vertex for seeds 12 and 14."""
    import scoringrules as sr

    from vraem.scoring import mixture, stacking_weights

    obs = np.array([27_994.0, 32_106.0, 35_709.0, 38_253.0, 36_345.0])
    rng = np.random.default_rng(seed)
    forecasts = {}
    for i in range(7):
        bias, spread = rng.uniform(-0.45, -0.2), rng.uniform(0.01, 0.25)
        forecasts[f"v{i}"] = obs[:, None] * (1 + bias + spread * rng.standard_normal((5, 10)))
    single = min(float(np.mean(sr.crps_ensemble(obs, f, m_axis=1))) for f in forecasts.values())
    weights = stacking_weights(forecasts, obs)
    assert sum(weights.values()) == pytest.approx(1.0) and min(weights.values()) >= 0.0
    pooled, member_w = mixture(forecasts, weights)
    ens_w = np.broadcast_to(member_w, pooled.shape)
    stacked = float(np.mean(sr.crps_ensemble(obs, pooled, m_axis=1, ens_w=ens_w)))
    assert stacked <= single + 1e-9


def test_scores_and_stacking_favour_the_variant_that_forecasts_well():
    from vraem.observed import load_observed
    from vraem.scoring import leave_future_out, naive_forecasts, score, stacking_weights

    observed = load_observed().set_index("year")["coca_ha"]
    years = [2020, 2021, 2022, 2023, 2024]
    obs = observed.loc[years].to_numpy(float)
    rng = np.random.default_rng(1)
    good = obs[:, None] * rng.normal(1.0, 0.05, (len(years), 40))
    bad = obs[:, None] * rng.normal(0.5, 0.05, (len(years), 40))
    naive = naive_forecasts(observed, years)
    assert naive["persistence"][0] == observed.loc[2019]
    s_good, s_bad = score(good, obs, naive), score(bad, obs, naive)
    assert s_good["crps_ha"] < s_bad["crps_ha"]
    assert s_good["coverage_90"] >= 0.8 and s_bad["coverage_90"] == 0.0
    assert s_good["skill_vs_persistence"] > 0 > s_bad["skill_vs_persistence"]
    weights = stacking_weights({"good": good, "bad": bad}, obs)
    assert weights["good"] > 0.9 and sum(weights.values()) == pytest.approx(1.0)

    def tables(forecast):  # survey months of runs starting in 2013 at full scale
        return [pd.DataFrame({"month": [12 * (y - 2013) for y in years], "coca_ha": forecast[:, j]})
                for j in range(forecast.shape[1])]

    runs = {"good": (tables(good), 2013, 1.0), "bad": (tables(bad), 2013, 1.0)}
    table, _weights, stacked = leave_future_out(runs)
    assert set(table.forecast) == {"good", "bad", "naive: persistence", "naive: trend", "stacked ensemble"}
    assert stacked["crps_ha"] <= s_good["crps_ha"] * 1.05
