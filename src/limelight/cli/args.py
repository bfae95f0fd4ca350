"""What every command shares: the options that pick texts, model and explained quantity, and reading them.

:func:`command_parser` is the one place those options are declared, so ``explain`` and
``compare`` cannot drift apart; each command adds only its own options to the parser it returns.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import Any

from limelight.demo import demo_model
from limelight.engine.objective import QUANTITIES
from limelight.errors import InvalidInputError, UsageError
from limelight.text.baselines import NAMED_KINDS, BaselineSpec
from limelight.text.loading import load_local


def command_parser(commands: Any, name: str, *, summary: str, html: str) -> argparse.ArgumentParser:
    """Add subcommand ``name`` with the shared options to an ``argparse`` subparsers object; ``html`` describes ``--html``."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary)
    parser.add_argument("texts", nargs="*", help="texts to explain; '-' reads standard input, one text per line")
    parser.add_argument("--file", help="read texts from this file, one per line")
    parser.add_argument(
        "--model", help="a local Hugging Face classifier directory, or demo:sentiment / demo:cola (default: the sentiment demo)"
    )
    parser.add_argument("--target", type=label, help="label (name or index) to explain; default: the predicted label")
    parser.add_argument("--contrast", type=label, help="explain target minus this label: why the target rather than this")
    parser.add_argument("--quantity", default="logit", choices=QUANTITIES, help="what is explained (default: logit)")
    parser.add_argument(
        "--baseline",
        choices=NAMED_KINDS,
        help="what erased words become: pad (default), mask, unk, zero (gradient methods), delete (perturbation methods)",
    )
    parser.add_argument("--baseline-text", metavar="TEXT", help="a custom baseline text instead (as many tokens as each text)")
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
    return list(numbered_texts(arguments).values())


def numbered_texts(arguments: argparse.Namespace) -> dict[int, str]:
    """The texts under their indices: positional arguments first, then every line of ``--file`` and standard input.

    Blank lines are skipped but keep their number, so for texts from ``--file`` alone index ``i``
    is line ``i + 1`` of the file. Standard input is read for ``-``, or when neither texts nor
    ``--file`` are given and it is not a terminal.
    """
    lines: list[str] = [t for t in arguments.texts if t != "-"]
    if arguments.file:
        with open(arguments.file, "rb") as handle:
            from_file = _decoded(handle, arguments.file)
        if not any(line.strip() for line in from_file):
            raise UsageError(f"{arguments.file} holds no texts (it is empty or blank); give a file with one text per line")
        lines += from_file
    if "-" in arguments.texts or (not arguments.texts and not arguments.file and not sys.stdin.isatty()):
        stdin = getattr(sys.stdin, "buffer", None)
        lines += _decoded(stdin, "standard input") if stdin is not None else [line.rstrip("\n") for line in sys.stdin]
    texts = {i: line for i, line in enumerate(lines) if line.strip()}
    if not texts:
        raise UsageError("give at least one text (arguments, --file, or standard input)")
    return texts


def _decoded(lines: Iterable[bytes], source: str) -> list[str]:
    """UTF-8 lines without their line ends; a line that is not UTF-8 is an error naming ``source`` and the line."""
    decoded = []
    for number, line in enumerate(lines, 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInputError(
                f"{source}: line {number} is not valid UTF-8 (byte {error.start + 1} is {line[error.start : error.start + 1]!r}); "
                "save the texts as UTF-8"
            ) from None
        # universal newlines, as text files are read: \r\n and a lone \r end lines too
        decoded += text.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")
    return decoded


def baseline(arguments: argparse.Namespace) -> str | BaselineSpec:
    """The baseline the options ask for: ``--baseline`` (default ``pad``) or the custom ``--baseline-text``, not both."""
    if arguments.baseline is not None and arguments.baseline_text is not None:
        raise InvalidInputError("give --baseline or --baseline-text, not both")
    if arguments.baseline_text is not None:
        if not arguments.baseline_text.strip():
            raise InvalidInputError("--baseline-text is empty; give a text, or a named kind with --baseline")
        return BaselineSpec(kind="text", text=arguments.baseline_text)  # a text, even one spelled like a named kind
    return str(arguments.baseline or "pad")


def check_writable(path: str, option: str) -> None:
    """Refuse ``path`` for ``option`` before any work when it cannot be written (missing folder, no permission)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InvalidInputError(f"{option} {path} is a directory; give a file name")
    if not os.path.isdir(folder):
        raise InvalidInputError(f"{option} {path}: the folder {folder} does not exist; create it or write elsewhere")
    if not os.access(path if os.path.exists(path) else folder, os.W_OK):
        raise InvalidInputError(f"{option} {path} cannot be written (no permission); write elsewhere")


def load_model(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> tuple[Any, Any]:
    """``model``/``tokenizer`` when given, else the classifier in ``--model``, else the embedded demo model."""
    if model is not None:
        return model, tokenizer
    if not arguments.model:
        return demo_model()
    if arguments.model.startswith(DEMO_PREFIX):
        return demo_model(arguments.model.removeprefix(DEMO_PREFIX))
    return load_local(arguments.model)


DEMO_PREFIX = "demo:"
"""``--model demo:NAME`` picks an embedded demo model (``demo:sentiment``, ``demo:cola``)."""
