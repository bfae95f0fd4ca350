"""The hostile-input corpus: texts, files, model folders, label names and options that a careless or
malicious user can hand any front end, and the one rule every front end must keep with them.

The rule (:func:`outcome`): a call returns a result or raises a
:class:`~limelight.errors.LimelightError` that says what was wrong; any other exception is a raw
traceback and fails the test. A case marked ``must_refuse`` has no correct result (a folder that is
not a classifier, an option that does not exist), so it must raise. The command line keeps the same
rule as an exit status (0, or 1/2 with one ``limelight <command>: ...`` line on standard error), and
never changes a file it refused.
"""

from __future__ import annotations

import contextlib
import json
import signal
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from limelight.errors import LimelightError

DEADLINE_S = 60
"""Longest any case may take: a hostile option must not turn into minutes of work (or an endless loop)."""

FORGED = "prediction: forged (p = 1.000)"
"""A line that a label name with a newline must not be able to print on a line of its own."""

BIDI_AND_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\x1b\x00\r")
"""Characters that reorder or hide what a view shows; no view may print them raw."""


@dataclass(frozen=True)
class Case:
    """One hostile input: a readable ``name``, the ``value`` (or keyword arguments), whether it ``must_refuse``."""

    name: str
    value: Any = None
    must_refuse: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def case_ids(case: Case) -> str:
    return case.name


class Overtime(BaseException):
    """A case ran past :data:`DEADLINE_S` (a ``BaseException``, so no ``except Exception`` or ``OSError`` in limelight hides it)."""


@contextlib.contextmanager
def deadline(seconds: int = DEADLINE_S) -> Iterator[None]:
    """Raise :class:`Overtime` in the calling (main) thread after ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise Overtime(f"the call took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def outcome(case: Case, call: Callable[[], Any]) -> Any:
    """The result of ``call()``, or the :class:`LimelightError` it raised; fails on any other exception."""
    try:
        with deadline():
            result = call()
    except LimelightError as error:
        assert str(error).strip(), f"{case}: {type(error).__name__} with an empty message"
        return error
    except Exception:  # noqa: BLE001 - anything else is what this corpus exists to catch
        pytest.fail(f"{case}: a raw traceback instead of a result or a LimelightError:\n{traceback.format_exc()}")
    if case.must_refuse:
        pytest.fail(f"{case}: accepted, but there is no correct result for it; it must raise a LimelightError")
    return result


# --- texts -------------------------------------------------------------------------------------------

TEXTS = (
    Case("empty string", ""),
    Case("whitespace only", "  \n\t  "),
    Case("empty list", []),
    Case("very long text", " ".join(["the film was a quiet triumph and the audience loved every minute of it"] * 40)),
    Case("one very long word", "a" * 20_000),
    Case("lone surrogate", "the film \ud800 was good"),
    Case("surrogate-escaped byte", "the film \udcff was good"),
    Case("NUL and escape characters", "the film\x00 was \x1b[31mgood\x1b[0m"),
    Case("bidi override in the text", "the film \u202ewas good\u202c"),
    Case("combining marks and emoji", "the fi\u0301lm 🙂 was 🇫🇷 good"),
    Case("bytes", b"the film was good", must_refuse=True),
    Case("None", None, must_refuse=True),
    Case("an int", 5, must_refuse=True),
    Case("a float", 1.5, must_refuse=True),
    Case("a list holding None", ["the film was good", None], must_refuse=True),
    Case("a list holding bytes", [b"the film was good"], must_refuse=True),
    Case("a dict", {"text": "the film was good"}, must_refuse=True),
)

# --- options (keyword arguments of explain; the text is a plain sentence) ----------------------------

OPTIONS = (
    Case("misspelled keyword n_step", options={"n_step": 8}, must_refuse=True),
    Case("misspelled keyword targte", options={"targte": "positive"}, must_refuse=True),
    Case("target 1.0", options={"target": 1.0}, must_refuse=True),
    Case("target out of range", options={"target": 99}, must_refuse=True),
    Case("target negative", options={"target": -1}, must_refuse=True),
    Case("target unknown label", options={"target": "posittive"}, must_refuse=True),
    Case("target a bool", options={"target": True}, must_refuse=True),
    Case("contrast unknown label", options={"contrast": "nope"}, must_refuse=True),
    Case("n_steps huge", options={"n_steps": 10**7}, must_refuse=True),
    Case("n_steps 10000", options={"n_steps": 10_000}),
    Case("n_steps zero", options={"n_steps": 0}, must_refuse=True),
    Case("n_steps a string", options={"n_steps": "many"}, must_refuse=True),
    Case("memory_budget 0B", options={"memory_budget": "0B"}, must_refuse=True),
    Case("memory_budget 99999999TB", options={"memory_budget": "99999999TB"}),
    Case("memory_budget gibberish", options={"memory_budget": "lots"}, must_refuse=True),
    Case("internal_batch_size zero", options={"internal_batch_size": 0}, must_refuse=True),
    Case("tolerance negative", options={"tolerance": -1.0}, must_refuse=True),
    Case("tolerance NaN", options={"tolerance": float("nan")}, must_refuse=True),
    Case("unknown method", options={"method": "integrated_gradient_s"}, must_refuse=True),
    Case("unknown quantity", options={"quantity": "prob"}, must_refuse=True),
    Case("baseline in capitals", options={"baseline": "PAD"}),
    Case("baseline None", options={"baseline": None}),
    Case("batch_size zero", options={"batch_size": 0}, must_refuse=True),
    Case("max_length one", options={"max_length": 1}),
    Case("window_overlap negative", options={"window_overlap": -1}, must_refuse=True),
)

# --- label names (the model's config) -----------------------------------------------------------------

LABELS = (
    Case("right-to-left override", ["neg\u202eevitisop", "neutral", "pos\u202e)0.944 = p("]),
    Case("newline forging a line", ["negative", "neutral", "positive\n" + FORGED]),
    Case("carriage return and escape", ["neg\rative", "neu\x1b[2Jtral", "positive"]),
    Case("HTML", ["<img src=x onerror=alert(1)>", "neutral", "</div><script>alert(1)</script>"]),
    Case("empty and duplicate", ["", "same", "same"]),
)

# --- files -------------------------------------------------------------------------------------------

INPUT_FILES = (
    Case("invalid UTF-8", b"the film was good\n\xff\xfe bad bytes\n"),
    Case("empty", b"", must_refuse=True),
    Case("blank lines only", b"\n\n  \n", must_refuse=True),
    Case("UTF-16 with a BOM", "the film was good\n".encode("utf-16")),
    Case("NUL bytes", b"the film\x00 was good\n"),
    Case("no final newline, CRLF", b"the film was good\r\nit was bad"),
)
"""Contents of a ``--file``; the last two may be explained or refused."""

_ROW = {"index": 0, "text": "the film was good"}

OUTPUT_FILES = (
    Case("foreign JSONL", b'{"a": 1}\n{"b": [2, 3]}\n', must_refuse=True),
    Case("JSON lines that are not objects", b"[1, 2]\n3\n", must_refuse=True),
    Case("a text file (--file and --output swapped)", b"the film was good\nit was bad\n", must_refuse=True),
    Case("foreign JSONL with a torn last line", b'{"a": 1}\n{"b": ', must_refuse=True),
    Case("invalid UTF-8", b"\xff\xfe\x00garbage\n", must_refuse=True),
    Case("rows without limelight's fields", (json.dumps(_ROW) + "\n").encode(), must_refuse=True),
)
"""Existing files given as ``--output`` that are not limelight output: refused, and left byte for byte."""


FOLDERS = (
    "empty",
    "config not an object",
    "config not JSON",
    "truncated safetensors",
    "empty safetensors",
    "no tokenizer files",
    "no weights",
    "a file",
    "missing",
)
"""The names of :func:`model_folders`' folders: none is a classifier limelight can explain."""


def model_folders(root: Path, save_classifier: Callable[[Path], Any]) -> dict[str, Path]:
    """Broken classifier folders under ``root``; ``save_classifier(path)`` saves a good tiny one."""
    folders: dict[str, Path] = {}

    def good(name: str) -> Path:
        path = root / name
        save_classifier(path)
        folders[name] = path
        return path

    (root / "empty").mkdir(parents=True)
    folders["empty"] = root / "empty"
    (good("config not an object") / "config.json").write_text("[1, 2, 3]\n", encoding="utf-8")
    (good("config not JSON") / "config.json").write_text("{model_type: bert", encoding="utf-8")
    weights = good("truncated safetensors") / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
    (good("empty safetensors") / "model.safetensors").write_bytes(b"")
    no_tokenizer = good("no tokenizer files")
    for item in no_tokenizer.iterdir():
        if item.name not in ("config.json", "model.safetensors"):
            item.unlink()
    (good("no weights") / "model.safetensors").unlink()
    (root / "a file").write_text("not a folder\n", encoding="utf-8")
    folders["a file"] = root / "a file"
    folders["missing"] = root / "does not exist"
    return folders
