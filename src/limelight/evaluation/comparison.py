"""The result of :func:`~.compare.compare`: per method, explanations, timings and metric values.

Rendering lives in :mod:`.report`, which registers its views with :mod:`limelight._display`
(``limelight.evaluation`` imports it); the methods here ask for them, so this module does not
import the report and the report can import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from limelight import _display
from limelight.text.explanation import Explanations
from limelight.vision.explanation import ImageExplanations

from .agreement import Agreement
from .bootstrap import Estimate
from .metric import Metric

REPORT_TITLE = "limelight: which explanation to trust"

ResultExplanations = Explanations | ImageExplanations
"""One method's explanations of a comparison's inputs: texts or images."""


@dataclass(frozen=True)
class MethodResult:
    """One method's explanations, timings, per-input metric values and their summaries."""

    name: str
    explanations: ResultExplanations
    explain_seconds: float
    metric_seconds: float
    values: dict[str, np.ndarray]
    summary: dict[str, Estimate]


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`~.compare.compare`. Render it with :meth:`to_markdown`, :meth:`to_html` or :meth:`to_dataframe`."""

    texts: list[str]
    results: dict[str, MethodResult]
    metrics: tuple[str, ...]
    primary: str
    recommendation: str
    agreement: Agreement | None
    settings: dict[str, Any] = field(default_factory=dict)
    registry: Mapping[str, Metric[Any]] = field(default_factory=dict, repr=False)
    """The metrics the columns come from (names, labels, arrows): the text or the image registry."""
    refused: dict[str, str] = field(default_factory=dict)
    """Methods that could not run on the model (name -> the error), left out of the table; the recommendation lists them."""

    @property
    def methods(self) -> list[str]:
        """Method names in the order they were given."""
        return list(self.results)

    def to_markdown(self, max_flagged: int = 10) -> str:
        """The table, the recommendation and the most disagreed-on inputs as Markdown (user text escaped)."""
        return str(_display.render(self, "markdown", max_flagged=max_flagged))

    def to_html(self, max_flagged: int = 5, title: str = REPORT_TITLE) -> str:
        """A self-contained HTML report (every piece of user data escaped), with side-by-side views of flagged inputs."""
        return str(_display.render(self, "html_document", max_flagged=max_flagged, title=title))

    def save_html(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write :meth:`to_html` (``options`` go to it) to ``path`` as UTF-8 and return the path."""
        target = Path(path)
        target.write_text(self.to_html(**options), encoding="utf-8")
        return target

    def _repr_html_(self) -> str | None:
        """The report as an HTML fragment, for Jupyter."""
        return _display.html(self)

    def to_dataframe(self, level: str = "method") -> Any:
        """``level="method"``: one row per method (``<metric>``, ``<metric>_low``, ``<metric>_high``, ``<metric>_n``,
        timings). ``level="input"``: one row per (input, method) with per-input values and the agreement column."""
        return _display.render(self, "dataframe", level=level)
