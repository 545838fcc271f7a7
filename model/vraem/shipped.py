"""The scenarios and experiments that ship with vraem.

They live in the top-level ``scenarios/`` and ``experiments/`` folders of a source checkout, where
students edit them, and are also built into the package as ``vraem/scenarios`` and
``vraem/experiments`` (see ``pyproject.toml``), so a plain ``pip install`` finds them by name. In a
checkout the top-level folders win, so an edit shows at once without reinstalling.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

KINDS = ("scenarios", "experiments")
"""The kinds of shipped file, each a folder of ``*.yaml``."""


def shipped_folder(kind: str) -> Path:
    """The folder of shipped ``kind`` files: the checkout's top-level folder, else the package's."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of shipped file {kind!r} (allowed: {', '.join(KINDS)})")
    root = Path(__file__).resolve().parent.parent.parent
    if (root / "pyproject.toml").is_file() and (root / kind).is_dir():
        return root / kind
    # Through the regular package vraem: vraem.scenarios itself has no __init__.py (the folder is
    # the students'), so files("vraem.scenarios") would give a namespace MultiplexedPath.
    shipped = resources.files("vraem").joinpath(kind)
    if not isinstance(shipped, Path):
        raise RuntimeError(f"vraem's shipped {kind} are not files on disk ({shipped}): install from a wheel")
    return shipped


def shipped_names(kind: str) -> list[str]:
    """Names (file stems) of the shipped ``kind`` files, sorted."""
    return sorted(p.stem for p in shipped_folder(kind).glob("*.yaml"))


def copy_shipped(dest: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy every shipped scenario and experiment into ``dest/scenarios`` and ``dest/experiments``.

    Returns the files written. Existing files are kept unless ``overwrite``; the caller reports them.
    """
    written = []
    for kind in KINDS:
        out = dest / kind
        out.mkdir(parents=True, exist_ok=True)
        for src in sorted(shipped_folder(kind).glob("*.yaml")):
            target = out / src.name
            if target.exists() and not overwrite:
                continue
            shutil.copyfile(src, target)
            written.append(target)
    return written
