"""The back-cast of issue 16: the state's record of 2013-2015 leaves VRAEM coca in its observed band.

The seed interview (Masías, DEVIDA, 2014): the government invested about 900 million soles in the
VRAEM "and there is not a single hectare less coca ... especially wealthier communities are
resistant". The status quo carries that record year by year (``data/state_actions.csv``: 300
million soles a year over 2013-2015). UNODC and DEVIDA counted 19,167, 18,845 and 18,333 ha in
2013-2015 (``data/vraem_coca_observed.csv``): the model must stay in that band, not below it.

A small valley (scaling rule, docs/odd.md section 2.3) over three years and three seeds; coca is
scaled to the full valley and compared at the ends of 2013 and 2014 (months 12 and 24) with the
band, and at the end of 2015 (month 36, when the 900 million are spent) with its floor. With the
rules before issue 16 the programme pulled coca to about 15,900 ha by month 36 (1,500 households,
six seeds), far below the band.
"""

import numpy as np
import pytest

from vraem import load_scenario, run_once
from vraem.observed import load_observed
from vraem.params import REFERENCE_HOUSEHOLDS

HOUSEHOLDS = 1_500
SEEDS = 3
MONTHS = 36
TOLERANCE_HA = 550.0
"""Allowed distance outside the band, full-valley ha, from measured noise: three standard errors of
a three-seed mean at 1,500 households (replicate sd measured at 70-220 ha over months 12-36, six
seeds: 3 x 220 / sqrt(3) = 380) plus the measured difference between 1,500 and 20,000 households
(under 160 ha at months 12-36)."""


@pytest.fixture(scope="module")
def backcast():
    sc = load_scenario("status_quo", {"farmer.n_households": HOUSEHOLDS})
    return [run_once(sc, r, months=MONTHS).table for r in range(SEEDS)]


@pytest.fixture(scope="module")
def without_the_money():
    """The same valleys and seeds with every sol of the programme lost before it reaches anyone."""
    sc = load_scenario("status_quo", {"farmer.n_households": HOUSEHOLDS, "programme.leakage_share": 1.0})
    return [run_once(sc, r, months=MONTHS).table for r in range(SEEDS)]


def observed_band() -> tuple[float, float]:
    obs = load_observed().set_index("year")["coca_ha"]
    band = obs.loc[2013:2015]
    assert band.tolist() == [19_167, 18_845, 18_333]
    return float(band.min()), float(band.max())


def coca_ha(tables, month: int) -> float:
    """Mean coca over the seeds at ``month``, scaled to the full valley."""
    return float(np.mean([t.loc[month, "coca_ha"] for t in tables]) * REFERENCE_HOUSEHOLDS / HOUSEHOLDS)


def test_the_900_million_soles_leave_coca_in_the_observed_2013_2015_band(backcast):
    low, high = observed_band()
    spent = sum(t["development_spent_soles"].sum() + t["development_leaked_soles"].sum() for t in backcast)
    assert spent > 0  # the money was offered and taken in part: not a test of an idle programme
    for month in (12, 24):
        assert low - TOLERANCE_HA <= coca_ha(backcast, month) <= high + TOLERANCE_HA, month
    assert coca_ha(backcast, 36) >= low - TOLERANCE_HA


def test_not_a_single_hectare_less_coca_for_the_money(backcast, without_the_money):
    """Paired on seeds, the programme's money changes coca by less than the band's own spread."""
    low, high = observed_band()
    for month in (12, 24, 36):
        assert coca_ha(backcast, month) >= coca_ha(without_the_money, month) - (high - low), month
