"""Explaining many texts in one call versus one call per text, on the demo model.

The text front end sorts texts by length, pads them into batches and runs the attribution for a
whole batch at once; this measures what that buys over a loop of single calls, and checks that
both give the same word scores (fixed steps, so the work is identical row for row).

    python benchmarks/batched_texts.py            # 64 SST-2 dev sentences, 3 rounds
    python benchmarks/batched_texts.py --quick    # 16 sentences, 1 round
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from _common import DEFAULT_DATA, environment_line, load_model, paired_ratio, timed_call  # noqa: E402

from limelight import TextExplainer  # noqa: E402
from limelight.demo.sst2 import read_sst2  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=32, help="fixed integration steps (so both runs do the same work)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    count, repeats = (16, 1) if arguments.quick else (arguments.texts, arguments.repeats)
    torch.set_num_threads(arguments.threads)
    model, tokenizer, described = load_model("demo")
    texts = read_sst2(arguments.data)[0][:count]
    explainer = TextExplainer(model, tokenizer, n_steps=arguments.steps, tolerance=None)
    print(environment_line())
    print(f"model: {described}")
    print(
        f"{count} SST-2 dev sentences, integrated gradients with {arguments.steps} Gauss-Legendre steps, batch_size {explainer.runner.batch_size}"
    )
    explainer.explain(texts[:2])  # warm-up
    seconds: dict[str, list[float]] = {"one call": [], "single calls": []}
    for _ in range(repeats):
        together_time, together = timed_call(lambda: explainer.explain(texts))
        alone_time, alone = timed_call(lambda: [explainer.explain(text) for text in texts])
        seconds["one call"].append(together_time["cpu"])
        seconds["single calls"].append(alone_time["cpu"])
    difference = max(
        abs(a - b) / max(abs(s) for _, s in y.words) for x, y in zip(together, alone) for (_, a), (_, b) in zip(x.words, y.words)
    )
    median, low, high = paired_ratio(seconds, "one call", "single calls")
    for name, values in seconds.items():
        print(f"{name:13s} CPU s median {statistics.median(values):7.2f} (range {min(values):.2f}-{max(values):.2f})")
    print(
        f"one call / single calls = {median:.3f} (range {low:.3f}-{high:.3f}); "
        f"max word-score difference relative to the text's largest score = {difference:.1e}"
    )
    print(f"faster in one call: {'yes' if median < 1 else 'NO'}; equal results (<= 1e-5): {'yes' if difference <= 1e-5 else 'NO'}")


if __name__ == "__main__":
    main()
