"""Dataset jobs: explain many texts into files, resumably and split across machines.

:func:`explain_to_jsonl` appends one JSON line per text and picks up where an interrupted run
stopped; :func:`read_jsonl` reads such a file back as explanations.
"""

from __future__ import annotations

from limelight.jobs.jsonl import explain_to_jsonl, read_jsonl

__all__ = ["explain_to_jsonl", "read_jsonl"]
