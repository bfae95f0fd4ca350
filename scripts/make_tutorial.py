"""Compute every figure and number of docs/tutorial.md, write them to docs/tutorial/, and fill in the page.

The tutorial tells the story of a minimal pair explained with limelight's demo model. Each number
in its prose sits between markers, ``<!--n:KEY|FORMAT-->value<!--/n-->`` (``FORMAT`` is a Python
format spec, or ``code`` for inline code; optional; never put a marker inside backticks), and each generated table or capture between ``<!--begin:NAME-->`` and
``<!--end:NAME-->``. This script recomputes them all, writes ``numbers.json``, the snippets
(``NAME.md``) and the images, then rewrites the marked regions of the page, so rerunning it after
the demo model is retrained brings the page up to date. The claims the prose makes in words (which
word dominates, which sign flips, what converges) are checked too: if one no longer holds, the
script names it and exits with status 1, so the prose gets rewritten instead of left wrong.

HTML and terminal screenshots need Debian's chromium and the ``playwright`` package; without them
they are skipped with a message and the previous screenshots stay.

    python scripts/make_tutorial.py
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from rich.console import Console  # noqa: E402

import limelight  # noqa: E402
from limelight import LayerIntegratedGradients, TextExplainer  # noqa: E402
from limelight.demo.model import MANIFEST_PATH, WEIGHTS_DIR  # noqa: E402
from limelight.errors import BatchDependenceError, ConvergenceWarning  # noqa: E402
from limelight.text.explanation import Explanation, Explanations  # noqa: E402
from limelight.viz import choose_scales, plot_convergence, print_terminal, render_html, save_html, save_image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "tutorial.md"
OUT = ROOT / "docs" / "tutorial"

PAIR = ["The movie was one of those amazing movies", "The movie was one of those terrible movies"]
LONGER = "I expected little from this film, and it still managed to disappoint me in nearly every scene."
FIXED_STEPS = (2, 4, 8, 16, 32, 64)
FEW_STEPS = 4  # the under-resolved run whose warning the page shows
INTERNAL_BATCH_SIZES = (1, 7, 4096)
BASELINES = ("pad", "mask", "unk", "zero")
TERMINAL_WIDTH = 130
BATCH_AGREEMENT = 1e-5  # "the same scores": float32 rounding, far below any score the page discusses

NUMBER = re.compile(r"<!--n:([\w.]+)(?:\|([^>]*?))?-->.*?<!--/n-->", re.S)
BLOCK = re.compile(r"(<!--begin:([\w-]+)-->\n).*?(<!--end:\2-->)", re.S)


@dataclass
class Results:
    """What the page shows: numbers by key, markdown snippets by name, and the claims made in words."""

    numbers: dict[str, Any] = field(default_factory=dict)
    snippets: dict[str, str] = field(default_factory=dict)
    claims: dict[str, bool] = field(default_factory=dict)

    def claim(self, description: str, holds: bool) -> None:
        self.claims[description] = bool(holds)


# --- small helpers -------------------------------------------------------------------------------


def quiet_explain(model: Any, tokenizer: Any, texts: Any, **settings: Any) -> Any:
    """``limelight.explain`` with convergence warnings silenced (the run whose warning the page shows catches it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return limelight.explain(model, tokenizer, texts, **settings)


def differing_word(first: Explanation, second: Explanation) -> int:
    """The position of the one word in which two explanations' texts differ."""
    words = [[w for w, _ in e.words] for e in (first, second)]
    positions = [i for i, (a, b) in enumerate(zip(*words)) if a != b]
    if len(words[0]) != len(words[1]) or len(positions) != 1:
        raise SystemExit(f"the pair must differ in exactly one word, got {words}")
    return positions[0]


def score_sum(explanation: Explanation) -> float:
    return sum(score for _, score in explanation.tokens)


def change(explanation: Explanation) -> float:
    """``f(input) - f(baseline)`` of the explained quantity."""
    return (explanation.input_value or 0.0) - (explanation.baseline_value or 0.0)


def top_word(explanation: Explanation) -> int:
    """Position of the word with the largest ``|score|``."""
    return max(range(len(explanation.words)), key=lambda i: abs(explanation.words[i][1]))


def runner_up(explanation: Explanation, skip: int) -> tuple[str, float]:
    """The word with the largest ``|score|`` other than position ``skip``."""
    rest = [w for i, w in enumerate(explanation.words) if i != skip]
    return max(rest, key=lambda w: abs(w[1]))


def word_table(columns: Sequence[tuple[str, Explanation]]) -> str:
    """Markdown table: one row per word, one score column per explanation, evidence rows below."""
    explanations = [e for _, e in columns]
    words = [[w for w, _ in e.words] for e in explanations]
    if len({len(w) for w in words}) != 1:
        raise SystemExit("word_table needs texts with the same number of words")
    lines = ["| word | " + " | ".join(title for title, _ in columns) + " |", "|---|" + "---:|" * len(columns)]
    for position, row in enumerate(zip(*words)):
        label = " / ".join(dict.fromkeys(row))
        bold = len(set(row)) > 1
        cells = [f"{e.words[position][1]:+.3f}" for e in explanations]
        if bold:
            label, cells = f"**{label}**", [f"**{c}**" for c in cells]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    evidence: list[tuple[str, Callable[[Explanation], str]]] = [
        ("sum of scores", lambda e: f"{score_sum(e):+.3f}"),
        ("f(input) − f(baseline)", lambda e: f"{change(e):+.3f}"),
        ("delta", lambda e: f"{e.delta:+.4f}"),
        ("steps", lambda e: str(e.n_steps)),
    ]
    for name, cell in evidence:
        lines.append(f"| *{name}* | " + " | ".join(cell(e) for e in explanations) + " |")
    return "\n".join(lines)


def fenced(text: str, language: str = "text") -> str:
    return f"```{language}\n{text.rstrip()}\n```"


def message(text: str) -> str:
    """A one-line message from limelight (error or warning) wrapped for reading, in a fenced block."""
    return fenced(textwrap.fill(text, 100, break_long_words=False, break_on_hyphens=False))


def terminal_text(explanations: Any, width: int = TERMINAL_WIDTH) -> str:
    """What :func:`limelight.viz.print_terminal` prints, as plain text (trailing spaces dropped)."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    print_terminal(explanations, console=console)
    return strip_lines(console.export_text())


def strip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def terminal_html(explanations: Any, width: int = TERMINAL_WIDTH) -> str:
    """The coloured terminal view as a standalone HTML page (for a screenshot)."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor", force_terminal=True)
    print_terminal(explanations, console=console)
    return console.export_html(inline_styles=True)


def pad_baseline(tokenizer: Any, text: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids of ``text`` and the same ids with every content token replaced by [PAD]."""
    encoded = tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)
    ids = encoded["input_ids"]
    baseline = torch.where(encoded["special_tokens_mask"].bool(), ids, torch.full_like(ids, tokenizer.pad_token_id))
    return ids, baseline


def max_difference(first: Sequence[Explanation], second: Sequence[Explanation]) -> float:
    """Largest absolute difference between the token scores of two runs over the same texts."""
    return max(abs(a - b) for x, y in zip(first, second) for (_, a), (_, b) in zip(x.tokens, y.tokens))


# --- the sections of the page --------------------------------------------------------------------


def demo_weights_digest() -> str:
    """sha256 of the demo model's manifest and shipped weights, to notice a retraining during the run."""
    digest = hashlib.sha256(MANIFEST_PATH.read_bytes())
    for path in sorted(WEIGHTS_DIR.glob("*.safetensors")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def model_facts(results: Results, digest: str) -> None:
    """Which demo model the page describes: its weights' digest and its training and accuracy records."""
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    evaluation, training = manifest["evaluation"], manifest["training"]
    results.numbers.update(
        {
            "model.limelight_version": limelight.__version__,
            "model.digest": digest[:12],
            "model.architecture": manifest["base"]["architecture"],
            "model.trainable": training["trainable"],
            "model.epochs": training["epochs"],
            "model.train_data": training["data"],
            "model.dev_accuracy": evaluation["dev_accuracy_fp16"],
            "model.dev_data": evaluation["data"],
        }
    )


def minimal_pair(model: Any, tokenizer: Any, results: Results) -> tuple[Explanations, int]:
    """Section 1: the pair for each text's own predicted label, then both for "positive"."""
    own = limelight.explain(model, tokenizer, PAIR)
    positive = limelight.explain(model, tokenizer, PAIR, target="positive")
    save_image(OUT / "pair_own_label.png", own)
    save_image(OUT / "pair_positive.png", positive)
    at = differing_word(*own)
    n = results.numbers
    for key, explanation in zip(("s1", "s2"), own):
        word, score = explanation.words[at]
        second_word, second_score = runner_up(explanation, at)
        n.update(
            {
                f"{key}.word": word,
                f"{key}.predicted": explanation.predicted_label,
                f"{key}.p": explanation.predicted_probability,
                f"{key}.own.score": score,
                f"{key}.own.runner_up": second_word,
                f"{key}.own.runner_up_score": second_score,
                f"{key}.own.ratio": abs(score / second_score),
            }
        )
        results.claim(f"{word!r} has the largest |score| explained for its own label", top_word(explanation) == at)
    for key, explanation in zip(("s1", "s2"), positive):
        n[f"{key}.positive.score"] = explanation.words[at][1]
        results.claim(f"{explanation.words[at][0]!r} has the largest |score| for target positive", top_word(explanation) == at)
    results.claim("the two sentences get different predicted labels", own[0].predicted_label != own[1].predicted_label)
    results.claim(
        "for target positive, the differing words' scores have opposite signs", positive[0].words[at][1] * positive[1].words[at][1] < 0
    )
    results.claim(
        "with its own label, each differing word pushes its own prediction up", own[0].words[at][1] > 0 and own[1].words[at][1] > 0
    )
    n["pair.context_max"] = max(abs(s) for e in (*own, *positive) for i, (_, s) in enumerate(e.words) if i != at)
    results.claim(
        "the shared words score less than half the smaller differing word",
        n["pair.context_max"] < 0.5 * min(abs(e.words[at][1]) for e in (*own, *positive)),
    )
    columns = [
        (f'"{own[0].words[at][0]}" → {own[0].target_label}', own[0]),
        (f'"{own[1].words[at][0]}" → {own[1].target_label}', own[1]),
        (f'"{positive[1].words[at][0]}" → {positive[1].target_label}', positive[1]),
    ]
    results.snippets["pair_table"] = word_table(columns)
    results.claim("the first sentence's own label is positive (so its column equals target='positive')", own[0].target_label == "positive")
    return positive, at


def convergence(model: Any, tokenizer: Any, positive: Explanations, results: Results) -> None:
    """Section 2: the delta, the auto mode, fixed steps, and what too few steps look like."""
    n = results.numbers
    auto = positive[0]
    n.update(
        {
            "auto.steps": auto.n_steps,
            "auto.steps_s2": positive[1].n_steps,
            "auto.delta": auto.delta,
            "auto.bound": auto.delta_bound,
            "auto.tolerance": auto.tolerance,
            "auto.input_value": auto.input_value,
            "auto.baseline_value": auto.baseline_value,
            "auto.change": change(auto),
            "auto.sum": score_sum(auto),
        }
    )
    results.claim("the auto mode converged on both sentences", all(e.converged for e in positive))
    runs = [quiet_explain(model, tokenizer, PAIR[0], target="positive", n_steps=steps) for steps in FIXED_STEPS]
    for steps, run in zip(FIXED_STEPS, runs):
        n[f"fixed.{steps}.abs_delta"] = abs(run.delta or 0.0)
    first_ok = next((s for s, r in zip(FIXED_STEPS, runs) if r.converged), None)
    n["fixed.first_converged"] = first_ok
    results.claim(
        f"n_steps={FEW_STEPS} is not converged and the largest fixed n_steps is",
        not runs[FIXED_STEPS.index(FEW_STEPS)].converged and runs[-1].converged,
    )
    figure = plot_convergence(
        FIXED_STEPS,
        [run.delta or 0.0 for run in runs],
        tolerance=auto.delta_bound,
        title=f"First sentence, target positive: fixed Gauss-Legendre steps\n"
        f"(n_steps='auto' stopped at {auto.n_steps} steps with |delta| = {abs(auto.delta or 0.0):.2g})",
    )
    figure.savefig(OUT / "convergence.png", dpi=150)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        few = limelight.explain(model, tokenizer, PAIR[0], target="positive", n_steps=FEW_STEPS)
    messages = [f"{w.category.__name__}: {w.message}" for w in caught if issubclass(w.category, ConvergenceWarning)]
    results.claim(f"n_steps={FEW_STEPS} raises one ConvergenceWarning", len(messages) == 1)
    n["few.option"] = f"n_steps={FEW_STEPS}"
    n["few.abs_delta"] = abs(few.delta or 0.0)
    n["few.change"] = change(few)
    results.snippets["few_steps_warning"] = message("\n".join(messages))
    results.snippets["few_steps_terminal"] = fenced(terminal_text(few))
    save_image(OUT / "not_converged.png", few)


def probabilities(model: Any, tokenizer: Any, positive: Explanations, at: int, results: Results) -> None:
    """Section 3: the same pair with quantity="probability": bounded, saturating units."""
    prob = limelight.explain(model, tokenizer, PAIR, target="positive", quantity="probability")
    save_image(OUT / "pair_probability.png", prob)
    n = results.numbers
    for key, logit_run, prob_run in zip(("s1", "s2"), positive, prob):
        p = prob_run.input_value or 0.0
        n.update(
            {
                f"{key}.prob.p_input": p,
                f"{key}.prob.p_baseline": prob_run.baseline_value,
                f"{key}.prob.headroom": 1.0 - (prob_run.baseline_value or 0.0),
                f"{key}.prob.change": change(prob_run),
                f"{key}.prob.sum": score_sum(prob_run),
                f"{key}.prob.abs_delta": abs(prob_run.delta or 0.0),
                f"{key}.prob.steps": prob_run.n_steps,
                f"{key}.prob.score": prob_run.words[at][1],
                f"{key}.prob.slope": p * (1.0 - p),
            }
        )
    logit_ratio = abs(positive[1].words[at][1] / positive[0].words[at][1])
    prob_ratio = abs(prob[1].words[at][1] / prob[0].words[at][1])
    n["prob.logit_ratio"], n["prob.prob_ratio"] = logit_ratio, prob_ratio
    results.claim("in probability units the positive word's score shrinks relative to the negative word's", prob_ratio > logit_ratio)
    results.claim("the baseline already leans positive in probability (p > 0.5)", (prob[0].baseline_value or 0.0) > 0.5)
    results.claim("the first sentence is confidently positive (p > 0.98)", (prob[0].input_value or 0.0) > 0.98)
    results.claim("probability explanations converged", all(e.converged for e in prob))
    columns = [
        (f'"{positive[0].words[at][0]}", logit', positive[0]),
        (f'"{prob[0].words[at][0]}", probability', prob[0]),
        (f'"{positive[1].words[at][0]}", logit', positive[1]),
        (f'"{prob[1].words[at][0]}", probability', prob[1]),
    ]
    results.snippets["probability_table"] = word_table(columns)


def batch_independence(model: Any, tokenizer: Any, positive: Explanations, results: Results) -> None:
    """Section 4: the same scores however texts and steps are batched, and the guard against a row-mixing forward."""
    with_longer = limelight.explain(model, tokenizer, [PAIR[0], LONGER, PAIR[1]], target="positive")
    variants: list[tuple[str, Sequence[Explanation]]] = [
        ("one text at a time", [limelight.explain(model, tokenizer, text, target="positive") for text in PAIR]),
        ("with a longer text between them (padding)", [with_longer[0], with_longer[2]]),
        ("`batch_size=1`", limelight.explain(model, tokenizer, PAIR, target="positive", batch_size=1)),
    ]
    variants += [
        (f"`internal_batch_size={size}`", limelight.explain(model, tokenizer, PAIR, target="positive", internal_batch_size=size))
        for size in INTERNAL_BATCH_SIZES
    ]
    lines = ["| how the pair was run | max \\|score difference\\| | steps | delta |", "|---|---:|---:|---:|"]
    lines.append(
        "| together (reference) | — | "
        + ", ".join(str(e.n_steps) for e in positive)
        + " | "
        + ", ".join(f"{e.delta:+.4f}" for e in positive)
        + " |"
    )
    worst = 0.0
    for name, run in variants:
        difference = max_difference(positive, run)
        worst = max(worst, difference)
        lines.append(
            f"| {name} | {difference:.2g} | "
            + ", ".join(str(e.n_steps) for e in run)
            + " | "
            + ", ".join(f"{e.delta:+.4f}" for e in run)
            + " |"
        )
    results.snippets["batch_table"] = "\n".join(lines)
    results.numbers["batch.max_difference"] = worst
    results.numbers["batch.smallest_score"] = min(abs(s) for e in positive for _, s in e.words)
    results.claim(f"all batchings agree to within {BATCH_AGREEMENT:g}", worst <= BATCH_AGREEMENT)

    ids, baseline = pad_baseline(tokenizer, PAIR[0])
    embeddings = model.get_input_embeddings()
    wrong = LayerIntegratedGradients(lambda x: torch.softmax(model(x).logits, 1)[0][0].unsqueeze(-1), embeddings)
    try:
        wrong.attribute(ids, baselines=baseline, n_steps=16)
    except BatchDependenceError as error:
        results.snippets["batch_error"] = message(f"{type(error).__name__}: {error}")
        results.numbers["batch.error_class"] = type(error).__name__
        results.claim("the error is a BatchDependenceError", True)
    else:
        results.claim("the [0][0] forward is refused with a BatchDependenceError", False)

    right = LayerIntegratedGradients(lambda x: torch.softmax(model(x).logits, 1), embeddings)
    fixed = right.attribute(ids, baselines=baseline, target=0, n_steps="auto", tolerance=1e-2)
    same = limelight.explain(model, tokenizer, PAIR[0], target=0, quantity="probability")
    scores = fixed.attributions.to(torch.float64).sum(-1)[0]
    results.numbers["fix.sum"] = float(scores.sum())
    results.numbers["fix.delta"] = float(fixed.delta[0])
    results.numbers["fix.vs_explain"] = float(max(abs(a - b) for a, (_, b) in zip(scores.tolist(), same.tokens)))
    results.claim("the fixed forward matches explain(quantity='probability') to 1e-5", results.numbers["fix.vs_explain"] <= 1e-5)


def colours(positive: Explanations, at: int, results: Results) -> None:
    """Section 5: scale, saturation, tooltip, per-text scale, and the CLI's output."""
    word_scores = [[s for _, s in e.words] for e in positive]
    [shared, _] = choose_scales(word_scores, "shared")
    saturated = [w for e in positive for w, s in e.words if shared.is_saturated(s)]
    n = results.numbers
    n["scale.limit"] = shared.limit
    n["scale.description"] = shared.description
    n["scale.saturated"] = ", ".join(f'"{w}"' for w in saturated) or "none"
    word = positive[0].words[at][0]
    match = re.search(rf'title="({re.escape(word)}: [^"]*)"', render_html(positive))
    results.claim(f"the HTML view has a tooltip for {word!r}", match is not None)
    n["tooltip"] = html.unescape(match.group(1)) if match else ""
    save_image(OUT / "pair_per_text.png", positive, scale="per_text")

    command = ["explain", "--target", "positive", *PAIR]
    # FORCE_COLOR: the terminal view although stdout is a pipe (piped, the command prints word<TAB>score lines);
    # NO_COLOR keeps only bold and underline, whose escapes are dropped below.
    environment = {
        **os.environ,
        "COLUMNS": str(TERMINAL_WIDTH),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm",
        "FORCE_COLOR": "1",
        "NO_COLOR": "1",
    }
    shown = "limelight " + " ".join(f'"{a}"' if " " in a else a for a in command)
    output = strip_lines(
        re.sub(
            r"\x1b\[[0-9;]*m",
            "",
            subprocess.run(
                [sys.executable, "-m", "limelight.cli", *command], capture_output=True, text=True, env=environment, check=True
            ).stdout,
        )
    )
    results.snippets["cli"] = fenced(f"$ {shown}\n{output}", "console")
    results.claim("the CLI prints what the library's terminal view shows", output == terminal_text(positive))


def next_steps(model: Any, tokenizer: Any, at: int, results: Results) -> None:
    """Section 6: the differing word under each baseline."""
    explainer = TextExplainer(model, tokenizer)
    runs = explainer.compare_baselines(PAIR[0], BASELINES, target="positive")
    scores = [run.words[at][1] for run in runs]
    results.numbers.update({"baselines.min": min(scores), "baselines.max": max(scores)})
    lines = [
        "| baseline | f(baseline) | f(input) − f(baseline) | score of " + f'"{runs[0].words[at][0]}"' + " | delta | steps |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, run in zip(BASELINES, runs):
        lines.append(
            f"| `{name}` | {run.baseline_value:+.3f} | {change(run):+.3f} | {run.words[at][1]:+.3f} | {run.delta:+.4f} | {run.n_steps} |"
        )
    results.snippets["baselines_table"] = "\n".join(lines)
    results.claim(f"{runs[0].words[at][0]!r} is the top word under every baseline", all(top_word(r) == at for r in runs))


def screenshots(positive: Explanations) -> None:
    """HTML record and comparison views, and the coloured terminal view, as PNG (when chromium is at hand)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("skipped screenshots: needs Debian's chromium and 'pip install playwright'")
        return
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        terminal = Path(folder) / "terminal.html"
        terminal.write_text(terminal_html(positive), encoding="utf-8")
        pages = [
            ("html_records", save_html(Path(folder) / "records.html", positive), 900),
            ("html_compare", save_html(Path(folder) / "compare.html", positive, compare=True), 900),
            ("terminal", terminal, 1120),
        ]
        for name, path, width in pages:
            page = browser.new_page(viewport={"width": width, "height": 200}, device_scale_factor=1.5)
            page.goto(path.as_uri())
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
            page.close()
        browser.close()


# --- filling the page ----------------------------------------------------------------------------


def fill(page: str, results: Results) -> str:
    """The page with every marked number and block replaced by this run's values."""
    missing: list[str] = []

    def number(match: re.Match[str]) -> str:
        key, spec = match.group(1), match.group(2) or ""
        if key not in results.numbers:
            missing.append(key)
            return match.group(0)
        marker = f"{key}|{spec}" if spec else key
        value = f"`{results.numbers[key]}`" if spec == "code" else format(results.numbers[key], spec)
        return f"<!--n:{marker}-->{value}<!--/n-->"

    def block(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in results.snippets:
            missing.append(name)
            return match.group(0)
        return f"{match.group(1)}{results.snippets[name]}\n{match.group(3)}"

    filled = BLOCK.sub(block, NUMBER.sub(number, page))
    starts = [i for i, line in enumerate(page.splitlines(), 1) if line.lstrip().startswith("<!--n:")]
    if starts:
        # Markdown reads a line that starts with "<!--" as a raw HTML block and breaks the paragraph.
        raise SystemExit(f"{PAGE.name}: lines {starts} start with a number marker; move a word onto them")
    if missing:
        raise SystemExit(f"{PAGE.name} refers to values this script does not make: {sorted(set(missing))}")
    return filled


def main() -> int:
    started = time.perf_counter()
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    results = Results()
    digest = demo_weights_digest()
    model, tokenizer = limelight.demo_model()
    model_facts(results, digest)
    positive, at = minimal_pair(model, tokenizer, results)
    convergence(model, tokenizer, positive, results)
    probabilities(model, tokenizer, positive, at, results)
    batch_independence(model, tokenizer, positive, results)
    colours(positive, at, results)
    next_steps(model, tokenizer, at, results)
    screenshots(positive)
    if demo_weights_digest() != digest:
        print("the demo model's weights changed while this script ran (retrained?); run it again")
        return 2

    (OUT / "numbers.json").write_text(json.dumps(results.numbers, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name, snippet in results.snippets.items():
        (OUT / f"{name}.md").write_text(snippet + "\n", encoding="utf-8")
    before = PAGE.read_text(encoding="utf-8")
    after = fill(before, results)
    PAGE.write_text(after, encoding="utf-8")
    print(f"{'updated' if after != before else 'unchanged'} {PAGE.relative_to(ROOT)}; wrote {OUT.relative_to(ROOT)}/")
    failed = [claim for claim, holds in results.claims.items() if not holds]
    for claim in failed:
        print(f"CLAIM NO LONGER HOLDS, rewrite the prose: {claim}")
    print(f"{len(results.claims) - len(failed)}/{len(results.claims)} claims hold; {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
