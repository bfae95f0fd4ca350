"""Find flipped training labels by self-influence (TracIn) on an SST-2 subset; figures for docs/influence.md.

The classifier: the demo model's frozen MiniLM encoder (mean-pooled token states, 384 numbers per
sentence) under a small trained head (384 -> 32 -> 2, tanh), so training takes seconds on a CPU.
``--n-train`` SST-2 training sentences (seeded sample, ``../shared/data/sst2/train.tsv``) get
10% of their labels flipped (seeded); the head is trained with plain SGD (learning rate ``--lr``,
batches of 32) for ``--epochs`` epochs and a checkpoint is saved after each. Then every training
example is ranked by

* self-influence, TracInCP over all head parameters (sum over checkpoints of lr x ||grad||^2);
* self-influence, TracInCPFast over the last layer only;
* the loss-only baseline: the example's loss under the final checkpoint;

and the script prints, for each, the share of flipped labels found in the top 10% and 20% and the
AUC, plus the dev accuracy and one dev sentence's top proponents and opponents.

    python scripts/influence_flipped_labels.py --n-train 1500 --epochs 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import limelight
from limelight.demo.sst2 import read_sst2
from limelight.influence import TracInCP, TracInCPFast, detection

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2"


def features(model: nn.Module, tokenizer, sentences: list[str], batch_size: int = 64) -> torch.Tensor:
    """Mean-pooled final hidden states of the frozen encoder, one row per sentence."""
    rows = []
    with torch.inference_mode():
        for start in range(0, len(sentences), batch_size):
            batch = tokenizer(sentences[start : start + batch_size], padding=True, return_tensors="pt")
            hidden = model.bert(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            rows.append((hidden * mask).sum(1) / mask.sum(1))
    return torch.cat(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument("--n-dev", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--flip", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    began = time.perf_counter()

    encoder, tokenizer = limelight.demo_model()
    encoder.eval()
    rng = np.random.default_rng(args.seed)
    sentences, labels = read_sst2(DATA / "train.tsv")
    chosen = rng.choice(len(sentences), args.n_train, replace=False)
    texts = [sentences[i] for i in chosen]
    clean = torch.tensor([labels[i] for i in chosen])
    flipped = torch.zeros(args.n_train, dtype=torch.bool)
    flipped[torch.from_numpy(rng.choice(args.n_train, int(round(args.flip * args.n_train)), replace=False))] = True
    noisy = torch.where(flipped, 1 - clean, clean)
    dev_texts, dev_labels = read_sst2(DATA / "dev.tsv")
    dev_texts, dev_labels = dev_texts[: args.n_dev], torch.tensor(dev_labels[: args.n_dev])
    x, x_dev = features(encoder, tokenizer, texts), features(encoder, tokenizer, dev_texts)
    encoded = time.perf_counter() - began

    torch.manual_seed(args.seed)
    head = nn.Sequential(nn.Linear(x.shape[1], 32), nn.Tanh(), nn.Linear(32, 2))
    optimiser = torch.optim.SGD(head.parameters(), lr=args.lr)
    order = torch.Generator().manual_seed(args.seed)
    checkpoints = []
    for _ in range(args.epochs):
        for batch in torch.randperm(args.n_train, generator=order).split(32):
            optimiser.zero_grad()
            nn.functional.cross_entropy(head(x[batch]), noisy[batch]).backward()
            optimiser.step()
        checkpoints.append({k: v.clone() for k, v in head.state_dict().items()})
    with torch.no_grad():
        dev_accuracy = float((head(x_dev).argmax(-1) == dev_labels).double().mean())
        train_fit = float((head(x).argmax(-1) == noisy).double().mean())
        final_loss = nn.functional.cross_entropy(head(x), noisy, reduction="none").numpy()

    train = [(x[i], int(noisy[i])) for i in range(args.n_train)]
    timer = time.perf_counter()
    cp = TracInCP(head, train, checkpoints=checkpoints, learning_rate=args.lr, batch_size=256, references=texts)
    cp_scores = cp.self_influence()
    cp_seconds = time.perf_counter() - timer
    timer = time.perf_counter()
    fast = TracInCPFast(head, train, checkpoints=checkpoints, learning_rate=args.lr, final_layer="2", batch_size=256, references=texts)
    fast_scores = fast.self_influence()
    fast_seconds = time.perf_counter() - timer

    mask = flipped.numpy()
    figures = {
        "n_train": args.n_train,
        "n_flipped": int(mask.sum()),
        "epochs": args.epochs,
        "dev_accuracy": dev_accuracy,
        "train_fit_to_noisy_labels": train_fit,
        "tracin_cp": detection(cp_scores.scores, mask),
        "tracin_cp_fast": detection(fast_scores.scores, mask),
        "loss_only": detection(final_loss, mask),
        "seconds": {"encode": encoded, "tracin_cp": cp_seconds, "tracin_cp_fast": fast_seconds},
    }
    print(json.dumps(figures, indent=2))
    top = cp_scores.top(5)
    print("highest self-influence:")
    for e in top:
        print(f"  {e.score:8.3f}  #{e.index:<5} label {e.label} ({'flipped' if mask[e.index] else 'clean'})  {e.reference}")
    probe = [(x_dev[0], int(dev_labels[0]))]
    print(f"dev sentence: {dev_texts[0]!r} (label {int(dev_labels[0])})")
    print(cp.influence(probe, k=3))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
