"""A method instance probes its forward once per input signature; later calls skip the probe and the memory measurement."""

import gc
import weakref

import pytest
import torch

from limelight import FeatureAblation, IntegratedGradients, LayerIntegratedGradients
from limelight.engine.memo import ProbeMemo
from limelight.errors import BatchDependenceError

from .models import MLP, TokenModel
from .test_forward_calls import Counting


def test_a_second_call_runs_no_probe_forwards():
    model = Counting(MLP().eval())
    method = IntegratedGradients(model)
    first = method.attribute(torch.randn(3, 6), target=0, n_steps=10, rule="riemann_trapezoid")
    assert model.rows == [2, 2, 4, 1, 2, 30]
    model.rows.clear()
    method.attribute(torch.randn(2, 6), target=0, n_steps=10, rule="riemann_trapezoid")
    assert model.rows == [20]
    assert first.attributions.shape == (3, 6)


def test_the_remembered_verdict_gives_the_same_numbers_as_a_fresh_method():
    model = TokenModel().eval()
    ids, base = torch.tensor([[1, 4, 7, 2]]), torch.tensor([[1, 0, 0, 2]])
    method = LayerIntegratedGradients(model, model.embedding)
    method.attribute(torch.tensor([[1, 5, 2]]), torch.tensor([[1, 0, 2]]), target=1)
    again = method.attribute(ids, base, target=1)
    fresh = LayerIntegratedGradients(model, model.embedding).attribute(ids, base, target=1)
    assert torch.equal(again.attributions, fresh.attributions) and torch.equal(again.delta, fresh.delta)


def test_a_longer_input_rescales_the_measured_row_and_a_much_longer_one_is_measured_again():
    memo, measured = ProbeMemo(), []

    def measure(value):
        return lambda: measured.append(value) or value

    assert memo.bytes_per_row("k", 10, measure(1000)) == 1000
    assert memo.bytes_per_row("k", 5, measure(0)) == 500  # shorter: linear, an overestimate
    assert memo.bytes_per_row("k", 20, measure(0)) == 4000  # up to twice as long: quadratic, an overestimate
    assert memo.bytes_per_row("k", 21, measure(2500)) == 2500  # longer still: measured
    assert measured == [1000, 2500]


def test_a_failed_probe_is_not_remembered_as_passed():
    memo, calls = ProbeMemo(), []

    def broken():
        calls.append(1)
        raise RuntimeError("broken")

    for _ in range(2):
        try:
            memo.check_once("k", broken)
        except RuntimeError:
            pass
    assert len(calls) == 2


@pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")
def test_without_eval_mode_a_mode_change_probes_again():
    model = Counting(MLP().eval())
    method = IntegratedGradients(model, eval_mode=False)
    x = torch.randn(2, 6)
    method.attribute(x, target=0, n_steps=4, rule="riemann_trapezoid", internal_batch_size=100)
    model.rows.clear()
    model.train()
    method.attribute(x, target=0, n_steps=4, rule="riemann_trapezoid", internal_batch_size=100)
    assert model.rows == [2, 2, 4, 8]


def test_perturbation_methods_probe_once_too():
    model = Counting(MLP().eval())
    method = FeatureAblation(model)
    method.attribute(torch.randn(2, 6), target=0)
    model.rows.clear()
    method.attribute(torch.randn(2, 6), target=0)
    assert model.rows == [14]


def test_perturbation_chunks_are_capped_on_cpu_without_changing_results():
    from limelight.engine.chunking import CPU_FORWARD_ROWS

    model = Counting(MLP(features=50).double().eval())
    method = FeatureAblation(model)
    x = torch.randn(2, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    capped = method.attribute(x, target=0)
    model.rows.clear()
    method.attribute(x, target=0)
    assert model.rows == [CPU_FORWARD_ROWS] * 3 + [102 - 3 * CPU_FORWARD_ROWS]
    whole = method.attribute(x, target=0, internal_batch_size=1000)
    torch.testing.assert_close(capped.attributions, whole.attributions, rtol=1e-12, atol=1e-14)  # rounding of other batch sizes only


class Mixing(torch.nn.Module):
    """Adds the batch mean to every row when ``mix`` is set: a forward whose rows stop being independent."""

    def __init__(self):
        super().__init__()
        self.mix = False

    def forward(self, x):
        return x + x.mean(0, keepdim=True) if self.mix else x


def _mixing_now():
    module = Mixing()
    module.mix = True
    return module


def _mixable():
    model = Counting(torch.nn.Sequential(MLP().eval(), Mixing()))
    return model, model.inner[1]


def test_a_new_method_on_the_same_model_runs_no_probe_forwards():
    model = Counting(MLP().eval())
    x = torch.randn(2, 6)
    first = IntegratedGradients(model).attribute(x, target=0, n_steps=10, rule="riemann_trapezoid")
    model.rows.clear()
    second = IntegratedGradients(model).attribute(x, target=0, n_steps=10, rule="riemann_trapezoid")
    assert model.rows == [20]
    assert torch.equal(first.attributions, second.attributions) and torch.equal(first.delta, second.delta)


@pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")
def test_the_memo_is_per_method_type_and_per_output_spec():
    def rows_of(model, method):
        model.rows.clear()
        method.attribute(x, target=0, n_steps=4, rule="riemann_trapezoid")
        return list(model.rows)

    x = torch.randn(2, 6)
    doubled = lambda y: y * 2  # noqa: E731
    fresh = Counting(MLP().eval())
    model = Counting(MLP().eval())
    rows_of(model, IntegratedGradients(model))
    probed = rows_of(model, IntegratedGradients(model, output=doubled))
    assert probed == rows_of(fresh, IntegratedGradients(fresh, output=doubled)) and len(probed) > 1  # another output spec: probed again
    assert len(rows_of(model, IntegratedGradients(model, output=doubled))) == 1  # the same spec again: no probe
    model.rows.clear()
    FeatureAblation(model).attribute(x, target=0)
    assert len(model.rows) > 1  # another method probes its own way


@pytest.mark.parametrize(
    "change",
    [
        lambda model, mixing: setattr(mixing, "mix", True),
        lambda model, mixing: model.inner.append(_mixing_now()),
        lambda model, mixing: mixing.register_forward_hook(lambda m, args, out: out + out.mean(0, keepdim=True)),
        lambda model, mixing: setattr(mixing, "forward", lambda x: x - x.mean(0, keepdim=True)),
    ],
    ids=["flag", "new submodule", "hook", "instance forward"],
)
def test_a_model_whose_forward_changed_is_probed_again(change):
    model, mixing = _mixable()
    x = torch.randn(2, 6)
    IntegratedGradients(model).attribute(x, target=0, n_steps=4)
    change(model, mixing)
    with pytest.raises(BatchDependenceError):
        IntegratedGradients(model).attribute(x, target=0, n_steps=4)


def test_a_broken_forward_raises_on_every_call_and_a_repaired_one_passes():
    model, mixing = _mixable()
    mixing.mix = True
    x = torch.randn(2, 6)
    for _ in range(2):
        with pytest.raises(BatchDependenceError):
            IntegratedGradients(model).attribute(x, target=0, n_steps=4)
    mixing.mix = False
    IntegratedGradients(model).attribute(x, target=0, n_steps=4)


@pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")
def test_a_forward_holding_an_opaque_value_keeps_a_memo_per_method():
    model = Counting(MLP().eval())
    scale = torch.tensor(2.0)  # a tensor's values can change in place: no key can vouch for it
    x = torch.randn(2, 6)
    seen = []
    for _ in range(2):
        model.rows.clear()
        IntegratedGradients(lambda inputs: model(inputs) * scale).attribute(x, target=0, n_steps=4, rule="riemann_trapezoid")
        seen.append(list(model.rows))
    assert seen[0] == seen[1] and len(seen[1]) > 1


def test_the_shared_memo_does_not_keep_the_model_alive():
    model = MLP().eval()
    IntegratedGradients(model).attribute(torch.randn(2, 6), target=0, n_steps=4)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


def test_explain_twice_on_a_transformer_probes_once(monkeypatch):
    from limelight import explain
    from limelight.engine.gradient import method as gradient_method
    from tests.text.tiny_models import tiny_classifier

    probes = []
    for name in ("check_forward", "measure_row_bytes"):
        original = getattr(gradient_method, name)
        monkeypatch.setattr(gradient_method, name, lambda *args, original=original, name=name: probes.append(name) or original(*args))
    model, tokenizer = tiny_classifier("bert")
    rows = []
    model.get_input_embeddings().register_forward_pre_hook(lambda module, args: rows.append(args[0].shape[0]))
    for method, options in (("lrp", {}), ("deeplift", {}), ("integrated_gradients", {"n_steps": 4})):
        runs = []
        for _ in range(2):
            rows.clear(), probes.clear()
            explanation = explain(model, tokenizer, "a quiet triumph", method=method, **options)
            runs.append((list(rows), list(probes), [s.score for s in explanation.word_spans]))
        (first_rows, first_probes, first_scores), (rows_again, probes_again, scores_again) = runs
        assert first_probes == ["check_forward", "measure_row_bytes"] and probes_again == [], method
        assert sum(rows_again) < sum(first_rows) and scores_again == first_scores, method
