"""Explain time of the propagation methods against integrated gradients on the demo model, and a profile of one.

Times ``TextExplainer(model, tokenizer, method=...).explain(texts, target=labels)`` (a new explainer each
time) on a seeded subset of SST-2 dev sentences, the methods interleaved and the minimum CPU time of
``--repeats`` kept (:func:`evaluate_propagation.explain_times`), on one thread; prints a Markdown table of
CPU seconds and the ratio to integrated gradients. ``--profile METHOD`` instead prints a cProfile of that
row (e.g. ``"lrp (transformer: epsilon)"``) explaining the sentences once after a warm-up; ``--separate``
gives LRP its own prediction forward again, as before :mod:`limelight.text.prediction`. From the
repository root:

    HF_HUB_OFFLINE=1 python scripts/time_propagation.py --n 30 --repeats 3
    HF_HUB_OFFLINE=1 python scripts/time_propagation.py --n 30 --profile "lrp (transformer: epsilon)"
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from evaluate_propagation import METHODS, REFERENCE, REPO_ROOT, explain_times, sentences  # noqa: E402

import limelight  # noqa: E402
import limelight.text.explainer as explainer_module  # noqa: E402

TIMED = (REFERENCE, "deeplift", "lrp (transformer: epsilon)", "lrp (transformer_gamma)")
"""The rows timed: integrated gradients and the single-pass propagation methods."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=30, help="sentences (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved timing repetitions (default 3)")
    parser.add_argument("--profile", choices=sorted(METHODS), default=None, help="profile this row instead of timing")
    parser.add_argument("--separate", action="store_true", help="run the prediction forward separately for every method")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("LIMELIGHT_DATA", REPO_ROOT.parent / "shared" / "data")))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.separate:
        explainer_module.shares_forward = lambda *request: False
    model, tokenizer = limelight.demo_model()
    texts, labels = sentences(args.data_dir, args.n, args.seed)
    if args.profile is not None:
        method, settings = METHODS[args.profile]
        limelight.TextExplainer(model, tokenizer, method=method, **settings).explain(texts, target=labels)
        profiler = cProfile.Profile()
        profiler.runcall(lambda: limelight.TextExplainer(model, tokenizer, method=method, **settings).explain(texts, target=labels))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return
    best = explain_times(model, tokenizer, texts, labels, args.repeats, {label: METHODS[label] for label in TIMED})
    reference = best[REFERENCE][1]
    print("| method | CPU s | / IG's |")
    print("|---|---|---|")
    for label, (_, cpu) in best.items():
        print(f"| {label} | {cpu:.2f} | {cpu / reference:.3f} (1/{reference / cpu:.1f}) |")


if __name__ == "__main__":
    main()
