"""docs/quickstart.ipynb runs from top to bottom in a kernel of this venv, so it never goes stale.

nbclient starts an ipykernel with the ``python3`` kernel spec, which jupyter_client runs with the
interpreter running the tests (``.venv/bin/python``); the first cell checks that, so a ``python3``
kernel spec from elsewhere on the machine cannot run the notebook against another vraem.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "quickstart.ipynb"

pytestmark = pytest.mark.slow


def outputs_of(cell) -> list[str]:
    """The MIME types (or stream names) of a cell's outputs."""
    out = []
    for o in cell.get("outputs", []):
        out.extend(o.get("data", {}) or [o.get("name", o["output_type"])])
    return out


def test_quickstart_notebook_runs_without_errors(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it without outputs"
    probe = nbformat.v4.new_code_cell("import sys, vraem\nprint(sys.executable)\nprint(vraem.__file__)")
    nb.cells.insert(0, probe)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
        extra_arguments=["--HistoryManager.enabled=False"],
    )
    client.execute()  # raises CellExecutionError on the first cell that fails

    executable, vraem_file = nb.cells[0].outputs[0]["text"].split()
    assert Path(executable) == Path(sys.executable)
    assert Path(vraem_file).parent == Path(__import__("vraem").__file__).parent

    code = [c for c in nb.cells[1:] if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o["output_type"] == "error"]
    assert not errors
    assert any("image/png" in outputs_of(c) for c in code), "the coca plot was not drawn"
    assert any("text/html" in outputs_of(c) and "replanted_share" in c.source for c in code)
    app = code[-1]
    assert "Page()" in app.source
    assert "application/vnd.jupyter.widget-view+json" in outputs_of(app), outputs_of(app)


RESEARCH = NOTEBOOK.with_name("research.ipynb")


def test_research_notebook_runs_a_screening_and_a_posterior_comparison(tmp_path):
    nb = nbformat.read(RESEARCH, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit it without outputs"
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(tmp_path)}},
        extra_arguments=["--HistoryManager.enabled=False"],
    )
    client.execute()

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o["output_type"] == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for c in code for o in c.outputs)
    assert "mu_star" in html, "no Morris indices"
    assert "gap_coca_ha" in html, "no comparison over posterior draws"
    assert any("image/png" in outputs_of(c) for c in code), "the mu*-sigma plot was not drawn"
    printed = "".join(o.get("text", "") for c in code for o in c.outputs if o["output_type"] == "stream")
    assert "draws" in printed
