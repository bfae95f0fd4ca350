"""What a dataset job needs from an explainer: one ``explain`` call on a list of inputs.

:class:`~limelight.text.explainer.TextExplainer` satisfies :class:`Explainer` (a list of texts
in, one :class:`~limelight.text.explanation.Explanation` per text out, in order); a job also
reads the settings it records from the explainer's attributes (:func:`limelight.jobs.records.job_settings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from limelight.text.explanation import Explanation


@runtime_checkable
class Explainer(Protocol):
    """Anything with ``explain(texts, text_pairs=None, *, target=..., contrast=...)`` returning one explanation per text."""

    def explain(
        self, texts: Sequence[str], text_pairs: Sequence[str] | None = None, *, target: Any = None, contrast: Any = None
    ) -> Sequence[Explanation]:
        """Explain ``texts`` (and their pairs), one explanation per text, in order."""
        ...
