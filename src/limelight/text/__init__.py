"""The text front end: Hugging Face tokenizers and classifiers in, word-level explanations out.

One runner (:class:`TextRunner`), one erasure (:class:`Erasure`) and the engine's objective
(:class:`~limelight.engine.objective.Objective`) serve explaining and evaluating alike.
"""

from .concepts import text_concept, text_inputs, token_mean
from .erasure import Erasure, erase
from .explainer import TextExplainer, explain
from .explanation import Explanation, Explanations, Span
from .heads import HeadImportance, head_importance
from .runner import TextRunner
from .similarity import explain_similarity
from .tasks import HEADS, detect_head
from .zero_shot import explain_zero_shot

__all__ = [
    "HEADS",
    "Erasure",
    "Explanation",
    "Explanations",
    "HeadImportance",
    "Span",
    "TextExplainer",
    "TextRunner",
    "erase",
    "detect_head",
    "explain",
    "explain_similarity",
    "explain_zero_shot",
    "head_importance",
    "text_concept",
    "text_inputs",
    "token_mean",
]
