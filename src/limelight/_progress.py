"""Progress bars for long jobs: on stderr, only where someone is watching.

``show=None`` (the default everywhere) draws a bar when stderr is a terminal and the job has more
than ``minimum`` steps, and clears it when done; ``True`` always draws one and leaves it; ``False`` never.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def wanted(show: bool | None, total: int, minimum: int = 1) -> bool:
    """Whether to draw a bar for a job of ``total`` steps."""
    return show if show is not None else (total > minimum and sys.stderr.isatty())


@contextmanager
def progress_bar(description: str, total: int, show: bool | None, minimum: int = 1) -> Iterator[Callable[[], None]]:
    """Yield ``tick()``, to call once per step; a ``rich`` bar advances with it when shown."""
    if not wanted(show, total, minimum):
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=show is None) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


def progress(items: Iterable[T], total: int, description: str, show: bool | None = None) -> Iterator[T]:
    """Yield ``items``, advancing a bar (see :func:`progress_bar`) after each."""
    with progress_bar(description, total, show) as tick:
        for item in items:
            yield item
            tick()
