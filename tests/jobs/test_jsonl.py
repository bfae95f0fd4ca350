"""Dataset jobs: resumable JSON Lines output and sharding."""

import json

import pytest

from limelight.cli import main
from limelight.errors import InvalidInputError
from limelight.jobs import explain_to_jsonl, read_jsonl
from tests.jobs.texts import TEXTS


def test_a_job_writes_every_text_once_and_matches_a_direct_call(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS, tmp_path / "out.jsonl", chunk_size=4)
    records = dict(read_jsonl(path))
    assert sorted(records) == list(range(len(TEXTS)))
    direct = explainer.explain(TEXTS)
    for index, explanation in records.items():
        assert explanation.text == TEXTS[index]
        assert [w for w, _ in explanation.words] == [w for w, _ in direct[index].words]
        assert [s for _, s in explanation.words] == pytest.approx([s for _, s in direct[index].words], rel=1e-5, abs=1e-9)


def test_an_interrupted_job_resumes_without_redoing_or_losing_work(explainer, tmp_path):
    path = tmp_path / "out.jsonl"
    explain_to_jsonl(explainer, TEXTS[:3], path, chunk_size=2)
    # Simulate a crash in the middle of writing the next line.
    with path.open("a") as handle:
        handle.write('{"index": 3, "explanation": {"text": "not go')
    calls = []
    original = explainer.explain
    explainer.explain = lambda texts, *a, **k: calls.append(list(texts)) or original(texts, *a, **k)
    try:
        explain_to_jsonl(explainer, TEXTS, path, chunk_size=2)
    finally:
        del explainer.explain
    assert calls == [TEXTS[3:5], TEXTS[5:]]
    header, *rows = (json.loads(line) for line in path.read_text().splitlines())
    assert header["limelight"] == "explain_to_jsonl" and header["settings"]["method"] == "integrated_gradients"
    assert [row["index"] for row in rows] == [0, 1, 2, 3, 4, 5]


def test_shards_partition_the_dataset(explainer, tmp_path):
    parts = [dict(read_jsonl(explain_to_jsonl(explainer, TEXTS, tmp_path / f"{k}.jsonl", shard=(k, 3)))) for k in range(3)]
    assert [sorted(p) for p in parts] == [[0, 3], [1, 4], [2, 5]]


def test_bad_arguments_are_rejected(explainer, tmp_path):
    path = explain_to_jsonl(explainer, TEXTS[:1], tmp_path / "out.jsonl")
    with pytest.raises(InvalidInputError, match="resume=True"):
        explain_to_jsonl(explainer, TEXTS, path, resume=False)
    with pytest.raises(InvalidInputError, match="shard"):
        explain_to_jsonl(explainer, TEXTS, tmp_path / "x.jsonl", shard=(3, 3))
    with pytest.raises(InvalidInputError, match="chunk_size"):
        explain_to_jsonl(explainer, TEXTS, tmp_path / "x.jsonl", chunk_size=0)
    good = path.read_text()
    (tmp_path / "bad.jsonl").write_text(good + "not json\n" + good)
    with pytest.raises(InvalidInputError, match="line 3"):
        list(read_jsonl(tmp_path / "bad.jsonl"))


def test_the_cli_runs_a_resumable_sharded_job(tmp_path, explainer, capsys):
    directory = tmp_path / "model"
    explainer.model.save_pretrained(directory)
    explainer.tokenizer.save_pretrained(directory)
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(TEXTS) + "\n")
    output = tmp_path / "out.jsonl"
    arguments = ["explain", "--model", str(directory), "--file", str(texts), "--output", str(output)]
    assert main([*arguments, "--shard", "1/2"]) == 0
    assert sorted(i for i, _ in read_jsonl(output)) == [1, 3, 5]
    assert main([*arguments, "--shard", "0/2"]) == 0
    assert sorted(i for i, _ in read_jsonl(output)) == [0, 1, 2, 3, 4, 5]
    assert main([*arguments, "--no-resume"]) == 1
    err = capsys.readouterr().err
    assert "run with --resume to continue it, or delete it" in err and "resume=True" not in err
