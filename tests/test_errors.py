"""Bad input gets one clear line and exit code 2: never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from vraem.scenario import ScenarioError, load_scenario

VRAEM = [sys.executable, "-m", "vraem.cli"]


def vraem(*args, cwd=None):
    return subprocess.run([*VRAEM, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_key(tmp_path):
    path = write(tmp_path, "name: x\nparameters:\n  farmer:\n    p_replnt: 0.3\n")
    proc = vraem("validate", str(path))
    assert_one_line_error(proc, str(path), "parameters.farmer.p_replnt", "unknown key", "p_replant")


def test_wrong_type(tmp_path):
    path = write(tmp_path, "name: x\nmonths: lots\n")
    assert_one_line_error(vraem("validate", str(path)), str(path), "months")


def test_out_of_range(tmp_path):
    path = write(
        tmp_path, "name: x\npolicy:\n  phases:\n    - start_month: 0\n      eradication_ha_per_month: -5\n"
    )
    assert_one_line_error(
        vraem("validate", str(path)),
        str(path),
        "policy.phases[0].eradication_ha_per_month must be >= 0",
        "-5",
    )


def test_bad_enum(tmp_path):
    path = write(tmp_path, "name: x\npolicy:\n  phases:\n    - eradication_targeting: everywhere\n")
    assert_one_line_error(vraem("validate", str(path)), "eradication_targeting", "accessible")


def test_overlapping_phases(tmp_path):
    path = write(tmp_path, "name: x\npolicy:\n  phases:\n    - start_month: 0\n    - start_month: 10\n")
    assert_one_line_error(vraem("validate", str(path)), str(path), "overlap")


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(vraem("run", str(missing)), str(missing), "not found")


def test_unknown_scenario_name():
    assert_one_line_error(vraem("run", "status_qou"), "status_qou", "unknown scenario", "status_quo")


def test_not_yaml(tmp_path):
    path = write(tmp_path, "name: [unclosed\n")
    assert_one_line_error(vraem("validate", str(path)), str(path), "YAML")


def test_bad_set_path(tmp_path):
    proc = vraem("run", "status_quo", "--months", "1", "--set", "farmer.p_replnt=0.3", "--out", str(tmp_path))
    assert_one_line_error(proc, "--set", "p_replnt", "allowed", "p_replant")


def test_bad_set_value(tmp_path):
    proc = vraem("run", "status_quo", "--months", "1", "--set", "farmer.p_replant=-1", "--out", str(tmp_path))
    assert_one_line_error(proc, "farmer.p_replant must be >= 0", "-1")


def test_malformed_set(tmp_path):
    proc = vraem("run", "status_quo", "--set", "farmer.p_replant", "--out", str(tmp_path))
    assert_one_line_error(proc, "--set", "dotted.key=VALUE")


def test_bad_set_index(tmp_path):
    proc = vraem("run", "status_quo", "--set", "policy.phases[7].p_replant=0.2", "--out", str(tmp_path))
    assert_one_line_error(proc, "phases", "no index 7")


def test_bad_months_option(tmp_path):
    proc = vraem("run", "status_quo", "--months", "0", "--out", str(tmp_path))
    assert_one_line_error(proc, "--months", ">= 1")


def test_scenario_error_names_file_key_and_allowed():
    with pytest.raises(ScenarioError) as info:
        load_scenario("status_quo", {"market.export_demand_growth_per_year": 3})
    message = str(info.value)
    assert "status_quo.yaml" in message and "export_demand_growth_per_year must be <= 1" in message
    assert "\n" not in message


def test_missing_browser_fails_in_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    from tests import browser

    monkeypatch.setitem(sys.modules, "playwright", None)  # as if Playwright were not installed
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    for needed in (browser.sync_api, browser.chromium):
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
            needed()
        monkeypatch.delenv("CI")
        with pytest.raises(pytest.skip.Exception):
            needed()
