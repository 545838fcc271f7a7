"""A sweep's folder on disk: written run by run, readable at any moment, safe to resume.

Layout::

    DIR/manifest.json           kind "sweep", the experiment, points, scenarios, seeds, provenance
    DIR/runs.jsonl              the log: one JSON line per finished run (ok or failed)
    DIR/parts/*.parquet         tidy monthly rows of the runs logged as ok
    DIR/maps/district.npy       the district raster
    DIR/maps/<scenario>/p<point>-r0.npz   coca ha per cell at the map months (replicate 0)

The log is the single source of truth. Results are committed in batches: the batch's Parquet part
is written to a temporary name, flushed to disk and renamed (atomic on POSIX), and only then are
its runs appended to ``runs.jsonl`` and the log fsynced. A crash between the two leaves a part that
no log line names: readers ignore it and the next session deletes it and runs those again. A torn
last log line is ignored and cut off on resume. A run id that is logged ok twice is read once
(from the part named by its last line), so a folder never yields duplicates.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vraem.user_input import check_regular_file

LOG = "runs.jsonl"
MANIFEST = "manifest.json"
PARTS = "parts"
MAPS = "maps"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, write) -> None:
    """Write a file through ``write(fileobj)`` to a temporary name, fsync, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Write text atomically (temporary file, fsync, rename)."""
    atomic_write_bytes(path, lambda f: f.write(text.encode("utf-8")))


def read_log(folder: Path) -> dict[str, dict[str, Any]]:
    """Read the last log record of every run id, skipping a torn or unreadable line."""
    records: dict[str, dict[str, Any]] = {}
    path = folder / LOG
    if not path.exists():
        return records
    with path.open("rb") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("run_id"), str):
                records[rec["run_id"]] = rec
    return records


def ok_runs(records: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Run id -> the part holding it, for runs whose last record is ok (and names a part file)."""
    return {
        rid: rec["part"]
        for rid, rec in records.items()
        if rec.get("status") == "ok" and isinstance(rec.get("part"), str) and _is_part_name(rec["part"])
    }


def _is_part_name(name: str) -> bool:
    """A bare ``*.parquet`` file name (a log line never points outside ``parts/``)."""
    return name.endswith(".parquet") and Path(name).name == name and not name.startswith(".")


class CorruptFileError(ValueError):
    """A file of the sweep folder that cannot be read (truncated, overwritten, foreign)."""


def map_path(folder: Path, scenario: str, point: int, replicate: int) -> Path:
    """Where the coca maps of one run live."""
    return folder / MAPS / scenario / f"p{point}-r{replicate}.npz"


class SweepStore:
    """Appends finished runs to a sweep folder (one writer at a time)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.parts = self.folder / PARTS
        self.parts.mkdir(parents=True, exist_ok=True)
        (self.folder / MAPS).mkdir(exist_ok=True)
        self._session = uuid.uuid4().hex[:8]
        self._seq = 0
        self._repair_log()
        self.records = read_log(self.folder)
        self._remove_orphans()
        self._log = (self.folder / LOG).open("ab")

    # -- recovery ----------------------------------------------------------------------------

    def _repair_log(self) -> None:
        """Cut a torn last line (a crash while appending) so that new lines start cleanly."""
        path = self.folder / LOG
        if not path.exists():
            return
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            with path.open("r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)
                f.flush()
                os.fsync(f.fileno())

    def _remove_orphans(self) -> None:
        """Delete temporary files and parts that no log line names (their runs will run again)."""
        named = {rec.get("part") for rec in self.records.values()}
        for p in self.parts.iterdir():
            if p.name.startswith(".tmp-") or (p.suffix == ".parquet" and p.name not in named):
                p.unlink(missing_ok=True)

    # -- writing -----------------------------------------------------------------------------

    def done(self) -> set[str]:
        """Run ids finished ok."""
        return set(ok_runs(self.records))

    def write_maps(
        self, scenario: str, point: int, replicate: int, maps: dict[int, np.ndarray]
    ) -> None:
        """Save one run's coca maps (month -> 2-D array) atomically."""
        arrays = {f"m{month}": np.asarray(grid, dtype=np.float32) for month, grid in maps.items()}
        atomic_write_bytes(
            map_path(self.folder, scenario, point, replicate),
            lambda f: np.savez_compressed(f, **arrays),
        )

    def write_district(self, district: np.ndarray) -> None:
        """Save the district raster once."""
        path = self.folder / MAPS / "district.npy"
        if not path.exists():
            atomic_write_bytes(path, lambda f: np.save(f, district))

    def commit(self, tables: list[pd.DataFrame], records: list[dict[str, Any]]) -> None:
        """Commit a batch: ok runs' tables as one part, then every record in the log."""
        part = None
        if tables:
            self._seq += 1
            part = f"part-{self._session}-{self._seq:06d}.parquet"
            table = pd.concat(tables, ignore_index=True)
            atomic_write_bytes(self.parts / part, lambda f: table.to_parquet(f, index=False))
        lines = []
        for rec in records:
            if rec["status"] == "ok":
                rec = {**rec, "part": part}
            self.records[rec["run_id"]] = rec
            lines.append(json.dumps(rec, default=str) + "\n")
        self._log.write("".join(lines).encode("utf-8"))
        self._log.flush()
        os.fsync(self._log.fileno())

    def close(self) -> None:
        """Close the log."""
        self._log.close()


# ---------------------------------------------------------------------------------------------
# Reading


def read_table(folder: str | Path, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read the monthly rows of every run logged ok, each run once.

    Args:
        folder: A sweep folder.
        columns: Only these columns (``run_id`` is read as well, to drop strays).

    """
    folder = Path(folder)
    by_part: dict[str, set[str]] = {}
    for rid, part in ok_runs(read_log(folder)).items():
        by_part.setdefault(part, set()).add(rid)
    cols = None if columns is None else list(dict.fromkeys([*columns, "run_id"]))
    frames = []
    for part in sorted(by_part):
        path = folder / PARTS / part
        try:
            check_regular_file(path, "a Parquet part")
            t = pd.read_parquet(path, columns=cols)
        except (OSError, ValueError, KeyError) as exc:
            reason = " ".join(str(exc).split())[:200]
            raise CorruptFileError(
                f"{path}: not a readable Parquet part ({type(exc).__name__}: {reason}); "
                f"rerun the sweep with --restart, or delete its lines from {LOG} to run them again"
            ) from None
        if "run_id" not in t.columns:
            raise CorruptFileError(f"{path}: not a part of a vraem sweep (no run_id column)")
        wanted = by_part[part]
        if len(wanted) != t["run_id"].nunique():
            t = t[t["run_id"].isin(wanted)]
        frames.append(t)
    if not frames:
        raise FileNotFoundError(f"{folder}: no finished runs yet")
    table = pd.concat(frames, ignore_index=True)
    if columns is not None and "run_id" not in columns:
        table = table.drop(columns="run_id")
    sort = [c for c in ("scenario", "point", "replicate", "month") if c in table.columns]
    return table.sort_values(sort, kind="stable", ignore_index=True) if sort else table


def read_maps(
    folder: str | Path,
) -> tuple[dict[tuple[str, int, int, int], np.ndarray], np.ndarray | None]:
    """Coca maps of finished runs keyed (scenario, point, replicate, month), and the districts."""
    ok = set(ok_runs(read_log(Path(folder))))
    folder = Path(folder) / MAPS
    maps: dict[tuple[str, int, int, int], np.ndarray] = {}
    district = None
    if (folder / "district.npy").exists():
        district = _load_npy(folder / "district.npy")
    if folder.exists():
        for path in sorted(folder.glob("*/p*-r*.npz")):
            point, _, rep = path.stem[1:].partition("-r")
            if f"{path.parent.name}/p{point}/r{rep}" not in ok:
                continue  # written by a run that did not finish (or not a map of this sweep)
            try:
                check_regular_file(path, "an .npz file")
                with path.open("rb") as f, np.load(f) as data:
                    for key in data.files:
                        maps[(path.parent.name, int(point), int(rep), int(key[1:]))] = data[key]
            except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, AttributeError) as exc:
                raise CorruptFileError(
                    f"{path}: not a readable map file ({type(exc).__name__}); delete it to go without"
                ) from None
    return maps, district


def _load_npy(path: Path) -> np.ndarray:
    try:
        check_regular_file(path, "a .npy file")
        with path.open("rb") as f:
            return np.load(f)
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptFileError(
            f"{path}: not a readable district raster ({type(exc).__name__}); delete it to go without"
        ) from None
