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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    """One input row: ``position`` in the source, ``id``, the input as shown (a text, a path, a prompt), its true label,
    why it cannot be explained (or ``None``), its pair, its own ``target`` (a target column), the ``value`` to explain
    when it is not the shown text (an image array or path), and a ``fingerprint`` of that value's content."""

    position: int
    id: Id
    text: str
    label: str | None = None
    problem: str | None = None
    pair: str | None = None
    target: str | int | None = None
    value: Any = None
    fingerprint: str | None = None

    @property
    def digest(self) -> str:
        """The hash a written row records of this input (text, pair, target, content), to refuse a resume with other inputs."""
        second = self.pair if self.problem is None else f"problem: {self.problem}"
        if self.target is not None or self.fingerprint is not None:
            second = json.dumps([second, self.target, self.fingerprint])
        return text_digest(self.text, second)


@dataclass(frozen=True)
class Columns:
    """The columns of a table source: the input, its ids, true labels, per-row targets and text pairs."""

    column: str | None = None
    id_column: str | None = None
    label_column: str | None = None
    target_column: str | None = None
    pair_column: str | None = None

    def given(self) -> list[tuple[str, str]]:
        """``(option, column name)`` of every column named."""
        return [(option, name) for option, name in vars(self).items() if name is not None]

    def extra(self, row: Mapping[str, Any]) -> tuple[Any, Any, Any]:
        """``(label, target, pair)`` of one table row."""
        return tuple(row.get(name) if name else None for name in (self.label_column, self.target_column, self.pair_column))  # type: ignore[return-value]


Checked = tuple[str, Any, str | None, str | None]
"""``(shown, value, problem, fingerprint)``: what a front end makes of one input value (:func:`checked_text` for texts)."""
Check = Callable[[Any], Checked]


def read_source(
    source: Any,
    column: str | None = None,
    *,
    id_column: str | None = None,
    label_column: str | None = None,
    target_column: str | None = None,
    pair_column: str | None = None,
    labels: Sequence[str] = (),
    check: Check | None = None,
) -> list[Item]:
    """The items of ``source`` (see the module docstring), checked for unique ids.

    ``labels`` (the model's label names in index order) turns an integer true label into its name.
    ``check`` turns each input value into what is shown and explained (default: a text, :func:`checked_text`);
    a folder is read as its image files (ids: their paths relative to it).
    """
    columns = Columns(column, id_column, label_column, target_column, pair_column)
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        _no_columns(columns, "a folder of images")
        folder = Path(source)
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        records: list[Record] = [(p.relative_to(folder).as_posix(), str(p), None, None, None) for p in files]
        default_ids, name = False, str(source)
    elif isinstance(source, (str, os.PathLike)):
        records, default_ids = _file_records(Path(source), columns)
        name = str(source)
    elif _is_dataframe(source) or _is_hf_dataset(source) or _is_ray_dataset(source):
        frame = source if _is_dataframe(source) else source.to_pandas()
        records, default_ids = _frame_records(frame, columns)
        name = "the DataFrame"
    elif isinstance(source, Mapping):
        _no_columns(columns, "a mapping from id to input")
        records, default_ids = [(key, value, None, None, None) for key, value in source.items()], False
        name = "the mapping"
    elif isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        _no_columns(columns, "a list of inputs")
        records, default_ids = [(i, value, None, None, None) for i, value in enumerate(source)], True
        name = "the list"
    else:
        raise InvalidInputError(
            f"cannot read inputs from a {type(source).__name__}; give a list of inputs, a mapping from id to input, "
            "a CSV/TSV/JSONL/Parquet file with column=, a pandas DataFrame, a Hugging Face datasets.Dataset, a ray.data.Dataset "
            "or (images) a folder"
        )
    if not records:
        raise InvalidInputError(f"{name} holds no rows; give at least one input")
    ids = _ids([record[0] for record in records], name, default_ids)
    items = []
    for position, (row_id, (_, value, label, target, pair)) in enumerate(zip(ids, records)):
        unreadable = isinstance(value, _Unreadable)
        shown, explained, problem, fingerprint = ("", None, str(value), None) if unreadable else (check or text_input)(value)
        if problem is None and pair_column is not None:
            pair, problem = _checked_pair(pair)
        own = _target(target)
        if own is not None and labels:
            own = _label(own, labels)  # an index into the model's labels becomes its name
        if problem is None and target_column is not None and own is None:
            problem = f"no target (the {target_column!r} column is empty)"
        items.append(Item(position, row_id, shown, _label(label, labels), problem, pair, own, explained, fingerprint))
    return items


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
"""The files of a folder read as images."""


def _no_columns(columns: Columns, kind: str) -> None:
    given = [option for option, _ in columns.given()]
    if given:
        raise InvalidInputError(f"{', '.join(given)} name columns of a file or DataFrame; {kind} has none: drop them")


Record = tuple[Any, Any, Any, Any, Any]
"""(id or ``None``, input value, label value, target value, pair value) as read."""


def _file_records(path: Path, columns: Columns) -> tuple[list[Record], bool]:
    kind = FILE_KINDS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInputError(f"{path}: cannot tell the format from the suffix; name it .csv, .tsv, .jsonl or .parquet")
    if not path.is_file():
        raise InvalidInputError(f"{path} does not exist or is not a file")
    if columns.column is None:
        raise InvalidInputError(f"{path} is a table: say which column holds the inputs (column=..., on the command line --column)")
    if kind == "parquet":
        return _frame_records(_read_parquet(path), columns)
    rows = _jsonl_rows(path) if kind == "jsonl" else _csv_rows(path, "\t" if kind == "tsv" else ",")
    return _table_records(rows, path, columns)


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


def _table_records(rows: Iterable[dict[str, Any] | str], path: Path, columns: Columns) -> tuple[list[Record], bool]:
    records: list[Record] = []
    chosen_id: str | None = columns.id_column
    checked = False
    for row in rows:
        if isinstance(row, str):  # an unreadable line: its row fails with the reason
            records.append((None, _Unreadable(row), None, None, None))
            continue
        if not checked:  # the first readable row names the columns
            _check_columns(list(row), path, columns)
            chosen_id = _id_column(list(row), columns)
            checked = True
        records.append((row.get(chosen_id) if chosen_id else None, row.get(str(columns.column)), *columns.extra(row)))
    if chosen_id is None:
        return [(None, *rest) for _, *rest in records], True
    # a row that could not be read has no id: it gets one that names it (and makes every id a string)
    return [(f"unreadable row {n}" if isinstance(r[1], _Unreadable) else r[0], *r[1:]) for n, r in enumerate(records)], False


def _id_column(names: list[str], columns: Columns) -> str | None:
    """The ids' column: ``id_column``, else an ``id`` column that is not the input's."""
    return columns.id_column or ("id" if "id" in names and columns.column != "id" else None)


def _read_parquet(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("reading Parquet needs pyarrow: pip install 'limelight[parquet]'") from error
    return pq.read_table(path).to_pandas()


def _frame_records(frame: Any, columns: Columns) -> tuple[list[Record], bool]:
    if columns.column is None:
        raise InvalidInputError("a table source needs column= naming the column that holds the inputs")
    names = [str(c) for c in frame.columns]
    _check_columns(names, "the DataFrame", columns)
    chosen_id = _id_column(names, columns)
    ids = list(frame[chosen_id]) if chosen_id else list(frame.index)
    extra = [
        list(frame[name]) if name else [None] * len(frame) for name in (columns.label_column, columns.target_column, columns.pair_column)
    ]
    return list(zip(ids, frame[columns.column], *extra)), False


def _check_columns(names: list[str], where: object, columns: Columns) -> None:
    for option, name in columns.given():
        if name not in names:
            raise InvalidInputError(f"{where} has no column {name!r} ({option}); its columns are {names}")


class _Unreadable(str):
    """The reason a source line could not be read at all (its row fails with it)."""


def text_input(value: Any) -> Checked:
    """A text input: shown as itself (``value`` is ``None``: the text is what is explained), with its problem."""
    text, problem = checked_text(value)
    return text, None, problem, None


def _checked_pair(value: Any) -> tuple[str | None, str | None]:
    """``(pair, problem)`` of a text pair read from a column."""
    text, problem = checked_text(value)
    return (text, None) if problem is None else (None, f"text pair: {problem}")


def _target(value: Any) -> str | int | None:
    """A per-row target as read: a label name or an index (``None`` when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)


def checked_text(value: Any, noun: str = "text") -> tuple[str, str | None]:
    """``(text, problem)``: the text to explain and ``None``, or what can be shown and why it cannot be explained.

    ``noun`` names the input in the reasons (``"text"``, ``"prompt"``).
    """
    if isinstance(value, _Unreadable):
        return "", str(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", f"no {noun} (a missing value)"
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as error:
            return bytes(value).decode("utf-8", "replace"), f"undecodable bytes: not valid UTF-8 at byte {error.start + 1}"
    if not isinstance(value, str):
        return str(value), f"not a {noun} (a {type(value).__name__})"
    if any("\udc80" <= c <= "\udcff" for c in value):  # kept by surrogateescape: bytes that were not UTF-8
        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return shown, f"undecodable bytes: the {noun} is not valid UTF-8"
    if not value.strip():
        return value, f"empty {noun}"
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
