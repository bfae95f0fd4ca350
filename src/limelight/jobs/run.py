"""The one loop of a dataset job: chunks of items through the explainer, outcomes into an output, nothing lost.

:func:`explain_items` turns a chunk into one :class:`Outcome` per item: an explanation, or the
reason the item failed (its own problem, or what the explainer said when given the item alone,
so one bad row never fails its neighbours). :func:`run_job` writes each chunk as soon as it is
explained (the output makes the write atomic), advances the progress, and stops cleanly after
the chunk in flight on Ctrl-C. Which rows to do (shard, resume) is decided before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from limelight.engine.validation import check_count
from limelight.errors import ForwardError, InvalidInputError, MissingDependencyError, TargetError
from limelight.jobs.frontends import FrontEnd
from limelight.jobs.interrupts import stop_after_chunk
from limelight.jobs.progress import JobProgress, JobSummary
from limelight.jobs.protocol import Explainer
from limelight.jobs.sources import Id, Item

SETTINGS_ERRORS = (TargetError, MissingDependencyError)
"""Errors that concern the job's settings, not one row: they stop the job instead of failing every row."""
FAILED_START = 16
"""A job whose first this many explainable rows all fail stops: the settings or the model are wrong, not the rows."""


@dataclass(frozen=True)
class Outcome:
    """One item's result: its explanation, or ``error`` saying why it has none."""

    item: Item
    explanation: Any = None
    """The front end's explanation (text, image or generation)."""
    error: str | None = None


class Output(Protocol):
    """Where outcomes go: ``open`` checks and locks it and says which ids are done; ``write`` makes a chunk durable."""

    def open(self, items: Mapping[Id, Item]) -> set[Id]:
        """Take the output's lock, check it against ``items`` and return the ids already written."""
        ...

    def close(self) -> None:
        """Release the lock."""
        ...

    def write(self, outcomes: Sequence[Outcome]) -> None:
        """Write ``outcomes`` durably (all or none)."""
        ...


def explain_items(explainer: Explainer, items: Sequence[Item], explain_kwargs: dict[str, Any], front: FrontEnd) -> list[Outcome]:
    """One outcome per item, in order: the chunk in one explainer call, each item alone when that call fails.

    An error about the settings stops the job, except a :class:`TargetError` for an item with its own
    target (a target column): that item's target is bad, not the job's settings.
    """
    good = [item for item in items if item.problem is None]
    outcomes = {item.position: Outcome(item, error=item.problem) for item in items if item.problem is not None}
    if good:
        try:
            outcomes.update((item.position, Outcome(item, e)) for item, e in zip(good, _explain(explainer, good, explain_kwargs, front)))
        except SETTINGS_ERRORS as error:
            if not (isinstance(error, TargetError) and all(item.target is not None for item in good)):
                raise
            _one_by_one(explainer, good, explain_kwargs, front, outcomes, error)
        except Exception as error:
            _one_by_one(explainer, good, explain_kwargs, front, outcomes, error)
    return [outcomes[item.position] for item in items]


def _one_by_one(
    explainer: Explainer,
    items: Sequence[Item],
    explain_kwargs: dict[str, Any],
    front: FrontEnd,
    outcomes: dict[int, Outcome],
    error: Exception,
) -> None:
    """After a chunk failed with ``error``: a lone item fails with it; several are explained alone, to find the bad ones."""
    if len(items) == 1:
        outcomes[items[0].position] = Outcome(items[0], error=_reason(error))
        return
    for item in items:
        outcomes.update((o.item.position, o) for o in explain_items(explainer, [item], explain_kwargs, front))


def _explain(explainer: Explainer, items: Sequence[Item], explain_kwargs: dict[str, Any], front: FrontEnd) -> Sequence[Any]:
    results = front.explain(explainer, items, explain_kwargs)
    if len(results) != len(items):
        raise ForwardError(f"the explainer returned {len(results)} explanations for {len(items)} inputs; it must return one per input")
    return results


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


Stream = Callable[[Sequence[Sequence[Item]]], Iterable[Sequence[Outcome]]]
"""An engine: chunks of items in, their outcomes out chunk by chunk (in any order), computed lazily."""


def local_engine(explainer: Explainer, explain_kwargs: dict[str, Any], front: FrontEnd) -> Stream:
    """The engine of this process: each chunk through :func:`explain_items`, one after the other."""

    def stream(chunks: Sequence[Sequence[Item]]) -> Iterator[Sequence[Outcome]]:
        for chunk in chunks:
            yield explain_items(explainer, chunk, explain_kwargs, front)

    return stream


def drive(
    items: Sequence[Item],
    output: Output,
    path: Path,
    engine: Stream,
    *,
    chunk_size: int,
    shard: tuple[int, int],
    show_progress: bool | None,
    log_every: float | None,
    engine_name: str = "local",
) -> JobSummary:
    """Run a job: check and lock ``output``, pick this shard's rows not yet done, stream them through ``engine``, write, summarise."""
    check_count("chunk_size", chunk_size)
    k, n = check_shard(shard)
    integer_ids = all(isinstance(item.id, int) for item in items)
    selected = [item for item in items if in_shard(item, k, n, integer_ids)]
    done = output.open({item.id: item for item in items})
    try:
        todo = [item for item in selected if item.id not in done]
        summary = JobSummary(path, len(selected), len(selected) - len(todo), engine=engine_name)
        run_job(engine(chunked(todo, chunk_size)), output, JobProgress(summary, len(todo), show_progress, log_every))
    finally:
        output.close()
    return summary


def check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    """``shard`` checked to be ``(k, n)`` with ``0 <= k < n``."""
    if not (isinstance(shard, tuple) and len(shard) == 2 and all(isinstance(v, int) for v in shard) and 0 <= shard[0] < shard[1]):
        raise InvalidInputError(f"shard must be (k, n) with 0 <= k < n, got {shard!r}")
    return shard


def run_job(stream: Iterable[Sequence[Outcome]], output: Output, progress: JobProgress) -> None:
    """Write each chunk of outcomes as it comes; on Ctrl-C finish and write the chunk in flight, then raise ``KeyboardInterrupt``."""
    succeeded = failed = 0
    with stop_after_chunk(str(progress.summary.output)) as stop_requested, progress.running():
        for outcomes in stream:
            succeeded += sum(o.explanation is not None for o in outcomes)
            failed += sum(o.explanation is None and o.item.problem is None for o in outcomes)
            if not succeeded and failed >= FAILED_START:
                first = next(o for o in outcomes if o.error and o.item.problem is None)
                raise ForwardError(
                    f"the first {failed} rows all failed, so the settings or the model are likely wrong, not the rows "
                    f"(e.g. id {first.item.id!r}: {first.error}); fix that and run again (rows written so far are kept)"
                )
            output.write(outcomes)
            progress.summary.failures += [(o.item.id, o.error) for o in outcomes if o.error is not None]
            progress.advance(len(outcomes))
            if stop_requested():
                raise KeyboardInterrupt


def chunked(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    """``items`` in consecutive chunks of ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def in_shard(item: Item, k: int, n: int, integer_ids: bool) -> bool:
    """Whether ``item`` belongs to shard ``k`` of ``n``: by its id for integer ids, else by its row position."""
    key: Id = item.id if integer_ids else item.position
    return int(key) % n == k
