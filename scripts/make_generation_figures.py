"""Figures and numbers of docs/generation.md, from the demo LLM (SmolLM2-135M-Instruct).

    python scripts/make_generation_figures.py            # writes docs/images/generation/*.png and prints the tables

1. a factual prompt, "The capital of France is" -> " Paris", with integrated gradients (EOS baseline,
   16 Gauss-Legendre steps), Input x Gradient and leave-one-word-out deletion;
2. the contrast " Paris" rather than " London" with the same methods;
3. a chat prompt, explained (by deletion) for the model's own greedy answer;
4. compare_generation on a few factual prompts: comprehensiveness / sufficiency with intervals
   (Input x Gradient and deletion: IG's 16 forwards per prompt did not fit the time this run had).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from limelight.demo import demo_llm
from limelight.evaluation.generation import compare_generation
from limelight.generation import GenerationExplainer
from limelight.viz import save_generation_html, save_generation_image

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "generation"
FACTUAL = "The capital of France is"
STEPS = 16  # IG path points: enough on these short prompts (the deltas are printed), and affordable on a loaded CPU
METHODS = {
    "ig_eos": dict(method="integrated_gradients", baseline="eos", n_steps=STEPS),
    "input_x_gradient": dict(method="input_x_gradient"),
    "deletion": dict(method="feature_ablation"),
}
PROMPTS = [
    ("The capital of France is", " Paris"),
    ("The capital of Italy is", " Rome"),
    ("The largest planet in the solar system is", " Jupiter"),
    ("The author of Romeo and Juliet is William", " Shakespeare"),
]


def ranking(explanation) -> str:
    return ", ".join(f"{text!r} {score:+.2f}" for text, score in explanation.top_features(len(explanation.features)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    model, tok = demo_llm()
    print("## factual: 'The capital of France is' -> ' Paris' (features ranked by score)")
    for name, options in METHODS.items():
        e = GenerationExplainer(model, tok, **options).explain(FACTUAL, " Paris")
        delta = "" if e.delta is None else f"  (delta {float(e.delta[0]):+.1e})"
        print(f"- {name}: {ranking(e)}{delta}")
        if name in ("ig_eos", "deletion"):
            save_generation_image(OUT / f"factual_{name}.png", e)
    print("\n## contrast: ' Paris' rather than ' London'")
    for name, options in METHODS.items():
        e = GenerationExplainer(model, tok, **options).explain(FACTUAL, " Paris", contrast=" London")
        print(f"- {name}: {ranking(e)}  (value {float(e.values[0]):+.2f})")
        if name in ("ig_eos", "deletion"):
            save_generation_image(OUT / f"contrast_{name}.png", e)
    print("\n## chat: 'What is the capital of France?' (greedy answer)")
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    e = GenerationExplainer(model, tok, method="feature_ablation").explain(chat, max_new_tokens=6)
    print(f"- answer {e.text!r}; features {[t for t, _ in e.features]}; sequence: {ranking(e)}")
    save_generation_image(OUT / "chat_deletion.png", e)
    save_generation_html(OUT / "chat_deletion.html", e)
    print("\n## compare_generation on", len(PROMPTS), "factual prompts (deletion erasure, words)")
    comparison = compare_generation(
        model,
        tok,
        [p for p, _ in PROMPTS],
        [t for _, t in PROMPTS],
        methods=("input_x_gradient", "feature_ablation"),
        n_bootstrap=args.bootstrap,
    )
    print(comparison.to_markdown())


if __name__ == "__main__":
    main()
