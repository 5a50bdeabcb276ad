"""Themes: taxonomy validation, parents from children, zero-shot, trained round trip,
cause spans, discovery determinism."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from voiceminer.errors import ConfigError, InputError
from voiceminer.themes import ThemeModel, ZeroShotThemes, cause_spans, discover, load_taxonomy
from voiceminer.themes.taxonomy import parse_taxonomy
from voiceminer.themes.trained import expand_parents
from voiceminer.themes.training import read_labeled_csv


def _node(tid, **extra):
    return {"id": tid, "label": tid.title(), "description": f"about {tid}", "examples": [f"{tid} example"], **extra}


# ---- taxonomy -------------------------------------------------------------------------------
def test_default_taxonomy_is_two_levels_with_examples():
    tax = load_taxonomy()
    assert len(tax.top) >= 15
    for theme in tax:
        assert 5 <= len(theme.examples) <= 12, theme.id
        if theme.parent:
            assert theme.id.startswith(theme.parent + ".") and not theme.children
    for need in ("delivery.late", "delivery.damaged", "account.login", "account.password_reset", "billing",
                 "returns", "price", "staff", "speed", "digital", "subscription", "safety", "availability"):
        assert need in tax


@pytest.mark.parametrize("raw, message", [
    ({"themes": [{"id": "x", "description": "d"}]}, "theme 'x': 'label' is missing"),
    ({"themes": [_node("x"), _node("x")]}, "theme 'x': the id is used twice"),
    ({"themes": [_node("x", children=[_node("y.a")])]}, "theme 'y.a': a child of 'x' must have an id"),
    ({"themes": [_node("x", children=[_node("x.a", children=[_node("x.a")])])]}, "two levels"),
    ({"themes": [_node("Bad Id")]}, "theme 'Bad Id': 'id' must be"),
    ({"themes": [_node("x", examples="one")]}, "'examples' must be a list"),
    ({"themes": [_node("x", colour="red")]}, "unknown keys ['colour']"),
    ({"themes": []}, "'themes' is empty"),
    ([1, 2], "must be a mapping"),
])
def test_taxonomy_errors_name_file_and_theme(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_taxonomy(raw, source="team.yaml")
    assert message in str(err.value) and "team.yaml" in str(err.value)


def test_taxonomy_file_errors(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("themes: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="t.yaml is not valid YAML"):
        load_taxonomy(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_taxonomy(tmp_path / "missing.yaml")


def test_extends_default_adds_overrides_and_removes(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text(
        "extends: default\nname: acme\nremove: [safety]\nthemes:\n"
        "  - id: delivery\n    label: Shipping\n    children:\n"
        "      - {id: delivery.customs, label: Customs, description: Held at customs, examples: [stuck in customs]}\n"
        "  - {id: loyalty, label: Loyalty scheme, description: Points and rewards, examples: [my points vanished]}\n",
        encoding="utf-8")
    tax = load_taxonomy(path)
    base = load_taxonomy()
    assert tax.name == "acme" and tax["delivery"].label == "Shipping"
    assert tax["delivery"].description == base["delivery"].description
    assert "delivery.customs" in tax["delivery"].children and "delivery.late" in tax
    assert "loyalty" in tax and "safety" not in tax and "safety.fraud" not in tax
    path.write_text("extends: default\nremove: [nope]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'remove' names theme 'nope'"):
        load_taxonomy(path)


def test_parents_implied_by_children():
    assert expand_parents([["delivery.late", "price"], ["x.y"]]) == [["delivery", "delivery.late", "price"],
                                                                      ["x", "x.y"]]
    assert load_taxonomy().with_parents(["account.locked"]) == ["account", "account.locked"]


# ---- trained model --------------------------------------------------------------------------
def _toy(n=30, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.eye(3, 16) * 3
    X = np.vstack([c + rng.normal(0, 1, (n, 16)) for c in centers]).astype(np.float32)
    y = [["delivery.late"]] * n + [["price"]] * n + [["price", "staff.rude"]] * n
    return X, y


def test_trained_round_trip_identical(tmp_path):
    X, y = _toy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all ids known to the default taxonomy: no warning
        model = ThemeModel(Cs=(0.5, 2.0), cv_folds=3).fit(X, y, load_taxonomy(), encoder_key="enc@1")
    assert model.labels_ == ["delivery", "delivery.late", "price", "staff", "staff.rude"]
    assert model.mode_ == "multi"
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["factory"] == "themes.trained.v2" and config["encoder_key"] == "enc@1"
    assert config["lexical"] is None and not (tmp_path / "m" / "lexicon.json").exists()  # no texts given
    assert (tmp_path / "m" / "MODEL_CARD.md").exists() and (tmp_path / "m" / "weights.npz").exists()
    again = ThemeModel.load(tmp_path / "m", encoder_key="enc@1")
    assert again.predict(X) == model.predict(X)
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
    assert model.predict(X[:1]) == [["delivery", "delivery.late"]]
    with pytest.raises(ConfigError, match="trained on encoder 'enc@1'"):
        ThemeModel.load(tmp_path / "m", encoder_key="other@2")


def test_trained_mlp_round_trip_and_unknown_ids_warn(tmp_path):
    X, y = _toy()
    y = [["custom.thing"] if lab == ["delivery.late"] else lab for lab in y]
    with pytest.warns(UserWarning, match="custom.thing"):
        model = ThemeModel(head="mlp", hidden=16, cv_folds=2).fit(X, y, load_taxonomy())
    model.save(tmp_path / "mlp")
    assert ThemeModel.load(tmp_path / "mlp").predict(X) == model.predict(X)


def test_multi_label_min_labels_follows_the_training_rows(tmp_path):
    X, y = _toy()
    every = ThemeModel(C=1.0, cv_folds=2).fit(X, y)
    below = every.thresholds_ * np.linspace(0.2, 0.6, len(every.labels_))  # nothing passes its threshold
    below[every.labels_.index("price")] = every.thresholds_[every.labels_.index("price")] * 0.9  # but price nearly
    assert every.min_labels_ == 1 and every.decide(below[None]) == [["price"]]
    every.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["min_labels"] == 1
    assert "at least one" in (tmp_path / "m" / "MODEL_CARD.md").read_text()
    assert ThemeModel.load(tmp_path / "m").decide(below[None]) == [["price"]]
    some_empty = ThemeModel(C=1.0, cv_folds=2).fit(X, [[] if i % 9 == 0 else lab for i, lab in enumerate(y)])
    assert some_empty.min_labels_ == 0
    forced_off = ThemeModel(C=1.0, cv_folds=2, min_labels=0).fit(X, y)
    assert forced_off.min_labels_ == 0 and forced_off.decide(forced_off.thresholds_[None] * 0.5) == [[]]


def test_single_label_mode_predicts_one_leaf():
    X, y = _toy()
    y = [["a"]] * 30 + [["b.x"]] * 30 + [["c"]] * 30
    model = ThemeModel(C=1.0, cv_folds=2).fit(X, y)
    assert model.mode_ == "single"
    assert all(len([p for p in pred if p != "b"]) == 1 for pred in model.predict(X))


def test_single_label_softmax_parents_sum_their_children():
    X, y = _toy()
    y = [["a"]] * 30 + [["b.x"]] * 30 + [["b.y"]] * 30
    model = ThemeModel(C=1.0, cv_folds=2).fit(X, y)
    proba = model.predict_proba(X)
    col = {lab: j for j, lab in enumerate(model.labels_)}
    leaves = [col["a"], col["b.x"], col["b.y"]]
    assert np.allclose(proba[:, leaves].sum(1), 1.0, atol=1e-5)
    assert np.allclose(proba[:, col["b"]], proba[:, col["b.x"]] + proba[:, col["b.y"]], atol=1e-6)
    assert model.predict(X[:1]) == [["a"]] and model.predict(X[30:31]) == [["b", "b.x"]]


_TEXTS = {"delivery.late": "the parcel arrived {} days late", "price": "far too expensive at {} dollars",
          "staff.rude": "the waiter was rude number {}"}


def _toy_texts(y):
    """Texts whose words name the theme; the vectors of ``_toy`` carry no signal here (noise)."""
    return [" and ".join(_TEXTS[lab].format(i) for lab in labels) for i, labels in enumerate(y)]


def test_lexical_block_reads_the_words_and_round_trips(tmp_path):
    X, y = _toy()
    texts = _toy_texts(y)
    noise = np.random.default_rng(1).normal(0, 1, X.shape).astype(np.float32)  # vectors without signal
    model = ThemeModel(Cs=(2.0,), cv_folds=3).fit(noise, y, texts=texts, encoder_key="enc@1")
    assert model.lexicon_ is not None and "parcel" in model.lexicon_.terms_
    assert model.predict(noise[:1], ["the parcel arrived 3 days late"]) == [["delivery", "delivery.late"]]
    vector_only = ThemeModel(Cs=(2.0,), cv_folds=3, lexical=0).fit(noise, y, texts=texts)
    assert vector_only.lexicon_ is None
    assert model.cv_scores_["cv_micro_f1"] > vector_only.cv_scores_["cv_micro_f1"] + 0.2
    with pytest.raises(ConfigError, match="reads the sentence text"):
        model.predict(noise[:1])
    model.save(tmp_path / "lex")
    config = json.loads((tmp_path / "lex" / "config.json").read_text())
    # the vectors are noise and the words name the theme: cross-validation gives the words the most weight
    assert config["lexical"]["weight"] == model.cv_scores_["lexical_weight"] == 2.0
    assert (tmp_path / "lex" / "lexicon.json").exists() and "lexical_weight: 2.0" in (
        tmp_path / "lex" / "MODEL_CARD.md").read_text()
    fixed = ThemeModel(Cs=(2.0,), cv_folds=3, lexical=0.5).fit(noise, y, texts=texts)
    assert fixed.lexical_ == 0.5 and "lexical_weight" not in fixed.cv_scores_
    again = ThemeModel.load(tmp_path / "lex", encoder_key="enc@1")
    assert np.array_equal(again.predict_proba(noise, texts), model.predict_proba(noise, texts))
    (tmp_path / "lex" / "lexicon.json").write_text(
        (tmp_path / "lex" / "lexicon.json").read_text().replace("parcel", "parcels"))
    with pytest.raises(ConfigError, match="sha256 does not match"):
        ThemeModel.load(tmp_path / "lex")


def test_version_1_artifact_still_loads(tmp_path):
    X, y = _toy()
    model = ThemeModel(Cs=(2.0,), cv_folds=2).fit(X, y)
    model.save(tmp_path / "v1")
    path = tmp_path / "v1" / "config.json"
    config = json.loads(path.read_text())
    config["factory"], config["format"] = "themes.trained.v1", 1
    del config["lexical"]
    path.write_text(json.dumps(config))
    again = ThemeModel.load(tmp_path / "v1")
    assert again.lexicon_ is None and again.predict(X) == model.predict(X)
    config["factory"] = "themes.other.v9"
    path.write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="factory is 'themes.other.v9'"):
        ThemeModel.load(tmp_path / "v1")


def test_labeled_csv_errors_name_line_and_field(tmp_path):
    f = tmp_path / "L.csv"
    f.write_text('text,themes\n"Late, again",delivery.late;price\n,price\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3, field 'text'"):
        read_labeled_csv(f)
    f.write_text("text,themes\nok,deli very\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2, field 'themes'"):
        read_labeled_csv(f)
    f.write_text("body,labels\nok,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing"):
        read_labeled_csv(f)


class _FakeEncoder:
    key = "fake@0"

    def encode(self, texts, normalize=True):
        vecs = np.array([[t.count("late"), t.count("price"), t.count("rude"), 1.0] for t in texts], np.float32)
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def test_train_from_csv_writes_a_reloadable_artifact(tmp_path):
    from voiceminer.themes import train_from_csv

    rows = ["late late,delivery.late", "price price,price", "so rude,staff.rude"] * 10
    (tmp_path / "L.csv").write_text("text,themes\n" + "\n".join(rows) + "\n", encoding="utf-8")
    metrics = train_from_csv(tmp_path / "L.csv", None, tmp_path / "out", _FakeEncoder(), features="mean", C=1.0)
    assert metrics["rows"] == 30 and metrics["labels"] == 5
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["rows"] == 30 and len(config["data_sha256"]) == 64 and config["encoder_key"] == "fake@0"
    model = ThemeModel.load(tmp_path / "out", encoder_key="fake@0")
    assert config["lexical"]["weight"] == metrics["lexical_weight"] and model.lexicon_ is not None
    assert model.predict(_FakeEncoder().encode(["late again"]), ["late again"]) == [["delivery", "delivery.late"]]
    train_from_csv(tmp_path / "L.csv", None, tmp_path / "plain", _FakeEncoder(), C=1.0, lexical=0)
    assert ThemeModel.load(tmp_path / "plain").predict(_FakeEncoder().encode(["late again"])) == [
        ["delivery", "delivery.late"]]


def test_per_theme_scores_show_which_themes_are_weak_and_travel_with_the_artifact(tmp_path):
    from voiceminer.themes import train_from_csv

    rng = np.random.default_rng(0)
    # "late" and "price" rows carry their word; "misc" rows are random noise words and share none of it
    rows = [f"late late {i},delivery.late" for i in range(30)] + [f"price price {i},price" for i in range(30)]
    rows += [f"{w} {i},misc" for i, w in enumerate(rng.choice(["late", "price", "rude"], 30))]
    rows += [f"so rude {i},staff.rude" for i in range(4)]  # under 5 examples: the data warning says so
    (tmp_path / "L.csv").write_text("text,themes\n" + "\n".join(rows) + "\n", encoding="utf-8")
    metrics = train_from_csv(tmp_path / "L.csv", load_taxonomy(), tmp_path / "out", _FakeEncoder(), C=1.0,
                             lexical=0, command="voiceminer train-themes --labeled L.csv --out out")
    per = metrics["per_theme"]
    assert set(per) == {"delivery", "delivery.late", "price", "misc", "staff", "staff.rude"}
    assert per["delivery.late"]["f1"] > 0.8 and per["delivery.late"]["support"] == 30
    assert per["misc"]["f1"] < 0.6 and per["staff.rude"]["support"] == 4  # noise cannot be learned
    assert all(0 <= s["precision"] <= 1 and 0 <= s["recall"] <= 1 for s in per.values())
    assert any("misc" in w for w in metrics["warnings"])  # not in the taxonomy
    assert any("fewer than 5 examples" in w and "staff.rude" in w for w in metrics["warnings"])
    again = ThemeModel.load(tmp_path / "out")
    assert again.cv_per_theme_ == per
    card = (tmp_path / "out" / "MODEL_CARD.md").read_text(encoding="utf-8")
    table = card[card.index("## Per theme"):card.index("## Labels")]
    assert table.index("`misc`") < table.index("`delivery.late`")  # weakest first
    assert "needs more examples: low F1" in table and "- warning: themes with fewer than 5" in card
    assert "`voiceminer train-themes --labeled L.csv --out out`" in card


# ---- causes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, spans", [
    ("The parcel was late because the courier lost it.", ["the courier lost it"]),
    ("Delayed due to a technical fault, then cancelled", ["a technical fault"]),
    ("Ever since the update the app keeps crashing", ["the update the app keeps crashing"]),
    ("After waiting two hours I gave up", ["waiting two hours I gave up"]),
    ("Thanks to your staff I missed my flight!", ["your staff"]),
    ("Cancelled due to winter weather is totally understandable", ["winter weather"]),
    ("so u Cancelled our flight bc of SDF weather but others still go", ["SDF weather"]),
    ("delays caused by the fact that you don't have enough crew", ["the fact that you don't have enough crew"]),
    ("it was caused by physical abuse and is not covered", ["physical abuse"]),
    ("The outage was caused by a storm; no refund", ["a storm"]),
    ("Charged twice as a result of a system error", ["a system error"]),
    ("Since you changed the menu, the food is worse", ["you changed the menu"]),
    ("After all, it was fine.", []),
    ("Great service, lovely staff.", []),
    # "since" and "after" that tell time: a point in time or a single word opens no cause
    ("Been on hold since Thursday and keep getting cut off", []),
    ("I have been trying since 730a to speak to a human", []),
    ("My bag has been missing since Thurs.", []),
    ("Arriving at 6, officially five hours after planned.", []),
    ("The route stops running after August 7, so I need another way home", []),
    ("Can't reach anyone since last night, no answer at all", []),
    ("Arrived over 2 hours after the window because of the new delivery company.", ["the new delivery company"]),
    ("On hold for over 7 hours after my flight was cancelled", ["my flight was cancelled"]),
    ("Still haven't received my refund after a week.", []),
    ("I gave up after two hours of waiting", ["two hours of waiting"]),
    # ... and that still give a cause
    ("We are lucky you still fly us after today's landing gear failure.", ["today's landing gear failure"]),
    ("Utterly frustrated after 4 hours on hold", ["4 hours on hold"]),
    ("Since this is a five hour flight, the lack of food is shocking", ["this is a five hour flight"]),
    ("Cancelled due to snow, again", ["snow"]),
    # a denied cause is none; "not just because" still gives one
    ('Not because you are "The Four Seasons"... you are allowed to charge that', []),
    ("The delay wasn't due to the weather, the crew never showed up", []),
    ("I left not because of the price but because of the staff", ["the staff"]),
    ("Not just because of the price, the food was cold too", ["the price"]),
    ("It says I can't because my flight is in progress.", ["my flight is in progress"]),
    # a duration opening a new clause, or behind "since", is when; a conditional ends the cause
    ("Love them but after 18 months Mike and stop button doesn't work", []),
    ("Wow. 2.5 hours since we ordered our pizza for a work function.", []),
    ("40 minutes on tarmac now. That's after 9 hour delay.", ["9 hour delay"]),
    ("I'll plan better this year since I was a sucker last year", ["I was a sucker last year"]),
    ("Delayed due to bad weather and if it's not here for Thursday I don't need it", ["bad weather"]),
])
def test_cause_spans(text, spans):
    got = cause_spans(text)
    assert [text[s:e] for s, e in got] == spans
    assert all(0 <= s < e <= len(text) for s, e in got)


# ---- discovery ------------------------------------------------------------------------------
def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    words = ["baggage lost", "seat broken", "refund slow", "crew rude"]
    texts, vecs = [], []
    for k, w in enumerate(words):
        center = np.zeros(24)
        center[k] = 1.0
        for i in range(25):
            texts.append(f"my {w} again {i % 7}")
            vecs.append(center + rng.normal(0, 0.15, 24))
    texts.append("completely unrelated remark")
    vecs.append(rng.normal(0, 1, 24))
    return texts, np.array(vecs)


def test_discovery_is_deterministic_and_bounded():
    texts, vecs = _blobs()
    first = discover(texts, vecs, min_cluster_size=5, k_range=[3, 4, 5, 6])
    again = discover(texts, vecs, min_cluster_size=5, k_range=[3, 4, 5, 6])
    shuffled = np.random.default_rng(1).permutation(len(texts))
    moved = discover([texts[i] for i in shuffled], vecs[shuffled], min_cluster_size=5, k_range=[3, 4, 5, 6])
    assert first == again
    assert [moved.assignments[list(shuffled).index(i)] for i in range(len(texts))] == first.assignments
    assert moved.clusters == first.clusters
    assert first.unclustered_fraction <= 0.10
    assert len(first.clusters) == 4 and min(c.size for c in first.clusters) >= 20
    labels = " ".join(c.label for c in first.clusters)
    assert all(w in labels for w in ("baggage", "seat", "refund", "crew"))


def test_discovery_small_input_is_all_unclustered():
    d = discover(["a", "b"], np.eye(2), min_cluster_size=5)
    assert d.assignments == [None, None] and d.clusters == []


# ---- zero-shot (real encoder) ---------------------------------------------------------------
def test_zeroshot_projects_out_how_a_sentence_feels():
    """A sentiment direction shared by praise-laden examples must not pull a sentence to their theme."""
    from voiceminer.models.shared import LinearHeads

    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": ["lovely a"]},
        {"id": "b", "label": "B", "description": "b", "examples": ["plain b"]}]})
    # axes: topic a, topic b, sentiment; theme a's example is praise, theme b's is neutral
    table = {"A: a": [1, 0, 0], "B: b": [0, 1, 0], "lovely a": [1, 0, 1], "plain b": [0, 1, 0]}

    class Toy:
        key = "toy@1"

        def encode(self, texts, normalize=True):
            v = np.array([table.get(t, [0, 0, 0.01]) for t in texts], np.float32)
            return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)

    heads = LinearHeads({"sentiment": (np.array([[0, 0, -1.0], [0, 0, 0], [0, 0, 1.0]]), np.zeros(3))},
                        {"sentiment": ["negative", "neutral", "positive"]})
    glowing_b = np.array([[0, 0.6, 1.0]], np.float32) / np.linalg.norm([0, 0.6, 1.0])
    raw = ZeroShotThemes(tax, threshold=0.3, background=()).fit_encoder(Toy())
    assert [h.id for h in raw.predict(glowing_b)[0]][:1] == ["a"]  # the praise wins without the projection
    zs = ZeroShotThemes(tax, threshold=0.3, background=(), project_out=["sentiment"]).fit_encoder(Toy(), heads)
    assert [h.id for h in zs.predict(glowing_b)[0]] == ["b"]
    assert np.allclose(zs.scores(glowing_b), zs._scores(np.array([[0, 1.0, 0]], np.float32)), atol=1e-6)
    with pytest.raises(ConfigError, match="pass the shared model's heads"):
        ZeroShotThemes(tax, project_out=["sentiment"]).fit_encoder(Toy())
    with pytest.raises(ConfigError, match="no need head"):
        ZeroShotThemes(tax, project_out=["need"]).fit_encoder(Toy(), heads)


def test_zeroshot_geometry_map_mixes_the_mapped_cosines_in(tmp_path):
    """With a geometry map every cosine is (1 - mix) x the vectors' own + mix x the mapped vectors'; a sentence
    the map moves to a theme's example gets that theme; the stage's version keys the map by content, not path."""
    from voiceminer.themes.zeroshot import calibration_for, calibration_key

    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": ["x"]},
        {"id": "b", "label": "B", "description": "b", "examples": ["y"]}]})
    desc = np.eye(2, 3, dtype=np.float32)
    examples = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    swap = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]], np.float32)  # the third axis reads as theme b's
    sentence = np.array([[0.6, 0, 0.8]], np.float32)
    plain = ZeroShotThemes(tax, threshold=0.3, background=()).fit_vectors(desc, examples)
    assert [h.id for h in plain.predict(sentence)[0]] == ["a"]
    rng = np.random.default_rng(0)
    v = rng.normal(size=(5, 3)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    for mix in (0.25, 0.5, 0.75):
        zs = ZeroShotThemes(tax, threshold=0.3, background=(), geometry_map=swap, geometry_mix=mix)
        p = zs._project(v)
        mapped = v @ swap
        mapped /= np.linalg.norm(mapped, axis=1, keepdims=True)
        assert np.allclose(p @ p.T, (1 - mix) * (v @ v.T) + mix * (mapped @ mapped.T), atol=1e-5)
        assert np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-5)
        assert np.allclose(zs._own(p), v, atol=1e-5)  # what bare themes read
    mapped_zs = ZeroShotThemes(tax, threshold=0.3, background=(), geometry_map=swap, geometry_mix=0.9).fit_vectors(
        desc, examples)
    assert [h.id for h in mapped_zs.predict(sentence)[0]] == ["b"]
    with pytest.raises(ConfigError, match="needs a geometry_map"):
        ZeroShotThemes(tax, geometry_mix=0.5)
    for mix in (1.0, 1.5, -0.1):
        with pytest.raises(ConfigError, match="up to"):
            ZeroShotThemes(tax, geometry_map=swap, geometry_mix=mix)
    with pytest.raises(ConfigError, match="missing.npy"):
        ZeroShotThemes(tax, geometry_map=tmp_path / "missing.npy", geometry_mix=0.5)
    # bare themes (no examples) keep the shared vectors their constants were chosen on
    mixed = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": ["x"]},
        {"id": "c", "label": "Coffee", "description": "coffee and tea"}]})

    class Toy:
        key = "toy@1"

        def encode(self, texts, normalize=True):
            out = np.stack([np.random.default_rng(sum(map(ord, t))).normal(size=3) for t in texts]).astype(np.float32)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    own = ZeroShotThemes(mixed, background=(), generic=["one thing", "another thing", "a third"]).fit_encoder(Toy())
    geo = ZeroShotThemes(mixed, background=(), generic=["one thing", "another thing", "a third"], geometry_map=swap,
                         geometry_mix=0.5).fit_encoder(Toy())
    assert np.allclose(own.scores(v)[:, 1], geo.scores(v)[:, 1], atol=1e-5)
    assert not np.allclose(own.scores(v)[:, 0], geo.scores(v)[:, 0], atol=1e-3)
    # an artifact's calibration names the map beside its config; the version sees its content
    art = tmp_path / "model"
    art.mkdir()
    np.save(art / "geometry_map.npy", swap.astype(np.float16))
    (art / "config.json").write_text(json.dumps({"zero_shot": {"geometry_map": "geometry_map.npy",
                                                               "geometry_mix": 0.5, "threshold": 0.4}}))

    class Enc:
        artifact = art

    constants = calibration_for(Enc())
    assert constants["geometry_map"] == str(art / "geometry_map.npy")
    zs = ZeroShotThemes(tax, **constants)
    assert np.array_equal(zs.geometry_map_.parts["w"], swap)
    key = calibration_key(constants)
    assert key["threshold"] == 0.4 and len(key["geometry_map"]) == 64
    other = tmp_path / "other" / "geometry_map.npy"  # another map: another version
    other.parent.mkdir()
    np.save(other, (2 * swap).astype(np.float16))
    assert calibration_key(constants | {"geometry_map": str(other)})["geometry_map"] != key["geometry_map"]


def test_a_geometry_map_with_a_hidden_layer_round_trips_and_rejects_missing_parts(tmp_path):
    from voiceminer.themes.zeroshot import GeometryMap, load_geometry_map

    rng = np.random.default_rng(1)
    parts = {"w": rng.normal(size=(4, 3)), "b": rng.normal(size=3), "w1": rng.normal(size=(4, 6)),
             "b1": rng.normal(size=6), "w2": rng.normal(size=(6, 3)), "b2": rng.normal(size=3)}
    x = rng.normal(size=(5, 4)).astype(np.float32)
    h = x @ parts["w1"] + parts["b1"]
    gelu = 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3)))
    expected = x @ parts["w"] + parts["b"] + gelu @ parts["w2"] + parts["b2"]
    assert np.allclose(GeometryMap(parts)(x), expected, atol=1e-4)
    np.savez(tmp_path / "map.npz", **parts)
    loaded = load_geometry_map(tmp_path / "map.npz")
    assert loaded.shape == (4, 3) and np.allclose(loaded(x), expected, atol=1e-4)
    with pytest.raises(ConfigError, match="w1, b1, w2 and b2"):
        GeometryMap({"w": parts["w"], "w1": parts["w1"]})


def test_zeroshot_with_toy_vectors():
    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": ["x"],
         "children": [{"id": "a.one", "label": "One", "description": "one", "examples": ["y"]}]},
        {"id": "b", "label": "B", "description": "b", "examples": ["z"]}]})
    desc = np.eye(3, 4, dtype=np.float32)
    examples = np.array([[1, 0, 0, 0], [0.9, 0.4359, 0, 0], [0, 0, 1, 0]], dtype=np.float32)
    zs = ZeroShotThemes(tax, threshold=0.5, child_threshold=0.5).fit_vectors(desc, examples)
    hits = zs.predict(np.array([[0.8, 0.6, 0, 0], [0, 0, 0, 1]], dtype=np.float32))
    assert [h.id for h in hits[0]] == ["a"] and hits[0][0].cause_id == "a.one"
    assert hits[1] == []



def test_zeroshot_leaf_scores_each_cause_on_its_own_examples():
    """A sentence close to one cause's example: pooled scores dilute it with the parent's other
    examples and let a vaguely close theme win; leaf scores give the theme its cause's score."""
    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": ["a1", "a2", "a3"]},
        {"id": "b", "label": "B", "description": "b", "examples": ["b1", "b2"],
         "children": [{"id": "b.one", "label": "One", "description": "one", "examples": ["c1"]}]}]})
    desc = np.eye(3, 4, dtype=np.float32)
    examples = np.array([[0.6, 0.8, 0, 0]] * 3 + [[0.1, 0, 0.995, 0]] * 2 + [[0.95, 0, 0, 0.3122]], np.float32)
    sentence = np.array([[1, 0, 0, 0]], np.float32)
    kw = dict(threshold=0.5, child_threshold=0.5, desc_weight=0.0, top_k=3, margin=0.0)
    pooled = ZeroShotThemes(tax, **kw).fit_vectors(desc, examples).predict(sentence)[0]
    leaf = ZeroShotThemes(tax, leaf=True, **kw).fit_vectors(desc, examples)
    assert [h.id for h in pooled] == ["a"]
    hits = leaf.predict(sentence)[0]
    assert [(h.id, h.cause_id) for h in hits] == [("b", "b.one")]
    assert hits[0].score == pytest.approx(0.95, abs=1e-3)
    # with a margin, the runner-up within it joins; with margin 0 only the best theme is kept
    leaf.margin = 0.4
    assert [h.id for h in leaf.predict(sentence)[0]] == ["b", "a"]


def _two_theme_toy():
    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": ["a1"],
         "children": [{"id": "a.one", "label": "One", "description": "one", "examples": ["c1"]},
                      {"id": "a.two", "label": "Two", "description": "two", "examples": ["c2"]}]},
        {"id": "b", "label": "B", "description": "b", "examples": ["b1"]}]})
    desc = np.eye(4, 4, dtype=np.float32)
    examples = np.array([[1, 0, 0, 0], [0.8, 0.6, 0, 0], [0.8, 0, 0.6, 0], [0, 0, 0, 1]], np.float32)
    return tax, desc, examples


def test_zeroshot_lead_abstains_when_no_theme_is_clearly_ahead():
    """lead: a sentence whose best theme does not beat the next by that much gets no theme;
    cause_lead: a cause not clearly ahead of its sibling is left out (the theme stays)."""
    tax, desc, examples = _two_theme_toy()
    kw = {"threshold": 0.3, "child_threshold": 0.3, "desc_weight": 0.0, "top_k": 1, "margin": 0.0, "background": ()}
    between = np.array([[0.7, 0, 0, 0.68]], np.float32)  # a 0.70, b 0.68
    clear = np.array([[0.9, 0.3, 0.29, 0.1]], np.float32)  # a.one 0.894 vs a.two 0.894 - 0.006
    clear /= np.linalg.norm(clear)
    plain = ZeroShotThemes(tax, **kw).fit_vectors(desc, examples)
    assert [h.id for h in plain.predict(between)[0]] == ["a"]
    assert plain.predict(clear)[0][0].cause_id == "a.one"
    strict = ZeroShotThemes(tax, lead=0.05, cause_lead=0.05, **kw).fit_vectors(desc, examples)
    assert strict.predict(between)[0] == []
    hit = strict.predict(clear)[0][0]
    assert (hit.id, hit.cause_id) == ("a", None)
    # with lead 0 and cause_lead 0 (the defaults) nothing changes
    same = ZeroShotThemes(tax, lead=0.0, cause_lead=0.0, **kw).fit_vectors(desc, examples)
    assert same.predict(np.vstack([between, clear])) == plain.predict(np.vstack([between, clear]))


def test_zeroshot_example_scores_leave_each_example_out():
    tax, desc, examples = _two_theme_toy()
    zs = ZeroShotThemes(tax, desc_weight=0.0, top_k=1, background=()).fit_vectors(desc, examples)
    scores, owner, background = zs.example_scores()
    assert owner.tolist() == [0, 1, 2, 3] and background is None
    # b has one example: left out, its own theme has nothing of it (-inf) and a's pool still scores
    assert scores[3, 3] == -np.inf and scores[3, 0] == pytest.approx(0.0)
    # a.one's example still scores its parent a through a's other examples (a1 at 0.8)
    assert scores[1, 0] == pytest.approx(0.8) and scores[1, 1] == -np.inf
    full = zs._scores(examples)
    assert np.all(scores <= full + 1e-6)


@pytest.mark.slow
def test_zeroshot_picks_obvious_themes():
    from voiceminer.models.encoder import SentenceEncoder

    enc = SentenceEncoder().load()
    zs = ZeroShotThemes().load(enc)
    cases = {
        "My parcel arrived three days late.": ("delivery", "delivery.late"),
        "I can't log in to my account, it keeps rejecting my password.": ("account", None),
        "The waiter was really rude to us.": ("staff", "staff.rude"),
        "Way too expensive for what you get.": ("price", None),
        "I was charged twice for the same order.": ("billing", "billing.overcharged"),
    }
    hits = zs.predict(enc.encode(list(cases), normalize=True))
    for (text, (theme, cause)), got in zip(cases.items(), hits):
        assert got and got[0].id == theme, (text, got)
        if cause:
            assert got[0].cause_id == cause, (text, got)


def test_zeroshot_confirm_drops_themes_the_example_classifier_does_not_back():
    """confirm: a classifier fitted on the taxonomy's example phrases (a cause's under its parent) and the
    background phrases must give a theme the cosine rule picked at least ``confirm`` probability."""
    rng = np.random.default_rng(0)

    def around(axis: int, n: int) -> np.ndarray:
        v = np.eye(4, dtype=np.float32)[[axis] * n] + rng.normal(0, 0.15, (n, 4)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": [f"a{i}" for i in range(6)],
         "children": [{"id": "a.one", "label": "One", "description": "one", "examples": [f"c{i}" for i in range(6)]}]},
        {"id": "b", "label": "B", "description": "b", "examples": [f"b{i}" for i in range(6)]}]})
    examples = np.vstack([around(0, 6), around(1, 6), around(2, 6)])
    kw = {"threshold": 0.3, "child_threshold": 0.3, "desc_weight": 0.0, "top_k": 1, "margin": 0.0, "background": ()}
    clear = np.array([[0.98, 0.2, 0, 0]], np.float32)
    borderline = np.array([[0.6, 0, 0.55, 0.58]], np.float32)  # nearest to a's examples, but closer to b than clear is
    both = np.vstack([clear, borderline]) / np.linalg.norm(np.vstack([clear, borderline]), axis=1, keepdims=True)
    plain = ZeroShotThemes(tax, **kw).fit_vectors(np.eye(3, 4, dtype=np.float32), examples)
    assert plain.confirm_model_ is None and plain.confirmation(both) is None
    assert [[h.id for h in row] for row in plain.predict(both)] == [["a"], ["a"]]

    checked = ZeroShotThemes(tax, confirm=0.9, confirm_c=16.0, **kw).fit_vectors(np.eye(3, 4, dtype=np.float32),
                                                                                 examples)
    x, y = checked.confirm_data()
    assert y.tolist() == [0] * 12 + [2] * 6  # a.one's examples train a (its parent); no background phrases here
    p = checked.confirmation(both)
    assert p.shape == (2, 3) and np.all(p[:, 1] == 1)  # the cause's column is not the classifier's
    assert p[0, 0] > 0.9 > p[1, 0]
    hits = checked.predict(both)
    assert [h.id for h in hits[0]] == ["a"] and hits[0][0].cause_id == "a.one"
    assert hits[1] == []  # the cosine rule's pick, not backed by the classifier


def test_zeroshot_cause_confirm_drops_a_cause_its_family_does_not_back_and_keeps_the_theme():
    """cause_confirm: a classifier on the phrases labelled by node (a theme's own examples: its general reading)
    must give the cosine rule's cause at least ``cause_confirm`` of its family's probability, or the theme is
    given without a cause."""
    rng = np.random.default_rng(1)

    def around(centre: list[float], n: int) -> np.ndarray:
        v = np.asarray([centre] * n, np.float32) + rng.normal(0, 0.08, (n, 4)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": [f"a{i}" for i in range(6)],
         "children": [{"id": "a.one", "label": "One", "description": "one", "examples": [f"o{i}" for i in range(6)]},
                      {"id": "a.two", "label": "Two", "description": "two", "examples": [f"t{i}" for i in range(6)]}]},
        {"id": "b", "label": "B", "description": "b", "examples": [f"b{i}" for i in range(6)]}]})
    # a's own (general) examples sit between its causes: "fine as usual" is nearer one cause than the theme
    examples = np.vstack([around([1, 0.3, 0.3, 0], 6), around([1, 1, 0, 0], 6), around([1, 0, 1, 0], 6),
                          around([0, 0, 0, 1], 6)])
    kw = {"threshold": 0.3, "child_threshold": 0.3, "desc_weight": 0.0, "top_k": 1, "margin": 0.0, "background": ()}
    specific = np.array([[1, 1.1, 0, 0]], np.float32)  # clearly cause one
    general = np.array([[1, 0.42, 0.3, 0]], np.float32)  # a's general reading, a shade nearer cause one
    both = np.vstack([specific, general]) / np.linalg.norm(np.vstack([specific, general]), axis=1, keepdims=True)
    desc = np.eye(4, dtype=np.float32)[[0, 1, 2, 3]]
    plain = ZeroShotThemes(tax, **kw).fit_vectors(desc, examples)
    assert plain.cause_model_ is None and plain.cause_confirmation(both) is None
    assert [(h.id, h.cause_id) for row in plain.predict(both) for h in row] == [("a", "a.one"), ("a", "a.one")]

    checked = ZeroShotThemes(tax, cause_confirm=0.5, cause_confirm_c=16.0, **kw).fit_vectors(desc, examples)
    x, y = checked.confirm_data(by_node=True)
    assert y.tolist() == [0] * 6 + [1] * 6 + [2] * 6 + [3] * 6  # each phrase under its own node
    p = checked.cause_confirmation(both)
    assert p.shape == (2, 4) and np.allclose(p.sum(1), 1, atol=1e-5)
    theme = tax["a"]
    assert checked.cause_share(theme, "a.one", p[0]) > 0.5 > checked.cause_share(theme, "a.one", p[1])
    hits = checked.predict(both)
    assert [(h.id, h.cause_id) for row in hits for h in row] == [("a", "a.one"), ("a", None)]
    # the theme decision is untouched: the cause confirmation only ever removes a cause
    assert [[h.score for h in row] for row in hits] == [[h.score for h in row] for row in plain.predict(both)]


def test_zeroshot_cause_pick_lets_the_cause_classifier_break_a_near_tie():
    """cause_pick: a theme's cause is the child with the best cosine score plus ``cause_pick`` x the cause
    classifier's probability of it, so the classifier decides a near tie and a clear cosine lead still wins; 0 (or
    no classifier row) is the cosine alone; the child threshold reads the chosen child's cosine."""
    tax = parse_taxonomy({"themes": [
        {"id": "a", "label": "A", "description": "a", "examples": ["a0"],
         "children": [{"id": "a.one", "label": "One", "description": "one", "examples": ["o0"]},
                      {"id": "a.two", "label": "Two", "description": "two", "examples": ["t0"]}]},
        {"id": "b", "label": "B", "description": "b", "examples": ["b0"]}]})
    desc = np.eye(4, dtype=np.float32)
    kw = {"child_threshold": 0.5, "background": ()}
    picked = ZeroShotThemes(tax, cause_pick=0.1, **kw).fit_vectors(desc, desc)
    cosine = ZeroShotThemes(tax, **kw).fit_vectors(desc, desc)
    col, bare, theme = picked.column_of_, picked.bare_mask(), tax["a"]
    row, causes = np.zeros(4, np.float32), np.zeros(4, np.float32)
    row[[col["a.one"], col["a.two"]]] = 0.58, 0.572  # "pick a delivery slot": Late delivery by a hair
    causes[[col["a.one"], col["a.two"]]] = 0.22, 0.52  # the classifier: Delivery days and times
    assert picked._hit(theme, 0.6, row, bare, causes).cause_id == "a.two"
    assert cosine._hit(theme, 0.6, row, bare, causes).cause_id == "a.one"
    assert picked._hit(theme, 0.6, row, bare, None).cause_id == "a.one"
    lead = row.copy()
    lead[col["a.one"]] = 0.7  # a clear cosine lead outweighs the classifier
    assert picked._hit(theme, 0.6, lead, bare, causes).cause_id == "a.one"
    low = row.copy()
    low[col["a.two"]] = 0.45  # the classifier's choice, under the child threshold: no cause
    strong = ZeroShotThemes(tax, cause_pick=1.0, **kw).fit_vectors(desc, desc)
    hit = strong._hit(theme, 0.6, low, bare, causes)
    assert (hit.id, hit.cause_id) == ("a", None)
    with pytest.raises(ConfigError, match="cause_pick"):
        ZeroShotThemes(tax, cause_pick=-0.1)
