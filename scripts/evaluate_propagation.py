"""Propagation methods against Integrated Gradients on the demo model: comprehensiveness AOPC and explain time.

Explains a seeded random subset of SST-2 dev sentences (``sst2/dev.tsv``) for their gold label
with integrated gradients (the text default, ``n_steps="auto"``), DeepLift (Rescale and RevealCancel) and LRP with each
transformer rule set, scores every method with :func:`limelight.compare`'s comprehensiveness AOPC
(bootstrap 95% interval), and times the explanations separately: every method explains the same
sentences ``--repeats`` times, interleaved, and the minimum is kept (the machine may be shared).
Prints a Markdown table and writes it, with the settings, to ``--json``. Rerun from the repository
root:

    HF_HUB_OFFLINE=1 python scripts/evaluate_propagation.py --n 100 --seed 0

(data dir: ``--data-dir``, else $LIMELIGHT_DATA, else ``../shared/data``; it must hold ``sst2/dev.tsv``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

import limelight  # noqa: E402
from limelight.demo.sst2 import read_sst2  # noqa: E402
from limelight.evaluation import MethodExplainer  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "integrated_gradients"
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    REFERENCE: ("integrated_gradients", {}),
    "deeplift": ("deeplift", {}),
    "deeplift (reveal_cancel)": ("deeplift", {"rule": "reveal_cancel"}),
    "lrp (transformer: epsilon)": ("lrp", {"composite": "transformer"}),
    "lrp (transformer_gamma)": ("lrp", {"composite": "transformer_gamma"}),
}
"""Row label -> (text method, its settings)."""


def sentences(data_dir: Path, n: int, seed: int) -> tuple[list[str], list[int]]:
    texts, labels = read_sst2(data_dir / "sst2" / "dev.tsv")
    chosen = sorted(random.Random(seed).sample(range(len(texts)), min(n, len(texts))))
    return [texts[i] for i in chosen], [labels[i] for i in chosen]


def explain_times(
    model: Any, tokenizer: Any, texts: list[str], labels: list[int], repeats: int, methods: dict[str, tuple[str, dict[str, Any]]] = METHODS
) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds (this process) to explain every text, per method: minima over interleaved repetitions.

    CPU time is the fairer ratio on a machine shared with other work; both are reported. ``methods``: row label ->
    (text method, settings), :data:`METHODS` by default.
    """
    best = {label: (float("inf"), float("inf")) for label in methods}
    for _ in range(repeats):
        for label, (method, settings) in methods.items():
            explainer = limelight.TextExplainer(model, tokenizer, method=method, **settings)
            wall, cpu = time.perf_counter(), time.process_time()
            explainer.explain(texts, target=labels)
            taken = (time.perf_counter() - wall, time.process_time() - cpu)
            best[label] = (min(best[label][0], taken[0]), min(best[label][1], taken[1]))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="sentences (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="interleaved timing repetitions (default 2)")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("LIMELIGHT_DATA", REPO_ROOT.parent / "shared" / "data")))
    parser.add_argument("--json", type=Path, default=None, help="write the table and settings here")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model, tokenizer = limelight.demo_model()
    texts, labels = sentences(args.data_dir, args.n, args.seed)
    methods = {label: MethodExplainer(tokenizer, method, settings) for label, (method, settings) in METHODS.items()}
    comparison = limelight.compare(model, tokenizer, texts, methods, metrics=["comprehensiveness"], target=labels, seed=args.seed)
    times = explain_times(model, tokenizer, texts, labels, args.repeats)
    reference = comparison.results[REFERENCE].summary["comprehensiveness"]
    rows = []
    for label in METHODS:
        summary = comparison.results[label].summary["comprehensiveness"]
        rows.append(
            {
                "method": label,
                "aopc": summary.mean,
                "low": summary.low,
                "high": summary.high,
                "gap_to_ig": summary.mean - reference.mean,
                "within_or_above_ig_interval": bool(summary.mean >= reference.low),
                "wall_seconds": times[label][0],
                "cpu_seconds": times[label][1],
                "cpu_time_vs_ig": times[label][1] / times[REFERENCE][1],
            }
        )
    steps = [e.evidence.n_steps for e in comparison.results[REFERENCE].explanations if e.evidence.n_steps is not None]
    mean_steps = sum(steps) / max(len(steps), 1)
    print(
        f"{len(texts)} SST-2 dev sentences (seed {args.seed}), gold label explained; IG used {mean_steps:.1f} path points per "
        f"text on average; torch {torch.__version__}, {platform.machine()}"
    )
    print("| method | comprehensiveness AOPC (95% CI) | gap to IG | explain wall s | explain CPU s | CPU time / IG's |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['method']} | {row['aopc']:.3f} ({row['low']:.3f} to {row['high']:.3f}) | {row['gap_to_ig']:+.3f} | "
            f"{row['wall_seconds']:.1f} | {row['cpu_seconds']:.1f} | {row['cpu_time_vs_ig']:.2f} |"
        )
    if args.json is not None:
        settings = {"n": len(texts), "seed": args.seed, "repeats": args.repeats, "torch": torch.__version__, "ig_mean_steps": mean_steps}
        args.json.write_text(json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
