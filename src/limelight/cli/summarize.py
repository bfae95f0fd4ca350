"""``limelight summarize OUT``: which words drive the model across a dataset job's rows, and where it is wrong.

Prints, per explained label, the top words by mean (or total) attribution with counts and
bootstrap intervals, the words whose sign flips across contexts, and the error analysis (most
confident mistakes, unconverged and failed rows); ``--csv`` writes the per-word statistics,
``--chart`` bar charts (PNG or SVG). See :func:`limelight.jobs.global_importance.global_importance`.
"""

from __future__ import annotations

import argparse
from typing import Any

from limelight.cli.args import check_writable
from limelight.jobs.global_importance import RANKINGS, global_importance


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``summarize`` to an ``argparse`` subparsers object and return its parser."""
    parser: argparse.ArgumentParser = commands.add_parser("summarize", help="rank words per label across a dataset job's output")
    parser.add_argument("results", help="a job's output: a .parquet folder or a .jsonl file")
    parser.add_argument("--top", type=int, default=10, help="words per label (default 10)")
    parser.add_argument("--by", choices=RANKINGS, default="mean", help="rank by mean (default) or total attribution")
    parser.add_argument("--min-count", type=int, default=2, help="rank only words seen at least this often (default 2)")
    parser.add_argument("--csv", metavar="FILE", help="also write the per-word statistics as CSV")
    parser.add_argument("--chart", metavar="FILE", help="also write bar charts of the top words (.png or .svg)")
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace) -> int:
    """Run ``summarize`` for parsed arguments; returns the exit status."""
    for option in ("csv", "chart"):
        if getattr(arguments, option):
            check_writable(getattr(arguments, option), f"--{option}")
    importance = global_importance(arguments.results, min_count=arguments.min_count)
    print(importance.to_text(arguments.top, arguments.by))
    if arguments.csv:
        importance.words.to_csv(arguments.csv, index=False)
        print(f"wrote {arguments.csv}")
    if arguments.chart:
        importance.save_chart(arguments.chart, arguments.top, arguments.by)
        print(f"wrote {arguments.chart}")
    return 0
