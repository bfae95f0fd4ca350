"""Where a dataset job's inputs come from: lists, mappings, files, DataFrames, Hugging Face datasets.

Every source becomes one list of :class:`Item` (id, text, true label), read once before any
work, so a job knows its size (for the ETA), can check that ids are unique, and can tell on
resume which rows are done. A value that cannot be explained (missing, empty, not a string,
undecodable bytes) becomes an item with a ``problem``: the job records it as a failed row with
that reason instead of stopping.

Ids: a ``Mapping`` keeps its keys; a file or DataFrame uses its ``id_column`` (``"id"`` when
there is one), else the row number (from 0) or, for a DataFrame, its index. Ids are integers
when every id is one, else strings.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.jobs.records import text_digest

FILE_KINDS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
"""File suffixes read as tables (one row per input; the text in ``column``)."""

Id = int | str


@dataclass(frozen=True)
class Item:
    """One input row: ``position`` in the source, ``id``, the text, its true label, why it cannot be explained (or ``None``), its pair."""

    position: int
    id: Id
    text: str
    label: str | None = None
    problem: str | None = None
    pair: str | None = None

    @property
    def digest(self) -> str:
        """The hash a written row records of this input (text and pair), to refuse a resume with other inputs."""
        return text_digest(self.text, self.pair if self.problem is None else f"problem: {self.problem}")


def read_source(
    source: Any,
    column: str | None = None,
    *,
    id_column: str | None = None,
    label_column: str | None = None,
    labels: Sequence[str] = (),
) -> list[Item]:
    """The items of ``source`` (see the module docstring), checked for unique ids.

    ``labels`` (the model's label names in index order) turns an integer true label into its name.
    """
    if isinstance(source, (str, os.PathLike)):
        records, default_ids = _file_records(Path(source), column, id_column, label_column)
        name = str(source)
    elif _is_dataframe(source) or _is_hf_dataset(source) or _is_ray_dataset(source):
        frame = source if _is_dataframe(source) else source.to_pandas()
        records, default_ids = _frame_records(frame, column, id_column, label_column)
        name = "the DataFrame"
    elif isinstance(source, Mapping):
        _no_columns(column, id_column, label_column, "a mapping from id to text")
        records, default_ids = [(key, value, None) for key, value in source.items()], False
        name = "the mapping"
    elif isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        _no_columns(column, id_column, label_column, "a list of texts")
        records, default_ids = [(i, value, None) for i, value in enumerate(source)], True
        name = "the list"
    else:
        raise InvalidInputError(
            f"cannot read inputs from a {type(source).__name__}; give a list of texts, a mapping from id to text, "
            "a CSV/TSV/JSONL/Parquet file with column=, a pandas DataFrame, a Hugging Face datasets.Dataset or a ray.data.Dataset"
        )
    if not records:
        raise InvalidInputError(f"{name} holds no rows; give at least one input")
    ids = _ids([record[0] for record in records], name, default_ids)
    items = []
    for position, (row_id, (_, value, label)) in enumerate(zip(ids, records)):
        text, problem = checked_text(value)
        items.append(Item(position, row_id, text, _label(label, labels), problem))
    return items


def _no_columns(column: str | None, id_column: str | None, label_column: str | None, kind: str) -> None:
    given = [name for name, value in (("column", column), ("id_column", id_column), ("label_column", label_column)) if value is not None]
    if given:
        raise InvalidInputError(f"{', '.join(given)} name columns of a file or DataFrame; {kind} has none: drop them")


Record = tuple[Any, Any, Any]
"""(id or ``None``, text value, label value) as read."""


def _file_records(path: Path, column: str | None, id_column: str | None, label_column: str | None) -> tuple[list[Record], bool]:
    kind = FILE_KINDS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInputError(f"{path}: cannot tell the format from the suffix; name it .csv, .tsv, .jsonl or .parquet")
    if not path.is_file():
        raise InvalidInputError(f"{path} does not exist or is not a file")
    if column is None:
        raise InvalidInputError(f"{path} is a table: say which column holds the texts (column=..., on the command line --column)")
    if kind == "parquet":
        return _frame_records(_read_parquet(path), column, id_column, label_column)
    rows = _jsonl_rows(path) if kind == "jsonl" else _csv_rows(path, "\t" if kind == "tsv" else ",")
    return _table_records(rows, path, column, id_column, label_column)


def _csv_rows(path: Path, delimiter: str) -> Iterator[dict[str, Any] | str]:
    """CSV rows as dicts; undecodable bytes are kept (surrogate-escaped) so that only their row fails."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if reader.fieldnames is None:
            return
        yield from reader


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any] | str]:
    """JSON Lines objects; a line that is not UTF-8 JSON object yields the reason instead (that row fails)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as error:
                yield f"line {number} is not valid UTF-8 (byte {error.start + 1})"
                continue
            except json.JSONDecodeError as error:
                yield f"line {number} is not valid JSON ({error.msg})"
                continue
            yield record if isinstance(record, dict) else f"line {number} is not a JSON object"


def _table_records(
    rows: Iterable[dict[str, Any] | str], path: Path, column: str, id_column: str | None, label_column: str | None
) -> tuple[list[Record], bool]:
    records: list[Record] = []
    chosen_id: str | None = id_column
    checked = False
    for row in rows:
        if isinstance(row, str):  # an unreadable line: its row fails with the reason
            records.append((None, _Unreadable(row), None))
            continue
        if not checked:  # the first readable row names the columns
            _check_columns(list(row), path, column, id_column, label_column)
            chosen_id = id_column or ("id" if "id" in row and column != "id" else None)
            checked = True
        records.append((row.get(chosen_id) if chosen_id else None, row.get(column), row.get(label_column) if label_column else None))
    if chosen_id is None:
        return [(None, value, label) for _, value, label in records], True
    # a row that could not be read has no id: it gets one that names it (and makes every id a string)
    return [(f"unreadable row {n}" if isinstance(v, _Unreadable) else i, v, lab) for n, (i, v, lab) in enumerate(records)], False


def _read_parquet(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("reading Parquet needs pyarrow: pip install 'limelight[parquet]'") from error
    return pq.read_table(path).to_pandas()


def _frame_records(frame: Any, column: str | None, id_column: str | None, label_column: str | None) -> tuple[list[Record], bool]:
    if column is None:
        raise InvalidInputError("a table source needs column= naming the column that holds the texts")
    _check_columns([str(c) for c in frame.columns], "the DataFrame", column, id_column, label_column)
    chosen_id = id_column or ("id" if "id" in frame.columns and column != "id" else None)
    ids = list(frame[chosen_id]) if chosen_id else list(frame.index)
    labels = list(frame[label_column]) if label_column else [None] * len(frame)
    return list(zip(ids, frame[column], labels)), False


def _check_columns(columns: list[str], where: object, column: str, id_column: str | None, label_column: str | None) -> None:
    for option, name in (("column", column), ("id_column", id_column), ("label_column", label_column)):
        if name is not None and name not in columns:
            raise InvalidInputError(f"{where} has no column {name!r} ({option}); its columns are {columns}")


class _Unreadable(str):
    """The reason a source line could not be read at all (its row fails with it)."""


def checked_text(value: Any) -> tuple[str, str | None]:
    """``(text, problem)``: the text to explain and ``None``, or what can be shown and why it cannot be explained."""
    if isinstance(value, _Unreadable):
        return "", str(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", "no text (a missing value)"
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as error:
            return bytes(value).decode("utf-8", "replace"), f"undecodable bytes: not valid UTF-8 at byte {error.start + 1}"
    if not isinstance(value, str):
        return str(value), f"not a text (a {type(value).__name__})"
    if any("\udc80" <= c <= "\udcff" for c in value):  # kept by surrogateescape: bytes that were not UTF-8
        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return shown, "undecodable bytes: the text is not valid UTF-8"
    if not value.strip():
        return value, "empty text"
    return value, None


def _label(value: Any, labels: Sequence[str]) -> str | None:
    """A true label as a name: an index into ``labels`` becomes its name; missing stays ``None``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(labels):
        return labels[value]
    if isinstance(value, str) and value.strip().isdigit() and int(value) < len(labels) and value.strip() not in labels:
        return labels[int(value)]
    return str(value)


def _ids(raw: list[Any], where: str, default: bool) -> list[Id]:
    """The rows' ids (row numbers when the source has none), all ints or all strings, checked to be unique."""
    if default:
        return list(range(len(raw)))
    values = [value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value for value in raw]
    for position, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise InvalidInputError(f"{where}: row {position} has no id; give every row an id, or no id column at all")
    ids: list[Id]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        ids = list(values)
    elif all(isinstance(v, str) and v.strip().lstrip("-").isdigit() for v in values):
        ids = [int(v) for v in values]  # ids read from CSV are strings of digits
    else:
        ids = [str(v) for v in values]
    seen: set[Id] = set()
    for value in ids:
        if value in seen:
            raise InvalidInputError(f"{where}: id {value!r} appears more than once; ids must be unique (a resume relies on them)")
        seen.add(value)
    return ids


def _is_dataframe(source: Any) -> bool:
    return type(source).__name__ == "DataFrame" and hasattr(source, "columns") and hasattr(source, "index")


def _is_ray_dataset(source: Any) -> bool:
    """A ``ray.data.Dataset`` (its rows are collected to the driver, which decides what to do; the actors do the work)."""
    return type(source).__module__.startswith("ray.data") and hasattr(source, "to_pandas")


def _is_hf_dataset(source: Any) -> bool:
    return hasattr(source, "column_names") and hasattr(source, "to_pandas") and not _is_dataframe(source)
