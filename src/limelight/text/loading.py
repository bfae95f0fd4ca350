"""Loading a local Hugging Face classifier directory: never a hub download."""

from __future__ import annotations

import os
from typing import Any

from ..errors import InvalidInputError


def load_local(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from a local directory saved with ``save_pretrained``, in eval mode.

    Refuses a directory whose checkpoint lacks some of the classifier's weights (a base encoder).
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if not os.path.isdir(path):
        raise InvalidInputError(
            f"{os.fspath(path)!r} is not a local directory; limelight loads models from disk only "
            "(save one with model.save_pretrained(dir) and tokenizer.save_pretrained(dir))"
        )
    model, info = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True, output_loading_info=True)
    if info["missing_keys"]:
        # transformers fills missing weights (typically a base encoder's classifier head) with random values.
        raise InvalidInputError(
            f"{os.fspath(path)!r} has no trained weights for {sorted(info['missing_keys'])}; it is not a fine-tuned "
            "sequence classifier, and explaining a randomly initialised head would explain noise"
        )
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, use_fast=True)
    return model.eval(), tokenizer
