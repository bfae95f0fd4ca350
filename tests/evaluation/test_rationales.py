"""Loading SST tree rationales and toxic spans."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from limelight.errors import InvalidInputError
from limelight.evaluation import load_sst_rationales, load_toxic_spans
from limelight.evaluation.rationales import parse_sst_tree, sst_rationale, unescape_ptb

POSITIVE = "(3 (2 It) (4 (4 (2 's) (4 (3 (2 a) (4 (3 lovely) (2 film))) (3 (2 with) (2 -LRB-) (4 (3 lovely) (2 performances))))) (2 .)))"
NEGATIVE = "(1 (2 The) (0 (1 dull) (2 (2 plot\\/story) (2 ``drags''))))"
NEUTRAL = "(2 (2 A) (2 film))"
SHARED = Path(os.environ.get("LIMELIGHT_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))


def test_parse_tree_gives_root_and_leaves_in_order():
    root, leaves = parse_sst_tree(NEGATIVE)
    assert root == 1
    assert leaves == [(2, "The"), (1, "dull"), (2, "plot\\/story"), (2, "``drags''")]


def test_positive_rationale_text_offsets_and_words():
    rationale = sst_rationale(POSITIVE)
    assert rationale is not None and rationale.label == "positive"
    assert rationale.text == "It 's a lovely film with ( lovely performances ."
    assert rationale.rationale_words() == ["lovely", "lovely"]
    for (start, end), word in zip(rationale.word_offsets, rationale.words):
        assert rationale.text[start:end] == word
    assert rationale.spans == ((8, 14), (27, 33))


def test_negative_rationale_and_escapes():
    rationale = sst_rationale(NEGATIVE)
    assert rationale is not None and rationale.label == "negative"
    assert rationale.rationale_words() == ["dull"]
    assert rationale.text == "The dull plot/story ``drags''"
    assert unescape_ptb("-LRB-") == "(" and unescape_ptb("``") == '"' and unescape_ptb("a\\*b") == "a*b"


def test_loader_skips_neutral_and_reports_bad_lines(tmp_path):
    trees = tmp_path / "dev.txt"
    trees.write_text("\n".join([POSITIVE, NEUTRAL, NEGATIVE]) + "\n", encoding="utf-8")
    rationales = load_sst_rationales(tmp_path, "dev", labels=("neg", "pos"))
    assert [r.label for r in rationales] == ["pos", "neg"]
    assert load_sst_rationales(trees, labels=("neg", "pos")) == rationales
    (tmp_path / "bad.txt").write_text("(3 (2 It)\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="bad.txt, line 1"):
        load_sst_rationales(tmp_path / "bad.txt")
    with pytest.raises(InvalidInputError, match="no SST trees"):
        load_sst_rationales(tmp_path, "train")


def test_toxic_spans_become_character_runs(tmp_path):
    data = tmp_path / "spans.csv"
    data.write_text(
        "spans,text\n\"[15, 16, 17, 18, 19, 27, 28, 29, 30, 31]\",Because he's a moron and a bigot. It's not.\n"
        '"[]","two\nlines"\n"[0, 1, 99]",ok\n',
        encoding="utf-8",
    )
    first, empty, clipped = load_toxic_spans(data)
    assert first.spans == ((15, 20), (27, 32)) and first.rationale_words() == ["moron", "bigot"]
    assert empty.text == "two\nlines" and empty.spans == ()
    assert clipped.spans == ((0, 2),)
    (tmp_path / "wrong.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="spans"):
        load_toxic_spans(tmp_path / "wrong.csv")


@pytest.mark.skipif(not (SHARED / "sst-trees" / "dev.txt").exists(), reason="shared SST data not present")
def test_sst_dev_has_the_872_binary_sentences_of_sst2_dev():
    rationales = load_sst_rationales(SHARED / "sst-trees", "dev")
    assert len(rationales) == 872
    assert sum(r.label == "positive" for r in rationales) == 444
