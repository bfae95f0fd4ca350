"""Occlusion (Zeiler & Fergus, 2014): slide a window over each input and watch the output drop.

Every window position of every input is replaced by the baseline in turn (other inputs intact);
an element's score is the mean, over the windows that cover it, of ``f(x) - f(x occluded)``.
Windows start every stride until one reaches the end of the dimension (a last window that
overhangs it is clipped). A stride longer than its window would skip the elements between
windows, so it is refused: every element is covered. Here each element is a feature, and a
window is the coalition of all features but its own elements. An input with no elements per
example (shape ``(N, 0)``, beside others in a tuple) has no windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..inputs import BaselineSpec, Inputs
from ..options import MethodOptions
from ..result import Attribution
from ..spaces import Points
from ..targets import TargetSpec
from .evaluator import CoalitionEvaluator
from .features import FeatureMask, Features, element_features
from .method import PerturbationKwargs, PerturbationMethod, Scores, positions_in_groups

Shape = tuple[int, ...]
WindowSpec = None | Shape | tuple[Shape, ...]
StrideSpec = int | Shape | tuple[int | Shape, ...]


def window_elements(shape: Shape, window: Shape, strides: Shape) -> Tensor:
    """``(windows, window size)``: the flat element offsets (within one example) each window covers.

    Windows start every ``stride`` along each dimension until one reaches the end; a last window
    that overhangs the end is clipped, and its missing elements are ``-1``. An empty shape has no windows.
    """
    if not shape:
        return torch.zeros((1, 1), dtype=torch.long)
    if not math.prod(shape):
        return torch.zeros((0, math.prod(window)), dtype=torch.long)
    size = torch.tensor(shape)
    steps = torch.tensor([int(size[d + 1 :].prod()) for d in range(len(shape))])

    def grid(ranges: list[Tensor]) -> Tensor:
        return torch.stack(torch.meshgrid(*ranges, indexing="ij"), -1).reshape(-1, len(ranges))

    starts = grid([torch.arange(0, s * math.ceil((n - w) / s) + 1, s) for n, w, s in zip(shape, window, strides)])
    coordinates = starts[:, None, :] + grid([torch.arange(w) for w in window])[None, :, :]
    return torch.where((coordinates < size).all(-1), coordinates @ steps, -1)


def _per_input(spec: Any, points: Points, name: str, default: int) -> list[Shape]:
    """One tuple of ints per input from a spec for one input, one per input, or (strides) one int."""
    if spec is None or (isinstance(spec, int) and not isinstance(spec, bool)):
        return [(default if spec is None else spec,) * (x.dim() - 1) for x in points]
    if isinstance(spec, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in spec) and len(points) == 1:
        return [spec]
    if isinstance(spec, tuple) and len(spec) == len(points):
        return [(s,) * (x.dim() - 1) if isinstance(s, int) and not isinstance(s, bool) else s for s, x in zip(spec, points)]
    raise InvalidInputError(f"{name} must give one tuple of ints per input ({len(points)} inputs), got {spec!r}")


def _check_windows(points: Points, windows: list[Shape], strides: list[Shape]) -> None:
    for position, (x, window, stride) in enumerate(zip(points, windows, strides)):
        shape = tuple(x.shape[1:])
        for name, spec in (("sliding_window_shapes", window), ("strides", stride)):
            if (
                not isinstance(spec, tuple)
                or len(spec) != len(shape)
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in spec)
            ):
                raise InvalidInputError(
                    f"{name} for input {position} must be {len(shape)} positive ints, one per dimension of an example "
                    f"(shape {shape}), got {spec!r}"
                )
        if not math.prod(shape):
            continue
        if any(w > n for w, n in zip(window, shape)):
            raise InvalidInputError(f"the window {window} for input {position} is larger than an example of it, {shape}")
        if any(s > w and w < n for w, s, n in zip(window, stride, shape)):
            raise InvalidInputError(
                f"the strides {stride} for input {position} are longer than its window {window} along some dimension, "
                "so the elements between windows would never be occluded (and would score 0). Use strides no "
                "longer than the window"
            )


@dataclass(frozen=True)
class OcclusionOptions(MethodOptions):
    """Occlusion's options: the ``sliding_window_shapes`` and their ``strides`` (checked against the inputs)."""

    sliding_window_shapes: WindowSpec = None
    strides: StrideSpec = 1


class Occlusion(PerturbationMethod[OcclusionOptions]):
    """Occlusion with sliding windows: ``sliding_window_shapes`` (one tuple per input, over the
    dimensions of one example) moved by ``strides`` (an int, or tuples like the windows; 1 by default).

    Without windows each element is occluded alone (leave-one-out per element). Occluded
    elements take the baseline's values. ``input_value`` is ``f(x)``.
    """

    name = "occlusion"
    options_type = OcclusionOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        sliding_window_shapes: WindowSpec = None,
        strides: StrideSpec = 1,
        **common: Unpack[PerturbationKwargs],
    ) -> Attribution:
        """Occlusion scores for every element of ``inputs`` (see :class:`PerturbationMethod`)."""
        return self._run(inputs, baselines, target, self.make_options(sliding_window_shapes=sliding_window_shapes, strides=strides), common)

    def _features(self, feature_mask: FeatureMask, points: Points) -> Features:
        return element_features(points)

    def _prepare(self, features: Features, options: OcclusionOptions) -> Tensor:
        """Every window of every input as a row of element (feature) columns, padded with the no-feature column."""
        points = features.ids
        windows = _per_input(options.sliding_window_shapes, points, "sliding_window_shapes", 1)
        strides = _per_input(options.strides, points, "strides", 1)
        _check_windows(points, windows, strides)
        tables, offset = [], 0
        for x, window, stride in zip(points, windows, strides):
            elements = window_elements(tuple(x.shape[1:]), window, stride)
            tables.append(torch.where(elements >= 0, elements + offset, -1))
            offset += x[0].numel()
        widest = max(t.shape[1] for t in tables)
        padded = torch.cat([torch.nn.functional.pad(t, (0, widest - t.shape[1]), value=-1) for t in tables])
        return torch.where(padded >= 0, padded, offset)

    def _scores(self, evaluator: CoalitionEvaluator, table: Tensor) -> Scores:
        width = evaluator.features.width
        count = evaluator.features.counts.shape[0]
        rows_each = table.shape[0] + 1
        window = positions_in_groups(torch.full((count,), rows_each)) - 1  # -1: the input itself
        table = torch.cat([table, torch.full((1, table.shape[1]), width)])  # row -1: occludes nothing

        def coalitions(rows: Tensor) -> Tensor:
            return torch.ones((rows.shape[0], width + 1), dtype=torch.bool).scatter_(1, table[window[rows]], False)[:, :width]

        values = evaluator.lazy(torch.arange(count).repeat_interleave(rows_each), coalitions).reshape(count, rows_each)
        drops = values[:, :1] - values[:, 1:]
        covered = table[:-1].flatten()
        sums = torch.zeros((count, width + 1), dtype=torch.float64).index_add_(1, covered, drops.repeat_interleave(table.shape[1], 1))
        times = torch.bincount(covered, minlength=width + 1).double()
        scores = torch.where(times > 0, sums / times.clamp(min=1), 0.0)[:, :width]
        return Scores(scores, input_value=values[:, 0])
