"""The vision front end: image classifiers in, pixel and segment scores out (a sibling of :mod:`limelight.text`)."""

from .baselines import Baseline
from .explainer import ImageExplainer, explain_image
from .explanation import ImageExplanation, ImageExplanations
from .features import Patches, Slic
from .preprocess import Preprocess

__all__ = ["Baseline", "ImageExplainer", "ImageExplanation", "ImageExplanations", "Patches", "Preprocess", "Slic", "explain_image"]
