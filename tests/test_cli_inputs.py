"""The ``limelight`` command with awkward input and options: every case a result or one clear line, nothing ignored."""

from __future__ import annotations

import functools
import io
import json

import pytest

from limelight import TextExplainer
from limelight.cli import main
from limelight.jobs import explain_dataset, read_jsonl
from limelight.text.baselines import BaselineSpec
from limelight.viz.records import format_score
from tests.test_cli import TEXTS, Stdin, run
from tests.text.tiny_models import one_thread, save_tiny_classifier  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return save_tiny_classifier(tmp_path_factory.mktemp("cli") / "tiny", "bert")


class BinaryStdin(Stdin):
    """Piped standard input with its bytes under ``buffer``, as a real one has."""

    def __init__(self, data: bytes) -> None:
        super().__init__("")
        self.buffer = io.BytesIO(data)


def _ours(err: str) -> list[str]:
    """The stderr lines that are not transformers' weight-loading bar."""
    return [line for line in err.replace("\r", "\n").splitlines() if line and "Loading weights" not in line]


def _never_explain(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command explained before refusing its options")

    monkeypatch.setattr(TextExplainer, "explain", refuse)


def test_an_empty_file_is_refused_even_with_piped_input(capsys, model_dir, tmp_path, monkeypatch):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    monkeypatch.setattr("sys.stdin", Stdin("not these\n"))
    status, out, err = run(capsys, "--model", model_dir, "--json", "--file", str(empty))
    assert (status, out) == (2, "")
    assert "empty.txt holds no texts" in err


def test_indices_are_line_numbers_with_blank_lines_skipped(capsys, model_dir, tmp_path):
    listing = tmp_path / "texts.txt"
    listing.write_text("first text\n\n  \nsecond text\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    status, _, err = run(capsys, "--model", model_dir, "--file", str(listing), "--output", str(output))
    assert status == 0, err
    assert {i: e.text for i, e in read_jsonl(output)} == {0: "first text", 3: "second text"}


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_invalid_utf8_names_the_source_and_line(capsys, model_dir, tmp_path, monkeypatch, source):
    data = b"good text\nbad \xff text\n"
    if source == "file":
        (tmp_path / "texts.txt").write_bytes(data)
        status, out, err = run(capsys, "--model", model_dir, "--file", str(tmp_path / "texts.txt"))
        where = "texts.txt: line 2"
    else:
        monkeypatch.setattr("sys.stdin", BinaryStdin(data))
        status, out, err = run(capsys, "--model", model_dir)
        where = "standard input: line 2"
    assert (status, out) == (1, "")
    assert where in err and "not valid UTF-8" in err and len(_ours(err)) == 1


def test_foreign_jsonl_as_output_is_refused_untouched(capsys, model_dir, tmp_path):
    output = tmp_path / "other.jsonl"
    output.write_text('{"id": 1, "label": "x"}\n{"id": 2}', encoding="utf-8")
    status, _, err = run(capsys, "--model", model_dir, "--output", str(output), TEXTS[0])
    assert status == 1 and "line 1 is not a limelight record" in err
    assert output.read_text(encoding="utf-8") == '{"id": 1, "label": "x"}\n{"id": 2}'


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--output", "OUT", "--html", "x.html"], "--html would do nothing"),
        (["--output", "OUT", "--json"], "--json would do nothing"),
        (["--output", "OUT", "--level", "token"], "--level would do nothing"),
        (["--shard", "0/2"], "--shard only applies to a dataset job"),
        (["--no-resume"], "--resume/--no-resume only applies"),
        (["--html", "/no/such/folder/out.html"], "the folder /no/such/folder does not exist"),
        (["--output", "/no/such/folder/out.jsonl"], "the folder /no/such/folder does not exist"),
    ],
)
def test_options_that_would_be_ignored_or_fail_late_are_refused_first(capsys, model_dir, tmp_path, monkeypatch, options, message):
    _never_explain(monkeypatch)
    options = [str(tmp_path / "out.jsonl") if option == "OUT" else option for option in options]
    status, out, err = run(capsys, "--model", model_dir, *options, TEXTS[0])
    assert (status, out) == (1, "")
    assert message in err
    assert not (tmp_path / "out.jsonl").exists()


def test_no_resume_on_an_existing_file_speaks_cli(capsys, model_dir, tmp_path, monkeypatch):
    output = tmp_path / "out.jsonl"
    output.write_text("keep me\n")
    _never_explain(monkeypatch)
    status, _, err = run(capsys, "--model", model_dir, "--output", str(output), "--no-resume", TEXTS[0])
    assert status == 1 and "run with --resume to continue it, or delete it to start over" in err and "resume=True" not in err
    assert output.read_text() == "keep me\n"


@pytest.mark.parametrize("value", ["PAD", "pda", "[PAD]"])
def test_a_misspelled_baseline_is_refused(capsys, model_dir, value):
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "--model", model_dir, "--baseline", value, TEXTS[0]])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_a_custom_baseline_text_is_its_own_option(capsys, model_dir):
    text = TEXTS[0]
    status, out, err = run(capsys, "--model", model_dir, "--json", "--baseline-text", text, text)
    assert status == 0, err
    (record,) = json.loads(out)
    expected = TextExplainer(model_dir, baseline=BaselineSpec(kind="text", text=text)).explain(text)
    assert record["baseline"] == expected.baseline == f"text {text!r}"
    status, out, err = run(capsys, "--model", model_dir, "--json", "--baseline-text", "pad", "one")
    assert status == 1 or json.loads(out)[0]["baseline"] == "text 'pad'"  # never the named kind
    status, _, err = run(capsys, "--model", model_dir, "--baseline", "mask", "--baseline-text", "x", text)
    assert status == 1 and "not both" in err


def test_ctrl_c_is_one_line_and_exit_130(capsys, model_dir, monkeypatch):
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(TextExplainer, "explain", interrupted)
    status, out, err = run(capsys, "--model", model_dir, TEXTS[0])
    assert (status, out, _ours(err)) == (130, "", ["limelight explain: interrupted"])


def test_ctrl_c_in_a_job_keeps_the_finished_rows(capsys, model_dir, tmp_path, monkeypatch):
    output = tmp_path / "out.jsonl"
    original = TextExplainer.explain
    calls = []

    def second_chunk_interrupted(self, texts, *args, **kwargs):
        calls.append(texts)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return original(self, texts, *args, **kwargs)

    monkeypatch.setattr(TextExplainer, "explain", second_chunk_interrupted)
    monkeypatch.setattr("limelight.cli.explain.explain_dataset", functools.partial(explain_dataset, chunk_size=1))
    status, _, err = run(capsys, "--model", model_dir, "--output", str(output), *TEXTS)
    assert status == 130 and len(_ours(err)) == 1 and "run the same command to resume" in err
    assert [i for i, _ in read_jsonl(output)] == [0]


def test_piped_output_prints_every_score_unwrapped(capsys, model_dir, monkeypatch):
    for variable in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(variable, raising=False)
    long_text = " ".join([TEXTS[0]] * 20)
    expected = TextExplainer(model_dir).explain(long_text)
    status, out, _ = run(capsys, "--model", model_dir, long_text)
    assert status == 0
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    assert rows == [[word, format_score(score)] for word, score in expected.words]
    assert out.splitlines()[0].startswith("prediction: ")


def test_warnings_are_one_clean_line(capsys, model_dir):
    status, _, err = run(capsys, "--model", model_dir, "--target", "0", "--contrast", "0", TEXTS[0])
    assert status == 0
    (line,) = _ours(err)
    assert line.startswith("limelight explain: warning: the contrast label") and line.endswith("(ContrastWarning)")


def test_compare_offers_only_the_metrics_it_can_compute(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    help_text = capsys.readouterr().out
    assert "comprehensiveness" in help_text and "auprc" not in help_text and "iou" not in help_text
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--metrics", "f1", "a text"])
    assert exit_.value.code == 2


@pytest.mark.parametrize("command", ["compare", "explain-image"])
def test_other_commands_check_their_output_before_the_work(capsys, model_dir, command, monkeypatch):
    monkeypatch.setattr("limelight.cli.compare.compare", lambda *a, **k: pytest.fail("compared before checking --html"))
    monkeypatch.setattr("limelight.cli.explain_image.demo_image_model", lambda: pytest.fail("loaded before checking --output"))
    option = "--html" if command == "compare" else "--output"
    extra = ["--model", model_dir, "a text"] if command == "compare" else ["cat.jpg"]
    assert main([command, *extra, option, "/no/such/folder/out.html"]) == 1
    assert "the folder /no/such/folder does not exist" in capsys.readouterr().err
