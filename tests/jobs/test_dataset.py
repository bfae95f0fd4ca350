"""explain_dataset: every source, Parquet output, bad rows, resume after a kill at any write, shards, Ctrl-C, progress."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import replace

import pandas as pd
import pytest

from limelight.errors import InvalidInputError
from limelight.jobs import explain_dataset, read_jsonl_failures
from limelight.jobs.parquet import COLUMNS, schema
from limelight.jobs.results import explanations, read_results
from tests.jobs.texts import TEXTS

pytest.importorskip("pyarrow")


def _rows(path):
    """The job's rows as comparable records (the explanation JSON holds every score exactly)."""
    frame = read_results(path)
    return [
        tuple(json.dumps(list(v)) if hasattr(v, "__len__") and not isinstance(v, str) else v for v in row)
        for row in frame.itertuples(index=False)
    ]


def test_rows_match_a_direct_call_and_carry_their_evidence(explainer, tmp_path):
    summary = explain_dataset(explainer, TEXTS, tmp_path / "out.parquet", chunk_size=4)
    assert (summary.total, summary.written, summary.failed) == (6, 6, 0)
    frame = read_results(tmp_path / "out.parquet")
    assert list(frame.columns) == list(COLUMNS) == schema(True).names
    assert list(frame["id"]) == list(range(6)) and list(frame["text"]) == TEXTS
    direct = explainer.explain(TEXTS)
    for (row_id, explanation), row in zip(explanations(frame), frame.itertuples()):
        expected = direct[row_id]  # the same up to float rounding (batches of other sizes pad differently)
        assert explanation.word_spans == [replace(s, score=pytest.approx(s.score, rel=1e-5, abs=1e-8)) for s in expected.word_spans]
        assert explanation.probabilities == pytest.approx(expected.probabilities, rel=1e-6)
        assert list(row.words) == [w for w, _ in expected.words] and list(row.scores) == [s for _, s in explanation.words]
        assert row.delta == explanation.delta == pytest.approx(expected.delta, abs=1e-6) and row.steps == 8
        assert row.prediction == expected.predicted_label and row.probability == explanation.predicted_probability
    assert frame["error"].isna().all()


def test_results_do_not_depend_on_the_chunk_size(explainer, tmp_path):
    explain_dataset(explainer, TEXTS, tmp_path / "a.parquet", chunk_size=1)
    explain_dataset(explainer, TEXTS, tmp_path / "b.parquet", chunk_size=5)
    assert len(os.listdir(tmp_path / "a.parquet")) > len(os.listdir(tmp_path / "b.parquet"))
    a, b = read_results(tmp_path / "a.parquet"), read_results(tmp_path / "b.parquet")
    exact = ["id", "text", "prediction", "target", "words", "steps", "converged", "method", "error", "sha256"]
    assert a[exact].map(str).values.tolist() == b[exact].map(str).values.tolist()
    for x, y in zip(a["scores"], b["scores"]):  # equal up to float rounding: batches of other sizes pad differently
        assert list(x) == pytest.approx(list(y), rel=1e-5, abs=1e-7)
    assert list(a["probability"]) == pytest.approx(list(b["probability"]), rel=1e-6)


def test_every_source_kind(explainer, tmp_path):
    (tmp_path / "a.csv").write_bytes(b"id,review,label\n10,the movie was great,1\n11,,0\n12,bad \xff bytes,0\n13,a terrible film,0\n")
    (tmp_path / "a.tsv").write_text("review\tlabel\nthe movie was great\tpositive\nbad\tnegative\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"review": "it was fine"}\nnot json\n{"review": 5}\n', encoding="utf-8")
    pd.DataFrame({"review": ["great great great", None]}, index=[7, 9]).to_parquet(tmp_path / "a.parquet")
    cases = {
        "a.csv": ([10, 11, 12, 13], [None, "empty text", "undecodable bytes: the text is not valid UTF-8", None]),
        "a.tsv": ([0, 1], [None, None]),
        "a.jsonl": ([0, 1, 2], [None, "line 2 is not valid JSON (Expecting value)", "not a text (a int)"]),
        "a.parquet": ([7, 9], [None, "no text (a missing value)"]),
    }
    for name, (ids, errors) in cases.items():
        summary = explain_dataset(
            explainer, tmp_path / name, tmp_path / f"{name}.out.parquet", column="review", label_column="label" if "sv" in name else None
        )
        frame = read_results(tmp_path / f"{name}.out.parquet")
        assert list(frame["id"]) == ids, name
        assert [None if pd.isna(e) else e for e in frame["error"]] == errors, name
        assert summary.failed == sum(e is not None for e in errors)
    csv = read_results(tmp_path / "a.csv.out.parquet")
    labels = explainer.labels
    assert list(csv["label"]) == [labels[1], labels[0], labels[0], labels[0]]
    assert csv["correct"][0] == (csv["prediction"][0] == labels[1])
    assert "\ufffd" in csv["text"][2]  # shown with a replacement character, never explained
    frame = pd.DataFrame({"id": ["x", "y"], "text": TEXTS[:2]})
    explain_dataset(explainer, frame, tmp_path / "df.parquet", column="text")
    assert list(read_results(tmp_path / "df.parquet")["id"]) == ["x", "y"]
    explain_dataset(explainer, {5: TEXTS[0], 3: TEXTS[1]}, tmp_path / "map.parquet")
    assert list(read_results(tmp_path / "map.parquet")["text"]) == [TEXTS[1], TEXTS[0]]


def test_bad_sources_and_options_are_refused(explainer, tmp_path):
    (tmp_path / "a.csv").write_text("id,text\n1,a\n1,b\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="id 1 appears more than once"):
        explain_dataset(explainer, tmp_path / "a.csv", tmp_path / "o.parquet", column="text")
    with pytest.raises(InvalidInputError, match=r"no column 'review'.*\['id', 'text'\]"):
        explain_dataset(explainer, tmp_path / "a.csv", tmp_path / "o.parquet", column="review")
    with pytest.raises(InvalidInputError, match="say which column"):
        explain_dataset(explainer, tmp_path / "a.csv", tmp_path / "o.parquet")
    with pytest.raises(InvalidInputError, match="cannot read inputs from a int"):
        explain_dataset(explainer, 5, tmp_path / "o.parquet")
    with pytest.raises(InvalidInputError, match="integer ids"):
        explain_dataset(explainer, pd.DataFrame({"id": ["x"], "t": ["a"]}), tmp_path / "o.jsonl", column="t")
    with pytest.raises(InvalidInputError, match="engine"):
        explain_dataset(explainer, TEXTS, tmp_path / "o.parquet", engine="spark")
    with pytest.raises(InvalidInputError, match="engine='ray'"):
        explain_dataset(explainer, TEXTS, tmp_path / "o.parquet", workers=2)
    with pytest.raises(InvalidInputError, match="one label"):
        explain_dataset(explainer, TEXTS, tmp_path / "o.parquet", target=[0, 1])
    assert not (tmp_path / "o.parquet").exists()


def test_a_text_the_model_cannot_take_fails_alone(explainer, tmp_path):
    original = explainer.explain

    def picky(texts, *args, **kwargs):
        if "bad" in texts:
            raise InvalidInputError("this text is too bad for the model")
        return original(texts, *args, **kwargs)

    explainer.explain = picky
    try:
        summary = explain_dataset(explainer, TEXTS, tmp_path / "out.parquet", chunk_size=3)
    finally:
        del explainer.explain
    assert summary.failures == [(5, "InvalidInputError: this text is too bad for the model")]
    frame = read_results(tmp_path / "out.parquet")
    assert frame["error"].notna().tolist() == [False] * 5 + [True] and frame["explanation"][:5].notna().all()
    assert "failed: id 5: InvalidInputError" in str(summary)


def test_a_job_killed_at_any_write_resumes_to_the_rows_of_a_clean_run(explainer, tmp_path, monkeypatch):
    clean = tmp_path / "clean.parquet"
    explain_dataset(explainer, TEXTS, clean, chunk_size=2)
    import limelight.jobs.parquet as parquet

    for fault in ("write", "replace"):  # the process dies while writing a part, or just before renaming it into place
        path = tmp_path / f"{fault}.parquet"
        calls = []

        def dying_replace(source, destination, _real=os.replace):
            if str(destination).endswith("part-000001.parquet"):
                raise KeyboardInterrupt  # as good as SIGKILL here: nothing after this line runs
            return _real(source, destination)

        def dying_fsync(descriptor, _real=os.fsync, calls=calls):
            calls.append(descriptor)
            if len(calls) == 5:  # manifest, its folder, part 0, its folder, then the second part's data
                raise KeyboardInterrupt
            return _real(descriptor)

        monkeypatch.setattr(parquet.os, "replace" if fault == "replace" else "fsync", dying_replace if fault == "replace" else dying_fsync)
        with pytest.raises(KeyboardInterrupt):
            explain_dataset(explainer, TEXTS, path, chunk_size=2)
        monkeypatch.undo()
        assert any(name.endswith(".tmp") for name in os.listdir(path))
        assert list(read_results(path)["id"]) == [0, 1]  # the unfinished part is not data
        explain_dataset(explainer, TEXTS, path, chunk_size=2)
        assert not any(name.endswith(".tmp") for name in os.listdir(path))
        assert _rows(path) == _rows(clean)
        summary = explain_dataset(explainer, TEXTS, path, chunk_size=2)  # idempotent: a finished job does nothing
        assert (summary.already_done, summary.written) == (6, 0)
        assert _rows(path) == _rows(clean)


def test_resume_refuses_other_inputs_settings_and_foreign_folders(explainer, tmp_path):
    path = tmp_path / "out.parquet"
    explain_dataset(explainer, TEXTS[:3], path)
    before = sorted(os.listdir(path))
    with pytest.raises(InvalidInputError, match="other inputs: part-000000.parquet holds id 0"):
        explain_dataset(explainer, ["another text", *TEXTS[1:]], path)
    with pytest.raises(InvalidInputError, match="target was None, now 1"):
        explain_dataset(explainer, TEXTS, path, target=1)
    with pytest.raises(InvalidInputError, match="resume=True"):
        explain_dataset(explainer, TEXTS, path, resume=False)
    assert sorted(os.listdir(path)) == before
    foreign = tmp_path / "foreign.parquet"
    foreign.mkdir()
    (foreign / "data.parquet").write_bytes(b"not ours")
    with pytest.raises(InvalidInputError, match="not limelight output"):
        explain_dataset(explainer, TEXTS, foreign)
    assert os.listdir(foreign) == ["data.parquet"]
    (tmp_path / "file.parquet").write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="is a file"):
        explain_dataset(explainer, TEXTS, tmp_path / "file.parquet")


def test_a_second_writer_is_refused(explainer, tmp_path):
    from limelight.jobs.output import open_output

    path = tmp_path / "out.parquet"
    path.mkdir()
    with open_output(path / ".limelight.lock"):
        with pytest.raises(InvalidInputError, match="being written by another limelight job"):
            explain_dataset(explainer, TEXTS, path)


def test_shards_partition_the_rows(explainer, tmp_path):
    ids = [
        list(read_results(tmp_path / f"{k}.parquet")["id"])
        for k in range(3)
        if explain_dataset(explainer, TEXTS, tmp_path / f"{k}.parquet", shard=(k, 3))
    ]
    assert ids == [[0, 3], [1, 4], [2, 5]]
    path = tmp_path / "all.parquet"
    for k in (1, 0):  # shards run one after another into one folder make the whole job
        explain_dataset(explainer, TEXTS, path, shard=(k, 2))
    assert list(read_results(path)["id"]) == list(range(6))


def test_ctrl_c_writes_the_chunk_in_flight_then_stops(explainer, tmp_path):
    original = explainer.explain
    calls = []

    def interrupted(texts, *args, **kwargs):
        calls.append(list(texts))
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while the second chunk is being explained
        return original(texts, *args, **kwargs)

    explainer.explain = interrupted
    try:
        with pytest.raises(KeyboardInterrupt):
            explain_dataset(explainer, TEXTS, tmp_path / "out.parquet", chunk_size=2)
        assert len(calls) == 2
        assert list(read_results(tmp_path / "out.parquet")["id"]) == [0, 1, 2, 3]  # the chunk in flight was kept
        explain_dataset(explainer, TEXTS, tmp_path / "out.parquet", chunk_size=2)
        assert calls[2:] == [TEXTS[4:]]
    finally:
        del explainer.explain
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_progress_lines_and_summary(explainer, tmp_path, capsys):
    summary = explain_dataset(explainer, ["", *TEXTS[1:]], tmp_path / "out.jsonl", chunk_size=4, log_every=0)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" rows/s")[0].rsplit(", ", 1)[0] for line in lines] == [
        f"explaining {tmp_path / 'out.jsonl'}: 4/6 rows, 1 failed",
        f"explaining {tmp_path / 'out.jsonl'}: 6/6 rows, 1 failed",
    ]
    assert all(", ETA " in line for line in lines)
    assert list(read_jsonl_failures(tmp_path / "out.jsonl")) == [(0, "empty text")]
    assert str(summary).startswith(f"{tmp_path / 'out.jsonl'}: 6 rows in this job, 0 already done, 6 written (1 failed) in ")
    assert "failed: id 0: empty text" in str(summary)


def test_a_hugging_face_dataset(explainer, tmp_path):
    datasets = pytest.importorskip("datasets", reason="the Hugging Face datasets package: pip install datasets")
    source = datasets.Dataset.from_dict({"text": TEXTS[:3], "label": [1, 0, 1]})
    explain_dataset(explainer, source, tmp_path / "hf.parquet", column="text", label_column="label")
    frame = read_results(tmp_path / "hf.parquet")
    assert list(frame["id"]) == [0, 1, 2] and list(frame["text"]) == TEXTS[:3]
    assert list(frame["label"]) == [explainer.labels[i] for i in (1, 0, 1)]
