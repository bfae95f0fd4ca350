"""The colour mapping: symmetry, readability, colour-blind safety, robust shared scales, saturation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from limelight.errors import InvalidInputError
from limelight.viz.colors import (
    NEGATIVE_EXTREME,
    POSITIVE_EXTREME,
    ColorScale,
    choose_scales,
    contrast_ratio,
    diverging_lab,
    diverging_rgb,
    from_hex,
    lab_to_srgb,
    readable_text_color,
    relative_luminance,
    robust_limit,
)

POSITIONS = np.linspace(0.0, 1.0, 101)

# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
CVD_MATRICES = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


def _linear(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def _srgb_to_lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """Independent sRGB -> CIELAB (D65), the inverse path of the module's conversion."""
    r, g, b = (_linear(c) for c in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _simulate(rgb: tuple[float, float, float], matrix: tuple[tuple[float, ...], ...]) -> tuple[float, float, float]:
    linear = [_linear(c) for c in rgb]
    out = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, linear)))) for row in matrix]
    return tuple(12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055 for v in out)  # type: ignore[return-value]


def _delta_e(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    return math.dist(_srgb_to_lab(first), _srgb_to_lab(second))


def _chroma(lab: tuple[float, float, float]) -> float:
    return math.hypot(lab[1], lab[2])


def test_palette_is_symmetric_in_lightness_and_chroma():
    for t in POSITIONS:
        positive, negative = diverging_lab(t), diverging_lab(-t)
        assert positive[0] == pytest.approx(negative[0], abs=1e-12)
        assert _chroma(positive) == pytest.approx(_chroma(negative), abs=1e-12)
        # and the rendered (8-bit, gamut-mapped) colours agree, measured independently
        seen_pos, seen_neg = (
            _srgb_to_lab(from_hex(ColorScale(1.0, "").shade(t).background)),
            _srgb_to_lab(from_hex(ColorScale(1.0, "").shade(-t).background)),
        )
        assert seen_pos[0] == pytest.approx(seen_neg[0], abs=0.6)
        assert _chroma(seen_pos) == pytest.approx(_chroma(seen_neg), abs=1.5)


def test_signs_have_different_hues_and_zero_is_white():
    assert ColorScale(1.0, "").shade(0.0).background == "#ffffff"
    pos, neg = _srgb_to_lab(from_hex(POSITIVE_EXTREME)), _srgb_to_lab(from_hex(NEGATIVE_EXTREME))
    assert pos[1] > 0 and pos[2] > 0  # orange: red-yellow quadrant
    assert neg[2] < -40  # blue


def test_ramp_stays_in_gamut_so_no_clipping_breaks_symmetry():
    for t in np.concatenate([POSITIONS, -POSITIONS]):
        assert all(-1e-6 <= v <= 1 + 1e-6 for v in lab_to_srgb(*diverging_lab(t)))


def test_intensity_grows_with_magnitude():
    lightness = [diverging_lab(t)[0] for t in POSITIONS]
    assert all(a > b for a, b in zip(lightness, lightness[1:]))


def test_wcag_formulas_on_known_values():
    assert relative_luminance((1.0, 1.0, 1.0)) == pytest.approx(1.0)
    assert relative_luminance((0.0, 0.0, 0.0)) == 0.0
    assert contrast_ratio((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)) == pytest.approx(21.0)


def test_text_is_readable_on_every_background():
    for t in np.concatenate([POSITIONS, -POSITIONS]):
        background = diverging_rgb(t)
        foreground = from_hex(readable_text_color(background))
        assert contrast_ratio(background, foreground) >= 4.5  # WCAG AA for normal text


@pytest.mark.parametrize("kind", sorted(CVD_MATRICES))
@pytest.mark.parametrize("t", [1.0, 0.5, 0.25])
def test_signs_stay_distinct_under_colour_blindness(kind, t):
    positive, negative = diverging_rgb(t), diverging_rgb(-t)
    seen = _delta_e(_simulate(positive, CVD_MATRICES[kind]), _simulate(negative, CVD_MATRICES[kind]))
    assert seen >= 0.8 * _delta_e(positive, negative)


def test_colour_blindness_check_rejects_a_red_green_palette():
    red, green = from_hex("#d62728"), from_hex("#2ca02c")
    seen = _delta_e(_simulate(red, CVD_MATRICES["deuteranopia"]), _simulate(green, CVD_MATRICES["deuteranopia"]))
    assert seen < 0.8 * _delta_e(red, green)


def test_robust_limit_matches_numpy_percentile():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=57)
    for q in (50.0, 90.0, 99.0, 100.0):
        assert robust_limit(scores.tolist(), q) == pytest.approx(np.percentile(np.abs(scores), q))
    assert robust_limit([]) == 0.0


def test_robust_limit_ignores_a_single_outlier():
    scores = [1.0] * 99 + [1000.0]
    assert robust_limit(scores, 98.0) == pytest.approx(1.0)


def test_shared_scale_gives_equal_scores_equal_colours_across_texts():
    first, second = choose_scales([[0.5, 4.0], [0.5, -0.1]])
    assert first == second
    assert first.shade(0.5) == second.shade(0.5)
    per_a, per_b = choose_scales([[0.5, 4.0], [0.5, -0.1]], "per_text")
    assert per_a.per_text and "NOT comparable" in per_a.description
    assert per_a.shade(0.5).background != per_b.shade(0.5).background


def test_equal_magnitudes_give_equal_intensity_on_a_shared_scale():
    scale = choose_scales([[2.0, -3.0], [-2.0, 1.0]])[0]
    pos, neg = scale.shade(2.0).background, scale.shade(-2.0).background
    assert pos != neg
    assert relative_luminance(from_hex(pos)) == pytest.approx(relative_luminance(from_hex(neg)), abs=0.01)


def test_saturation_is_marked_and_uses_the_extreme_colour():
    scale = ColorScale(2.0, "test")
    assert scale.shade(5.0).saturated and scale.shade(5.0).background == POSITIVE_EXTREME
    assert scale.shade(-2.5).saturated and scale.shade(-2.5).background == NEGATIVE_EXTREME
    assert not scale.shade(2.0).saturated and scale.shade(2.0).background == POSITIVE_EXTREME
    assert not scale.shade(1.9).saturated and scale.shade(1.9).background != POSITIVE_EXTREME
    assert scale.position(1.0) == 0.5


def test_all_zero_scores_are_white_and_unsaturated():
    [scale] = choose_scales([[0.0, 0.0]])
    assert scale.limit == 0.0
    assert scale.shade(0.0).background == "#ffffff" and not scale.shade(0.0).saturated


def test_fixed_scale():
    scales = choose_scales([[10.0], [0.1]], 2.0)
    assert [s.limit for s in scales] == [2.0, 2.0]
    assert scales[0].shade(10.0).saturated


@pytest.mark.parametrize(
    "groups, scale, percentile",
    [
        ([[1.0]], "global", 99.0),
        ([[1.0]], -1.0, 99.0),
        ([[1.0]], math.nan, 99.0),
        ([[math.nan]], "shared", 99.0),
        ([[1.0]], "shared", 0.0),
        ([[1.0]], "shared", 101.0),
    ],
)
def test_bad_scale_options_are_rejected(groups, scale, percentile):
    with pytest.raises(InvalidInputError):
        choose_scales(groups, scale, percentile)
