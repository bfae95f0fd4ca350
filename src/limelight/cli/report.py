"""``limelight report OUT --html explorer.html``: the dataset explorer of a job's output, one self-contained page.

See :mod:`limelight.jobs.explorer`: a table with text heatmaps, filters, sorting, paging, a
detail view and the global-importance charts, working offline.
"""

from __future__ import annotations

import argparse
from typing import Any

from limelight.cli.args import check_writable
from limelight.jobs.explorer import save_explorer


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``report`` to an ``argparse`` subparsers object and return its parser."""
    parser: argparse.ArgumentParser = commands.add_parser("report", help="write the dataset explorer (HTML) of a job's output")
    parser.add_argument("results", help="a job's output: a .parquet folder or a .jsonl file")
    parser.add_argument("--html", metavar="FILE", required=True, help="the page to write")
    parser.add_argument("--title", help="the page's title")
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace) -> int:
    """Run ``report`` for parsed arguments; returns the exit status."""
    check_writable(arguments.html, "--html")
    save_explorer(arguments.results, arguments.html, title=arguments.title)
    print(f"wrote {arguments.html}")
    return 0
