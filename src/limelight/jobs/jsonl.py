"""A dataset job: JSON Lines output that survives interruption and splits across machines.

The file starts with a header recording the job's settings, then holds one line per text with
its index and the hash of its text (:mod:`limelight.jobs.records`); a text that could not be
explained gets a line with the ``error`` instead of an explanation, and never stops the job.
Each line is appended and flushed as soon as its chunk is explained, and Ctrl-C lets the chunk
in flight finish and be written before the job stops; a job that dies (SIGKILL, crash,
pre-emption) loses only the chunk in flight: run it again with ``resume=True`` and it skips the
indices already written, after checking that the file was made with the same texts and settings
(:mod:`limelight.jobs.output`). While a job runs it holds a lock on the file, so a second writer
is refused. ``shard=(k, n)`` explains only the texts whose index is ``k`` modulo ``n``, so ``n``
machines (or any job scheduler) can share a dataset; concatenating their files gives the whole result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from limelight.errors import InvalidInputError
from limelight.jobs.frontends import FRONT_ENDS
from limelight.jobs.output import open_output, resume_point
from limelight.jobs.protocol import Explainer
from limelight.jobs.records import failed_row, header, is_header, job_settings, parse, row
from limelight.jobs.run import Outcome, drive, local_engine
from limelight.jobs.sources import Id, Item, checked_text
from limelight.text.explanation import Explanation

Numbered = Sequence[str] | Mapping[int, str]


def explain_to_jsonl(
    explainer: Explainer,
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
    is refused and left as it is. ``log_every=seconds`` also prints a plain progress line (rows,
    rate, ETA) to stderr at most that often (for logs, where no progress bar can be drawn).
    """
    items = _numbered(texts, "texts")
    pairs = None if text_pairs is None else _numbered(text_pairs, "text_pairs")
    if pairs is not None and pairs.keys() != items.keys():
        raise InvalidInputError(f"got {len(pairs)} text pairs for {len(items)} texts; give one pair per text, with the same indices")
    target = Path(path)
    if target.exists() and not resume:
        raise InvalidInputError(f"{target} exists; pass resume=True to continue it, or choose another path")
    rows = [_item(i, items[i], None if pairs is None else pairs[i]) for i in sorted(items)]
    explain_jsonl_items(explainer, rows, target, chunk_size, shard, show_progress, log_every, explain_kwargs)
    return target


def explain_jsonl_items(
    explainer: Explainer,
    items: Sequence[Item],
    path: Path,
    chunk_size: int,
    shard: tuple[int, int],
    show_progress: bool | None,
    log_every: float | None,
    explain_kwargs: dict[str, Any],
) -> Any:
    """Run a job on ``items`` (integer ids) into the JSON Lines file ``path``; returns its :class:`~limelight.jobs.progress.JobSummary`."""
    strings = [item.id for item in items if not isinstance(item.id, int)]
    if strings:
        raise InvalidInputError(f"JSON Lines output indexes rows by integer ids, but id {strings[0]!r} is not one; write .parquet instead")
    output = JsonlOutput(path, job_settings(explainer, explain_kwargs))
    engine = local_engine(explainer, explain_kwargs, FRONT_ENDS["text"])
    return drive(items, output, path, engine, chunk_size=chunk_size, shard=shard, show_progress=show_progress, log_every=log_every)


class JsonlOutput:
    """A job's JSON Lines file, locked while open; :meth:`write` appends and flushes one line per outcome."""

    def __init__(self, path: Path, settings: dict[str, Any]) -> None:
        self.path, self.settings = path, settings
        self._handle: BinaryIO | None = None

    def open(self, items: Mapping[Id, Item]) -> set[Id]:
        """Lock the file, check it against ``items`` and the settings, and return the indices already written."""
        handle = self._handle = open_output(self.path)
        try:
            done = resume_point(handle, self.path, self.settings, lambda i: items[i].digest if i in items else None)
            if os.fstat(handle.fileno()).st_size == 0:
                handle.write(header(self.settings))
            return set(done)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the lock."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write(self, outcomes: Sequence[Outcome]) -> None:
        """Append one line per outcome and make them durable."""
        handle = self._handle
        if handle is None:
            raise InvalidInputError("the output is not open")
        for o in outcomes:
            index = int(o.item.id)
            line = (
                failed_row(index, o.item.digest, o.error or "")
                if o.explanation is None
                else row(index, o.item.digest, o.explanation.to_dict())
            )
            handle.write(line)
            handle.flush()
        os.fsync(handle.fileno())


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, Explanation]]:
    """``(index, explanation)`` pairs from a file written by :func:`explain_to_jsonl`, read line by line.

    Header lines are skipped, and so are rows that failed (see :func:`read_jsonl_failures`) and a
    last line cut short by an interruption (it is redone on resume).
    """
    for number, record in _records(path):
        if "explanation" not in record:
            continue
        try:
            explanation = Explanation.from_dict(record["explanation"])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInputError(f"{path}: line {number} is not a complete explanation ({error!r}); the file is corrupt") from None
        yield int(record["index"]), explanation


def read_jsonl_failures(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """``(index, reason)`` of every text of the file that could not be explained."""
    for _, record in _records(path):
        if "explanation" not in record:
            yield int(record["index"]), str(record["error"])


def _records(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    with Path(path).open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = parse(line, path, number)
            except InvalidInputError:
                if not line.endswith(b"\n"):  # an unfinished last line: the write was interrupted
                    return
                raise
            if record is not None and not is_header(record):
                yield number, record


def _item(index: int, text: str, pair: str | None) -> Item:
    shown, problem = checked_text(text)
    return Item(index, index, shown, problem=problem, pair=pair)


def _numbered(texts: Numbered, name: str) -> dict[int, str]:
    """``texts`` as ``{index: text}``, checked to be strings under non-negative integer indices."""
    if isinstance(texts, str) or not isinstance(texts, (Sequence, Mapping)):
        raise InvalidInputError(f"{name} must be a sequence of strings or a mapping from index to string, got {type(texts).__name__}")
    numbered = dict(texts) if isinstance(texts, Mapping) else dict(enumerate(texts))
    for index, text in numbered.items():
        if not isinstance(index, int) or isinstance(index, bool) or index < 0 or not isinstance(text, str):
            raise InvalidInputError(f"{name} must map non-negative int indices to strings; got {index!r}: {type(text).__name__}")
    return numbered
