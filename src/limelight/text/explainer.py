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
from typing import Any, Union

import torch
from torch import Tensor, nn

from .._progress import progress
from ..engine import Contrast
from .._warnings import warn
from ..errors import ContrastWarning, InvalidInputError
from .baselines import BaselineLike, BaselineSpec, baseline_ids
from .encoding import Encoding, PaddedBatch, batch_by_length, encode_batch
from .explanation import Explanation, Explanations
from .labels import LabelSpec, label_names, resolve_label
from .loading import load_local
from .methods import Batch, PerturbationTextMethod, Setting, text_method
from .quantity import check_quantity, output_transform
from .windows import WindowPlan, model_max_length, plan_windows, stitch, window_encodings
from .words import GROUPINGS, POOLINGS, group_words, token_spans, word_spans

Texts = Union[str, Sequence[str]]
MAX_PADDING = 0.25
"""At most this share of a batch row is padding (see :func:`~limelight.text.encoding.batch_by_length`)."""
Targets = Union[LabelSpec, Sequence[LabelSpec]]


@dataclass(frozen=True)
class _Unit:
    """One model-sized piece of work: a whole text, or one window of a long text, and its baseline ids."""

    text: int
    encoding: Encoding
    baseline: tuple[int, ...] | None


@dataclass
class _Scored:
    """Token scores and evidence for one unit."""

    scores: Tensor
    target_value: float | None
    baseline_value: float | None
    delta: float | None
    n_steps: int | None
    converged: bool | None


class TextExplainer:
    """Explain a Hugging Face sequence classifier's predictions for texts, word by word.

    ``model`` is a ``*ForSequenceClassification`` model (or a local directory to load one from).
    Settings given here apply to every :meth:`explain` call: the ``method`` (``"integrated_gradients"``
    by default; also ``"input_x_gradient"``, ``"saliency"``, ``"smoothgrad"``, and the perturbation
    methods ``"feature_ablation"``, ``"occlusion"``, ``"shapley"``, ``"shapley_sampling"``,
    ``"kernel_shap"``, ``"lime"``, which take words as features), the ``baseline`` (``"pad"``,
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
        if tokenizer is None:
            raise InvalidInputError("pass the model's tokenizer (a fast Hugging Face tokenizer)")
        if words not in GROUPINGS or (pooling is not None and pooling not in POOLINGS):
            raise InvalidInputError(f"words must be one of {GROUPINGS} and pooling one of {POOLINGS}; got {words!r}, {pooling!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError(f"batch_size must be a positive int, got {batch_size!r}")
        self.model, self.tokenizer = model, tokenizer
        self.method_name, self.method = method, text_method(method)
        self.baseline = _check_baseline(BaselineSpec.parse(baseline), self.method, method)
        self.quantity = check_quantity(quantity)
        self.words = words
        self.pooling = pooling or ("sum" if self.method.additive else "max")
        self.batch_size, self.window_overlap, self.show_progress = batch_size, window_overlap, show_progress
        self.max_length = max_length or model_max_length(model, tokenizer)
        self.options = {**self.method.defaults, **method_options}
        self.layer = model.get_input_embeddings()
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        setting = Setting(model, self.layer, output_transform(self.quantity), self.pad_id, self.baseline.kind == "delete")
        self._engine = self.method.build(setting)
        self._settings = {
            "method": method, "baseline": baseline, "quantity": quantity, "words": words, "pooling": pooling,
            "batch_size": batch_size, "max_length": max_length, "window_overlap": window_overlap,
            "show_progress": show_progress, **method_options,
        }

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **settings: Any) -> TextExplainer:
        """An explainer for the classifier saved in a local directory."""
        return cls(path, **settings)

    @property
    def labels(self) -> list[str]:
        """The model's label names, in class-index order."""
        return label_names(self.model.config, self.model.config.num_labels)

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
        items = [texts] if single else list(texts)
        pairs = None if text_pairs is None else ([text_pairs] if isinstance(text_pairs, str) else list(text_pairs))
        encodings = encode_batch(self.tokenizer, items, pairs)
        if not encodings:
            return Explanations()
        plans = [plan_windows(e, self.max_length, self.window_overlap) for e in encodings]
        units = [unit for t, (e, plan) in enumerate(zip(encodings, plans)) for unit in self._units(t, e, plan)]
        # Always pad on the right: a plain forward numbers positions from the first column, so left
        # padding would shift a shorter text's positions and change its result. Batches hold texts
        # of similar length, so that padding stays a small share of the work.
        batches = batch_by_length(self.tokenizer, [u.encoding for u in units], self.batch_size, padding_side="right", max_padding=MAX_PADDING)
        logits = self._predict(units, batches)
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
        scored = self._attribute(units, batches, targets, versus)
        explanations = Explanations(
            self._assemble(e, plan, [scored[i] for i, u in enumerate(units) if u.text == t], logits[t], targets[t], versus)
            for t, (e, plan) in enumerate(zip(encodings, plans))
        )
        return explanations[0] if single else explanations

    def compare_baselines(
        self, text: str, baselines: Sequence[BaselineLike] = ("pad", "mask", "unk", "zero"), text_pair: str | None = None, **kwargs: Any
    ) -> Explanations:
        """Explain one text against several baselines, to see how much the choice matters."""
        return Explanations(
            TextExplainer(self.model, self.tokenizer, **{**self._settings, "baseline": baseline}).explain(text, text_pair, **kwargs)
            for baseline in baselines
        )

    def _units(self, text: int, encoding: Encoding, plan: WindowPlan) -> list[_Unit]:
        """The windows of one text; baseline ids are built on the whole text, then cut like it."""
        full = baseline_ids(self.tokenizer, encoding, self.baseline) if self.method.uses_baseline else None
        return [
            _Unit(text, window, None if full is None else tuple(full[i] for i in spec.indices))
            for spec, window in zip(plan.windows, window_encodings(encoding, plan))
        ]

    def _device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _predict(self, units: list[_Unit], batches: list[PaddedBatch]) -> list[Tensor]:
        """Per text, the mean of its windows' logits (a text that fits has one window)."""
        per_unit: list[Tensor] = [torch.empty(0)] * len(units)
        with torch.no_grad():
            for batch in batches:
                inputs = {k: v.to(self._device()) for k, v in batch.model_inputs().items()}
                out = self.model(**inputs).logits.detach().to(torch.float64).cpu()
                for row, index in enumerate(batch.indices):
                    per_unit[index] = out[row]
        texts = max(u.text for u in units) + 1
        return [torch.stack([per_unit[i] for i, u in enumerate(units) if u.text == t]).mean(0) for t in range(texts)]

    def _attribute(self, units: list[_Unit], batches: list[PaddedBatch], targets: list[int], versus: int | None) -> list[_Scored]:
        scored: list[_Scored | None] = [None] * len(units)
        for batch in progress(batches, len(batches), f"explaining ({self.method_name})", self.show_progress):
            members = [units[i] for i in batch.indices]
            target: Any = [targets[u.text] for u in members]
            token_scores, result = self.method.run(self._engine, self._batch(batch, members, target if versus is None else Contrast(target, versus)), self.options)
            for row, (index, scores) in enumerate(zip(batch.indices, batch.unpad(token_scores.cpu()))):
                scored[index] = _Scored(
                    scores,
                    _item(result.input_values, row),
                    _item(result.baseline_values, row),
                    _item(result.delta, row),
                    None if result.n_steps is None else int(result.n_steps[row]),
                    None if result.converged is None else bool(result.converged[row]),
                )
        return scored  # type: ignore[return-value]

    def _batch(self, batch: PaddedBatch, units: list[_Unit], target: Any) -> Batch:
        """Move a padded batch to the model's device with its word index and baselines."""
        device = self._device()
        ids = batch.input_ids.to(device)
        word_index = batch.pad([_word_index(u.encoding, self.words) for u in units], -1).to(device)
        layer_baselines = baseline_ids = None
        if self.baseline.is_zero_embedding:
            keep = batch.pad([[1 if s else 0 for s in u.encoding.special_mask] for u in units], 1).to(device)
            with torch.no_grad():
                embedded = self.layer(ids)
            layer_baselines = embedded * keep.unsqueeze(-1).to(embedded.dtype)
        elif self.method.uses_baseline and self.baseline.kind != "delete":
            baseline_ids = batch.pad([u.baseline or () for u in units], self.pad_id).to(device)
        kwargs = {k: v.to(device) for k, v in batch.model_inputs().items() if k != "input_ids"}
        return Batch(ids, kwargs, word_index, baseline_ids, layer_baselines, target)

    def _assemble(
        self, encoding: Encoding, plan: WindowPlan, parts: list[_Scored], logits: Tensor, target: int, versus: int | None
    ) -> Explanation:
        names = self.labels
        scores = stitch(plan, [p.scores for p in parts]) if plan.is_windowed else parts[0].scores
        evidence = max(parts, key=lambda p: abs(p.delta or 0.0))
        probabilities = torch.softmax(logits, -1)
        return Explanation(
            text=encoding.text,
            text_pair=encoding.text_pair,
            word_spans=word_spans(encoding, scores, self.words, self._word_pooling),  # type: ignore[arg-type]
            token_spans=token_spans(encoding, scores),
            predicted_label=names[int(logits.argmax())],
            probabilities={name: float(p) for name, p in zip(names, probabilities)},
            target_label=names[target],
            contrast_label=None if versus is None else names[versus],
            quantity=self.quantity,
            method=self.method_name,
            method_settings={k: v for k, v in self.options.items() if _jsonable(v)},
            baseline=self.baseline.describe() if self.method.uses_baseline else "none",
            target_value=evidence.target_value,
            baseline_value=evidence.baseline_value,
            delta=evidence.delta,
            n_steps=max((p.n_steps for p in parts if p.n_steps is not None), default=None),
            tolerance=self.options.get("tolerance") if evidence.delta is not None else None,
            windows=[(w.char_start, w.char_end) for w in plan.windows] if plan.is_windowed else [],
        )


    @property
    def _word_pooling(self) -> str:
        """Perturbation methods score words directly: their tokens share the score, so words sum them back."""
        return "sum" if isinstance(self.method, PerturbationTextMethod) else self.pooling


def explain(
    model: nn.Module | str | os.PathLike[str],
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


def _per_text_targets(target: Targets, count: int, names: list[str], logits: list[Tensor]) -> list[int]:
    """One class per text: the given label(s), or the prediction at the input (fixed for the whole path)."""
    if target is None:
        return [int(l.argmax()) for l in logits]
    if isinstance(target, (str, int)):
        return [resolve_label(target, names)] * count
    specs = list(target)
    if len(specs) != count:
        raise InvalidInputError(f"target lists {len(specs)} labels for {count} texts; give one per text or a single label")
    return [int(l.argmax()) if s is None else resolve_label(s, names) for s, l in zip(specs, logits)]


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
        raise InvalidInputError(f"baseline 'zero' is an embedding-space baseline; {name!r} perturbs tokens: use pad, mask, unk, delete or custom ids")
    if spec.kind == "delete" and not perturbation:
        raise InvalidInputError(f"baseline 'delete' removes tokens, which only perturbation methods can do; {name!r} needs pad, mask, unk, zero or custom ids")
    return spec


def _item(values: Tensor | None, row: int) -> float | None:
    return None if values is None else float(values[row])


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
