"""explain_generation / GenerationExplainer: prompts and continuations -> the engine -> GenerationExplanation.

A prompt (a string or chat messages) is tokenised with character offsets
(:mod:`~limelight.generation.prompts`), grouped into features (:mod:`~limelight.generation.features`)
and explained for a target continuation: the one given (teacher-forced, tokenised without special
tokens) or, with ``target=None``, the model's own greedy continuation. Gradient methods run on the
token embeddings (:mod:`~limelight.generation.gradients`), perturbation methods on the features
(:mod:`~limelight.generation.perturbation`); both score every generated token at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from limelight.engine.chunking import DEFAULT_MEMORY_BUDGET, parse_bytes
from limelight.engine.gradient import GradientShap, InputXGradient, IntegratedGradients, Saliency
from limelight.engine.gradient.noise_tunnel import NoiseTunnelOptions
from limelight.engine.names import canonical_name
from limelight.engine.validation import check_count, is_int
from limelight.errors import InvalidInputError

from .erasure import ErasureSpec, compact, replacement_id
from .explanation import GenerationExplanation
from .features import FeatureSpec, PromptFeatures, prompt_features
from .gradients import GRADIENT_METHODS, INNER_METHODS, Baseline, GradientJob, GradientSettings, gradient_scores
from .perturbation import PERTURBATION_METHODS, PerturbationJob, feature_scores
from .prompts import EncodedPrompt, PromptSpec, encode_prompt
from .quantity import Quantity
from .runner import GenerationRunner

METHODS: tuple[str, ...] = (*GRADIENT_METHODS, *PERTURBATION_METHODS)
BASELINES: tuple[str, ...] = ("zero", "mean", "pad", "eos", "unk")
Prompts = PromptSpec | Sequence[PromptSpec]
Targets = str | None | Sequence[str | None]


class GenerationExplainer:
    """Explains what a causal LM generates from a prompt, one matrix of generated tokens x prompt features.

    ``model``: a Hugging Face causal LM (or a local folder, with ``tokenizer=None``). ``method``: a
    gradient method at the embedding layer (``"integrated_gradients"`` = ``"layer_integrated_gradients"``,
    ``"saliency"``, ``"input_x_gradient"``, ``"gradient_shap"``, ``"noise_tunnel"`` = ``"smoothgrad"``) or a
    perturbation method on features (``"feature_ablation"``,
    ``"shapley_values"``, ``"shapley_value_sampling"``, ``"kernel_shap"``, ``"lime"``).
    ``features``: ``"tokens"``, ``"words"``, ``"sentences"``, ``"messages"`` or ``(start, end)`` spans.
    ``quantity``: ``"log_probability"``, ``"probability"`` or ``"logit"``. ``baseline`` (gradient
    methods): the embedding each token starts from, ``"zero"``, ``"mean"`` (the vocabulary's mean
    embedding), the PAD/EOS/UNK token or a token id; for ``"gradient_shap"`` also a list of those
    (the baseline distribution). ``attribute_generated`` (gradient methods): also score, for each
    generated token, the earlier generated tokens (``e.generated_matrix``; they move along the path too).
    ``erasure`` (perturbation methods): ``"delete"`` a removed feature's tokens, or replace them by
    ``"pad"``/``"eos"``/``"unk"`` or a token id. ``method_options`` go to the method (``n_steps``,
    ``rule``, ``tolerance``, ``min_steps``, ``max_steps`` for IG, ``n_steps="auto"`` included; ``n_samples``,
    ``stdevs``, ``seed`` for GradientSHAP; ``inner`` (``"saliency"`` by default, ``"input_x_gradient"`` or
    ``"integrated_gradients"``, whose options pass through), ``nt_type``, ``nt_samples``, ``stdevs`` (by default
    :data:`SMOOTHGRAD_NOISE` times :func:`embedding_scale`), ``seed`` for the noise tunnel; ``n_samples``, ``seed``, ... for the sampled perturbation methods).
    ``prefix_cache`` (perturbation methods): run a perturbed prompt from the key/value cache of the
    prefix it shares with the prompt, where that is exact (on by default; False runs every row whole).
    """

    def __init__(
        self,
        model: nn.Module | str | Path,
        tokenizer: Any = None,
        *,
        method: str = "integrated_gradients",
        features: FeatureSpec = "words",
        quantity: str = "log_probability",
        baseline: str | int | Sequence[str | int] = "zero",
        erasure: ErasureSpec = "delete",
        memory_budget: int | str | None = None,
        prefix_cache: bool = True,
        attribute_generated: bool = False,
        **method_options: Any,
    ) -> None:
        self.model, self.tokenizer = _load(model, tokenizer)
        self.method = canonical_name(method)
        if self.method not in METHODS:
            raise InvalidInputError(f"method {method!r} is not available for generation; choose one of {list(METHODS)}")
        self.features = features
        self.quantity = Quantity(quantity)
        self.baseline = list(baseline) if isinstance(baseline, (list, tuple)) else baseline
        self.attribute_generated = bool(attribute_generated)
        self.erasure = erasure
        self.replacement = replacement_id(self.tokenizer, erasure)
        self.method_options = dict(method_options)
        self._gradient = (
            _gradient_settings(self.model, self.method, _baselines(self.tokenizer, baseline, self.method), self.method_options)
            if self.method in GRADIENT_METHODS
            else None
        )
        if self.attribute_generated:
            if self._gradient is None:
                raise InvalidInputError(
                    f"attribute_generated=True is available for the gradient methods; choose one of {list(GRADIENT_METHODS)}"
                )
            self._gradient = replace(self._gradient, attribute_generated=True)
        budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else parse_bytes(memory_budget)
        self.runner = GenerationRunner(self.model, self.tokenizer, budget, prefix_cache=bool(prefix_cache))

    def explain(
        self,
        prompt: Prompts,
        target: Targets = None,
        *,
        contrast: str | None = None,
        max_new_tokens: int = 20,
        generation_kwargs: Mapping[str, Any] | None = None,
    ) -> GenerationExplanation | list[GenerationExplanation]:
        """Explain ``target`` (or the generated continuation) of ``prompt``; a list of prompts gives a list of explanations.

        ``contrast``: an alternative continuation; each of its tokens competes with the target's
        token at the same position (after the same prefix), and the explanation covers those positions.
        """
        many = _is_many(prompt)
        prompts: list[PromptSpec] = list(prompt) if many else [prompt]  # type: ignore[arg-type,list-item]
        targets = _per_prompt(target, len(prompts))
        check_count("max_new_tokens", max_new_tokens)
        with torch.inference_mode(False), _attribution_mode(self.model):
            results = self._explain(prompts, targets, contrast, max_new_tokens, dict(generation_kwargs or {}))
        return results if many else results[0]

    def erased_values(self, prompt: PromptSpec, target: str, present: torch.Tensor) -> torch.Tensor:
        """The target's total value (e.g. its log-probability) with only the features where ``present`` is True kept.

        ``present``: ``(rows, n_features)`` bool, one coalition per row, features as this explainer
        groups them; removed features go through its erasure. This is the one way the faithfulness
        metrics (:mod:`limelight.evaluation.generation`) re-run the model. Returns ``(rows,)`` float64.
        """
        encoded = encode_prompt(self.tokenizer, prompt)
        features = prompt_features(encoded, self.features)
        if present.dim() != 2 or present.shape[1] != len(features):
            raise InvalidInputError(f"present must be (rows, {len(features)}) for this prompt's features, got {tuple(present.shape)}")
        mask = features.mask(len(encoded.ids))
        ids = torch.tensor(encoded.ids)
        rows = []
        for keep in present.bool():
            kept = torch.where((mask < 0) | keep[mask.clamp(min=0)], ids, torch.full_like(ids, self.replacement))
            rows.append(compact(kept))
        targets = torch.tensor(self._tokens(target, "target")).expand(len(rows), -1)
        return self.runner.score(rows, targets, self.quantity).sum(1)

    def _explain(
        self, prompts: list[PromptSpec], targets: list[str | None], contrast: str | None, max_new_tokens: int, generation: dict[str, Any]
    ) -> list[GenerationExplanation]:
        encoded = [encode_prompt(self.tokenizer, p) for p in prompts]
        features = [prompt_features(e, self.features) for e in encoded]
        target_ids = [
            self._tokens(t, "target") if t is not None else self.runner.generate(e.ids, max_new_tokens, generation)
            for e, t in zip(encoded, targets)
        ]
        alternative = None if contrast is None else self._tokens(contrast, "contrast")
        if alternative is not None:
            short = [i for i, ids in enumerate(target_ids) if len(ids) < len(alternative)]
            if short:
                raise InvalidInputError(
                    f"the contrast {contrast!r} has {len(alternative)} tokens but the target of prompt {short[0]} has only "
                    f"{len(target_ids[short[0]])}; give a shorter alternative or a longer target"
                )
            target_ids = [ids[: len(alternative)] for ids in target_ids]
        quantity = Quantity(self.quantity.kind, contrast=alternative is not None)
        alt = None if alternative is None else torch.tensor(alternative)
        if self._gradient is not None:
            return self._gradients(encoded, features, target_ids, alt, quantity, contrast, self._gradient)
        return self._perturbations(encoded, features, target_ids, alt, quantity, contrast)

    def _tokens(self, text: str, what: str) -> list[int]:
        if not isinstance(text, str) or not text:
            raise InvalidInputError(f"the {what} must be a non-empty string, got {text!r}")
        ids = [int(i) for i in self.tokenizer.encode(text, add_special_tokens=False)]
        if not ids:
            raise InvalidInputError(f"the {what} {text!r} has no tokens")
        return ids

    def _gradients(
        self,
        encoded: list[EncodedPrompt],
        features: list[PromptFeatures],
        target_ids: list[list[int]],
        alternative: torch.Tensor | None,
        quantity: Quantity,
        contrast: str | None,
        gradient: GradientSettings,
    ) -> list[GenerationExplanation]:
        jobs = [
            GradientJob(e.ids, tuple(sorted(i for group in f.tokens for i in group)), torch.tensor(ids), alternative)
            for e, f, ids in zip(encoded, features, target_ids)
        ]
        scored = gradient_scores(self.runner, jobs, quantity, gradient)
        settings = json.loads(json.dumps({**asdict(gradient.options), "baseline": self.baseline}))  # JSON-plain, as a round trip gives
        if gradient.attribute_generated:
            settings["attribute_generated"] = True
        results = []
        for e, f, ids, job, s in zip(encoded, features, target_ids, jobs, scored):
            column = {position: k for k, position in enumerate(job.positions)}
            matrix = torch.stack([s.scores[:, [column[i] for i in group]].sum(1) for group in f.tokens], 1)
            result = self._result(e, f, ids, matrix, s.values, s.evidence, quantity, contrast, settings)
            results.append(result if s.generated is None else replace(result, generated_matrix=s.generated))
        return results

    def _perturbations(
        self,
        encoded: list[EncodedPrompt],
        features: list[PromptFeatures],
        target_ids: list[list[int]],
        alternative: torch.Tensor | None,
        quantity: Quantity,
        contrast: str | None,
    ) -> list[GenerationExplanation]:
        jobs = [
            PerturbationJob(e.ids, f.mask(len(e.ids)), torch.tensor(ids), None if alternative is None else alternative[: len(ids)])
            for e, f, ids in zip(encoded, features, target_ids)
        ]
        scored = feature_scores(self.runner, jobs, quantity, self.method, self.replacement, self.method_options)
        results = []
        for e, f, ids, s in zip(encoded, features, target_ids, scored):
            settings = {**s.options, "erasure": self.erasure, "evaluations": s.evaluations}
            results.append(self._result(e, f, ids, s.scores, s.values, s.evidence, quantity, contrast, settings))
        return results

    def _result(
        self,
        e: EncodedPrompt,
        f: PromptFeatures,
        ids: list[int],
        matrix: torch.Tensor,
        values: torch.Tensor,
        evidence: Any,
        quantity: Quantity,
        contrast: str | None,
        settings: dict[str, Any],
    ) -> GenerationExplanation:
        return GenerationExplanation(
            prompt=e.text,
            features=list(f.spans),
            generated=[self.tokenizer.decode([i]) for i in ids],
            generated_ids=list(ids),
            matrix=matrix.to(torch.float64),
            values=values.to(torch.float64),
            evidence=evidence,
            method=self.method,
            quantity=quantity.kind,
            contrast=contrast,
            features_kind=self.features if isinstance(self.features, str) else "spans",
            roles=list(e.roles),
            settings=settings,
        )


def explain_generation(
    model: nn.Module | str | Path,
    tokenizer: Any,
    prompt: Prompts,
    target: Targets = None,
    method: str = "integrated_gradients",
    features: FeatureSpec = "words",
    *,
    contrast: str | None = None,
    max_new_tokens: int = 20,
    generation_kwargs: Mapping[str, Any] | None = None,
    **options: Any,
) -> GenerationExplanation | list[GenerationExplanation]:
    """Which prompt features produced each generated token: one call of :class:`GenerationExplainer` (see it for ``options``)."""
    explainer = GenerationExplainer(model, tokenizer, method=method, features=features, **options)
    return explainer.explain(prompt, target, contrast=contrast, max_new_tokens=max_new_tokens, generation_kwargs=generation_kwargs)


@contextmanager
def _attribution_mode(model: nn.Module) -> Iterator[None]:
    """The model in eval mode with every parameter's ``requires_grad`` off, both restored afterwards (also on error).

    Gradients are only ever taken with respect to the embeddings; with the weights frozen no
    backward can write a ``.grad`` into the user's model. The output layer's input is made
    contiguous for the call (:func:`_contiguous_input`): without it, frozen weights made every
    forward about a quarter slower (benchmarks/README.md).
    """
    was_training = model.training
    flags = [(parameter, parameter.requires_grad) for parameter in model.parameters()]
    head = getattr(model, "get_output_embeddings", lambda: None)()
    hook = head.register_forward_pre_hook(_contiguous_input) if isinstance(head, nn.Module) else None
    model.eval()
    try:
        for parameter, _ in flags:
            parameter.requires_grad_(False)
        yield
    finally:
        if hook is not None:
            hook.remove()
        for parameter, flag in flags:
            parameter.requires_grad_(flag)
        model.train(was_training)


def _contiguous_input(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The output layer's hidden states as one contiguous block.

    Hugging Face slices the positions that need logits (``logits_to_keep``), which leaves a strided
    3-D tensor; ``torch.matmul`` folds it into one matrix product only when the weight requires
    grad, and otherwise runs a batched product over the weight expanded per row, about 5 times
    slower on a CPU (314 ms against about 60 ms for 6 x 11 positions of the demo LLM's 49,152-word head).
    """
    return tuple(a.contiguous() if isinstance(a, Tensor) else a for a in args)


def _load(model: nn.Module | str | Path, tokenizer: Any) -> tuple[nn.Module, Any]:
    if isinstance(model, (str, Path)):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = Path(model)
        if not folder.is_dir():
            raise InvalidInputError(
                f"model {str(model)!r} is not a local folder; pass a loaded model or a folder saved with save_pretrained"
            )
        loaded = AutoModelForCausalLM.from_pretrained(folder).eval()
        return loaded, tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(folder)
    if not isinstance(model, nn.Module):
        raise InvalidInputError(f"model must be a causal LM (torch.nn.Module) or a local folder, got {type(model).__name__}")
    if tokenizer is None:
        raise InvalidInputError("pass the model's tokenizer (tokenizer=None only works with a model folder)")
    return model, tokenizer


def _baselines(tokenizer: Any, baseline: str | int | Sequence[str | int], method: str) -> tuple[Baseline, ...]:
    """The baseline key(s): ``"zero"``, ``"mean"`` or token ids; several only for GradientSHAP's distribution."""
    given = list(baseline) if isinstance(baseline, (list, tuple)) else [baseline]
    if not given or (len(given) > 1 and method != "gradient_shap"):
        raise InvalidInputError(f"baseline={baseline!r}: give one baseline (a list of several is a distribution, for gradient_shap)")
    keys: list[Baseline] = []
    for b in given:
        if b in ("zero", "mean"):
            keys.append(str(b))
        elif is_int(b) or b in BASELINES:
            keys.append(replacement_id(tokenizer, b))
        else:
            raise InvalidInputError(f"baseline={b!r} is not a gradient baseline; choose one of {list(BASELINES)} or a token id")
    return tuple(keys)


SMOOTHGRAD_NOISE = 0.3
"""SmoothGrad's default noise standard deviation, in units of :func:`embedding_scale` (measured: docs/generation.md)."""


def embedding_scale(model: nn.Module) -> float:
    """The standard deviation of the input-embedding matrix's entries: the unit of SmoothGrad's default noise on token embeddings."""
    weight = model.get_input_embeddings().weight  # type: ignore[operator]
    return float(weight.detach().std())


_ENGINE_METHODS: dict[str, Any] = {
    "integrated_gradients": IntegratedGradients,
    "layer_integrated_gradients": IntegratedGradients,
    "saliency": Saliency,
    "input_x_gradient": InputXGradient,
    "gradient_shap": GradientShap,
}
_TUNNEL_OPTIONS = ("nt_type", "nt_samples", "stdevs", "seed")


def _gradient_settings(model: nn.Module, method: str, baselines: tuple[Baseline, ...], options: dict[str, Any]) -> GradientSettings:
    """The engine method's own options, validated by it (the noise tunnel's, with its wrapped method's inside)."""
    if method != "noise_tunnel":
        return GradientSettings(method, _ENGINE_METHODS[method](model).make_options(**options), baselines)
    inner = options.get("inner", "saliency")
    inner_name = canonical_name(inner) if isinstance(inner, str) else inner
    if inner_name not in INNER_METHODS:
        raise InvalidInputError(f"the noise tunnel for generation wraps one of {list(INNER_METHODS)}, got inner={inner!r}")
    tunnel = {k: v for k, v in options.items() if k in _TUNNEL_OPTIONS}
    tunnel.setdefault("stdevs", SMOOTHGRAD_NOISE * embedding_scale(model))
    wrapped = _ENGINE_METHODS[inner_name](model).make_options(**{k: v for k, v in options.items() if k not in (*_TUNNEL_OPTIONS, "inner")})
    return GradientSettings(method, NoiseTunnelOptions(**tunnel, method=inner_name, inner=wrapped), baselines)


def _is_many(prompt: object) -> bool:
    """A list of prompts (strings or message lists), as opposed to one prompt (a string or one list of messages)."""
    if isinstance(prompt, str):
        return False
    if not isinstance(prompt, Sequence) or not prompt:
        raise InvalidInputError(f"prompt must be a string, a list of chat messages or a list of prompts, got {prompt!r}")
    return not isinstance(prompt[0], Mapping)


def _per_prompt(target: Targets, count: int) -> list[str | None]:
    if target is None or isinstance(target, str):
        return [target] * count
    targets = list(target)
    if len(targets) != count:
        raise InvalidInputError(f"{len(targets)} targets for {count} prompts: give one target per prompt, or one for all")
    return targets
