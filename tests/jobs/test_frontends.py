"""explain_dataset for every front end: image and generation rows, per-row targets, text pairs, bad rows, resume, summaries."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pandas as pd
import pytest
import torch

from limelight.errors import InvalidInputError
from limelight.jobs import explain_dataset, global_importance, read_results
from limelight.jobs.explorer import explorer_html
from limelight.jobs.results import explanations
from tests.jobs.frontends import PROMPTS, generation_explainer, image_explainer, write_images
from tests.jobs.texts import TEXTS

pytest.importorskip("pyarrow")
PIL = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def images():
    return image_explainer()


@pytest.fixture(scope="module")
def generation():
    return generation_explainer()


def _plain(value):
    """A cell as plain Python values (nested arrays as lists), so rows compare exactly."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value]
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _rows(path):
    return [tuple(_plain(v) for v in row) for row in read_results(path).itertuples(index=False)]


def test_image_rows_hold_the_direct_explanations_scores_and_bad_images_fail_alone(images, tmp_path):
    paths = write_images(tmp_path / "pictures", 3)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    array = np.random.default_rng(1).random((8, 8, 3)).astype(np.float32)
    source = [*paths, str(tmp_path / "broken.png"), str(tmp_path / "missing.png"), array, 7]
    summary = explain_dataset(images, source, tmp_path / "out.parquet", chunk_size=3)
    assert (summary.total, summary.written, summary.failed) == (7, 7, 3)
    frame = read_results(tmp_path / "out.parquet")
    assert list(frame["image"][:3]) == paths and frame["image"][5] == "array 8x8x3 float32"
    errors = [None if pd.isna(e) else e for e in frame["error"]]
    assert errors[:3] == [None] * 3 and errors[5] is None
    assert errors[3].startswith("InvalidInputError: cannot read") and "broken.png" in errors[3]
    assert errors[4] == f"no image file at {str(tmp_path / 'missing.png')!r}"
    assert errors[6].startswith("not an image (a int)")
    direct = images.explain([*paths, array])
    for row, expected in zip(frame.iloc[[0, 1, 2, 5]].itertuples(), direct):
        scores = np.stack(row.scores)
        assert scores.shape == (8, 8)  # the model's input (H', W'), float32
        np.testing.assert_allclose(scores, expected.scores.numpy(), rtol=1e-5, atol=1e-7)
        assert row.prediction == expected.predicted_label and row.target == expected.target_label
        assert json.loads(row.probabilities) == pytest.approx(expected.probabilities, rel=1e-5)
        assert row.delta == pytest.approx(expected.delta, abs=1e-6) and row.steps == 4 and row.method == "integrated_gradients"
        assert list(row.image_size) == [8, 8] and json.loads(row.settings)["baseline"] == "black"
        thumbnail = PIL.open(io.BytesIO(row.thumbnail))
        assert thumbnail.format == "PNG" and thumbnail.size == (8, 8)
    again = explain_dataset(images, source, tmp_path / "out.parquet", chunk_size=3)
    assert (again.already_done, again.written) == (7, 0)
    with pytest.raises(InvalidInputError, match="rows keep their scores"):
        next(explanations(frame))


def test_an_image_folder_and_a_table_of_paths_with_labels_and_per_row_targets(images, tmp_path):
    paths = write_images(tmp_path / "folder" / "sub", 3)
    explain_dataset(images, tmp_path / "folder", tmp_path / "folder.parquet")
    assert list(read_results(tmp_path / "folder.parquet")["id"]) == [f"sub/im{i}.png" for i in range(3)]
    table = pd.DataFrame({"path": paths, "truth": ["cat", 1, "dog"], "explain": ["bird", 3, "zebra"]})
    summary = explain_dataset(images, table, tmp_path / "table.parquet", column="path", label_column="truth", target_column="explain")
    frame = read_results(tmp_path / "table.parquet")
    assert list(frame["label"]) == ["cat", "dog", "dog"] and list(frame["target"][:2]) == ["bird", "fish"]
    assert summary.failed == 1 and "unknown target label 'zebra'" in frame["error"][2] and "'cat'" in frame["error"][2]
    direct = images.explain(paths[:2], target=["bird", 3])
    for scores, expected in zip(frame["scores"][:2], direct):
        np.testing.assert_allclose(np.stack(scores), expected.scores.numpy(), rtol=1e-5, atol=1e-7)
    assert list(frame["correct"][:2]) == [frame["prediction"][0] == "cat", frame["prediction"][1] == "dog"]
    with pytest.raises(InvalidInputError, match="front end was 'image', now 'text'|other settings"):
        explain_dataset(generation_explainer(), table, tmp_path / "table.parquet", column="path")
    with pytest.raises(InvalidInputError, match="JSON Lines output holds text"):
        explain_dataset(images, paths, tmp_path / "out.jsonl")


def test_a_killed_image_job_resumes_to_the_rows_of_a_clean_run(images, tmp_path):
    paths = write_images(tmp_path / "pictures", 4)
    explain_dataset(images, paths, tmp_path / "clean.parquet", chunk_size=2)
    explain_dataset(images, paths, tmp_path / "killed.parquet", chunk_size=2)
    os.unlink(tmp_path / "killed.parquet" / "part-000001.parquet")  # as if the job died before writing its second part
    (tmp_path / "killed.parquet" / ".part-000001.parquet.tmp").write_bytes(b"half a part")
    again = explain_dataset(images, paths, tmp_path / "killed.parquet", chunk_size=2)
    assert (again.already_done, again.written) == (2, 2)
    assert _rows(tmp_path / "killed.parquet") == _rows(tmp_path / "clean.parquet")


def test_generation_rows_hold_the_matrix_sequence_scores_and_per_token_deltas(generation, tmp_path):
    source = pd.DataFrame({"prompt": [*PROMPTS[:3], "  "], "continuation": ["paris .", None, "in lyon", "a"]})
    summary = explain_dataset(generation, source, tmp_path / "gen.parquet", column="prompt", max_new_tokens=2, chunk_size=2)
    assert summary.failed == 1
    frame = read_results(tmp_path / "gen.parquet")
    assert frame["error"][3] == "empty prompt" and frame["error"][:3].isna().all()
    direct = generation.explain(PROMPTS[:3], max_new_tokens=2)
    for (_, rebuilt), row, expected in zip(explanations(frame), frame.itertuples(), direct):
        assert row.prompt == expected.prompt and list(row.generated) == expected.generated and row.generated_text == expected.text
        assert list(row.features) == [text for text, _ in expected.features]
        assert [(s, e) for s, e in zip(row.feature_starts, row.feature_ends)] == [span for _, span in expected.features]
        matrix = np.stack(row.matrix)
        assert matrix.shape == tuple(expected.matrix.shape)
        np.testing.assert_allclose(matrix, expected.matrix.numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(row.sequence_scores, matrix.sum(0), rtol=1e-12, atol=1e-12)
        assert len(row.delta) == len(row.generated) and row.steps == 4 and row.method == "integrated_gradients"
        torch.testing.assert_close(rebuilt.matrix, torch.tensor(matrix, dtype=torch.float64), rtol=0, atol=0)
    with_targets = explain_dataset(generation, source, tmp_path / "targets.parquet", column="prompt", target_column="continuation")
    targeted = read_results(tmp_path / "targets.parquet")
    assert with_targets.failed == 2 and targeted["error"][1] == "no target (the 'continuation' column is empty)"
    forced = generation.explain(PROMPTS[2], "in lyon")  # the row's own continuation, teacher-forced
    assert targeted["target"][2] == "in lyon" and list(targeted["generated"][2]) == forced.generated
    np.testing.assert_allclose(np.stack(targeted["matrix"][2]), forced.matrix.numpy(), rtol=1e-4, atol=1e-6)


def test_text_target_and_pair_columns(explainer, tmp_path):
    labels = explainer.labels
    table = pd.DataFrame(
        {"premise": TEXTS[:4], "hypothesis": ["it was good", "bad", None, "fine"], "explain": [labels[1], 0, 1, "nonsense"]}
    )
    summary = explain_dataset(
        explainer, table, tmp_path / "pairs.parquet", column="premise", text_pair_column="hypothesis", target_column="explain"
    )
    frame = read_results(tmp_path / "pairs.parquet")
    assert list(frame["pair"][:2]) == ["it was good", "bad"] and frame["error"][2] == "text pair: no text (a missing value)"
    assert list(frame["target"][:2]) == [labels[1], labels[0]] and summary.failed == 2
    assert "nonsense" in frame["error"][3] and all(label in frame["error"][3] for label in labels)
    direct = explainer.explain(TEXTS[:2], ["it was good", "bad"], target=[1, 0])
    for (_, rebuilt), expected in zip(explanations(frame), direct):
        assert rebuilt.text_pair == expected.text_pair and rebuilt.target_label == expected.target_label
        assert [s.score for s in rebuilt.word_spans] == pytest.approx([s.score for s in expected.word_spans], rel=1e-5, abs=1e-8)
    table["explain"] = [labels[0], 0, 1, "nonsense"]  # another target is another input: the resume is refused
    with pytest.raises(InvalidInputError, match="other inputs"):
        explain_dataset(
            explainer, table, tmp_path / "pairs.parquet", column="premise", text_pair_column="hypothesis", target_column="explain"
        )
    with pytest.raises(InvalidInputError, match="give one of them"):
        explain_dataset(explainer, table, tmp_path / "o.parquet", column="premise", target_column="explain", target=1)


def test_summaries_and_the_explorer_read_image_and_generation_rows(images, generation, tmp_path):
    paths = write_images(tmp_path / "pictures", 4)
    hostile = tmp_path / '<img src=x onerror="alert(1)">.png'
    os.rename(paths[3], hostile)
    table = pd.DataFrame({"path": [*paths[:3], str(hostile)], "truth": ["cat", "dog", "</script><b>x</b>", "cat"]})
    explain_dataset(images, table, tmp_path / "img.parquet", column="path", label_column="truth")
    importance = global_importance(tmp_path / "img.parquet")
    frame = read_results(tmp_path / "img.parquet")
    assert importance.words.empty and int(importance.predictions["rows"].sum()) == 4
    assert set(importance.predictions["label"]) == set(frame["prediction"])
    assert "predictions per label" in importance.to_text() and len(importance.mistakes) == int((~frame["correct"]).sum())
    page = explorer_html(tmp_path / "img.parquet")
    assert page.count('"m": "data:image/png;base64,') == 4 and "img-src data:;" in page
    assert "<b>" not in page and 'onerror="alert' not in page and "<img" not in page
    explain_dataset(generation, [*PROMPTS[:2], "</script><script>alert(1)</script>"], tmp_path / "gen.parquet", max_new_tokens=2)
    words = global_importance(tmp_path / "gen.parquet", min_count=1)
    assert words.labels == ["log_probability"] and "paris" in set(words.words["word"])
    rows = read_results(tmp_path / "gen.parquet")
    paris = [s for fs, ss in zip(rows["features"], rows["sequence_scores"]) for f, s in zip(fs, ss) if f == "paris"]
    assert words.top("log_probability", 50).set_index("word").loc["paris", "mean"] == pytest.approx(np.mean(paris))
    page = explorer_html(tmp_path / "gen.parquet")
    assert '"kind": "generation"' in page and "<script>alert" not in page and "img-src 'none'" in page


def test_the_cli_reads_target_and_pair_columns(explainer, tmp_path, capsys):
    from limelight.cli import main

    directory = tmp_path / "model"
    explainer.model.save_pretrained(directory)
    explainer.tokenizer.save_pretrained(directory)
    labels = explainer.labels
    pd.DataFrame({"premise": TEXTS[:3], "hypothesis": ["good", "bad", "fine"], "explain": [1, labels[0], "nope"]}).to_csv(
        tmp_path / "pairs.csv", index=False
    )
    job = ["explain", "--model", str(directory), "--file", str(tmp_path / "pairs.csv"), "--column", "premise"]
    assert main([*job, "--pair-column", "hypothesis", "--target-column", "explain", "--output", str(tmp_path / "o.parquet")]) == 0
    frame = read_results(tmp_path / "o.parquet")
    assert list(frame["pair"]) == ["good", "bad", "fine"] and list(frame["target"][:2]) == [labels[1], labels[0]]
    assert "nope" in frame["error"][2] and "1 failed" in capsys.readouterr().err
    assert main([*job, "--target-column", "explain", "--target", "1", "--output", str(tmp_path / "p.parquet")]) == 1
    assert "give one of them" in capsys.readouterr().err
    assert main(["explain", "--model", str(directory), "--target-column", "explain", "a text"]) == 1
    assert "--target-column name columns of a table" in capsys.readouterr().err
