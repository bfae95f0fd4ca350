"""A progress bar for long perturbation runs, on stderr, only where someone is watching.

``show=None`` (the default) shows it when there are more than :data:`AUTO_MIN_CHUNKS` forwards
to run and stderr is a terminal; ``True`` always, ``False`` never.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

AUTO_MIN_CHUNKS = 20


def wanted(show: bool | None, chunks: int) -> bool:
    """Whether to show a bar for ``chunks`` forwards."""
    if show is None:
        return chunks > AUTO_MIN_CHUNKS and sys.stderr.isatty()
    return show


@contextmanager
def progress(description: str, chunks: int, show: bool | None) -> Iterator[Callable[[], None]]:
    """Yield ``tick()``, to call once per forward; a ``rich`` bar advances with it when shown."""
    if not wanted(show, chunks):
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=show is None) as bar:
        task = bar.add_task(description, total=chunks)
        yield lambda: bar.advance(task)
