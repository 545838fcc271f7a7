"""Print pip constraints that pin every direct dependency of vraem to its lowest allowed version.

``make test-lowest`` installs the project with these constraints (``pip install -c``) and runs the
fast tests, so a floor in ``pyproject.toml`` that is too low (an API the code uses is newer) fails
there rather than on a user's machine. Each requirement of ``[project] dependencies`` must have a
``>=`` floor; its extras are dropped (pip constraints take a name and a version only), the extras'
own requirements are left free.

Usage: ``python tools/lowest_constraints.py`` prints the constraints; ``--check`` instead prints
the installed version of each direct dependency and fails unless it is the floor.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")
FLOOR = re.compile(r">=\s*([^,\s]+)")


def lowest_constraints(pyproject: Path) -> list[str]:
    """``name==floor`` for every direct dependency; raises ValueError for one without a floor."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines = []
    for text in project["dependencies"]:
        m = REQUIREMENT.match(text)
        if not m:
            raise ValueError(f"{pyproject}: cannot read the requirement {text!r}")
        name, _, spec, marker = m.groups()
        floor = FLOOR.search(spec)
        if not floor:
            raise ValueError(f"{pyproject}: {text!r} has no >= floor to test")
        lines.append(f"{name}=={floor.group(1)}" + (f" {marker}" if marker else ""))
    return lines


def same_release(a: str, b: str) -> bool:
    """``2.1`` and ``2.1.0`` are the same release."""
    pa, pb = a.split("."), b.split(".")
    n = max(len(pa), len(pb))
    return pa + ["0"] * (n - len(pa)) == pb + ["0"] * (n - len(pb))


def check_installed(constraints: list[str]) -> list[str]:
    """Problems: direct dependencies whose installed version is not their floor."""
    problems = []
    for line in constraints:
        name, floor = line.split()[0].split("==")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        print(f"{name}: floor {floor}, installed {installed}")
        if not same_release(installed, floor):
            problems.append(f"{name} {installed} is not the floor {floor}")
    return problems


def main() -> None:
    """Print the constraints, or with ``--check`` compare them with what is installed."""
    try:
        constraints = lowest_constraints(PYPROJECT)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    if sys.argv[1:] == ["--check"]:
        problems = check_installed(constraints)
        if problems:
            sys.exit("error: " + "; ".join(problems))
    else:
        print("\n".join(constraints))


if __name__ == "__main__":
    main()
