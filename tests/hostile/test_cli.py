"""``limelight explain`` against the hostile corpus: arguments, ``--file``, standard input, ``--output``, ``--model``.

Every run ends with exit status 0, or 1/2 and one clean error line (the ``cli`` fixture checks
that); a file given as ``--output`` that was refused keeps its bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import SENTENCE, assert_neutralised, save_with_labels
from tests.hostile.corpus import FOLDERS, INPUT_FILES, LABELS, OUTPUT_FILES, TEXTS, Case, case_ids, deadline, model_folders
from tests.text.tiny_models import save_tiny_classifier

pytestmark = pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")

STRING_TEXTS = [case for case in TEXTS if isinstance(case.value, str)]


def _explain(cli, model: Path, *arguments: str, stdin: bytes = b""):
    with deadline():
        return cli("explain", "--model", str(model), *arguments, stdin=stdin)


@pytest.mark.parametrize("case", STRING_TEXTS, ids=case_ids)
def test_texts_as_arguments(case: Case, cli, tiny_folder: Path) -> None:
    _explain(cli, tiny_folder, case.value)


@pytest.mark.parametrize("case", INPUT_FILES, ids=case_ids)
def test_input_files(case: Case, cli, tiny_folder: Path, tmp_path: Path) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_bytes(case.value)
    run = _explain(cli, tiny_folder, "--file", str(texts))
    if case.must_refuse:
        assert run.status == 2, f"{case}: nothing to explain, yet exit status {run.status}"
    assert texts.read_bytes() == case.value


def test_empty_file_with_piped_input_does_not_explain_standard_input(cli, tiny_folder: Path, tmp_path: Path) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_bytes(b"")
    run = _explain(cli, tiny_folder, "--file", str(texts), stdin=b"a text from standard input\n")
    assert run.status == 2 and "standard input" not in run.stdout


@pytest.mark.parametrize("name", ["missing", "a folder"])
def test_unreadable_input_files(name: str, cli, tiny_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "does-not-exist.txt" if name == "missing" else tmp_path
    assert _explain(cli, tiny_folder, "--file", str(path)).status == 1


@pytest.mark.parametrize("stdin", [b"\xff\xfe not UTF-8\n", b"fine\n\x80\n"], ids=["invalid UTF-8 first", "invalid UTF-8 later"])
def test_invalid_utf8_on_standard_input(stdin: bytes, cli, tiny_folder: Path) -> None:
    assert _explain(cli, tiny_folder, "-", stdin=stdin).status == 1


@pytest.mark.parametrize("case", OUTPUT_FILES, ids=case_ids)
def test_foreign_output_files_are_refused_and_kept(case: Case, cli, tiny_folder: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_bytes(case.value)
    run = _explain(cli, tiny_folder, SENTENCE, "--output", str(output))
    assert run.status == 1, f"{case}: a file that is not limelight output was accepted as --output"
    assert output.read_bytes() == case.value, f"{case}: the refused file was changed"


@pytest.mark.parametrize("flag", ["--output", "--html"])
@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_unwritable_outputs(flag: str, where: str, cli, tiny_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "out.jsonl" if where == "missing folder" else tmp_path
    assert _explain(cli, tiny_folder, SENTENCE, flag, str(path)).status == 1


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return model_folders(tmp_path_factory.mktemp("folders"), save_tiny_classifier)


@pytest.mark.parametrize("name", FOLDERS)
def test_model_folders(name: str, cli, folders: dict[str, Path]) -> None:
    assert _explain(cli, folders[name], SENTENCE).status == 1


OPTIONS = {
    "target 1.0": ["--target", "1.0"],
    "target out of range": ["--target", "99"],
    "target unknown label": ["--target", "posittive"],
    "contrast unknown label": ["--contrast", "nope"],
    "unknown method": ["--method", "integrated_gradient_s"],
    "unknown quantity": ["--quantity", "prob"],
    "misspelled option": ["--taget", "positive"],
    "shard out of range": ["--shard", "5/2"],
    "shard not a fraction": ["--shard", "half"],
    "level unknown": ["--level", "char"],
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_bad_options_are_refused(name: str, cli, tiny_folder: Path) -> None:
    assert _explain(cli, tiny_folder, SENTENCE, *OPTIONS[name]).status in (1, 2)


@pytest.mark.parametrize("baseline", ["PAD", "Mask", "pda"])
def test_baseline_spellings(baseline: str, cli, tiny_folder: Path) -> None:
    _explain(cli, tiny_folder, SENTENCE, "--baseline", baseline)


@pytest.mark.parametrize("case", LABELS, ids=case_ids)
def test_label_names_cannot_spoof_the_terminal(case: Case, cli, tmp_path: Path) -> None:
    folder = save_with_labels(tmp_path / "model", case.value)
    for extra in ([], ["--target", "2"]):
        run = _explain(cli, folder, SENTENCE, "it was bad", *extra)
        assert_neutralised(run.stdout)  # standard error also holds transformers' own loading bar
