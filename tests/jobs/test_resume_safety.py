"""Resuming a dataset job never mixes jobs, never writes twice, and never loses or touches what it should not."""

from __future__ import annotations

import copy
import fcntl
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import torch

from limelight import TextExplainer
from limelight.errors import InvalidInputError, LimelightError
from limelight.jobs import explain_to_jsonl, read_jsonl
from limelight.jobs.output import open_output
from tests.jobs.texts import TEXTS


def _unchanged(path: Path, before: bytes) -> bool:
    return path.read_bytes() == before


def test_resuming_with_other_texts_is_refused_and_changes_nothing(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS[:3], tmp_path / "out.jsonl")
    before = path.read_bytes()
    other = ["a different text", *TEXTS[1:]]
    with pytest.raises(InvalidInputError, match=r"other texts: line 2 holds text 0.*delete it to start over"):
        explain_to_jsonl(explainer, other, path)
    with pytest.raises(InvalidInputError, match="other texts"):  # text 2 is no longer part of the job
        explain_to_jsonl(explainer, TEXTS[:2], path)
    assert _unchanged(path, before)


def test_resuming_with_other_settings_is_refused_and_says_what_differs(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS[:3], tmp_path / "out.jsonl")
    before = path.read_bytes()
    saliency = TextExplainer(explainer.model, explainer.tokenizer, method="saliency")
    with pytest.raises(InvalidInputError, match=r"other settings .*method was 'integrated_gradients', now 'saliency'"):
        explain_to_jsonl(saliency, TEXTS, path)
    with pytest.raises(InvalidInputError, match=r"target was None, now 1"):
        explain_to_jsonl(explainer, TEXTS, path, target=1)
    with pytest.raises(InvalidInputError, match=r"n_steps"):
        explain_to_jsonl(TextExplainer(explainer.model, explainer.tokenizer, n_steps=9), TEXTS, path)
    assert _unchanged(path, before)
    explain_to_jsonl(explainer, TEXTS, path)  # the same job resumes
    assert sorted(i for i, _ in read_jsonl(path)) == list(range(len(TEXTS)))


def test_a_second_writer_is_refused(explainer, tmp_path):
    path = tmp_path / "out.jsonl"
    with open_output(path):  # another job holds the file
        with pytest.raises(InvalidInputError, match="being written by another limelight job"):
            explain_to_jsonl(explainer, TEXTS, path)
    assert path.read_bytes() == b""
    with path.open("rb") as handle:  # a lock taken by any other process is respected as well
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        with pytest.raises(InvalidInputError, match="another limelight job"):
            explain_to_jsonl(explainer, TEXTS, path)
    explain_to_jsonl(explainer, TEXTS, path)
    assert [i for i, _ in read_jsonl(path)] == list(range(len(TEXTS)))


def test_trimming_a_torn_last_line_truncates_in_place(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS[:3], tmp_path / "out.jsonl")
    complete = path.read_bytes()
    with path.open("ab") as handle:
        handle.write(b'{"index": 3, "explanation": {"text": "not go')
    rewrites = []

    def audit(event: str, arguments: tuple[object, ...]) -> None:
        if event == "open" and str(arguments[0]) == str(path):
            mode, flags = arguments[1], arguments[2]
            if (isinstance(mode, str) and "w" in mode) or (isinstance(flags, int) and flags & os.O_TRUNC):
                rewrites.append(mode)

    sys.addaudithook(audit)  # hooks cannot be removed: it only records opens of this test's file
    inode = path.stat().st_ino
    original = explainer.explain

    def killed(*args, **kwargs):  # the process dies right after the trim, before any new row
        assert path.read_bytes() == complete
        raise KeyboardInterrupt

    explainer.explain = killed
    try:
        with pytest.raises(KeyboardInterrupt):
            explain_to_jsonl(explainer, TEXTS, path)
    finally:
        explainer.explain = original
    assert rewrites == [] and path.stat().st_ino == inode  # never opened for rewriting, never replaced
    assert path.read_bytes() == complete


@pytest.mark.parametrize(
    "content",
    [
        "the movie was great\na terrible film\nit was fine",  # --file and --output swapped (no newline at the end)
        "the movie was great\na terrible film\n",
        '{"a": 1}\n{"a": 2}',  # foreign JSON Lines
        "[1, 2]\n",
        '{"index": 0, "explanation": {"text": "x"}}\n',  # a row without a header: not checkable
        "\n\n",
    ],
)
def test_a_file_that_is_not_limelight_output_is_refused_and_left_alone(explainer, tmp_path, content):
    path = tmp_path / "texts.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match="nothing was changed|not limelight output|not a limelight record"):
        explain_to_jsonl(explainer, TEXTS, path)
    assert path.read_text(encoding="utf-8") == content


def test_invalid_utf8_in_the_output_names_the_line(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS[:1], tmp_path / "out.jsonl")
    with path.open("ab") as handle:
        handle.write(b'{"index": 1, "sha256": "\xff"}\n')
    before = path.read_bytes()
    with pytest.raises(InvalidInputError, match=r"line 3 is not valid UTF-8"):
        explain_to_jsonl(explainer, TEXTS, path)
    with pytest.raises(InvalidInputError, match=r"line 3 is not valid UTF-8"):
        list(read_jsonl(path))
    assert _unchanged(path, before)


def test_reading_foreign_or_broken_rows_is_a_limelight_error(tmp_path):
    path = tmp_path / "foreign.jsonl"
    path.write_text('{"index": 0, "explanation": {"words": 3}}\n', encoding="utf-8")
    with pytest.raises(LimelightError, match="line 1 is not a complete explanation"):
        list(read_jsonl(path))
    path.write_text('{"name": "x"}\n', encoding="utf-8")
    with pytest.raises(LimelightError, match="line 1 is not a limelight record"):
        list(read_jsonl(path))


def test_texts_under_their_own_indices(explainer, tmp_path):
    path = explain_to_jsonl(explainer, {0: TEXTS[0], 2: TEXTS[2], 7: TEXTS[3]}, tmp_path / "out.jsonl")
    assert {i: e.text for i, e in read_jsonl(path)} == {0: TEXTS[0], 2: TEXTS[2], 7: TEXTS[3]}
    with pytest.raises(InvalidInputError, match="texts must"):
        explain_to_jsonl(explainer, "one text", tmp_path / "x.jsonl")


def test_resume_streams_the_file(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS[:1], tmp_path / "out.jsonl")
    head, row = path.read_text().splitlines()
    count = 8_000
    with path.open("w") as handle:  # a large finished job: 8,000 copies of the same row
        handle.write(head + "\n")
        for index in range(count):
            record = json.loads(row)
            record["index"] = index
            handle.write(json.dumps(record) + "\n")
    assert path.stat().st_size > 10_000_000, "the file must dwarf what a streaming resume keeps"
    explainer_calls = []
    original = explainer.explain
    explainer.explain = lambda *a, **k: explainer_calls.append(a)
    tracemalloc.start()
    try:
        explain_to_jsonl(explainer, [TEXTS[0]] * count, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        explainer.explain = original
    assert explainer_calls == []
    assert peak < path.stat().st_size / 2, peak  # the texts, indices and one line at a time, not the file


def test_plain_progress_lines_for_logs(explainer, tmp_path, capsys):
    explain_to_jsonl(explainer, TEXTS, tmp_path / "out.jsonl", chunk_size=4, log_every=0)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"explaining {tmp_path / 'out.jsonl'}: {n}/6 rows" for n in (4, 6)]
    assert all(" rows/s, ETA " in line for line in lines)


def test_resuming_with_another_model_is_refused(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS[:2], tmp_path / "out.jsonl")
    tuned = copy.deepcopy(explainer.model)
    with torch.no_grad():
        tuned.classifier.bias += 1.0
    with pytest.raises(InvalidInputError, match="model_head_sha256 was"):
        explain_to_jsonl(TextExplainer(tuned, explainer.tokenizer, n_steps=8), TEXTS, path)


def test_another_process_writing_the_file_is_refused(explainer, tmp_path):
    path = tmp_path / "out.jsonl"
    holder = (
        "import fcntl, sys, time\nf = open(sys.argv[1], 'ab')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", holder, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline() == "locked\n"
        with pytest.raises(InvalidInputError, match="being written by another limelight job"):
            explain_to_jsonl(explainer, TEXTS, path)
    finally:
        other.kill()
        other.wait()
    assert path.read_bytes() == b""
