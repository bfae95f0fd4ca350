"""Exception and warning types raised by limelight.

Every error raised at the public API boundary is a subclass of :class:`LimelightError`,
so callers can catch limelight's complaints without catching unrelated bugs. Each class
also derives from the built-in type a Python user would expect (``ValueError``, ...).
"""

from __future__ import annotations


class LimelightError(Exception):
    """Base class of every error limelight raises on purpose."""


class InvalidInputError(LimelightError, ValueError):
    """Inputs, baselines or options have the wrong shape, type or value."""


class UsageError(InvalidInputError):
    """A command was given nothing to work on (no texts); the ``limelight`` command exits with status 2."""


class TargetError(LimelightError, ValueError):
    """The target does not name a valid output (out of range, wrong length, unknown label)."""


class ForwardError(LimelightError, RuntimeError):
    """The forward function breaks a contract attribution relies on."""


class BatchDependenceError(ForwardError):
    """An output row depends on other rows of the batch (e.g. ``[0]`` indexing, batch statistics)."""


class OutputShapeError(BatchDependenceError):
    """The forward's output does not have one row per input row (so rows cannot be independent)."""


class NonFiniteError(LimelightError, FloatingPointError):
    """NaN or infinity appeared in the model's output or in a gradient."""


class LayerError(LimelightError, RuntimeError):
    """A layer hook could not capture or replace the layer's value."""


class MissingDependencyError(LimelightError, ImportError):
    """An optional dependency a feature needs is not installed; the message names the extra to install."""


class MissingViewError(LimelightError, LookupError):
    """No view of a result type is registered: the package that draws it (``limelight.viz``, ``limelight.evaluation``) was not imported."""


class DemoModelError(LimelightError):
    """The embedded demo model's files do not match what limelight expects (reinstall to fix)."""


class ConvergenceWarning(UserWarning):
    """An integral did not reach its tolerance within the allowed number of steps."""


class ContrastWarning(UserWarning):
    """A contrast label equals the target, so target minus contrast is zero and every score is zero."""


class TrainingModeWarning(UserWarning):
    """The model was in training mode; limelight attributed in eval mode and restored the mode."""


class TokenizerWarning(UserWarning):
    """Most of a text's words are the tokenizer's unknown token: the model cannot read it (wrong tokenizer or language)."""


class MemoryBudgetWarning(UserWarning):
    """One row needs more memory than ``memory_budget``: chunks of one row are used and the peak exceeds the budget."""
