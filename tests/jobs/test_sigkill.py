"""SIGKILL at any moment: a job killed again and again, then finished, holds exactly the rows of a clean run.

For texts and for images (the same loop and part files serve every front end). Slow: each kill
starts a Python process that loads torch and transformers.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
pytest.importorskip("pyarrow")
REPOSITORY = Path(__file__).resolve().parents[2]
JOB = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import torch, transformers
    from limelight import TextExplainer
    from limelight.jobs import explain_dataset
    from tests.text.tiny_tokenizers import wordpiece_tokenizer
    from tests.jobs.texts import TEXTS

    tokenizer = wordpiece_tokenizer()
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=128, num_labels=2, pad_token_id=tokenizer.pad_token_id)
    model = transformers.BertForSequenceClassification(config).eval()
    texts = [f"{t} {i}" for i in range(8) for t in TEXTS]
    explain_dataset(TextExplainer(model, tokenizer, n_steps=8), texts, sys.argv[2], chunk_size=2, show_progress=False)
    """
)
IMAGE_JOB = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from limelight.jobs import explain_dataset
    from tests.jobs.frontends import image_explainer, write_images

    paths = write_images(Path(sys.argv[2]).parent / "pictures", 48)
    explain_dataset(image_explainer(), paths, sys.argv[2], chunk_size=2, show_progress=False)
    """
)


def _run(script: Path, output: Path, kill_after_parts: int | None, rng: random.Random) -> None:
    process = subprocess.Popen([sys.executable, str(script), str(REPOSITORY), str(output)])
    if kill_after_parts is None:
        assert process.wait(timeout=300) == 0
        return
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if output.is_dir() and sum(p.name.startswith("part-") for p in output.iterdir()) >= kill_after_parts:
            break
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.2))  # somewhere inside the next chunk: computing, writing the part, or renaming it
    process.kill()
    process.wait()


def _killed_and_clean(tmp_path, job: str):
    """The rows of a job killed at three random moments then finished, and of a clean run of the same job."""
    from limelight.jobs import read_results

    script = tmp_path / "job.py"
    script.write_text(job, encoding="utf-8")
    rng = random.Random(0)
    clean, killed = tmp_path / "clean.parquet", tmp_path / "killed.parquet"
    _run(script, clean, None, rng)
    for parts in (1, 4, 9):
        _run(script, killed, parts, rng)
        frame = read_results(killed)
        assert frame["id"].is_unique  # whatever the moment of the kill: no duplicate, no torn row
    _run(script, killed, None, rng)
    assert not [p for p in killed.iterdir() if p.name.endswith(".tmp")]
    return read_results(killed), read_results(clean)


def test_killed_jobs_resume_to_the_rows_of_a_clean_run(tmp_path):
    got, expected = _killed_and_clean(tmp_path, JOB)
    assert list(got["id"]) == list(range(48))
    exact = ["id", "text", "prediction", "target", "words", "steps", "converged", "method", "sha256"]
    assert got[exact].astype(str).values.tolist() == expected[exact].astype(str).values.tolist()
    # Two processes agree up to float32 rounding (kernels depend on memory alignment): the tiny random model's
    # scores are about 1e-6, at the noise level of logits about 1e-1, so they are compared in the logit's units.
    for x, y in zip(got["scores"], expected["scores"]):
        assert list(x) == pytest.approx(list(y), abs=1e-5)
    assert list(got["probability"]) == pytest.approx(list(expected["probability"]), abs=1e-5)
    assert got["error"].isna().all() and got["explanation"].notna().all()


def test_killed_image_jobs_resume_to_the_rows_of_a_clean_run(tmp_path):
    import numpy as np

    got, expected = _killed_and_clean(tmp_path, IMAGE_JOB)
    assert list(got["id"]) == list(range(48))
    exact = ["id", "image", "prediction", "target", "image_size", "steps", "method", "settings", "sha256"]
    assert got[exact].astype(str).values.tolist() == expected[exact].astype(str).values.tolist()
    for x, y in zip(got["scores"], expected["scores"]):
        np.testing.assert_allclose(np.stack(x), np.stack(y), rtol=1e-5, atol=1e-7)
    assert got["error"].isna().all() and got["thumbnail"].map(len).gt(0).all()
