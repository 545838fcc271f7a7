"""The classroom app's logic without a browser: settings -> scenario -> model -> map and charts."""

from __future__ import annotations

import socket
from dataclasses import replace

import numpy as np
import pytest

from vraem.scenario import load_scenario
from vraem.ui.classroom import (
    ClassroomModel,
    UISettings,
    build_scenario,
    describe_timeline,
    lever_defaults,
    moved,
    parse_extra,
    scenario_choices,
)
from vraem.ui.render import LAYERS, PIXELS_PER_CELL, charts_svg, map_png, map_rgb, nice_ticks

SMALL = 300


def small(**kw) -> UISettings:
    return UISettings(n_households=SMALL, **kw)


def test_scenario_choices_are_the_shipped_files_status_quo_first():
    choices = scenario_choices()
    assert choices[0] == "status_quo"
    assert {"eradication_first", "development_first", "integrated"} <= set(choices)


@pytest.mark.parametrize("name", scenario_choices())
def test_untouched_sliders_run_the_file_as_written(name):
    built, defaults = build_scenario(small(scenario=name))
    assert built.error is None
    as_file = load_scenario(name, {"farmer.n_households": SMALL})
    assert built.scenario == as_file
    assert moved(small(scenario=name), defaults) == {}


def test_slider_set_back_to_the_scenario_value_counts_as_untouched():
    _, defaults = build_scenario(small(scenario="development_first"))
    ha = defaults.eradication_ha_per_month
    same = small(scenario="development_first", eradication_ha_per_month=ha)
    assert moved(same, defaults) == {}


def test_lever_defaults_take_the_value_in_force_most_months():
    d = lever_defaults(load_scenario("development_first"))
    assert d.eradication_ha_per_month == 800  # months 48-240, not the 0 of months 0-48
    d = lever_defaults(load_scenario("eradication_first"))
    assert d.development_million_soles_per_year == pytest.approx(100)
    assert d.development_start_month == 24
    assert lever_defaults(load_scenario("replanting_070")).p_replant == pytest.approx(0.7)


def test_moved_eradication_holds_in_every_month():
    built, _ = build_scenario(small(scenario="development_first", eradication_ha_per_month=300))
    policy = built.scenario.policy
    for month in (0, 30, 47, 48, 200):
        assert policy.phase_at(month).eradication_ha_per_month == 300
    # the rest of the timeline is the file's: targeting and sparing change at month 48
    assert policy.phase_at(10).spare_agreement_households is False
    assert policy.phase_at(60).spare_agreement_households is True


def test_development_budget_starts_at_its_month_and_not_before():
    s = small(development_million_soles_per_year=150, development_start_month=36)
    policy = build_scenario(s)[0].scenario.policy
    assert policy.phase_at(35).development_budget_soles_per_year == 0
    assert policy.phase_at(36).development_budget_soles_per_year == pytest.approx(150e6)
    assert policy.phase_at(239).development_budget_soles_per_year == pytest.approx(150e6)
    assert policy.phase_at(5).lab_raids_per_month == 25  # other levers untouched


def test_interdiction_effort_multiplies_the_scenarios_raids():
    base = build_scenario(small(scenario="status_quo"))[0].scenario.policy
    twice = build_scenario(small(scenario="status_quo", interdiction_factor=2.0))[0].scenario.policy
    for month in (0, 100):
        a, b = base.phase_at(month), twice.phase_at(month)
        assert b.lab_raids_per_month == 2 * a.lab_raids_per_month
        assert b.courier_arrests_per_month == 2 * a.courier_arrests_per_month
        assert b.development_budget_soles_per_year == a.development_budget_soles_per_year


def test_replanting_slider_overrides_phase_values_too():
    built, _ = build_scenario(small(scenario="replanting_070", p_replant=0.2))
    sc = built.scenario
    assert sc.parameters.farmer.p_replant == pytest.approx(0.2)
    assert all(ph.p_replant == pytest.approx(0.2) for ph in sc.policy.phases)


def test_uncertainty_slider_sets_the_parameter_only():
    built, _ = build_scenario(small(export_demand_growth_per_year=-0.1))
    assert built.scenario.parameters.market.export_demand_growth_per_year == pytest.approx(-0.1)
    assert built.scenario.policy == load_scenario("status_quo").policy


def test_more_settings_use_the_set_syntax():
    assert parse_extra("farmer.share_never=0.5; market.price_flexibility=1\nclan.n_clans=10") == {
        "farmer.share_never": 0.5,
        "market.price_flexibility": 1,
        "clan.n_clans": 10,
    }
    built, _ = build_scenario(small(extra="farmer.share_never=0.5"))
    assert built.scenario.parameters.farmer.share_never == 0.5


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("farmer.p_replant=2", "p_replant must be <= 1"),
        ("farmer.bogus=1", "unknown key 'bogus'"),
        ("oops", "expected dotted.key=VALUE"),
        ("farmer.n_households=10", None),  # the households slider wins over the box
    ],
)
def test_bad_settings_give_one_line_errors(extra, fragment):
    built, defaults = build_scenario(small(extra=extra))
    assert defaults is not None  # the sliders stay usable
    if fragment is None:
        assert built.error is None
        return
    assert built.scenario is None
    assert fragment in built.error
    assert "\n" not in built.error


def test_bad_combination_is_caught_by_the_schema():
    # The file's phases plus a budget that starts after a phase ends: still one valid timeline.
    built, _ = build_scenario(
        small(scenario="eradication_first", development_start_month=30, interdiction_factor=0)
    )
    assert built.error is None
    # A value outside the schema (only reachable through the box) is refused, not run.
    built, _ = build_scenario(small(extra="policy.phases[0].eradication_ha_per_month=-5"))
    assert "must be >= 0" in built.error


def test_classroom_model_never_fails_to_build_and_says_why():
    m = ClassroomModel(small(scenario="integrated", extra="farmer.p_replant=2"))
    assert "p_replant" in m.classroom.error
    assert m.classroom.scenario.name == "integrated"  # the file as written
    m.step()
    assert m.month == 1
    m = ClassroomModel(small(scenario="no_such_scenario"))
    assert "unknown scenario" in m.classroom.error
    assert m.classroom.scenario.name == "status_quo"


def test_classroom_model_takes_mesa_parameters_and_a_settings_reader():
    reader = lambda: UISettings(scenario="eradication_first")  # noqa: E731
    m = ClassroomModel(reader, n_households=SMALL, replicate=3)
    assert m.params.farmer.n_households == SMALL
    assert m.classroom.settings.replicate == 3
    assert m.classroom.error is None
    other = ClassroomModel(small(scenario="eradication_first", replicate=4))
    assert other.seed != m.seed


def test_describe_timeline_lists_phases():
    lines = describe_timeline(load_scenario("development_first"))
    assert lines[0].startswith("month 0 to month 48")
    assert "eradicate 800 ha/month" in lines[1]


@pytest.fixture(scope="module")
def played():
    m = ClassroomModel(small(scenario="eradication_first"))
    first = map_rgb(m).copy()
    for _ in range(24):
        m.step()
    return m, first


def test_map_is_an_image_of_the_grid_and_changes_as_the_model_runs(played):
    m, first = played
    L = m.landscape
    img = map_rgb(m)
    assert img.shape == (L.height * PIXELS_PER_CELL, L.width * PIXELS_PER_CELL, 3)
    assert img.dtype == np.uint8
    assert (img != first).any()
    assert map_png(m)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_switch_changes_the_map(played, layer):
    m, _ = played
    everything = map_rgb(m, frozenset(LAYERS))
    without = map_rgb(m, frozenset(LAYERS) - {layer})
    assert (everything != without).any()


def test_charts_draw_every_series_from_the_datacollector(played):
    m, _ = played
    svgs = charts_svg(m)
    assert len(svgs) == 6
    assert all(s.startswith("<svg") and s.endswith("</svg>") for s in svgs)
    assert "Coca in the valley" in svgs[0]
    assert svgs[1].count("<polyline") == 2  # eradicated and replanted
    n_points = len(m.datacollector.model_vars["coca_ha"])
    assert svgs[0].split('points="')[1].split('"')[0].count(",") == n_points


@pytest.mark.parametrize(("hi", "lo", "first", "last"), [(1450, 0, 0, 1500), (0.93, 0, 0, 1), (0, 0, 0, 1)])
def test_nice_ticks_cover_the_range(hi, lo, first, last):
    ticks = nice_ticks(hi, lo)
    assert ticks[0] == pytest.approx(first)
    assert ticks[-1] == pytest.approx(last)
    assert ticks[-1] >= hi


def test_guide_and_pending_changes():
    from vraem.ui.app import guide_html, pending_changes

    m = ClassroomModel(small(scenario="integrated", eradication_ha_per_month=100))
    text = guide_html(m)
    assert "integrated" in text
    assert "eradication ha per month = 100" in text
    assert "month 0 to end" in text
    # households and replicate come from Mesa's own card: not a pending panel change
    assert not pending_changes(m.classroom.settings, replace(m.classroom.settings, replicate=7))
    assert pending_changes(m.classroom.settings, UISettings(scenario="status_quo"))


def test_required_web_assets_are_read_from_solaras_template():
    from vraem.ui.assets import required_packages

    names = dict(required_packages())
    assert "requirejs" in names
    assert any("solara-vuetify" in n for n in names)


def test_server_binds_loopback_and_refuses_a_taken_port():
    from vraem.ui.server import PortInUseError, check_port, server_command

    cmd = server_command(8765)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert "--no-check-version" in cmd
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(PortInUseError, match="already in use"):
            check_port(s.getsockname()[1])
