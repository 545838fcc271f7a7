"""The documentation site (mkdocs.yml) builds in strict mode, and a broken link or anchor fails it.

The builds are real ``mkdocs build --strict`` processes into temporary folders, offline. The
generated pages (tools/docs_hooks.py) are checked against their sources: one page per ODD section
and per submodel of docs/odd.md, every command, every parameter.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from vraem.params import parameter_table

ROOT = Path(__file__).resolve().parent.parent
MKDOCS = Path(sys.executable).with_name("mkdocs")
ODD = ROOT / "docs" / "odd.md"


def load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "tools" / "docs_hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("docs_hooks", module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules["docs_hooks"])
    return sys.modules["docs_hooks"]


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``site``; its output in ``.stdout``."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_site(tmp: Path) -> tuple[Path, Path]:
    """A copy of docs/ and a config for it that uses this checkout's hooks and code."""
    docs = tmp / "docs"
    shutil.copytree(ROOT / "docs", docs)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(docs)
    config["hooks"] = [str(ROOT / h) for h in config["hooks"]]
    config["watch"] = [str(ROOT / w) for w in config.get("watch", [])]
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            handler = plugin["mkdocstrings"]["handlers"]["python"]
            handler["paths"] = [str(ROOT / p) for p in handler["paths"]]
    path = tmp / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path, docs


def submodels(text: str) -> list[str]:
    return re.findall(r"^### (7\.\d+) ", text, flags=re.MULTILINE)


def test_the_site_builds_in_strict_mode_with_every_generated_page(tmp_path):
    site = tmp_path / "site"
    done = build(ROOT / "mkdocs.yml", site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (ROOT / ".cache" / "mkdocs-jupyter").exists(), "the build wrote a cache into the checkout"

    # One page per submodel of docs/odd.md, and the one-page version beside them.
    pages = sorted((site / "model").glob("7-*/7-*/index.html"))
    numbers = [re.match(r"(7-\d+)-", p.parent.name).group(1).replace("-", ".") for p in pages]
    assert sorted(numbers) == sorted(submodels(ODD.read_text(encoding="utf-8")))
    assert (site / "odd" / "index.html").exists()
    market = next(p for p in pages if p.parent.name.startswith("7-1-")).read_text(encoding="utf-8")
    assert "market.price_flexibility" in market  # its parameters
    assert market.count("<math ") > 10 and 'class="arithmatex"' not in market  # equations as MathML
    assert not re.search(r"<script[^>]+src=\"[^\"]*mathjax", market, re.IGNORECASE)  # no script from a CDN

    # Every command and every parameter, from the code.
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    commands = ("run", "validate", "sweep", "compare", "report", "sensitivity", "calibrate", "ui", "init")
    for command in commands:
        assert f"vraem {command}</code>" in cli, command
    assert "<code>--max-in-flight</code>" in cli and "<code>--set</code>" in cli  # options too
    params = (site / "reference" / "parameters" / "index.html").read_text(encoding="utf-8")
    missing = [r["parameter"] for r in parameter_table() if f"<code>{r['parameter']}</code>" not in params]
    assert not missing
    # Each parameter links the submodels that use it (within its own table row).
    row = r"<code>farmer.p_replant</code></td>(?:(?!</tr>).)*href=\"../../model/7-submodels/7-7-"
    assert re.search(row, params, re.DOTALL)

    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "vraem.scalar_outcomes.outcomes" in api and "levers_and_uncertainties" in api
    for notebook in ("quickstart", "research"):
        assert (site / notebook / "index.html").exists(), notebook


def test_a_broken_link_or_anchor_fails_the_build(tmp_path):
    config, docs = copy_of_site(tmp_path)
    # The copy builds as it is, so the failure below is the edits' and nothing else's.
    guide = docs / "guide" / "scenarios.md"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(
        text
        + "\nSee [a page that is not there](no-such-page.md), "
        + "[an anchor that is not there](sweeps.md#no-such-anchor) "
        + "and [a submodel anchor that is not there](../model/index.md#no-such-section).\n",
        encoding="utf-8",
    )
    odd = docs / "odd.md"
    odd.write_text(
        odd.read_text(encoding="utf-8").replace(
            "## 8. Parameters by group",
            "See [nowhere](#no-heading-like-this).\n\n## 8. Parameters by group",
            1,
        ),
        encoding="utf-8",
    )
    done = build(config, tmp_path / "site")
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "Aborted with 5 warnings in strict mode" in out, out
    assert "'no-such-page.md'" in out
    assert "'#no-such-anchor'" in out
    assert "'#no-such-section'" in out
    # In docs/odd.md, and in the generated page of the section that holds the link.
    assert "Doc file 'odd.md' contains a link '#no-heading-like-this'" in out
    generated = r"Doc file 'model/7-submodels/7-\d+-[^']+\.md' contains a link '[./]*odd\.md#no-heading"
    assert re.search(generated, out), out


def test_a_new_submodel_in_odd_md_gets_its_own_page_and_nav_entry():
    hooks = load_hooks()
    text = ODD.read_text(encoding="utf-8")
    new = "### 7.99 Rumours: who believes what (`rumour.spread`)\n\nA new rule, with section 7.1 cited.\n\n"
    extended = text.replace("## 8. Parameters by group", new + "## 8. Parameters by group", 1)
    pages, nav = hooks.odd_files(extended)
    uri = "model/7-submodels/7-99-rumours-who-believes-what.md"
    assert uri in pages
    assert pages[uri].startswith("# 7.99 Rumours: who believes what (`rumour.spread`)")
    assert "[section 7.1](7-1-market-export-demand-and-prices.md)" in pages[uri]
    submodel_nav = next(v for entry in nav for k, v in entry.items() if k.startswith("7."))
    assert {"7.99 Rumours: who believes what": uri} in submodel_nav
    assert len([e for e in submodel_nav if isinstance(e, dict)]) == len(submodels(extended))


def test_currency_dollars_are_not_maths():
    hooks = load_hooks()
    out = hooks.on_page_markdown("US$2.2-4.3/kg and $x_i$ and US$0.45", page=None, config=None, files=None)
    assert out == "US\\$2.2-4.3/kg and $x_i$ and US\\$0.45"


def test_maths_becomes_mathml_and_a_formula_that_cannot_is_a_warning(caplog):
    hooks = load_hooks()
    good = (
        '<p><span class="arithmatex">\\(p &lt; 1\\)</span></p>'
        '<div class="arithmatex">\\[\\frac{a}{b}\\]</div>'
    )
    out = hooks.tex_to_mathml(good, "x.md")
    assert out.count("<math ") == 2 and "arithmatex" not in out and "<mfrac>" in out
    bad = '<span class="arithmatex">\\(a^{\\)</span>'
    with caplog.at_level("WARNING", logger="mkdocs.hooks.vraem"):
        assert hooks.tex_to_mathml(bad, "x.md") == bad
    assert "x.md: cannot render the formula 'a^{'" in caplog.text
