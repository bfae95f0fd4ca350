"""A job's output file: locked while a job writes it, checked before anything is appended.

:func:`open_output` opens (or creates) the file and takes an exclusive ``flock`` on it, so a
second process writing the same file is refused instead of writing every row twice.
:func:`resume_point` streams an existing file (memory: the indices done, not the rows), refuses a
file that is not limelight output or was made with other texts or settings, and cuts a last line
that an interruption left unfinished by truncating the file in place (never by rewriting it), so
no complete row can be lost however the process dies.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import BinaryIO

from limelight.errors import InvalidInputError
from limelight.jobs.records import HEADER_PREFIX, differences, is_header, parse

if sys.platform != "win32":
    import fcntl

_OTHER_FILE = "write to another file, or delete it to start over"


def open_output(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for appending (created if missing) and locked against other writers."""
    handle = open(path, "ab+")  # noqa: SIM115  (the caller owns and closes it)
    if sys.platform != "win32":
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InvalidInputError(
                f"{path} is being written by another limelight job (it holds the file's lock); "
                "wait for that job to finish, or give this one another output file"
            ) from None
    return handle


def resume_point(
    handle: BinaryIO, path: str | os.PathLike[str], settings: dict[str, object], digest: Callable[[int], str | None]
) -> set[int]:
    """The indices already in ``path``, after checking every line and cutting an unfinished last one.

    ``digest(i)`` is the hash of text ``i`` of this job (``None`` when the job has no text ``i``).
    A file left empty (new, or only an unfinished header) still needs its header.
    """
    handle.seek(0)
    done: set[int] = set()
    end, headers, torn = 0, 0, b""
    for number, line in enumerate(handle, 1):
        if not line.endswith(b"\n"):
            torn = line
            break
        record = parse(line, path, number)
        end += len(line)
        if record is None:
            continue
        if is_header(record):
            _check_settings(record.get("settings"), settings, path, number)
            headers += 1
            continue
        if not headers:
            raise InvalidInputError(
                f"{path} has no header recording the texts and settings it was made with (limelight before job headers), "
                f"so it cannot be checked against this job; nothing was changed: {_OTHER_FILE}"
            )
        index = int(record["index"])
        expected = digest(index)
        if expected is None or expected != record.get("sha256"):
            raise InvalidInputError(
                f"{path} was made with other texts: line {number} holds text {index}, which is not text {index} of this job; "
                f"nothing was changed: {_OTHER_FILE}"
            )
        done.add(index)
    if torn:
        if not headers and not torn.startswith(HEADER_PREFIX[: len(torn)]):
            raise InvalidInputError(f"{path} is not limelight output (it has no limelight header); nothing was changed: {_OTHER_FILE}")
        handle.truncate(end)  # the unfinished line is redone; complete lines are never rewritten
    elif end and not headers:
        raise InvalidInputError(f"{path} is not limelight output (it holds only blank lines); nothing was changed: {_OTHER_FILE}")
    return done


def _check_settings(recorded: object, settings: dict[str, object], path: str | os.PathLike[str], number: int) -> None:
    changed = differences(recorded, settings)
    if changed:
        raise InvalidInputError(
            f"{path} was made with other settings (header on line {number}): {'; '.join(changed)}; nothing was changed: {_OTHER_FILE}"
        )
