"""``explain``: a string in, honest word scores out.

The pipeline runs one way: texts -> encodings (never truncated; long texts become windows) ->
padded batches sorted by length -> predictions -> attributions at the word-embedding layer ->
token scores -> words -> :class:`Explanation`. Position and token-type embeddings, attention
masks and special tokens stay as in the input; only word embeddings move along the path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import torch
from torch import Tensor, nn

from .._progress import progress
from .._warnings import warn
from ..engine.evidence import Evidence, ExampleEvidence
from ..engine.objective import Objective, check_quantity, output_transform
from ..errors import ContrastWarning, InvalidInputError, TargetError
from .baselines import BaselineLike, BaselineSpec, baseline_ids
from .checks import check_method_options, check_texts, check_tokenizer_fits, check_unknown_rate
from .encoding import Encoding, PaddedBatch, encode_batch
from .erasure import Erasure, pad_token_id
from .explanation import Explanation, Explanations
from .labels import LabelSpec, model_labels, resolve_label
from .loading import load_local
from .methods import TEXT_METHODS, Batch, PerturbationTextMethod, Setting, text_method_name
from .runner import Piece, TextRunner, input_embeddings, mean_over_windows
from .windows import WindowPlan, stitch
from .words import GROUPINGS, POOLINGS, group_words, token_spans, word_spans

Texts = str | Sequence[str]
Targets = LabelSpec | Sequence[LabelSpec]


@dataclass(frozen=True)
class _Scored:
    """Token scores and evidence for one unit."""

    scores: Tensor
    evidence: ExampleEvidence


class TextExplainer:
    """Explain a Hugging Face sequence classifier's predictions for texts, word by word.

    ``model`` is a ``*ForSequenceClassification`` model (or a local directory to load one from).
    Settings given here apply to every :meth:`explain` call: the ``method``, by its engine name
    (:mod:`limelight.engine.names`; ``"integrated_gradients"`` by default; also ``"input_x_gradient"``,
    ``"saliency"``, ``"noise_tunnel"`` (SmoothGrad, alias ``"smoothgrad"``), and the perturbation
    methods ``"feature_ablation"``, ``"occlusion"``, ``"shapley_values"`` (alias ``"shapley"``),
    ``"shapley_value_sampling"`` (alias ``"shapley_sampling"``: Shapley values estimated by the most
    accurate sampler per model evaluation, KernelSHAP with stratified paired sampling, see
    benchmarks/README.md), ``"kernel_shap"``, ``"lime"``, which take words as features;
    explanations record the method, and in ``method_settings`` the engine method that ran
    (``engine_method``) with its options), the ``baseline`` (``"pad"``,
    ``"mask"``, ``"unk"``, ``"zero"`` (gradient methods), ``"delete"`` (perturbation methods), a
    string or token ids), the explained ``quantity`` (``"logit"``, ``"probability"``,
    ``"log_probability"``), how tokens form ``words`` (``"tokenizer"`` or ``"whitespace"``) and how
    their scores are ``pooling`` (by default ``"sum"`` for additive methods, which keeps
    completeness at word level, and ``"max"`` for unsigned gradient sizes (saliency, smoothgrad),
    where a sum would favour words of many pieces). ``batch_size`` texts go through the model together; ``max_length`` defaults
    to the model's limit, beyond which texts are explained in overlapping windows.
    Remaining keyword arguments go to the method (e.g. ``n_steps=50``, ``tolerance=1e-3``,
    ``internal_batch_size=...``; the integration rule of integrated gradients is ``rule=``,
    e.g. ``rule="riemann_trapezoid"``).
    """

    def __init__(
        self,
        model: nn.Module | str | os.PathLike[str],
        tokenizer: Any = None,
        *,
        method: str = "integrated_gradients",
        baseline: BaselineLike = "pad",
        quantity: str = "logit",
        words: str = "tokenizer",
        pooling: str | None = None,
        batch_size: int = 16,
        max_length: int | None = None,
        window_overlap: int | None = None,
        show_progress: bool | None = None,
        **method_options: Any,
    ) -> None:
        if isinstance(model, (str, os.PathLike)):
            model, loaded_tokenizer = load_local(model)
            tokenizer = tokenizer or loaded_tokenizer
        if not isinstance(model, nn.Module) or not hasattr(model, "get_input_embeddings"):
            raise InvalidInputError("model must be a Hugging Face classifier (with get_input_embeddings()) or a local model directory")
        self._labels = model_labels(model)
        if tokenizer is None:
            raise InvalidInputError("pass the model's tokenizer (a fast Hugging Face tokenizer)")
        if words not in GROUPINGS or (pooling is not None and pooling not in POOLINGS):
            raise InvalidInputError(f"words must be one of {GROUPINGS} and pooling one of {POOLINGS}; got {words!r}, {pooling!r}")
        self.runner = TextRunner(model, tokenizer, batch_size=batch_size, max_length=max_length, window_overlap=window_overlap)
        self.model, self.tokenizer = model, tokenizer
        self.method_name = text_method_name(method)
        self.method = TEXT_METHODS[self.method_name]
        self.baseline = _check_baseline(BaselineSpec.parse(baseline), self.method, method)
        self.quantity = _check_quantity_for(check_quantity(quantity), len(self._labels))
        self.words = words
        self.pooling = pooling or ("sum" if self.method.additive else "max")
        self.show_progress = show_progress
        self.options = {**self.method.defaults, **method_options}
        self.layer = input_embeddings(model)
        check_tokenizer_fits(self.layer, tokenizer)
        self.pad_id = pad_token_id(tokenizer)
        setting = Setting(model, self.layer, output_transform(self.quantity), self.pad_id, self.baseline.erasure == Erasure.DELETE)
        self._engine = self.method.build(setting)
        check_method_options(self._engine, method_options, self.method_name)
        self._settings = {
            "method": method,
            "baseline": baseline,
            "quantity": quantity,
            "words": words,
            "pooling": pooling,
            "batch_size": batch_size,
            "max_length": max_length,
            "window_overlap": window_overlap,
            "show_progress": show_progress,
            **method_options,
        }

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **settings: Any) -> TextExplainer:
        """An explainer for the classifier saved in a local directory."""
        return cls(path, **settings)

    @property
    def labels(self) -> list[str]:
        """The model's label names, in class-index order."""
        return list(self._labels)

    @overload
    def explain(  # type: ignore[overload-overlap]  # a str is also a Sequence[str]; this first overload wins for it
        self, texts: str, text_pairs: str | None = None, *, target: Targets = None, contrast: LabelSpec = None
    ) -> Explanation: ...

    @overload
    def explain(
        self, texts: Sequence[str], text_pairs: Sequence[str] | None = None, *, target: Targets = None, contrast: LabelSpec = None
    ) -> Explanations: ...

    def explain(
        self,
        texts: Texts,
        text_pairs: Texts | None = None,
        *,
        target: Targets = None,
        contrast: LabelSpec = None,
    ) -> Explanation | Explanations:
        """Explain one text (returns an :class:`Explanation`) or many (returns :class:`Explanations`).

        ``target`` is a label name or index (or one per text); by default the predicted class at the
        input. ``contrast`` explains the target's score minus this label's: why one class rather than
        the other.
        """
        single = isinstance(texts, str)
        items = check_texts(texts, "texts")
        pairs = None if text_pairs is None else check_texts(text_pairs, "text_pairs")
        encodings = encode_batch(self.tokenizer, items, pairs)
        if not encodings:
            return Explanations()
        for number, encoding in enumerate(encodings):
            check_unknown_rate(self.tokenizer, encoding, number)
        plans = [self.runner.plan(e) for e in encodings]
        pieces = self.runner.pieces(encodings, plans)
        batches = self.runner.batches([p.encoding for p in pieces])
        logits = mean_over_windows(self.runner.forward(batches), [p.text for p in pieces], len(encodings))
        names = self.labels
        targets = _per_text_targets(target, len(items), names, logits)
        versus = None if contrast is None else resolve_label(contrast, names, "contrast")
        if versus is not None and versus in targets:
            same = [i for i, t in enumerate(targets) if t == versus]
            warn(
                f"the contrast label {names[versus]!r} is also the target of text(s) {same}: target minus itself is zero, "
                "so their scores are all zero; choose another contrast or target for them",
                ContrastWarning,
            )
        objectives = [Objective(t, self.quantity, versus) for t in targets]
        scored = self._attribute(pieces, self._baselines(encodings, pieces), batches, objectives)
        explanations = Explanations(
            self._assemble(e, plan, [scored[i] for i, p in enumerate(pieces) if p.text == t], logits[t], objectives[t])
            for t, (e, plan) in enumerate(zip(encodings, plans))
        )
        return explanations[0] if single else explanations

    def compare_baselines(
        self, text: str, baselines: Sequence[BaselineLike] = ("pad", "mask", "unk", "zero"), text_pair: str | None = None, **kwargs: Any
    ) -> Explanations:
        """Explain one text against several baselines, to see how much the choice matters."""
        explainers = [TextExplainer(self.model, self.tokenizer, **{**self._settings, "baseline": baseline}) for baseline in baselines]
        return Explanations(explainer.explain(text, text_pair, **kwargs) for explainer in explainers)

    def _baselines(self, encodings: list[Encoding], pieces: list[Piece]) -> list[tuple[int, ...] | None]:
        """Each piece's baseline ids: built on its whole text, then cut like the piece (``None`` without ids)."""
        if not self.method.uses_baseline:
            return [None] * len(pieces)
        full = [baseline_ids(self.tokenizer, encoding, self.baseline) for encoding in encodings]
        return [_cut(full[p.text], p.indices) for p in pieces]

    def _attribute(
        self, pieces: list[Piece], baselines: list[tuple[int, ...] | None], batches: list[PaddedBatch], objectives: list[Objective]
    ) -> list[_Scored]:
        scored: dict[int, _Scored] = {}
        for batch in progress(batches, len(batches), f"explaining ({self.method_name})", self.show_progress):
            members = [pieces[i] for i in batch.indices]
            target = Objective.engine_target([objectives[p.text] for p in members])
            token_scores, result = self.method.run(
                self._engine, self._batch(batch, members, [baselines[i] for i in batch.indices], target), self.options
            )
            for row, (index, scores) in enumerate(zip(batch.indices, batch.unpad(token_scores.cpu()))):
                scored[index] = _Scored(scores, result.evidence.row(row))
        return [scored[index] for index in range(len(pieces))]

    def _batch(self, batch: PaddedBatch, units: list[Piece], baselines: list[tuple[int, ...] | None], target: Any) -> Batch:
        """Move a padded batch to the model's device with its word index and baselines."""
        device = self.runner.device
        ids = batch.input_ids.to(device)
        word_index = batch.pad([_word_index(u.encoding, self.words) for u in units], -1).to(device)
        layer_baselines = baseline_ids = None
        if self.baseline.is_zero_embedding:
            keep = batch.pad([[1 if s else 0 for s in u.encoding.special_mask] for u in units], 1).to(device)
            with torch.no_grad():
                embedded = self.layer(ids)
            layer_baselines = embedded * keep.unsqueeze(-1).to(embedded.dtype)
        elif self.method.uses_baseline and self.baseline.erasure != Erasure.DELETE:
            baseline_ids = batch.pad([b or () for b in baselines], self.pad_id).to(device)
        kwargs = {k: v.to(device) for k, v in batch.model_inputs().items() if k != "input_ids"}
        return Batch(ids, kwargs, word_index, baseline_ids, layer_baselines, target)

    def _assemble(self, encoding: Encoding, plan: WindowPlan, parts: list[_Scored], logits: Tensor, objective: Objective) -> Explanation:
        names = self.labels
        scores = stitch(plan, [p.scores for p in parts]) if plan.is_windowed else parts[0].scores
        # Softmax over one output is constantly 1: a one-output (regression) model has no class probability to show.
        probabilities = {name: float(p) for name, p in zip(names, torch.softmax(logits, -1))} if len(names) > 1 else {}
        return Explanation(
            text=encoding.text,
            text_pair=encoding.text_pair,
            word_spans=word_spans(encoding, scores, self.words, self._word_pooling),  # type: ignore[arg-type]
            token_spans=token_spans(encoding, scores),
            predicted_label=names[int(logits.argmax())],
            probabilities=probabilities,
            target_label=names[objective.target],
            contrast_label=None if objective.contrast is None else names[objective.contrast],
            quantity=self.quantity,
            method=self.method_name,
            method_settings={"engine_method": self._engine.name, **{k: v for k, v in self.options.items() if _jsonable(v)}},
            baseline=self.baseline.describe() if self.method.uses_baseline else "none",
            evidence=self._evidence(parts, scores),
            windows=[(w.char_start, w.char_end) for w in plan.windows] if plan.is_windowed else [],
            window_evidence=[p.evidence for p in parts] if plan.is_windowed else [],
        )

    def _evidence(self, parts: list[_Scored], scores: Tensor) -> ExampleEvidence:
        """A text's evidence; for a windowed text (see :class:`Explanation`) values summed over windows, the stitched delta."""
        windows = [p.evidence for p in parts]
        if len(windows) == 1:
            only = windows[0]
            tolerance = self.options.get("tolerance") if only.delta is not None else None
            return Evidence(
                delta=only.delta,
                input_value=only.input_value,
                baseline_value=only.baseline_value,
                n_steps=only.n_steps,
                tolerance=tolerance,
            )
        inputs, bases = [e.input_value for e in windows], [e.baseline_value for e in windows]
        input_value = None if None in inputs else float(sum(v for v in inputs if v is not None))
        baseline_value = None if None in bases else float(sum(v for v in bases if v is not None))
        promised = input_value is not None and baseline_value is not None and all(e.delta is not None for e in windows)
        delta = float(scores.sum()) - (input_value or 0.0) + (baseline_value or 0.0) if promised else None
        return Evidence(
            delta=delta,
            input_value=input_value,
            baseline_value=baseline_value,
            n_steps=max((e.n_steps for e in windows if e.n_steps is not None), default=None),
            tolerance=self.options.get("tolerance") if delta is not None else None,
        )

    @property
    def _word_pooling(self) -> str:
        """Perturbation methods score words directly: their tokens share the score, so words sum them back."""
        return "sum" if isinstance(self.method, PerturbationTextMethod) else self.pooling


Model = nn.Module | str | os.PathLike[str]


@overload
def explain(
    model: Model,
    tokenizer: Any,
    texts: str,
    text_pairs: str | None = None,
    *,
    target: Targets = None,
    contrast: LabelSpec = None,
    method: str = "integrated_gradients",
    **settings: Any,
) -> Explanation: ...


@overload
def explain(
    model: Model,
    tokenizer: Any = None,
    texts: Sequence[str] = (),
    text_pairs: Sequence[str] | None = None,
    *,
    target: Targets = None,
    contrast: LabelSpec = None,
    method: str = "integrated_gradients",
    **settings: Any,
) -> Explanations: ...


def explain(
    model: Model,
    tokenizer: Any = None,
    texts: Texts = (),
    text_pairs: Texts | None = None,
    *,
    target: Targets = None,
    contrast: LabelSpec = None,
    method: str = "integrated_gradients",
    **settings: Any,
) -> Explanation | Explanations:
    """Explain ``texts`` with ``model`` in one call; see :class:`TextExplainer` for the settings."""
    explainer = TextExplainer(model, tokenizer, method=method, **settings)
    return explainer.explain(texts, text_pairs, target=target, contrast=contrast)


def _check_quantity_for(quantity: str, n_outputs: int) -> str:
    """Refuse a probability of a one-output model: softmax over one logit is constantly 1, so every score would be 0."""
    if n_outputs == 1 and quantity != "logit":
        raise InvalidInputError(
            f"the model has one output (a regression or single-logit model), so its {quantity} is a softmax over one "
            "value: constantly 1 (or 0 in log), and every score would be zero; explain quantity='logit' (its raw output)"
        )
    return quantity


def _per_text_targets(target: Targets, count: int, names: list[str], logits: list[Tensor]) -> list[int]:
    """One class per text: the given label(s), or the prediction at the input (fixed for the whole path)."""
    if target is None:
        return [int(value.argmax()) for value in logits]
    if isinstance(target, (str, int)):
        return [resolve_label(target, names)] * count
    if not isinstance(target, Sequence) or isinstance(target, (bytes, bytearray)):
        raise TargetError(
            f"target must be a label name, a class index, or a list of them (one per text); got {type(target).__name__} {target!r}"
        )
    specs = list(target)
    if len(specs) != count:
        raise InvalidInputError(f"target lists {len(specs)} labels for {count} texts; give one per text or a single label")
    return [int(value.argmax()) if s is None else resolve_label(s, names) for s, value in zip(specs, logits)]


def _word_index(encoding: Encoding, grouping: str) -> list[int]:
    """Each token's word number (``-1`` for special tokens)."""
    index = [-1] * len(encoding)
    for number, word in enumerate(group_words(encoding, grouping)):  # type: ignore[arg-type]
        for token in word.token_indices:
            index[token] = number
    return index


def _check_baseline(spec: BaselineSpec, method: Any, name: str) -> BaselineSpec:
    """``"zero"`` lives in embedding space (gradient methods); ``"delete"`` removes tokens (perturbation methods)."""
    perturbation = isinstance(method, PerturbationTextMethod)
    if spec.kind == "zero" and perturbation:
        raise InvalidInputError(
            f"baseline 'zero' is an embedding-space baseline; {name!r} perturbs tokens: use pad, mask, unk, delete or custom ids"
        )
    if spec.kind == "delete" and not perturbation:
        raise InvalidInputError(
            f"baseline 'delete' removes tokens, which only perturbation methods can do; {name!r} needs pad, mask, unk, zero or custom ids"
        )
    return spec


def _cut(ids: tuple[int, ...] | None, indices: tuple[int, ...]) -> tuple[int, ...] | None:
    return None if ids is None else tuple(ids[i] for i in indices)


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
