"""Texts per second for a dataset job: limelight's local engine, Ray with 1 and 2 actors, and loops of single calls.

All variants explain the same SST-2 dev sentences on the demo model with integrated gradients
(the same fixed number of Gauss-Legendre steps, the predicted label, a [CLS] PAD.. [SEP]
baseline), in one process, in interleaved rounds; the figure of a variant is its best (minimum)
wall time over the rounds, as texts per second. The peers are what a user would otherwise write:
a loop of single Captum ``LayerIntegratedGradients`` calls (the Captum recipe) and a loop of
transformers-interpret's ``SequenceClassificationExplainer`` (when it is installed:
``pip install --no-deps transformers-interpret``). Ray runs start a local cluster once; each job
then starts its actor pool (included in its time: that is what a job costs).

    python benchmarks/dataset_jobs.py --quick     # 16 sentences, 2 rounds
    python benchmarks/dataset_jobs.py             # 128 sentences, 3 rounds
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from _common import DEFAULT_DATA, environment_line, load_model  # noqa: E402

from limelight import TextExplainer  # noqa: E402
from limelight.demo.sst2 import read_sst2  # noqa: E402
from limelight.jobs import explain_dataset, read_results  # noqa: E402


def captum_loop(model, tokenizer, texts, steps):
    """The Captum recipe, one text per call: Layer IG on the word embeddings, pad baseline, predicted target."""
    from captum.attr import LayerIntegratedGradients

    def forward(ids, mask):
        return model(input_ids=ids, attention_mask=mask).logits

    layer = LayerIntegratedGradients(forward, model.get_input_embeddings())
    scores = []
    for text in texts:
        encoded = tokenizer(text, return_tensors="pt")
        ids, mask = encoded["input_ids"], encoded["attention_mask"]
        baseline = ids.clone()
        baseline[:, 1:-1] = tokenizer.pad_token_id
        with torch.no_grad():
            target = forward(ids, mask).argmax(-1)
        attributions = layer.attribute(ids, baseline, target=target, additional_forward_args=(mask,), n_steps=steps)
        scores.append(attributions.sum(-1)[0])
    return scores


def interpret_loop(model, tokenizer, texts, steps):
    from transformers_interpret import SequenceClassificationExplainer

    explainer = SequenceClassificationExplainer(model, tokenizer)
    return [explainer(text, n_steps=steps) for text in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    count, rounds = (16, 2) if arguments.quick else (arguments.texts, arguments.rounds)
    torch.set_num_threads(arguments.threads)
    model, tokenizer, described = load_model("demo")
    texts = read_sst2(arguments.data)[0][:count]
    explainer = TextExplainer(model, tokenizer, n_steps=arguments.steps, tolerance=None)
    print(environment_line())
    print(f"model: {described}; {count} SST-2 dev sentences, integrated gradients with {arguments.steps} steps, {rounds} rounds")
    folder = Path(tempfile.mkdtemp(prefix="lljobs"))
    chunk = max(1, count // 4)  # four chunks, so that two actors share the work; the local engine uses the same chunks
    variants = {
        "limelight local": lambda r: explain_dataset(explainer, texts, folder / f"local{r}.parquet", chunk_size=chunk, show_progress=False),
        "captum loop": lambda r: captum_loop(model, tokenizer, texts, arguments.steps),
    }
    try:
        import transformers_interpret  # noqa: F401

        variants["transformers-interpret loop"] = lambda r: interpret_loop(model, tokenizer, texts, arguments.steps)
    except ImportError:
        print("transformers-interpret not installed: pip install --no-deps transformers-interpret")
    try:
        import ray

        ray.init(
            num_cpus=4,
            object_store_memory=300 * 1024**2,
            include_dashboard=False,
            _temp_dir=tempfile.mkdtemp(prefix="llr", dir="/tmp"),
            log_to_driver=False,
        )
        for workers in (1, 2):
            variants[f"limelight ray {workers} actor{'s' * (workers > 1)}"] = lambda r, w=workers: explain_dataset(
                explainer,
                texts,
                folder / f"ray{w}-{r}.parquet",
                engine="ray",
                workers=w,
                chunk_size=max(1, count // 4),
                show_progress=False,
            )
    except ImportError:
        print("ray not installed: pip install 'limelight[ray]'")
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            run(round_number)
            seconds[name].append(time.perf_counter() - start)
    local = read_results(folder / "local0.parquet")
    for name in seconds:
        if name.startswith("limelight ray"):
            workers = name.split()[2]
            other = read_results(folder / f"ray{workers}-0.parquet")
            same = other["words"].map(list).tolist() == local["words"].map(list).tolist()
            gap = max(abs(a - b) for x, y in zip(other["scores"], local["scores"]) for a, b in zip(x, y))
            print(f"{name}: same words as the local engine: {same}; largest score difference {gap:.2e} (0: bit for bit)")
    best_local = min(seconds["limelight local"])
    print(f"{'variant':30s} {'best wall s':>11s} {'texts/s':>8s} {'vs local':>8s}")
    for name, values in seconds.items():
        print(f"{name:30s} {min(values):11.2f} {count / min(values):8.2f} {best_local / min(values):8.2f}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
