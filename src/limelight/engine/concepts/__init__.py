"""Concepts inside a model: concept activation vectors and TCAV (Kim et al., 2018), for any modality."""

from .cav import CAV, fit_cav
from .concept import Concept, ModelInputs
from .result import TCAVResult
from .stats import TTest, bonferroni, t_two_sided, welch_t_test
from .tcav import TCAV

__all__ = ["CAV", "TCAV", "Concept", "ModelInputs", "TCAVResult", "TTest", "bonferroni", "fit_cav", "t_two_sided", "welch_t_test"]
