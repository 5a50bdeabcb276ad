"""The shipped model through the real interfaces: tag output, caching, discovery, train-themes, evaluate."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceminer import jobs
from voiceminer.cli.main import app
from voiceminer.config import Settings
from voiceminer.errors import ConfigError
from voiceminer.models.shared import DEFAULT_SHARED

pytestmark = pytest.mark.models
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]

ROWS = [
    {"id": "a", "text": "My order arrived 3 hours late since you switched couriers 😡 I'm cancelling my plan."},
    {"id": "b", "text": "Lovely fresh veg and the driver was so kind!"},
    {"id": "c", "text": "I wish I could pick a delivery slot. The app is fine though."},
    {"id": "d", "text": ""},
    {"id": "e", "text": "Got food poisoning from the chicken kit, my lawyer will be in touch."},
    {"id": "f", "text": "The box came late again. Please fix. Can you look into this?"},
    {"id": "g", "text": "The app keeps logging me out every time I switch screens. "
                        "Since the update the app freezes whenever I open my basket."},
    {"id": "h", "text": "Everything was super fresh and the chicken katsu kit was delicious."},
]


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    folder = tmp_path_factory.mktemp("tag")
    src = folder / "in.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["--data-dir", str(folder / "data"), "tag", str(src), "--out", str(folder / "o.jsonl")])
    assert result.exit_code == 0, result.output
    assert "  in.jsonl: text from 'text', id 'id'" in result.stdout  # the summary says which field was the text
    return [json.loads(line) for line in (folder / "o.jsonl").read_text(encoding="utf-8").splitlines()]


def test_tag_output_format_and_order(tagged: list[dict]) -> None:
    # the export's own id on every row, the rejected one too, and the stored id beside it
    assert [r["id"] for r in tagged] == ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert [r["stored_id"] for r in tagged] == ["in:a", "in:b", "in:c", None, "in:e", "in:f", "in:g", "in:h"]
    assert tagged[3]["rejected"]["reason"] == "empty text"
    analysed = (tagged[0], tagged[1], tagged[2], tagged[4])
    # the loops below check every sentence and theme: there must be some (an empty list passes any loop)
    assert all(r["sentences"] for r in analysed) and any(r["themes"] for r in analysed)
    for r in analysed:
        assert set(r) >= {"id", "sentiment", "themes", "needs", "complaint", "sentences"}
        assert r["sentiment"]["label"] in ("negative", "neutral", "positive") and -1 <= r["sentiment"]["score"] <= 1
        assert set(r["complaint"]) >= {"is_complaint", "score", "priority", "reasons"}
        for s in r["sentences"]:
            assert set(s) == {"span", "sentiment", "themes", "need", "need_score"} and s["need_score"] is not None
        for t in r["themes"]:
            assert set(t) >= {"id", "label", "score", "sentiment", "span", "cause"}


def test_tag_reads_the_customer(tagged: list[dict]) -> None:
    late, praise, wish, _, danger, vague, defects, fresh = tagged
    assert late["sentiment"]["label"] == "negative" and praise["sentiment"]["label"] == "positive"
    assert late["complaint"]["is_complaint"] and late["complaint"]["priority"] == "high"
    assert any("churn" in reason for reason in late["complaint"]["reasons"])
    assert "delivery" in {t["id"] for t in late["themes"]}
    assert wish["needs"] and "delivery slot" in wish["needs"][0]["text"]
    assert danger["complaint"]["priority"] == "high"
    assert any("safety" in reason for reason in danger["complaint"]["reasons"])
    assert not praise["complaint"]["is_complaint"]
    assert vague["needs"] == [], "a request that names nothing ('Please fix.') is not an unmet need"
    # the need head is sure of both sentences (0.88, 0.92); the request-kind head reads them as defects
    assert defects["needs"] == [], defects["needs"]
    assert defects["complaint"]["is_complaint"]
    # praise of the food is about the product, not about every theme with glowing examples: zero-shot
    # themes project out the sentiment, complaint and need directions (speed and atmosphere without it)
    assert [t["id"] for t in fresh["themes"]] == ["product"], fresh["themes"]


def test_stage_versions_fit_the_store() -> None:
    """Every annotation records its producer's version; PostgreSQL refuses one longer than the column."""
    from voiceminer.pipeline import Pipeline
    from voiceminer.storage import schema as t

    limit = t.annotations.c.producer_version.type.length
    for stage in Pipeline.from_names(Settings().pipeline).stages:
        assert len(stage.version) <= limit, (stage.name, stage.version)


def test_mine_caches_vectors_so_reruns_never_reencode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer.models.shared import SharedModel

    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,Late again. Driver was rude.\n2,Late again. Lovely veg.\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    encoded: dict[str, int] = {}  # sentences encoded, per shared model (the default and its sentiment companion)
    real = SharedModel.encode

    def counting(self: SharedModel, texts: list[str]):  # noqa: ANN202
        encoded[self.artifact.name] = encoded.get(self.artifact.name, 0) + len(texts)
        return real(self, texts)

    monkeypatch.setattr(SharedModel, "encode", counting)
    jobs.mine(settings, [src])
    companion = json.loads((ROOT / "models" / DEFAULT_SHARED / "config.json").read_text(encoding="utf-8")).get(
        "sentiment_companion")
    # "Late again." once: one pass per unique sentence and encoder (3), plus each two-sentence
    # comment's whole text (2), which the comment-level sentiment and complaint read
    expected = {DEFAULT_SHARED: 5, **({companion["model"]: 5} if companion else {})}
    assert encoded == expected
    store = jobs.open_store(settings)
    from voiceminer.storage import schema as t

    with store.engine.begin() as conn:  # force a re-analysis: only the cache can answer now
        conn.execute(t.analyses.delete())
    jobs.analyse(settings, store=store)
    assert encoded == expected and store.counts()["analysed"] == 2


def test_encoder_weights_are_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer.models import encoder as enc

    import dataclasses

    for name in (enc.BASE_NAME, "all-mpnet-base-v2"):
        wrong = dataclasses.replace(enc.BASES_BY_NAME[name], sha256="0" * 64)
        monkeypatch.setitem(enc.BASES_BY_NAME, name, wrong)
    with pytest.raises(ConfigError, match="sha256"):
        enc.SentenceEncoder().load()
    with pytest.raises(ConfigError, match="sha256"):
        enc.SentenceEncoder(ROOT / "models" / "shared-v2").load()


def test_discover_cli_is_deterministic(tmp_path: Path) -> None:
    texts = [f"{w} problem number {i}" for i, w in enumerate(["delivery late", "app crash", "refund missing"] * 12)]
    texts += ["Thanks in advance!", "Order number HH-123456."]  # small talk: no cluster
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts) + "\n", encoding="utf-8")
    outs = []
    for name in ("a.jsonl", "b.jsonl"):
        result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "discover", str(src), "--out",
                                     str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outs.append((tmp_path / name).read_text(encoding="utf-8"))
    assert outs[0] == outs[1]
    lines = [json.loads(x) for x in outs[0].splitlines()]
    per_comment = [x for x in lines if "id" in x]
    assert len(per_comment) == len(texts) and all(set(x) == {"id", "cluster"} for x in per_comment)
    assert [x["cluster"] for x in per_comment[-2:]] == [None, None]
    clusters = [x for x in lines if x.get("type") == "cluster"]
    assert clusters and all(c["label"] and c["size"] > 0 and c["examples"] for c in clusters)


def test_train_themes_then_tag_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labeled = tmp_path / "l.csv"
    rows = ["text,themes"]
    for i in range(12):
        rows += [f"The courier was {i} hours late again,delivery.late",
                 f"I was charged twice for order {i},billing;billing.double_charge",
                 f"Lovely fresh strawberries number {i},product"]
    labeled.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = tmp_path / "themes"
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "train-themes", "--labeled", str(labeled),
                                 "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert "theme (out-of-fold)" in result.output and "billing.double_charge" in result.output
    assert (model / "config.json").exists() and (model / "MODEL_CARD.md").exists()
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    assert config["command"].startswith("voiceminer train-themes --labeled") and config["per_theme"]["product"]["f1"] > 0.9
    # the texts went into the store's vector cache: training again (labels fixed, say) encodes none of them
    from voiceminer.models.shared import SharedModel

    encoded: list[str] = []
    real = SharedModel.encode
    monkeypatch.setattr(SharedModel, "encode", lambda self, texts: encoded.extend(texts) or real(self, texts))
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "train-themes", "--json", "--labeled",
                                 str(labeled), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert encoded == [] and json.loads(result.stdout)["per_theme"] == config["per_theme"]
    assert (tmp_path / "again" / "weights.npz").read_bytes() == (model / "weights.npz").read_bytes()
    assert (model / "lexicon.json").exists()  # the word block is on by default; tag must pass the texts
    src = tmp_path / "in.txt"
    src.write_text("my parcel came five hours late\nthey billed me two times for one order\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "tag", str(src), "--out", str(out),
                                 "--themes-model", str(model)])
    assert result.exit_code == 0, result.output
    first, second = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [t["id"] for t in first["themes"]] == ["delivery"] and first["themes"][0]["cause"] == "delivery.late"
    assert second["themes"][0]["id"] == "billing"


def test_evaluate_reproduces_the_model_card(tmp_path: Path) -> None:
    from datasets_required import datasets_or_skip

    from voiceminer.evaluation.evaluate import evaluate

    card = json.loads((ROOT / "models" / DEFAULT_SHARED / "scores.json").read_text(encoding="utf-8"))
    datasets_or_skip()  # a skip here, a failure on CI
    rows = evaluate(only=["binary"], cache_dir=tmp_path / "cache")
    expected = {r["task"]: r for r in card}
    # the same binary rows as the card, neither fewer (an empty list would check nothing) nor new ones
    binary = {"complaint", "need", "request_kind", "unmet_need"}
    assert sorted(row.task for row in rows) == sorted(task for task in expected if task in binary)
    for row in rows:
        for system in ("vader", "frozen_lr", "model"):
            want = expected[row.task][system]
            assert (want is None and row.scores[system] is None) or abs(row.scores[system] - want) < 0.002, row


def test_sarcastic_praise_reads_negative(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Great, another late delivery 🙄\nOh wonderful, my order is late again.\n"
                   "Great service, fast delivery!\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "tag", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    eye_roll, oh_wonderful, praise = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert eye_roll["sentiment"]["label"] == "negative" and eye_roll["sentiment"]["score"] < 0
    assert oh_wonderful["sentiment"]["label"] == "negative"
    assert praise["sentiment"]["label"] == "positive"


def test_the_zero_shot_themes_version_follows_the_background_phrases(monkeypatch: pytest.MonkeyPatch) -> None:
    """The background phrases decide which sentences get no theme: stored themes are redone when they change."""
    from voiceminer.pipeline import Pipeline
    from voiceminer.themes import zeroshot

    def themes_version() -> str:
        stages = Pipeline.from_names(Settings().pipeline).stages
        return next(s.version for s in stages if s.name.startswith("themes"))

    before = themes_version()
    assert before.startswith("zeroshot:"), before
    monkeypatch.setattr(zeroshot, "background_sha256", lambda *a: "0" * 64)
    assert themes_version() != before


def test_the_shipped_geometry_map_reads_the_base_geometry_back() -> None:
    """shared-v2's calibration mixes in its geometry map: the mapped vectors put a delivery-time question near the
    delivery-time phrase, where shared-v2's own cosines put it near online ordering (README, the geometry map)."""
    import importlib.util

    import numpy as np

    from voiceminer.models.shared import SharedModel
    from voiceminer.themes.zeroshot import calibration_for, load_geometry_map

    shared = SharedModel(companion=False, backend="onnx").load()
    constants = calibration_for(shared.encoder_)
    assert 0 < constants["geometry_mix"] < 1
    geometry = load_geometry_map(constants["geometry_map"])
    assert geometry.shape == (shared.encoder_.dim, shared.encoder_.dim)
    v = np.asarray(shared.encoder_.encode(["Why can't I choose when my order arrives?", "I want to choose my delivery time",
                                           "could not complete my order online"], normalize=True), np.float32)
    m = geometry(v)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    assert v[0] @ v[1] < v[0] @ v[2]  # shared-v2 alone: nearer online ordering
    assert m[0] @ m[1] > v[0] @ v[1] + 0.2 and m[0] @ m[1] - m[0] @ m[2] > (v[0] @ v[1] - v[0] @ v[2]) + 0.3
    # the script that fits it: an exact linear relation comes back
    spec = importlib.util.spec_from_file_location("encoder_geometry", ROOT / "scripts" / "encoder_geometry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    x, true = rng.normal(size=(200, 8)), rng.normal(size=(8, 5))
    assert np.allclose(module.ridge_map(x, x @ true, 1e-9), true, atol=1e-6)


def test_tag_reads_a_promise_against_what_happened_and_a_wish_for_a_slot(tmp_path: Path) -> None:
    """A clause stating what was promised stays with the turn after it (one late delivery, not a remark about
    delivery times plus a vague delivery), and the cause classifier breaks the near tie between Late delivery and
    Delivery days and times for a wish to pick a slot (README, Demo precision)."""
    rows = [{"id": "p", "text": "The delivery window said 9-10am but it came at 6pm. No text, no call, nothing."},
            {"id": "s", "text": "I wish I could pick a delivery slot instead of just getting whatever time you give me."}]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "tag", str(src), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0, result.output
    promise, slot = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert promise["sentences"][0]["span"] == [0, len("The delivery window said 9-10am but it came at 6pm.")]
    causes = {(t["id"], t["cause"]) for t in promise["themes"]}
    assert ("delivery", "delivery.late") in causes and not any(c == "delivery.scheduling" for _, c in causes), causes
    assert [(t["id"], t["cause"]) for t in slot["themes"]] == [
        ("delivery", "delivery.scheduling")], slot["themes"]
