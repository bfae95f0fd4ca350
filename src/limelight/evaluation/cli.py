"""``limelight compare``: compare attribution methods on texts from the command line.

``limelight compare --file texts.txt --methods integrated_gradients saliency`` prints the
comparison as Markdown (``--html FILE`` also writes the HTML report). The main command registers
it with :func:`add_compare_parser` and dispatches to :func:`run_compare`; ``python -m
limelight.evaluation.cli`` runs it alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from limelight.errors import LimelightError

from limelight.text.quantity import QUANTITIES

from .compare import DEFAULT_METHODS, compare
from .erasure import FILLS
from .metrics import METRICS


def add_compare_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``compare`` subcommand to an ``argparse`` subparsers object and return its parser."""
    parser = commands.add_parser("compare", help="compare attribution methods on texts and recommend one")
    parser.add_argument("texts", nargs="*", help="texts to explain; '-' reads standard input, one text per line")
    parser.add_argument("--file", help="read texts from this file, one per line")
    parser.add_argument("--model", help="a local Hugging Face classifier directory (default: the demo model)")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), help="methods to compare (names explain accepts)")
    parser.add_argument("--metrics", nargs="+", default=["default"], help=f"'default', 'all', or names from: {', '.join(METRICS)}")
    parser.add_argument("--primary", default="comprehensiveness", choices=list(METRICS), help="metric the recommendation is based on")
    parser.add_argument("--quantity", default="logit", choices=QUANTITIES, help="what the methods explain (default: logit)")
    parser.add_argument("--baseline", default="pad", help="pad, mask, unk, zero, delete, or a custom baseline text")
    parser.add_argument("--metric-quantity", choices=QUANTITIES, help="what metrics measure (default: what was explained)")
    parser.add_argument("--fill", default="delete", choices=FILLS, help="how erased words disappear")
    parser.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--html", metavar="FILE", help="also write the HTML report to FILE")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="show a progress bar")
    return parser


def run_compare(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> int:
    """Run ``compare`` for parsed arguments (``model``/``tokenizer`` override ``--model``); prints Markdown."""
    from limelight.cli import load_model, read_texts

    texts = read_texts(arguments)
    if not texts:
        print("limelight compare: give at least one text (arguments, --file, or standard input)", file=sys.stderr)
        return 2
    if model is None:
        model, tokenizer = load_model(arguments.model)
    metrics = arguments.metrics[0] if arguments.metrics in (["default"], ["all"]) else arguments.metrics
    comparison = compare(
        model,
        tokenizer,
        texts,
        arguments.methods,
        metrics=metrics,
        primary=arguments.primary,
        metric_quantity=arguments.metric_quantity,
        fill=arguments.fill,
        n_bootstrap=arguments.n_bootstrap,
        seed=arguments.seed,
        show_progress=arguments.progress,
        quantity=arguments.quantity,
        baseline=arguments.baseline,
    )
    print(comparison.to_markdown())
    if arguments.html:
        comparison.save_html(arguments.html)
        print(f"wrote {arguments.html}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``limelight compare`` on its own; returns the exit status."""
    parser = argparse.ArgumentParser(prog="limelight", description="Compare attribution methods on texts.")
    add_compare_parser(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args(["compare", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run_compare(arguments)
    except (LimelightError, OSError) as error:
        print(f"limelight compare: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
