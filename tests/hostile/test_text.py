"""The text front end against the hostile corpus: ``limelight.explain`` and ``TextExplainer``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

import limelight
from limelight.errors import LimelightError
from limelight.text import TextExplainer
from limelight.viz import print_terminal, render_html
from tests.hostile.conftest import SENTENCE, assert_neutralised, save_with_labels
from tests.hostile.corpus import FOLDERS, LABELS, OPTIONS, TEXTS, Case, case_ids, model_folders, outcome
from tests.text.tiny_models import save_tiny_classifier, tiny_classifier

FAST = {"n_steps": 8}
"""Fixed steps keep the long cases fast; the corpus is about refusing cleanly, not convergence."""

pytestmark = pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")


@pytest.mark.parametrize("case", TEXTS, ids=case_ids)
def test_texts_through_explain(case: Case, tiny) -> None:
    model, tokenizer = tiny
    outcome(case, lambda: limelight.explain(model, tokenizer, case.value, **FAST))


@pytest.mark.parametrize("case", TEXTS, ids=case_ids)
def test_texts_through_text_explainer(case: Case, tiny) -> None:
    model, tokenizer = tiny
    explainer = TextExplainer(model, tokenizer, **FAST)
    outcome(case, lambda: explainer.explain(case.value))
    if case.value is not None:  # text_pairs=None is the default (no pairs), not a hostile value
        outcome(case, lambda: explainer.explain(SENTENCE, text_pairs=case.value))


@pytest.mark.parametrize("case", OPTIONS, ids=case_ids)
def test_options(case: Case, tiny) -> None:
    model, tokenizer = tiny
    options = {**({} if "n_steps" in case.options or "method" in case.options else FAST), **case.options}
    outcome(case, lambda: limelight.explain(model, tokenizer, SENTENCE, **options))


@pytest.mark.parametrize("case", LABELS, ids=case_ids)
def test_label_names_cannot_spoof_the_views(case: Case) -> None:
    model, tokenizer = tiny_classifier("bert")
    model.config.id2label = dict(enumerate(case.value))
    model.config.label2id = {name: index for index, name in enumerate(case.value)}
    explanations = outcome(case, lambda: limelight.explain(model, tokenizer, [SENTENCE, "it was bad"], **FAST))
    if isinstance(explanations, LimelightError):
        return
    console = Console(record=True, file=io.StringIO(), width=200, color_system=None)
    print_terminal(explanations, console=console)
    assert_neutralised(console.export_text())
    page = render_html(explanations)
    assert "<img" not in page and "<script" not in page and "</div><script" not in page
    assert_neutralised(page, html=True)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return model_folders(tmp_path_factory.mktemp("folders"), save_tiny_classifier)


@pytest.mark.parametrize("name", FOLDERS)
def test_model_folders(name: str, folders: dict[str, Path]) -> None:
    case = Case(f"model folder: {name}", must_refuse=True)
    outcome(case, lambda: limelight.explain(folders[name], None, SENTENCE, **FAST))
    outcome(case, lambda: TextExplainer.from_pretrained(folders[name]))


def test_a_good_folder_loads(tmp_path: Path) -> None:
    """The corpus's folders are broken copies of this one, which must work (else every refusal is trivial)."""
    path = save_with_labels(tmp_path / "good", ["negative", "neutral", "positive"])
    explanation = limelight.explain(path, None, SENTENCE, **FAST)
    assert explanation.predicted_label in ("negative", "neutral", "positive")
