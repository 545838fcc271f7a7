"""The calibrated status quo follows the observed VRAEM series 2013-2019 within 10% (full scale)."""

import numpy as np

from vraem.calibration import TOLERANCE, fit, score
from vraem.observed import load_observed, month_of_year
from vraem.scenario import load_scenario


def test_status_quo_within_ten_percent_2013_2019():
    months = month_of_year(2019, 2013)
    sim = fit({}, replicates=2, months=months)
    worst, rel = score(sim)
    assert worst < TOLERANCE, rel.round(3).to_dict()


def test_observed_series_is_shipped_with_sources():
    obs = load_observed()
    assert obs["year"].min() == 2004 and obs["year"].max() == 2024
    assert obs["source"].notna().all()
    assert obs.loc[obs.year == 2013, "coca_ha"].item() == 19167


def test_status_quo_starts_at_the_2013_survey():
    sc = load_scenario("status_quo", {"farmer.n_households": 2000, "months": 1})
    from vraem.runner import run_once

    t = run_once(sc, 0).table
    assert np.isclose(t["coca_ha"].iloc[0] / sc.parameters.scale, 19167)
