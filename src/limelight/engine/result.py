"""The result of an attribution: the scores, the evidence of how they were computed, and the settings used."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor

from .evidence import BatchEvidence, Evidence
from .inputs import Inputs
from .options import MethodOptions


@dataclass(frozen=True)
class AdaptiveExtras:
    """Integrated gradients with ``n_steps="auto"``: the nodes (alphas) of each example's refined path."""

    alphas: list[list[float]]


@dataclass(frozen=True)
class NoiseTunnelExtras:
    """A noise tunnel: the wrapped method's delta for every noisy sample, ``(N, nt_samples)`` (if it has one)."""

    sample_delta: Tensor | None


@dataclass(frozen=True)
class SurrogateFit:
    """The fit of a surrogate model per example: weighted ``r2`` and, for LIME, the ``intercept``."""

    r2: Tensor
    intercept: Tensor | None = None


@dataclass(frozen=True)
class PerturbationExtras:
    """A perturbation method's per-feature view of its result.

    ``feature_scores`` ``(N, F)`` (zero past an example's own count, ``n_features``),
    ``evaluations`` the number of perturbed rows evaluated, and ``fit`` the surrogate's fit
    (KernelSHAP, LIME). ``standard_errors`` ``(N, F)`` estimates the sampling error of each score
    (sampled Shapley estimators; 0 where a score is exact, NaN where it cannot be estimated).
    """

    feature_scores: Tensor
    n_features: Tensor
    evaluations: int
    fit: SurrogateFit | None = None
    standard_errors: Tensor | None = None


Extras = AdaptiveExtras | NoiseTunnelExtras | PerturbationExtras
"""Method-specific evidence, one typed record per family."""


@dataclass(frozen=True)
class Attribution:
    """Attributions shaped like the inputs (or the layer), with their evidence and settings.

    ``method`` is the method's ``name`` (its key in :mod:`limelight.engine.names`); ``evidence``
    the completeness evidence per example (see :mod:`limelight.engine.evidence`; its fields are
    also readable here: ``result.delta``, ``result.n_steps``, ...); ``settings`` the method's
    options as used (the integration ``rule``, the ``seed`` a sampled method drew, ...);
    ``extras`` method-specific evidence (:data:`Extras`).
    """

    attributions: Inputs
    method: str
    evidence: BatchEvidence = field(default_factory=Evidence)
    settings: MethodOptions = field(default_factory=MethodOptions)
    extras: Extras | None = None

    @property
    def delta(self) -> Tensor | None:
        """Completeness error per example (see :mod:`limelight.engine.evidence`)."""
        return self.evidence.delta

    @property
    def input_value(self) -> Tensor | None:
        """The explained scalar at each input."""
        return self.evidence.input_value

    @property
    def baseline_value(self) -> Tensor | None:
        """The explained scalar at each baseline."""
        return self.evidence.baseline_value

    @property
    def n_steps(self) -> Tensor | None:
        """Path points each example's integral used."""
        return self.evidence.n_steps

    @property
    def converged(self) -> Tensor | None:
        """Whether each example's ``|delta|`` met the tolerance."""
        return self.evidence.converged

    @property
    def tolerance(self) -> float | None:
        """The relative completeness tolerance aimed for."""
        return self.evidence.tolerance

    @property
    def seed(self) -> int | None:
        """The seed a sampled method used (``None`` for deterministic methods)."""
        return self.settings.seed
