"""A forward bound to one attribution call: extra arguments, output reading and target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from torch import Tensor

from .forward import OutputSpec, check_rows, read_output
from .inputs import ForwardArgs
from .targets import Target


@dataclass(frozen=True)
class BoundModel:
    """``values(inputs_rows, example_index)`` gives the explained scalar of each evaluated row."""

    forward: Callable[..., Any]
    output: OutputSpec
    args: ForwardArgs
    target: Target

    def outputs(self, inputs_rows: tuple[Tensor, ...], example_index: Tensor) -> Tensor:
        """The full explained output tensor (rows, ...) for rows drawn from the given examples."""
        args, kwargs = self.args.for_rows(example_index)
        output = read_output(self.forward(*inputs_rows, *args, **kwargs), self.output)
        check_rows(output, example_index.shape[0])
        return output

    def values(self, inputs_rows: tuple[Tensor, ...], example_index: Tensor) -> Tensor:
        """The target's value for each row."""
        return self.target.select(self.outputs(inputs_rows, example_index), example_index)

    def observed(self, observe: Callable[[Any], None]) -> BoundModel:
        """The same model handing every raw forward output to ``observe`` (a caller reads the prediction from it)."""
        forward = self.forward

        def run(*args: Any, **kwargs: Any) -> Any:
            raw = forward(*args, **kwargs)
            observe(raw)
            return raw

        return replace(self, forward=run)

    def expand(self, repeats: int) -> BoundModel:
        """The same model for inputs whose every example is repeated ``repeats`` times in a row."""
        return replace(self, args=self.args.expand(repeats), target=self.target.expand(repeats))
