"""Parameters: every default has a unit and a source; validation happens at construction."""

import pytest
from pydantic import ValidationError

from vraem.params import ModelParams, parameter_table


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
