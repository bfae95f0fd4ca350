"""A job's output read back: one DataFrame whatever the format, and explanations rebuilt from it.

:func:`read_results` reads a Parquet folder or a JSON Lines file (or takes a DataFrame of such
rows, or explanations) and gives the columns of :mod:`limelight.jobs.parquet`, one row per input
in id order, so summaries and the explorer read one shape. :func:`explanations` rebuilds the
:class:`~limelight.text.explanation.Explanation` of every row that has one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.jobs.jsonl import read_jsonl, read_jsonl_failures
from limelight.jobs.parquet import COLUMNS, read_parquet_rows, row
from limelight.jobs.run import Outcome
from limelight.jobs.sources import Item
from limelight.text.explanation import Explanation

Results = str | os.PathLike[str] | Iterable[Explanation] | Any
"""A Parquet folder, a JSON Lines file, a DataFrame of job rows, or explanations."""


def read_results(results: Results) -> Any:
    """The rows of ``results`` as a pandas DataFrame with the columns of a Parquet job output."""
    pd = _pandas()
    if isinstance(results, (str, os.PathLike)):
        path = Path(results)
        if path.is_dir():
            return read_parquet_rows(path)
        if not path.is_file():
            raise InvalidInputError(f"{path} does not exist; give a job's .parquet folder or .jsonl file")
        rows = [row(Outcome(Item(i, i, e.text, pair=e.text_pair), e)) for i, e in read_jsonl(path)]
        rows += [{"id": i, "text": "", "error": reason} for i, reason in read_jsonl_failures(path)]
        return _ordered(pd.DataFrame(rows))
    if isinstance(results, pd.DataFrame):
        missing = {"id", "text", "error"} - set(results.columns)
        if missing:
            raise InvalidInputError(f"the DataFrame lacks the job columns {sorted(missing)}; give rows read by read_results")
        return results
    explained = list(results)
    if not all(isinstance(e, Explanation) for e in explained):
        raise InvalidInputError("results must be a job's output path, its DataFrame, or Explanation objects")
    return _ordered(pd.DataFrame([row(Outcome(Item(i, i, e.text, pair=e.text_pair), e)) for i, e in enumerate(explained)]))


def explanations(frame: Any) -> Iterator[tuple[Any, Explanation]]:
    """``(id, explanation)`` for every row of a results DataFrame that has one."""
    for row_id, data in zip(frame["id"], frame["explanation"]):
        if isinstance(data, str) and data:
            yield row_id, Explanation.from_json(data)


def _ordered(frame: Any) -> Any:
    for name in COLUMNS:
        if name not in frame.columns:
            frame[name] = None
    return frame[list(COLUMNS)].sort_values("id", kind="stable").reset_index(drop=True)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("reading job results needs pandas: pip install 'limelight[pandas]'") from error
    return pandas
