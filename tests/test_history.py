"""The state's record as policy inputs (observed_history) and the mechanisms' named switches."""

import pytest

from vraem.observed import state_actions
from vraem.params import MechanismParams, ModelParams
from vraem.policy import Policy, PolicyPhase, levers_at
from vraem.scenario import ScenarioError, load_scenario

HISTORY = Policy(phases=[PolicyPhase(observed_history=True)])


def test_history_levers_follow_the_record_by_calendar_year():
    table = state_actions()
    for year in (2013, 2016, 2020, 2021, 2024):
        levers = levers_at(HISTORY, 12 * (year - 2013) + 5, 1.0, 0.5, start_year=2013, retreat=True)
        row = table.loc[year]
        assert levers.development_soles == pytest.approx(row["development_soles"] / 12.0)
        assert levers.lab_raids == pytest.approx(row["lab_raids"] * row["retreat_factor"])
        assert levers.courier_arrests == pytest.approx(row["courier_arrests"] * row["retreat_factor"])


def test_the_pandemic_retreat_is_a_switch():
    on = levers_at(HISTORY, 12 * 7 + 3, 1.0, 0.5, start_year=2013, retreat=True)
    off = levers_at(HISTORY, 12 * 7 + 3, 1.0, 0.5, start_year=2013, retreat=False)
    before = levers_at(HISTORY, 12 * 6 + 3, 1.0, 0.5, start_year=2013, retreat=True)
    assert on.lab_raids < before.lab_raids
    assert off.lab_raids == pytest.approx(before.lab_raids)
    assert on.development_soles == off.development_soles  # money is not a field operation


def test_after_the_record_the_last_year_holds_and_amounts_scale():
    last = state_actions().index.max()
    late = levers_at(HISTORY, 12 * (last + 5 - 2013), 0.1, 0.5, start_year=2013)
    at_last = levers_at(HISTORY, 12 * (last - 2013), 0.1, 0.5, start_year=2013)
    assert late == at_last
    assert late.lab_raids == pytest.approx(0.1 * state_actions().loc[last, "lab_raids"])


def test_a_phase_cannot_give_amounts_and_take_them_from_history():
    with pytest.raises(ValueError, match="observed_history takes lab_raids_per_month"):
        PolicyPhase(observed_history=True, lab_raids_per_month=5)


def test_every_source_row_is_filled():
    table = state_actions()
    assert table["source"].notna().all()
    assert (table["retreat_factor"].between(0, 1)).all()
    assert table.index.is_monotonic_increasing and table.index.is_unique


def test_mechanisms_by_name_as_list_or_mapping():
    assert ModelParams().mechanisms.on() == tuple(MechanismParams.model_fields)
    none = load_scenario("status_quo", {"mechanisms": []}).parameters.mechanisms
    assert none.on() == ()
    two = load_scenario("status_quo", {"mechanisms": ["open_valley", "state_retreat"]}).parameters.mechanisms
    assert two.on() == ("open_valley", "state_retreat")
    one_off = load_scenario("status_quo", {"mechanisms.open_valley": False}).parameters.mechanisms
    assert "open_valley" not in one_off.on() and len(one_off.on()) == len(MechanismParams.model_fields) - 1


def test_an_unknown_mechanism_is_one_line_naming_the_allowed():
    with pytest.raises(ScenarioError) as err:
        load_scenario("status_quo", {"mechanisms": ["open_vally"]})
    message = str(err.value)
    assert "\n" not in message
    assert "open_vally" in message and "open_valley" in message


def test_the_record_written_out_by_year_gives_the_same_levers():
    sq = load_scenario("status_quo")
    written = sq.policy.materialized(sq.start_year)
    assert len(written.phases) > 2 and not any(ph.observed_history for ph in written.phases)
    for month in range(0, 300):
        assert levers_at(written, month, 0.1, 0.5, 2013) == levers_at(sq.policy, month, 0.1, 0.5, 2013), month
