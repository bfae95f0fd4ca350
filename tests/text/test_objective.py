"""A text explanation names the objective it explained, rebuilt for its metrics."""

from __future__ import annotations

from limelight.engine.objective import Objective
from limelight.text.explanation import Explanation
from limelight.text.objective import objective_of


def test_an_explanation_names_its_objective():
    explanation = Explanation("text", [], [], "b", {"a": 0.5, "b": 0.5}, target_label="b", contrast_label="a", quantity="log_probability")
    assert objective_of(explanation, ["a", "b"]) == Objective(1, "log_probability", 0)
    assert objective_of(explanation, ["a", "b"], "probability").quantity == "probability"
