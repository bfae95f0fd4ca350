"""Write the example images of limelight's views to docs/images/.

Everything is computed here, with limelight's embedded demo model (MiniLM fine-tuned on SST-2,
no download): the minimal pair that started the project, on one shared colour scale, at word and
token level; the same pair on per-text scales (labelled as such); a top-words bar chart; a run
with too few integration steps, whose warning shows; and |delta| against steps. When Debian's
chromium and the ``playwright`` package are installed, screenshots of the HTML views are saved
too; otherwise they are skipped with a message.

    python scripts/make_viz_figures.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from limelight.demo import demo_model  # noqa: E402
from limelight.errors import ConvergenceWarning  # noqa: E402
from limelight.text.explainer import TextExplainer  # noqa: E402
from limelight.text.explanation import Explanations  # noqa: E402
from limelight.viz import plot_convergence, plot_top_words, save_html, save_image  # noqa: E402

MINIMAL_PAIR = ["The movie was one of those amazing movies", "The movie was one of those terrible movies"]
STEPS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]


def _explain(model: torch.nn.Module, tokenizer: object, texts: list[str], **options: object) -> Explanations:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the warning is what the figures show
        return Explanations(TextExplainer(model, tokenizer, **options).explain(texts, target="positive"))


def _screenshots(out: Path, pair: Explanations) -> None:
    """Screenshots of the HTML record and comparison views, when a headless chromium is at hand."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("skipped HTML screenshots: needs Debian's chromium and 'pip install playwright'")
        return
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 900, "height": 400}, device_scale_factor=1.5)
        for name, compare in (("html_records", False), ("html_compare", True)):
            page.goto(save_html(Path(folder) / f"{name}.html", pair, compare=compare).as_uri())
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(f"wrote {out / name}.png")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "images")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    model, tokenizer = demo_model()

    pair = _explain(model, tokenizer, MINIMAL_PAIR)
    written = [
        save_image(out / "minimal_pair.png", pair),
        save_image(out / "minimal_pair.svg", pair),
        save_image(out / "minimal_pair_tokens.png", pair, level="token"),
        save_image(out / "minimal_pair_per_text.png", pair, scale="per_text"),
        save_image(out / "not_converged.png", _explain(model, tokenizer, MINIMAL_PAIR[:1], n_steps=1)),
    ]
    top = plot_top_words(pair[1], k=5)
    top.savefig(out / "top_words.png", dpi=150)
    written.append(out / "top_words.png")

    runs = [_explain(model, tokenizer, MINIMAL_PAIR[:1], n_steps=steps)[0] for steps in STEPS]
    final = runs[-1]
    figure = plot_convergence(
        STEPS,
        [run.delta or 0.0 for run in runs],
        tolerance=final.delta_bound,
        title="Integrated gradients (Gauss-Legendre nodes) on the 'amazing' sentence",
    )
    figure.savefig(out / "convergence.png", dpi=150)
    written.append(out / "convergence.png")
    for path in written:
        print(f"wrote {path}")
    _screenshots(out, pair)


if __name__ == "__main__":
    main()
