"""Behaviour tests of the mechanisms of issue 11: each failed on the code before its fix."""

import pytest

from vraem.runner import replicate_seed
from vraem.scenario import load_scenario
from vraem.simulation import VraemModel

SMALL = {"farmer.n_households": 1500}


def model_of(name, months, seed=0, **overrides):
    sc = load_scenario(name, {**SMALL, "months": months, **overrides})
    return VraemModel(sc.parameters, sc.policy, seed=replicate_seed(sc.seed, seed), months=months)


def test_seizure_share_counts_each_seizure_once():
    """The share the market passes down is seized in transit over what was shipped."""
    m = model_of("interdiction_heavy", 24)
    checked = 0
    for _ in range(24):
        m.step()
        f = dict(m.month_flows)
        exported = f["exports_air_t"] + f["exports_land_t"]
        m.step()
        if f["shipped_t"] > 0 and f["shipped_t"] > exported:
            expected = (f["shipped_t"] - exported) / f["shipped_t"]
            assert m.prices.seizure_share == pytest.approx(expected, rel=1e-9)
            checked += 1
    assert checked > 0
