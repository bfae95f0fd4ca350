"""Colours for attribution scores: a symmetric diverging palette and the scale that feeds it.

The palette runs from blue (negative) through white (zero) to orange (positive) along straight
lines in CIELAB: lightness and chroma depend on ``|t|`` only, so equal ``|score|`` gives equal
intensity for both signs, and the hue flips with the sign. Blue against orange stays
distinguishable under red-green colour blindness. Text on a coloured box is black or white,
whichever has the higher WCAG contrast (always at least 4.58:1).

A :class:`ColorScale` maps a score to a position in ``[-1, 1]``: scores beyond its limit are
clipped to the palette's extremes and flagged as saturated, so a view can mark them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from limelight.errors import InvalidInputError

# End points of the ramp in CIELAB (D65): equal lightness and chroma, opposite-ish hues.
_END_LIGHTNESS = 45.0
_END_CHROMA = 60.0
_POSITIVE_HUE_DEG = 50.0  # orange
_NEGATIVE_HUE_DEG = 290.0  # blue

_D65_WHITE = (0.95047, 1.0, 1.08883)
# XYZ (D65) -> linear sRGB, IEC 61966-2-1.
_XYZ_TO_LINEAR_SRGB = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)

DEFAULT_PERCENTILE = 99.0
"""Default percentile of ``|score|`` that sets the colour limit; scores above it saturate."""

RGB = tuple[float, float, float]


def lab_to_srgb(lightness: float, a: float, b: float) -> RGB:
    """Convert a CIELAB (D65) colour to gamma-encoded sRGB in ``[0, 1]`` (unclipped)."""
    fy = (lightness + 16.0) / 116.0
    delta = 6.0 / 29.0

    def f_inv(value: float) -> float:
        return value**3 if value > delta else 3.0 * delta * delta * (value - 4.0 / 29.0)

    xyz = (_D65_WHITE[0] * f_inv(fy + a / 500.0), _D65_WHITE[1] * f_inv(fy), _D65_WHITE[2] * f_inv(fy - b / 200.0))
    linear = [sum(m * c for m, c in zip(row, xyz)) for row in _XYZ_TO_LINEAR_SRGB]
    return tuple(_encode_gamma(v) for v in linear)  # type: ignore[return-value]


def _encode_gamma(value: float) -> float:
    return 12.92 * value if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055


def _decode_gamma(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def diverging_lab(position: float) -> tuple[float, float, float]:
    """The palette's CIELAB colour at ``position`` in ``[-1, 1]`` (0 is white)."""
    t = min(1.0, abs(position))
    hue = math.radians(_POSITIVE_HUE_DEG if position >= 0 else _NEGATIVE_HUE_DEG)
    chroma = _END_CHROMA * t
    return 100.0 - (100.0 - _END_LIGHTNESS) * t, chroma * math.cos(hue), chroma * math.sin(hue)


def diverging_rgb(position: float) -> RGB:
    """The palette's sRGB colour at ``position`` in ``[-1, 1]``, clipped to ``[0, 1]``."""
    return tuple(min(1.0, max(0.0, v)) for v in lab_to_srgb(*diverging_lab(position)))  # type: ignore[return-value]


def to_hex(rgb: RGB) -> str:
    """``(r, g, b)`` in ``[0, 1]`` as ``#rrggbb``."""
    return "#" + "".join(f"{round(v * 255):02x}" for v in rgb)


def from_hex(color: str) -> RGB:
    """``#rrggbb`` as ``(r, g, b)`` in ``[0, 1]``."""
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    r, g, b = (_decode_gamma(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: RGB, second: RGB) -> float:
    """WCAG 2 contrast ratio between two sRGB colours (1 to 21)."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_text_color(background: RGB) -> str:
    """Black or white, whichever contrasts more with ``background``."""
    black, white = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return "#000000" if contrast_ratio(background, black) >= contrast_ratio(background, white) else "#ffffff"


POSITIVE_EXTREME = to_hex(diverging_rgb(1.0))
"""Hex colour of a score at or beyond ``+limit``."""
NEGATIVE_EXTREME = to_hex(diverging_rgb(-1.0))
"""Hex colour of a score at or beyond ``-limit``."""
SATURATION_MARK = "#000000"
"""Outline colour of boxes whose score is beyond the scale."""


@dataclass(frozen=True)
class Shade:
    """How one score is drawn: box colour, text colour, and whether it was clipped."""

    background: str
    foreground: str
    saturated: bool


@dataclass(frozen=True)
class ColorScale:
    """Maps scores to palette positions: ``score / limit`` clipped to ``[-1, 1]``.

    ``description`` says in words how the limit was chosen, for legends. A zero limit (all
    scores zero) maps everything to white.
    """

    limit: float
    description: str
    per_text: bool = False

    def position(self, score: float) -> float:
        """Where ``score`` sits on the palette, in ``[-1, 1]``."""
        if self.limit <= 0.0:
            return 0.0
        return max(-1.0, min(1.0, score / self.limit))

    def is_saturated(self, score: float) -> bool:
        """Whether ``|score|`` lies beyond the limit, so its colour understates it."""
        return abs(score) > self.limit

    def shade(self, score: float) -> Shade:
        """The colours and saturation flag for ``score``."""
        rgb = diverging_rgb(self.position(score))
        return Shade(to_hex(rgb), readable_text_color(rgb), self.is_saturated(score))

    def ticks(self, count: int = 5) -> list[float]:
        """``count`` evenly spaced scores from ``-limit`` to ``+limit``, for a colour bar."""
        return [self.limit * (2.0 * i / (count - 1) - 1.0) for i in range(count)]


def robust_limit(scores: Iterable[float], percentile: float = DEFAULT_PERCENTILE) -> float:
    """The ``percentile``-th percentile of ``|score|`` (linear interpolation); 0 for no scores.

    A high percentile rather than the maximum keeps one extreme score from washing out all
    others; the few scores above it are drawn at full colour and marked as saturated.
    """
    if not 0.0 < percentile <= 100.0:
        raise InvalidInputError(f"percentile must be in (0, 100], got {percentile!r}")
    values = sorted(abs(float(s)) for s in scores)
    if not values:
        return 0.0
    rank = (len(values) - 1) * percentile / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def choose_scales(
    score_groups: Sequence[Sequence[float]],
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> list[ColorScale]:
    """One :class:`ColorScale` per group of scores (one group per text shown).

    ``scale="shared"`` (default) gives every group the same scale, so colours compare across
    texts; ``"per_text"`` scales each group on its own (and says so); a positive number fixes
    the limit, e.g. to compare several files.
    """
    for group in score_groups:
        if not all(math.isfinite(s) for s in group):
            raise InvalidInputError("scores must be finite to be coloured; found NaN or infinity in an explanation")
    if isinstance(scale, (int, float)) and not isinstance(scale, bool):
        if not (math.isfinite(scale) and scale > 0):
            raise InvalidInputError(f"a fixed scale must be a positive finite number, got {scale!r}")
        fixed = ColorScale(float(scale), f"fixed scale ±{scale:.3g}")
        return [fixed] * len(score_groups)
    if scale == "shared":
        limit = robust_limit((s for group in score_groups for s in group), percentile)
        kind, texts = ("scale", "") if len(score_groups) == 1 else ("shared scale", f" over all {len(score_groups)} texts")
        shared = ColorScale(limit, f"{kind} ±{limit:.3g} ({percentile:g}th percentile of |score|{texts})")
        return [shared] * len(score_groups)
    if scale == "per_text":
        return [
            ColorScale(
                limit,
                f"per-text scale ±{limit:.3g} ({percentile:g}th percentile of this text's |score|); "
                "colours are NOT comparable across texts",
                per_text=True,
            )
            for limit in (robust_limit(group, percentile) for group in score_groups)
        ]
    raise InvalidInputError(f"scale must be 'shared', 'per_text' or a positive number, got {scale!r}")
