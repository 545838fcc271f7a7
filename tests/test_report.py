"""`vraem report` end to end with real processes: a small `vraem run` and a small `vraem sweep`
are reported on, and each HTML report is opened in a real headless Chromium (Debian's package,
installed by `make browser`), which checks that every image loads, the key sections are there, and
saves a screenshot under test-artifacts/."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests import browser as browsers
from tests.browser import ARTIFACTS, CHROMIUM_ARGS, ROOT
from vraem.formatting import fmt, fmt_value, formatter
from vraem.params import ModelParams
from vraem.posterior import BOOKKEEPING, resolve_posterior_path
from vraem.report.assumptions import long_run_assumptions

VRAEM = Path(sys.executable).with_name("vraem")
RUN_SECTIONS = [
    "findings",
    "robustness",
    "scenarios",
    "coca-area",
    "eradication-and-replanting",
    "where-coca-moved",
    "the-drug-economy",
    "households",
    "security",
    "parameters",
    "provenance",
]
TINY = ["--set", "farmer.n_households=300", "--set", "map_months=[0,12,24]"]
SWEEP_YAML = """\
name: report_test_sweep
description: Two policies x a 2 x 2 grid, two replicates, a tiny valley (report tests).
scenarios: [status_quo, eradication_first]
replicates: 2
base_seed: 2013
overrides:
  farmer.n_households: 300
  months: 24
  map_months: [0, 24]
design:
  kind: grid
  parameters:
    farmer.p_replant: [0.2, 0.8]
    clan.bribe_share: [0.02, 0.1]
"""
DRAWS_YAML = """\
name: report_test_draws
description: experiments/default.yaml in small (report tests), three posterior draws.
scenarios: [status_quo, eradication_first]
base_seed: 2013
parameter_draws: posterior.parquet
n_draws: 3
overrides:
  farmer.n_households: 300
  months: 24
  map_months: [0, 24]
"""


def vraem(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [str(VRAEM), *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )


def report_path(proc: subprocess.CompletedProcess) -> Path:
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"^report: (.+\.html)$", proc.stdout, re.MULTILINE)
    assert match, proc.stdout
    return Path(match.group(1))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "results"
    proc = vraem(
        "run",
        "status_quo",
        "eradication_first",
        "development_first",
        "--months",
        "24",
        "--replicates",
        "2",
        *TINY,
        "--out",
        str(out),
        "--no-plot",
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sweep")
    (base / "tiny.yaml").write_text(SWEEP_YAML)
    out = base / "results"
    proc = vraem("sweep", str(base / "tiny.yaml"), "--out", str(out), "--workers", "1", timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def draws_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("draws")
    (base / "draws.yaml").write_text(DRAWS_YAML)
    out = base / "results"
    proc = vraem("sweep", str(base / "draws.yaml"), "--out", str(out), "--workers", "1", timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def browser():
    chromium = browsers.chromium()  # fail in CI, skip elsewhere, if missing
    sync_playwright = browsers.sync_api().sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_report(browser, html: Path, screenshot: str) -> tuple[object, list[str]]:
    """Open the report from file://, wait for every image, save a full-page screenshot."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.resolve().as_uri(), wait_until="load")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    return page, requests


def check_images_and_offline(page, requests: list[str], expected_images: int) -> None:
    images = page.evaluate(
        "Array.from(document.images).map(i => ({src: i.src.slice(0, 22), complete: i.complete,"
        " w: i.naturalWidth, h: i.naturalHeight, alt: i.alt}))"
    )
    assert len(images) == expected_images
    for img in images:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
        assert img["src"] == "data:image/png;base64,", img
        assert img["alt"]
    decoded = page.evaluate(
        "Promise.all(Array.from(document.images).map(i => i.decode().then(() => true, () => false)))"
    )
    assert all(decoded), decoded
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    # every figure has a numbered caption
    captions = page.locator("figure figcaption").all_inner_texts()
    assert len(captions) == expected_images
    assert all(c.startswith(f"Figure {i + 1}.") for i, c in enumerate(captions))


def check_embedded_files(page, fig_dir: Path) -> None:
    """Each embedded image is, byte for byte, one of the PNG files written beside the report."""
    sources = page.evaluate("Array.from(document.images).map(i => i.getAttribute('src'))")
    files = {p.read_bytes() for p in fig_dir.glob("*.png")}
    for src in sources:
        assert base64.b64decode(src.split(",", 1)[1]) in files


def check_tables_fit(page) -> None:
    """Every table fits the page's width, or scrolls inside a box no taller than the window."""
    boxes = page.evaluate(
        """Array.from(document.querySelectorAll('table')).map(t => {
            const w = t.closest('.table-wrap'), r = t.getBoundingClientRect();
            return {id: t.id, width: r.width, wrap: w ? w.clientWidth : 0,
                    scrolls: w ? w.scrollWidth > w.clientWidth : false,
                    height: w ? w.clientHeight : 0, page: document.documentElement.clientWidth,
                    overflow: w ? getComputedStyle(w).overflowX : ''};
        })"""
    )
    assert boxes
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    window = page.viewport_size["height"]
    for b in boxes:
        assert b["wrap"] > 0, b  # every table sits in a wrapper that can scroll
        assert b["width"] <= b["wrap"] + 1 or (b["overflow"] == "auto" and b["height"] <= window), b


def check_assumptions(page) -> None:
    """The findings and every figure caption state the long-run assumptions."""
    box = page.locator("section#findings #assumptions").inner_text()
    assert "Legal prices: cacao and coffee follow the observed world prices" in box
    assert "Export demand for the valley's cocaine base follows the observed index" in box
    assert "Model mechanisms" in box
    captions = page.locator("figure figcaption").all_inner_texts()
    assert captions and all("Assumed: legal prices" in c and "mechanisms:" in c for c in captions)
    maps = page.locator("#fig-maps figcaption").inner_text()
    assert "A generated valley, not real geography" in maps


def check_common_sections(page, sections: list[str]) -> None:
    for sid in sections:
        assert page.locator(f"section#{sid}").is_visible(), sid
        assert page.locator(f"section#{sid} h2").inner_text()
    toc = page.locator("nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert toc == [f"#{s}" for s in sections]
    params = page.locator("#parameter-table tbody tr")
    assert params.count() > 50
    first = params.first.locator("td").all_inner_texts()
    assert first[0] and first[-2] and first[-1]  # name, unit, source
    assert page.locator("#provenance-seeds tbody tr").count() >= 2
    assert page.locator("#provenance-packages").inner_text().count("numpy") == 1


@pytest.mark.slow
def test_run_report_in_chromium(run_dir, browser):
    proc = vraem("report", str(run_dir))
    html = report_path(proc)
    assert html == run_dir / "report.html"
    figures = sorted((run_dir / "report_figures").glob("*.png"))
    assert len(figures) == 10
    assert len(sorted((run_dir / "report_figures").glob("*.svg"))) == 10

    page, requests = open_report(browser, html, "report_run.png")
    check_images_and_offline(page, requests, len(figures))
    check_embedded_files(page, run_dir / "report_figures")
    check_common_sections(page, RUN_SECTIONS)
    check_tables_fit(page)
    check_assumptions(page)
    assert page.locator("section#sweep").count() == 0
    assert page.locator("section#draws").count() == 0

    # the key-findings table shows the data's own numbers
    table = pd.read_parquet(run_dir / "results.parquet")
    last = table[table["month"] == table["month"].max()]
    expected = fmt(last.loc[last["scenario"] == "status_quo", "coca_ha"].median())
    headers = page.locator("#key-findings thead th").all_inner_texts()
    assert headers == ["outcome", "unit", "status_quo", "eradication_first", "development_first"]
    row = page.locator("#key-findings tbody tr", has_text="Coca at the end").first
    assert row.locator("td").nth(2).inner_text().startswith(expected)
    assert page.locator("#paired-differences tbody tr").count() == 2
    assert page.locator("#observed-fit tbody tr").count() == 3

    # scenario descriptions and provenance come from the manifest
    assert "no eradication inside the valley" in page.locator("section#scenarios").inner_text()
    seeds = page.locator("#provenance-seeds").inner_text()
    for seed in table.loc[table["scenario"] == "status_quo", "seed"].unique():
        assert str(int(seed)) in seeds
    run = page.locator("#provenance-run").inner_text()
    assert "git commit" in run and "created" in run
    page.close()


@pytest.mark.slow
def test_sweep_report_in_chromium(sweep_dir, browser):
    html = report_path(vraem("report", str(sweep_dir), "--out", str(sweep_dir / "sweep.html")))
    fig_dir = sweep_dir / "sweep_figures"
    keys = {p.stem for p in fig_dir.glob("*.png")}
    assert {"sweep_response", "sweep_heatmap", "headline", "maps", "difference_maps"} <= keys

    page, requests = open_report(browser, html, "report_sweep.png")
    check_images_and_offline(page, requests, len(keys))
    check_embedded_files(page, fig_dir)
    check_common_sections(page, ["findings", "robustness", "scenarios", "sweep", *RUN_SECTIONS[3:]])
    check_tables_fit(page)
    check_assumptions(page)
    assert "runs only" in page.locator("section#robustness").inner_text()
    sweep = page.locator("section#sweep").inner_text()
    assert "farmer.p_replant" in sweep and "clan.bribe_share" in sweep
    assert page.locator("#sweep-final tbody tr").count() == 2 * 4
    assert page.locator("#fig-sweep_heatmap img").is_visible()
    page.close()


@pytest.mark.slow
def test_draws_report_in_chromium(draws_dir, browser):
    """A comparison over posterior draws (experiments/default.yaml in small) has no Sweep section."""
    html = report_path(vraem("report", str(draws_dir)))
    fig_dir = draws_dir / "report_figures"
    keys = {p.stem for p in fig_dir.glob("*.png")}
    assert "draws" in keys and not keys & {"sweep_response", "sweep_heatmap"}

    page, requests = open_report(browser, html, "report_draws.png")
    check_images_and_offline(page, requests, len(keys))
    check_common_sections(page, ["findings", "robustness", "scenarios", "draws", *RUN_SECTIONS[3:]])
    assert page.locator("section#sweep").count() == 0
    toc = page.locator("nav a").all_inner_texts()
    assert "Posterior draws" in toc and "Sweep" not in toc
    check_tables_fit(page)
    check_assumptions(page)
    draws = page.locator("section#draws").inner_text()
    assert "3 draws" in draws and "posterior.parquet" in draws
    shipped = pd.read_parquet(resolve_posterior_path("posterior.parquet", Path.cwd()))
    n_parameters = len([c for c in shipped.columns if c not in BOOKKEEPING])
    assert page.locator("#draw-parameters tbody tr").count() == n_parameters  # one row per parameter
    assert page.locator("#draw-spread tbody tr").count() == 2
    assert page.locator("#fig-draws img").is_visible()
    # a drawn assumption would be given as its range over the draws; the shipped posterior no longer
    # draws export demand growth (it acts after 2023 only), so the sentence gives the one value
    box = page.locator("#assumptions").inner_text()
    drawn = "market.export_demand_growth_per_year" in shipped.columns
    assert ("(the range over the runs' parameters)" in box) == drawn
    page.close()


def test_long_run_assumptions_follow_the_parameters():
    """The assumption sentences are derived from the parameters, not written by hand."""
    params = ModelParams().model_dump(mode="json")
    a = long_run_assumptions(params, 2013, 240)
    prices, demand, mechanisms = a.sentences
    cacao = params["crops"]["cacao_price_index_by_year"]
    assert "follow the observed world prices (ICCO cocoa, ICO composite coffee) to 2024" in prices
    assert f"to 2024 (cacao {cacao[-1]:.2f}x" in prices
    rate = params["crops"]["world_price_reversion_per_year"]
    long_run = params["crops"]["cacao_long_run_index"]
    assert f"then revert toward their long-run levels (cacao {long_run:.2f}x" in prices
    assert f"half-life of {np.log(2) / rate:.1f}".rstrip("0").rstrip(".") in prices
    assert "for the remaining 8 years of the run, to 2033" in prices
    assert "follows the observed index of world cocaine use to 2023" in demand
    growth = params["market"]["export_demand_growth_per_year"]
    assert f"then grows {100 * growth:.1f}% a year for 5 years, to 2028, then holds flat" in demand
    assert "switched on: local_market, crop_disease" in mechanisms
    assert a.short.startswith("Assumed: legal prices revert after 2024 toward cacao 1.07x")

    # a run that ends inside the data assumes nothing beyond it
    short = long_run_assumptions(params, 2013, 24)
    assert "for the whole run, to 2015; nothing is assumed beyond the data" in short.sentences[0]

    # another price path, demand path, drawn growth and mechanisms change the words
    changed = {
        **params,
        "crops": {
            **params["crops"],
            "cacao_price_index_by_year": [1.0, 1.5],
            "coffee_price_index_by_year": [1.0, 0.8],
        },
        "mechanisms": ["open_valley", "state_retreat"],
    }
    b = long_run_assumptions(changed, 2013, 120, {"market.export_demand_growth_per_year": (0.086, 0.117)})
    assert "the scenario's own price path to 2014" in b.sentences[0]
    assert "(cacao 1.50x, coffee 0.80x the 2013 price), then revert toward" in b.sentences[0]
    assert "grows 8.6-11.7% a year (the range over the runs' parameters)" in b.sentences[1]
    assert b.sentences[2] == "Model mechanisms switched on: open_valley, state_retreat."
    assert "mechanisms: open_valley, state_retreat" in b.short
    switches = {**params, "mechanisms": {"open_valley": True, "crop_disease": False, "state_retreat": True}}
    assert long_run_assumptions(switches, 2013, 240).sentences[2] == (
        "Model mechanisms switched on: open_valley, state_retreat (off: crop_disease)."
    )
    assert "reference model, with no alternative" in long_run_assumptions(
        {**params, "mechanisms": []}, 2013, 240
    ).sentences[2]
    path = {**params, "market": {**params["market"], "export_demand_growth_by_year": [0.1, 0.2, -0.1]}}
    assert "follows the scenario's yearly growth path to 2015, then holds flat" in long_run_assumptions(
        path, 2013, 240
    ).sentences[1]
    unknown = long_run_assumptions({}, 2013, 240).sentences[0]
    assert unknown.endswith("not recorded in these results' parameters.")


def test_numbers_have_separators_and_one_precision_per_quantity():
    assert fmt(40000) == "40,000" and fmt_value(40000) == "40,000"
    ha = formatter([433.6, 9312.4])
    assert (ha(433.6), ha(9312.4)) == ("434", "9,312")
    small = formatter([4.25, 45.3])
    assert (small(4.25), small(45.3)) == ("4.2", "45.3")
    assert fmt(0.25, percent=True) == "25%" and fmt(float("nan")) == "–"
    assert fmt(-0.0001, 1) == "0.0"
    assert fmt_value([1.0, 1.2558]) == "[1, 1.2558]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "no/such/folder"], "no/such/folder: no such folder"),
        (["report", "scenarios"], "scenarios: not a results folder (no manifest.json)"),
        (["report", "scenarios/status_quo.yaml"], "not a folder"),
    ],
)
def test_report_errors_are_one_line(args, message):
    proc = vraem(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_report_refuses_an_out_file_that_is_not_html(run_dir):
    proc = vraem("report", str(run_dir), "--out", str(run_dir / "report.pdf"))
    assert proc.returncode == 2
    assert "expected a file name ending in .html" in proc.stderr
