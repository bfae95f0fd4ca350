"""A dataset job's Parquet output: a folder of part files, each written whole or not at all.

``out.parquet/`` holds ``_limelight.json`` (the job's settings, written first), then one
``part-NNNNNN.parquet`` per explained chunk. A part is written to a hidden temporary file,
flushed to disk and renamed into place, so whenever the process dies (SIGKILL included) every
part is complete or absent; the rows in the parts are the job's index of what is done. A resume
reads only the ``id`` and ``sha256`` columns of the parts (memory: the ids), refuses a folder made
with other inputs or settings, deletes leftover temporary files, and redoes only what is
missing, so an interrupted job run again gives exactly the rows of a clean run. A lock file
keeps a second writer out. Readers (pandas, pyarrow, Spark, DuckDB, Ray) read the folder as one
table; files starting with ``_`` or ``.`` are not data.

One row per input; for text (:data:`COLUMNS`): ``id``, ``text``, ``pair``, true ``label``, ``prediction``,
``probability`` (of the prediction), ``probabilities`` (JSON), ``target``, ``contrast``,
``correct``, ``words`` and ``scores`` (lists), ``delta``, ``steps``, ``converged``, ``windowed``,
``method``, ``error`` (why a row failed; its explanation fields are then empty), ``sha256`` and
``explanation`` (the whole explanation as JSON: :meth:`Explanation.from_json` rebuilds it exactly).
Image and generation rows have their own columns (:meth:`~limelight.jobs.frontends.FrontEnd.fields`);
the manifest records the front end, so a folder is never resumed by another one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.jobs.frontends import FRONT_ENDS, FrontEnd
from limelight.jobs.output import open_output
from limelight.jobs.records import differences
from limelight.jobs.run import Outcome
from limelight.jobs.sources import Id, Item

JOB = "explain_dataset"
FORMAT = 1
MANIFEST = "_limelight.json"
LOCK = ".limelight.lock"
COLUMNS = (
    "id", "text", "pair", "label", "prediction", "probability", "probabilities", "target", "contrast", "correct",
    "words", "scores", "delta", "steps", "converged", "windowed", "method", "error", "sha256", "explanation",
)  # fmt: skip
"""The columns of a text job's rows, in order (:func:`schema` gives their types)."""
_PART = re.compile(r"part-(\d{6})\.parquet")
_OTHER = "write to another folder, or delete it to start over"


def pyarrow_modules() -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``, or the library's error naming the extra."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as error:
        raise MissingDependencyError("Parquet output needs pyarrow: pip install 'limelight[parquet]' (or write .jsonl)") from error
    return pyarrow, pyarrow.parquet


def schema(integer_ids: bool, front: FrontEnd = FRONT_ENDS["text"]) -> Any:
    """The Arrow schema of every part (ids are ``int64`` or ``string`` for the whole job; the rest is the front end's)."""
    pa, _ = pyarrow_modules()
    return pa.schema([("id", pa.int64() if integer_ids else pa.string()), *front.fields(pa)])


def row(outcome: Outcome, front: FrontEnd = FRONT_ENDS["text"]) -> dict[str, Any]:
    """The Parquet row of one outcome (the columns of :func:`schema`)."""
    return front.row(outcome.item, outcome.explanation, outcome.error)


class ParquetOutput:
    """The folder of one job, locked while open; :meth:`write` adds one part atomically."""

    def __init__(self, path: Path, settings: dict[str, Any], integer_ids: bool, front: FrontEnd = FRONT_ENDS["text"]) -> None:
        self.path, self.settings, self.integer_ids, self.front = path, settings, integer_ids, front
        self._lock: BinaryIO | None = None
        self._next = 0

    def open(self, items: Mapping[Id, Item]) -> set[Id]:
        """Create or check the folder, take its lock, and return the ids already written (checked against ``items``)."""
        pyarrow_modules()
        if self.path.exists() and not self.path.is_dir():
            raise InvalidInputError(f"{self.path} is a file, not a job's Parquet folder; nothing was changed: {_OTHER}")
        entries = sorted(os.listdir(self.path)) if self.path.exists() else []
        data = [name for name in entries if not name.startswith((".", "_"))]
        if (data or any(n.startswith("_") for n in entries)) and MANIFEST not in entries:
            raise InvalidInputError(f"{self.path} is not limelight output (it has no {MANIFEST}); nothing was changed: {_OTHER}")
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = open_output(self.path / LOCK)
        try:
            if MANIFEST in entries:
                self._check_manifest()
            else:
                _atomic_write(self.path / MANIFEST, self._manifest())
            for name in os.listdir(self.path):  # parts an interruption left unfinished (never renamed into place)
                if name.startswith(".") and name.endswith(".tmp"):
                    os.unlink(self.path / name)
            return self._done(items)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def write(self, outcomes: Sequence[Outcome]) -> None:
        """Write ``outcomes`` as the next part: a temporary file, flushed, then renamed into place."""
        pa, pq = pyarrow_modules()
        table = pa.Table.from_pylist([row(o, self.front) for o in outcomes], schema=schema(self.integer_ids, self.front))
        name = f"part-{self._next:06d}.parquet"
        temporary = self.path / f".{name}.tmp"
        with temporary.open("wb") as handle:
            pq.write_table(table, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path / name)
        _sync_folder(self.path)
        self._next += 1

    def _manifest(self) -> bytes:
        ids = "int" if self.integer_ids else "str"
        record = {"limelight": JOB, "format": FORMAT, "front_end": self.front.name, "ids": ids, "settings": self.settings}
        return (json.dumps(record, indent=1) + "\n").encode()

    def _check_manifest(self) -> None:
        try:
            record = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInputError(f"{self.path / MANIFEST} is not valid JSON ({error}); nothing was changed: {_OTHER}") from None
        if not isinstance(record, dict) or record.get("limelight") != JOB:
            raise InvalidInputError(f"{self.path / MANIFEST} is not a limelight job manifest; nothing was changed: {_OTHER}")
        if record.get("format") != FORMAT:
            raise InvalidInputError(f"{self.path} has format {record.get('format')!r}; this limelight writes {FORMAT}: {_OTHER}")
        changed = differences(record.get("settings"), self.settings)
        ids = "int" if self.integer_ids else "str"
        if record.get("ids") != ids:
            changed.append(f"ids were {record.get('ids')!r}, now {ids!r}")
        if record.get("front_end", "text") != self.front.name:
            changed.append(f"the front end was {record.get('front_end', 'text')!r}, now {self.front.name!r}")
        if changed:
            raise InvalidInputError(f"{self.path} was made with other settings: {'; '.join(changed)}; nothing was changed: {_OTHER}")

    def _done(self, items: Mapping[Id, Item]) -> set[Id]:
        _, pq = pyarrow_modules()
        done: set[Id] = set()
        for name in sorted(os.listdir(self.path)):
            match = _PART.fullmatch(name)
            if match is None:
                continue
            self._next = max(self._next, int(match.group(1)) + 1)
            try:
                index = pq.read_table(self.path / name, columns=["id", "sha256"]).to_pydict()
            except Exception as error:  # pyarrow's errors are not one class
                raise InvalidInputError(f"{self.path / name} cannot be read ({error}); it is not a part this job wrote: {_OTHER}") from None
            for row_id, digest in zip(index["id"], index["sha256"]):
                item = items.get(row_id)
                if item is None or item.digest != digest or row_id in done:
                    raise InvalidInputError(
                        f"{self.path} was made with other inputs: {name} holds id {row_id!r}, which is not input {row_id!r} of this job"
                        f"{' (or holds it twice)' if row_id in done else ''}; nothing was changed: {_OTHER}"
                    )
                done.add(row_id)
        return done


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename durable (the folder's entry), where the platform allows it."""
    if hasattr(os, "O_DIRECTORY"):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def read_parquet_rows(path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> Any:
    """The rows of a job's Parquet folder as a pandas DataFrame (in id order), checked to be limelight output."""
    folder = Path(path)
    if not (folder / MANIFEST).is_file():
        raise InvalidInputError(f"{folder} is not a limelight Parquet output (no {MANIFEST}); give the folder a job wrote")
    _, pq = pyarrow_modules()
    parts = sorted(p for p in folder.iterdir() if _PART.fullmatch(p.name))
    if not parts:
        empty = schema(True, FRONT_ENDS[manifest_front_end(folder)]).empty_table()
        return (empty if columns is None else empty.select(columns)).to_pandas()
    frame = pq.ParquetDataset(parts).read(columns=list(columns) if columns else None).to_pandas()
    return frame.sort_values("id", kind="stable").reset_index(drop=True) if "id" in frame.columns else frame


def manifest_front_end(folder: str | os.PathLike[str]) -> str:
    """The front end a job's folder was written by (``"text"`` for folders from before front ends were recorded)."""
    try:
        record = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return "text"
    name = record.get("front_end", "text") if isinstance(record, dict) else "text"
    return name if name in FRONT_ENDS else "text"
