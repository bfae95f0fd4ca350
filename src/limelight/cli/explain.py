"""``limelight explain``: explain texts and print a coloured word heatmap, JSON, or a dataset file.

``limelight explain "The movie was one of those amazing movies"`` prints each text's words
coloured by score with the prediction, target and convergence delta (on a terminal; piped, the
same header and one ``word<TAB>score`` line per word). ``--output FILE.jsonl`` turns it into a
dataset job that can be interrupted and resumed, where a text's ``index`` is its position among
the input lines (for ``--file`` alone: line ``index + 1``; blank lines are skipped but counted),
and ``--shard K/N`` splits the texts across N machines (see :func:`limelight.jobs.explain_to_jsonl`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from rich.console import Console

from limelight.cli.args import baseline, check_writable, command_parser, load_model, numbered_texts, shard
from limelight.cli.plain import print_plain
from limelight.errors import InvalidInputError
from limelight.jobs import explain_to_jsonl
from limelight.text.explainer import TextExplainer
from limelight.viz import print_terminal, save_html
from limelight.viz.records import Level

LOG_EVERY = 60.0
"""Seconds between plain progress lines of a dataset job whose stderr is not a terminal (no bar can be drawn there)."""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``explain`` to an ``argparse`` subparsers object and return its parser."""
    parser = command_parser(
        commands,
        "explain",
        summary="explain texts with a classifier (the embedded demo model by default)",
        html="also write a self-contained HTML heatmap to FILE",
    )
    parser.add_argument("--method", default="integrated_gradients", help="attribution method (default: integrated_gradients)")
    parser.add_argument("--level", choices=("word", "token"), help="score words (default) or tokens")
    parser.add_argument("--json", action="store_true", help="print the explanations as JSON instead of a heatmap")
    parser.add_argument("--output", metavar="FILE", help="append explanations to a JSON Lines file, resuming where an earlier run stopped")
    parser.add_argument("--shard", type=shard, help="with --output: explain only texts i with i %% N == K (K/N)")
    parser.add_argument(
        "--resume", action=argparse.BooleanOptionalAction, help="with --output: continue an existing file of the same job (default)"
    )
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> int:
    """Run ``explain`` for parsed arguments (``model``/``tokenizer`` override ``--model``); returns the exit status."""
    _check_options(arguments)
    texts = numbered_texts(arguments)
    chosen_baseline = baseline(arguments)
    model, tokenizer = load_model(arguments, model, tokenizer)
    explainer = TextExplainer(
        model,
        tokenizer,
        method=arguments.method,
        quantity=arguments.quantity,
        baseline=chosen_baseline,
        show_progress=arguments.progress,
    )
    labels = {"target": arguments.target, "contrast": arguments.contrast}
    if arguments.output:
        try:
            log_every = LOG_EVERY if arguments.progress is None and not sys.stderr.isatty() else None
            explain_to_jsonl(
                explainer,
                texts,
                arguments.output,
                shard=arguments.shard or (0, 1),
                show_progress=arguments.progress,
                log_every=log_every,
                **labels,
            )
        except KeyboardInterrupt:
            print(
                f"limelight explain: interrupted; the rows finished so far are kept in {arguments.output}: run the same command to resume",
                file=sys.stderr,
            )
            return 130
        print(f"wrote {arguments.output}")
        return 0
    level: Level = arguments.level or "word"
    explanations = explainer.explain(list(texts.values()), **labels)  # a list in, so Explanations out
    if arguments.html:
        save_html(arguments.html, explanations, level=level)
    if arguments.json:
        print(explanations.to_json(indent=2))
    else:
        console = Console()  # a terminal: stdout is one, or FORCE_COLOR / TTY_COMPATIBLE say to act as one
        if console.is_terminal:
            print_terminal(explanations, level=level, console=console)
        else:
            print_plain(explanations, level)
        if arguments.html:
            print(f"wrote {arguments.html}")
    return 0


def _check_options(arguments: argparse.Namespace) -> None:
    """Refuse options that would be ignored, and outputs that cannot be written, before any work."""
    if arguments.output:
        ignored = [f"--{name}" for name in ("html", "json", "level") if getattr(arguments, name) not in (None, False)]
        if ignored:
            raise InvalidInputError(
                f"--output writes a JSON Lines file, so {', '.join(ignored)} would do nothing; drop them, or drop --output"
            )
        check_writable(arguments.output, "--output")
        if arguments.resume is False and os.path.exists(arguments.output):
            raise InvalidInputError(f"--output {arguments.output} exists; run with --resume to continue it, or delete it to start over")
    else:
        given = [
            option for option, value in (("--shard", arguments.shard), ("--resume/--no-resume", arguments.resume)) if value is not None
        ]
        if given:
            verb = "apply" if len(given) > 1 else "applies"
            raise InvalidInputError(
                f"{' and '.join(given)} only {verb} to a dataset job: add --output FILE.jsonl, or drop {'them' if len(given) > 1 else 'it'}"
            )
    if arguments.html:
        check_writable(arguments.html, "--html")
