"""How many rows go through the model at once.

Either the user fixes ``internal_batch_size`` (rows per forward), or limelight sizes chunks to a
memory budget from a measurement: the bytes autograd saves for backward, counted with
``saved_tensors_hooks`` for a probe of two and three rows. The difference is one row's cost,
whatever the device. Results never depend on the chunk size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from ..errors import InvalidInputError
from .validation import is_int

DEFAULT_MEMORY_BUDGET = 2 * 1024**3
AUTO_MIN_CHUNKS = 20
"""Without ``show_progress``, a bar appears (on a terminal) only for runs of more chunks than this."""
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


def parse_bytes(budget: int | str) -> int:
    """``2 ** 30``, ``"512MB"`` or ``"2GiB"`` as a number of bytes."""
    if is_int(budget) and budget > 0:
        return budget
    if isinstance(budget, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", budget)
        if match and match.group(2).upper() in _UNITS:
            return max(1, int(float(match.group(1)) * _UNITS[match.group(2).upper()]))
    raise InvalidInputError(f"memory_budget must be a positive number of bytes or a string like '512MB', got {budget!r}")


def saved_bytes(run: Callable[[], object]) -> int:
    """Bytes of tensors autograd saves for backward while ``run()`` executes (each storage once)."""
    storages: dict[int, int] = {}

    def pack(tensor: Tensor) -> Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        run()
    return sum(storages.values())


def rows_for_budget(bytes_two_rows: int, bytes_three_rows: int, budget: int) -> int:
    """Rows per chunk so that activations and their gradients fit ``budget`` (a factor 2 for the backward)."""
    per_row = max(bytes_three_rows - bytes_two_rows, 1)
    return max(1, budget // (2 * per_row))


def chunks(n_rows: int, size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` rows covering ``range(n_rows)``."""
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))
