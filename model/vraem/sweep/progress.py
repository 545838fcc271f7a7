"""Progress of a sweep in the terminal: a rich bar on a TTY, plain lines otherwise."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class _RateColumn(ProgressColumn):
    """Runs per minute, from rich's recent-speed estimate."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- runs/min" if speed is None else f"{speed * 60:,.1f} runs/min", style="cyan")


class RichProgress:
    """A live bar: runs done/total, percent, rate, elapsed, ETA, failures."""

    def __init__(self, console: Console):
        self._progress = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            console=console,
        )
        self._task = None

    def start(self, total: int, done: int, failed: int) -> None:  # noqa: D102
        self._progress.start()
        self._task = self._progress.add_task("sweep", total=total, completed=done, failed=failed)

    def update(self, done: int, failed: int) -> None:  # noqa: D102
        self._progress.update(self._task, completed=done, failed=failed)

    def stop(self) -> None:  # noqa: D102
        self._progress.stop()


class PlainProgress:
    """One line every ``every`` seconds (and at the end): for logs and batch jobs."""

    def __init__(self, console: Console, every: float = 10.0):
        self._console = console
        self._every = every

    def start(self, total: int, done: int, failed: int) -> None:  # noqa: D102
        self._total, self._first, self._done, self._failed = total, done, done, failed
        self._t0 = self._last = time.monotonic()
        self._line()

    def update(self, done: int, failed: int) -> None:  # noqa: D102
        self._done, self._failed = done, failed
        if time.monotonic() - self._last >= self._every:
            self._line()

    def stop(self) -> None:  # noqa: D102
        self._line()

    def _line(self) -> None:
        self._last = now = time.monotonic()
        ran = self._done - self._first
        rate = ran / (now - self._t0) * 60 if now > self._t0 and ran else 0.0
        left = self._total - self._done
        eta = _duration(left / rate * 60) if rate else "--"
        pct = 100 * self._done / self._total if self._total else 100.0
        self._console.print(
            f"sweep: {self._done}/{self._total} runs ({pct:.0f}%), {rate:,.1f} runs/min, "
            f"ETA {eta}, {self._failed} failed",
            highlight=False,
        )


def terminal_progress(console: Console) -> RichProgress | PlainProgress:
    """Choose a rich bar when the console is a terminal, plain lines otherwise."""
    return RichProgress(console) if console.is_terminal else PlainProgress(console)
