"""A progress bar for long jobs, shown on a terminal (or on request), silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: int, description: str, show: bool | None = None) -> Iterator[T]:
    """Yield ``items``; with ``show=True``, or ``None`` on an interactive terminal and more than one step, draw a bar."""
    visible = show if show is not None else (total > 1 and sys.stderr.isatty())
    if not visible:
        yield from items
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
