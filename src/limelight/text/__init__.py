"""The text front end: Hugging Face tokenizers and classifiers in, word-level explanations out."""

from .explainer import TextExplainer, explain
from .explanation import Explanation, Explanations, Span

__all__ = ["Explanation", "Explanations", "Span", "TextExplainer", "explain"]
