"""Write the figures and numbers of docs/internals.md: head importance and TCAV on the demo sentiment model.

Head importance: four short SST-2 dev sentences (two of each label), integrated gradients over the
6 x 12 head mask with its completeness delta, the one-head ablation check, and each layer's
contribution. TCAV: concepts made of short SST-2 *train* phrases (2 to 6 words) that contain a
negation word, that contain a word of praise, and (a control) phrases drawn like the random pool,
tested at each of the six encoder layers against random phrases, for the class ``negative`` on
negative dev sentences. Everything is seeded; on a CPU it takes a minute or two.

    python scripts/make_internals_figures.py [--data ../shared/data] [--out docs/images/internals]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

import limelight
from limelight import TCAV
from limelight.demo.sst2 import read_sst2
from limelight.text import head_importance, text_concept, text_inputs, token_mean
from limelight.viz import save_heads

NEGATION = frozenset({"not", "n't", "no", "never", "nothing", "nobody", "none", "neither", "nor", "without", "cannot"})
PRAISE = frozenset({"great", "wonderful", "beautiful", "best", "brilliant", "delightful", "excellent", "charming", "funny", "moving"})
HEAD_SENTENCES = 2  # per label
CONCEPT_SIZE, RANDOM_SIZE, TARGET_SIZE, RUNS, SEED = 40, 240, 150, 10, 0


def short_phrases(sentences: list[str]) -> list[str]:
    """Distinct train rows of 2 to 6 words (SST-2's train set is mostly phrases)."""
    return sorted({s for s in sentences if 2 <= len(s.split()) <= 6})


def with_words(phrases: list[str], words: frozenset[str]) -> list[str]:
    return [p for p in phrases if words & set(p.split())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images" / "internals")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    model, tokenizer = limelight.demo_model()
    dev, dev_labels = read_sst2(args.data / "sst2" / "dev.tsv")
    train, _ = read_sst2(args.data / "sst2" / "train.tsv")

    # Head importance on the shortest few dev sentences of each label.
    chosen = [s for label in (0, 1) for s in sorted((s for s, y in zip(dev, dev_labels) if y == label), key=len)[2 : 2 + HEAD_SENTENCES]]
    start = time.time()
    heads = head_importance(model, tokenizer, chosen, n_steps=64)
    e = heads.evidence
    print(f"head importance: {len(chosen)} sentences in {time.time() - start:.1f} s")
    for i, text in enumerate(chosen):
        top = divmod(int(heads.scores[i].abs().argmax()), heads.n_heads)
        print(
            f"  {text!r} -> {heads.target_labels[i]}: f(all)={float(e.input_value[i]):.3f} f(none)={float(e.baseline_value[i]):.3f} "
            f"sum={float(heads.scores[i].sum()):.3f} delta={float(e.delta[i]):.1e}; top head {top}; "
            f"layer sum={float(heads.layer_scores[i].sum()):.3f} delta={float(heads.layer_evidence.delta[i]):.1e}"
        )
    agreement = torch.corrcoef(torch.stack([heads.scores.flatten(), heads.ablation.flatten()]))[0, 1]
    print(f"  correlation of IG head importance with one-head ablation over all heads and texts: {float(agreement):.2f}")
    save_heads(args.out / "heads.png", heads, show="all")
    save_heads(args.out / "heads.html", heads, show="all")
    save_heads(args.out / "heads_ablation.png", heads, kind="ablation", show="mean")

    # TCAV at every encoder layer.
    phrases = short_phrases(train)
    pick = random.Random(SEED)
    plain = [p for p in phrases if not (NEGATION | PRAISE) & set(p.split())]
    drawn = pick.sample(plain, RANDOM_SIZE + CONCEPT_SIZE)
    concepts = [
        text_concept("negation", tokenizer, pick.sample(with_words(phrases, NEGATION), CONCEPT_SIZE)),
        text_concept("praise", tokenizer, pick.sample(with_words(phrases, PRAISE), CONCEPT_SIZE)),
        text_concept("random_phrases", tokenizer, drawn[RANDOM_SIZE:]),
    ]
    random_pool = text_concept("random", tokenizer, drawn[:RANDOM_SIZE])
    negatives = [s for s, y in zip(dev, dev_labels) if y == 0][:TARGET_SIZE]
    layers = {f"layer {i}": block for i, block in enumerate(model.bert.encoder.layer)}
    start = time.time()
    tcav = TCAV(model, layers, pool=token_mean, batch_size=32)
    target = model.config.label2id["negative"]
    result = tcav.interpret(text_inputs(tokenizer, negatives), concepts, random_pool, target=target, n_runs=RUNS, seed=SEED)
    print(f"TCAV: {len(concepts)} concepts x {len(layers)} layers x {RUNS} runs in {time.time() - start:.1f} s")
    print("| concept | layer | TCAV score (mean ± sd) | random | CAV accuracy | p | p (Bonferroni) |")
    print("|---|---|---|---|---|---|---|")
    for row in result.rows():
        print(
            f"| {row['concept']} | {row['layer']} | {row['score']:.2f} ± {row['score_std']:.2f} | {row['random_score']:.2f} | "
            f"{row['cav_accuracy']:.2f} | {row['p_value']:.1e} | {row['p_adjusted']:.1e}{' *' if row['significant'] else ''} |"
        )
    (args.out / "tcav.json").write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf-8")
    limelight.viz.save_tcav(args.out / "tcav.png", result, target_name="negative")


if __name__ == "__main__":
    main()
