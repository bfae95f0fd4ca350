"""The text result type: one evidence record, read through properties, and its JSON layout."""

from __future__ import annotations

import dataclasses
import json

import pytest

from limelight.engine.evidence import Evidence
from limelight.errors import InvalidInputError
from limelight.text.erasure import Erasure
from limelight.text.explanation import FORMAT_VERSION, Explanation, Span


def explanation(**fields) -> Explanation:
    words = [Span("fine", 0, 4, 0.75, token_indices=(1,))]
    values = {"evidence": Evidence(delta=0.01, input_value=1.25, baseline_value=0.5, n_steps=32, tolerance=0.01), **fields}
    return Explanation("fine", words, words, "good", {"good": 0.9, "bad": 0.1}, "good", **values)


def test_evidence_fields_read_through_properties_and_converged_is_filled_in():
    result = explanation()
    assert (result.delta, result.input_value, result.baseline_value, result.n_steps, result.tolerance) == (0.01, 1.25, 0.5, 32, 0.01)
    assert result.delta_bound == pytest.approx(0.01 * 0.75 + 1e-4)
    assert result.converged is False  # 0.01 > 0.0076
    assert explanation(evidence=Evidence(delta=0.001, tolerance=1.0, input_value=1.0, baseline_value=0.0)).converged is True
    assert explanation(evidence=Evidence()).converged is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.evidence.delta = 0.0  # type: ignore[misc]


def test_json_keeps_evidence_in_one_record_and_round_trips():
    result = explanation()
    data = json.loads(result.to_json())
    assert data["format_version"] == FORMAT_VERSION == 2
    assert data["evidence"] == {
        "delta": 0.01,
        "input_value": 1.25,
        "baseline_value": 0.5,
        "n_steps": 32,
        "converged": False,
        "tolerance": 0.01,
    }
    assert "target_value" not in data and "delta" not in data
    assert Explanation.from_json(result.to_json()) == result


def test_format_1_files_are_still_read():
    data = json.loads(explanation().to_json())
    evidence = data.pop("evidence")
    data.update(format_version=1, target_value=evidence["input_value"], baseline_value=0.5, delta=0.01, n_steps=32, tolerance=0.01)
    assert Explanation.from_dict(data) == explanation()


def test_unknown_fields_and_versions_are_refused():
    data = json.loads(explanation().to_json())
    with pytest.raises(InvalidInputError, match="unknown evidence fields"):
        Explanation.from_dict({**data, "evidence": {**data["evidence"], "size": 3}})
    with pytest.raises(InvalidInputError, match="format_version 9"):
        Explanation.from_dict({**data, "format_version": 9})


def test_the_baseline_names_its_erasure():
    assert explanation(baseline="pad").erasure == Erasure.PAD
    assert explanation(baseline="delete").erasure == Erasure.DELETE
    assert explanation(baseline="zero").erasure is None and explanation(baseline="custom ids").erasure is None
