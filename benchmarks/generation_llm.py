"""limelight.generation vs Captum's LLM classes on the demo LLM (SmolLM2-135M-Instruct).

A prompt of about 40 tokens and a 10-token continuation (the model's own greedy one). Two paths:

- gradient: Layer IG at the embedding layer, `--steps` Gauss-Legendre steps (50), baseline token 0 at every
  prompt position: limelight's ``explain_generation(method="layer_integrated_gradients")`` against
  ``LLMGradientAttribution(LayerIntegratedGradients(model, embed_tokens))``;
- feature ablation over tokens, removed tokens replaced by token 0: limelight (with and without its
  prefix key/value cache) against ``LLMAttribution(FeatureAblation(model))`` with Captum's default
  forward (token by token with the key/value cache; ``--captum-cached``, slow) and with
  ``forward_in_tokens=False`` (prompt + target in one forward);
- feature ablation over words, a removed word's tokens deleted: limelight (cache on and off) against
  Captum's ``TextTemplateInput`` with one template slot per word feature (its tokens' text, leading
  space included) and the empty string as baseline, ``forward_in_tokens=False``;
- the prefix cache on a long prompt (``--long-tokens``, 400): the prompt repeated to that length, its
  last 10 words as features, limelight with the cache against without it.

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
    parser.add_argument("--paths", nargs="+", choices=("gradient", "ablation"), default=["gradient", "ablation"])
    parser.add_argument("--captum-cached", action="store_true", help="also Captum's token-by-token cached forward (slow, not exact)")
    parser.add_argument("--long-tokens", type=int, default=400, help="prompt length for the prefix-cache case (0: skip)")
    args = parser.parse_args()
    repeats = 2 if args.quick else args.repeats
    torch.set_num_threads(args.threads)
    from captum.attr import (
        FeatureAblation,
        LayerIntegratedGradients,
        LLMAttribution,
        LLMGradientAttribution,
        TextTokenInput,
    )

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
    gradient = {
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
    }

    def ablate(prompt: str, features: object, erasure: object, cache: bool, text: str = target) -> torch.Tensor:
        return explain_generation(
            model, tok, prompt, text, method="feature_ablation", features=features, erasure=erasure, prefix_cache=cache
        ).matrix

    words = word_template(tok, PROMPT)
    ablation = {
        "ablation/limelight": lambda: ablate(PROMPT, "tokens", 0, True),
        "ablation/limelight-no-cache": lambda: ablate(PROMPT, "tokens", 0, False),
        "ablation/captum-one-forward": lambda: fa.attribute(inp, target=target_ids, forward_in_tokens=False).token_attr,
        "words/limelight": lambda: ablate(PROMPT, "words", "delete", True),
        "words/limelight-no-cache": lambda: ablate(PROMPT, "words", "delete", False),
        "words/captum-one-forward": lambda: fa.attribute(words, target=target_ids, forward_in_tokens=False).token_attr,
        "ablation/floor": floor_scorer(model, tok, PROMPT, target_ids.tolist(), "tokens"),
        "words/floor": floor_scorer(model, tok, PROMPT, target_ids.tolist(), "words"),
    }
    if args.captum_cached:
        ablation["ablation/captum"] = lambda: fa.attribute(inp, target=target_ids).token_attr
    if args.long_tokens:
        long_prompt, late = long_prompt_and_late_words(tok, args.long_tokens, 10)
        print(f"long prompt: {len(tok(long_prompt)['input_ids'])} tokens, its last {len(late)} words as features")
        ablation["long/limelight"] = lambda: ablate(long_prompt, late, "delete", True)
        ablation["long/limelight-no-cache"] = lambda: ablate(long_prompt, late, "delete", False)
    variants = {**(gradient if "gradient" in args.paths else {}), **(ablation if "ablation" in args.paths else {})}
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
    comparisons = [
        ("gradient/limelight", "gradient/captum", 3.0),
        ("ablation/limelight", "ablation/captum", 2.0),
        ("ablation/limelight", "ablation/captum-one-forward", 2.0),
        ("ablation/limelight", "ablation/limelight-no-cache", None),
        ("words/limelight", "words/captum-one-forward", 2.0),
        ("words/limelight", "words/limelight-no-cache", None),
        ("ablation/floor", "ablation/captum-one-forward", None),
        ("ablation/floor", "ablation/limelight", None),
        ("words/floor", "words/limelight", None),
        ("words/floor", "words/captum-one-forward", None),
        ("long/limelight", "long/limelight-no-cache", None),
    ]
    for ours, other, target_ratio in comparisons:
        if ours not in best or other not in best:
            continue
        ratio = best[other]["wall"] / best[ours]["wall"]
        cpu_ratio = best[other]["cpu"] / best[ours]["cpu"]
        diff = float((values[ours] - values[other]).abs().max())
        goal = "" if target_ratio is None else f"; target >= {target_ratio:g}x: {verdict(ratio >= target_ratio)}"
        print(f"{ours} vs {other}: {ratio:.2f}x faster (wall{goal}), {cpu_ratio:.2f}x (cpu), max |diff| {diff:.2e}")


def floor_scorer(model: object, tok: object, prompt: str, target: list[int], features: str) -> object:
    """The floor of limelight's plan: the planned forwards of the perturbed rows (built here, untimed), no feature mapping or result assembly.

    One row per feature (tokens: replaced by id 0; words: deleted) plus the original, scored by
    limelight's runner (its planner, prefix forward and chunks). Prints the token positions run.
    """
    from limelight.engine.chunking import DEFAULT_MEMORY_BUDGET
    from limelight.generation.features import prompt_features
    from limelight.generation.prefix_cache import Row, plan_batch, plan_cuts
    from limelight.generation.prompts import encode_prompt
    from limelight.generation.quantity import Quantity
    from limelight.generation.runner import GenerationRunner

    encoded = encode_prompt(tok, prompt)
    ids = tuple(encoded.ids)
    mask = prompt_features(encoded, features).mask(len(ids)).tolist()
    rows = [Row(ids, tuple(target), None, ids)]
    for f in range(max(mask) + 1):
        kept = [0 if m == f else i for i, m in zip(ids, mask)] if features == "tokens" else [i for i, m in zip(ids, mask) if m != f]
        rows.append(Row(tuple(kept), tuple(target), None, ids))
    runner = GenerationRunner(model, tok, DEFAULT_MEMORY_BUDGET)
    scorer = runner.scorer
    cuts = plan_cuts(rows, scorer.keyword is not None)
    plan = plan_batch(rows, cuts, scorer._chunk_rows(rows, cached=True), scorer._chunk_rows(rows, cached=False))
    body = max(plan.cuts) + sum(len(c) * (max(len(rows[i].prompt) - plan.cuts[i] for i in c) + len(target)) for c in plan.chunks)
    ideal = max(plan.cuts) + sum(len(r.prompt) - common_start(r.prompt, ids) + len(target) for r in rows)
    captum = sum(len(r.prompt) + len(target) for r in rows)
    print(
        f"{features}: {len(rows)} rows; token positions through the body: Captum {captum} (all through the LM head too), "
        f"limelight's plan {body} (padding included), ideal cache {ideal}; LM head {len(rows) * (len(target) + 1)}"
    )

    def run() -> torch.Tensor:
        values = torch.stack(runner.score_rows(rows, Quantity()))
        return (values[0] - values[1:]).T  # feature ablation: original minus perturbed, (T, features)

    return run


def common_start(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """Tokens ``a`` shares with ``b`` from the start, keeping one token of ``a`` to run."""
    from limelight.generation.prefix_cache import common_prefix

    return min(common_prefix(a, b), len(a) - 1)


def word_template(tok: object, prompt: str) -> object:
    """Captum's template of the prompt: one slot per word feature (its tokens' text, leading space included), the rest literal."""
    from captum.attr import TextTemplateInput

    from limelight.generation.features import prompt_features
    from limelight.generation.prompts import encode_prompt

    encoded = encode_prompt(tok, prompt)
    mask = prompt_features(encoded, "words").mask(len(encoded.ids)).tolist()
    template, pieces, i = "", [], 0
    while i < len(mask):
        j = i
        while j < len(mask) and mask[j] == mask[i]:
            j += 1
        text = tok.decode(encoded.ids[i:j])  # type: ignore[attr-defined]
        if mask[i] < 0:
            template += text.replace("{", "{{").replace("}", "}}")
        else:
            template, pieces = template + "{}", [*pieces, text]
        i = j
    return TextTemplateInput(template, pieces, baselines=[""] * len(pieces))


def long_prompt_and_late_words(tok: object, tokens: int, n_words: int) -> tuple[str, list[tuple[int, int]]]:
    """``PROMPT`` repeated to about ``tokens`` tokens, and the character spans of its last ``n_words`` words.

    A span starts at the word's leading space: a feature holds the tokens inside its span, and this
    tokenizer's word tokens begin with the space.
    """
    text = PROMPT
    while len(tok(text + " " + PROMPT)["input_ids"]) <= tokens:  # type: ignore[operator]
        text += " " + PROMPT
    spans, end = [], len(text)
    for _ in range(n_words):
        start = text.rindex(" ", 0, end)
        spans.append((start, end))
        end = start
    return text, spans[::-1]


if __name__ == "__main__":
    main()
