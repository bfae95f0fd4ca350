"""Which attention heads and layers a transformer classifier's prediction rests on.

A *gate* multiplies one head's context (its slice of the input of the attention's output
projection) or one layer's update (its output minus its input) by a number in ``[0, 1]``; all
gates at 1 is the model as it is. Head importance is integrated gradients over the head gates
from all 0 to all 1 (Hao et al., 2021, "Self-attention attribution"; the head mask of Michel et
al., 2019), so per text the scores sum to ``f(all heads) - f(no head)`` up to the recorded
``delta``. The ablation check closes one head at a time: ``f(all heads) - f(all but this one)``.
Layer contribution is the same integral over the layer gates (a closed layer passes its input
on unchanged), so it sums to ``f(model) - f(no layer)``.

Gating the context before the output projection is exactly a head mask (a head's context is its
attention probabilities times its values), and works for models whose forward no longer takes
``head_mask`` (transformers 5 dropped it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, Literal

import torch
from torch import Tensor, nn

from .._display import html
from ..engine.evidence import BatchEvidence, Evidence
from ..engine.gradient import IntegratedGradients
from ..engine.objective import check_quantity, output_transform
from ..engine.perturbation import FeatureAblation
from ..engine.validation import check_count
from ..errors import InvalidInputError, LayerError, TargetError
from .checks import check_texts
from .encoding import encode_batch
from .labels import LabelSpec, model_labels, resolve_label
from .runner import TextRunner

PROJECTIONS: tuple[tuple[str, ...], ...] = (
    ("attention", "output", "dense"),  # BERT, RoBERTa, ELECTRA, MiniLM, XLM-R
    ("attention", "out_lin"),  # DistilBERT
    ("self_attn", "o_proj"),  # Llama, Mistral, Qwen, Gemma
    ("self_attn", "out_proj"),  # BART, OPT, Whisper
    ("attn", "c_proj"),  # GPT-2
    ("attention", "dense"),  # GPT-NeoX
)
"""Name endings of the module whose input is the concatenated per-head context, per architecture."""


@dataclass(frozen=True)
class AttentionSites:
    """Per layer: the attention output projection (its input is the heads' context) and the layer's block."""

    projections: tuple[nn.Module, ...]
    blocks: tuple[nn.Module, ...]
    block_names: tuple[str, ...]
    n_heads: int

    @property
    def n_layers(self) -> int:
        return len(self.projections)


def attention_sites(model: nn.Module, n_heads: int | None = None, projections: Sequence[nn.Module] | None = None) -> AttentionSites:
    """Each layer's attention output projection and block: ``projections`` if given, else found by name (see :data:`PROJECTIONS`)."""
    named = dict(model.named_modules())
    if projections is not None:
        names_of = {id(module): name for name, module in named.items()}
        missing = [type(p).__name__ for p in projections if id(p) not in names_of]
        if missing or not projections:
            raise InvalidInputError(
                "projections must list each layer's attention output projection, all submodules of the model"
                + (f"; a {missing[0]} is not" if missing else "")
            )
        found = [names_of[id(p)] for p in projections]
    else:
        found = _projection_names(model, named)
    heads = n_heads if n_heads is not None else getattr(getattr(model, "config", None), "num_attention_heads", None)
    if heads is None:
        raise InvalidInputError("the model's config has no num_attention_heads; pass n_heads=")
    block_names = tuple(_block_name(name, named) for name in found)
    return AttentionSites(
        tuple(named[name] for name in found), tuple(named[name] for name in block_names), block_names, check_count("n_heads", heads)
    )


def _projection_names(model: nn.Module, named: Mapping[str, nn.Module]) -> list[str]:
    for ending in PROJECTIONS:
        found = [name for name in named if tuple(name.split("."))[-len(ending) :] == ending]
        if found:
            return found
    raise LayerError(
        f"found no attention output projection in {type(model).__name__}: limelight looks for modules named "
        f"{['.'.join(e) for e in PROJECTIONS]}; pass projections=[one module per layer whose input is the heads' context]"
    )


def _block_name(projection: str, named: Mapping[str, nn.Module]) -> str:
    """The element of a ``ModuleList`` that holds ``projection``: its transformer layer."""
    parts = projection.split(".")
    for end in range(len(parts) - 1, 1, -1):
        if parts[end - 1].isdigit() and isinstance(named.get(".".join(parts[: end - 1])), nn.ModuleList):
            return ".".join(parts[:end])
    raise LayerError(f"{projection} is not inside a list of layers (nn.ModuleList); cannot gate its layer")


def _scale_heads(gate: Tensor, n_heads: int) -> Callable[[nn.Module, tuple[Any, ...]], tuple[Any, ...]]:
    """A pre-hook multiplying head ``h``'s slice of the projection's input by ``gate[:, h]``."""

    def hook(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        context = args[0]
        if context.shape[-1] % n_heads or context.shape[0] != gate.shape[0]:
            raise LayerError(
                f"the input of {type(module).__name__} has shape {tuple(context.shape)}: expected rows={gate.shape[0]} "
                f"and a last dimension divisible by {n_heads} heads"
            )
        shape = (gate.shape[0],) + (1,) * (context.dim() - 2) + (n_heads, 1)
        scaled = context.unflatten(-1, (n_heads, -1)) * gate.reshape(shape).to(context.dtype)
        return (scaled.flatten(-2), *args[1:])

    return hook


def _scale_update(gate: Tensor) -> Callable[..., Any]:
    """A forward hook giving ``input + gate * (output - input)`` for a layer of hidden states."""

    def hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> Any:
        hidden = args[0] if args else kwargs["hidden_states"]
        value = output[0] if isinstance(output, tuple) else output
        if value.shape != hidden.shape:
            raise LayerError(f"{type(module).__name__} maps {tuple(hidden.shape)} to {tuple(value.shape)}; a gated layer keeps the shape")
        mixed = hidden + gate.reshape((-1,) + (1,) * (value.dim() - 1)).to(value.dtype) * (value - hidden)
        return (mixed, *output[1:]) if isinstance(output, tuple) else mixed

    return hook


@contextmanager
def _hooks(handles: list[torch.utils.hooks.RemovableHandle]) -> Iterator[None]:
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def gated_forward(model: nn.Module, sites: AttentionSites, unit: Literal["head", "layer"]) -> Callable[..., Any]:
    """``forward(gates, **model_inputs)``: the model with ``gates`` ``(rows, L, H)`` on heads or ``(rows, L)`` on layers."""

    def forward(gates: Tensor, **inputs: Tensor) -> Any:
        if unit == "head":
            handles = [p.register_forward_pre_hook(_scale_heads(gates[:, i], sites.n_heads)) for i, p in enumerate(sites.projections)]
        else:
            handles = [b.register_forward_hook(_scale_update(gates[:, i]), with_kwargs=True) for i, b in enumerate(sites.blocks)]
        with _hooks(handles):
            return model(**inputs)

    return forward


@dataclass(frozen=True)
class HeadImportance:
    """Per text, how much each attention head (and each layer) contributes to the explained quantity.

    ``scores`` ``(texts, layers, heads)``: integrated gradients over the head gates; per text they
    sum to ``evidence.input_value - evidence.baseline_value`` (``f`` with every head minus ``f``
    with none) up to ``evidence.delta``. ``ablation`` ``(texts, layers, heads)``: ``f(all heads) -
    f(all but that head)``. ``layer_scores`` ``(texts, layers)``: integrated gradients over layer
    gates, with ``layer_evidence``. ``target_labels``: the explained class per text.
    """

    texts: tuple[str, ...]
    target_labels: tuple[str, ...]
    quantity: str
    scores: Tensor
    evidence: BatchEvidence
    ablation: Tensor | None
    layer_scores: Tensor | None
    layer_evidence: BatchEvidence | None
    layer_names: tuple[str, ...]
    n_steps: int | str

    @property
    def n_layers(self) -> int:
        return self.scores.shape[1]

    @property
    def n_heads(self) -> int:
        return self.scores.shape[2]

    def mean(self) -> Tensor:
        """The ``(layers, heads)`` importance averaged over texts."""
        return self.scores.mean(0)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers (JSON-ready; see :meth:`from_dict`)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Evidence):
                value = {k: v.tolist() if isinstance(v, Tensor) else v for k, v in vars(value).items()}
            out[item.name] = value.tolist() if isinstance(value, Tensor) else list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeadImportance:
        """The result :meth:`to_dict` gave."""
        names = {item.name for item in fields(cls)}
        if set(data) != names:
            raise InvalidInputError(f"not a head-importance result: expected the keys {sorted(names)}, got {sorted(data)}")
        given = dict(data)
        for name in ("scores", "ablation", "layer_scores"):
            given[name] = None if given[name] is None else torch.tensor(given[name], dtype=torch.float64)
        for name in ("evidence", "layer_evidence"):
            given[name] = None if given[name] is None else _evidence_from(given[name])
        for name in ("texts", "target_labels", "layer_names"):
            given[name] = tuple(given[name])
        return cls(**given)

    def to_json(self) -> str:
        """The result as JSON (see :meth:`from_json`)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> HeadImportance:
        """The result :meth:`to_json` wrote."""
        return cls.from_dict(json.loads(text))

    def _repr_html_(self) -> str | None:
        return html(self)


def _evidence_from(data: Mapping[str, Any]) -> BatchEvidence:
    types = {"n_steps": torch.long, "converged": torch.bool}
    values = {k: None if v is None else torch.tensor(v, dtype=types.get(k, torch.float64)) for k, v in data.items() if k != "tolerance"}
    return Evidence(**values, tolerance=data.get("tolerance"))


def head_importance(
    model: nn.Module,
    tokenizer: Any,
    texts: str | Sequence[str],
    target: LabelSpec | Sequence[LabelSpec] = None,
    *,
    quantity: str = "logit",
    n_steps: int | Literal["auto"] = 50,
    ablation: bool = True,
    layers: bool = True,
    batch_size: int = 8,
    n_heads: int | None = None,
    projections: Sequence[nn.Module] | None = None,
    internal_batch_size: int | None = None,
    show_progress: bool | None = None,
) -> HeadImportance:
    """Head importance (and, with ``layers``, layer contribution) of a transformer classifier for ``texts``.

    ``target``: a label name or index for all texts, one per text, or ``None`` for each text's
    predicted class. ``quantity``: ``"logit"``, ``"probability"`` or ``"log_probability"``.
    ``n_steps``: Gauss-Legendre nodes of each integral (the delta in ``evidence`` says whether
    they were enough), or ``"auto"`` to refine each text's path until it is complete.
    ``ablation``: also close one head at a time (layers x heads forwards per text). ``layers``:
    also integrate over layer gates. ``projections`` (one module per layer, whose input is the
    concatenated per-head context) and ``n_heads`` override what is found by name and in the
    config. Texts must fit the model's length (no windows: a head's role is per forward).
    """
    items = check_texts(texts, "texts")
    if not items:
        raise InvalidInputError("texts is empty; pass at least one text")
    if n_steps != "auto":
        check_count("n_steps", n_steps, minimum=2)
    transform = output_transform(check_quantity(quantity))
    labels = model_labels(model)
    sites = attention_sites(model, n_heads, projections)
    runner = TextRunner(model, tokenizer, batch_size=batch_size)
    encodings = encode_batch(tokenizer, items)
    too_long = [i for i, e in enumerate(encodings) if len(e) > runner.max_length]
    if too_long:
        raise InvalidInputError(
            f"texts[{too_long[0]}] has {len(encodings[too_long[0]])} tokens, over the model's {runner.max_length}; "
            "head importance needs one forward per text: shorten it"
        )
    targets = _targets(target, len(items), labels, runner.logits(encodings))
    head_ig = IntegratedGradients(gated_forward(model, sites, "head"), output=transform)
    layer_ig = IntegratedGradients(gated_forward(model, sites, "layer"), output=transform)
    closing = FeatureAblation(gated_forward(model, sites, "head"), output=transform)
    common: dict[str, Any] = {"internal_batch_size": internal_batch_size, "show_progress": show_progress}
    parts: dict[str, list[Any]] = {"heads": [], "ablation": [], "layers": []}
    order: list[int] = []
    for batch in runner.batches(encodings):
        inputs = runner.inputs(batch)
        rows = [targets[i] for i in batch.indices]
        gates = torch.ones((len(rows), sites.n_layers, sites.n_heads), device=runner.device)
        parts["heads"].append(head_ig.attribute(gates, target=rows, n_steps=n_steps, forward_kwargs=inputs, **common))
        if ablation:
            parts["ablation"].append(closing.attribute(gates, baselines=0.0, target=rows, forward_kwargs=inputs, **common))
        if layers:
            ones = torch.ones((len(rows), sites.n_layers), device=runner.device)
            parts["layers"].append(layer_ig.attribute(ones, target=rows, n_steps=n_steps, forward_kwargs=inputs, **common))
        order += batch.indices
    back = torch.argsort(torch.tensor(order))
    return HeadImportance(
        texts=tuple(items),
        target_labels=tuple(labels[t] for t in targets),
        quantity=quantity,
        scores=_joined([r.attributions for r in parts["heads"]], back),
        evidence=_joined_evidence([r.evidence for r in parts["heads"]], back),
        ablation=_joined([r.attributions for r in parts["ablation"]], back) if ablation else None,
        layer_scores=_joined([r.attributions for r in parts["layers"]], back) if layers else None,
        layer_evidence=_joined_evidence([r.evidence for r in parts["layers"]], back) if layers else None,
        layer_names=sites.block_names,
        n_steps=n_steps,
    )


def _targets(target: Any, count: int, labels: list[str], logits: list[Tensor]) -> list[int]:
    """One class index per text: the prediction (``None``), one label for all, or one per text."""
    if target is None:
        return [int(row.argmax()) for row in logits]
    if isinstance(target, (str, int)):
        return [resolve_label(target, labels)] * count
    given = list(target)
    if len(given) != count:
        raise TargetError(f"target has {len(given)} entries for {count} texts; pass one label, one per text, or None")
    return [int(row.argmax()) if t is None else resolve_label(t, labels) for t, row in zip(given, logits)]


def _joined(values: Sequence[Any], back: Tensor) -> Tensor:
    """Batch results concatenated (in batch order), then put back in text order, as float64 on the CPU."""
    return torch.cat([v.detach().to("cpu", torch.float64) for v in values])[back]


def _joined_evidence(values: Sequence[BatchEvidence], back: Tensor) -> BatchEvidence:
    def join(name: str) -> Tensor | None:
        parts = [getattr(v, name) for v in values]
        return None if any(p is None for p in parts) else torch.cat([p.cpu() for p in parts])[back]

    return Evidence(
        delta=join("delta"),
        input_value=join("input_value"),
        baseline_value=join("baseline_value"),
        n_steps=join("n_steps"),
        converged=join("converged"),
        tolerance=values[0].tolerance,
    )
