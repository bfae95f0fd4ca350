"""F1@k, IoU@k and AUPRC on hand-computed examples, and mapping rationales onto words."""

from __future__ import annotations

import math

import numpy as np
import pytest

from limelight.errors import InvalidInputError
from limelight.evaluation import Rationale, average_precision, f1_at_k, iou_at_k, plausibility, rationale_mask
from tests.evaluation.models import hand_explanation
from tests.text.tiny_tokenizers import wordpiece_tokenizer

SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
MASK = np.array([True, False, True, False, False, True])


def test_f1_and_iou_at_k_hand_computed():
    # k = |T| = 3: top-3 = words 0,1,2 -> hits {0,2} = 2. P = R = 2/3, F1 = 2/3; IoU = 2 / (3 + 3 - 2) = 1/2.
    assert f1_at_k(SCORES, MASK) == pytest.approx(2 / 3)
    assert iou_at_k(SCORES, MASK) == pytest.approx(0.5)
    # k = 1: top-1 = word 0, a hit. P = 1, R = 1/3, F1 = 2 * 1 / (1 + 3) = 0.5; IoU = 1 / 3.
    assert f1_at_k(SCORES, MASK, k=1) == pytest.approx(0.5)
    assert iou_at_k(SCORES, MASK, k=1) == pytest.approx(1 / 3)
    assert f1_at_k(SCORES, MASK, k=0) == 0.0
    for bad in (-1, 1.5, True):
        with pytest.raises(InvalidInputError, match="k must be"):
            f1_at_k(SCORES, MASK, k=bad)


def test_average_precision_hand_computed_and_extremes():
    # Hits at ranks 1, 3, 6: AP = (1/1 + 2/3 + 3/6) / 3 = 13/18.
    assert average_precision(SCORES, MASK) == pytest.approx(13 / 18)
    assert average_precision(MASK.astype(float), MASK) == pytest.approx(1.0)
    # Reversed perfect ranking: hits at ranks 4, 5, 6 -> (1/4 + 2/5 + 3/6) / 3.
    assert average_precision(-MASK.astype(float), MASK) == pytest.approx((1 / 4 + 2 / 5 + 3 / 6) / 3)
    assert math.isnan(average_precision(SCORES, np.zeros(6, dtype=bool)))
    assert math.isnan(f1_at_k(SCORES, np.zeros(6, dtype=bool)))


def test_rationale_mask_by_character_overlap_and_plausibility_table():
    tokenizer = wordpiece_tokenizer()
    text = "a wonderful warm film"
    explanation = hand_explanation(tokenizer, text, [0.1, 0.9, 0.2, 0.8])
    # "wonder" (2..8) overlaps only "wonderful"; "film" (17..21) exactly.
    rationale = Rationale(text, "word", ((2, 8), (17, 21)))
    assert rationale_mask(explanation, rationale).tolist() == [False, True, False, True]
    table = plausibility([explanation], [rationale])
    assert table["f1"][0] == pytest.approx(1.0) and table["iou"][0] == pytest.approx(1.0) and table["auprc"][0] == pytest.approx(1.0)
    with pytest.raises(InvalidInputError, match="rationale"):
        rationale_mask(explanation, Rationale("another text", "word", ()))
    with pytest.raises(InvalidInputError, match="one per text"):
        plausibility([explanation], [])
