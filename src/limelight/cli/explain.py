"""``limelight explain``: explain texts and print a coloured word heatmap, JSON, or a dataset file.

``limelight explain "The movie was one of those amazing movies"`` prints each text's words
coloured by score with the prediction, target and convergence delta (on a terminal; piped, the
same header and one ``word<TAB>score`` line per word). ``--output FILE.jsonl`` or
``--output DIR.parquet`` turns it into a dataset job that can be interrupted and resumed
(:func:`limelight.jobs.explain_dataset`), where a text's ``index`` is its position among the input
lines (for ``--file`` alone: line ``index + 1``; blank lines are skipped but counted), or, with
``--column``, the rows of a CSV/TSV/JSONL/Parquet ``--file`` (ids from its ``id`` column, else row
numbers); ``--shard K/N`` splits the rows across N machines and ``--engine ray --workers N`` runs
them on a Ray actor pool.
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
from limelight.jobs import explain_dataset
from limelight.jobs.progress import RateLog
from limelight.text.explainer import TextExplainer
from limelight.text.explanation import Explanations
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
    parser.add_argument(
        "--output",
        metavar="PATH",
        help="a dataset job: write a Parquet folder (PATH.parquet) or JSON Lines file (PATH.jsonl), resuming where an earlier run stopped",
    )
    parser.add_argument("--column", help="with --file: the file is a CSV/TSV/JSONL/Parquet table and this column holds the texts")
    parser.add_argument("--id-column", help="with --column: the column of row ids (default: 'id' when there is one, else row numbers)")
    parser.add_argument("--label-column", help="with --column: the column of true labels (names or indices)")
    parser.add_argument("--target-column", help="with --column and --output: each row's own target label (a name or an index)")
    parser.add_argument("--pair-column", help="with --column and --output: each row's second text (NLI premise/hypothesis, QA context)")
    parser.add_argument("--engine", choices=("local", "ray"), help="with --output: run here (default) or on a Ray actor pool")
    parser.add_argument("--workers", type=int, help="with --engine ray: the number of actors (default 1)")
    parser.add_argument("--address", help="with --engine ray: the Ray cluster to join (e.g. auto); default: a local one")
    parser.add_argument("--shard", type=shard, help="with --output: explain only rows i with i %% N == K (K/N)")
    parser.add_argument(
        "--resume", action=argparse.BooleanOptionalAction, help="with --output: continue an existing file of the same job (default)"
    )
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> int:
    """Run ``explain`` for parsed arguments (``model``/``tokenizer`` override ``--model``); returns the exit status."""
    _check_options(arguments)
    texts: Any = arguments.file if arguments.column else numbered_texts(arguments)
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
        ray = {"workers": arguments.workers or 1, "address": arguments.address} if arguments.engine == "ray" else {}
        try:
            summary = explain_dataset(
                explainer,
                texts,
                arguments.output,
                column=arguments.column,
                id_column=arguments.id_column,
                label_column=arguments.label_column,
                target_column=arguments.target_column,
                text_pair_column=arguments.pair_column,
                format=_format(arguments.output),
                engine=arguments.engine or "local",
                shard=arguments.shard or (0, 1),
                show_progress=arguments.progress,
                log_every=_log_every(arguments),
                **ray,
                **labels,
            )
        except KeyboardInterrupt:
            print(
                f"limelight explain: interrupted; the rows finished so far are kept in {arguments.output}: run the same command to resume",
                file=sys.stderr,
            )
            return 130
        print(summary, file=sys.stderr)
        print(f"wrote {arguments.output}")
        return 0
    level: Level = arguments.level or "word"
    explanations = _explain_logged(explainer, list(texts.values()), _log_every(arguments), labels)
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


def _format(output: str) -> str:
    """A Parquet folder for ``--output NAME.parquet``, else a JSON Lines file (whatever its name)."""
    return "parquet" if output.rstrip("/").lower().endswith(".parquet") else "jsonl"


def _log_every(arguments: argparse.Namespace) -> float | None:
    """Seconds between plain progress lines: when no bar can be drawn (stderr is not a terminal) and none was asked for."""
    return LOG_EVERY if arguments.progress is None and not sys.stderr.isatty() else None


def _explain_logged(explainer: TextExplainer, texts: list[str], log_every: float | None, labels: dict[str, Any]) -> Explanations:
    """``explainer.explain(texts)``, in chunks with a plain progress line now and then when stderr is a log or a pipe.

    Results do not depend on how texts are grouped into calls, so chunking changes only what is printed.
    """
    if log_every is None or len(texts) <= 1:
        return explainer.explain(texts, **labels)
    log = RateLog("texts", len(texts), log_every, unit="texts")
    size = explainer.runner.batch_size
    explanations = Explanations()
    for start in range(0, len(texts), size):
        explanations.extend(explainer.explain(texts[start : start + size], **labels))
        log.advance(len(texts[start : start + size]))
    return explanations


def _check_options(arguments: argparse.Namespace) -> None:
    """Refuse options that would be ignored, and outputs that cannot be written, before any work."""
    if arguments.column is None:
        named = ("id_column", "label_column", "target_column", "pair_column")
        given = [f"--{name.replace('_', '-')}" for name in named if getattr(arguments, name) is not None]
        if given:
            raise InvalidInputError(f"{' and '.join(given)} name columns of a table: add --file TABLE --column TEXTS, or drop them")
    elif not arguments.file or arguments.texts:
        raise InvalidInputError("--column reads the texts from a table given with --file (and no texts on the command line)")
    if arguments.target_column is not None and arguments.target is not None:
        raise InvalidInputError("--target is one label for every row and --target-column one per row; give one of them")
    if arguments.engine != "ray" and (arguments.workers is not None or arguments.address is not None):
        raise InvalidInputError("--workers and --address apply to --engine ray; add it, or drop them")
    if arguments.output:
        ignored = [f"--{name}" for name in ("html", "json", "level") if getattr(arguments, name) not in (None, False)]
        if ignored:
            raise InvalidInputError(
                f"--output writes a dataset file, so {', '.join(ignored)} would do nothing; drop them, or drop --output"
            )
        if _format(arguments.output) == "jsonl":
            check_writable(arguments.output, "--output")
        elif os.path.isfile(arguments.output):
            raise InvalidInputError(f"--output {arguments.output} is a file; a Parquet output is a folder (or name it .jsonl)")
        else:  # a Parquet folder: the folder must be writable, or the one it will be created in
            existing = os.path.isdir(arguments.output)
            check_writable(os.path.join(arguments.output, "_limelight.json") if existing else arguments.output, "--output")
        if arguments.resume is False and os.path.exists(arguments.output):
            raise InvalidInputError(f"--output {arguments.output} exists; run with --resume to continue it, or delete it to start over")
    else:
        given = [
            option
            for option, value in (
                ("--shard", arguments.shard),
                ("--resume/--no-resume", arguments.resume),
                ("--engine", arguments.engine),
                ("--column", arguments.column),
            )
            if value is not None
        ]
        if given:
            verb = "apply" if len(given) > 1 else "applies"
            raise InvalidInputError(
                f"{' and '.join(given)} only {verb} to a dataset job: add --output DIR.parquet (or FILE.jsonl), or drop {'them' if len(given) > 1 else 'it'}"
            )
    if arguments.html:
        check_writable(arguments.html, "--html")
