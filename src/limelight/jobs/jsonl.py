"""A dataset job: JSON Lines output that survives interruption and splits across machines.

The file starts with a header recording the job's settings, then holds one line per text with
its index and the hash of its text (:mod:`limelight.jobs.records`). Each finished chunk of texts
is appended and flushed, so a job that stops (crash, pre-emption, Ctrl-C) loses at most the chunk
in flight: run it again with ``resume=True`` and it skips the indices already written, after
checking that the file was made with the same texts and settings (:mod:`limelight.jobs.output`).
While a job runs it holds a lock on the file, so a second writer is refused. ``shard=(k, n)``
explains only the texts whose index is ``k`` modulo ``n``, so ``n`` machines (or any job
scheduler) can share a dataset; concatenating their files gives the whole result.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from limelight._progress import progress
from limelight.engine.validation import check_count
from limelight.errors import InvalidInputError
from limelight.jobs.output import open_output, resume_point
from limelight.jobs.records import header, is_header, job_settings, parse, row, text_digest
from limelight.text.explanation import Explanation

Numbered = Sequence[str] | Mapping[int, str]


def explain_to_jsonl(
    explainer: Any,
    texts: Numbered,
    path: str | os.PathLike[str],
    *,
    text_pairs: Numbered | None = None,
    chunk_size: int = 64,
    resume: bool = True,
    shard: tuple[int, int] = (0, 1),
    show_progress: bool | None = None,
    log_every: float | None = None,
    **explain_kwargs: Any,
) -> Path:
    """Explain ``texts`` with a :class:`TextExplainer`, appending ``{"index": i, "sha256": ..., "explanation": ...}`` lines to ``path``.

    ``texts`` is a sequence (text ``i`` has index ``i``) or a mapping from index to text (e.g.
    line numbers, with blank lines left out); ``text_pairs`` has the same indices. With
    ``resume=False`` an existing file is an error rather than being overwritten; with
    ``resume=True`` a file made with other texts or settings, or that is not limelight output,
    is refused and left as it is. ``log_every=seconds`` also prints a plain progress line to
    stderr at most that often (for logs, where no progress bar can be drawn).
    """
    k, n = _check_shard(shard)
    check_count("chunk_size", chunk_size)
    items = _numbered(texts, "texts")
    pairs = None if text_pairs is None else _numbered(text_pairs, "text_pairs")
    if pairs is not None and pairs.keys() != items.keys():
        raise InvalidInputError(f"got {len(pairs)} text pairs for {len(items)} texts; give one pair per text, with the same indices")
    target = Path(path)
    if target.exists() and not resume:
        raise InvalidInputError(f"{target} exists; pass resume=True to continue it, or choose another path")
    settings = job_settings(explainer, explain_kwargs)

    def digest(index: int) -> str | None:
        return text_digest(items[index], None if pairs is None else pairs[index]) if index in items else None

    with open_output(target) as handle:
        done = resume_point(handle, target, settings, digest)
        if os.fstat(handle.fileno()).st_size == 0:
            handle.write(header(settings))
        todo = [i for i in sorted(items) if i % n == k and i not in done]
        chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
        log = _Log(target, len(todo), log_every)
        for chunk in progress(chunks, len(chunks), "explaining dataset", show_progress):
            chunk_pairs = None if pairs is None else [pairs[i] for i in chunk]
            results = explainer.explain([items[i] for i in chunk], chunk_pairs, **explain_kwargs)
            for i, explanation in zip(chunk, results):
                handle.write(row(i, digest(i) or "", explanation.to_dict()))
                handle.flush()
            os.fsync(handle.fileno())
            log.done(len(chunk))
    return target


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, Explanation]]:
    """``(index, explanation)`` pairs from a file written by :func:`explain_to_jsonl`, read line by line.

    Header lines are skipped, and so is a last line cut short by an interruption (it is redone on resume).
    """
    with Path(path).open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = parse(line, path, number)
            except InvalidInputError:
                if not line.endswith(b"\n"):  # an unfinished last line: the write was interrupted
                    return
                raise
            if record is None or is_header(record):
                continue
            try:
                explanation = Explanation.from_dict(record["explanation"])
            except (KeyError, TypeError, ValueError) as error:
                raise InvalidInputError(f"{path}: line {number} is not a complete explanation ({error!r}); the file is corrupt") from None
            yield int(record["index"]), explanation


class _Log:
    """Plain ``explaining PATH: DONE/TOTAL texts`` lines on stderr, at most one per ``every`` seconds."""

    def __init__(self, path: Path, total: int, every: float | None) -> None:
        self.path, self.total, self.every, self.count = path, total, every, 0
        self.last = time.monotonic()

    def done(self, count: int) -> None:
        self.count += count
        now = time.monotonic()
        if self.every is not None and now - self.last >= self.every:
            print(f"explaining {self.path}: {self.count}/{self.total} texts", file=sys.stderr, flush=True)
            self.last = now


def _numbered(texts: Numbered, name: str) -> dict[int, str]:
    """``texts`` as ``{index: text}``, checked to be strings under non-negative integer indices."""
    if isinstance(texts, str) or not isinstance(texts, (Sequence, Mapping)):
        raise InvalidInputError(f"{name} must be a sequence of strings or a mapping from index to string, got {type(texts).__name__}")
    numbered = dict(texts) if isinstance(texts, Mapping) else dict(enumerate(texts))
    for index, text in numbered.items():
        if not isinstance(index, int) or isinstance(index, bool) or index < 0 or not isinstance(text, str):
            raise InvalidInputError(f"{name} must map non-negative int indices to strings; got {index!r}: {type(text).__name__}")
    return numbered


def _check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    if not (isinstance(shard, tuple) and len(shard) == 2 and all(isinstance(v, int) for v in shard) and 0 <= shard[0] < shard[1]):
        raise InvalidInputError(f"shard must be (k, n) with 0 <= k < n, got {shard!r}")
    return shard
