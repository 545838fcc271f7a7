"""docs/odd.md, the model's ODD+D description, names every parameter and every output column."""

import re
from pathlib import Path

from vraem.metrics import DISTRICT_COLUMN
from vraem.params import parameter_table
from vraem.runner import run_once
from vraem.scenario import load_scenario

ODD = Path(__file__).parents[1] / "docs" / "odd.md"
DISTRICT = re.compile("^" + re.escape(DISTRICT_COLUMN).replace(r"\{:02d\}", r"\d{2}") + "$")


def _odd() -> str:
    return ODD.read_text(encoding="utf-8")


def test_every_parameter_is_described():
    text = _odd()
    missing = [r["parameter"] for r in parameter_table() if f"`{r['parameter']}`" not in text]
    assert not missing, f"docs/odd.md does not name these parameters (as `group.name`): {missing}"


def test_every_output_column_is_described():
    text = _odd()
    table = run_once(load_scenario("integrated", {"farmer.n_households": 100, "months": 1}), 0).table
    columns = [c for c in table.columns if not DISTRICT.match(c)]
    assert len(columns) < len(table.columns), "district columns not recognised"
    missing = [c for c in columns if f"`{c}`" not in text]
    assert not missing, f"docs/odd.md does not name these output columns (in backticks): {missing}"
    assert "`coca_ha_dNN`" in text, "docs/odd.md does not describe the per-district columns"


def test_the_odd_sections_are_there():
    headings = re.findall(r"^## (\d+)\. (.+)$", _odd(), flags=re.MULTILINE)
    assert [int(n) for n, _ in headings] == list(range(1, 9))
    assert "Design concepts" in dict(headings).values()
    assert "Submodels" in dict(headings).values()
