"""The golden run: every text method at its defaults on 40 SST-2 dev sentences, and ``compare`` on 10.

Its output (``golden.json`` beside this file) was written before the architecture redesign; the
redesign must reproduce it (see ``test_golden.py``). Regenerate only when a result is meant to
change, and say which and why in the commit: ``python -m tests.golden.golden_run --write``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

import torch

GOLDEN = Path(__file__).with_name("golden.json")
DATA = Path(os.environ.get("LIMELIGHT_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data")) / "sst2" / "dev.tsv"

METHODS = (
    "integrated_gradients",
    "input_x_gradient",
    "saliency",
    "smoothgrad",
    "feature_ablation",
    "occlusion",
    "shapley",
    "shapley_sampling",
    "kernel_shap",
    "lime",
)
"""Every text method (the sampled ones are seeded by their defaults)."""

MIN_WORDS, MAX_WORDS = 3, 10
"""Sentences of 3 to 10 words: exact Shapley values stay cheap, and occlusion's 3-word window fits."""


def golden_sentences(path: Path = DATA, count: int = 40) -> list[str]:
    """The first ``count`` SST-2 dev sentences of :data:`MIN_WORDS` to :data:`MAX_WORDS` words."""
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    sentences = [row.split("\t")[0].strip() for row in rows]
    return [s for s in sentences if MIN_WORDS <= len(re.findall(r"\w+|[^\w\s]", s)) <= MAX_WORDS][:count]


def _record(explanation: Any) -> dict[str, Any]:
    return {
        "text": explanation.text,
        "words": [[w, s] for w, s in explanation.words],
        "predicted_label": explanation.predicted_label,
        "probabilities": explanation.probabilities,
        "target_label": explanation.target_label,
        "target_value": explanation.input_value,
        "baseline_value": explanation.baseline_value,
        "delta": explanation.delta,
        "n_steps": explanation.n_steps,
    }


def run(sentences: list[str]) -> dict[str, Any]:
    """Explanations by every method and compare's per-input metric values, as plain JSON data."""
    import limelight

    torch.set_num_threads(1)
    model, tokenizer = limelight.demo_model()
    explanations = {method: [_record(e) for e in limelight.explain(model, tokenizer, sentences, method=method)] for method in METHODS}
    comparison = limelight.compare(model, tokenizer, sentences[:10], methods=list(METHODS), show_progress=False)
    metrics = {
        name: {metric: [float(v) for v in values] for metric, values in result.values.items()}
        for name, result in comparison.results.items()
    }
    return {"sentences": sentences, "explanations": explanations, "compare": metrics, "recommendation": comparison.recommendation}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {GOLDEN.name} (otherwise print a summary)")
    args = parser.parse_args()
    result = run(golden_sentences())
    if args.write:
        GOLDEN.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"{len(result['sentences'])} sentences, {len(result['explanations'])} methods, recommendation: {result['recommendation']}")


if __name__ == "__main__":
    main()
