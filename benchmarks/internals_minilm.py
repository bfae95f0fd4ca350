"""Layer and neuron methods on MiniLM, limelight vs Captum: time per call and agreement.

For each method both libraries explain the same SST-2 dev sentences (word embeddings in,
attention mask as an extra argument) at encoder layer ``--layer``; the neuron methods explain
unit 5 of that layer's intermediate activation at the first token. Repetitions are interleaved
(ours, Captum, ours, ...) of explainers built once and reused (limelight's first call probes the
forward and measures a row's memory; later calls remember both); each figure is the minimum over repetitions on each clock (process CPU
time and wall time), the ratio is ours / Captum of those minima, and ``max |diff|`` is the
largest difference between the two attributions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import captum.attr  # noqa: E402
import torch  # noqa: E402
from _common import CLOCKS, DEFAULT_DATA, environment_line, load_model, timed_call  # noqa: E402

import limelight as ll  # noqa: E402
from limelight.demo.sst2 import read_sst2  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=8, help="SST-2 dev sentences per call (default 8)")
    parser.add_argument("--steps", type=int, default=20, help="path steps of the integral methods (default 20)")
    parser.add_argument("--layer", type=int, default=3, help="encoder layer (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="4 sentences, 10 steps, 2 repetitions")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.quick:
        args.sentences, args.steps, args.repeats = 4, 10, 2
    torch.set_num_threads(args.threads)
    model, tokenizer, description = load_model("demo")
    texts = read_sst2(DEFAULT_DATA)[0][: args.sentences]
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    mask = encoded["attention_mask"]
    embeddings = model.get_input_embeddings()(encoded["input_ids"]).detach()
    forward = lambda e, m: model(inputs_embeds=e, attention_mask=m).logits  # noqa: E731
    layer = model.bert.encoder.layer[args.layer]
    inner = layer.intermediate
    steps, neuron = args.steps, (0, 5)
    common = {"target": 1, "additional_forward_args": (mask,)}
    mine = {
        "LayerConductance": ll.LayerConductance(forward, layer),
        "InternalInfluence": ll.InternalInfluence(forward, layer),
        "LayerGradientXActivation": ll.LayerGradientXActivation(forward, layer),
        "NeuronIntegratedGradients": ll.NeuronIntegratedGradients(forward, inner),
        "NeuronConductance": ll.NeuronConductance(forward, inner),
    }
    captums = {name: getattr(captum.attr, name)(forward, layer if name.startswith(("Layer", "Internal")) else inner) for name in mine}
    pairs: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        "LayerConductance": (
            lambda: mine["LayerConductance"].attribute(embeddings, n_steps=steps, tolerance=None, **common).attributions,
            lambda: captums["LayerConductance"].attribute(embeddings, n_steps=steps, **common),
        ),
        "InternalInfluence": (
            lambda: mine["InternalInfluence"].attribute(embeddings, n_steps=steps, **common).attributions,
            lambda: captums["InternalInfluence"].attribute(embeddings, n_steps=steps, **common),
        ),
        "LayerGradientXActivation": (
            lambda: mine["LayerGradientXActivation"].attribute(embeddings, **common).attributions,
            lambda: captums["LayerGradientXActivation"].attribute(embeddings, **common),
        ),
        "NeuronIntegratedGradients": (
            lambda: (
                mine["NeuronIntegratedGradients"].attribute(embeddings, neuron, n_steps=steps, additional_forward_args=(mask,)).attributions
            ),
            lambda: captums["NeuronIntegratedGradients"].attribute(embeddings, neuron, n_steps=steps, additional_forward_args=(mask,)),
        ),
        "NeuronConductance": (
            lambda: mine["NeuronConductance"].attribute(embeddings, neuron, n_steps=steps, **common).attributions,
            lambda: captums["NeuronConductance"].attribute(embeddings, neuron, n_steps=steps, method="gausslegendre", **common),
        ),
    }
    print(environment_line())
    print(f"model: {description}; {len(texts)} sentences padded to {embeddings.shape[1]} tokens; {steps} steps; layer {args.layer}")
    print(f"{'method':28} {'ours cpu s':>10} {'captum cpu s':>12} {'cpu ratio':>9} {'wall ratio':>10} {'max |diff|':>10}")
    for name, (ours, theirs) in pairs.items():
        best = {side: dict.fromkeys(CLOCKS, float("inf")) for side in ("ours", "captum")}
        values: dict[str, Any] = {}
        for _ in range(args.repeats):
            for side, run in (("ours", ours), ("captum", theirs)):
                seconds, values[side] = timed_call(run)
                best[side] = {clock: min(best[side][clock], seconds[clock]) for clock in CLOCKS}
        diff = float((values["ours"] - values["captum"]).detach().abs().max())
        ratio = {clock: best["ours"][clock] / best["captum"][clock] for clock in CLOCKS}
        print(f"{name:28} {best['ours']['cpu']:10.3f} {best['captum']['cpu']:12.3f} {ratio['cpu']:9.2f} {ratio['wall']:10.2f} {diff:10.1e}")


if __name__ == "__main__":
    main()
