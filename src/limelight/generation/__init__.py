"""Generative language models: which parts of the prompt produced the answer (prompt -> generated tokens).

``explain_generation(model, tokenizer, prompt, target=None, method=..., features=...)`` returns a
:class:`GenerationExplanation`: a matrix of generated tokens x prompt features, the sequence-level
scores, and per generated token the method's evidence. See ``docs/generation.md``.
"""

from .explainer import METHODS, GenerationExplainer, explain_generation
from .explanation import GenerationExplanation
from .features import FEATURE_KINDS
from .quantity import QUANTITIES

__all__ = ["FEATURE_KINDS", "METHODS", "QUANTITIES", "GenerationExplainer", "GenerationExplanation", "explain_generation"]
