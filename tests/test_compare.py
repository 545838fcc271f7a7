"""``vraem compare``: per-month bands, paired differences with t intervals, the summary table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from vraem.cli import app
from vraem.compare import compare_folder, mean_ci, paired_differences, run_metrics, summary_table
from vraem.runner import run_scenarios
from vraem.scenario import load_scenario


def synthetic_table() -> pd.DataFrame:
    """Two scenarios x 3 replicates x 3 months with known sums."""
    rows = []
    for sc, end_shift, spend in (("status_quo", 0.0, 1e6), ("integrated", -10.0, 3e6)):
        for rep, seed in enumerate((11, 12, 13)):
            for month in range(3):
                rows.append(
                    {
                        "scenario": sc,
                        "point": 0,
                        "replicate": rep,
                        "seed": seed,
                        "month": month,
                        "year": 2013 + month / 12,
                        "coca_ha": 100.0
                        + month * (rep + 1)
                        + (end_shift * rep if month == 2 else 0.0),
                        "eradicated_ha": 4.0 if sc == "integrated" else 0.0,
                        "replanted_ha": 1.0 if sc == "integrated" else 0.0,
                        "exports_air_t": 1.0,
                        "exports_land_t": 0.5,
                        "development_spent_soles": spend / 3,
                    }
                )
    return pd.DataFrame(rows)


def test_mean_ci_is_students_t():
    d = np.array([1.0, 2.0, 4.0, 7.0])
    mean, low, high = mean_ci(d)
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    assert mean == pytest.approx(3.5)
    assert (low, high) == pytest.approx((3.5 - half, 3.5 + half))
    assert np.isnan(mean_ci(np.array([1.0]))[1])


def test_paired_differences_and_summary():
    runs = run_metrics(synthetic_table())
    assert len(runs) == 6
    paired = paired_differences(runs, "status_quo")
    end = paired[(paired["metric"] == "coca_ha_end")].iloc[0]
    assert end["scenario"] == "integrated"
    assert end["pairs"] == 3
    # integrated ends 0, 10 and 20 ha lower in replicates 0, 1, 2
    assert end["difference_mean"] == pytest.approx(-10.0)
    assert end["difference_ci95_low"] == pytest.approx(
        -10 - stats.t.ppf(0.975, 2) * 10 / np.sqrt(3)
    )
    summary = summary_table(runs, "status_quo").set_index("scenario")
    assert summary.loc["integrated", "eradicated_ha_total"] == pytest.approx(12.0)
    assert summary.loc["integrated", "replanted_share"] == pytest.approx(0.25)
    assert summary.loc["integrated", "exports_t"] == pytest.approx(4.5)
    assert summary.loc["integrated", "development_million_soles"] == pytest.approx(3.0)
    # 10 ha avoided on average for 2 million soles more than the baseline
    assert summary.loc["integrated", "ha_avoided_per_million_soles"] == pytest.approx(5.0)
    assert np.isnan(summary.loc["status_quo", "ha_avoided_per_million_soles"])
    assert np.isnan(summary.loc["status_quo", "replanted_share"])


def test_compare_a_run_folder_writes_csvs_and_prints(tmp_path):
    scenarios = [
        (load_scenario(name, {"months": 12, "farmer.n_households": 300}), "", name)
        for name in ("status_quo", "eradication_first")
    ]
    run_scenarios(scenarios, tmp_path, replicates=3)
    result = CliRunner().invoke(app, ["compare", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "eradication_first" in result.stdout
    assert "paired differences" in result.stdout
    # the output says what its interval is (vraem.stats)
    assert "t-interval of the mean paired difference over 3 replicates" in result.stdout
    paired = pd.read_csv(tmp_path / "compare" / "paired_differences.csv")
    assert paired["interval"].str.contains("run-to-run noise only").all()
    for name in ("coca_ha_by_month", "paired_differences", "summary"):
        assert (tmp_path / "compare" / f"{name}.csv").exists()
    by_month = pd.read_csv(tmp_path / "compare" / "coca_ha_by_month.csv")
    assert len(by_month) == 2 * 13
    assert (by_month["coca_ha_p5"] <= by_month["coca_ha_median"]).all()
    assert (by_month["coca_ha_median"] <= by_month["coca_ha_p95"]).all()
    comparison = compare_folder(tmp_path, baseline="eradication_first", out=tmp_path / "c2")
    assert set(comparison.paired["scenario"]) == {"status_quo"}


def test_compare_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: ")
    assert "not a results folder" in result.stderr
    sc = load_scenario("status_quo", {"months": 6, "farmer.n_households": 300})
    run_scenarios([(sc, "", "status_quo")], tmp_path, replicates=1)
    result = CliRunner().invoke(app, ["compare", str(tmp_path), "--baseline", "nope"])
    assert result.exit_code == 2
    assert "--baseline nope: not a scenario" in result.stderr
