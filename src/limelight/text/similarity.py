"""Why a bi-encoder finds two texts similar: the cosine similarity of their embeddings, over the words of both.

A bi-encoder (e.g. the sentence-transformers MiniLM) embeds each text alone, pools the token
states (mean over attended tokens, or the first token), and compares the two vectors by cosine.
That scalar depends on the words of both texts, so both are explained at once: the two encodings
are put side by side in one row, a wrapper (:class:`PairSimilarity`) looks up their word
embeddings in one call of the model's embedding layer, runs the encoder on each half, and returns
the cosine. Integrated gradients then moves the word embeddings of both texts together from the
baseline to the input (as in Moeller et al., 2023, "An attribution method for Siamese
encoders"), so the scores of all words of both texts add up to
``cos(a, b) - cos(baseline_a, baseline_b)`` (completeness, reported as ``delta``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import Tensor, nn

from ..engine.evidence import ExampleEvidence
from ..engine.validation import check_choice
from ..errors import InvalidInputError
from .baselines import BaselineLike, BaselineSpec, baseline_ids
from .checks import check_method_options, check_texts, check_tokenizer_fits
from .encoding import Encoding, encode_batch
from .erasure import pad_token_id
from .explanation import Explanation, Explanations
from .methods import TEXT_METHODS, Batch, PerturbationTextMethod, Setting, text_method_name
from .runner import input_embeddings, model_device
from .windows import model_max_length
from .words import GROUPINGS, group_words, token_spans, word_spans

POOLINGS = ("mean", "cls")
"""How token states become a sentence vector: the mean over attended tokens (sentence-transformers), or the first token."""

SIMILARITY_HEAD = "sentence_similarity"
QUANTITY = "cosine_similarity"


class PairSimilarity(nn.Module):
    """``forward(input_ids, attention_mask)``: the cosine of the pooled encodings of columns ``[:split]`` and ``[split:]``.

    The word embeddings of both texts come from one call of ``embeddings`` (the layer the
    attribution hooks); the encoder then reads each text alone through ``inputs_embeds``, with its
    own attention mask and positions, exactly as it embeds a single text.
    """

    def __init__(self, encoder: nn.Module, embeddings: nn.Module, split: int, pooling: str) -> None:
        super().__init__()
        self.encoder, self.embeddings, self.split, self.pooling = encoder, embeddings, split, pooling

    def forward(self, input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor | None = None) -> Tensor:
        embedded = self.embeddings(input_ids)
        vectors = [
            self._pooled(embedded[:, part], attention_mask[:, part])
            for part in (slice(0, self.split), slice(self.split, input_ids.shape[1]))
        ]
        return torch.nn.functional.cosine_similarity(vectors[0], vectors[1], dim=-1)

    def _pooled(self, embedded: Tensor, mask: Tensor) -> Tensor:
        states = self.encoder(inputs_embeds=embedded, attention_mask=mask).last_hidden_state
        if self.pooling == "cls":
            return states[:, 0]
        weight = mask.unsqueeze(-1).to(states.dtype)
        return (states * weight).sum(1) / weight.sum(1).clamp(min=1e-9)


def explain_similarity(
    model: nn.Module,
    tokenizer: Any,
    text: str,
    other: str,
    *,
    method: str = "integrated_gradients",
    baseline: BaselineLike = "pad",
    pooling: str = "mean",
    words: str = "tokenizer",
    **method_options: Any,
) -> Explanation:
    """Explain the cosine similarity a bi-encoder gives ``text`` and ``other``, over the words of both.

    ``model`` is the bare encoder (e.g. ``BertModel``, returning ``last_hidden_state``);
    ``pooling`` is ``"mean"`` (sentence-transformers) or ``"cls"``. The result is one
    :class:`Explanation` with ``text`` as segment 0 and ``other`` as segment 1 (``text_pair``),
    scored in units of cosine similarity; with integrated gradients its ``delta`` is the
    completeness error over both texts. The baseline erases the words of both texts (``"delete"``
    is refused: it would move the boundary between them).
    """
    check_choice("pooling", pooling, POOLINGS)
    check_choice("words", words, GROUPINGS)
    first, second = check_texts([text, other], "texts")
    if not isinstance(model, nn.Module) or not hasattr(model, "get_input_embeddings"):
        raise InvalidInputError("model must be a Hugging Face encoder (e.g. BertModel) with get_input_embeddings()")
    if type(model).__name__.endswith(("ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering")):
        raise InvalidInputError(
            f"{type(model).__name__} has a task head; explain_similarity needs the bare encoder that embeds sentences "
            "(e.g. BertModel, as in sentence-transformers): explain a classifier with limelight.explain instead"
        )
    name = text_method_name(method)
    text_method = TEXT_METHODS[name]
    spec = BaselineSpec.parse(baseline)
    if spec.kind in ("delete", "text") or (spec.kind == "zero" and isinstance(text_method, PerturbationTextMethod)):
        raise InvalidInputError(
            f"baseline {spec.kind!r} does not fit a similarity explanation; use pad, mask or unk (or zero for gradient methods)"
        )
    layer = input_embeddings(model)
    check_tokenizer_fits(layer, tokenizer)
    encodings = encode_batch(tokenizer, [first, second])
    limit = model_max_length(model, tokenizer)
    if max(len(e) for e in encodings) > limit:
        raise InvalidInputError(f"a text has more than the model's {limit} tokens; a bi-encoder reads each text whole, so shorten it")
    split = len(encodings[0])
    wrapper = PairSimilarity(model, layer, split, pooling)
    pad_id = pad_token_id(tokenizer)
    engine = text_method.build(Setting(wrapper, layer, lambda raw: raw, pad_id, False))
    check_method_options(engine, method_options, name)
    options = {**text_method.defaults, **method_options}
    device = model_device(model)
    ids = torch.tensor([[*encodings[0].input_ids, *encodings[1].input_ids]], device=device)
    mask = torch.ones_like(ids)
    index = _word_index(encodings, words)
    base_ids = layer_baselines = None
    if spec.kind == "zero":
        keep = torch.tensor([[1.0 if s else 0.0 for e in encodings for s in e.special_mask]], device=device)
        with torch.no_grad():
            embedded = layer(ids)
        layer_baselines = embedded * keep.unsqueeze(-1).to(embedded.dtype)
    elif text_method.uses_baseline:
        base = [baseline_ids(tokenizer, e, spec) or () for e in encodings]
        base_ids = torch.tensor([[*base[0], *base[1]]], device=device)
    batch = Batch(ids, {"attention_mask": mask}, torch.tensor([index], device=device), base_ids, layer_baselines, None)
    was_training = model.training
    model.eval()
    try:
        scores, result = text_method.run(engine, batch, options)
    finally:
        model.train(was_training)
    evidence = result.evidence.row(0)
    if evidence.delta is not None:
        evidence = replace(evidence, tolerance=options.get("tolerance"))
    recorded = {**options, "pooling": pooling}  # metrics re-pool the same way (evaluation/head_erasure.py)
    return _assemble(encodings, scores[0].cpu(), evidence, words, name, engine.name, recorded, spec, text_method)


def explain_similarities(model: nn.Module, tokenizer: Any, pairs: list[tuple[str, str]], **settings: Any) -> Explanations:
    """:func:`explain_similarity` for each ``(text, other)`` pair, in order."""
    if not isinstance(pairs, list) or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        raise InvalidInputError("pairs must be a list of (text, other) tuples")
    return Explanations(explain_similarity(model, tokenizer, a, b, **settings) for a, b in pairs)


def _word_index(encodings: list[Encoding], grouping: str) -> list[int]:
    """Each token's word number over both texts (the second text's words numbered after the first's; -1 for special tokens)."""
    index: list[int] = []
    offset = 0
    for encoding in encodings:
        own = [-1] * len(encoding)
        groups = group_words(encoding, grouping)  # type: ignore[arg-type]
        for number, word in enumerate(groups):
            for token in word.token_indices:
                own[token] = offset + number
        index += own
        offset += len(groups)
    return index


def _assemble(
    encodings: list[Encoding],
    scores: Tensor,
    evidence: ExampleEvidence,
    grouping: str,
    method: str,
    engine_name: str,
    options: dict[str, Any],
    spec: BaselineSpec,
    text_method: Any,
) -> Explanation:
    """One explanation with the first text as segment 0 and the second as segment 1."""
    split = len(encodings[0])
    pooling = "sum" if text_method.additive or isinstance(text_method, PerturbationTextMethod) else "max"
    parts = (scores[:split], scores[split:])
    word_lists = [word_spans(e, s, grouping, pooling) for e, s in zip(encodings, parts)]  # type: ignore[arg-type]
    token_lists = [token_spans(e, s) for e, s in zip(encodings, parts)]
    second_words = [replace(w, segment=1, token_indices=tuple(i + split for i in w.token_indices)) for w in word_lists[1]]
    second_tokens = [replace(t, segment=1, token_indices=tuple(i + split for i in t.token_indices)) for t in token_lists[1]]
    return Explanation(
        text=encodings[0].text,
        text_pair=encodings[1].text,
        word_spans=[*word_lists[0], *second_words],
        token_spans=[*token_lists[0], *second_tokens],
        predicted_label=f"cosine similarity {evidence.input_value:.4f}" if evidence.input_value is not None else "cosine similarity",
        probabilities={},
        target_label=QUANTITY,
        quantity=QUANTITY,
        method=method,
        method_settings={
            "engine_method": engine_name,
            **{k: v for k, v in options.items() if v is None or isinstance(v, (str, int, float, bool))},
        },
        baseline=spec.describe() if text_method.uses_baseline else "none",
        evidence=evidence,
        head=SIMILARITY_HEAD,
        segment_names=["text", "other"],
    )
