"""Compute every figure and number of docs/tutorial-grammar.md and write them to docs/images/grammar/.

The page explains the seed user's minimal pair with limelight's CoLA demo model: "These tests
don't work as expected." (acceptable) against "These tests doesn't work as expected."
(unacceptable), both explained for the label ``unacceptable`` with the defaults (integrated
gradients, pad baseline, logit) and drawn on one colour scale. It then checks whether the scores
point at the agreement error under other settings (contrast with ``acceptable``, the mask
baseline, exact Shapley values), what the model does when the error is removed word by word, and
how ``compare`` rates the methods on a subset of CoLA in-domain dev. Written:

- ``seed_pair.png``: the two sentences, one scale (the page's main figure);
- ``seed_pair_settings.png``: the unacceptable sentence under the other settings, one scale;
- ``numbers.json``: every number the page quotes;
- ``compare.md``: ``compare``'s table for the CoLA dev subset.

Rerun from the repository root (a few minutes on a quiet CPU):
    HF_HUB_OFFLINE=1 python scripts/make_grammar_tutorial.py --compare-rows 40
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

import limelight  # noqa: E402
from limelight.demo.cola import cola_path, read_cola  # noqa: E402
from limelight.demo.model import read_manifest  # noqa: E402
from limelight.text.explanation import Explanations  # noqa: E402
from limelight.viz import save_image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images" / "grammar"
PAIR = ["These tests don't work as expected.", "These tests doesn't work as expected."]
TARGET = "unacceptable"
COMPARE_METHODS = ("integrated_gradients", "input_x_gradient", "saliency", "smoothgrad", "feature_ablation", "shapley_value_sampling")


def words_of(explanation: limelight.Explanation) -> list[list[object]]:
    return [[word, round(score, 4)] for word, score in explanation.words]


def top_word(explanation: limelight.Explanation) -> str:
    return max(explanation.words, key=lambda item: item[1])[0]


def record(explanation: limelight.Explanation) -> dict[str, object]:
    return {
        "predicted": explanation.predicted_label,
        "p_unacceptable": round(explanation.probabilities["unacceptable"], 4),
        "input_value": round(explanation.input_value or 0.0, 4),
        "baseline_value": round(explanation.baseline_value or 0.0, 4),
        "delta": None if explanation.delta is None else round(explanation.delta, 5),
        "n_steps": explanation.n_steps,
        "top_word": top_word(explanation),
        "words": words_of(explanation),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = os.environ.get("LIMELIGHT_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_data))
    parser.add_argument("--compare-rows", type=int, default=40, help="CoLA in-domain dev rows for compare (evenly spaced)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    model, tokenizer = limelight.demo_model("cola")
    numbers: dict[str, object] = {"model": read_manifest("cola")["evaluation"]["as_shipped"]}

    # 1. the seed pair with the defaults, one scale
    pair = limelight.explain(model, tokenizer, PAIR, target=TARGET)
    save_image(OUT / "seed_pair.png", pair, scale="shared")
    numbers["pair"] = [record(e) for e in pair]

    # 2. the unacceptable sentence under other settings
    bad = PAIR[1]
    settings = {
        "contrast acceptable": limelight.explain(model, tokenizer, bad, target=TARGET, contrast="acceptable"),
        "mask baseline": limelight.explain(model, tokenizer, bad, target=TARGET, baseline="mask"),
        "shapley values (delete)": limelight.explain(model, tokenizer, bad, target=TARGET, method="shapley_values", baseline="delete"),
        "shapley values (pad)": limelight.explain(model, tokenizer, bad, target=TARGET, method="shapley_values"),
    }
    save_image(OUT / "seed_pair_settings.png", Explanations(settings.values()), scale="shared")
    numbers["settings"] = {name: record(e) for name, e in settings.items()}

    # 3. what the model says when one word is removed (the model's behaviour, no attribution involved)
    sentence_words = bad.rstrip(".").split()
    ablations = {}
    for index, word in enumerate(sentence_words):
        kept = " ".join(w for i, w in enumerate(sentence_words) if i != index) + "."
        ablations[word] = round(limelight.explain(model, tokenizer, kept, target=TARGET, method="saliency").probabilities[TARGET], 4)
    numbers["p_unacceptable_without_word"] = ablations
    fixes = ["These tests do not work as expected.", "This test doesn't work as expected.", "These tests does not work as expected."]
    numbers["p_unacceptable_variants"] = {
        text: round(limelight.explain(model, tokenizer, text, target=TARGET, method="saliency").probabilities[TARGET], 4) for text in fixes
    }

    # 4. compare on an evenly spaced subset of CoLA in-domain dev
    sentences, labels = read_cola(cola_path(args.data_dir, "in_domain_dev"))
    step = max(1, len(sentences) // args.compare_rows)
    subset = sentences[::step][: args.compare_rows]
    started = time.perf_counter()
    comparison = limelight.compare(model, tokenizer, subset, methods=list(COMPARE_METHODS), target=TARGET, show_progress=False)
    numbers["compare"] = {
        "rows": len(subset),
        "unacceptable_in_subset": sum(1 for label in labels[::step][: args.compare_rows] if label == 0),
        "seconds": round(time.perf_counter() - started),
        "recommendation": comparison.recommendation,
        "summary": {
            name: {
                metric: [round(estimate.mean, 4), round(estimate.low, 4), round(estimate.high, 4)]
                for metric, estimate in result.summary.items()
            }
            for name, result in comparison.results.items()
        },
    }
    (OUT / "compare.md").write_text(comparison.to_markdown() + "\n", encoding="utf-8")
    (OUT / "numbers.json").write_text(json.dumps(numbers, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(numbers, indent=1))


if __name__ == "__main__":
    main()
