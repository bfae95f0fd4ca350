"""The lines of a dataset job's JSON Lines file: one header per run, then one row per text.

The header (``{"limelight": "explain_to_jsonl", "format": 1, "settings": {...}}``) records what
the rows were computed with (model, method, baseline, quantity, target, ...), and every row
(``{"index": i, "sha256": ..., "explanation": {...}}``, or ``"error": reason`` for a text that
could not be explained) the hash of its input text, so a resume
can tell that an existing file belongs to the same job before appending to it. A file is
recognised as limelight output only by its header; anything else is left untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import torch

from limelight.errors import InvalidInputError

JOB = "explain_to_jsonl"
FORMAT = 1
HEADER_PREFIX = b'{"limelight": "explain_to_jsonl"'
_UNSTABLE_CONFIG_KEYS = (  # what saving and loading the same model changes (the dtype is recorded from the weights)
    "_name_or_path",
    "transformers_version",
    "_commit_hash",
    "_attn_implementation_autoset",
    "architectures",
    "dtype",
    "torch_dtype",
)


def text_digest(text: str, pair: str | None) -> str:
    """The hash a row records of its input (text and pair), to detect a resume with other texts."""
    return hashlib.sha256(json.dumps([text, pair], ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()


def header(settings: dict[str, Any]) -> bytes:
    """The header line of a run with ``settings``."""
    return _line({"limelight": JOB, "format": FORMAT, "settings": settings})


def row(index: int, digest: str, explanation: dict[str, Any]) -> bytes:
    """The line of text ``index``."""
    return _line({"index": index, "sha256": digest, "explanation": explanation})


def failed_row(index: int, digest: str, reason: str) -> bytes:
    """The line of text ``index`` when it could not be explained: ``error`` says why."""
    return _line({"index": index, "sha256": digest, "error": reason})


def job_settings(explainer: Any, explain_kwargs: dict[str, Any]) -> dict[str, Any]:
    """What decides a job's rows (model, method and its options, baseline, quantity, words, target, ...), as JSON values.

    Batch sizes and progress display are left out: they do not change results.
    """
    model: Any = getattr(explainer, "model", None)
    config: Any = getattr(model, "config", None)
    config_dict = config.to_dict() if hasattr(config, "to_dict") else {}
    stable = {k: v for k, v in config_dict.items() if k not in _UNSTABLE_CONFIG_KEYS}
    baseline: Any = getattr(explainer, "baseline", None)
    runner = getattr(explainer, "runner", None)
    settings = {
        "model": type(model).__name__,
        "model_config_sha256": hashlib.sha256(json.dumps(stable, sort_keys=True, default=repr).encode()).hexdigest(),
        "model_dtype": str(next(iter(model.parameters())).dtype) if hasattr(model, "parameters") else None,
        "model_head_sha256": _head_digest(model),
        "method": getattr(explainer, "method_name", type(explainer).__name__),
        "method_options": getattr(explainer, "options", {}),
        "baseline": baseline.describe() if hasattr(baseline, "describe") else repr(baseline),
        "baseline_ids": getattr(baseline, "ids", None),
        "quantity": getattr(explainer, "quantity", None),
        "words": getattr(explainer, "words", None),
        "pooling": getattr(explainer, "pooling", None),
        "max_length": getattr(runner, "max_length", None),
        "window_overlap": getattr(runner, "window_overlap", None),
        **explain_kwargs,
    }
    parsed: dict[str, Any] = json.loads(json.dumps(settings, sort_keys=True, default=repr))
    return parsed


def _head_digest(model: Any) -> str | None:
    """A hash of the model's last weight tensor (the classifier head: small, and changed by any fine-tuning)."""
    parameters = list(model.parameters()) if hasattr(model, "parameters") else []
    if not parameters:
        return None
    weights = parameters[-1].detach().cpu().contiguous().flatten().view(torch.uint8)
    return hashlib.sha256(weights.numpy().tobytes()).hexdigest()


def differences(recorded: object, current: dict[str, Any]) -> list[str]:
    """How the settings ``recorded`` in a header differ from ``current`` (empty when they agree)."""
    if not isinstance(recorded, dict):
        return [f"the header's settings are {recorded!r}, not a mapping"]
    return [
        f"{key} was {recorded.get(key)!r}, now {current.get(key)!r}"
        for key in sorted(set(recorded) | set(current))
        if recorded.get(key) != current.get(key)
    ]


def parse(line: bytes, path: str | os.PathLike[str], number: int) -> dict[str, Any] | None:
    """Line ``number`` of ``path`` as a header or a row (``None`` when blank); foreign or broken lines raise."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path}: line {number} is not valid UTF-8 (byte {error.start + 1}); it is not limelight output") from None
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"{path}: line {number} is not valid JSON ({error}); the file is corrupt or not limelight output") from None
    if is_header(record) or _is_row(record):
        return dict(record)
    raise InvalidInputError(
        f"{path}: line {number} is not a limelight record (expected a header or an index/explanation row); "
        "is it really limelight output? (nothing was changed)"
    )


def is_header(record: Any) -> bool:
    """Whether a parsed line is a job header."""
    return isinstance(record, dict) and record.get("limelight") == JOB


def _is_row(record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    index = record.get("index")
    explained = isinstance(record.get("explanation"), dict) or isinstance(record.get("error"), str)
    return isinstance(index, int) and not isinstance(index, bool) and explained


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record) + "\n").encode("utf-8")
