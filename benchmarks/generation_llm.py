"""limelight.generation vs Captum's LLM classes on the demo LLM (SmolLM2-135M-Instruct).

A prompt of about 40 tokens and a 10-token continuation (the model's own greedy one). Two paths:

- gradient: Layer IG at the embedding layer, `--steps` Gauss-Legendre steps (50), baseline token 0 at every
  prompt position: limelight's ``explain_generation(method="layer_integrated_gradients")`` against
  ``LLMGradientAttribution(LayerIntegratedGradients(model, embed_tokens))``;
- feature ablation over tokens, removed tokens replaced by token 0: limelight against
  ``LLMAttribution(FeatureAblation(model))`` with Captum's default forward (token by token with the
  key/value cache) and with ``forward_in_tokens=False`` (prompt + target in one forward).

Every variant runs once untimed, then the variants are interleaved for ``--repeats`` rounds; a
variant's figure is its minimum, ratios are of minima. The numbers are compared (max |difference|).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from _common import CLOCKS, environment_line, timed_call, verdict  # noqa: E402

from limelight.demo import demo_llm  # noqa: E402
from limelight.generation import explain_generation  # noqa: E402

PROMPT = (
    "The river Thames flows through southern England, including the city of London, and it is the longest river "
    "entirely in England. Along its banks, from Oxford to the sea, you can see many famous"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50, help="IG steps, both libraries (default 50)")
    parser.add_argument("--quick", action="store_true", help="2 repeats")
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    torch.set_num_threads(args.threads)
    from captum.attr import FeatureAblation, LayerIntegratedGradients, LLMAttribution, LLMGradientAttribution, TextTokenInput

    model, tok = demo_llm()
    ids = tok(PROMPT)["input_ids"]
    generated = model.generate(
        torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long), max_new_tokens=args.new_tokens, do_sample=False
    )
    target_ids = generated[0, len(ids) :]
    target = tok.decode(target_ids)
    if tok.encode(target, add_special_tokens=False) != target_ids.tolist() or len(target_ids) != args.new_tokens:
        raise SystemExit(
            f"the continuation {target!r} is not {args.new_tokens} tokens that re-tokenise to themselves; choose another prompt"
        )
    print(environment_line())
    print(
        f"prompt: {len(ids)} tokens; continuation: {len(target_ids)} tokens {target!r}; {args.steps} IG steps; {args.threads} threads; {repeats} rounds"
    )
    inp = TextTokenInput(PROMPT, tok)
    lig = LLMGradientAttribution(LayerIntegratedGradients(model, model.get_input_embeddings()), tok)
    fa = LLMAttribution(FeatureAblation(model), tok)
    variants = {
        "gradient/limelight": lambda: (
            explain_generation(
                model,
                tok,
                PROMPT,
                target,
                method="layer_integrated_gradients",
                features="tokens",
                baseline=0,
                n_steps=args.steps,
                tolerance=None,
            ).matrix
        ),
        "gradient/captum": lambda: lig.attribute(inp, target=target_ids, n_steps=args.steps).token_attr,
        "ablation/limelight": lambda: (
            explain_generation(model, tok, PROMPT, target, method="feature_ablation", features="tokens", erasure=0).matrix
        ),
        "ablation/captum": lambda: fa.attribute(inp, target=target_ids).token_attr,
        "ablation/captum-one-forward": lambda: fa.attribute(inp, target=target_ids, forward_in_tokens=False).token_attr,
    }
    seconds: dict[str, dict[str, list[float]]] = {name: {c: [] for c in CLOCKS} for name in variants}
    values = {}
    for round_ in range(repeats + 1):
        for name, run in variants.items():
            took, value = timed_call(run)
            values[name] = value.double()
            if round_:
                for clock in CLOCKS:
                    seconds[name][clock].append(took[clock])
    best = {name: {c: min(s[c]) for c in CLOCKS} for name, s in seconds.items()}
    print(f"{'variant':<30}{'cpu s':>10}{'wall s':>10}")
    for name in variants:
        print(f"{name:<30}{best[name]['cpu']:>10.2f}{best[name]['wall']:>10.2f}")
    for path, target_ratio, others in (("gradient", 3.0, ("captum",)), ("ablation", 2.0, ("captum", "captum-one-forward"))):
        for other in others:
            ratio = best[f"{path}/{other}"]["wall"] / best[f"{path}/limelight"]["wall"]
            diff = float((values[f"{path}/limelight"] - values[f"{path}/{other}"]).abs().max())
            print(
                f"{path}: limelight vs {other}: {ratio:.2f}x faster (wall; target >= {target_ratio:g}x: {verdict(ratio >= target_ratio)}), max |diff| {diff:.2e}"
            )


if __name__ == "__main__":
    main()
