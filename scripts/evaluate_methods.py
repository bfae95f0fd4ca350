"""Evaluate every attribution method on the demo model: SST-2 dev sentences with SST tree rationales.

Runs :func:`limelight.compare` on a seeded random subset of the 872 binary SST dev sentences (the
SST-2 dev set, read from the SST trees so that every word carries its human sentiment label),
explaining each sentence's gold label, with every method ``TextExplainer`` accepts (each at its
defaults) plus Captum's recipe from its BERT tutorial computed through Captum. The sampling methods
(thousands of model calls per sentence at their defaults) run on the first ``--sampling-n`` of those
sentences, next to integrated gradients as a common reference; exact Shapley values (``2^n`` calls)
are left out. Writes the results section of ``docs/evaluation.md`` (between the ``results`` markers)
and ``docs/evaluation/results.json``. Rerun from the repository root:

    HF_HUB_OFFLINE=1 python scripts/evaluate_methods.py --n 300 --sampling-n 40 --seed 0

Each method's part of each run (its explanations, per-sentence metric values, ERASER probability AOPCs,
data-randomisation rhos, timings) is cached in ``docs/evaluation/cache/`` as it finishes, keyed by the
settings that produced it. A rerun computes only what the cache lacks (so an interrupted run resumes), and
``--only NAME ...`` recomputes just those methods; tables, agreement and the recommendation are always
rebuilt from the per-sentence values of every method, so rows computed at different times are compared
on the same paired bootstrap resamples.

(data dir: ``--data-dir``, else $LIMELIGHT_DATA, else ``../shared/data``; it must hold
``sst-trees/dev.txt``). Captum is used only by this script, never by limelight.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from limelight import TextExplainer  # noqa: E402
from limelight.demo import demo_model  # noqa: E402
from limelight.demo.sst2 import read_sst2  # noqa: E402
from limelight.errors import InvalidInputError  # noqa: E402
from limelight.evaluation import (  # noqa: E402
    MethodExplainer,
    WordEraser,
    aopc,
    compare,
    comprehensiveness,
    data_randomisation,
    load_sst_rationales,
    sufficiency,
)
from limelight.evaluation.agreement import DISAGREEMENT_THRESHOLD  # noqa: E402
from limelight.evaluation.bootstrap import estimate, resample_indices  # noqa: E402
from limelight.evaluation.compare import conclude  # noqa: E402
from limelight.evaluation.comparison import Comparison, MethodResult  # noqa: E402
from limelight.evaluation.metrics import METRICS, resolve_metrics  # noqa: E402
from limelight.evaluation.report import markdown_text  # noqa: E402
from limelight.text.encoding import encode  # noqa: E402
from limelight.text.explanation import Explanation, Explanations  # noqa: E402
from limelight.text.labels import (
    model_labels,  # noqa: E402
    resolve_label,  # noqa: E402
)
from limelight.text.words import token_spans, word_spans  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DOC = REPO_ROOT / "docs" / "evaluation.md"
RESULTS = REPO_ROOT / "docs" / "evaluation" / "results.json"
CACHE = REPO_ROOT / "docs" / "evaluation" / "cache"
START, END = "<!-- results:start -->", "<!-- results:end -->"

CANDIDATE_METHODS = (
    "integrated_gradients",
    "input_x_gradient",
    "saliency",
    "smoothgrad",
    "feature_ablation",
    "occlusion",
    "shapley",
    "shapley_sampling",
    "kernel_shap",
    "lime",
    "deeplift",
    "lrp",
)
"""Every method the issues name; those TextExplainer does not (yet) accept are reported as skipped."""

CAPTUM_ROW = "captum_bert_tutorial"
SAMPLING = ("shapley_sampling", "kernel_shap", "lime")
"""Methods that cost thousands of model calls per sentence at their defaults: run on a smaller subset."""
LEFT_OUT = {"shapley": "exact Shapley values need 2^n model calls for n words; limelight refuses more than 12 words by default"}
REFERENCE = "integrated_gradients"


def available_methods(model: Any, tokenizer: Any) -> tuple[list[str], list[str]]:
    """The candidate methods TextExplainer accepts, and the ones it refuses."""
    accepted, refused = [], []
    for name in CANDIDATE_METHODS:
        try:
            TextExplainer(model, tokenizer, method=name)
        except InvalidInputError:
            refused.append(name)
        else:
            accepted.append(name)
    return accepted, refused


def captum_bert_tutorial(tokenizer: Any, n_steps: int = 50) -> Any:
    """Captum's BERT-tutorial recipe: LayerIntegratedGradients on the embeddings module of a softmax
    forward, [CLS] PAD ... PAD [SEP] reference, 50 steps, token scores summed over the hidden size
    and divided by their L2 norm, one text at a time. Token scores are summed into limelight's words
    so every row is evaluated on the same units."""
    from captum.attr import LayerIntegratedGradients

    def explain(model: Any, texts: Sequence[str], text_pairs: Any = None, target: Any = None, contrast: Any = None) -> list[Explanation]:
        if text_pairs is not None or contrast is not None:
            raise InvalidInputError("the Captum recipe row explains single texts without contrast")
        labels = model_labels(model)
        layer = getattr(getattr(model, "base_model", None), "embeddings", None) or model.get_input_embeddings()

        def forward(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return torch.softmax(model(input_ids=input_ids, attention_mask=attention_mask).logits, -1)

        integrated = LayerIntegratedGradients(forward, layer)
        targets = list(target) if isinstance(target, (list, tuple)) else [target] * len(texts)
        out = []
        for text, label in zip(texts, targets):
            encoding = encode(tokenizer, text)
            ids = torch.tensor([encoding.input_ids])
            reference = torch.tensor([[i if s else tokenizer.pad_token_id for i, s in zip(encoding.input_ids, encoding.special_mask)]])
            mask = torch.ones_like(ids)
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=mask).logits[0].double()
            index = int(logits.argmax()) if label is None else resolve_label(label, labels)
            attributions = integrated.attribute(ids, baselines=reference, target=index, additional_forward_args=(mask,), n_steps=n_steps)
            scores = attributions.sum(-1).squeeze(0).double()
            scores = (scores / torch.norm(scores)).detach()
            probabilities = torch.softmax(logits, -1)
            out.append(
                Explanation(
                    text=text,
                    word_spans=word_spans(encoding, scores),
                    token_spans=token_spans(encoding, scores),
                    predicted_label=labels[int(logits.argmax())],
                    probabilities={n: float(p) for n, p in zip(labels, probabilities)},
                    target_label=labels[index],
                    quantity="probability",
                    method=CAPTUM_ROW,
                    method_settings={"n_steps": n_steps, "normalised": "l2"},
                    baseline="pad",
                )
            )
        return out

    return explain


Record = dict[str, Any]
"""One method's cached part of a run: JSON-ready, see :func:`method_record` and :func:`data_record`."""


class Cache:
    """Records per (part, method) under ``folder``, each valid only for the settings of its part it was computed with."""

    def __init__(self, folder: Path, settings: dict[str, Any], refresh: set[str]) -> None:
        self.folder, self.refresh = folder, refresh
        self.settings = json.loads(json.dumps(settings))  # as they read back: lists, not tuples

    def get(self, part: str, method: str, compute: Callable[[], Record]) -> Record | None:
        """The cached record, or ``compute()``'s (then cached) when it is missing, stale or to be refreshed;
        with a refresh list (``--only``), ``None`` for a method outside it that the cache lacks."""
        path = self.folder / f"{part}--{method}.json.gz"
        if method not in self.refresh and path.exists():
            record: Record = json.loads(gzip.decompress(path.read_bytes()))
            if record["settings"] == self.settings[part]:
                return record
        if self.refresh and method not in self.refresh:
            return None
        started = time.perf_counter()
        record = {**compute(), "settings": self.settings[part], "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        record["seconds"] = time.perf_counter() - started
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps(record).encode("utf-8"), mtime=0))
        return record


def method_record(model: Any, tokenizer: Any, name: str, method: Any, rationales: list[Any], metrics: Any, seed: int) -> Record:
    """``compare`` of one method on the rationales' texts for their gold labels (metrics in logits), per sentence,
    with ERASER's probability comprehensiveness and sufficiency AOPCs of the same explanations."""
    comparison = compare(
        model,
        tokenizer,
        None,
        {name: method},
        metrics=metrics,
        rationales=rationales,
        target=[r.label for r in rationales],
        metric_quantity="logit",
        n_bootstrap=1000,
        seed=seed,
        show_progress=True,
    )
    result = comparison.results[name]
    eraser = WordEraser(model, tokenizer, quantity="probability")
    subjects = eraser.prepare(cast(Explanations, result.explanations))
    return {
        "explanations": [e.to_dict() for e in result.explanations],
        "explain_seconds": result.explain_seconds,
        "metric_seconds": result.metric_seconds,
        "values": {m: v.tolist() for m, v in result.values.items()},
        "probability": {
            "comprehensiveness": aopc(comprehensiveness(eraser, subjects)).tolist(),
            "sufficiency": aopc(sufficiency(eraser, subjects)).tolist(),
        },
        "comparison_settings": comparison.settings,
    }


def assemble(records: dict[str, Record], texts: list[str], seed: int) -> tuple[Comparison, dict[str, dict[str, Any]]]:
    """One run's comparison rebuilt from its methods' records: summaries, agreement and the recommendation over all
    of them on one set of paired resamples; and ERASER's probability table."""
    indices = resample_indices(len(texts), 1000, seed)
    results = {}
    for name, record in records.items():
        values = {m: np.asarray(v, dtype=np.float64) for m, v in record["values"].items()}
        explanations = Explanations([Explanation.from_dict(e) for e in record["explanations"]])
        summary = {m: estimate(v, indices) for m, v in values.items()}
        results[name] = MethodResult(name, explanations, record["explain_seconds"], record["metric_seconds"], values, summary)
    agreed, text = conclude(results, METRICS, "comprehensiveness", indices, 0.95, DISAGREEMENT_THRESHOLD)
    first = next(iter(records.values()))
    settings = {**first["comparison_settings"], "model_rows": sum(r["comparison_settings"]["model_rows"] for r in records.values())}
    comparison = Comparison(list(texts), results, tuple(first["values"]), "comprehensiveness", text, agreed, settings, METRICS)
    probability = {
        name: {k: estimate(np.asarray(v, dtype=np.float64), indices) for k, v in record["probability"].items()}
        for name, record in records.items()
    }
    return comparison, probability


def data_record(tokenizer: Any, method: Any, training: tuple[list[str], list[int]], texts: Sequence[str], seed: int) -> Record:
    """Per sentence, rho between the explanations of two bag-of-embeddings models trained on true vs shuffled labels."""
    explainer = MethodExplainer(tokenizer, method) if isinstance(method, str) else method
    result = data_randomisation(tokenizer, training[0], training[1], texts, explainer, seed=seed)
    return {"rho": np.asarray(result.spearman).tolist(), "true": result.train_accuracy_true, "shuffled": result.train_accuracy_shuffled}


def training_sentences(data_dir: Path, n_train: int, seed: int) -> tuple[list[str], list[int]]:
    """The SST-2 train sentences and labels the data-randomisation models learn from (a seeded subset)."""
    sentences, labels = read_sst2(data_dir / "sst2" / "train.tsv")
    chosen = np.random.default_rng(seed).choice(len(sentences), size=n_train, replace=False)
    return [sentences[i] for i in chosen], [labels[i] for i in chosen]


def data_table(records: dict[str, Record], n_texts: int, seed: int) -> dict[str, Any]:
    """The data-randomisation rows from the methods' records."""
    indices = resample_indices(n_texts, 1000, seed)
    return {
        name: {"rho": estimate(np.asarray(r["rho"], dtype=np.float64), indices), "true": r["true"], "shuffled": r["shuffled"]}
        for name, r in records.items()
    }


def comparison_markdown(title: str, comparison: Any, probability: dict[str, dict[str, Any]]) -> list[str]:
    """One run's table, recommendation and agreement, then ERASER's probability AOPCs for the same explanations."""
    body = comparison.to_markdown().replace("## Which explanation to trust\n", "")
    body = body.replace("### Agreement between methods", "#### Agreement between methods")
    lines = [f"### {title}", "", body.strip(), "", "#### ERASER's definition: probabilities", ""]
    lines += [
        "The table above measures every method in logits (limelight's default quantity). ERASER defines comprehensiveness "
        "and sufficiency on the explained class's probability; here they are, on the same explanations:",
        "",
        "| method | comprehensiveness AOPC (probability) ↑ | sufficiency AOPC (probability) ↓ |",
        "|---|---:|---:|",
    ]
    for name, row in probability.items():
        lines.append(f"| {markdown_text(name)} | {row['comprehensiveness'].format()} | {row['sufficiency'].format()} |")
    return lines + [""]


def results_markdown(runs: list[tuple[str, Any, dict[str, Any]]], data: dict[str, Any], context: dict[str, Any]) -> str:
    lines = [
        f"Produced by `{context['command']}` on {context['date']} ({context['machine']}; torch {context['torch']}, "
        f"{context['threads']} thread(s)); total {context['seconds'] / 60:.1f} min"
        + (
            f", its methods computed one at a time and cached (on {', '.join(context['computed'])}; see the script)."
            if len(context["computed"]) > 1
            else "."
        ),
        "",
        f"Inputs: {context['n']} sentences drawn at random (seed {context['seed']}) from the {context['pool']} binary "
        f"SST dev sentences (the SST-2 dev set, read from the SST trees); each is explained for its gold label. "
        f"The demo model predicts the gold label for {context['accuracy']:.1%} of them. "
        f"Rationale: the words the treebank labels with the sentence's polarity (0-1 for negative, 3-4 for positive); "
        f"{context['with_rationale']} of the {context['n']} sentences have at least one such word.",
        "",
    ]
    skipped = [f"{name} ({why})" for name, why in context["skipped"].items()]
    if skipped:
        lines += ["Not run: " + "; ".join(skipped) + ".", ""]
    for title, comparison, probability in runs:
        lines += comparison_markdown(title, comparison, probability)
    some = next(iter(data.values()))
    lines += [
        "### Data-label randomisation",
        "",
        f"Two bag-of-embeddings classifiers (`limelight.evaluation.BagOfEmbeddings`) trained on the same {context['n_train']} "
        f"SST-2 train sentences (seed {context['seed']}), one with the true labels (train accuracy {some['true']:.1%}) and one "
        f"with the labels shuffled (its accuracy on the true labels: {some['shuffled']:.1%}), explain the first "
        f"{context['n_data']} evaluated sentences for the class the first model predicts. Spearman's rho between the two "
        "explanations: lower means the method depends on what the model learned.",
        "",
        "| method | rho, true vs shuffled labels ↓ |",
        "|---|---:|",
    ]
    for name, row in data.items():
        lines.append(f"| {markdown_text(name)} | {row['rho'].format()} |")
    return "\n".join(lines) + "\n"


def write_doc(section: str) -> None:
    """Replace the text between the results markers of docs/evaluation.md (create the markers if missing)."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Evaluation\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{section}{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = os.environ.get("LIMELIGHT_DATA", str(REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", type=Path, default=Path(default_data))
    parser.add_argument("--n", type=int, default=300, help="sentences to evaluate (random subset of the 872)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sampling-n", type=int, default=40, help=f"sentences for the sampling methods {SAMPLING}")
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=["default", "randomisation"],
        help="'default' (forward-only metrics and plausibility), 'all', or metric names; 'default' may be combined with names",
    )
    parser.add_argument("--n-train", type=int, default=400, help="SST-2 train sentences for the data-randomisation models")
    parser.add_argument("--n-data", type=int, default=100, help="sentences explained in the data-randomisation check")
    parser.add_argument(
        "--only", nargs="+", default=[], metavar="METHOD", help="recompute just these methods; the rest come from the cache"
    )
    parser.add_argument("--cache-dir", type=Path, default=CACHE, help="where each method's per-sentence results are cached")
    parser.add_argument("--no-write", action="store_true", help="print the results instead of writing docs/evaluation.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    pool = load_sst_rationales(args.data_dir / "sst-trees", "dev")
    rng = np.random.default_rng(args.seed)
    chosen = sorted(rng.choice(len(pool), size=min(args.n, len(pool)), replace=False).tolist())
    rationales = [pool[i] for i in chosen]
    model, tokenizer = demo_model()
    accepted, refused = available_methods(model, tokenizer)
    skipped = {name: "TextExplainer does not accept it" for name in refused}
    skipped.update({name: why for name, why in LEFT_OUT.items() if name in accepted})
    cheap: dict[str, Any] = {m: m for m in accepted if m not in SAMPLING and m not in LEFT_OUT}
    cheap[CAPTUM_ROW] = captum_bert_tutorial(tokenizer)
    sampling: dict[str, Any] = {m: m for m in (REFERENCE, *SAMPLING) if m in accepted}
    everything = {**cheap, **{m: e for m, e in sampling.items() if m not in cheap}}
    unknown = sorted(set(args.only) - set(everything))
    if unknown:
        raise SystemExit(f"--only names methods this run does not have: {unknown}; choose from {list(everything)}")
    metrics = metric_names(args.metrics)
    sampling_n = min(args.sampling_n, len(rationales))
    n_data = min(args.n_data, len(rationales))
    parts = [("all", f"All sentences ({len(rationales)})", cheap, rationales)]
    if len(sampling) > 1 and sampling_n:
        title = f"Sampling methods, on the first {sampling_n} of those sentences (with {REFERENCE} as the common reference)"
        parts.append(("sampling", title, sampling, rationales[:sampling_n]))
    resolved = list(resolve_metrics(metrics, True))
    cache = Cache(
        args.cache_dir,
        {
            **{key: {"chosen": chosen[: len(subset)], "seed": args.seed, "metrics": resolved} for key, _, _, subset in parts},
            "data": {"chosen": chosen[:n_data], "seed": args.seed, "n_train": args.n_train},
        },
        set(args.only),
    )
    runs: list[tuple[str, Comparison, dict[str, dict[str, Any]]]] = []
    records_used: list[Record] = []
    missing: list[str] = []

    def gather(part: str, computers: dict[str, Callable[[], Record]]) -> dict[str, Record]:
        records = {name: cache.get(part, name, compute) for name, compute in computers.items()}
        missing.extend(f"{part}/{name}" for name, r in records.items() if r is None)
        found = {name: r for name, r in records.items() if r is not None}
        records_used.extend(found.values())
        return found

    for key, title, methods, subset in parts:
        records = gather(
            key,
            {name: partial(method_record, model, tokenizer, name, method, subset, metrics, args.seed) for name, method in methods.items()},
        )
        if not missing:
            runs.append((title, *assemble(records, [r.text for r in subset], args.seed)))
    training = training_sentences(args.data_dir, args.n_train, args.seed)
    data_texts = [r.text for r in rationales[:n_data]]
    data_records = gather(
        "data", {name: partial(data_record, tokenizer, method, training, data_texts, args.seed) for name, method in everything.items()}
    )
    if missing:
        print(f"computed {sorted(args.only)}; not in the cache yet, so no tables were written: {missing}. Run without --only to fill it.")
        return
    data = data_table(data_records, n_data, args.seed)
    first = cast(Explanations, runs[0][1].results[REFERENCE].explanations)
    context = {
        "command": "HF_HUB_OFFLINE=1 python scripts/evaluate_methods.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores shared",
        "torch": torch.__version__,
        "threads": args.threads,
        "seconds": sum(r["seconds"] for r in records_used),
        "this_run_seconds": time.perf_counter() - started,
        "computed": sorted({r["date"][:10] for r in records_used}),
        "n": len(rationales),
        "seed": args.seed,
        "n_train": args.n_train,
        "n_data": n_data,
        "pool": len(pool),
        "skipped": skipped,
        "accuracy": float(np.mean([e.predicted_label == r.label for e, r in zip(first, rationales)])),
        "with_rationale": sum(bool(r.spans) for r in rationales),
    }
    section = results_markdown([(title, c, p) for title, c, p in runs], data, context)
    record = {
        "context": context,
        "chosen": chosen,
        "runs": [
            {
                "title": title,
                "recommendation": comparison.recommendation,
                "table": comparison.to_dataframe().to_dict(orient="records"),
                "eraser_probability": {m: {k: vars(v) for k, v in row.items()} for m, row in probability.items()},
            }
            for title, comparison, probability in runs
        ],
        "data_randomisation": {
            m: {"rho": vars(row["rho"]), "train_accuracy_true": row["true"], "train_accuracy_shuffled": row["shuffled"]}
            for m, row in data.items()
        },
    }
    if args.no_write:
        print(section)
        return
    write_doc(section)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=1, default=float), encoding="utf-8")
    print(section)


def metric_names(requested: list[str]) -> Any:
    """``compare``'s ``metrics`` from the command line: 'default' expands to the forward-only metrics and plausibility."""
    if requested in (["default"], ["all"]):
        return requested[0]
    if "default" not in requested:
        return requested
    from limelight.evaluation.metrics import DEFAULT_METRICS

    return [*DEFAULT_METRICS, "f1", "iou", "auprc", *(m for m in requested if m != "default")]


if __name__ == "__main__":
    main()
