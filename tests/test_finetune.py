"""train-themes --fine-tune: LoRA adapters trained on a few labeled sentences, saved with the themes
model, merged when tag loads it, and their vectors cached under their own key."""

import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from voiceminer import jobs
from voiceminer.cli.main import app
from voiceminer.config import Settings
from voiceminer.errors import ConfigError
from voiceminer.themes.finetune import (
    ADAPTER_FILE,
    FineTuneConfig,
    _batches,
    leaf_sets,
    pair_targets,
    themes_encoder,
)

runner = CliRunner()

LABELED = {
    "delivery.late": ["The courier was hours late again", "My parcel came a day late",
                      "Delivery was late for the third week", "The van turned up late in the evening"],
    "billing.double_charge": ["I was charged twice for one order", "You billed my card two times",
                              "Double charge on my statement", "Paid once but charged twice"],
    "product": ["Lovely fresh strawberries", "The salad leaves were crisp and tasty",
                "Great quality chicken this week", "The bread was stale and dry"],
}


def test_pairs_and_batches_are_balanced_and_fixed_by_the_seed() -> None:
    sets = [["delivery", "delivery.late"]] * 6 + [["billing"]] * 2 + [["product"]] * 30
    leaves = leaf_sets(sets)
    cfg = FineTuneConfig(batch_size=8, per_theme=2, seed=3)
    batches = _batches(leaves, cfg, 50)
    assert batches == _batches(leaves, cfg, 50) and batches != _batches(leaves, FineTuneConfig(seed=4), 50)
    seen = [next(iter(leaves[i])) for b in batches for i in b]
    # three themes, two rows each per step: the 2-row theme is drawn as often as the 30-row one
    assert seen.count("billing") == seen.count("product") == seen.count("delivery.late") == 100
    assert pair_targets([["a"], ["a", "b"], ["b"], []]).tolist() == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    with pytest.raises(ConfigError, match="two themes"):
        _batches(leaf_sets([["a"]] * 4), cfg, 1)


@pytest.mark.models
def test_fine_tune_then_tag_with_it(tmp_path: Path) -> None:
    labeled = tmp_path / "l.csv"
    labeled.write_text("text,themes\n" + "".join(f"{t},{theme}\n" for theme, texts in LABELED.items() for t in texts),
                       encoding="utf-8")
    model = tmp_path / "themes"
    data = tmp_path / "d"
    result = runner.invoke(app, ["--data-dir", str(data), "train-themes", "--labeled", str(labeled), "--out",
                                 str(model), "--fine-tune", "on", "--fine-tune-epochs", "2"])
    assert result.exit_code == 0, result.output
    assert "encoder fine-tuned on the file" in result.output and "train-themes took" in result.output
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    adapter = config["adapter"]
    assert (model / ADAPTER_FILE).stat().st_size < 2_000_000  # a small delta, not an encoder
    assert config["encoder_key"] == adapter["encoder_key"] != adapter["base_encoder_key"]
    assert config["encoder_key"].endswith("+lora@" + adapter["sha256"][:12])
    assert config["fine_tune"] == {"mode": "on", "used": True, "seconds": config["fine_tune"]["seconds"]}
    assert "Encoder fine-tuning" in (model / "MODEL_CARD.md").read_text(encoding="utf-8")

    # the adapter is applied: merged vectors differ from the shared ones, the head refuses the shared key
    from voiceminer.models.shared import SharedModel
    from voiceminer.pipeline.encode import load_shared
    from voiceminer.themes import ThemeModel

    shared = load_shared(str(SharedModel().artifact))
    tuned = themes_encoder(model, shared.encoder_)
    assert tuned is not shared.encoder_ and tuned.key == config["encoder_key"]
    texts = ["my parcel came five hours late", "they billed me two times for one order"]
    frozen, adapted = shared.encoder_.encode(texts, normalize=True), tuned.encode(texts, normalize=True)
    assert np.abs(frozen - adapted).max() > 1e-4
    assert shared.encoder_.encode(texts, normalize=True).tolist() == frozen.tolist()  # the shared model untouched
    with pytest.raises(ConfigError, match="fine-tuned"):
        ThemeModel.load(model, encoder_key=shared.encoder_.key)

    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["--data-dir", str(data), "tag", str(src), "--out", str(out),
                                 "--themes-model", str(model)])
    assert result.exit_code == 0, result.output
    first, second = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [t["id"] for t in first["themes"]] == ["delivery"] and first["themes"][0]["cause"] == "delivery.late"
    assert second["themes"][0]["id"] == "billing"
    # with the store's vector cache (mine/analyse), each sentence is cached once per key: the fine-tuned
    # vectors under the adapted encoder's key, never mixed with the shared ones
    from voiceminer.pipeline import Pipeline, StageContext
    from voiceminer.storage import schema as t
    from voiceminer.storage.vectors import VectorCache
    from voiceminer.types import Comment, text_hash

    store = jobs.open_store(Settings(data_dir=data))
    context = StageContext(themes_model=model, vector_cache=lambda key: VectorCache(store, key))
    pipe = Pipeline.from_names(("segment.sentencizer.v1", "encode.shared.v1", "themes.v1"), context)
    done = pipe.run([Comment(id=str(i), text=x, source="test") for i, x in enumerate(texts)])
    assert [a.label for a in done[0].annotations if a.layer == "theme"] == ["delivery"]
    rows = store.query(sa.select(t.encodings.c.encoder, t.encodings.c.vector).where(
        t.encodings.c.text_hash == text_hash(texts[0])))
    by_key = {r["encoder"]: np.frombuffer(r["vector"], np.float32) for r in rows}
    assert set(by_key) == {shared.encoder_.key, tuned.key}
    cached = by_key[tuned.key] / np.linalg.norm(by_key[tuned.key])
    assert np.allclose(cached, adapted[0], atol=1e-5) and not np.allclose(cached, frozen[0], atol=1e-4)

    # retraining frozen into the same folder removes the adapter, and tag reads the shared vectors again
    result = runner.invoke(app, ["--data-dir", str(data), "train-themes", "--labeled", str(labeled), "--out",
                                 str(model), "--fine-tune", "off"])
    assert result.exit_code == 0, result.output
    assert not (model / ADAPTER_FILE).exists() and "adapter" not in json.loads((model / "config.json").read_text())
    assert themes_encoder(model, shared.encoder_) is shared.encoder_


@pytest.mark.models
def test_auto_compares_out_of_fold_and_keeps_the_winner(tmp_path: Path) -> None:
    from voiceminer.models.shared import SharedModel
    from voiceminer.pipeline.encode import load_shared
    from voiceminer.themes import train_from_csv

    shared = load_shared(str(SharedModel().artifact))
    labeled = tmp_path / "l.csv"
    labeled.write_text("text,themes\n" + "".join(f"{t},{theme}\n" for theme, texts in LABELED.items() for t in texts),
                       encoding="utf-8")
    cfg = FineTuneConfig(epochs=1, batch_size=6, per_theme=2, max_length=12, top_layers=1, folds=2)
    metrics = train_from_csv(labeled, None, tmp_path / "m", shared.encoder_, fine_tune="auto", fine_tune_config=cfg,
                             lexical=0.0, C=1.0)
    comparison = metrics["fine_tune"]["comparison"]
    assert comparison["metric"] == "macro_f1" and comparison["folds"] == 2 and comparison["seed"] == cfg.seed
    assert set(comparison["frozen"]["per_theme"]) == set(comparison["fine_tuned"]["per_theme"]) >= set(LABELED)
    assert comparison["frozen"]["macro_f1"] > 0.5
    used = comparison["winner"] == "fine_tuned"
    assert metrics["fine_tune"]["used"] is used and (tmp_path / "m" / ADAPTER_FILE).exists() is used
    config = json.loads((tmp_path / "m" / "config.json").read_text(encoding="utf-8"))
    assert (config["encoder_key"] == shared.encoder_.key) is not used
    assert "Out of fold (2 folds" in (tmp_path / "m" / "MODEL_CARD.md").read_text(encoding="utf-8")


@pytest.mark.models
def test_classify_objective_learns_the_themes_and_tags_through_the_cli(tmp_path: Path) -> None:
    """--fine-tune-objective classify: a linear layer learns the themes with the adapters; after training on
    the file, each labeled sentence is nearer its own theme's centroid than before (the adapters moved the
    vectors the way the labels say), the card names the objective and tag reads the model."""
    from voiceminer.models.shared import SharedModel
    from voiceminer.pipeline.encode import load_shared
    from voiceminer.themes.finetune import adapted, adapter_key, fine_tune

    texts = [t for texts in LABELED.values() for t in texts]
    sets = [[theme] for theme, rows in LABELED.items() for _ in rows]
    shared = load_shared(str(SharedModel().artifact))
    cfg = FineTuneConfig.classify(epochs=12, batch_size=6, max_length=16, top_layers=2, lr=2e-3)
    state, lora = fine_tune(shared.encoder_, texts, sets, cfg)
    assert lora["r"] == 16 and lora["layers_to_transform"] == [10, 11] and lora["lora_dropout"] == 0.1

    def separation(vectors: np.ndarray) -> float:  # own-centroid minus nearest other centroid cosine
        labels = np.array([s[0] for s in sets])
        cents = {lab: vectors[labels == lab].mean(0) for lab in LABELED}
        margins = [vectors[i] @ cents[labels[i]] - max(vectors[i] @ c for lab, c in cents.items() if lab != labels[i])
                   for i in range(len(texts))]
        return float(np.mean(margins))

    tuned = adapted(shared.encoder_, state, lora, adapter_key(shared.encoder_.key, "test"))
    before, after = shared.encoder_.encode(texts, normalize=True), tuned.encode(texts, normalize=True)
    assert separation(after) > separation(before) + 0.02, (separation(before), separation(after))
    with pytest.raises(ConfigError, match="objective"):
        fine_tune(shared.encoder_, texts, sets, FineTuneConfig(objective="triplet"))

    labeled = tmp_path / "l.csv"
    labeled.write_text("text,themes\n" + "".join(f"{t},{s[0]}\n" for t, s in zip(texts, sets)), encoding="utf-8")
    model, data = tmp_path / "themes", tmp_path / "d"
    result = runner.invoke(app, ["--data-dir", str(data), "train-themes", "--labeled", str(labeled), "--out",
                                 str(model), "--fine-tune", "on", "--fine-tune-objective", "classify",
                                 "--fine-tune-epochs", "2"])
    assert result.exit_code == 0, result.output
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    assert config["adapter"]["training"]["objective"] == "classify" and config["adapter"]["lora"]["r"] == 16
    assert "--fine-tune-objective classify" in config["command"]
    assert "with a classification layer" in (model / "MODEL_CARD.md").read_text(encoding="utf-8")
    src, out = tmp_path / "in.txt", tmp_path / "o.jsonl"
    src.write_text("my parcel came five hours late\n", encoding="utf-8")
    result = runner.invoke(app, ["--data-dir", str(data), "tag", str(src), "--out", str(out),
                                 "--themes-model", str(model)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["themes"][0]["id"] == "delivery"
    result = runner.invoke(app, ["--data-dir", str(data), "train-themes", "--labeled", str(labeled), "--out",
                                 str(model), "--fine-tune", "on", "--fine-tune-objective", "triplet"])
    assert result.exit_code != 0 and "contrastive or classify" in result.output
