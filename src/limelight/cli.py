"""The ``limelight`` command: explain texts from the command line.

``limelight explain "The movie was one of those amazing movies"`` prints a coloured word heatmap
with the prediction, target and convergence delta. Texts come from the arguments, ``--file``
(one per line) or standard input (``-``, or when nothing else is given and input is piped).
``--output FILE.jsonl`` turns it into a dataset job that can be interrupted and resumed, and
``--shard K/N`` splits the texts across N machines. ``limelight compare`` compares attribution
methods on texts (see :mod:`limelight.evaluation.cli`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .errors import LimelightError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="limelight", description="Explain a text classifier's predictions, word by word.")
    commands = parser.add_subparsers(dest="command", required=True)
    explain = commands.add_parser("explain", help="explain texts with a classifier (the embedded demo model by default)")
    explain.add_argument("texts", nargs="*", help="texts to explain; '-' reads standard input, one text per line")
    explain.add_argument("--file", help="read texts from this file, one per line")
    explain.add_argument("--model", help="a local Hugging Face classifier directory (default: the demo model)")
    explain.add_argument("--target", help="label (name or index) to explain; default: the predicted label")
    explain.add_argument("--contrast", help="explain target minus this label: why the target rather than this")
    explain.add_argument("--method", default="integrated_gradients", help="attribution method (default: integrated_gradients)")
    explain.add_argument("--quantity", default="logit", choices=("logit", "probability", "log_probability"))
    explain.add_argument("--baseline", default="pad", help="pad, mask, unk, zero, or a custom baseline text")
    explain.add_argument("--level", default="word", choices=("word", "token"))
    explain.add_argument("--json", action="store_true", help="print the explanations as JSON instead of a heatmap")
    explain.add_argument("--html", metavar="FILE", help="also write a self-contained HTML heatmap to FILE")
    explain.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="show a progress bar")
    explain.add_argument("--output", metavar="FILE", help="append explanations to a JSON Lines file, resuming where an earlier run stopped")
    explain.add_argument("--shard", default="0/1", type=_shard, help="with --output: explain only texts i with i %% N == K (K/N)")
    explain.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True, help="with --output: continue an existing file (default)")
    from .evaluation.cli import add_compare_parser

    add_compare_parser(commands)
    return parser


def _shard(value: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shard must look like K/N (e.g. 0/4), got {value!r}") from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"shard K/N needs 0 <= K < N, got {value!r}")
    return k, n


def read_texts(arguments: argparse.Namespace) -> list[str]:
    """Texts from the positional arguments, ``--file`` (one per line) and standard input."""
    texts = [t for t in arguments.texts if t != "-"]
    if arguments.file:
        with open(arguments.file, encoding="utf-8") as handle:
            texts += [line.rstrip("\n") for line in handle if line.strip()]
    if "-" in arguments.texts or (not texts and not sys.stdin.isatty()):
        texts += [line.rstrip("\n") for line in sys.stdin if line.strip()]
    return texts


def _explain(arguments: argparse.Namespace) -> int:
    from rich.console import Console

    from .text.explainer import TextExplainer
    from .text.explanation import Explanations
    from .viz import print_terminal, save_html

    texts = read_texts(arguments)
    if not texts:
        print("limelight explain: give at least one text (arguments, --file, or standard input)", file=sys.stderr)
        return 2
    model, tokenizer = load_model(arguments.model)
    explainer = TextExplainer(
        model, tokenizer, method=arguments.method, quantity=arguments.quantity, baseline=arguments.baseline, show_progress=arguments.progress
    )
    target, contrast = _label(arguments.target), _label(arguments.contrast)
    if arguments.output:
        from .text.dataset import explain_to_jsonl

        explain_to_jsonl(
            explainer, texts, arguments.output, resume=arguments.resume, shard=arguments.shard,
            show_progress=arguments.progress, target=target, contrast=contrast,
        )
        print(f"wrote {arguments.output}")
        return 0
    explanations = Explanations(explainer.explain(texts, target=target, contrast=contrast))
    if arguments.html:
        save_html(arguments.html, explanations, level=arguments.level)
    if arguments.json:
        print(explanations.to_json(indent=2))
    else:
        print_terminal(explanations, level=arguments.level, console=Console())
        if arguments.html:
            print(f"wrote {arguments.html}")
    return 0


def load_model(path: str | None) -> tuple[Any, Any]:
    """The classifier in a local directory, or the embedded demo model when no path is given."""
    if path:
        from .text.loading import load_local

        return load_local(path)
    from .demo import demo_model

    return demo_model()


def _label(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.isdigit() else value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = _parser().parse_args(argv)
    try:
        if arguments.command == "compare":
            from .evaluation.cli import run_compare

            return run_compare(arguments)
        return _explain(arguments)
    except (LimelightError, OSError) as error:
        print(f"limelight {arguments.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
