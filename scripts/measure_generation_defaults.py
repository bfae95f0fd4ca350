"""The measurements behind limelight.generation's defaults (docs/generation.md, "Choosing the defaults"), on the demo LLM.

    python scripts/measure_generation_defaults.py baselines    # IG's baseline candidates, compare_generation
    python scripts/measure_generation_defaults.py smoothgrad   # SmoothGrad's noise: ranking stability per stdev

``baselines``: comprehensiveness / sufficiency (AOPC over the ERASER fractions, paired bootstrap
intervals over prompts) of integrated gradients from each candidate baseline, with Input x
Gradient and leave-one-word-out deletion for reference, on the factual prompts below (words,
deletion erasure); also each IG variant's median relative completeness gap |delta| / |change|.

``smoothgrad``: SmoothGrad (saliency inside, ``nt_samples`` noisy copies) with the noise's standard
deviation a multiple of the embedding scale (the standard deviation of the input-embedding matrix's
entries): per multiple, the Spearman correlation of each prompt's word ranking between seeds
(stability), with plain saliency's ranking (how much the noise changes it), and the
comprehensiveness / sufficiency of seed 0.
"""

from __future__ import annotations

import argparse
import itertools
import statistics

import numpy as np
import torch

from limelight.demo import demo_llm
from limelight.evaluation.generation import compare_generation
from limelight.generation import GenerationExplainer
from limelight.generation.explainer import embedding_scale

PROMPTS = [
    ("The capital of France is", " Paris"),
    ("The capital of Italy is", " Rome"),
    ("The capital of Japan is", " Tokyo"),
    ("The largest planet in the solar system is", " Jupiter"),
    ("The author of Romeo and Juliet is William", " Shakespeare"),
    ("Water is made of hydrogen and", " oxygen"),
    ("The Eiffel Tower is located in the city of", " Paris"),
    ("The first president of the United States was George", " Washington"),
]
BASELINES = ("zero", "mean", "eos", "pad", "unk")
MULTIPLES = (0.1, 0.3, 1.0, 3.0)
SEEDS = (0, 1, 2)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def baselines(model, tok, steps: int, n_bootstrap: int) -> None:
    print("tokens:", {name: getattr(tok, f"{name}_token") for name in ("eos", "pad", "unk")})
    variants = {f"ig_{b}": {"method": "integrated_gradients", "baseline": b, "n_steps": steps} for b in BASELINES}
    variants["input_x_gradient"] = {"method": "input_x_gradient"}
    variants["feature_ablation"] = {"method": "feature_ablation"}
    result = compare_generation(model, tok, [p for p, _ in PROMPTS], [t for _, t in PROMPTS], methods=variants, n_bootstrap=n_bootstrap)
    print(f"## compare_generation, {len(PROMPTS)} factual prompts, words, deletion; IG with {steps} Gauss-Legendre steps")
    print(result.to_markdown())
    print("\n| IG baseline | median abs(delta) / abs(change) | top word, per prompt |\n|---|---|---|")
    for b in BASELINES:
        explanations = result.explanations[f"ig_{b}"]
        gaps = [float(e.delta.abs().sum() / (e.evidence.input_value - e.evidence.baseline_value).abs().sum()) for e in explanations]
        tops = ", ".join(e.top_features(1)[0][0] for e in explanations)
        print(f"| {b} | {statistics.median(gaps):.3f} | {tops} |")
    print("\nfeature_ablation top words:", ", ".join(e.top_features(1)[0][0] for e in result.explanations["feature_ablation"]))


def smoothgrad(model, tok, samples: int, n_bootstrap: int) -> None:
    scale = embedding_scale(model)
    print(f"embedding scale (std of the input-embedding entries): {scale:.4f}; nt_samples={samples}; seeds {SEEDS}")
    prompts, targets = [p for p, _ in PROMPTS], [t for _, t in PROMPTS]
    plain = GenerationExplainer(model, tok, method="saliency").explain(prompts, targets)
    print("\n| stdev / scale | Spearman between seeds (mean, min) | Spearman with saliency | comprehensiveness | sufficiency |")
    print("|---|---|---|---|---|")
    for multiple in MULTIPLES:
        runs = [
            GenerationExplainer(model, tok, method="noise_tunnel", nt_samples=samples, stdevs=multiple * scale, seed=seed).explain(
                prompts, targets
            )
            for seed in SEEDS
        ]
        scores = [[e.sequence_scores.numpy() for e in run] for run in runs]  # type: ignore[union-attr]
        between = [spearman(a[k], b[k]) for a, b in itertools.combinations(scores, 2) for k in range(len(prompts))]
        with_plain = [spearman(scores[0][k], plain[k].sequence_scores.numpy()) for k in range(len(prompts))]  # type: ignore[index]
        variant = {"sg": {"method": "noise_tunnel", "nt_samples": samples, "stdevs": multiple * scale, "seed": SEEDS[0]}}
        quality = compare_generation(model, tok, prompts, targets, methods=variant, n_bootstrap=n_bootstrap).estimates["sg"]
        print(
            f"| {multiple:g} | {np.mean(between):.2f}, {np.min(between):.2f} | {np.mean(with_plain):.2f} | "
            f"{quality['comprehensiveness'].format()} | {quality['sufficiency'].format()} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("baselines", "smoothgrad"))
    parser.add_argument("--steps", type=int, default=50, help="IG steps (baselines)")
    parser.add_argument("--samples", type=int, default=10, help="SmoothGrad's nt_samples")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tok = demo_llm()
    if args.part == "baselines":
        baselines(model, tok, args.steps, args.bootstrap)
    else:
        smoothgrad(model, tok, args.samples, args.bootstrap)


if __name__ == "__main__":
    main()
