"""A dataset job: JSON Lines output that survives interruption and splits across machines.

Each finished chunk of texts is appended to the output file and flushed, one line per text with
its index, so a job that stops (crash, pre-emption, Ctrl-C) loses at most the chunk in flight:
run it again with ``resume=True`` and it skips the indices already written. ``shard=(k, n)``
explains only the texts whose index is ``k`` modulo ``n``, so ``n`` machines (or any job
scheduler) can share a dataset; concatenating their files gives the whole result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from limelight._progress import progress
from limelight.engine.validation import check_count
from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation


def explain_to_jsonl(
    explainer: Any,
    texts: Sequence[str],
    path: str | os.PathLike[str],
    *,
    text_pairs: Sequence[str] | None = None,
    chunk_size: int = 64,
    resume: bool = True,
    shard: tuple[int, int] = (0, 1),
    show_progress: bool | None = None,
    **explain_kwargs: Any,
) -> Path:
    """Explain ``texts`` with a :class:`TextExplainer`, appending ``{"index": i, "explanation": ...}`` lines to ``path``.

    With ``resume=False`` an existing file is an error rather than being overwritten.
    """
    k, n = _check_shard(shard)
    check_count("chunk_size", chunk_size)
    if text_pairs is not None and len(text_pairs) != len(texts):
        raise InvalidInputError(f"got {len(text_pairs)} text pairs for {len(texts)} texts")
    target = Path(path)
    if target.exists() and not resume:
        raise InvalidInputError(f"{target} exists; pass resume=True (--resume on the command line) to continue it, or choose another path")
    done = set()
    if target.exists():
        _drop_unfinished_line(target)
        done = {index for index, _ in read_jsonl(target)}
    todo = [i for i in range(k, len(texts), n) if i not in done]
    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    with target.open("a", encoding="utf-8") as handle:
        for chunk in progress(chunks, len(chunks), "explaining dataset", show_progress):
            pairs = None if text_pairs is None else [text_pairs[i] for i in chunk]
            results = explainer.explain([texts[i] for i in chunk], pairs, **explain_kwargs)
            handle.write("".join(json.dumps({"index": i, "explanation": e.to_dict()}) + "\n" for i, e in zip(chunk, results)))
            handle.flush()
            os.fsync(handle.fileno())
    return target


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, Explanation]]:
    """``(index, explanation)`` pairs from a file written by :func:`explain_to_jsonl`.

    A last line cut short by an interruption is skipped (it is redone on resume).
    """
    with Path(path).open(encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            if number == len(lines) - 1:  # an unfinished last line: the write was interrupted
                continue
            raise InvalidInputError(f"{path}: line {number + 1} is not valid JSON ({error}); the file is corrupt") from error
        yield int(record["index"]), Explanation.from_dict(record["explanation"])


def _drop_unfinished_line(path: Path) -> None:
    """Cut a last line that an interruption left without its newline, so appends start clean."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def _check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    if not (isinstance(shard, tuple) and len(shard) == 2 and all(isinstance(v, int) for v in shard) and 0 <= shard[0] < shard[1]):
        raise InvalidInputError(f"shard must be (k, n) with 0 <= k < n, got {shard!r}")
    return shard
