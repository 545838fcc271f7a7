# Everyday commands. `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# A Python >= 3.12: the first on PATH, else the newest pyenv has installed.
PYTHON_BOOT ?= $(shell for p in python3.13 python3.12 python3 python; do \
    if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$p; exit 0; fi; done; \
    for p in $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]* 2>/dev/null | sort -V -r); do \
    if [ -x $$p/bin/python ]; then echo $$p/bin/python; exit 0; fi; done)

.PHONY: setup run test test-slow test-lowest browser ui-assets lint docs docs-build gallery bench bench-compare bench-phases bench-sweep bench-sensitivity calibrate rolling-origins bench-calibrate sbc validate-history baseline clean ui bench-ui

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON_BOOT)" ]; then echo "error: no Python >= 3.12 found on PATH or in pyenv; install one" >&2; exit 1; fi
	@echo "using $(PYTHON_BOOT)"
	@[ -x $(PY) ] || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## The main job: a default scenario comparison with plots.
run: $(STAMP)
	$(VENV)/bin/vraem sweep experiments/default.yaml --out results/default --restart
	$(VENV)/bin/vraem compare results/default
	$(VENV)/bin/vraem report results/default

## The tests, on every core (pytest-xdist; a file's tests stay in one worker, so its fixtures are
## built once). `make test` runs all but the end-to-end tests marked slow (under 15 min on two
## cores); `make test-slow` runs those (installing the wheel, Morris and Sobol on the model, the
## reports in Chromium, killed sweeps, notebooks...). CI (.ci/run) runs both.
TEST_WORKERS ?= 2
test: $(STAMP) browser ui-assets
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not slow"

test-slow: $(STAMP) browser ui-assets
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m slow

## The fast tests against the lowest versions of the direct dependencies that pyproject.toml allows,
## in their own venv (tools/lowest_constraints.py pins each to its floor; the rest resolves freely).
## Not part of `make test`. Another Python: `make test-lowest PYTHON_BOOT=python3.12 LOWEST=.venv-lowest312`.
## Old releases call APIs that newer transitive dependencies deprecate (matplotlib 3.9 and pyparsing,
## Solara 1.30 and websockets): those warnings are shown here, not errors; `make test` keeps them errors.
LOWEST := .venv-lowest
LOWEST_STAMP := $(LOWEST)/.installed

$(LOWEST_STAMP): pyproject.toml tools/lowest_constraints.py
	@if [ -z "$(PYTHON_BOOT)" ]; then echo "error: no Python >= 3.12 found on PATH or in pyenv; install one" >&2; exit 1; fi
	rm -rf $(LOWEST)
	$(PYTHON_BOOT) -m venv $(LOWEST)
	$(LOWEST)/bin/python tools/lowest_constraints.py > $(LOWEST)/constraints.txt
	$(LOWEST)/bin/python -m pip install -q --upgrade pip
	$(LOWEST)/bin/python -m pip install -q --only-binary=:all: -c $(LOWEST)/constraints.txt -e '.[dev]'
	$(LOWEST)/bin/python -m pip check
	@touch $(LOWEST_STAMP)

test-lowest: $(LOWEST_STAMP)
	$(LOWEST)/bin/python tools/lowest_constraints.py --check
	$(LOWEST)/bin/python -m pytest -q -m "not slow" -k "not chromium" --ignore=tests/test_ui_browser.py \
	    -W "default::DeprecationWarning" -W "default::PendingDeprecationWarning"

## The classroom UI's web assets (Solara's CDN files) from the npm registry, once per .venv.
ui-assets: $(STAMP)
	$(PY) -m vraem.ui.assets

## Debian's Chromium for the browser tests (report and UI); Playwright drives it, no browser download.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

## The documentation site (mkdocs.yml) on 127.0.0.1:8000, rebuilt as files change; `make docs DOCS_PORT=9001`.
DOCS_PORT ?= 8000
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:$(DOCS_PORT)

## The site as static files in site/, in strict mode (what tests/test_docs.py checks).
docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

## The gallery's figures (docs/gallery/): runs each shipped experiment whose results/NAME is missing,
## draws its report and copies the figures; commit docs/gallery/ afterwards. `make gallery GALLERY=default`.
GALLERY ?= default policy_comparison replanting_sweep
GALLERY_FLAGS ?=
gallery: $(STAMP)
	$(PY) tools/gallery.py $(GALLERY_FLAGS) $(GALLERY)

lint: $(STAMP)
	$(VENV)/bin/ruff check model tests benchmarks tools

## The full valley against a per-agent Mesa loop of the same size, side by side (ratio), and peak memory.
bench: $(STAMP)
	$(PY) benchmarks/bench_model.py

## CPU time per household-month against the code before issue 16 (REV=a63d3bb), side by side.
REV ?= a63d3bb
bench-compare: $(STAMP)
	$(PY) benchmarks/bench_household_month.py --rev $(REV)

## CPU time per phase of a full-scale run (where the time goes).
bench-phases: $(STAMP)
	$(PY) benchmarks/bench_phases.py

## Sweep throughput with 1 and 2 workers, and the driver's memory at 100 vs 1,000 runs.
bench-sweep: $(STAMP)
	$(PY) benchmarks/bench_sweep.py

## How long the shipped Morris screening takes: one eighth of it on 2 workers, extrapolated (--full: all).
bench-sensitivity: $(STAMP)
	$(PY) benchmarks/bench_sensitivity.py

## ABC-SMC calibration of the status quo on 2013-2019, per model variant (model/vraem/data/calibration.yaml;
## VARIANT=full for one); each posterior and manifest is copied to model/vraem/data/posteriors/<variant>.
## ORIGIN=2017: a rolling origin instead, fitted up to 2017 only (results/calibration/<variant>-to2017/,
## shipped as posteriors/<variant>-to2017.*).
VARIANT ?= all
ORIGIN ?=
calibrate: $(STAMP)
	$(VENV)/bin/vraem calibrate --variant $(VARIANT) --out results/calibration --ship $(if $(ORIGIN),--origin $(ORIGIN))

## Rolling origins (vraem.observed.ROLLING_ORIGINS): calibrate every variant up to each origin and
## ship it, then score each origin on the surveys up to the next one (results/history/scores_to<origin>.csv;
## docs/validation.md). Tens of minutes of both cores per variant and origin.
ORIGINS ?= 2015 2017
rolling-origins: $(STAMP)
	for origin in $(ORIGINS); do \
	    $(VENV)/bin/vraem calibrate --variant $(VARIANT) --out results/calibration --ship --origin $$origin || exit 1; \
	done
	for origin in $(ORIGINS); do \
	    $(VENV)/bin/vraem validate-history --origin $$origin --draws $(HISTORY_DRAWS) --households 2000 --out results/history || exit 1; \
	done

## Time to a final-generation ESS >= 500 for one variant (default full) on this machine's cores.
bench-calibrate: $(STAMP)
	$(PY) benchmarks/bench_calibrate.py

## Coverage of the calibration's credible intervals over synthetic datasets (Prangle et al. 2014):
## a reference table of prior runs, each held-out run's rejection-ABC posterior (results/sbc/, docs/calibration.md).
sbc: $(STAMP)
	$(PY) -m vraem.sbc --out results/sbc

## Every documented pattern of the valley's history under each model variant, over posterior draws,
## and the variants' leave-future-out scores of 2020-2024 (results/history/; docs/validation.md).
HISTORY_DRAWS ?= 30
validate-history: $(STAMP)
	$(VENV)/bin/vraem validate-history --draws $(HISTORY_DRAWS) --households 2000 --out results/history

## Rewrite the stored seeded baseline summary (tests/data/baseline.json) after a deliberate model change.
baseline: $(STAMP)
	$(PY) -m tests.baseline --refresh

clean:
	rm -rf $(VENV) $(LOWEST) results build site *.egg-info

## The classroom browser app (Mesa SolaraViz) on 127.0.0.1:8765; `make ui PORT=9000` for another port.
PORT ?= 8765
ui: $(STAMP)
	$(VENV)/bin/vraem ui --port $(PORT)

## How many months per second the classroom app can play (model step plus drawing a frame).
bench-ui: $(STAMP)
	$(PY) benchmarks/bench_ui.py
