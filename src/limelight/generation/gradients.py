"""The gradient family at the embedding layer, for every generated token at once.

Integrated gradients, Saliency, Input x Gradient, GradientSHAP and SmoothGrad (the noise tunnel)
on the prompt's token embeddings (the output of the model's input-embedding layer, i.e. the layer
methods at that layer). A *sample* is one prompt's moving embeddings ``x`` and their baseline ``b``
(the prompt as it is, or a noisy copy, or a sampled baseline); a *row* is a sample at one path point
``b + alpha (x - b)`` (only attributable prompt tokens move, and the generated tokens with
``attribute_generated``; template tokens keep their embeddings). Each row is one teacher-forced
forward of prompt + target; the ``T`` generated tokens' values then get their gradients from one
batched vector-Jacobian product (a one-hot cotangent per generated position, ``is_grads_batched``),
never a forward per token. Quadrature rules, adaptive panels, noise and the noise tunnel's reductions
are the engine's (:mod:`limelight.engine.gradient`), and the random draws are made in the engine's
order, so every row equals the engine method run on that generated token alone (the tests check it).

A token's score is the embedding-dimension sum of the method's per-element attribution: for IG and
GradientSHAP ``(x - b) * gradient`` averaged over the path (the rows add up to ``f_t(x) - f_t(b)``;
the completeness delta is reported per row), for Input x Gradient ``x * gradient``, for Saliency
``|gradient|`` (L1). ``n_steps="auto"`` refines each sample's trapezoid panels
(:mod:`limelight.engine.gradient.adaptive`) until every generated token's row is within tolerance;
a node serves all ``T`` tokens, so the tokens of a prompt share their nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from limelight.engine.chunking import chunks
from limelight.engine.convergence import completeness_delta, warn_unconverged, within_tolerance
from limelight.engine.evidence import BatchEvidence, Evidence
from limelight.engine.gradient.adaptive import _Path as Panels
from limelight.engine.gradient.adaptive import _within
from limelight.engine.gradient.gradient_shap import GradientShapOptions
from limelight.engine.gradient.gradients import SaliencyOptions
from limelight.engine.gradient.integrated_gradients import IntegratedGradientsOptions
from limelight.engine.gradient.method import per_tensor
from limelight.engine.gradient.noise_tunnel import NoiseTunnelOptions, _noisy, _reduce
from limelight.engine.gradient.quadrature import fixed_rule
from limelight.engine.options import MethodOptions
from limelight.engine.validation import seeded_generator

from .quantity import Quantity
from .runner import GenerationRunner, Packed

GRADIENT_METHODS: tuple[str, ...] = (
    "integrated_gradients",
    "layer_integrated_gradients",
    "saliency",
    "input_x_gradient",
    "gradient_shap",
    "noise_tunnel",
)
INNER_METHODS: tuple[str, ...] = ("saliency", "input_x_gradient", "integrated_gradients")
"""What the noise tunnel (SmoothGrad) can wrap."""

Baseline = int | str
"""A token id, ``"zero"`` (zero embeddings) or ``"mean"`` (the mean embedding of the vocabulary)."""


@dataclass(frozen=True)
class GradientJob:
    """One prompt to attribute: its ids, the indices of its attributable tokens, its target (and alternative) ids."""

    prompt_ids: tuple[int, ...]
    positions: tuple[int, ...]
    targets: Tensor
    alternatives: Tensor | None


@dataclass(frozen=True)
class TokenScores:
    """One prompt's scores ``(T, n_positions)`` (float64), its earlier generated tokens' ``(T, T)`` (or ``None``), values and evidence per row."""

    scores: Tensor
    generated: Tensor | None
    values: Tensor
    evidence: BatchEvidence


@dataclass(frozen=True)
class GradientSettings:
    """How the gradient family runs: the method, the engine options it validated, the baseline(s), whether generated tokens move."""

    method: str
    options: MethodOptions
    baselines: tuple[Baseline, ...] = ("zero",)
    attribute_generated: bool = False


Element = Callable[[Tensor, Tensor, Tensor], Tensor]
"""``(gradient, x, b) -> per-element attribution`` (summed over the embedding dimension for a token's score)."""


def _element(method: str, options: MethodOptions) -> Element:
    if method == "saliency":
        signed = isinstance(options, SaliencyOptions) and not options.abs
        return (lambda g, x, b: g) if signed else (lambda g, x, b: g.abs())
    if method == "input_x_gradient":
        return lambda g, x, b: g * x
    if getattr(options, "multiply_by_inputs", True):
        return lambda g, x, b: g * (x - b)
    return lambda g, x, b: g


@dataclass
class _Samples:
    """Per sample: its job, its moving points ``x`` and baselines ``b`` ``(n_moving, D)``."""

    job: list[int]
    x: list[Tensor]
    b: list[Tensor]


@dataclass(frozen=True)
class _Sampled:
    """Per sample: attributions ``(T, n_moving[, D])`` float64 and evidence per generated token."""

    attributions: list[Tensor]
    evidence: list[Evidence]


def gradient_scores(
    runner: GenerationRunner, jobs: Sequence[GradientJob], quantity: Quantity, settings: GradientSettings
) -> list[TokenScores]:
    """Every job's token scores for every generated token (see the module docstring)."""
    path = _Path(runner, jobs, quantity, settings.attribute_generated)
    method = "integrated_gradients" if settings.method == "layer_integrated_gradients" else settings.method
    options = settings.options
    if isinstance(options, NoiseTunnelOptions):
        sampled = _noise_tunnel(path, options, settings.baselines[0])
        advice = "Use more steps (n_steps=) for the wrapped integrated gradients."
    elif isinstance(options, GradientShapOptions):
        sampled = _gradient_shap(path, options, settings.baselines)
        advice = ""
    else:
        clean = path.samples(range(len(jobs)), [path.inputs(e) for e in range(len(jobs))], [settings.baselines[0]] * len(jobs))
        sampled = _attribute(path, clean, method, options, elementwise=False)
        advice = "Use more steps (n_steps=), or n_steps='auto'." if getattr(options, "n_steps", None) != "auto" else "Raise max_steps."
    noisy = isinstance(options, NoiseTunnelOptions)  # the evidence is of the noisy copies: the values are the prompt's own
    return [
        _token_scores(path, e, a, ev, path.clean_values[e] if noisy else ev.input_value, advice)
        for e, (a, ev) in enumerate(zip(sampled.attributions, sampled.evidence))
    ]


def _token_scores(path: _Path, e: int, attributions: Tensor, evidence: Evidence, values: Tensor | None, advice: str) -> TokenScores:
    steps = path.jobs[e].targets.shape[0]
    scores = attributions[:steps]
    prompt = len(path.jobs[e].positions)
    if evidence.converged is not None and evidence.tolerance is not None and evidence.delta is not None:
        change = _change(evidence)
        warn_unconverged(evidence.converged, evidence.delta, change, evidence.tolerance, advice, rows="generated tokens")
    if values is None:
        raise ValueError("every gradient evidence has the values explained")  # internal
    generated = scores[:, prompt:].tril(-1) if path.generated else None
    return TokenScores(scores[:, :prompt], generated, values[:steps], evidence)


def _change(evidence: Evidence) -> Tensor:
    if evidence.input_value is None or evidence.baseline_value is None:
        raise ValueError("a completeness check needs both end values")  # internal: every IG-type evidence has them
    return evidence.input_value - evidence.baseline_value


def _attribute(path: _Path, samples: _Samples, method: str, options: MethodOptions, elementwise: bool) -> _Sampled:
    """The method on every sample (one attribution and evidence per sample): the analogue of the engine's ``attribute_points``."""
    element = _element(method, options)
    if method != "integrated_gradients":
        count = len(samples.job)
        sums, values = path.accumulate(samples, torch.arange(count), torch.ones(count, dtype=torch.float64), None, element, elementwise)
        return _Sampled(sums, [Evidence(input_value=values[k][: path.steps_of(samples, k)]) for k in range(count)])
    if not isinstance(options, IntegratedGradientsOptions):
        raise TypeError("integrated gradients runs with IntegratedGradientsOptions")  # internal: the explainer builds them
    if options.n_steps == "auto":
        return _adaptive(path, samples, element, options)
    return _fixed(path, samples, element, options, elementwise)


def _fixed(path: _Path, samples: _Samples, element: Element, options: IntegratedGradientsOptions, elementwise: bool) -> _Sampled:
    """A fixed rule: every sample at every node, then ``f(x)`` and ``f(b)`` for the completeness delta."""
    alphas_np, weights_np = fixed_rule(options.rule, int(options.n_steps))
    n, count = len(alphas_np), len(samples.job)
    ks = torch.arange(count).repeat_interleave(n)
    sums, _ = path.accumulate(
        samples, ks, torch.from_numpy(alphas_np).repeat(count), torch.from_numpy(weights_np).repeat(count), element, elementwise
    )
    ends = path.values(samples, torch.arange(count).repeat(2), torch.tensor([1.0, 0.0], dtype=torch.float64).repeat_interleave(count))
    evidence = []
    for k in range(count):
        steps = path.steps_of(samples, k)
        fx, fb = ends[k][:steps], ends[count + k][:steps]
        multiplied = options.multiply_by_inputs
        delta = completeness_delta((sums[k][:steps],), fx - fb) if multiplied else None
        converged = within_tolerance(delta, fx - fb, options.tolerance) if delta is not None and options.tolerance is not None else None
        evidence.append(Evidence(delta, fx, fb, torch.full((steps,), n), converged, options.tolerance if multiplied else None))
    return _Sampled(sums, evidence)


def _adaptive(path: _Path, samples: _Samples, element: Element, options: IntegratedGradientsOptions) -> _Sampled:
    """``n_steps="auto"``: the engine's trapezoid panels, one per (sample, generated token), refined on shared nodes.

    A node of a sample gives all its tokens' values and slopes, so each round evaluates, per sample,
    the union of the midpoints its unconverged tokens ask for; the round's nodes of all samples go
    through the model together. A token's panels store its per-position contributions, whose
    trapezoid sum is its row (IG is linear in the gradient).
    """
    tolerance = float(options.tolerance or 0.0)
    count = len(samples.job)
    steps = [path.steps_of(samples, k) for k in range(count)]
    panels = [[Panels() for _ in range(steps[k])] for k in range(count)]
    start = torch.linspace(0.0, 1.0, max(options.min_steps, 2), dtype=torch.float64).tolist()
    pending = [(k, a) for k in range(count) for a in start]
    while pending:
        ks = torch.tensor([k for k, _ in pending])
        alphas = torch.tensor([a for _, a in pending], dtype=torch.float64)
        for rows, values, contributions in path.gradients(samples, ks, alphas, element, elementwise=False):
            for r, row in enumerate(rows.tolist()):
                k, alpha = pending[row]
                for t in range(steps[k]):
                    panels[k][t].add(alpha, float(values[r, t]), float(contributions[r][t].sum()), (contributions[r][t],))
        pending = []
        for k in range(count):
            room = options.max_steps - len(panels[k][0].alphas)
            wanted = {a for p in panels[k] if not _within(p, tolerance) and room > 0 for a in p.midpoints_to_add(tolerance, room)}
            pending += [(k, a) for a in sorted(wanted)[:room]]
    attributions, evidence = [], []
    for k in range(count):
        scores = torch.stack([p.mean_gradient()[0] for p in panels[k]])
        fx = torch.tensor([p.values[-1] for p in panels[k]], dtype=torch.float64)
        fb = torch.tensor([p.values[0] for p in panels[k]], dtype=torch.float64)
        delta = completeness_delta((scores,), fx - fb)
        nodes = torch.tensor([len(p.alphas) for p in panels[k]])
        evidence.append(Evidence(delta, fx, fb, nodes, within_tolerance(delta, fx - fb, tolerance), tolerance))
        attributions.append(torch.nn.functional.pad(scores, (0, 0, 0, path.steps - steps[k])))
    return _Sampled(attributions, evidence)


def _noise_tunnel(path: _Path, options: NoiseTunnelOptions, baseline: Baseline) -> _Sampled:
    """SmoothGrad and its variants: ``nt_samples`` noisy copies per prompt (the engine's noise), the wrapped method on all, reduced per token."""
    count, repeats = len(path.jobs), options.nt_samples
    jobs, xs, bs = [], [], []
    for e in range(count):
        x = path.inputs(e)
        (noisy,) = _noisy((x[None],), repeats, options.stdevs, seeded_generator(options.seed), "tensors in the method's space")
        jobs += [e] * repeats
        xs += list(noisy)
        bs += [baseline] * repeats
    elementwise = options.nt_type != "smoothgrad"
    per_sample = _attribute(path, path.samples(jobs, xs, bs), options.method, options.inner, elementwise)
    attributions, evidence = [], []
    for e in range(count):
        own = range(e * repeats, (e + 1) * repeats)
        steps = path.jobs[e].targets.shape[0]
        stacked = torch.stack([per_sample.attributions[k][:steps] for k in own], 1)  # (T, samples, ...): token-major, as _reduce reads
        sample_evidence = Evidence(
            **{name: _token_major(values) for name, values in _evidence_columns([per_sample.evidence[k] for k in own]).items()},
            tolerance=per_sample.evidence[own[0]].tolerance,
        )
        reduced = _reduce((stacked.flatten(0, 1),), sample_evidence, steps, options)
        scores = reduced.attributions[0]
        scores = scores.sum(-1) if elementwise else scores
        attributions.append(torch.nn.functional.pad(scores, (0, 0, 0, path.steps - steps)))
        evidence.append(reduced.evidence)
    return _Sampled(attributions, evidence)


def _token_major(values: list[Tensor | None]) -> Tensor | None:
    """Per-sample ``(T,)`` evidence as one ``(T * samples,)`` tensor, token-major (``None`` where the method has none)."""
    present = [v for v in values if v is not None]
    return torch.stack(present, 1).flatten() if len(present) == len(values) else None


def _evidence_columns(evidence: list[Evidence]) -> dict[str, list[Tensor | None]]:
    names = ("delta", "input_value", "baseline_value", "n_steps", "converged")
    return {name: [getattr(e, name) for e in evidence] for name in names}


def _gradient_shap(path: _Path, options: GradientShapOptions, baselines: tuple[Baseline, ...]) -> _Sampled:
    """GradientSHAP per prompt: the engine's draws (baseline, path point, noise) from the seed, one row each, averaged."""
    count, n = len(path.jobs), options.n_samples
    (stdev,) = per_tensor(options.stdevs, 1, "inputs")
    jobs, xs, bs, alphas, chosen = [], [], [], [], []
    for e in range(count):
        generator = seeded_generator(options.seed)
        picks = torch.randint(len(baselines), (n,), generator=generator)
        alphas.append(torch.rand(n, generator=generator, dtype=torch.float64))
        x = path.inputs(e)
        noisy = x[None] + stdev * torch.randn((n, *x.shape), generator=generator, dtype=x.dtype).to(x.device)
        jobs += [e] * n
        xs += list(noisy)
        bs += [baselines[int(i)] for i in picks]
        chosen.append(picks)
    samples = path.samples(jobs, xs, bs)
    element = _element("gradient_shap", options)
    weights = torch.full((count * n,), 1.0 / n, dtype=torch.float64)
    groups = torch.arange(count).repeat_interleave(n)
    sums, _ = path.accumulate(samples, torch.arange(count * n), torch.cat(alphas), weights, element, False, groups=groups)
    ends = path.samples(
        [e for e in range(count) for _ in baselines],
        [path.inputs(e) for e in range(count) for _ in baselines],
        [b for _ in range(count) for b in baselines],
    )
    at_baselines = path.values(ends, torch.arange(len(ends.job)), torch.zeros(len(ends.job), dtype=torch.float64))
    evidence = []
    for e in range(count):
        steps = path.jobs[e].targets.shape[0]
        fx = path.clean_values[e][:steps]
        fb = at_baselines[e * len(baselines) + chosen[e]].mean(0)[:steps]
        delta = completeness_delta((sums[e][:steps],), fx - fb) if options.multiply_by_inputs else None
        evidence.append(Evidence(delta=delta, input_value=fx, baseline_value=fb))
    return _Sampled(sums, evidence)


class _Path:
    """Rows of (sample, path point) built chunk by chunk, evaluated with or without gradients."""

    def __init__(self, runner: GenerationRunner, jobs: Sequence[GradientJob], quantity: Quantity, generated: bool) -> None:
        self.runner, self.jobs, self.quantity, self.generated = runner, jobs, quantity, generated
        self.steps = max(job.targets.shape[0] for job in jobs)
        self.targets = torch.stack([_pad(job.targets, self.steps) for job in jobs])
        contrast = [job.alternatives for job in jobs]
        self.alternatives = None if contrast[0] is None else torch.stack([_pad(a, self.steps) for a in contrast if a is not None])
        self.valid = torch.stack([torch.arange(self.steps) < job.targets.shape[0] for job in jobs])
        self.longest = max(len(job.prompt_ids) for job in jobs)
        self._baselines: dict[Baseline, Tensor] = {}
        self._clean: Tensor | None = None

    @property
    def clean_values(self) -> Tensor:
        """``(jobs, T)`` float64 values of each prompt as it is (one forward per prompt, without gradients, computed once)."""
        if self._clean is None:
            count = len(self.jobs)
            zero = self.samples(range(count), [self.inputs(e) for e in range(count)], ["zero"] * count)
            self._clean = self.values(zero, torch.arange(count), torch.ones(count, dtype=torch.float64))
        return self._clean

    def steps_of(self, samples: _Samples, k: int) -> int:
        return int(self.jobs[samples.job[k]].targets.shape[0])

    def _moving_ids(self, e: int) -> Tensor:
        job = self.jobs[e]
        prompt = torch.tensor([job.prompt_ids[p] for p in job.positions], dtype=torch.long)
        return torch.cat([prompt, job.targets.cpu()]) if self.generated else prompt

    def _columns(self, e: int, prompt_columns: int) -> Tensor:
        """The packed columns of job ``e``'s moving tokens: its attributable prompt tokens, then its generated tokens if they move."""
        job = self.jobs[e]
        prompt = prompt_columns - len(job.prompt_ids) + torch.tensor(job.positions, dtype=torch.long)
        return torch.cat([prompt, prompt_columns + torch.arange(job.targets.shape[0])]) if self.generated else prompt

    def inputs(self, e: int) -> Tensor:
        """Job ``e``'s moving embeddings ``(n_moving, D)`` as they are."""
        with torch.no_grad():
            return self.runner.embedding(self._moving_ids(e).to(self.runner.device)).detach()

    def baseline(self, key: Baseline) -> Tensor:
        """The embedding ``(D,)`` a moving token starts from: zeros, the vocabulary's mean embedding, or a token's."""
        if key not in self._baselines:
            with torch.no_grad():
                if key == "mean":
                    vocabulary = int(getattr(self.runner.embedding, "num_embeddings", 0)) or len(self.runner.tokenizer)
                    total = sum(
                        self.runner.embedding(torch.arange(c.start, c.stop, device=self.runner.device)).double().sum(0)
                        for c in chunks(vocabulary, 4096)
                    )
                    vector = (total / vocabulary).to(self.inputs(0).dtype)
                else:
                    token = self.runner.embedding(torch.tensor([0 if key == "zero" else int(key)], device=self.runner.device))[0]
                    vector = torch.zeros_like(token) if key == "zero" else token
            self._baselines[key] = vector.detach()
        return self._baselines[key]

    def samples(self, jobs: Sequence[int], xs: Sequence[Tensor], baselines: Sequence[Baseline]) -> _Samples:
        """Samples from their jobs, moving points and baseline keys (each baseline the same embedding at every moving token)."""
        return _Samples(list(jobs), list(xs), [self.baseline(key).expand_as(x) for key, x in zip(baselines, xs)])

    def _embeds(self, samples: _Samples, ks: Tensor, alphas: Tensor, grad: bool) -> tuple[Packed, Tensor, Tensor, Tensor, Tensor, Tensor]:
        """The chunk's packed rows, embeddings with the path points in place, the moving points ``z`` with their x and b, and each one's row."""
        runner = self.runner
        ex = [samples.job[k] for k in ks.tolist()]
        index = torch.tensor(ex, dtype=torch.long)
        packed = runner.pack(
            [self.jobs[e].prompt_ids for e in ex], self.targets[index], None if self.alternatives is None else self.alternatives[index]
        )
        columns = [self._columns(e, packed.prompt_columns) for e in ex]
        rows = torch.cat([torch.full((len(c),), r, dtype=torch.long) for r, c in enumerate(columns)])
        rows_d, columns_d = rows.to(runner.device), torch.cat(columns).to(runner.device)
        x = torch.cat([samples.x[k] for k in ks.tolist()])
        b = torch.cat([samples.b[k] for k in ks.tolist()])
        with torch.no_grad():
            base = runner.embedding(packed.input_ids)
        a = alphas.to(device=runner.device, dtype=x.dtype)[rows_d].unsqueeze(-1)
        z = (b + a * (x - b)).detach().requires_grad_(grad)
        embeds = base.index_put((rows_d, columns_d), z)
        return packed, embeds, z, x, b, rows

    def gradients(
        self, samples: _Samples, ks: Tensor, alphas: Tensor, element: Element, elementwise: bool
    ) -> Iterator[tuple[Tensor, Tensor, list[Tensor]]]:
        """Per chunk: its row indices, the rows' values ``(rows, T)`` and each row's contributions ``(T, n_moving[, D])`` (float64, CPU)."""
        size = self.runner.chunk_rows(self.longest + (self.steps if self.generated else 0), self.steps, grad=True)
        for chunk in chunks(ks.shape[0], size):
            packed, embeds, z, x, b, rows = self._embeds(samples, ks[chunk], alphas[chunk], grad=True)
            index = torch.tensor([samples.job[k] for k in ks[chunk].tolist()], dtype=torch.long)
            with torch.enable_grad():
                out = self.runner.values(packed, self.quantity, embeds)
                valid = self.valid[index].to(out.device).T[:, :, None]
                cotangents = (torch.eye(self.steps, device=out.device)[:, None, :] * valid).to(out.dtype)
                (grads,) = torch.autograd.grad(out, z, grad_outputs=cotangents, is_grads_batched=True)
            contributions = element(grads.double(), x.double(), b.double())
            contributions = (contributions if elementwise else contributions.sum(-1)).cpu()
            counts = torch.bincount(rows, minlength=len(index)).tolist()
            yield torch.arange(chunk.start, chunk.stop), out.detach().double().cpu(), list(contributions.split(counts, dim=1))

    def accumulate(
        self,
        samples: _Samples,
        ks: Tensor,
        alphas: Tensor,
        weights: Tensor | None,
        element: Element,
        elementwise: bool,
        groups: Tensor | None = None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Per group (a sample, unless ``groups`` maps rows to groups) the sums of ``weight * contribution``, and each row's values."""
        groups = ks if groups is None else groups
        n_groups = int(groups.max()) + 1
        sums: list[Tensor | None] = [None] * n_groups
        values: list[Tensor] = []
        for rows, out, contributions in self.gradients(samples, ks, alphas, element, elementwise):
            values.extend(out)
            for row, contribution in zip(rows.tolist(), contributions):
                term = contribution * (1.0 if weights is None else float(weights[row]))
                g = int(groups[row])
                current = sums[g]
                sums[g] = term if current is None else current + term
        return [s if s is not None else torch.zeros(0) for s in sums], values

    def values(self, samples: _Samples, ks: Tensor, alphas: Tensor) -> Tensor:
        """``(rows, T)`` float64 values at the given path points, without gradients."""
        out: list[Tensor] = []
        size = self.runner.chunk_rows(self.longest + (self.steps if self.generated else 0), self.steps, grad=False)
        for chunk in chunks(ks.shape[0], size):
            with torch.inference_mode():
                packed, embeds, *_ = self._embeds(samples, ks[chunk], alphas[chunk], grad=False)
                out.append(self.runner.values(packed, self.quantity, embeds).double().cpu())
        return torch.cat(out)


def _pad(ids: Tensor, steps: int) -> Tensor:
    return torch.nn.functional.pad(ids, (0, steps - ids.shape[0]))
