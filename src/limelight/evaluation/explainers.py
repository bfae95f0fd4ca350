"""What ``compare`` and the sanity checks call to explain: any function of a model and texts.

Metrics that re-explain (max-sensitivity, model and data randomisation) must explain a *different*
model (a randomised copy, a retrained one) or perturbed inputs with the same method and settings.
So a method is represented by an :class:`Explainer`: a callable from a model and texts to
explanations. :class:`MethodExplainer` wraps :class:`~limelight.text.TextExplainer` by method name;
any other callable with the same signature (a Captum recipe, an input-only baseline) works too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from torch import nn

from limelight.errors import InvalidInputError
from limelight.text.explainer import TextExplainer
from limelight.text.explanation import Explanation
from limelight.text.labels import LabelSpec

Targets = LabelSpec | Sequence[LabelSpec]


class Explainer(Protocol):
    """``explainer(model, texts, text_pairs, target, contrast)`` -> one explanation per text, in order."""

    def __call__(
        self, model: nn.Module, texts: Sequence[str], text_pairs: Sequence[str] | None, target: Targets, contrast: LabelSpec
    ) -> Sequence[Explanation]: ...


@dataclass(frozen=True)
class MethodExplainer:
    """Explain with ``TextExplainer(model, tokenizer, method=method, **settings)`` on whichever model is given."""

    tokenizer: Any
    method: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __call__(
        self,
        model: nn.Module,
        texts: Sequence[str],
        text_pairs: Sequence[str] | None = None,
        target: Targets = None,
        contrast: LabelSpec = None,
    ) -> Sequence[Explanation]:
        explainer = TextExplainer(model, self.tokenizer, method=self.method, **self.settings)
        return list(explainer.explain(list(texts), None if text_pairs is None else list(text_pairs), target=target, contrast=contrast))


def explain_like(explainer: Explainer, model: nn.Module, explanations: Sequence[Explanation]) -> list[Explanation]:
    """Explain the texts of ``explanations`` again with ``model``, for the same targets and contrasts.

    Texts are grouped by contrast label and by whether they are pairs, one call per group.
    """
    out: list[Explanation | None] = [None] * len(explanations)
    groups: dict[tuple[str | None, bool], list[int]] = {}
    for index, explanation in enumerate(explanations):
        groups.setdefault((explanation.contrast_label, explanation.text_pair is not None), []).append(index)
    for (contrast, paired), indices in groups.items():
        chosen = [explanations[i] for i in indices]
        pairs = [e.text_pair or "" for e in chosen] if paired else None
        again = list(explainer(model, [e.text for e in chosen], pairs, [e.target_label for e in chosen], contrast))
        if len(again) != len(chosen):
            raise InvalidInputError(
                f"the explainer returned {len(again)} explanations for {len(chosen)} texts; it must return one per text"
            )
        for index, explanation in zip(indices, again):
            out[index] = explanation
    return out  # type: ignore[return-value]  # every index is in one group
