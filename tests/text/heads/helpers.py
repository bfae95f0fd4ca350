"""What the head tests share: fixed-step settings, a Captum cross-check at the embedding layer, score arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

STEPS = 16
"""Fixed Gauss-Legendre nodes: deterministic and the same for every row, so results can be compared exactly."""


def scores(spans) -> np.ndarray:
    return np.array([span.score for span in spans])


def assert_close(actual, expected, rtol: float = 1e-5) -> None:
    """Equal up to ``rtol`` of the largest expected magnitude (float32 models, float64 sums)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-12)
    np.testing.assert_allclose(actual, expected, atol=rtol * scale, rtol=0)


def pad_baseline(tokenizer, ids: list[int]) -> list[int]:
    """``ids`` with every content token replaced by the pad token (special tokens kept)."""
    special = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
    return [i if s else tokenizer.pad_token_id for i, s in zip(ids, special)]


def captum_token_scores(model, tokenizer, batch: dict, output: Callable[[object], torch.Tensor], target) -> np.ndarray:
    """Captum's LayerIntegratedGradients at the word embeddings (pad baseline), summed over the hidden size."""
    captum = pytest.importorskip("captum.attr", reason="the Captum cross-check needs captum (a test-only dependency)")
    names = [name for name in tokenizer.model_input_names if name != "input_ids" and name in batch]

    def forward(ids, *rest):
        return output(model(input_ids=ids, **dict(zip(names, rest))))

    ids = batch["input_ids"]
    baseline = torch.tensor([pad_baseline(tokenizer, ids[0].tolist())])
    reference = captum.LayerIntegratedGradients(forward, model.get_input_embeddings()).attribute(
        ids, baseline, target=target, additional_forward_args=tuple(batch[n] for n in names), n_steps=STEPS, method="gausslegendre"
    )
    return reference.sum(-1)[0].double().numpy()
