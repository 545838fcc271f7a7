"""Issue 16, items 1-4, in the model: signing is a choice, defection follows income, mayors hear
growers by their coca dependence, trust grows with what the programme delivers, money leaks, and
the programme's costs are uncertain."""

import numpy as np
import pytest

from vraem import load_scenario
from vraem.agents import mayor
from vraem.agents.farmer import HouseholdType, ProgrammeStage
from vraem.params import plausible_ranges
from vraem.policy import Policy, PolicyPhase
from vraem.simulation import VraemModel

HOUSEHOLDS = 1_000
EVERY_MAYOR_ACCEPTS = {"mayor.trust_wanting_projects": 0.0}
"""Every household presses for projects: the programme reaches every district."""


def model_of(name: str, months: int, seed: int = 7, **overrides) -> VraemModel:
    sc = load_scenario(name, {"farmer.n_households": HOUSEHOLDS, **overrides})
    return VraemModel(params=sc.parameters, policy=sc.policy, seed=seed, months=months)


def test_households_whose_coca_pays_more_than_the_alternative_do_not_sign():
    """Among households the programme has brought to the quick crops (trust and stage let them
    sign), those that signed held far less coca when they signed than those that did not hold
    now: signing follows the income comparison, not the stage alone (with every agreement
    paying, signers are a random draw of the gated households)."""
    m = model_of("development_first", 72, **EVERY_MAYOR_ACCEPTS)
    m.run()
    h = m.households
    gated = (h.stage >= ProgrammeStage.QUICK_CROPS) & (h.kind != HouseholdType.NEVER)
    signed = gated & h.agreement
    refused = gated & ~h.agreement
    assert signed.sum() >= 5 and refused.sum() >= 20, (signed.sum(), refused.sum())
    assert h.coca_ha_at_signing[signed].mean() < 0.5 * h.coca_ha()[refused].mean()


def _defections_after_a_shock(shock: bool, **overrides) -> int:
    """Agreements broken in the year after month 12, with every household made a signer then; with
    ``shock``, a flood wipes out legal crops and savings (a poverty shock), on common random numbers."""
    m = model_of("integrated", 24, seed=11, **overrides)
    for _ in range(12):
        m.step()
    h = m.households
    h.agreement[:] = True
    h.coca_ha_at_signing[:] = h.coca_ha()
    if shock:
        for crop in (h.food_mature, h.cacao_mature, h.coffee_mature, h.savings):
            crop[:] = 0.0
    broken = 0
    for _ in range(12):
        m.step()
        broken += m.month_flows["agreements_broken"]
    return int(broken)


def test_a_poverty_shock_raises_defection():
    calm, shocked = _defections_after_a_shock(False), _defections_after_a_shock(True)
    assert shocked > 1.3 * calm + 5, (calm, shocked)


def test_without_the_income_and_poverty_terms_the_shock_changes_no_defection_risk():
    off = {"programme.defection_per_income_gap": 0.0, "programme.defection_poverty_multiplier": 1.0}
    calm, shocked = _defections_after_a_shock(False, **off), _defections_after_a_shock(True, **off)
    assert abs(shocked - calm) <= 0.2 * calm + 5, (calm, shocked)


def test_households_without_coca_or_trust_do_not_count_as_supporters():
    """A valley where nobody grows coca and nobody trusts the state: no side pushes, so mayors
    accept about half the time (the logistic at a gap of 0), not always, as a count of non-growers
    as supporters would have it."""
    m = model_of("status_quo", 1)
    h = m.households
    h.trust[:] = 0.0
    h.coca_income[:] = 0.0
    accepted = []
    for _ in range(20):
        mayor.decide(m)
        accepted.append(m.district_accepting.mean())
    assert 0.3 < np.mean(accepted) < 0.7


def test_in_the_status_quo_most_mayors_refuse():
    """Issue 16: counting every non-grower as a supporter, 14-15 of 15 mayors accepted. Weighed by
    their coca dependence, the status quo's households (two thirds growers living almost wholly
    from coca, under a third trusting the state) have their mayors refuse nearly every month
    (about 0.2-0.6 of 15 a month at 1,000 households; 6-9.5 with the old count)."""
    m = model_of("status_quo", 12)
    h = m.households  # the opening valley
    growers = h.coca_income > 0
    assert growers.mean() > 0.5 and mayor.coca_dependence(h.coca_income, h.legal_income)[growers].mean() > 0.8
    assert (h.trust >= m.params.mayor.trust_wanting_projects).mean() < 0.4
    m.run()
    accepting = m.results()["mayors_accepting"].iloc[1:]
    assert accepting.mean() < 3, accepting.tolist()
    # Month 0's record weighs the opening incomes too (decided before any income existed, it read
    # 13-15 of 15, every district's households counted as wanting nothing against projects).
    assert m.results()["mayors_accepting"].iloc[0] < 3


def test_trusting_growers_press_for_projects_only_by_the_income_that_is_not_coca():
    """A valley of coca growers, half of whom trust the state, with no policy (trust stays put):
    the trusting half press for projects only by the small share of their income that is not coca,
    the others against by their dependence, so mayors refuse (about 0.1-0.3 of 15 a month; with a
    head count, half for and half against, about half of them accepted: 6-8 of 15)."""
    m = model_of("status_quo", 12, **{"farmer.share_never": 0.0})
    m.policy = Policy(phases=[])
    h = m.households
    h.trust[:] = np.where(np.arange(h.n) % 2 == 0, 0.6, 0.1)
    m.run()
    h = m.households
    assert 0.4 < (h.trust >= m.params.mayor.trust_wanting_projects).mean() < 0.6
    assert mayor.coca_dependence(h.coca_income, h.legal_income).mean() > 0.8
    accepting = m.results()["mayors_accepting"].iloc[1:]
    assert accepting.mean() < 2, accepting.tolist()


def _trust_rise(budget_soles_per_year: float, months: int = 24) -> float:
    """Mean trust gained in ``months`` of a programme with this budget and nothing else, every
    mayor accepting."""
    sc = load_scenario("status_quo", {"farmer.n_households": HOUSEHOLDS, **EVERY_MAYOR_ACCEPTS})
    policy = Policy(phases=[PolicyPhase(development_budget_soles_per_year=budget_soles_per_year)])
    m = VraemModel(params=sc.parameters, policy=policy, seed=7, months=months)
    m.run()
    trust = m.results()["mean_trust"]
    return float(trust.iloc[-1] - trust.iloc[0])


def test_trust_grows_with_what_the_programme_delivers():
    """Issue 16: the status quo's 22 million soles a year drove mean trust from 0.30 to 1, since
    every district served at all gained the same trust. Trust now grows with how fully the
    programme delivers in a district, so an eighteenth of the money buys a small part of the trust
    (rise in two years at 1,000 households: about 0.015 against 0.18; with the same gain wherever
    something was delivered, 0.14 against 0.29)."""
    small, large = _trust_rise(22e6), _trust_rise(400e6)
    assert large > 0.05
    assert small < 0.25 * large, (small, large)


def test_a_share_of_the_budget_leaks():
    m = model_of("development_first", 6, **EVERY_MAYOR_ACCEPTS)
    m.run()
    df = m.results()
    budget = 100e6 / 12 * m.params.scale
    leaked = df["development_leaked_soles"].iloc[1:]
    taken = leaked > 0
    assert taken.any()
    np.testing.assert_allclose(leaked[taken], m.params.programme.leakage_share * budget)


def test_stage_costs_and_durations_are_in_the_sensitivity_analysis():
    ranges = plausible_ranges()
    for key in (
        "programme.stage_cost_multiplier",
        "programme.stage_duration_multiplier",
        "programme.leakage_share",
    ):
        low, high = ranges[key]
        assert low < high


@pytest.mark.parametrize("multiplier", [0.5, 2.0])
def test_stage_costs_change_what_a_budget_buys(multiplier):
    base, changed = (
        model_of("development_first", 12, **EVERY_MAYOR_ACCEPTS),
        model_of(
            "development_first", 12, **EVERY_MAYOR_ACCEPTS, **{"programme.stage_cost_multiplier": multiplier}
        ),
    )
    base.run()
    changed.run()
    stages_paid = lambda m: int(m.households.stage.sum())  # noqa: E731
    assert (stages_paid(changed) < stages_paid(base)) == (multiplier > 1)
