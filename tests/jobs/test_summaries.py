"""Global importance (analytic oracle), the explorer page's escaping, and the summarize / report / explain commands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from limelight.cli import main
from limelight.errors import InvalidInputError
from limelight.jobs import explain_dataset, global_importance, read_results, save_explorer
from tests.jobs.texts import TEXTS

pytest.importorskip("pyarrow")
HOSTILE = '</script><script>window.__limelight_pwned = 1</script><img src=x onerror="window.__limelight_pwned = 2"> \u202e&amp;'


def _rows(records):
    """Job rows as a DataFrame (only what global importance reads needs values)."""
    base = {
        "label": None,
        "prediction": None,
        "probability": None,
        "correct": None,
        "delta": None,
        "steps": None,
        "converged": True,
        "error": None,
    }
    return pd.DataFrame([{**base, "explanation": "{}", **r} for r in records])


def test_global_importance_matches_hand_computed_statistics():
    frame = _rows(
        [
            {"id": 0, "text": "good film", "target": "pos", "words": ["Good", "film"], "scores": [1.0, 0.5]},
            {"id": 1, "text": "good good", "target": "pos", "words": ["good", "good"], "scores": [3.0, 2.0]},
            {"id": 2, "text": "film", "target": "pos", "words": ["film"], "scores": [-0.5]},
            {
                "id": 3,
                "text": "bad",
                "target": "neg",
                "words": ["bad"],
                "scores": [2.0],
                "label": "pos",
                "prediction": "neg",
                "probability": 0.9,
                "correct": False,
            },
            {"id": 4, "text": "bad", "target": "neg", "words": ["bad"], "scores": [4.0], "converged": False, "delta": 0.3},
            {"id": 5, "text": "", "target": None, "words": None, "scores": None, "explanation": None, "error": "empty text"},
        ]
    )
    importance = global_importance(frame, n_bootstrap=500, seed=1)
    good = importance.words.set_index(["label", "word"]).loc[("pos", "good")]
    assert (good["count"], good["texts"], good["mean"], good["total"]) == (3, 2, 2.0, 6.0)
    assert 1.0 <= good["low"] <= 2.0 <= good["high"] <= 3.0 and not good["flips"]
    film = importance.words.set_index(["label", "word"]).loc[("pos", "film")]
    assert film["flips"] and film["positive_share"] == 0.5 and film["mean"] == 0.0
    assert list(importance.top("pos", 5)["word"]) == ["good", "film"]
    assert list(importance.top("neg", 5, by="total")["total"]) == [6.0]
    assert list(importance.flips()["word"]) == ["film"]
    assert importance.mistakes["id"].tolist() == [3] and importance.unconverged["id"].tolist() == [4]
    assert importance.failures.to_dict("records") == [{"id": 5, "text": "", "error": "empty text"}]
    assert "label 'pos': top words by mean" in importance.to_text() and "1 mistakes" in importance.to_text()
    repeat = global_importance(frame, n_bootstrap=500, seed=1)
    assert np.array_equal(repeat.words[["low", "high"]].to_numpy(), importance.words[["low", "high"]].to_numpy())
    with pytest.raises(InvalidInputError, match="no rows explain label"):
        importance.top("other")
    with pytest.raises(InvalidInputError, match="flip_share"):
        global_importance(frame, flip_share=0.7)


def test_explorer_page_is_self_contained_and_escapes_every_byte(explainer, tmp_path):
    explain_dataset(explainer, [*TEXTS, HOSTILE, ""], tmp_path / "out.parquet")
    page = save_explorer(tmp_path / "out.parquet", tmp_path / "explorer.html", title="<b>title</b>").read_text(encoding="utf-8")
    assert "<script>window.__limelight_pwned" not in page and "<img" not in page and "<b>title" not in page
    assert page.count("<script") == 2 and "Content-Security-Policy" in page and "http" not in page.replace("http-equiv", "")
    data = page.split('<script type="application/json" id="ll-data">')[1].split("</script>")[0]
    rows = json.loads(data)["rows"]
    assert rows[6]["t"] == HOSTILE and "\\u202e" in "".join(piece[0] for piece in rows[6]["h"])  # the override is shown, not applied
    assert rows[7]["e"] == "empty text" and len(rows) == 8
    importance = global_importance(tmp_path / "out.parquet")
    importance.save_chart(tmp_path / "words.svg")
    assert (tmp_path / "words.svg").read_text().startswith("<?xml")


def test_the_commands_run_a_table_job_summarize_it_and_report_it(explainer, tmp_path, capsys):
    directory = tmp_path / "model"
    explainer.model.save_pretrained(directory)
    explainer.tokenizer.save_pretrained(directory)
    pd.DataFrame({"id": [f"r{i}" for i in range(6)], "review": TEXTS, "label": [1, 0, 1, 0, 1, 0]}).to_csv(
        tmp_path / "data.csv", index=False
    )
    out = tmp_path / "out.parquet"
    job = ["explain", "--model", str(directory), "--file", str(tmp_path / "data.csv"), "--column", "review", "--label-column", "label"]
    assert main([*job, "--output", str(out), "--shard", "0/2"]) == 0
    assert main([*job, "--output", str(out), "--shard", "1/2"]) == 0
    err = capsys.readouterr().err
    assert "3 rows in this job, 0 already done, 3 written (0 failed)" in err
    frame = read_results(out)
    assert list(frame["id"]) == [f"r{i}" for i in range(6)] and frame["correct"].notna().all()
    assert main(["summarize", str(out), "--min-count", "1", "--chart", str(tmp_path / "w.png"), "--csv", str(tmp_path / "w.csv")]) == 0
    text = capsys.readouterr().out
    assert "top words by mean" in text and (tmp_path / "w.png").stat().st_size > 0 and "word" in (tmp_path / "w.csv").read_text()
    assert main(["report", str(out), "--html", str(tmp_path / "e.html")]) == 0
    assert 'id="ll-data"' in (tmp_path / "e.html").read_text()
    assert main([*job, "--output", str(tmp_path / "o.jsonl")]) == 1
    assert "integer ids" in capsys.readouterr().err
    assert main(["explain", "--column", "review", "some text"]) == 1
    assert "--column reads the texts from a table" in capsys.readouterr().err
    assert main(["explain", "--file", str(tmp_path / "data.csv"), "--column", "review"]) == 1
    assert "--column only applies to a dataset job" in capsys.readouterr().err
    assert main(["explain", "--workers", "2", "x", "--output", str(tmp_path / "w.parquet")]) == 1
    assert "--engine ray" in capsys.readouterr().err


def test_piped_explain_prints_progress_lines(explainer, tmp_path, capsys, monkeypatch):
    import limelight.cli.explain as command

    monkeypatch.setattr(command, "LOG_EVERY", 0.0)
    directory = tmp_path / "model"
    explainer.model.save_pretrained(directory)
    explainer.tokenizer.save_pretrained(directory)
    assert main(["explain", "--model", str(directory), *TEXTS * 3]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("explaining texts: ")]
    assert [line.split(",")[0] for line in lines] == ["explaining texts: 16/18 texts", "explaining texts: 18/18 texts"]
    assert all(" texts/s, ETA " in line for line in lines)
