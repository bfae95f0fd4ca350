"""How many rows go through the model at once.

Either the user fixes ``internal_batch_size`` (rows per forward), or limelight sizes chunks to a
memory budget from a measurement: the bytes autograd saves for backward, counted with
``saved_tensors_hooks`` for a probe of two and three rows. The difference is one row's cost,
whatever the device; a method remembers it between calls (:mod:`limelight.engine.memo`).
On a CPU, chunks of forward-only evaluations are also capped (:data:`CPU_FORWARD_ROWS`).
Results never depend on the chunk size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from .._warnings import warn
from ..errors import InvalidInputError, MemoryBudgetWarning
from .validation import is_int

DEFAULT_MEMORY_BUDGET = 2 * 1024**3
CPU_FORWARD_ROWS = 32
"""The most rows per forward-only chunk on a CPU when limelight picks the chunk (perturbation methods).

The memory budget alone allows hundreds of rows; on a CPU smaller batches keep the activations in
cache: feature ablation on 32 SST-2 dev sentences with the demo model (one thread) took 5.32 s
of CPU time at 32 rows per forward against 5.80 s at the budget's 161-711 rows (16 rows: 5.42 s,
64: 5.42 s, 128: 5.71 s), with bitwise equal scores (``benchmarks/README.md``). An explicit
``internal_batch_size`` is used as given.
"""
AUTO_MIN_CHUNKS = 20
"""Without ``show_progress``, a bar appears (on a terminal) only for runs of more chunks than this."""
_UNITS = {"": 1, "B": 1, **{f"{p}{s}": 1024 ** (i + 1) for i, p in enumerate("KMGTP") for s in ("B", "IB")}}


def parse_bytes(budget: int | str) -> int:
    """``2 ** 30``, ``"512MB"`` or ``"2GiB"`` as a number of bytes."""
    if is_int(budget) and budget > 0:
        return budget
    if isinstance(budget, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", budget)
        if match and match.group(2).upper() in _UNITS:
            size = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
            if size < 1:
                raise InvalidInputError(f"memory_budget {budget!r} is less than one byte; give a positive size such as '512MB'")
            return size
    raise InvalidInputError(
        f"memory_budget must be a positive number of bytes or a string like '512MB' (units B, KB, MB, GB, TB, PB), got {budget!r}"
    )


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


def rows_for_budget(bytes_per_row: int, budget: int) -> int:
    """Rows per chunk so that activations and their gradients fit ``budget`` (a factor 2 for the backward).

    When even one row does not fit, chunks of one row are used and a :class:`MemoryBudgetWarning` says so.
    """
    row_cost = 2 * max(bytes_per_row, 1)
    if row_cost > budget:
        warn(
            f"one row costs about {_size(row_cost)} (2 x the {_size(bytes_per_row)} of activations measured for it), more than "
            f"memory_budget={_size(budget)}: chunks of 1 row are used, so peak memory will exceed the budget; raise "
            "memory_budget or shorten the inputs",
            MemoryBudgetWarning,
        )
    return max(1, budget // row_cost)


def _size(n_bytes: int) -> str:
    """``n_bytes`` in the largest binary unit that keeps the number at least 1 (``"583.0 MiB"``)."""
    for exponent, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if n_bytes >= 1024**exponent:
            return f"{n_bytes / 1024**exponent:.1f} {unit}"
    return f"{n_bytes} B"


def cpu_capped(rows: int, device: torch.device) -> int:
    """``rows`` per forward-only chunk, at most :data:`CPU_FORWARD_ROWS` on a CPU (any number elsewhere)."""
    return min(rows, CPU_FORWARD_ROWS) if device.type == "cpu" else rows


def chunks(n_rows: int, size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` rows covering ``range(n_rows)``."""
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))
