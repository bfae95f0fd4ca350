"""``explain``: a string in, honest word scores out.

The pipeline runs one way: texts -> encodings (never truncated; long texts become windows) ->
padded batches sorted by length -> predictions -> attributions at the word-embedding layer ->
token scores -> words -> :class:`Explanation`. Position and token-type embeddings, attention
masks and special tokens stay as in the input; only word embeddings move along the path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, overload

import torch
from torch import Tensor, nn

from .._progress import progress
from .._warnings import warn
from ..engine.evidence import Evidence, ExampleEvidence
from ..engine.objective import Objective, check_quantity
from ..engine.targets import Contrast
from ..errors import ContrastWarning, InvalidInputError, TargetError
from .baselines import BaselineLike, BaselineSpec, baseline_ids
from .checks import check_method_options, check_texts, check_tokenizer_fits, check_unknown_rate
from .encoding import Encoding, PaddedBatch, encode_batch
from .erasure import Erasure, pad_token_id
from .explanation import Explanation, Explanations, row_standard_errors, with_standard_errors
from .focus import Focus, answer_tokens, best_span, entity_tokens, owning_window, token_at
from .labels import LabelSpec, model_labels, resolve_label
from .loading import load_local
from .methods import TEXT_METHODS, Batch, PerturbationTextMethod, Setting, text_method_name
from .prediction import Predictions, predicted_score, shares_forward
from .runner import Piece, TextRunner, input_embeddings, mean_over_windows
from .tasks import (
    MULTI_LABEL,
    QA_PARTS,
    QUESTION_ANSWERING,
    REGRESSION,
    TOKEN_CLASSIFICATION,
    check_threshold,
    detect_head,
    head_output,
    multi_label_choice,
    qa_logits,
    qa_target,
)
from .windows import WindowPlan, stitch
from .words import GROUPINGS, POOLINGS, group_words, token_spans, word_spans

Texts = str | Sequence[str]
Targets = LabelSpec | Sequence[LabelSpec]
LabelsRequest = LabelSpec | Sequence[LabelSpec] | None
Answers = tuple[int, int] | Sequence[tuple[int, int] | None] | None


@dataclass(frozen=True)
class _Scored:
    """Token scores and evidence for one unit."""

    scores: Tensor
    evidence: ExampleEvidence
    standard_errors: Tensor | None = None
    """Sampled methods: the standard errors of the unit's word scores."""


class TextExplainer:
    """Explain a Hugging Face sequence classifier's predictions for texts, word by word.

    ``model`` is a ``*ForSequenceClassification`` model (or a local directory to load one from).
    Settings given here apply to every :meth:`explain` call: the ``method``, by its engine name
    (:mod:`limelight.engine.names`; ``"integrated_gradients"`` by default; also ``"input_x_gradient"``,
    ``"saliency"``, ``"noise_tunnel"`` (SmoothGrad, alias ``"smoothgrad"``), and the perturbation
    methods ``"feature_ablation"``, ``"occlusion"`` (windows of 3 words by default, clipped to a text's
    length), ``"shapley_values"`` (alias ``"shapley"``),
    ``"shapley_value_sampling"`` (alias ``"shapley_sampling"``: Shapley values estimated by the most
    accurate sampler per model evaluation, regression-adjusted KernelSHAP with stratified paired sampling, see
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

    The head is detected from the model (:func:`limelight.text.tasks.detect_head`): single-label
    and multi-label sequence classifiers, regressors (one output), token classifiers and
    extractive question-answering readers; :meth:`explain` documents what each explains.
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
        self.head = detect_head(model)
        if self.head == QUESTION_ANSWERING:
            if self.quantity != "logit":
                raise InvalidInputError(
                    f"a question-answering model scores answer starts and ends with logits over positions, not classes; "
                    f"its {quantity} over classes does not exist: explain quantity='logit'"
                )
            self.runner.output = _stacked_qa_logits
        per_text = self.head not in (TOKEN_CLASSIFICATION, QUESTION_ANSWERING)
        delete = self.baseline.erasure == Erasure.DELETE
        setting = Setting(model, self.layer, head_output(self.head, self.quantity), self.pad_id, delete, trim_padding=per_text)
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
        self,
        texts: str,
        text_pairs: str | None = None,
        *,
        target: Targets = None,
        contrast: LabelSpec = None,
        labels: LabelsRequest = None,
        threshold: float = 0.5,
        token: int | None = None,
        span: tuple[int, int] | None = None,
        answer: Answers = None,
    ) -> Explanation | Explanations: ...

    @overload
    def explain(
        self,
        texts: Sequence[str],
        text_pairs: Sequence[str] | None = None,
        *,
        target: Targets = None,
        contrast: LabelSpec = None,
        labels: LabelsRequest = None,
        threshold: float = 0.5,
        token: int | None = None,
        span: tuple[int, int] | None = None,
        answer: Answers = None,
    ) -> Explanations: ...

    def explain(
        self,
        texts: Texts,
        text_pairs: Texts | None = None,
        *,
        target: Targets = None,
        contrast: LabelSpec = None,
        labels: LabelsRequest = None,
        threshold: float = 0.5,
        token: int | None = None,
        span: tuple[int, int] | None = None,
        answer: Answers = None,
    ) -> Explanation | Explanations:
        """Explain one text (returns an :class:`Explanation`) or many (returns :class:`Explanations`).

        ``target`` is a label name or index (or one per text); by default the predicted class at the
        input. ``contrast`` explains the target's score minus this label's: why one class rather than
        the other. What else applies depends on the model's head:

        - multi-label: ``labels=`` explains several labels of each text in one call (a label, a list,
          ``"all"``, or by default every label whose sigmoid is at least ``threshold``), one
          explanation per label in an :class:`Explanations`; ``target=`` explains just one.
        - regression (one output): the predicted value is explained; there is no class.
        - token classification: ``token=`` (an index into the text's tokens, special tokens
          counted, as in ``Explanation.token_spans``) or ``span=(start, end)`` (characters of the
          text; its first token) picks the token whose label (``target``, default: predicted) is
          explained; with neither, every entity (word not predicted ``O``) in an :class:`Explanations`.
        - question answering: ``texts`` are questions and ``text_pairs`` their contexts; the
          predicted answer (or ``answer=(start, end)``, characters of the context; a list of them
          gives one per question) is explained
          three ways, an :class:`Explanations` of ``start`` logit, ``end`` logit and their sum
          (``span``), in the one window of a long context where the answer was found.
        """
        single = isinstance(texts, str)
        self._check_request(target, contrast, labels, token, span, answer, text_pairs)
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
        predictions = (
            Predictions(self.runner.output) if shares_forward(self.method, self.head, target, contrast, self.quantity, plans) else None
        )
        owners_of_pieces = [p.text for p in pieces]
        logits: list[Tensor] = []  # per text; read from the method's own forward (after it ran) when it shares the prediction
        if predictions is None:
            outputs = self.runner.forward(batches)
            if self.head in (TOKEN_CLASSIFICATION, QUESTION_ANSWERING):
                per_token = [value[: len(piece.encoding)] for value, piece in zip(outputs, pieces)]
                explained = self._explain_positions(encodings, plans, pieces, per_token, target, token, span, answer)
                return explained[0] if single and len(explained) == 1 and (token is not None or span is not None) else explained
            logits = mean_over_windows(outputs, owners_of_pieces, len(encodings))
        names = self.labels
        if predictions is not None and target is None:  # explained for the class the method's own forward predicts
            scored = self._attribute(pieces, self._baselines(encodings, pieces), batches, lambda rows: predicted_score, predictions)
            logits = mean_over_windows(predictions.logits(len(pieces)), owners_of_pieces, len(encodings))
            objectives = [Objective(t, self.quantity) for t in _per_text_targets(None, len(items), names, logits)]
            owners = list(range(len(encodings)))
        else:
            objectives, owners = self._objectives(target, contrast, labels, threshold, logits or None, len(items))
            if owners != list(range(len(encodings))):  # several labels of a text: one unit of work per (text, label)
                pieces = [Piece(unit, p.encoding, p.indices) for unit, owner in enumerate(owners) for p in pieces if p.text == owner]
                batches = self.runner.batches([p.encoding for p in pieces])
            scored = self._attribute(
                pieces,
                self._baselines([encodings[o] for o in owners], pieces),
                batches,
                lambda rows: Objective.engine_target([objectives[pieces[i].text] for i in rows]),
                predictions,
            )
            if predictions is not None:  # one unit of work per text (shares_forward): the pieces are those predicted
                logits = mean_over_windows(predictions.logits(len(pieces)), owners_of_pieces, len(encodings))
        explanations = Explanations(
            self._assemble(encodings[o], plans[o], [scored[i] for i, p in enumerate(pieces) if p.text == u], logits[o], objectives[u])
            for u, o in enumerate(owners)
        )
        return explanations[0] if single and (self.head != MULTI_LABEL or target is not None) else explanations

    def _objectives(
        self, target: Targets, contrast: LabelSpec, labels: LabelsRequest, threshold: float, logits: list[Tensor] | None, count: int
    ) -> tuple[list[Objective], list[int]]:
        """What each unit of work explains, and the text it explains (a multi-label text may give several units).

        ``logits`` (``None``: not computed, the targets are given) choose the predicted classes and labels.
        """
        names = self.labels
        if self.head == MULTI_LABEL and target is None and logits is not None:
            cut = check_threshold(threshold)
            chosen = [multi_label_choice(labels, cut, value, names) for value in logits]
        else:
            chosen = [[t] for t in _per_text_targets(target, count, names, logits)]
        versus = None if contrast is None else resolve_label(contrast, names, "contrast")
        targets = [t for labels_of_text in chosen for t in labels_of_text]
        if versus is not None and versus in targets:
            same = [i for i, labels_of_text in enumerate(chosen) if versus in labels_of_text]
            warn(
                f"the contrast label {names[versus]!r} is also the target of text(s) {same}: target minus itself is zero, "
                "so their scores are all zero; choose another contrast or target for them",
                ContrastWarning,
            )
        owners = [t for t, labels_of_text in enumerate(chosen) for _ in labels_of_text]
        return [Objective(t, self.quantity, versus) for t in targets], owners

    def _check_request(
        self,
        target: Targets,
        contrast: LabelSpec,
        labels: LabelsRequest,
        token: int | None,
        span: tuple[int, int] | None,
        answer: Answers,
        text_pairs: Texts | None,
    ) -> None:
        """Refuse options the model's head cannot honour, saying which head it is and what to use."""
        head = self.head.replace("_", " ")
        if labels is not None and self.head != MULTI_LABEL:
            raise InvalidInputError(f"labels= picks several labels of a multi-label model; this model is {head}: use target=")
        if labels is not None and target is not None:
            raise InvalidInputError("give target= (one label) or labels= (several), not both")
        if (token is not None or span is not None) and self.head != TOKEN_CLASSIFICATION:
            raise InvalidInputError(f"token= and span= pick the token of a token classifier; this model is {head}")
        if answer is not None and self.head != QUESTION_ANSWERING:
            raise InvalidInputError(f"answer= gives the answer span of a question-answering model; this model is {head}")
        if self.head == QUESTION_ANSWERING:
            if text_pairs is None:
                raise InvalidInputError("a question-answering model reads a question and a context: explain(question, text_pairs=context)")
            if target is not None or contrast is not None:
                raise InvalidInputError("a question-answering model has no labels: give answer=(start, end) in the context, not target=")
        if self.head == REGRESSION and contrast is not None:
            raise InvalidInputError("a regression model has one output and no class to contrast with; drop contrast=")
        if self.head == TOKEN_CLASSIFICATION and contrast is not None:
            raise InvalidInputError("contrast= is for sequence classifiers; for a token classifier explain one label with target=")

    def _explain_positions(
        self,
        encodings: list[Encoding],
        plans: list[WindowPlan],
        pieces: list[Piece],
        outputs: list[Tensor],
        target: Targets,
        token: int | None,
        span: tuple[int, int] | None,
        answer: Answers,
    ) -> Explanations:
        """Token-classification and question-answering heads: each explained position in the one window that read it."""
        first_piece: dict[int, int] = {}
        for number, piece in enumerate(pieces):
            first_piece.setdefault(piece.text, number)
        units: list[_Position] = []
        for text, (encoding, plan) in enumerate(zip(encodings, plans)):
            windows = [outputs[first_piece[text] + w] for w in range(len(plan.windows))]
            if self.head == TOKEN_CLASSIFICATION:
                units += self._token_units(text, encoding, plan, windows, target, token, span)
            else:
                units += self._answer_units(text, encoding, plan, windows, _answer_of(answer, text, len(encodings)))
        row_pieces = [pieces[first_piece[unit.text] + unit.focus.window] for unit in units]
        rows = [Piece(u, piece.encoding, piece.indices) for u, piece in enumerate(row_pieces)]
        batches = self.runner.batches([r.encoding for r in rows])
        baselines = self._baselines(encodings, pieces)
        row_baselines = [baselines[first_piece[unit.text] + unit.focus.window] for unit in units]
        scored = self._attribute(rows, row_baselines, batches, lambda members: _position_target([units[i] for i in members]))
        explained = Explanations()
        for unit, piece, part in zip(units, row_pieces, scored):
            encoding, plan = encodings[unit.text], plans[unit.text]
            scores = torch.zeros(len(encoding), dtype=part.scores.dtype)
            scores[list(piece.indices)] = part.scores
            window = plan.windows[unit.focus.window]
            explained.append(
                self._explanation(
                    encoding,
                    scores,
                    self._evidence([part], scores),
                    None if plan.is_windowed else part.standard_errors,
                    predicted_label=unit.predicted,
                    probabilities=unit.probabilities,
                    target_label=unit.label,
                    head=self.head,
                    marks=unit.marks,
                    segment_names=["question", "context"] if self.head == QUESTION_ANSWERING else [],
                    read_window=(window.char_start, window.char_end) if plan.is_windowed else None,
                )
            )
        return explained

    def _token_units(
        self,
        text: int,
        encoding: Encoding,
        plan: WindowPlan,
        windows: list[Tensor],
        target: Targets,
        token: int | None,
        span: tuple[int, int] | None,
    ) -> list[_Position]:
        names = self.labels
        if token is None and span is None:
            predicted = [
                int(windows[owning_window(plan, i)][_position(plan, owning_window(plan, i), i)].argmax()) for i in range(len(encoding))
            ]
            chosen = entity_tokens(encoding, predicted, names)
        else:
            chosen = [token_at(encoding, token, span)]
        if target is not None and not isinstance(target, (str, int)):
            raise TargetError("a token classifier takes one target label for the chosen token(s), not a list")
        units = []
        for index in chosen:
            window = owning_window(plan, index)
            position = _position(plan, window, index)
            logits = windows[window][position]
            label = int(logits.argmax()) if target is None else resolve_label(target, names)
            begin, finish = encoding.offsets[index]
            probabilities = {n: float(v) for n, v in zip(names, torch.softmax(logits, -1))}
            units.append(
                _Position(
                    text,
                    Focus(window, index, index),
                    (position, label),
                    None,
                    names[label],
                    names[int(logits.argmax())],
                    probabilities,
                    [(0, begin, finish)],
                )
            )
        return units

    def _answer_units(
        self, text: int, encoding: Encoding, plan: WindowPlan, windows: list[Tensor], answer: tuple[int, int] | None
    ) -> list[_Position]:
        context = set(encoding.content_indices(1))
        if not context:
            raise InvalidInputError(f"text {text}: the context is empty; give the context as text_pairs")
        if answer is None:
            best: tuple[float, int, int, int] | None = None
            for number, (window, logits) in enumerate(zip(plan.windows, windows)):
                allowed = [pos for pos, index in enumerate(window.indices) if index in context]
                if not allowed:
                    continue
                start, end, score = best_span(logits[:, 0], logits[:, 1], allowed)
                if best is None or score > best[0]:
                    best = (score, number, window.indices[start], window.indices[end])
            if best is None:
                raise InvalidInputError(f"text {text}: no window holds any context token")
            _, chosen_window, first, last = best
        else:
            first, last = answer_tokens(encoding, answer)
            holding = [n for n, w in enumerate(plan.windows) if first in w.indices and last in w.indices]
            if not holding:
                raise InvalidInputError(f"text {text}: the answer {answer} is longer than one window of the model; give a shorter span")
            owner = owning_window(plan, first)
            chosen_window = owner if owner in holding else holding[0]
        start_position, end_position = _position(plan, chosen_window, first), _position(plan, chosen_window, last)
        begin, finish = encoding.offsets[first][0], encoding.offsets[last][1]
        answer_text = (encoding.text_pair or "")[begin:finish]
        focus = Focus(chosen_window, first, last)
        marks = [(1, begin, finish)]
        units = []
        for part in QA_PARTS:
            aim, versus = qa_target(part, start_position, end_position)
            units.append(_Position(text, focus, aim, versus, part, answer_text, {}, marks))
        return units

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
        self,
        pieces: list[Piece],
        baselines: list[tuple[int, ...] | None],
        batches: list[PaddedBatch],
        target_of: Callable[[list[int]], Any],
        predictions: Predictions | None = None,
    ) -> list[_Scored]:
        """Token scores of every piece; ``target_of`` gives the engine target of a batch from its piece indices.

        ``predictions`` (a method that :attr:`~.methods.GradientTextMethod.predicts`) collects the logits of its forwards.
        """
        scored: dict[int, _Scored] = {}
        runs = self._runs(batches, pieces)
        for batch in progress(runs, len(runs), f"explaining ({self.method_name})", self.show_progress):
            members = [pieces[i] for i in batch.indices]
            target = target_of(list(batch.indices))
            observe = {} if predictions is None else {"observe": predictions.observer(batch.indices)}
            token_scores, result = self.method.run(
                self._engine, self._batch(batch, members, [baselines[i] for i in batch.indices], target), self.options, **observe
            )
            for row, (index, scores) in enumerate(zip(batch.indices, batch.unpad(token_scores.cpu()))):
                scored[index] = _Scored(scores, result.evidence.row(row), row_standard_errors(result, row))
        return [scored[index] for index in range(len(pieces))]

    def _runs(self, batches: list[PaddedBatch], pieces: list[Piece]) -> list[PaddedBatch]:
        """The batches as the method runs them: split by word count where its results depend on the widest text."""
        if not getattr(self.method, "needs_equal_word_counts", False):
            return batches
        runs = []
        for batch in batches:
            groups: dict[int, list[int]] = {}
            for row, index in enumerate(batch.indices):
                groups.setdefault(max(_word_index(pieces[index].encoding, self.words), default=-1), []).append(row)
            runs += [batch.select(rows) for rows in groups.values()]
        return runs

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
        if self.head == MULTI_LABEL:  # each label is its own sigmoid
            probabilities = {name: float(p) for name, p in zip(names, torch.sigmoid(logits))}
        else:  # softmax over one output is constantly 1: a one-output (regression) model has no class probability to show
            probabilities = {name: float(p) for name, p in zip(names, torch.softmax(logits, -1))} if len(names) > 1 else {}
        return self._explanation(
            encoding,
            scores,
            self._evidence(parts, scores),
            None if plan.is_windowed else parts[0].standard_errors,
            predicted_label=names[int(logits.argmax())],
            probabilities=probabilities,
            target_label=names[objective.target],
            contrast_label=None if objective.contrast is None else names[objective.contrast],
            windows=[(w.char_start, w.char_end) for w in plan.windows] if plan.is_windowed else [],
            window_evidence=[p.evidence for p in parts] if plan.is_windowed else [],
            head=self.head,
        )

    def _explanation(
        self, encoding: Encoding, scores: Tensor, evidence: ExampleEvidence, standard_errors: Tensor | None, **fields: Any
    ) -> Explanation:
        """An :class:`Explanation` of ``encoding`` with these token scores (and word standard errors), this explainer's settings and ``fields``."""
        return Explanation(
            text=encoding.text,
            text_pair=encoding.text_pair,
            word_spans=with_standard_errors(
                word_spans(encoding, scores, self.words, self._word_pooling),  # type: ignore[arg-type]
                standard_errors,
            ),
            token_spans=token_spans(encoding, scores),
            quantity=self.quantity,
            method=self.method_name,
            method_settings={"engine_method": self._engine.name, **{k: v for k, v in self.options.items() if _jsonable(v)}},
            baseline=self.baseline.describe() if self.method.uses_baseline else "none",
            evidence=evidence,
            **fields,
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


@dataclass(frozen=True)
class _Position:
    """One explained position of a text (token-classification and QA heads): the engine target in its window's output."""

    text: int
    focus: Focus
    target: tuple[int, int]
    versus: tuple[int, int] | None
    label: str
    predicted: str
    probabilities: dict[str, float]
    marks: list[tuple[int, int, int]]


def _position_target(units: list[_Position]) -> Any:
    """The engine target of a batch of positions: indices, or a :class:`Contrast` for QA (span = start - (-end))."""
    if all(unit.versus is None for unit in units):
        return [unit.target for unit in units]
    versus = [unit.versus for unit in units if unit.versus is not None]
    if len(versus) != len(units):
        raise InvalidInputError("a batch mixes plain and contrastive positions; explain them in separate calls")
    return Contrast([unit.target for unit in units], versus)


def _answer_of(answer: Answers, text: int, count: int) -> tuple[int, int] | None:
    """Text ``text``'s given answer span: the one span for every text, or its entry of a list of one per text."""
    if answer is None or isinstance(answer, tuple):
        return answer
    if isinstance(answer, list) and len(answer) == count:
        return answer[text]
    raise InvalidInputError(f"answer must be one (start, end) span or a list of one per question ({count}); got {answer!r}")


def _position(plan: WindowPlan, window: int, token: int) -> int:
    """Where token ``token`` of the full encoding sits in window ``window``."""
    return plan.windows[window].indices.index(token)


def _stacked_qa_logits(raw: Any) -> Tensor:
    """``(rows, seq, 2)``: each position's start and end logit (what the runner reads from a QA model)."""
    return torch.stack(qa_logits(raw), -1)


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
    """Explain ``texts`` with ``model`` in one call; see :class:`TextExplainer` for the settings.

    The per-call options of :meth:`TextExplainer.explain` for other heads (``labels``,
    ``threshold``, ``token``, ``span``, ``answer``) may be given here too.
    """
    request = {name: settings.pop(name) for name in _REQUEST_OPTIONS if name in settings}
    explainer = TextExplainer(model, tokenizer, method=method, **settings)
    return explainer.explain(texts, text_pairs, target=target, contrast=contrast, **request)


_REQUEST_OPTIONS = ("labels", "threshold", "token", "span", "answer")
"""Options of :meth:`TextExplainer.explain` (per call) rather than of the explainer (per model)."""


def _check_quantity_for(quantity: str, n_outputs: int) -> str:
    """Refuse a probability of a one-output model: softmax over one logit is constantly 1, so every score would be 0."""
    if n_outputs == 1 and quantity != "logit":
        raise InvalidInputError(
            f"the model has one output (a regression or single-logit model), so its {quantity} is a softmax over one "
            "value: constantly 1 (or 0 in log), and every score would be zero; explain quantity='logit' (its raw output)"
        )
    return quantity


def _per_text_targets(target: Targets, count: int, names: list[str], logits: list[Tensor] | None) -> list[int]:
    """One class per text: the given label(s), or the prediction at the input (fixed for the whole path).

    ``logits`` are read only for texts without a given label (``None``: not computed, every label is given).
    """

    def predicted(text: int) -> int:
        if logits is None:
            raise RuntimeError("internal error: a text without a given target needs its logits")
        return int(logits[text].argmax())

    if target is None:
        return [predicted(text) for text in range(count)]
    if isinstance(target, (str, int)):
        return [resolve_label(target, names)] * count
    if not isinstance(target, Sequence) or isinstance(target, (bytes, bytearray)):
        raise TargetError(
            f"target must be a label name, a class index, or a list of them (one per text); got {type(target).__name__} {target!r}"
        )
    specs = list(target)
    if len(specs) != count:
        raise InvalidInputError(f"target lists {len(specs)} labels for {count} texts; give one per text or a single label")
    return [predicted(text) if s is None else resolve_label(s, names) for text, s in enumerate(specs)]


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
