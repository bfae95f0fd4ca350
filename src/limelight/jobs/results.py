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

from limelight._optional import pandas
from limelight.errors import InvalidInputError
from limelight.jobs.frontends import FRONT_ENDS, FrontEnd, front_end_of
from limelight.jobs.jsonl import read_jsonl, read_jsonl_failures
from limelight.jobs.parquet import read_parquet_rows, row, schema
from limelight.jobs.run import Outcome
from limelight.jobs.sources import Item

Results = str | os.PathLike[str] | Iterable[Any] | Any
"""A Parquet folder, a JSON Lines file, a DataFrame of job rows, or explanations (text, image or generation)."""


def read_results(results: Results) -> Any:
    """The rows of ``results`` as a pandas DataFrame with the columns of a Parquet job output."""
    pd = pandas("reading job results")
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
        missing = {"id", front_end_of_rows(results).input_column, "error"} - set(results.columns)
        if missing:
            raise InvalidInputError(f"the DataFrame lacks the job columns {sorted(missing)}; give rows read by read_results")
        return results
    explained = list(results)
    fronts = {front_end_of(e).name for e in explained}
    if len(fronts) > 1 or not all(hasattr(e, "to_json") for e in explained):
        raise InvalidInputError(
            "results must be a job's output path, its DataFrame, or explanations of one kind (text, image or generation)"
        )
    front = FRONT_ENDS[fronts.pop() if fronts else "text"]
    rows = [row(Outcome(_item(i, e, front), e), front) for i, e in enumerate(explained)]
    return _ordered(pd.DataFrame(rows), front)


def front_end_of_rows(frame: Any) -> FrontEnd:
    """The front end whose rows ``frame`` holds (by its input column: ``image``, ``prompt``, else text)."""
    return next((f for f in FRONT_ENDS.values() if f.input_column in frame.columns and f.name != "text"), FRONT_ENDS["text"])


def _item(index: int, explanation: Any, front: FrontEnd) -> Item:
    """The item an explanation given directly stands for (its text, image name or prompt)."""
    if front.name == "text":
        return Item(index, index, explanation.text, pair=explanation.text_pair)
    return Item(index, index, explanation.name if front.name == "image" else explanation.prompt)


def explanations(frame: Any) -> Iterator[tuple[Any, Any]]:
    """``(id, explanation)`` for every row of a results DataFrame that has one (text and generation rows keep theirs)."""
    front = front_end_of_rows(frame)
    if "explanation" not in frame.columns:
        raise InvalidInputError(f"{front.name} rows keep their scores, not whole explanations; explain the inputs again to rebuild them")
    for row_id, data in zip(frame["id"], frame["explanation"]):
        if isinstance(data, str) and data:
            yield row_id, front.decode(data)


def _ordered(frame: Any, front: FrontEnd = FRONT_ENDS["text"]) -> Any:
    columns = schema(True, front).names
    for name in columns:
        if name not in frame.columns:
            frame[name] = None
    return frame[columns].sort_values("id", kind="stable").reset_index(drop=True)
