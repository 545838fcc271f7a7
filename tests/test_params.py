"""Parameters: every default has a unit, a source and a plausible range (or a reason to be fixed)."""

import pytest
from pydantic import ValidationError

from vraem.params import (
    ModelParams,
    P,
    _Group,
    parameter_fields,
    parameter_table,
    plausible_ranges,
    range_problem,
    validate_plausible_ranges,
)


def test_every_parameter_has_unit_and_source():
    rows = parameter_table()
    assert len(rows) > 80
    missing = [r["parameter"] for r in rows if not r["unit"] or not r["source"]]
    assert missing == []


def test_sources_are_citations_or_marked_assumptions():
    allowed = (
        "seed",
        "UNODC",
        "DEVIDA",
        "press",
        "MINAGRI",
        "calibrated",
        "assumption",
        "Colombian",
        "MODEL_SPEC",
        "Peru",
        "Juntos",
        "INEI",
        "ICCO",
        "ICO ",
    )
    for r in parameter_table():
        assert any(r["source"].startswith(a) or a in r["source"][:40] for a in allowed), r


def test_unknown_key_rejected():
    with pytest.raises(ValidationError, match="extra"):
        ModelParams.model_validate({"farmer": {"p_replnt": 0.3}})


def test_out_of_range_rejected():
    with pytest.raises(ValidationError):
        ModelParams.model_validate({"farmer": {"p_replant": 1.5}})


def test_parameters_are_frozen():
    p = ModelParams()
    with pytest.raises(ValidationError):
        p.farmer.p_replant = 0.1  # type: ignore[misc]


def test_every_parameter_has_a_valid_plausible_range_or_a_fixed_reason():
    assert validate_plausible_ranges() == []
    ranges = plausible_ranges()
    assert len(ranges) > 80
    for key, (field, value) in parameter_fields().items():
        if key in ranges:
            low, high = ranges[key]
            assert low <= value <= high, key
            if field.annotation is int:
                assert low == int(low) and high == int(high), key


def _field(key):
    return parameter_fields()[key][0]


@pytest.mark.parametrize(
    ("key", "low", "high", "words"),
    [
        ("farmer.p_replant", 0.6, 0.4, "is above high"),
        ("farmer.p_replant", 0.6, 0.9, "does not contain the default"),
        ("farmer.p_replant", 0.1, 1.5, "must be <= 1"),
        ("cartel.kg_per_flight", 0.0, 400.0, "must be > 0"),
        ("clan.n_clans", 10.5, 40, "whole-number"),
        ("cartel.buyer_origin", 0, 1, "no numeric range"),
    ],
)
def test_range_problems_are_named(key, low, high, words):
    default = parameter_fields()[key][1]
    assert words in range_problem(_field(key), low, high, default)


def test_a_missing_range_is_reported():
    class Bare(_Group):
        x: float = P(1.0, "1", "assumption: test", ge=0)

    class WithBare(ModelParams):
        bare: Bare = Bare()

    assert validate_plausible_ranges(WithBare()) == ["bare.x: has neither a range nor fixed"]


def test_params_command_shows_ranges():
    from typer.testing import CliRunner

    from vraem.cli import app

    r = CliRunner().invoke(app, ["params"], env={"COLUMNS": "250"})
    assert r.exit_code == 0
    assert "plausible range" in r.stdout
    assert "0.3 to 0.7" in r.stdout  # farmer.p_replant
    assert "fixed: size of the valley" in r.stdout  # farmer.n_households
