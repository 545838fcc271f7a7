"""Running a sweep on Dask distributed: one task per run, streamed to disk, resumable.

Every (scenario, point, replicate) is one call of :func:`vraem.runner.run_once` in a Dask worker:
by default a :class:`distributed.LocalCluster` of single-threaded worker processes on this machine,
or any running cluster given by its scheduler address (``dask scheduler``/``dask worker`` by hand,
dask-jobqueue on SLURM or PBS, Kubernetes ...).

The driver keeps a bounded number of tasks in flight (``distributed.as_completed`` refilled as
results arrive), so its memory stays flat however many runs the experiment has, and commits
finished runs to the folder in small batches (:class:`vraem.sweep.store.SweepStore`). Starting the
same command again after an interruption skips the runs already logged; a run that raised is
logged with its error, does not stop the sweep, and is tried again on the next start.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import resource
import shutil
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from vraem.runner import provenance, run_once, scenario_record
from vraem.sweep.experiment import ExperimentError, LoadedExperiment, RunSpec
from vraem.sweep.store import MANIFEST, SweepStore, atomic_write_text
from vraem.user_input import echo, read_text_file


class SweepError(RuntimeError):
    """A sweep that cannot start or go on (no scheduler, lost scheduler), for people."""


class Progress(Protocol):
    """Receives the sweep's progress."""

    def start(self, total: int, done: int, failed: int) -> None:
        """Begin, before the first task."""

    def update(self, done: int, failed: int) -> None:
        """Show the counts after each finished run."""

    def stop(self) -> None:
        """End (also after an interruption)."""


@dataclass
class SweepSummary:
    """What a sweep session did, and the state of the folder afterwards."""

    out: Path
    total: int
    done: int
    """Runs finished ok (this session and earlier ones)."""
    failed: int
    """Runs whose last attempt raised."""
    ran: int = 0
    """Runs finished in this session (ok or failed)."""
    skipped: int = 0
    """Runs already finished before this session."""
    seconds: float = 0.0
    interrupted: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(run id, error) of this session's failures (the first 20)."""
    peak_rss_mb: float = 0.0
    """Peak resident memory of this (driver) process."""

    @property
    def complete(self) -> bool:
        """Every run finished ok."""
        return self.done == self.total


# ---------------------------------------------------------------------------------------------
# The task


MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""glibc serves allocations below this from the heap, not from fresh mmap pages."""


@functools.cache
def relax_malloc_trim() -> bool:
    """Undo the cost of Dask's ``MALLOC_TRIM_THRESHOLD_`` in this worker process (once).

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` to return memory to the
    system. Setting it freezes glibc's mmap threshold at 128 KiB, so every 20,000-household
    array (160 KB) the model makes is a fresh mmap and munmap: measured here, a full-scale run
    took 5.7 s instead of 1.5 s, most of it in the kernel. Raising the mmap threshold with
    ``mallopt`` brings runs back to their single-process speed; memory still goes back to the
    system through trimming. No-op (False) where glibc is not the allocator.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        return False


M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the mmap threshold (malloc.h)."""


def execute_run(spec: RunSpec, with_maps: bool, run: Callable = run_once) -> dict[str, Any]:
    """Run one task in a worker; an exception becomes a failed record instead of propagating.

    Returns a record with ``status`` ``ok`` (and the monthly ``table`` with ``point``, ``run_id``
    and one column per swept key; ``maps`` and ``district`` when ``with_maps``) or ``failed``
    (and ``error``, ``traceback``).
    """
    relax_malloc_trim()
    t0 = time.perf_counter()
    rec: dict[str, Any] = {
        "run_id": spec.run_id,
        "scenario": spec.scenario.name,
        "point": spec.point,
        "replicate": spec.replicate,
        "seed": spec.seed,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        res = run(spec.scenario, spec.replicate, spec.seed)
    except Exception as exc:
        rec.update(
            status="failed",
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=-4),
            seconds=round(time.perf_counter() - t0, 3),
        )
        return rec
    table = res.table
    table.insert(1, "point", spec.point)
    table["run_id"] = spec.run_id
    if spec.params:  # one concat, not a column at a time (a sensitivity run has ~100 keys)
        swept = {k: [v] * len(table) for k, v in spec.params.items()}
        table = pd.concat([table, pd.DataFrame(swept, index=table.index)], axis=1)
    rec.update(status="ok", seconds=round(time.perf_counter() - t0, 3), table=table)
    if with_maps:
        rec.update(maps=res.maps, district=res.district)
    return rec


# ---------------------------------------------------------------------------------------------
# The folder's manifest


def _manifest(loaded: LoadedExperiment) -> dict[str, Any]:
    seeds = loaded.seeds()
    return {
        "kind": "sweep",
        "experiment": loaded.resolved(),
        "experiment_yaml": loaded.text,
        "experiment_path": loaded.path,
        "points": [{"point": i, "params": p} for i, p in enumerate(loaded.points)],
        "swept_parameters": loaded.spec.swept_keys(),
        "scenarios": [scenario_record(e.base, e.text, e.path, seeds) for e in loaded.scenarios],
        "replicates": loaded.spec.replicates,
        "base_seed": loaded.spec.base_seed,
        "runs_total": loaded.n_runs,
    }


def open_sweep_folder(
    loaded: LoadedExperiment, out: Path, note: Callable[[str], None] = print
) -> dict:
    """Write the manifest of a new sweep, or check that ``out`` holds this same sweep.

    Raises:
        ExperimentError: ``out`` holds something else (a run folder, another experiment).

    """
    path = out / MANIFEST
    fresh = _manifest(loaded)
    session = {k: v for k, v in provenance().items() if k != "packages"}
    if path.exists():
        try:
            old = json.loads(read_text_file(path, "a manifest", max_bytes=None))
        except (ValueError, OSError, RecursionError):
            raise ExperimentError(
                f"--out {out}: manifest.json is unreadable; use another folder"
            ) from None
        if not isinstance(old, dict) or old.get("kind") != "sweep":
            kind = old.get("kind") if isinstance(old, dict) else type(old).__name__
            raise ExperimentError(
                f"--out {out}: holds {echo(kind)} results, not a sweep; use another folder"
            )

        def essence(manifest: dict, key: str):
            value = manifest.get(key)
            if key == "scenarios":  # what runs, not where the files were found
                value = [(s.get("name"), s.get("resolved")) for s in value or [] if isinstance(s, dict)]
            return json.dumps(value, sort_keys=True, default=str)

        def same(key: str) -> bool:
            return essence(fresh, key) == essence(old, key)

        for key in ("experiment", "points", "scenarios"):
            if not same(key):
                raise ExperimentError(
                    f"--out {out}: holds a sweep with different {key} (the experiment, scenarios "
                    "or the parameter defaults changed); use another --out, or --restart"
                )
        if old.get("git_commit") != session["git_commit"]:
            before, now = old.get("git_commit"), session["git_commit"]
            note(f"note: the code changed since this sweep started ({before} -> {now})")
        manifest = {**old, "sessions": [*old.get("sessions", []), session]}
    else:
        out.mkdir(parents=True, exist_ok=True)
        manifest = {**fresh, **provenance(), "sessions": [session]}
    atomic_write_text(path, json.dumps(manifest, indent=2, default=str))
    return manifest


RESULT_FILES = (
    "manifest.json",
    "runs.jsonl",
    "parts",
    "maps",
    "compare",
    "results.parquet",
    "maps.npz",
)
"""What ``--restart`` removes from a results folder (sweep and run files); nothing else."""


def clear_results(out: Path) -> None:
    """Remove earlier sweep or run results from ``out`` (for ``vraem sweep --restart``)."""
    for name in RESULT_FILES:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _finish_manifest(out: Path, summary: SweepSummary) -> None:
    path = out / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["status"] = {"total": summary.total, "done": summary.done, "failed": summary.failed}
    if manifest.get("sessions"):
        manifest["sessions"][-1].update(
            finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            ran=summary.ran,
            seconds=round(summary.seconds, 1),
            interrupted=summary.interrupted,
        )
    atomic_write_text(path, json.dumps(manifest, indent=2, default=str))


# ---------------------------------------------------------------------------------------------
# The driver


def connect(workers: int | None = None, scheduler: str | None = None):
    """Connect to ``scheduler`` if given, else start a local cluster of worker processes.

    Returns:
        ``(client, cluster)``; ``cluster`` is None for an external scheduler.

    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # loopback, any free port (None still serves 8787)
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _threads(client) -> int:
    try:
        return sum(client.nthreads().values())
    except Exception:  # a scheduler that went away: the main loop notices
        return 0


def run_sweep(
    loaded: LoadedExperiment,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    max_in_flight: int | None = None,
    progress: Progress | None = None,
    note: Callable[[str], None] = print,
    run: Callable = run_once,
    batch_runs: int = 64,
    batch_seconds: float = 2.0,
    restart: bool = False,
) -> SweepSummary:
    """Run (or resume) every run of an experiment on Dask and stream the results to ``out``.

    Args:
        loaded: The experiment (:func:`vraem.sweep.load_experiment`).
        out: The sweep folder; created, or resumed if it holds this experiment.
        workers: Worker processes of the local cluster (default: one per core).
        scheduler: Address of a running Dask scheduler (``tcp://host:8786``) instead.
        client: An existing ``distributed.Client`` to use instead (not closed here).
        max_in_flight: Tasks submitted at a time (default: twice the cluster's threads, >= 4).
        progress: Receives progress updates.
        note: Prints one-line notes.
        run: The run function (``run_once``'s signature); tests replace it.
        batch_runs: Commit to disk after this many finished runs ...
        batch_seconds: ... or this many seconds since the last commit, whichever first.
        restart: Discard earlier results in ``out`` first instead of resuming.

    Returns:
        The summary. On Ctrl-C (KeyboardInterrupt) the finished runs are committed first and the
        summary has ``interrupted=True``.

    """
    out = Path(out)
    t0 = time.perf_counter()
    if restart:
        clear_results(out)
    open_sweep_folder(loaded, out, note)
    store = SweepStore(out)
    all_ids = loaded.run_ids()
    done = store.done() & all_ids
    failed = {rid for rid, r in store.records.items() if r.get("status") == "failed"} & all_ids
    summary = SweepSummary(out, loaded.n_runs, len(done), len(failed), skipped=len(done))
    todo = (s for s in loaded.runs() if s.run_id not in done)
    if summary.done == summary.total:
        store.close()
        _finish_manifest(out, _final(summary, t0))
        return summary
    if failed:
        note(f"retrying {len(failed)} run(s) that failed before")

    own_client = client is None
    cluster = None
    if own_client:
        client, cluster = connect(workers, scheduler)
    from distributed import as_completed

    buffer_tables: list = []
    buffer_records: list[dict[str, Any]] = []
    last_commit = time.monotonic()
    token = os.urandom(4).hex()
    pending: dict[Any, RunSpec] = {}
    ac = as_completed()

    def flush() -> None:
        nonlocal buffer_tables, buffer_records, last_commit
        if buffer_records:
            store.commit(buffer_tables, buffer_records)
        buffer_tables, buffer_records = [], []
        last_commit = time.monotonic()

    def limit() -> int:
        return max_in_flight or max(4, 2 * _threads(client))

    def submit_one() -> bool:
        spec = next(todo, None)
        if spec is None:
            return False
        fut = client.submit(
            execute_run,
            spec,
            spec.replicate == 0,
            run,
            key=f"vraem-{spec.run_id}-{token}",
            pure=False,
        )
        pending[fut] = spec
        ac.add(fut)
        return True

    def handle(fut) -> None:
        spec = pending.pop(fut)
        try:
            rec = fut.result()
        except (
            Exception
        ) as exc:  # the task never returned: a lost worker (KilledWorker), cancelled ...
            if client.status not in ("running", "connecting"):
                raise SweepError(
                    "lost the Dask scheduler; run the same command again to resume"
                ) from None
            rec = {
                "run_id": spec.run_id,
                "scenario": spec.scenario.name,
                "point": spec.point,
                "replicate": spec.replicate,
                "seed": spec.seed,
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
            }
        finally:
            fut.release()
        table = rec.pop("table", None)
        maps, district = rec.pop("maps", None), rec.pop("district", None)
        if rec["status"] == "ok":
            if maps:
                store.write_maps(spec.scenario.name, spec.point, spec.replicate, maps)
            if district is not None:
                store.write_district(district)
            buffer_tables.append(table)
            summary.done += 1
            if spec.run_id in failed:
                failed.discard(spec.run_id)
                summary.failed -= 1
        else:
            if spec.run_id not in failed:
                failed.add(spec.run_id)
                summary.failed += 1
            if len(summary.failures) < 20:
                summary.failures.append((spec.run_id, rec["error"]))
        buffer_records.append(rec)
        summary.ran += 1

    if progress:
        progress.start(summary.total, summary.done, summary.failed)
    try:
        cap = limit()
        while len(pending) < cap and submit_one():
            pass
        last_cap_check = time.monotonic()
        while pending:
            ready = ac.next_batch(block=False)
            if not ready:
                if buffer_records and time.monotonic() - last_commit >= batch_seconds:
                    flush()
                time.sleep(0.02)
                continue
            for fut in ready:
                handle(fut)
                if progress:
                    progress.update(summary.done, summary.failed)
            if len(buffer_records) >= batch_runs or time.monotonic() - last_commit >= batch_seconds:
                flush()
            if (
                time.monotonic() - last_cap_check > 5.0
            ):  # workers may join or leave (adaptive clusters)
                cap, last_cap_check = limit(), time.monotonic()
            while len(pending) < cap and submit_one():
                pass
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        try:
            flush()
        finally:
            store.close()
            if progress:
                progress.stop()
            if pending:
                client.cancel(list(pending))
            if own_client:
                client.close()
                if cluster is not None:
                    cluster.close()
    _finish_manifest(out, _final(summary, t0))  # the session's seconds, measured so far
    return summary


def _final(summary: SweepSummary, t0: float) -> SweepSummary:
    summary.seconds = time.perf_counter() - t0
    summary.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return summary
