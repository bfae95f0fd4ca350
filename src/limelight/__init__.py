"""limelight: attributions for PyTorch models that are correct by construction."""

from __future__ import annotations

from .engine import (
    Attribution,
    Contrast,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    LayerIntegratedGradients,
    NoiseTunnel,
    Saliency,
)

__version__ = "0.1.0"

__all__ = [
    "Attribution",
    "Contrast",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "LayerIntegratedGradients",
    "NoiseTunnel",
    "Saliency",
]
