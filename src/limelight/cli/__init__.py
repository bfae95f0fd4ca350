"""The ``limelight`` command: one parser, one module per subcommand.

``limelight explain`` explains texts (:mod:`limelight.cli.explain`), ``limelight compare``
compares attribution methods on them (:mod:`limelight.cli.compare`); both take their shared
options from :mod:`limelight.cli.args`. ``limelight explain-image`` explains image files
(:mod:`limelight.cli.explain_image`), ``limelight explain-generation`` a causal LM's answer to a prompt
(:mod:`limelight.cli.explain_generation`). ``limelight summarize`` ranks words across a dataset
job's output (:mod:`limelight.cli.summarize`) and ``limelight report`` writes its explorer page
(:mod:`limelight.cli.report`). A new command is a module with ``add_parser`` (which sets
the parser's ``run`` default) listed in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from limelight.cli import compare, explain, explain_generation, explain_image, report, summarize
from limelight.errors import LimelightError, UsageError

COMMANDS = (
    explain.add_parser,
    compare.add_parser,
    explain_image.add_parser,
    explain_generation.add_parser,
    summarize.add_parser,
    report.add_parser,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``limelight`` parser with every command of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="limelight", description="Explain a text classifier's predictions, word by word.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add_parser in COMMANDS:
        add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2: nothing to do, 1: limelight or the file system refused, 130: Ctrl-C)."""
    arguments = build_parser().parse_args(argv)
    try:
        with _one_line_warnings(arguments.command):
            status: int = arguments.run(arguments)
    except (LimelightError, OSError) as error:
        print(f"limelight {arguments.command}: {error}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
    except KeyboardInterrupt:
        print(f"limelight {arguments.command}: interrupted", file=sys.stderr)
        return 130
    return status


@contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Print warnings as ``limelight COMMAND: warning: message (Category)``, not Python's two-line source format."""

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        print(f"limelight {command}: warning: {message} ({category.__name__})", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
