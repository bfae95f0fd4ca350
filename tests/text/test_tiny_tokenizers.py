"""The tiny test tokenizers are the same in every process: vocabularies and ids do not depend on hash seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
from tests.text.tiny_tokenizers import TOKENIZER_BUILDERS
text = "The film was a quiet triumph, and Über-stylish: 3.14 reasons to stay."
print(json.dumps({name: [sorted(build().get_vocab().items()), build()(text, "a pair")["input_ids"]] for name, build in TOKENIZER_BUILDERS.items()}))
"""


def vocabularies(hash_seed: str) -> dict:
    environment = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout)


@pytest.mark.slow  # two fresh interpreters importing transformers: several seconds
def test_two_processes_with_different_hash_seeds_build_the_same_tokenizers():
    first, second = vocabularies("1"), vocabularies("2")
    assert set(first) == {"wordpiece", "bpe", "unigram"}
    for name in first:
        assert first[name] == second[name], f"the {name} tokenizer differs between processes"
