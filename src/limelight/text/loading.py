"""Loading a local Hugging Face classifier directory: never a hub download.

Every way a folder can be wrong is refused by name before transformers sees it, because
transformers fills gaps silently: without tokenizer files it builds a tiny default tokenizer
that reads every word as ``[UNK]`` (a confident, meaningless prediction), and without a head's
weights it initialises them at random. A missing, unreadable or truncated file is an error
naming that file.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model", "spm.model")
"""Files one of which a saved tokenizer has (``tokenizer.save_pretrained`` writes ``tokenizer.json`` for a fast one)."""

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
"""The weight files ``model.save_pretrained`` writes (one file, or an index of shards)."""


def load_local(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from a local directory saved with ``save_pretrained``, in eval mode.

    Refuses a directory without a readable config, weights or tokenizer files, and one whose
    checkpoint lacks some of the classifier's weights (a base encoder).
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(path)
    if not folder.is_dir():
        raise InvalidInputError(
            f"{os.fspath(path)!r} is not a local directory; limelight loads models from disk only "
            "(save one with model.save_pretrained(dir) and tokenizer.save_pretrained(dir))"
        )
    _check_config(folder / "config.json")
    _check_weights(folder)
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise InvalidInputError(
            f"{os.fspath(folder)!r} has no tokenizer files (none of {', '.join(TOKENIZER_FILES)}); without them "
            "transformers would build a default tokenizer that reads every word as unknown. Save the model's own "
            "tokenizer there with tokenizer.save_pretrained(dir), or pass it: TextExplainer(dir, tokenizer)"
        )
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True, output_loading_info=True)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise InvalidInputError(
            f"cannot load the model in {os.fspath(folder)!r}: {error}; re-save it with model.save_pretrained(dir)"
        ) from error
    if info["missing_keys"]:
        # transformers fills missing weights (typically a base encoder's classifier head) with random values.
        raise InvalidInputError(
            f"{os.fspath(path)!r} has no trained weights for {sorted(info['missing_keys'])}; it is not a fine-tuned "
            "sequence classifier, and explaining a randomly initialised head would explain noise"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, use_fast=True)
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as error:
        raise InvalidInputError(
            f"cannot load the tokenizer in {os.fspath(folder)!r}: {error}; re-save it with tokenizer.save_pretrained(dir)"
        ) from error
    return model.eval(), tokenizer


def _check_config(config: Path) -> None:
    """``config.json`` exists and holds a JSON object."""
    if not config.is_file():
        raise InvalidInputError(
            f"{os.fspath(config.parent)!r} has no config.json, so it is not a saved model; save one with "
            "model.save_pretrained(dir) and tokenizer.save_pretrained(dir)"
        )
    try:
        value = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInputError(
            f"{os.fspath(config)!r} is not readable JSON ({error}); re-save the model with model.save_pretrained(dir)"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"{os.fspath(config)!r} holds a JSON {type(value).__name__}, not an object of model settings; "
            "re-save the model with model.save_pretrained(dir)"
        )


def _check_weights(folder: Path) -> None:
    """A weight file exists; a single safetensors file is checked to be complete (its header matches its size)."""
    present = [name for name in WEIGHT_FILES if (folder / name).is_file()]
    if not present:
        raise InvalidInputError(
            f"{os.fspath(folder)!r} has no weights (none of {', '.join(WEIGHT_FILES)}); save them with model.save_pretrained(dir)"
        )
    if present[0] == "model.safetensors":
        _check_safetensors(folder / "model.safetensors")


def _check_safetensors(file: Path) -> None:
    """The file's 8-byte header length, JSON header and tensor data all fit its size (a torn copy does not)."""
    size = file.stat().st_size
    problem = None
    with file.open("rb") as stream:
        head = stream.read(8)
        length = struct.unpack("<Q", head)[0] if len(head) == 8 else None
        if length is None or 8 + length > size:
            problem = f"its header needs {'8' if length is None else 8 + length} bytes but the file has {size}"
        else:
            try:
                header = json.loads(stream.read(length))
                end = max((int(entry["data_offsets"][1]) for key, entry in header.items() if key != "__metadata__"), default=0)
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                problem = "its header is not valid safetensors JSON"
            else:
                if 8 + length + end > size:
                    problem = f"its tensors need {8 + length + end} bytes but the file has {size}"
    if problem:
        raise InvalidInputError(
            f"{os.fspath(file)!r} is truncated or damaged: {problem}; copy it again or re-save with model.save_pretrained(dir)"
        )
