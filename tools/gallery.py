"""Draw the report figures of the shipped experiments into docs/gallery/ (``make gallery``).

For each experiment named on the command line (default: those of ``make run`` and the shipped policy
and replanting sweeps), this runs ``vraem sweep experiments/NAME.yaml --out results/NAME`` (which
resumes, so finished runs are not redone; ``--restart`` redoes them all after a model change),
draws the report with ``vraem.report.build_report`` and copies each figure's PNG to
``docs/gallery/NAME/``. It records in ``docs/gallery/gallery.json`` the experiment's description,
the commands that draw the same figures, and each figure's title and caption as the report wrote
them; the site's gallery page is generated from that file (``tools/docs_hooks.py``), so it never
states a number the figures do not show.

Usage: ``python tools/gallery.py [NAME ...] [--restart] [--no-run]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import yaml

from vraem.report import build_report
from vraem.results import load_results
from vraem.runner import git_commit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("default", "policy_comparison", "replanting_sweep")
OUT = ROOT / "docs" / "gallery"


def sweep_commands(name: str, results: Path) -> list[str]:
    """The commands a reader runs to draw the same figures."""
    rel = results.relative_to(ROOT) if results.is_relative_to(ROOT) else results
    return [
        f"vraem sweep experiments/{name}.yaml --out {rel}",
        f"vraem report {rel}    # report.html, and report_figures/ in PNG and SVG",
    ]


def run_experiment(name: str, results: Path, restart: bool) -> None:
    """Run (or resume) the shipped experiment ``name`` into ``results`` with the ``vraem`` command."""
    vraem = Path(sys.executable).with_name("vraem")
    cmd = [str(vraem), "sweep", str(ROOT / "experiments" / f"{name}.yaml"), "--out", str(results)]
    if restart:
        cmd.append("--restart")
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.exit(
            f"gallery: {' '.join(cmd)} exited with {done.returncode} (if it refused to resume results "
            "of an older model, rerun with --restart: make gallery GALLERY_FLAGS=--restart)"
        )


def draw(name: str, results: Path, out: Path) -> dict:
    """Draw the report of ``results`` and copy its figures to ``out/name``; the gallery entry."""
    spec = yaml.safe_load((ROOT / "experiments" / f"{name}.yaml").read_text(encoding="utf-8"))
    target = out / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        report = build_report(load_results(results), Path(tmp) / "report.html", formats=("png",))
        for fig in report.figures:
            if fig.png is None or fig.failed:
                continue
            shutil.copyfile(fig.png, target / fig.png.name)
            figures.append(
                {
                    "title": fig.title,
                    "section": fig.section,
                    "caption": fig.caption,
                    "image": f"gallery/{name}/{fig.png.name}",
                }
            )
    return {
        "name": name,
        "title": f"`{name}`: {spec.get('name', name)}" if spec.get("name") != name else f"`{name}`",
        "description": " ".join(str(spec.get("description", "")).split()),
        "commands": sweep_commands(name, results),
        "drawn": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, code {git_commit()}",
        "figures": figures,
    }


def main(argv: list[str] | None = None) -> None:
    """Run, draw and record the gallery."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(DEFAULT), help="shipped experiments to draw")
    parser.add_argument("--results", type=Path, default=ROOT / "results", help="where results/NAME live")
    parser.add_argument("--out", type=Path, default=OUT, help="the gallery folder (docs/gallery)")
    parser.add_argument("--restart", action="store_true", help="rerun every experiment from scratch")
    parser.add_argument("--no-run", action="store_true", help="only draw experiments already run")
    args = parser.parse_args(argv)

    index = args.out / "gallery.json"
    known = {}
    if index.exists():
        known = {e["name"]: e for e in json.loads(index.read_text(encoding="utf-8"))["experiments"]}
    for name in args.names:
        if not (ROOT / "experiments" / f"{name}.yaml").exists():
            sys.exit(f"gallery: no shipped experiment {name!r} (experiments/{name}.yaml)")
        results = args.results.resolve() / name
        if not args.no_run:
            run_experiment(name, results, args.restart)
        elif not (results / "manifest.json").exists():
            print(f"gallery: skipping {name}: {results} has no results (run without --no-run)")
            continue
        known[name] = draw(name, results, args.out)
        print(f"gallery: {len(known[name]['figures'])} figures of {name} in {args.out / name}")
    order = [n for n in DEFAULT if n in known] + sorted(n for n in known if n not in DEFAULT)
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(
        json.dumps({"experiments": [known[n] for n in order]}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
