"""Dataset jobs: explain many inputs into files, resumably, split across machines or run on Ray.

:func:`explain_dataset` explains every row of a list, file, DataFrame or dataset into a Parquet
folder (or JSON Lines) and picks up where an interrupted run stopped; :func:`read_results` reads
the rows back as a DataFrame, :func:`global_importance` ranks words per label across them and
:func:`save_explorer` writes a self-contained HTML page to browse them. :func:`explain_to_jsonl`
and :func:`read_jsonl` are the JSON Lines job for a list of texts.
"""

from __future__ import annotations

from limelight.jobs.dataset import explain_dataset
from limelight.jobs.explorer import save_explorer
from limelight.jobs.global_importance import GlobalImportance, global_importance
from limelight.jobs.jsonl import explain_to_jsonl, read_jsonl, read_jsonl_failures
from limelight.jobs.progress import JobSummary
from limelight.jobs.protocol import Explainer
from limelight.jobs.results import read_results

__all__ = [
    "Explainer",
    "GlobalImportance",
    "JobSummary",
    "explain_dataset",
    "explain_to_jsonl",
    "global_importance",
    "read_jsonl",
    "read_jsonl_failures",
    "read_results",
    "save_explorer",
]
