"""Ctrl-C during a dataset job: finish the chunk in flight, write it, then stop, so nothing computed is lost.

The first SIGINT only asks the job to stop after the chunk it is explaining has been written (a
model call cannot hand back half a chunk); a second one stops at once, losing that chunk, which a
resume redoes. Outside the main thread (where Python cannot install signal handlers) Ctrl-C
stops at once, as usual.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def stop_after_chunk(what: str) -> Iterator[Callable[[], bool]]:
    """Yield ``requested()``: whether Ctrl-C was pressed once; the job checks it after each chunk it writes."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    presses = [0]

    def handle(signum: int, frame: FrameType | None) -> None:
        presses[0] += 1
        if presses[0] > 1:
            raise KeyboardInterrupt
        print(f"limelight: interrupted; writing the chunk in flight to {what}, then stopping (Ctrl-C again to stop now)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield lambda: presses[0] > 0
    finally:
        signal.signal(signal.SIGINT, previous)
