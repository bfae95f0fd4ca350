"""``limelight compare``: compare attribution methods on texts and recommend one.

``limelight compare --file texts.txt --methods integrated_gradients saliency`` prints the
comparison as Markdown; ``--html FILE`` also writes the HTML report (see
:func:`limelight.evaluation.compare`).
"""

from __future__ import annotations

import argparse
from typing import Any

from limelight.cli.args import baseline, check_writable, command_parser, load_model, read_texts
from limelight.engine.objective import QUANTITIES
from limelight.evaluation.compare import DEFAULT_METHODS, compare
from limelight.evaluation.erasure import FILLS
from limelight.evaluation.metrics import METRICS

FED = [name for name, metric in METRICS.items() if not metric.needs_rationales]
"""The metrics the command can compute: those needing human rationales are left out (it reads none)."""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``compare`` to an ``argparse`` subparsers object and return its parser."""
    parser = command_parser(
        commands, "compare", summary="compare attribution methods on texts and recommend one", html="also write the HTML report to FILE"
    )
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), help="methods to compare (names explain accepts)")
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=["default"],
        choices=["default", "all", *FED],
        metavar="METRIC",
        help=f"'default', 'all', or names from: {', '.join(FED)}",
    )
    parser.add_argument("--primary", default="comprehensiveness", choices=FED, help="metric the recommendation is based on")
    parser.add_argument("--metric-quantity", choices=QUANTITIES, help="what metrics measure (default: what was explained)")
    parser.add_argument("--fill", default="delete", choices=FILLS, help="how erased words disappear")
    parser.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> int:
    """Run ``compare`` for parsed arguments (``model``/``tokenizer`` override ``--model``); prints Markdown."""
    if arguments.html:
        check_writable(arguments.html, "--html")
    texts = read_texts(arguments)
    chosen_baseline = baseline(arguments)
    model, tokenizer = load_model(arguments, model, tokenizer)
    metrics = arguments.metrics[0] if arguments.metrics in (["default"], ["all"]) else arguments.metrics
    comparison = compare(
        model,
        tokenizer,
        texts,
        arguments.methods,
        metrics=metrics,
        target=arguments.target,
        contrast=arguments.contrast,
        primary=arguments.primary,
        metric_quantity=arguments.metric_quantity,
        fill=arguments.fill,
        n_bootstrap=arguments.n_bootstrap,
        seed=arguments.seed,
        show_progress=arguments.progress,
        quantity=arguments.quantity,
        baseline=chosen_baseline,
    )
    print(comparison.to_markdown())
    if arguments.html:
        comparison.save_html(arguments.html)
        print(f"wrote {arguments.html}")
    return 0
