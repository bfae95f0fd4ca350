"""The metric registry: every metric computes itself, ``compare`` iterates it, shared work runs once."""

from __future__ import annotations

import numpy as np
import pytest

from limelight import _display
from limelight.errors import InvalidInputError
from limelight.evaluation import DEFAULT_METRICS, METRICS, Metric, MetricContext, MetricSettings, Rationale, WordEraser, compare
from limelight.evaluation import metrics as metrics_module
from limelight.evaluation.bootstrap import estimate, resample_indices
from limelight.evaluation.recommendation import recommend
from tests.evaluation.models import TEXTS, hand_explanation, input_only_explainer, perfect_scores


def _rationales() -> list[Rationale]:
    return [Rationale(t, "word", ((t.index("film"), t.index("film") + 4),)) for t in TEXTS]


def test_every_metric_computes_its_own_column(one_word):
    model, tokenizer = one_word
    explanations = [hand_explanation(tokenizer, t, perfect_scores(t)) for t in TEXTS]
    eraser = WordEraser(model, tokenizer)
    context = MetricContext(
        model,
        tokenizer,
        eraser,
        eraser.prepare(explanations),
        explanations,
        input_only_explainer(tokenizer),
        _rationales(),
        MetricSettings(),
    )
    for name, metric in METRICS.items():
        assert metric.name == name and metric.label and metric.family
        values = np.asarray(metric.compute(context), dtype=np.float64)
        assert values.shape == (len(TEXTS),), name
    np.testing.assert_allclose(METRICS["comprehensiveness"].compute(context), 5.0)
    np.testing.assert_allclose(METRICS["auprc"].compute(context), 1.0)
    assert DEFAULT_METRICS == tuple(n for n, m in METRICS.items() if m.by_default and not m.re_explains and not m.needs_rationales)
    assert "words_to_flip" in METRICS and "words_to_flip" not in DEFAULT_METRICS


def test_shared_computations_run_once_per_context(one_word, monkeypatch):
    model, tokenizer = one_word
    calls = []
    original = metrics_module.plausibility

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(metrics_module, "plausibility", counted)
    methods = {"ig": "integrated_gradients", "lengths": input_only_explainer(tokenizer)}
    result = compare(
        model, tokenizer, None, methods, metrics=["f1", "iou", "auprc"], rationales=_rationales(), primary="f1", n_bootstrap=20
    )
    assert len(calls) == len(methods)  # one plausibility pass per method, for three metrics
    assert result.metrics == ("f1", "iou", "auprc")


def test_compare_reports_what_the_registry_computes(one_word, monkeypatch):
    model, tokenizer = one_word
    constant: Metric[MetricContext] = Metric("constant", "a constant", True, "faithfulness", lambda c: np.full(len(c.explanations), 7.0))
    monkeypatch.setitem(METRICS, "constant", constant)
    result = compare(model, tokenizer, list(TEXTS), ["saliency"], metrics=["comprehensiveness", "constant"], n_bootstrap=20)
    assert result.metrics == ("comprehensiveness", "constant")
    np.testing.assert_allclose(result.results["saliency"].values["constant"], 7.0)
    assert "a constant ↑" in result.to_markdown()


def test_recommendation_reads_only_the_metrics_it_is_given():
    indices = resample_indices(4, 200, seed=0)
    low_wins = Metric("error", "error", False, "faithfulness", lambda c: c)
    values = {"a": {"error": np.array([0.1, 0.2, 0.1, 0.2])}, "b": {"error": np.array([0.9, 0.8, 0.9, 0.8])}}
    summaries = {m: {"error": estimate(v["error"], indices)} for m, v in values.items()}
    text = recommend(summaries, values, {"error": low_wins}, "error", indices)
    assert text.startswith("a is the most faithful by error") and "significant" in text


def test_a_missing_view_is_named():
    with pytest.raises(LookupError, match="'markdown' view of object"):
        _display.render(object(), "markdown")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"rank_by": "loudest"}, "rank_by"),
        ({"curve_steps": 0}, "curve_steps"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_sensitivity_samples": True}, "n_sensitivity_samples"),
    ],
)
def test_bad_metric_settings_are_refused_before_anything_runs(one_word, settings, message):
    model, tokenizer = one_word
    with pytest.raises(InvalidInputError, match=message):
        MetricSettings(**settings)
    with pytest.raises(InvalidInputError, match=message):
        compare(model, tokenizer, list(TEXTS), ["saliency"], **settings)
    assert model.calls == 0
