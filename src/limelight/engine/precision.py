"""The dtype sums and scores are kept in: float64, except on devices without it (Apple's MPS: float32).

Half-precision models (fp16, bf16) are evaluated in their own dtype, but every sum over rows is
taken in this dtype, so attributions do not overflow or lose the small terms.
"""

from __future__ import annotations

import torch


def exact_dtype(device: torch.device) -> torch.dtype:
    """float64 on every device that supports it; float32 on MPS."""
    return torch.float32 if device.type == "mps" else torch.float64
