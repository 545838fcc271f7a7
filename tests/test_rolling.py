"""Rolling origins (issue 17): calibrations cut at earlier years, scored on the surveys after them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from vraem.calibration import CalibrationConfig, CalibrationError, load_config, observed_targets
from vraem.observed import ROLLING_ORIGINS, load_observed
from vraem.scoring import leave_future_out, naive_forecasts, scored_years

VRAEM = [sys.executable, "-m", "vraem.cli"]
ROOT = Path(__file__).resolve().parents[1]
SHIPPED_POSTERIOR = ROOT / "model" / "vraem" / "data" / "posterior.parquet"


def vraem(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*VRAEM, *args], capture_output=True, text=True, timeout=600)


def one_line_refusal(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-800:], proc.stderr[-800:])
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---------------------------------------------------------------------------------------------
# The config cut at an origin


def test_the_config_cut_at_2017_drops_later_targets_and_clips_windows():
    shipped = load_config()
    cut, what = shipped.at_origin(2017)
    assert cut.fit_end_year == 2017 and shipped.fit_end_year == 2019
    assert cut.coca_years == [2014, 2015, 2017]
    assert {"coca_2018", "coca_2019"} == set(what["dropped"])
    windows = {p.name: p.years for p in cut.fitted_patterns()}
    assert windows["labs_destroyed_per_month"] == ["2013-01", "2017-12"]  # a mean: cut at December
    assert windows["monzon_agreements_kept"] == ["2016-01", "2017-12"]  # a share: cut too
    assert windows["replanting_share"] == ["2013-02", "2015-12"]  # inside already: untouched
    assert windows["backcast_900m"] == ["2013", "2015"]
    assert len(what["clipped"]) == 2
    targets = observed_targets(cut)
    assert "coca_2017" in targets and not {"coca_2018", "coca_2019"} & set(targets)
    # everything else is the shipped config's
    assert cut.parameters == shipped.parameters and cut.population_size == shipped.population_size


def test_the_config_cut_at_2014_drops_date_patterns_and_windows_that_start_later():
    cut, what = load_config().at_origin(2014)
    names = {p.name for p in cut.fitted_patterns()}
    assert "backcast_900m" not in names  # a ratio of 2015 over 2013: a shorter one is another pattern
    assert "monzon_agreements_kept" not in names  # its window starts in 2016
    assert {"backcast_900m 2013..2015", "monzon_agreements_kept 2016-01..2019-12"} <= set(what["dropped"])
    assert cut.coca_years == [2014] and "leaf_price_2014" in names


def test_the_cut_config_still_refuses_anything_after_its_origin():
    cut, _ = load_config().at_origin(2017)
    with pytest.raises(ValidationError, match="leave-future-out"):
        CalibrationConfig.model_validate({**cut.model_dump(), "coca_years": [2014, 2018]})
    late = {**cut.model_dump(), "patterns": {"labs_destroyed_per_month": {"years": ["2013-01", "2018-06"]}}}
    with pytest.raises(ValidationError, match="leave-future-out"):
        CalibrationConfig.model_validate(late)


@pytest.mark.parametrize("origin", [2013, 2016, 2019, 2024, 1999])
def test_an_origin_outside_the_surveys_before_fit_end_year_is_refused(origin):
    with pytest.raises(CalibrationError, match=r"--origin .*allowed: 2014, 2015, 2017, 2018\)") as exc:
        load_config().at_origin(origin)
    assert "\n" not in str(exc.value)


def test_an_origin_that_leaves_no_survey_is_refused():
    late = load_config().model_copy(update={"coca_years": [2018, 2019]})
    with pytest.raises(CalibrationError, match=r"--origin 2015: leaves no survey to fit .*allowed: 2018\)"):
        late.at_origin(2015)


# ---------------------------------------------------------------------------------------------
# Scoring from an origin


def test_the_years_each_origin_scores():
    assert ROLLING_ORIGINS == (2015, 2017)
    assert scored_years(2015) == [2017]  # no survey in 2016
    assert scored_years(2017) == [2018, 2019]
    assert scored_years(2019) == [2020, 2021, 2022, 2023, 2024]
    assert scored_years(2018) == [2019]


def test_naive_forecasts_from_an_origin_use_the_years_up_to_it():
    observed = load_observed().set_index("year")["coca_ha"]
    naive = naive_forecasts(observed, [2018, 2019], origin=2017)
    assert list(naive["persistence"]) == [20304, 20304]  # the 2017 survey
    # By hand, surveys 2013, 2014, 2015, 2017 (19,167, 18,845, 18,333, 20,304 ha): mean year 2014.75,
    # mean area 19,162.25; Sxy = 2,591.25, Sxx = 8.75, slope 296.1429 ha/yr.
    assert naive["trend"] == pytest.approx([19162.25 + 296.142857 * 3.25, 19162.25 + 296.142857 * 4.25])
    assert naive["trend"] == pytest.approx([20124.71, 20420.86], abs=0.01)
    # 2015: surveys 2013-2015 only, slope (18,333 - 19,167) / 2 = -417, mean 18,781.67 at 2014
    early = naive_forecasts(observed, [2017], origin=2015)
    assert early["persistence"][0] == 18333
    assert early["trend"][0] == pytest.approx(18781.6667 - 417 * 3, abs=0.01)


def test_leave_future_out_from_2017_scores_2018_2019_against_the_2017_naive_forecasts():
    observed = load_observed().set_index("year")["coca_ha"]

    def tables(factor: float):  # full-scale runs from 2013, at the surveys of 2018 and 2019
        return [
            pd.DataFrame({"month": [60, 72], "coca_ha": [factor * observed[2018], factor * observed[2019]]})
            for _ in range(3)
        ]

    table, weights, _ = leave_future_out(
        {"near": (tables(1.0), 2013, 1.0), "far": (tables(0.5), 2013, 1.0)}, origin=2017
    )
    rows = table.set_index("forecast")
    # persistence of 20,304 ha against 24,111 and 26,028: mean absolute error 4,765.5 ha
    assert rows.loc["naive: persistence", "crps_ha"] == pytest.approx(4765.5)
    trend_error = (24111 - 20124.714 + 26028 - 20420.857) / 2
    assert rows.loc["naive: trend", "crps_ha"] == pytest.approx(trend_error, abs=0.01)
    assert rows.loc["near", "crps_ha"] == pytest.approx(0.0)
    assert rows.loc["near", "skill_vs_persistence"] == pytest.approx(1.0)
    assert weights["near"] > 0.9


# ---------------------------------------------------------------------------------------------
# validate-history --origin, end to end


def _posterior(folder: Path, name: str, fit_end_year: int) -> Path:
    """A tiny posterior in the layout of `vraem calibrate --origin --ship`: parquet and manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    post = pd.read_parquet(SHIPPED_POSTERIOR).head(3)
    path = folder / f"{name}.parquet"
    post.to_parquet(path, index=False)
    (folder / f"{name}.json").write_text(json.dumps({"fit_end_year": fit_end_year}))
    return path


def test_validate_history_from_2017_scores_the_calibrated_variants_only(tmp_path):
    posteriors, out = tmp_path / "posteriors", tmp_path / "history"
    _posterior(posteriors, "reference-to2017", 2017)
    _posterior(posteriors, "full", 2019)  # fitted to 2019: must never be used from 2017
    out.mkdir()
    # the 2019 origin's scores of an earlier validate-history run, for the pooled table
    pd.DataFrame(
        [{"forecast": "reference", "crps_ha": 14466.0, "skill_vs_persistence": -0.8, "skill_vs_trend": -1.5}]
    ).to_csv(out / "scores.csv", index=False)
    proc = vraem(
        "validate-history",
        "--origin",
        "2017",
        "--variants",
        "reference,full",
        "--draws",
        "2",
        "--households",
        "300",
        "--posteriors",
        str(posteriors),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    scores = pd.read_csv(out / "scores_to2017.csv")
    assert set(scores.forecast) == {"reference", "naive: persistence", "naive: trend", "stacked ensemble"}
    assert scores.set_index("forecast").loc["naive: persistence", "crps_ha"] == pytest.approx(4765.5)
    assert scores.set_index("forecast").loc["reference", "stacking_weight"] == pytest.approx(1.0)
    record = json.loads((out / "origin_to2017.json").read_text())
    assert record["years"] == [2018, 2019] and record["not_calibrated"] == ["full"]
    assert record["posteriors"]["reference"]["label"] == "reference-to2017.parquet"
    assert "not calibrated for this origin 2017" in proc.stdout and "full" in proc.stdout
    assert "from 2017" in proc.stdout and "from 2019" in proc.stdout  # the pooled table
    page = (out / "corroboration.html").read_text()
    assert "Rolling origin 2017: fitted to 2013-2017, scored on the 2018-2019 surveys" in page
    assert 'id="corroboration-scores-to2017"' in page and 'id="corroboration-origins"' in page
    assert "left out of the scores and the stacking: full" in page


def test_validate_history_from_an_origin_no_variant_was_calibrated_for_runs_nothing(tmp_path):
    empty = tmp_path / "posteriors"
    empty.mkdir()
    proc = vraem(
        "validate-history",
        "--origin",
        "2015",
        "--variants",
        "reference",
        "--draws",
        "2",
        "--posteriors",
        str(empty),
        "--out",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    scores = pd.read_csv(tmp_path / "out" / "scores_to2015.csv")
    assert set(scores.forecast) == {"naive: persistence", "naive: trend"}
    assert "not calibrated for this origin 2015" in proc.stdout
    assert "variant reference" not in proc.stderr  # nothing was run
    assert json.loads((tmp_path / "out" / "origin_to2015.json").read_text())["years"] == [2017]


def test_a_posterior_fitted_past_the_origin_is_refused(tmp_path):
    _posterior(tmp_path, "reference-to2017", 2019)
    proc = vraem(
        "validate-history",
        "--origin",
        "2017",
        "--variants",
        "reference",
        "--posteriors",
        str(tmp_path),
        "--out",
        str(tmp_path / "out"),
    )
    one_line_refusal(proc, "reference-to2017.json", "fit_end_year 2019", "leak")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["validate-history", "--origin", "2016"],
            ["--origin 2016", "allowed: 2014, 2015, 2017, 2018, 2019)"],
        ),
        (["validate-history", "--origin", "2013"], ["--origin 2013", "allowed:"]),
        (["validate-history", "--origin", "2021"], ["--origin 2021", "allowed:"]),
        (["validate-history", "--origin", "2017", "--ship"], ["--ship", "2019 origin"]),
        (["validate-history", "--origin", "2017", "--posterior", "none"], ["--posterior none", "--origin"]),
        (
            ["validate-history", "--origin", "2017", "--posteriors", "/nowhere/at/all"],
            ["--posteriors /nowhere"],
        ),
        (
            ["calibrate", "--origin", "2019", "--out", "{tmp}"],
            ["--origin 2019", "allowed: 2014, 2015, 2017, 2018"],
        ),
        (["calibrate", "--origin", "2009", "--out", "{tmp}"], ["--origin 2009", "allowed:"]),
        (["calibrate", "--origin", "abc"], ["--origin", "valid integer"]),
    ],
)
def test_bad_origins_are_one_line_and_exit_2(tmp_path, args, needles):
    one_line_refusal(vraem(*[a.replace("{tmp}", str(tmp_path)) for a in args]), *needles)


def test_calibrate_refuses_an_origin_that_leaves_no_survey(tmp_path):
    config = yaml.safe_load((ROOT / "model" / "vraem" / "data" / "calibration.yaml").read_text())
    config["coca_years"] = [2018, 2019]
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(config))
    one_line_refusal(
        vraem("calibrate", str(path), "--origin", "2015", "--out", str(tmp_path / "o")),
        "--origin 2015",
        "leaves no survey",
    )


def test_make_rolling_origins_loops_over_the_rolling_origins():
    makefile = (ROOT / "Makefile").read_text()
    origins = re.search(r"^ORIGINS \?= (.+)$", makefile, re.MULTILINE)
    assert origins is not None and tuple(map(int, origins.group(1).split())) == ROLLING_ORIGINS
    assert "--origin $$origin" in makefile


# ---------------------------------------------------------------------------------------------
# calibrate --origin, then validate-history --origin on what it wrote


@pytest.mark.slow
def test_calibrate_from_an_origin_writes_its_folder_that_validate_history_scores(tmp_path):
    config = {
        "variant": "reference",
        "households": 300,
        "fit_end_year": 2015,
        "parameters": {"farmer.illegality_premium_usd_per_ha_year": [3000.0, 6000.0]},
        "coca_years": [2014, 2015],
        "patterns": {"leaf_price_2014": None, "labs_destroyed_per_month": {"years": ["2013-01", "2015-12"]}},
        "population_size": 4,
        "generations": 1,
        "max_total_simulations": 8,
        "min_acceptance_rate": 0.5,
        "predictive_draws": 0,
        "seed": 5,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    cal = tmp_path / "calibration"
    proc = vraem("calibrate", str(path), "--origin", "2014", "--workers", "1", "--out", str(cal))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "dropped: coca_2015" in proc.stdout
    assert "labs_destroyed_per_month 2013-01..2015-12 -> 2013-01..2014-12" in proc.stdout
    folder = cal / "reference-to2014"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["fit_end_year"] == 2014 and manifest["config"]["coca_years"] == [2014]
    assert set(manifest["observed"]) == {
        "coca_2014",
        "pattern_leaf_price_2014",
        "pattern_labs_destroyed_per_month",
    }
    assert json.loads((folder / "origin.json").read_text())["dropped"] == ["coca_2015"]
    proc = vraem(
        "validate-history",
        "--origin",
        "2014",
        "--variants",
        "reference",
        "--draws",
        "2",
        "--households",
        "300",
        "--posteriors",
        str(cal),
        "--out",
        str(tmp_path / "history"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    scores = pd.read_csv(tmp_path / "history" / "scores_to2014.csv")
    assert "reference" in set(scores.forecast)
    record = json.loads((tmp_path / "history" / "origin_to2014.json").read_text())
    assert record["years"] == [2015] and record["posteriors"]["reference"]["label"] == (
        "reference-to2014/posterior.parquet"
    )


# ---------------------------------------------------------------------------------------------
# The origins in the report's corroboration section, and the skill pooled over them


def test_the_report_section_shows_each_origin_and_the_pooled_skill(tmp_path):
    from tests.test_ensemble import history_folder
    from vraem.patterns import pooled_skill, read_history, write_origin

    out = history_folder(tmp_path)  # the 2019 origin: reference -0.8 / -1.4, full -0.1 / -0.5
    scores = pd.DataFrame(
        [
            {"forecast": "reference", "crps_ha": 3000.0, "coverage_50": 0.5, "coverage_90": 1.0,
             "median_error_share": -0.1, "skill_vs_persistence": 0.2, "skill_vs_trend": 0.4,
             "stacking_weight": 1.0},
            {"forecast": "naive: persistence", "crps_ha": 4765.5, "coverage_50": 0.0, "coverage_90": 0.0,
             "median_error_share": -0.2, "skill_vs_persistence": 0.0, "skill_vs_trend": 0.0},
        ]
    )
    write_origin(out, 2017, scores, {"origin": 2017, "years": [2018, 2019], "note": "2 draws",
                                     "not_calibrated": ["full"], "weights": {"reference": 1.0},
                                     "posteriors": {"reference": {"label": "reference-to2017.parquet"}}})
    history = read_history(out)
    assert [o.origin for o in history.origins] == [2017]
    body = history.body(level=3)
    assert "<h3>Rolling origin 2017: fitted to 2013-2017, scored on the 2018-2019 surveys</h3>" in body
    assert "left out of the scores and the stacking: full" in body
    assert 'id="corroboration-origins"' in body and "from 2017" in body and "from 2019" in body
    pooled = pooled_skill({2017: history.origins[0].forecast, 2019: history.forecast}).set_index("forecast")
    assert "naive: persistence" not in pooled.index
    assert pooled.loc["reference", "mean_skill_vs_persistence"] == pytest.approx((0.2 - 0.8) / 2)
    assert pooled.loc["reference", "mean_skill_vs_trend"] == pytest.approx((0.4 - 1.4) / 2)
    assert pooled.loc["reference", "origins"] == 2
    # full was not calibrated for 2017: its mean is over the 2019 origin alone, and says so
    assert pooled.loc["full", "mean_skill_vs_persistence"] == pytest.approx(-0.1)
    assert pooled.loc["full", "origins"] == 1


def test_posteriors_are_looked_up_in_the_given_folder(tmp_path):
    from vraem.patterns import origin_posterior, variant_posterior

    assert origin_posterior("reference", 2017, tmp_path) is None
    assert variant_posterior("reference", None, tmp_path) == (None, False)
    own = _posterior(tmp_path, "reference", 2019)
    assert variant_posterior("reference", None, tmp_path) == (own, True)
    assert origin_posterior("reference", 2017, tmp_path) is None  # the 2019 fit is never an origin's
    folder = tmp_path / "reference-to2017"  # vraem calibrate --origin's output folder
    folder.mkdir()
    pd.read_parquet(own).to_parquet(folder / "posterior.parquet")
    (folder / "manifest.json").write_text(json.dumps({"fit_end_year": 2017}))
    assert origin_posterior("reference", 2017, tmp_path) == folder / "posterior.parquet"
