"""The text front end: Hugging Face tokenizers and classifiers in, word-level explanations out.

One runner (:class:`TextRunner`), one erasure (:class:`Erasure`) and the engine's objective
(:class:`~limelight.engine.objective.Objective`) serve explaining and evaluating alike.
"""

from .erasure import Erasure, erase
from .explainer import TextExplainer, explain
from .explanation import Explanation, Explanations, Span
from .runner import TextRunner

__all__ = ["Erasure", "Explanation", "Explanations", "Span", "TextExplainer", "TextRunner", "erase", "explain"]
