"""The browser side of Solara, stored locally so that the app works offline.

Solara's page loads its JavaScript and CSS (the Vuetify app, RequireJS, Font Awesome) from a CDN
through its own server, which keeps a copy in ``settings.assets.proxy_cache_dir`` (in the virtual
environment). A classroom, a CI machine or this project's machines may not reach that CDN; all of
them reach the npm registry. :func:`ensure_assets` fills Solara's cache from npm packages (with
``npm pack``) once; afterwards the server serves them from disk and never goes out.

The packages and versions are read from Solara's own page template, so a Solara upgrade asks for
the versions it needs.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PINNED = re.compile(r"/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+(?:-[\w.]+)?)/")
"""``/package@1.2.3/`` (or ``/@scope/package@1.2.3/``) in an asset address."""


class AssetsError(RuntimeError):
    """The web assets are missing and could not be fetched."""


def cache_dir() -> Path:
    """Return Solara's asset cache folder (where its server looks first)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def required_packages() -> list[tuple[str, str]]:
    """Return the npm ``(package, version)`` pairs Solara's page loads, from its template."""
    import solara
    from solara.server import settings

    template = Path(solara.__file__).parent / "server" / "templates" / "solara.html.j2"
    text = template.read_text(encoding="utf-8") + "\n" + settings.assets.fontawesome_path + "/"
    found = {(m.group(1), m.group(2)) for m in PINNED.finditer(text)}
    return sorted(found)


def missing_packages(folder: Path | None = None) -> list[tuple[str, str]]:
    """Return the required packages not yet in the cache."""
    folder = folder or cache_dir()
    return [(p, v) for p, v in required_packages() if not (folder / f"{p}@{v}").is_dir()]


def fetch_package(package: str, version: str, folder: Path) -> Path:
    """Unpack ``package@version`` from the npm registry into ``folder/package@version``."""
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError(
            f"the app's web assets ({package}@{version}) are missing and npm is not installed "
            "to fetch them; install Node.js and npm, then run `vraem ui` again"
        )
    target = folder / f"{package}@{version}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", f"{package}@{version}", "--json", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise AssetsError(f"npm pack {package}@{version} failed: {last}")
        tarball = Path(tmp) / json.loads(proc.stdout)[0]["filename"]
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        root = unpacked / "package"
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(root, staging)
        staging.rename(target)
    return target


def ensure_assets(folder: Path | None = None, announce=None) -> list[Path]:
    """Fetch the missing web assets into Solara's cache; return the folders added."""
    folder = folder or cache_dir()
    added = []
    for package, version in missing_packages(folder):
        if announce:
            announce(f"fetching {package}@{version} from the npm registry (once)")
        added.append(fetch_package(package, version, folder))
    return added


def main() -> None:
    """Fetch the missing assets now (``make ui-assets``), so the first app start is quick."""
    try:
        added = ensure_assets(announce=print)
    except AssetsError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"web assets: {len(added)} fetched, cache {cache_dir()}")


if __name__ == "__main__":
    main()
