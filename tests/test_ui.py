"""The classroom app's logic without a browser: settings -> scenario -> model -> map and charts."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from vraem.runner import run_once
from vraem.scenario import SCENARIO_DIR, ScenarioError, load_scenario
from vraem.ui.classroom import (
    ClassroomModel,
    UISettings,
    build_scenario,
    check_key,
    describe_timeline,
    find_choices,
    lever_defaults,
    lever_notes,
    moved,
    parse_extra,
    readout,
    scenario_choices,
    short_error,
    spread_at,
)
from vraem.ui.render import (
    LAYERS,
    PIXELS_PER_CELL,
    Line,
    charts_svg,
    coca_chart_svg,
    map_png,
    map_rgb,
    nice_ticks,
)

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


def test_moved_eradication_keeps_the_scenarios_phase_sequence():
    # development_first: four years of development, then eradication (issue 19: moving the
    # eradication slider must not bring eradication forward to month 0).
    built, _ = build_scenario(small(scenario="development_first", eradication_ha_per_month=300))
    policy = built.scenario.policy
    for month in (0, 30, 47):
        assert policy.phase_at(month).eradication_ha_per_month == 0
    for month in (48, 200):
        assert policy.phase_at(month).eradication_ha_per_month == 300
    assert policy.phase_at(10).spare_agreement_households is False
    assert policy.phase_at(60).spare_agreement_households is True
    note = built.notes["eradication_ha_per_month"]
    assert "phase 2 of 2" in note and "month 48 on: 300 ha/month" in note
    assert "phase 1 (months 0 to 48) keeps 0 ha/month" in note
    assert "\n" not in note


def test_moved_eradication_where_the_scenario_never_eradicates_holds_in_every_month():
    built, _ = build_scenario(small(scenario="status_quo", eradication_ha_per_month=400))
    policy = built.scenario.policy
    assert all(policy.phase_at(m).eradication_ha_per_month == 400 for m in (0, 11, 12, 239))
    # kept: the state's record (300 million soles a year in 2013-2015, written out year by year)
    assert policy.phase_at(5).development_budget_soles_per_year == pytest.approx(300e6)
    assert built.notes["eradication_ha_per_month"].startswith("Eradication changes all ")


def test_development_budget_replaces_the_main_budget_and_keeps_the_earlier_one():
    # status_quo: the state's record, S/300 M a year in 2013-2015, then S/22 M from month 36.
    s = small(development_million_soles_per_year=150, development_start_month=36)
    built, _ = build_scenario(s)
    policy = built.scenario.policy
    assert policy.phase_at(5).development_budget_soles_per_year == pytest.approx(300e6)
    assert policy.phase_at(35).development_budget_soles_per_year == pytest.approx(300e6)
    assert policy.phase_at(36).development_budget_soles_per_year == pytest.approx(150e6)
    assert policy.phase_at(239).development_budget_soles_per_year == pytest.approx(150e6)
    assert policy.phase_at(5).lab_raids_per_month == 25  # other levers untouched
    # development_first funds from month 0: a later start leaves the months before it without.
    built, _ = build_scenario(small(scenario="development_first", development_start_month=24))
    policy = built.scenario.policy
    assert policy.phase_at(23).development_budget_soles_per_year == 0
    assert policy.phase_at(24).development_budget_soles_per_year == pytest.approx(100e6)
    assert policy.phase_at(48).eradication_ha_per_month == 800  # the sequence stays


def test_interdiction_effort_multiplies_the_scenarios_raids():
    base_sc = build_scenario(small(scenario="status_quo"))[0].scenario
    base = base_sc.policy.materialized(base_sc.start_year)  # the state's record, written out by year
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
        ("farmer.p_replant=2", "More settings: farmer.p_replant must be <= 1"),
        ("farmer.bogus=1", "unknown key 'bogus'"),
        ("farmer.p_replnt=0.3", "did you mean farmer.p_replant?"),
        ("p_replant=0.3", "did you mean farmer.p_replant?"),
        ("farmers.p_replant=0.3", "did you mean farmer.p_replant?"),
        ("oops", "More settings: oops: expected dotted.key=VALUE"),
        ("farmer.n_households=10", None),  # the households slider wins over the box
    ],
)
def test_bad_settings_give_one_short_line(extra, fragment):
    built, defaults = build_scenario(small(extra=extra))
    assert defaults is not None  # the sliders stay usable
    if fragment is None:
        assert built.error is None
        return
    assert built.scenario is None
    assert fragment in built.error
    assert "\n" not in built.error
    assert "allowed" not in built.error  # no list of 41 keys (issue 19)
    assert str(SCENARIO_DIR) not in built.error and "site-packages" not in built.error
    assert len(built.error) < 120


def test_short_error_names_the_scenario_not_its_path():
    path = SCENARIO_DIR / "status_quo.yaml"
    msg = f"{path}: parameters.farmer.bogus: unknown key (allowed: a, b, c)"
    assert short_error(msg, path, "status_quo") == "status_quo: parameters.farmer.bogus: unknown key"
    assert short_error(f"{path}: parameters.farmer.p_replant must be <= 1", path, "x", "More settings") == (
        "More settings: farmer.p_replant must be <= 1"
    )


def test_check_key_passes_real_keys():
    for key in ("farmer.p_replant", "months", "policy.phases[0].eradication_ha_per_month"):
        check_key(key)
    with pytest.raises(ScenarioError, match="did you mean months"):
        check_key("mounths")


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
    assert m.classroom.as_written
    m = ClassroomModel(small(scenario="no_such_scenario"))
    assert "unknown scenario" in m.classroom.error
    assert m.classroom.scenario.name == "status_quo"
    assert not m.classroom.as_written


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
    assert "this valley" in svgs[1]  # the eradication chart says its hectares are the classroom's
    assert svgs[1].count("<polyline") == 2  # eradicated and replanted
    n_points = len(m.datacollector.model_vars["coca_ha"])
    assert svgs[0].split('points="')[1].split('"')[0].count(",") == n_points


def test_coca_chart_draws_earlier_runs_and_the_band_of_valleys():
    now = np.linspace(1000, 800, 25)
    earlier = [Line(np.linspace(1000, 1200, 61), "#1565c0", "#1")]
    valleys = [now * f for f in (0.9, 1.0, 1.1)]
    svg = coca_chart_svg(now, 240, earlier, valleys)
    assert svg.count('class="vraem-earlier"') == 1 and ">#1</text>" in svg
    assert svg.count('class="vraem-valley"') == 3 and 'class="vraem-band"' in svg
    assert svg.count('class="vraem-current"') == 1
    assert ">year 5</text>" in svg and ">year 10</text>" in svg
    short = coca_chart_svg(now, 36)
    assert "year 5" not in short  # a 36-month lesson has no year-5 mark


def test_readout_reads_years_5_and_10_and_the_change_since_the_start():
    series = np.arange(200.0, 0.0, -1.0)  # month k: 200 - k
    r = readout(series[:61])
    assert (r.month, r.start_ha, r.now_ha) == (60, 200.0, 140.0)
    assert r.at_year == {5: 140.0, 10: None}
    assert r.change(r.at_year[5]) == pytest.approx(-0.3)
    assert readout(series).at_year[10] == 80.0
    s = spread_at([series, series + 10, series + 30], 120)
    assert (s.low, s.median, s.high) == (80.0, 90.0, 110.0)
    assert spread_at([series[:50]], 120) is None


def test_readout_matches_the_models_table_for_the_same_seed():
    settings = small(scenario="eradication_first", replicate=2)
    m = ClassroomModel(settings)
    for _ in range(61):
        m.step()
    table = run_once(load_scenario("eradication_first", {"farmer.n_households": SMALL}), 2, months=61).table
    r = readout(m.datacollector.model_vars["coca_ha"])
    assert r.at_year[5] == pytest.approx(table.loc[table.month == 60, "coca_ha"].item())
    assert r.start_ha == pytest.approx(table.loc[table.month == 0, "coca_ha"].item())


def test_lesson_files_are_listed_first_and_the_unchanged_copies_once(tmp_path):
    lesson = tmp_path / "scenarios"
    lesson.mkdir()
    (lesson / "status_quo.yaml").write_bytes((SCENARIO_DIR / "status_quo.yaml").read_bytes())  # vraem init
    edited = (SCENARIO_DIR / "integrated.yaml").read_text().replace("months: 240", "months: 36")
    (lesson / "integrated.yaml").write_text(edited)
    (lesson / "class_mixed.yaml").write_text(edited.replace("name: integrated", "name: class_mixed"))
    choices = find_choices(lessons=[lesson])
    names = [c.name for c in choices]
    assert names[:2] == ["class_mixed", "integrated (lesson)"]
    assert names.count("status_quo") == 1 and "integrated" in names
    assert all(c.lesson for c in choices[:2]) and not any(c.lesson for c in choices[2:])
    assert scenario_choices(lessons=[]) == names[2:]


def test_a_lesson_scenario_runs_its_own_months(tmp_path, monkeypatch):
    from vraem.ui.classroom import LESSON_ENV

    lesson = tmp_path / "scenarios"
    lesson.mkdir()
    text = (SCENARIO_DIR / "integrated.yaml").read_text().replace("months: 240", "months: 14")
    (lesson / "class_mixed.yaml").write_text(text.replace("name: integrated", "name: class_mixed"))
    monkeypatch.setenv(LESSON_ENV, str(lesson))
    assert scenario_choices()[0] == "class_mixed"
    m = ClassroomModel(small(scenario="class_mixed"))
    assert m.classroom.error is None
    assert (m.classroom.scenario.name, m.months) == ("class_mixed", 14)
    m.run()
    assert m.month == 14 and not m.running


def test_lever_notes_say_which_phases_change():
    sc = load_scenario("eradication_first", {"farmer.n_households": SMALL})
    d = lever_defaults(sc)
    notes = lever_notes(sc, {"development_start_month": 60}, d)
    line = notes["development_start_month"]
    assert "phase 2 of 2" in line and "phase 1 (months 0 to 24) keeps S/22 M/year" in line
    assert "month 60 on: S/100 M/year" in line
    notes = lever_notes(sc, {"interdiction_factor": 2.0, "p_replant": 0.3}, d)
    assert "all 2 phases" in notes["interdiction_factor"]
    assert "every month" in notes["p_replant"]


@pytest.mark.parametrize(("hi", "lo", "first", "last"), [(1450, 0, 0, 1500), (0.93, 0, 0, 1), (0, 0, 0, 1)])
def test_nice_ticks_cover_the_range(hi, lo, first, last):
    ticks = nice_ticks(hi, lo)
    assert ticks[0] == pytest.approx(first)
    assert ticks[-1] == pytest.approx(last)
    assert ticks[-1] >= hi


def test_guide_names_the_running_scenario_and_the_moved_levers():
    from vraem.ui.app import guide_html

    m = ClassroomModel(small(scenario="integrated", eradication_ha_per_month=100))
    text = guide_html(m)
    assert "integrated" in text
    assert "eradication ha per month = 100" in text
    assert "month 0 to end" in text
    assert "Eradication changes every month" in text


def test_earlier_runs_are_kept_once_per_settings_and_labelled():
    from vraem.ui.app import keep, settings_pending

    a = ClassroomModel(small(scenario="eradication_first", eradication_ha_per_month=1000))
    assert keep((), a) == ()  # a run at month 0 is not worth keeping
    for _ in range(3):
        a.step()
    kept = keep((), a)
    assert len(kept) == 1 and kept[0].label.startswith("eradication_first, eradication 1,000 ha/month")
    assert len(kept[0].coca_ha) == 4
    assert keep(kept, a) == kept  # the same run again: no second line
    b = ClassroomModel(small(scenario="status_quo", replicate=3))
    b.step()
    both = keep(kept, b)
    assert [k.label for k in both][1] == "status_quo, 300 households, valley 3"
    assert both[0].color != both[1].color
    assert settings_pending(b, small(scenario="eradication_first"))
    assert not settings_pending(b, small(scenario="status_quo", replicate=3))


def test_every_slider_label_shows_its_value_in_whole_valley_units():
    from vraem.ui.app import LEVERS, UNCERTAINTIES, VALLEY, slider_text

    s = UISettings()
    assert slider_text("eradication_ha_per_month", 800, s, 2013) == "800 ha/month (this valley: 60)"
    assert slider_text("development_million_soles_per_year", 100, s, 2013) == (
        "S/100 M/year (this valley: S/7.5 M)"
    )
    for slider in (*VALLEY, *LEVERS, *UNCERTAINTIES):
        assert slider_text(slider.name, 1, s, 2013)


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


def test_lesson_folders_take_the_given_folder_and_dot_scenarios(tmp_path):
    from vraem.ui.server import LessonFolderError, lesson_folders

    top = tmp_path / "lesson"  # as made by vraem init: lesson/scenarios/*.yaml
    (top / "scenarios").mkdir(parents=True)
    (top / "scenarios" / "class_mixed.yaml").write_text("name: class_mixed\n")
    assert lesson_folders([top], cwd=tmp_path) == [(top / "scenarios").resolve()]
    assert lesson_folders([], cwd=top) == [(top / "scenarios").resolve()]  # ./scenarios
    assert lesson_folders([top / "scenarios"], cwd=top) == [(top / "scenarios").resolve()]  # once
    assert lesson_folders([], cwd=SCENARIO_DIR.parent) == []  # the shipped folder is not a lesson
    with pytest.raises(LessonFolderError, match="no such folder"):
        lesson_folders([tmp_path / "missing"], cwd=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LessonFolderError, match=r"no scenario files \(\*\.yaml\)"):
        lesson_folders([tmp_path / "empty"], cwd=tmp_path)


def test_validate_warns_when_name_and_file_name_differ(tmp_path):
    from typer.testing import CliRunner

    from vraem.cli import app

    text = (SCENARIO_DIR / "integrated.yaml").read_text()
    bad = tmp_path / "class_mixed.yaml"
    bad.write_text(text.replace("name: integrated", "name: Class Mixed"))
    good = tmp_path / "integrated.yaml"
    good.write_text(text)
    result = CliRunner().invoke(app, ["validate", str(bad), str(good)])
    assert result.exit_code == 0
    warnings = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith(
        f"warning: {bad}: name 'Class Mixed' differs from the file name 'class_mixed'"
    )
    assert result.stdout.count("ok: ") == 2
