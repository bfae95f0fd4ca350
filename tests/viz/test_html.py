"""HTML views: escaping, valid self-contained markup, shared scales, headers, comparison, Jupyter."""

from __future__ import annotations

import pytest

from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanations
from limelight.viz import NEGATIVE_EXTREME, POSITIVE_EXTREME, compare_html, render_html, save_html
from limelight.viz.html import escape, tag
from tests.viz.builders import AMAZING, AMAZING_SCORES, HOSTILE_LABEL, HOSTILE_TEXTS, TERRIBLE, make_explanation
from tests.viz.markup import read


def _chips(root):
    return root.find_all("span", "ll-chip")


def _background(chip) -> str:
    return dict(part.split(":", 1) for part in chip.attrs["style"].split(";"))["background-color"]


def test_tag_escapes_children_and_attributes():
    assert tag("span", "<b>&", title='"x" <y>') == '<span title="&quot;x&quot; &lt;y&gt;">&lt;b&gt;&amp;</span>'
    assert escape(escape("<")) == "&lt;"  # escaping is idempotent on Markup


def test_document_is_valid_self_contained_and_offline(tmp_path, minimal_pair):
    path = save_html(tmp_path / "pair.html", minimal_pair, title="A & B")
    document = path.read_text(encoding="utf-8")
    root, errors, doctype = read(document)
    assert errors == [] and doctype == "DOCTYPE html"
    assert document.startswith('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    for remote in ("http:", "https:", "//", "url(", "@import", "<script", "<link", "src=", "href="):
        assert remote not in document
    [head] = root.find_all("head")
    assert head.find_all("style") and head.find_all("title")[0].all_text() == "A & B"
    assert not root.find_all("body")[0].find_all("style")  # the stylesheet sits in <head> only


def test_hostile_texts_and_labels_show_as_literal_text(tmp_path, hostile):
    for compare in (False, True):
        document = save_html(tmp_path / "h.html", hostile, compare=compare, title=HOSTILE_TEXTS[3]).read_text()
        root, errors, _ = read(document)
        assert errors == []  # no tag or attribute beyond limelight's own: nothing was injected
        shown = root.find_all("body")[0].all_text()
        for text in HOSTILE_TEXTS + [HOSTILE_LABEL, "</th><script>alert(2)</script>", "<i>ig</i>", "<u>logit</u>"]:
            # the comparison grid drops the spaces between words (cells stand for them)
            assert "".join(text.split()) in "".join(shown.split()) if compare else text in shown


def test_every_record_shows_its_original_strings(minimal_pair, hostile):
    for explanation in minimal_pair + hostile:
        root, _, _ = read(render_html(explanation))
        texts = [div.all_text() for div in root.find_all("div", "ll-text")]
        assert texts == [explanation.text] + ([explanation.text_pair] if explanation.text_pair else [])


def test_tooltip_has_the_exact_score_and_saturation(minimal_pair):
    root, _, _ = read(render_html(minimal_pair))
    amazing = next(c for c in _chips(root) if c.all_text() == "amazing")
    assert amazing.attrs["data-score"] == "+2.5"
    assert "amazing: +2.5" in amazing.attrs["title"] and "saturated" in amazing.attrs["title"]
    assert "ll-saturated" in amazing.attrs["class"] and _background(amazing) == POSITIVE_EXTREME
    terrible = next(c for c in _chips(root) if c.all_text() == "terrible")
    assert "ll-saturated" not in terrible.attrs["class"] and _background(terrible) != NEGATIVE_EXTREME


def test_shared_scale_by_default_and_per_text_only_on_request():
    pair = [make_explanation("good film", [1.0, 4.0]), make_explanation("good show", [1.0, 0.5])]
    shared, _, _ = read(render_html(pair))
    good = [c for c in _chips(shared) if c.all_text() == "good"]
    assert _background(good[0]) == _background(good[1])
    [legend] = shared.find_all("div", "ll-legend")
    assert "shared scale" in legend.all_text()

    per_text, _, _ = read(render_html(pair, scale="per_text"))
    good = [c for c in _chips(per_text) if c.all_text() == "good"]
    assert _background(good[0]) != _background(good[1])
    legends = per_text.find_all("div", "ll-legend")
    assert len(legends) == 2 and all("NOT comparable" in legend.all_text() for legend in legends)


def test_header_shows_prediction_target_quantity_method_and_delta_warning(minimal_pair):
    root, _, _ = read(render_html(minimal_pair))
    first, second = root.find_all("section", "ll-record")
    assert "positive (p = 0.99)" in first.all_text()
    header = second.find_all("div", "ll-header")[0].all_text()
    for fact in (
        "prediction",
        "negative (p = 1 - 0.0001)",
        "target",
        "positive (p = 0.0001)",
        "explains",
        "logit",
        "integrated_gradients",
        "delta",
        "+0.5",
    ):
        assert fact in header
    assert not first.find_all("div", "ll-warning")
    [warning] = second.find_all("div", "ll-warning")
    assert warning.attrs["role"] == "alert" and "not converged" in warning.all_text()


def test_token_level_shows_special_tokens_and_text_pairs():
    explanation = make_explanation("Is it good?", [0.1, 0.2, 0.9, 0.0], text_pair="Yes.", pair_scores=[0.3, 0.0])
    root, _, _ = read(render_html(explanation, level="token"))
    specials = [c.all_text() for c in root.find_all("span", "ll-special")]
    assert specials == ["[CLS]", "[SEP]"]
    assert [d.attrs["data-segment"] for d in root.find_all("div", "ll-text")] == ["0", "1"]


def _table(markup: str):
    root, errors, _ = read(markup)
    assert errors == []
    return [(row.find_all("th")[0].all_text(), row.find_all("td")) for row in root.find_all("tr")]


def test_compare_aligns_a_minimal_pair_and_marks_the_difference(minimal_pair):
    rows = _table(compare_html(minimal_pair))
    assert [label.startswith(f"text {i}") for i, (label, _) in enumerate(rows, 1)] == [True, True]
    (_, first), (_, second) = rows
    assert len(first) == len(second) == 8
    column = [td.all_text() for td in first].index("amazing")
    assert second[column].all_text() == "terrible"
    differs = [i for i, td in enumerate(first) if "ll-differs" in td.attrs.get("class", "")]
    assert differs == [column]


def test_compare_one_text_under_several_methods_labels_rows_by_method():
    explanations = [
        make_explanation(AMAZING, AMAZING_SCORES, method="integrated_gradients"),
        make_explanation(AMAZING, [-s for s in AMAZING_SCORES], method="occlusion", delta=None),
    ]
    rows = _table(compare_html(explanations))
    assert [label.split()[0] for label, _ in rows] == ["integrated_gradients", "occlusion"]
    assert "prediction positive" in rows[0][0]
    assert all("ll-differs" not in td.attrs.get("class", "") for _, tds in rows for td in tds)


def test_compare_gives_inserted_words_their_own_column():
    explanations = [
        make_explanation("The movie was terrible", [0.1] * 4),
        make_explanation("The movie was not terrible", [0.1] * 5),
    ]
    (_, first), (_, second) = _table(compare_html(explanations, labels=["a", "b"]))
    assert [td.all_text() for td in first] == ["The", "movie", "was", "", "terrible"]
    assert [td.all_text() for td in second] == ["The", "movie", "was", "not", "terrible"]
    assert ["ll-differs" in td.attrs.get("class", "") for td in second] == [False, False, False, True, False]


def test_compare_pairs_replaced_words_in_one_column():
    explanations = [make_explanation(TERRIBLE, [0.1] * 8), make_explanation("The movie was not terrible", [0.1] * 5)]
    (_, first), (_, second) = _table(compare_html(explanations))
    assert [td.all_text() for td in first] == ["The", "movie", "was", "one", "of", "those", "terrible", "movies"]
    assert [td.all_text() for td in second] == ["The", "movie", "was", "not", "", "", "terrible", ""]


def test_compare_rejects_per_text_scale_and_wrong_labels(minimal_pair, tmp_path):
    with pytest.raises(InvalidInputError, match="one colour scale"):
        compare_html(minimal_pair, scale="per_text")
    with pytest.raises(InvalidInputError, match="labels"):
        compare_html(minimal_pair, labels=["only one"])
    with pytest.raises(InvalidInputError, match="compare=True"):
        save_html(tmp_path / "x.html", minimal_pair, labels=["a", "b"])


def test_jupyter_reprs(minimal_pair):
    assert minimal_pair[0]._repr_html_() == render_html(minimal_pair[0])
    collection = Explanations(minimal_pair)
    assert collection._repr_html_() == render_html(minimal_pair)
    assert Explanations()._repr_html_() is None
    root, errors, _ = read(collection._repr_html_())
    assert errors == [] and len(root.find_all("section", "ll-record")) == 2
