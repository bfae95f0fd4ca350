"""``limelight explain``: explain texts and print a coloured word heatmap, JSON, or a dataset file.

``limelight explain "The movie was one of those amazing movies"`` prints each text's words
coloured by score with the prediction, target and convergence delta. ``--output FILE.jsonl``
turns it into a dataset job that can be interrupted and resumed, and ``--shard K/N`` splits the
texts across N machines (see :func:`limelight.jobs.explain_to_jsonl`).
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from limelight.cli.args import command_parser, load_model, read_texts, shard
from limelight.jobs import explain_to_jsonl
from limelight.text.explainer import TextExplainer
from limelight.viz import print_terminal, save_html


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``explain`` to an ``argparse`` subparsers object and return its parser."""
    parser = command_parser(
        commands,
        "explain",
        summary="explain texts with a classifier (the embedded demo model by default)",
        html="also write a self-contained HTML heatmap to FILE",
    )
    parser.add_argument("--method", default="integrated_gradients", help="attribution method (default: integrated_gradients)")
    parser.add_argument("--level", default="word", choices=("word", "token"))
    parser.add_argument("--json", action="store_true", help="print the explanations as JSON instead of a heatmap")
    parser.add_argument("--output", metavar="FILE", help="append explanations to a JSON Lines file, resuming where an earlier run stopped")
    parser.add_argument("--shard", default="0/1", type=shard, help="with --output: explain only texts i with i %% N == K (K/N)")
    parser.add_argument(
        "--resume", action=argparse.BooleanOptionalAction, default=True, help="with --output: continue an existing file (default)"
    )
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> int:
    """Run ``explain`` for parsed arguments (``model``/``tokenizer`` override ``--model``); returns the exit status."""
    texts = read_texts(arguments)
    model, tokenizer = load_model(arguments, model, tokenizer)
    explainer = TextExplainer(
        model,
        tokenizer,
        method=arguments.method,
        quantity=arguments.quantity,
        baseline=arguments.baseline,
        show_progress=arguments.progress,
    )
    labels = {"target": arguments.target, "contrast": arguments.contrast}
    if arguments.output:
        explain_to_jsonl(
            explainer, texts, arguments.output, resume=arguments.resume, shard=arguments.shard, show_progress=arguments.progress, **labels
        )
        print(f"wrote {arguments.output}")
        return 0
    explanations = explainer.explain(texts, **labels)  # a list in, so Explanations out
    if arguments.html:
        save_html(arguments.html, explanations, level=arguments.level)
    if arguments.json:
        print(explanations.to_json(indent=2))
    else:
        print_terminal(explanations, level=arguments.level, console=Console())
        if arguments.html:
            print(f"wrote {arguments.html}")
    return 0
