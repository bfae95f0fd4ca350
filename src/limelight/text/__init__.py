"""The text front end: Hugging Face tokenizers and classifiers in, word-level explanations out.

One runner (:class:`TextRunner`), one erasure (:class:`Erasure`) and one objective
(:class:`Objective`) serve explaining and evaluating alike.
"""

from .erasure import Erasure, erase
from .explainer import TextExplainer, explain
from .explanation import Explanation, Explanations, Span
from .objective import Objective
from .runner import TextRunner

__all__ = ["Erasure", "Explanation", "Explanations", "Objective", "Span", "TextExplainer", "TextRunner", "erase", "explain"]
