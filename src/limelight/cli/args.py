"""What every command shares: the options that pick texts, model and explained quantity, and reading them.

:func:`command_parser` is the one place those options are declared, so ``explain`` and
``compare`` cannot drift apart; each command adds only its own options to the parser it returns.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from limelight.demo import demo_model
from limelight.errors import UsageError
from limelight.text.loading import load_local
from limelight.text.objective import QUANTITIES


def command_parser(commands: Any, name: str, *, summary: str, html: str) -> argparse.ArgumentParser:
    """Add subcommand ``name`` with the shared options to an ``argparse`` subparsers object; ``html`` describes ``--html``."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary)
    parser.add_argument("texts", nargs="*", help="texts to explain; '-' reads standard input, one text per line")
    parser.add_argument("--file", help="read texts from this file, one per line")
    parser.add_argument("--model", help="a local Hugging Face classifier directory (default: the demo model)")
    parser.add_argument("--target", type=label, help="label (name or index) to explain; default: the predicted label")
    parser.add_argument("--contrast", type=label, help="explain target minus this label: why the target rather than this")
    parser.add_argument("--quantity", default="logit", choices=QUANTITIES, help="what is explained (default: logit)")
    parser.add_argument("--baseline", default="pad", help="pad, mask, unk, zero, delete (perturbation methods), or a custom baseline text")
    parser.add_argument("--html", metavar="FILE", help=html)
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="show a progress bar")
    return parser


def label(value: str) -> str | int:
    """A label given on the command line: an index when it is all digits, else a name."""
    return int(value) if value.isdigit() else value


def shard(value: str) -> tuple[int, int]:
    """``K/N`` on the command line as ``(k, n)``, checked for ``0 <= k < n``."""
    try:
        k, n = (int(part) for part in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shard must look like K/N (e.g. 0/4), got {value!r}") from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"shard K/N needs 0 <= K < N, got {value!r}")
    return k, n


def read_texts(arguments: argparse.Namespace) -> list[str]:
    """Texts from the positional arguments, ``--file`` (one per line) and standard input; at least one."""
    texts = [t for t in arguments.texts if t != "-"]
    if arguments.file:
        with open(arguments.file, encoding="utf-8") as handle:
            texts += [line.rstrip("\n") for line in handle if line.strip()]
    if "-" in arguments.texts or (not texts and not sys.stdin.isatty()):
        texts += [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise UsageError("give at least one text (arguments, --file, or standard input)")
    return texts


def load_model(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> tuple[Any, Any]:
    """``model``/``tokenizer`` when given, else the classifier in ``--model``, else the embedded demo model."""
    if model is not None:
        return model, tokenizer
    return load_local(arguments.model) if arguments.model else demo_model()
