"""One statistics module for comparisons: the t-interval of the mean and the 5-95% spread."""

import numpy as np
import pytest
from scipy import stats as sps

from vraem.stats import NOISE_ONLY, mean_ci, mean_interval, share_below, spread_interval


def test_mean_interval_is_students_t_of_the_mean():
    d = np.array([1.0, 2.0, 4.0, 7.0, np.nan])
    i = mean_interval(d)
    clean = d[:4]
    half = sps.t.ppf(0.975, 3) * clean.std(ddof=1) / 2.0
    assert (i.centre, i.low, i.high, i.n) == pytest.approx((3.5, 3.5 - half, 3.5 + half, 4))
    assert i.describe == f"95% t-interval of the mean paired difference over 4 replicates ({NOISE_ONLY})"
    assert mean_ci(d) == pytest.approx((i.centre, i.low, i.high))
    narrower = mean_interval(np.tile(clean, 4))  # more replicates, the same spread: a narrower interval
    assert narrower.high - narrower.low < i.high - i.low


def test_spread_interval_is_the_median_and_quantiles_of_the_differences():
    d = np.arange(101, dtype=float)
    i = spread_interval(d)
    assert (i.centre, i.low, i.high, i.n) == (50.0, 5.0, 95.0, 101)
    assert i.describe.startswith("median and 5%-95% range of 101 paired differences")
    wider = spread_interval(np.tile(d, 4))  # more runs do not shrink the spread of single runs
    assert (wider.low, wider.high) == pytest.approx((i.low, i.high), abs=0.5)


def test_degenerate_inputs():
    one = mean_interval([2.0])
    assert one.centre == 2.0 and np.isnan(one.low) and "over 1 replicate (" in one.describe
    none = mean_interval([np.nan])
    assert none.n == 0 and np.isnan(none.centre)
    assert np.isnan(spread_interval([]).centre)
    assert share_below([-1.0, 0.0, 2.0, -3.0]) == 0.5
    assert np.isnan(share_below([]))


def test_source_is_said():
    i = mean_interval([1.0, 2.0, 3.0], source="parameter draws from the calibration")
    assert i.describe.endswith("(parameter draws from the calibration)")


def test_the_report_says_what_its_range_is(tmp_path):
    from vraem.report.findings import headlines, paired_differences
    from vraem.report.view import ReportView
    from vraem.results import load_results
    from vraem.runner import run_scenarios
    from vraem.scenario import load_scenario

    scenarios = [
        (load_scenario(name, {"months": 12, "farmer.n_households": 300}), "", name)
        for name in ("status_quo", "eradication_first")
    ]
    run_scenarios(scenarios, tmp_path, replicates=3)
    view = ReportView(load_results(tmp_path))
    diffs = paired_differences(view)
    assert diffs["interval"].iloc[0] == f"median and 5%-95% range of 3 paired differences ({NOISE_ONLY})"
    assert any("These are the median and 5%-95% range of 3 paired differences" in h for h in headlines(view))
