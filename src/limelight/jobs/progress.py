"""How a dataset job shows where it is: a bar with rate and ETA on a terminal, plain lines in logs, a summary at the end.

On a terminal (or with ``show=True``) a ``rich`` bar shows rows done, rows per second and the
time left; otherwise, with ``log_every=seconds``, a plain line such as
``explaining out.parquet: 640/10000 rows, 2 failed, 12.5 rows/s, ETA 12m29s`` goes to stderr at
most that often, so a job in a log or behind a pipe is never silent.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from limelight._progress import wanted
from limelight.jobs.sources import Id


def duration(seconds: float) -> str:
    """``1h02m``, ``12m29s`` or ``4.2s``."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    if seconds >= 60:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{seconds:.1f}s"


@dataclass
class JobSummary:
    """What a job did: rows in its shard, rows found already done, rows written, failed rows with their reasons, time."""

    output: Path
    total: int
    already_done: int = 0
    written: int = 0
    failures: list[tuple[Id, str]] = field(default_factory=list)
    seconds: float = 0.0
    engine: str = "local"

    @property
    def failed(self) -> int:
        """Rows written as failures (their reason is in the output's ``error`` field)."""
        return len(self.failures)

    @property
    def rate(self) -> float:
        """Rows written per second."""
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        lines = [
            f"{self.output}: {self.total} rows in this job, {self.already_done} already done, {self.written} written "
            f"({self.failed} failed) in {duration(self.seconds)} ({self.rate:.1f} rows/s, engine {self.engine})"
        ]
        lines += [f"  failed: id {row_id!r}: {reason}" for row_id, reason in self.failures[:10]]
        if self.failed > 10:
            lines.append(f"  ... and {self.failed - 10} more failed rows (their reasons are in the output's error column)")
        return "\n".join(lines)


class RateLog:
    """Plain ``explaining WHAT: DONE/TOTAL UNIT, [F failed, ]R UNIT/s, ETA T`` lines on stderr, at most one per ``every`` seconds."""

    def __init__(self, what: str, total: int, every: float | None, unit: str = "rows") -> None:
        self.what, self.total, self.every, self.unit = what, total, every, unit
        self.done = 0
        self.start = self.last = time.monotonic()

    def advance(self, count: int, failed: int | None = None) -> None:
        """``count`` more were done (``failed`` of them so far, when counted)."""
        self.done += count
        now = time.monotonic()
        if self.every is not None and now - self.last >= self.every:
            self.last = now
            print(self.line(failed), file=sys.stderr, flush=True)

    def rate(self) -> float:
        """Done per second since the start."""
        elapsed = time.monotonic() - self.start
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self, failed: int | None = None) -> str:
        """The progress line now."""
        rate = self.rate()
        eta = duration((self.total - self.done) / rate) if rate > 0 else "unknown"
        failures = "" if failed is None else f"{failed} failed, "
        return f"explaining {self.what}: {self.done}/{self.total} {self.unit}, {failures}{rate:.1f} {self.unit}/s, ETA {eta}"


class JobProgress:
    """Counts a job's rows as they are written and shows them (see the module docstring)."""

    def __init__(self, summary: JobSummary, todo: int, show: bool | None, log_every: float | None) -> None:
        self.summary, self.todo, self.show = summary, todo, show
        self.log = RateLog(str(summary.output), todo, log_every)
        self._advance: Any = None

    @contextmanager
    def running(self) -> Iterator[JobProgress]:
        """Draw the bar (when wanted) while the job runs; the summary's time is set on exit."""
        try:
            if not wanted(self.show, self.todo):
                yield self
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=Console(stderr=True), transient=self.show is None) as bar:
                task = bar.add_task(f"explaining {self.summary.output.name}", total=self.todo, rate="")
                self._advance = lambda count: bar.update(task, advance=count, rate=f"{self.log.rate():.1f} rows/s")
                yield self
        finally:
            self.summary.seconds = time.monotonic() - self.log.start

    def advance(self, count: int) -> None:
        """``count`` more rows were written."""
        self.summary.written += count
        if self._advance is not None:
            self._advance(count)
        self.log.advance(count, self.summary.failed)
