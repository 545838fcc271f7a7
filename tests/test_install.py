"""A plain (not editable) install works from any folder, as a new user gets it with `pip install .`.

The wheel is built from a copy of this checkout with ``pip wheel --no-deps --no-build-isolation``
(setuptools comes from the dev extra, so no download), and installed with ``pip install --no-deps
--no-index`` into a fresh venv in a temporary folder. That venv does not see this checkout nor the
project's editable install: its only link to the outer ``.venv`` is a ``.pth`` file that appends
the outer site-packages to ``sys.path``, so the dependencies (Mesa, pandas, Dask ...) are reused
without a download and in seconds. Python does not read ``.pth`` files inside a folder added that
way, so the outer editable install's import hook never runs, and the venv's own site-packages
comes first on the path: ``import vraem`` can only find the wheel's copy (a test checks that it
does). Whether the wheel *declares* its dependencies right is `make test-lowest`'s job, which
installs them from the registry.

The commands run from a temporary folder that holds a user's own ``model.py`` which raises if
imported (Mesa's tutorials name their model file so), and no ``scenarios/`` folder.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "model" / "vraem"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "results", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "test-artifacts"
)
USER_MODEL = 'raise RuntimeError("the user\'s own model.py was imported instead of vraem")\n'


def run(*args: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a command; fail the test with its output if it fails."""
    args = [str(a) for a in args]
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_citation_matches_pyproject():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"cff-version", "message", "title", "authors"} <= set(cff)
    assert str(cff["version"]) == VERSION
    assert cff["license"] == PYPROJECT["project"]["license"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_installed_setuptools_meets_the_build_system():
    """The wheel below is built without isolation: this venv's setuptools must be a valid backend."""
    for text in PYPROJECT["build-system"]["requires"]:
        req = Requirement(text)
        assert req.specifier.contains(metadata.version(req.name), prereleases=True), (
            f"build-system needs {req}; `make setup` installs the dev extra, which must match it"
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of the checkout (the checkout gets no build files)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    run(
        *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"),
        *("-w", tmp / "dist", src),
        cwd=tmp,
        env=os.environ.copy(),
    )
    (found,) = (tmp / "dist").glob("vraem-*.whl")
    return found


@pytest.mark.slow
def test_wheel_holds_every_subpackage_and_data_file(wheel):
    """Every file under model/vraem (so every subpackage's __init__.py) is in the wheel.

    pyproject's ``packages`` list is explicit: a new subpackage missing from it would otherwise
    install without complaint and fail only on a user's machine.
    """
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [
        "vraem/" + path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*"))
        if path.is_file()
        and "__pycache__" not in path.parts
        and "vraem/" + path.relative_to(PACKAGE).as_posix() not in names
    ]
    for kind in ("scenarios", "experiments"):
        for path in sorted((ROOT / kind).glob("*.yaml")):
            if f"vraem/{kind}/{path.name}" not in names:
                missing.append(f"vraem/{kind}/{path.name}")
    assert not missing, f"not in the wheel (add to [tool.setuptools] packages / package-data): {missing}"
    subpackages = {p.parent for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts}
    assert len(subpackages) >= 6
    dist_info = f"vraem-{VERSION}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    meta = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: MIT" in meta
    assert "Requires-Dist: pillow" in meta


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the wheel installed, and the environment to run its commands in."""
    tmp = tmp_path_factory.mktemp("installed")
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp, env=os.environ.copy())
    python = venv / "bin" / "python"
    (purelib,) = Path(venv / "lib").glob("python3.*/site-packages")
    outer = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "vraem_test_outer_site_packages.pth").write_text("".join(f"{p}\n" for p in outer))
    run(
        *(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q"),
        wheel,
        cwd=tmp,
        env=os.environ.copy(),
    )
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    home = tmp / "home"
    home.mkdir()
    (home / "model.py").write_text(USER_MODEL)
    return home, env


@pytest.mark.slow
def test_import_vraem_beside_a_users_model_py(installed):
    home, env = installed
    code = (
        "import vraem, sys\n"
        "from vraem import load_scenario, run_once, outcomes\n"
        "from vraem.shipped import shipped_folder\n"
        "print(vraem.__file__)\n"
        "print(shipped_folder('scenarios'))\n"
        "print(shipped_folder('experiments'))\n"
        "print(sorted(m for m in sys.modules if m == 'model' or m.startswith('model.')))\n"
    )
    out = run("python", "-c", code, cwd=home, env=env).stdout.splitlines()
    venv = str(home.parent / "venv")
    assert out[0].startswith(venv) and out[0].endswith("site-packages/vraem/__init__.py"), out[0]
    assert out[1].startswith(venv) and out[1].endswith("vraem/scenarios"), out[1]
    assert out[2].startswith(venv) and out[2].endswith("vraem/experiments"), out[2]
    assert out[3] == "[]"
    assert str(ROOT) not in "\n".join(out)


@pytest.mark.slow
def test_installed_cli_finds_the_shipped_files_by_name(installed):
    home, env = installed
    listing = run("vraem", "scenarios", cwd=home, env=env).stdout
    for name in ("status_quo", "eradication_first", "default", "policy_comparison"):
        assert name in listing
    assert "does not load" not in listing

    run("vraem", "run", "status_quo", "--months", "12", "--replicates", "1", "--out", "r", cwd=home, env=env)
    manifest = json.loads((home / "r" / "manifest.json").read_text())
    assert manifest["vraem_version"] == VERSION
    assert manifest["git_commit"] == f"none: installed package vraem {VERSION}"
    assert manifest["packages"]["vraem"] == VERSION
    assert "unknown" not in json.dumps({k: manifest[k] for k in ("vraem_version", "git_commit", "packages")})
    assert (home / "r" / "results.parquet").is_file() and (home / "r" / "coca_ha.png").is_file()

    code = (
        "from vraem.sweep import load_experiment\n"
        "from vraem.ui.classroom import scenario_choices\n"
        "e = load_experiment('default')\n"
        "print(e.spec.name, len(e.scenarios), e.n_runs)\n"
        "print(scenario_choices()[0], len(scenario_choices()))\n"
    )
    exp_line, ui_line = run("python", "-c", code, cwd=home, env=env).stdout.splitlines()
    assert exp_line.startswith("default 3 ")
    assert ui_line == f"status_quo {len(list((ROOT / 'scenarios').glob('*.yaml')))}"

    run(
        *("vraem", "sweep", "default", "--workers", "1", "--out", "s"),
        *("--set", "months=3", "--set", "farmer.n_households=200"),
        cwd=home,
        env=env,
    )
    runs = [json.loads(line) for line in (home / "s" / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == int(exp_line.split()[2])
    assert all(r["status"] == "ok" for r in runs)


@pytest.mark.slow
def test_init_copies_editable_files_that_run(installed):
    home, env = installed
    run("vraem", "init", "mine", cwd=home, env=env)
    for kind in ("scenarios", "experiments"):
        shipped = sorted(p.name for p in (ROOT / kind).glob("*.yaml"))
        assert sorted(p.name for p in (home / "mine" / kind).glob("*.yaml")) == shipped
    copy = home / "mine" / "scenarios" / "status_quo.yaml"
    copy.write_text(copy.read_text().replace("name: status_quo", "name: my_status_quo"))
    run(
        *("vraem", "run", copy.relative_to(home), "--months", "6"),
        *("--set", "farmer.n_households=300", "--out", "mine_run"),
        cwd=home,
        env=env,
    )
    manifest = json.loads((home / "mine_run" / "manifest.json").read_text())
    assert manifest["scenarios"][0]["name"] == "my_status_quo"
