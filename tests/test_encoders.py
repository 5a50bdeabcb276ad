"""Base encoders and their fine-tunes: adapters merge exactly, all-mpnet-base-v2 is assembled
from its PyPI parts with its hash checked, and both shipped shared models load."""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from voiceminer.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def tiny_bert():
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=32)
    return BertModel(cfg).eval()


def test_merged_adapters_compute_what_the_trained_adapters_computed() -> None:
    import torch

    from voiceminer.models.lora import adapter_state, add_adapters, merge_adapters

    trained, plain = tiny_bert(), tiny_bert()
    names = add_adapters(trained, rank=4, alpha=8)
    assert len(names) == 2 * 6  # q, k, v, attention out, intermediate, output per layer
    assert all(not p.requires_grad for n, p in trained.named_parameters() if "lora_" not in n)
    with torch.no_grad():
        for n, p in trained.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)  # as if trained (B starts at zero)
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    want = trained(input_ids=ids).last_hidden_state
    assert not torch.allclose(want, plain(input_ids=ids).last_hidden_state)
    changed = merge_adapters(plain, {k: v.half() for k, v in adapter_state(trained).items()}, scale=2.0)
    assert changed == len(names)
    assert torch.allclose(plain(input_ids=ids).last_hidden_state, want, atol=2e-2)


def test_merge_names_the_missing_layer() -> None:
    import torch

    from voiceminer.models.lora import merge_adapters

    with pytest.raises(AttributeError, match="nope"):
        merge_adapters(tiny_bert(), {"encoder.nope.lora_A": torch.zeros(1, 2), "encoder.nope.lora_B": torch.zeros(2, 1)},
                       1.0)


@pytest.fixture()
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """A zip with the files the encoder needs, split into five parts like the PyPI packages."""
    from voiceminer.models import assemble

    blob = tmp_path / "whole.zip"
    with zipfile.ZipFile(blob, "w") as zf:
        for name in assemble.NEEDED:
            zf.writestr(f"all-mpnet-base-v2/{name}", f"content of {name}" * 50)
        zf.writestr("all-mpnet-base-v2/desktop.ini", "not needed")
    data = blob.read_bytes()
    step = len(data) // 5 + 1
    parts = []
    for i in range(5):
        part = tmp_path / f"all-mpnet-base-v2.zip.00{i + 1}"
        part.write_bytes(data[i * step:(i + 1) * step])
        parts.append(part)
    monkeypatch.setattr(assemble, "part_files", lambda: parts)
    weights = ("content of model.safetensors" * 50).encode()
    monkeypatch.setattr(assemble, "SHA256", hashlib.sha256(weights).hexdigest())
    return parts


def test_assemble_joins_the_parts_and_keeps_only_what_is_needed(tmp_path: Path, fake_parts: list[Path]) -> None:
    from voiceminer.models import assemble

    dest = tmp_path / "share" / "mpnet"
    assert assemble.mpnet_folder(dest) == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(assemble.NEEDED)
    (dest / "vocab.txt").write_text("kept", encoding="utf-8")
    assert assemble.mpnet_folder(dest) == dest and (dest / "vocab.txt").read_text(encoding="utf-8") == "kept"


def test_assemble_refuses_weights_with_the_wrong_hash(tmp_path: Path, fake_parts: list[Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer.models import assemble

    monkeypatch.setattr(assemble, "SHA256", "0" * 64)
    with pytest.raises(ConfigError, match="sha256"):
        assemble.assemble(tmp_path / "mpnet", log=lambda s: None)
    assert not (tmp_path / "mpnet").exists()  # nothing half-made is left where the encoder looks


def test_missing_parts_name_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer.errors import MissingDependencyError
    from voiceminer.models import assemble

    monkeypatch.setattr(assemble, "PARTS", ["voiceminer-no-such-package-001"])
    with pytest.raises(MissingDependencyError, match="voiceminer-no-such-package-001"):
        assemble.part_files()


def test_calibration_comes_from_the_encoder_artifact(tmp_path: Path) -> None:
    from voiceminer.themes import calibration_for

    (tmp_path / "config.json").write_text(json.dumps({"zero_shot": {"threshold": 0.6, "margin": 0.05,
                                                                    "command": "x"}}), encoding="utf-8")

    class Enc:
        artifact = tmp_path

    assert calibration_for(Enc()) == {"threshold": 0.6, "margin": 0.05}


@pytest.mark.models
@pytest.mark.parametrize(("name", "dim"), [("shared-v1", 384), ("shared-v2", 768)])
def test_both_shipped_shared_models_load(name: str, dim: int) -> None:
    from voiceminer.models.shared import SharedModel

    model = SharedModel(ROOT / "models" / name).load()
    vectors = model.encode(["The courier was late again.", "Lovely fresh veg!"])
    assert vectors.shape == (2, dim) and model.encoder_.dim == dim
    probs = model.predict(vectors)["sentiment"]
    assert probs[0].argmax() == 0 and probs[1].argmax() == 2  # negative, positive
    assert np.allclose(model.encode(["Lovely fresh veg!"]), vectors[1:], atol=1e-4)


@pytest.mark.models
def test_the_faster_v1_model_is_one_setting_away(tmp_path: Path) -> None:
    from voiceminer.config import Settings
    from voiceminer.tagging import tag

    settings = Settings.load(env={"VOICEMINER_SHARED_MODEL": "shared-v1"}, overrides={"data_dir": tmp_path / "d"})
    assert settings.shared_model == "shared-v1"
    src = tmp_path / "in.txt"
    src.write_text("The courier was late again.\n", encoding="utf-8")
    tag(settings, [src], tmp_path / "o.jsonl")
    row = json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8"))
    assert row["sentiment"]["label"] == "negative"


def test_sentiment_companion_mixes_its_head_by_weight() -> None:
    """Late fusion: (1 - w) * own + w * companion, on each model's own vectors; without the
    companion's vectors it refuses rather than silently scoring one model alone."""
    from voiceminer.models.shared import LinearHeads, SharedModel

    def heads(bias: list[float], dim: int) -> LinearHeads:
        return LinearHeads({"sentiment": (np.zeros((3, dim), np.float32), np.array(bias, np.float32))},
                           {"sentiment": ["negative", "neutral", "positive"]})

    main, companion = SharedModel(Path("main")), SharedModel(Path("companion"))
    main.heads_, companion.heads_ = heads([2.0, 0.0, 0.0], 4), heads([0.0, 0.0, 2.0], 2)
    alone = main.sentiment(np.ones((1, 4), np.float32))
    main.companion_, main.companion_weight_ = companion, 0.25
    fused = main.sentiment(np.ones((1, 4), np.float32), np.ones((1, 2), np.float32))
    other = companion.heads_.predict(np.ones((1, 2), np.float32))["sentiment"]
    assert np.allclose(fused, 0.75 * alone + 0.25 * other) and np.isclose(fused.sum(), 1.0)
    with pytest.raises(ValueError, match="companion|vectors"):
        main.sentiment(np.ones((1, 4), np.float32))


def _copy_model(src: Path, dst: Path, **config_changes: object) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file():
            (dst / f.name).write_bytes(f.read_bytes())
    config = json.loads((dst / "config.json").read_text(encoding="utf-8"))
    config.update(config_changes)
    (dst / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return dst


@pytest.mark.models
def test_a_sentiment_companion_is_checked_at_load(tmp_path: Path) -> None:
    """Missing, out-of-range weight, or retrained since its weight was fitted: each is refused by name."""
    from voiceminer.models.shared import SharedModel

    v1 = ROOT / "models" / "shared-v1"
    companion = _copy_model(v1, tmp_path / "companion")
    key = SharedModel(companion, companion=False).load().encoder_.key

    def main(name: str, **spec: object) -> Path:
        return _copy_model(v1, tmp_path / name, sentiment_companion={"model": "companion", **spec})

    with pytest.raises(ConfigError, match="shared-gone"):
        SharedModel(_copy_model(v1, tmp_path / "a", sentiment_companion={"model": "shared-gone", "weight": 0.3})).load()
    with pytest.raises(ConfigError, match="between 0 and 1"):
        SharedModel(main("b", weight=1.5, encoder_key=key)).load()
    with pytest.raises(ConfigError, match="refit"):
        SharedModel(main("c", weight=0.3, encoder_key="voiceminer-shared@000000000000")).load()
    model = SharedModel(main("d", weight=0.3, encoder_key=key)).load()
    assert model.companion_ is not None and model.companion_weight_ == 0.3
    assert model.companion_tag == f"{key.rsplit('@', 1)[-1][:8]}x0.3"
    vectors = model.encode(["The courier was late again."])
    fused = model.sentiment(vectors, model.companion_.encode(["The courier was late again."]))
    assert fused[0].argmax() == 0 and np.isclose(fused.sum(), 1.0)


@pytest.mark.models
def test_the_default_model_mixes_in_its_companion() -> None:
    """The shipped shared-v2 names shared-v1 as its sentiment companion, fitted to the shipped v1."""
    from voiceminer.models.shared import DEFAULT_SHARED, SharedModel

    model = SharedModel(ROOT / "models" / DEFAULT_SHARED).load()
    spec = model.config_["sentiment_companion"]
    assert model.companion_ is not None and model.companion_.artifact.name == spec["model"]
    assert spec["tune_accuracy"]["fused"] > spec["tune_accuracy"]["alone"]


@pytest.mark.models
def test_a_plain_base_encoder_is_named_by_its_base() -> None:
    """The zero-shot experiments read plain bases (train_themes_eval.py, VOICEMINER_THEMES_ENCODER=base-mpnet):
    shared-v2's own base, not fine-tuned, 768 floats under its own key; an unknown base is refused."""
    from voiceminer.models.encoder import SentenceEncoder

    plain = SentenceEncoder(base="all-mpnet-base-v2").load()
    assert plain.key.startswith("all-mpnet-base-v2@") and plain.dim == 768
    v = plain.encode(["The courier left it in the rain."], normalize=True)
    assert v.shape == (1, 768) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    with pytest.raises(ConfigError, match="plain base"):
        SentenceEncoder(base="all-MiniLM-L12-v2")
    with pytest.raises(ConfigError, match="without an artifact"):
        SentenceEncoder("models/shared-v2", base="all-mpnet-base-v2")
