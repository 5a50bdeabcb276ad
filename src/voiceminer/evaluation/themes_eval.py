"""Theme and discovery measurements for ``voiceminer evaluate``.

Trained themes go through the same recipe as ``voiceminer train-themes`` (a
:class:`~voiceminer.themes.ThemeModel` on the shared sentence vectors), fitted on the
train split and scored on the validation split. Zero-shot themes use the default
taxonomy alone, mapped onto each dataset's labels by ``theme_mapping.yaml``.

Bare taxonomies (``bare_*.yaml``: labels and one-line descriptions, no examples, as a team
first writes them) measure zero-shot themes against a keyword baseline built from the same
text (:class:`~voiceminer.themes.lexical.KeywordThemes`), both through the product path:
each comment is segmented into sentences as the pipeline does, and its themes are the union
of its sentences' (what ``voiceminer tag`` reports). The keyword variant is the best on the
train split; the validation split is only scored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import f1_score, normalized_mutual_info_score

from . import datasets as ds

MAPPING = yaml.safe_load((Path(__file__).with_name("theme_mapping.yaml")).read_text(encoding="utf-8"))
OTHER = {"semeval14": "anecdotes/miscellaneous", "airline": "Can't Tell"}


from ..models.encoder import l2_normalise as normalise


def multilabel_micro_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> float:
    cats = sorted({c for g in gold for c in g} | {c for p in pred for c in p})
    y = np.array([[c in g for c in cats] for g in gold])
    p = np.array([[c in q for c in cats] for q in pred])
    return float(f1_score(y, p, average="micro", zero_division=0))


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    return float(f1_score(list(gold), list(pred), average="macro", labels=sorted(set(gold)), zero_division=0))


def trained_scores(train_x: np.ndarray, train_y: list, val_x: np.ndarray, val_y: list, multi: bool,
                   train_texts: Sequence[str], val_texts: Sequence[str], lexical: float | None = None) -> float:
    """Fit the train-themes recipe (``lexical=0``: vector only; None: its weight chosen by
    cross-validation on the train split) and score it on validation data."""
    from ..themes import ThemeModel

    labels = [list(y) if multi else [y] for y in train_y]
    model = ThemeModel(lexical=lexical).fit(normalise(train_x), labels, texts=train_texts)
    pred = model.predict(normalise(val_x), val_texts)
    if multi:
        return multilabel_micro_f1([list(y) for y in val_y], pred)
    return macro_f1(val_y, [p[0] if p else "" for p in pred])


def zeroshot_predictions(shared: Any, vectors: np.ndarray, dataset: str) -> list[list[str]]:
    """Zero-shot theme hits (the pipeline's: ``shared`` model's encoder, calibration and heads) mapped
    to the dataset's labels (OTHER where nothing maps)."""
    from ..themes import ZeroShotThemes, calibration_for

    encoder = shared.encoder_
    zs = ZeroShotThemes(**calibration_for(encoder)).fit_encoder(encoder, shared.heads_)
    out = []
    for hits in zs.predict(normalise(vectors)):
        mapped = [MAPPING[dataset].get(h.cause_id) or MAPPING[dataset].get(h.id) for h in hits]
        mapped = [m for m in mapped if m]
        out.append(sorted(set(mapped)) if dataset == "semeval14" else mapped[:1])
    return [m or [OTHER[dataset]] for m in out]


def theme_rows(ev: Any, row_cls: Any, targets: dict[str, float]) -> list[Any]:
    rows = []
    for key, loader, multi, metric, label in (
            ("themes_semeval14", "semeval14_categories", True, "micro-F1", "SemEval-2014 restaurant categories"),
            ("themes_airline_reasons", "airline_reasons", False, "macro-F1", "airline complaint reasons (10)")):
        data = ev.load(loader)
        train, val = ds.split(data, "train"), ds.split(data, "val")
        tx, ty = [e.text for e in train], [e.label for e in train]
        vx, vy = [e.text for e in val], [e.label for e in val]
        model = trained_scores(ev.shared_vectors(tx), ty, ev.shared_vectors(vx), vy, multi, tx, vx)
        base = trained_scores(ev.base_vectors(tx), ty, ev.base_vectors(vx), vy, multi, tx, vx, lexical=0.0)
        rows.append(row_cls(key, label + ", train-themes", metric, len(val),
                            {"vader": None, "frozen_lr": base, "model": model}, targets.get(key)))
        dataset = "semeval14" if multi else "airline"
        zs = zeroshot_predictions(ev.shared, ev.shared_vectors(vx), dataset)
        zs_score = multilabel_micro_f1([list(y) for y in vy], zs) if multi else macro_f1(vy, [z[0] for z in zs])
        rows.append(row_cls(key + "_zeroshot", label + ", zero-shot (taxonomy only)", metric, len(val),
                            {"vader": None, "frozen_lr": None, "model": zs_score}, None))
    return rows + bare_rows(ev, row_cls)


def segmented(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Sentences (and clauses) of ``texts`` as the pipeline splits them, and each one's text index."""
    from ..pipeline.segment import SentencizerStage

    seg = SentencizerStage().load()
    sentences, owner = [], []
    for i, text in enumerate(texts):
        for s in seg.split(text):
            sentences.append(s.text)
            owner.append(i)
    return sentences, np.array(owner, np.int64)


def comment_themes(sentence_themes: Sequence[Sequence[str]], owner: np.ndarray, n: int) -> list[set[str]]:
    """A comment's themes: the union of its sentences' (``owner``: each sentence's comment index)."""
    out: list[set[str]] = [set() for _ in range(n)]
    for themes, i in zip(sentence_themes, owner):
        out[i] |= set(themes)
    return out


def set_f1(gold: Sequence[set[str]], pred: Sequence[set[str]], ids: Sequence[str]) -> dict[str, float]:
    """Micro- and macro-F1 (over ``ids``) and micro precision of predicted theme sets; a comment
    without gold themes (the dataset's "other") is right when nothing is predicted.

    >>> set_f1([{"a"}, set(), {"b"}], [{"a"}, {"b"}, set()], ["a", "b"])
    {'micro_f1': 0.5, 'macro_f1': 0.5, 'precision': 0.5}
    """
    tp, fp, fn, per = 0, 0, 0, []
    for t in ids:
        a = sum(t in g and t in p for g, p in zip(gold, pred))
        b = sum(t not in g and t in p for g, p in zip(gold, pred))
        c = sum(t in g and t not in p for g, p in zip(gold, pred))
        tp, fp, fn = tp + a, fp + b, fn + c
        if a + b + c:
            per.append(2 * a / (2 * a + b + c))
    return {"micro_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
            "macro_f1": float(np.mean(per)) if per else 0.0, "precision": tp / (tp + fp) if tp + fp else 0.0}


def bare_gold(examples: Sequence[ds.Example], labels: dict[str, str]) -> list[set[str]]:
    """Gold theme ids per example (ENTITY#ATTRIBUTE labels by their entity; unmapped labels: none)."""
    out = []
    for e in examples:
        found = e.label if isinstance(e.label, tuple) else (e.label,)
        out.append({labels[lab.split("#")[0]] for lab in found if lab.split("#")[0] in labels})
    return out


def keyword_mode(taxonomy: Any, train: Sequence[ds.Example], labels: dict[str, str]) -> str:
    """The keyword variant with the best micro-F1 on the train split (the baseline at its best)."""
    from ..themes.lexical import KeywordThemes

    sentences, owner = segmented([e.text for e in train])
    gold, ids = bare_gold(train, labels), [t.id for t in taxonomy.top]

    def micro(mode: str) -> float:
        pred = comment_themes(KeywordThemes(taxonomy, mode).predict(sentences), owner, len(train))
        return set_f1(gold, pred, ids)["micro_f1"]
    return max(KeywordThemes.MODES, key=micro)


def bare_scores(shared: Any, vectors_of: Any, spec: dict[str, Any], data: Sequence[ds.Example]) -> dict[str, Any]:
    """Zero-shot (``shared`` model's calibration) and keyword micro/macro F1 of one bare taxonomy on
    the validation split of ``data``; ``vectors_of(sentences)`` gives the shared vectors."""
    from ..themes import ZeroShotThemes, calibration_for, load_taxonomy
    from ..themes.lexical import KeywordThemes

    taxonomy = load_taxonomy(Path(__file__).with_name(spec["taxonomy"]))
    labels, ids = spec["labels"], [t.id for t in taxonomy.top]
    val = ds.split(data, "val")
    gold = bare_gold(val, labels)
    sentences, owner = segmented([e.text for e in val])
    mode = keyword_mode(taxonomy, ds.split(data, "train"), labels)
    keywords = comment_themes(KeywordThemes(taxonomy, mode).predict(sentences), owner, len(val))
    encoder = shared.encoder_
    zs = ZeroShotThemes(taxonomy, **calibration_for(encoder)).fit_encoder(encoder, shared.heads_)
    hits = zs.predict(normalise(vectors_of(sentences)), sentences)
    zeroshot = comment_themes([[h.id for h in row] for row in hits], owner, len(val))
    return {"n": len(val), "themes": len(ids), "keyword_mode": mode,
            "keywords": set_f1(gold, keywords, ids), "zeroshot": set_f1(gold, zeroshot, ids)}


def bare_rows(ev: Any, row_cls: Any) -> list[Any]:
    """Per bare taxonomy: zero-shot micro- and macro-F1 (model) beside the keyword baseline (keywords)."""
    rows = []
    for key, spec in MAPPING["bare"].items():
        r = bare_scores(ev.shared, ev.shared_vectors, spec, ev.load(spec["loader"]))
        for metric in ("micro_f1", "macro_f1"):
            name = metric.replace("_f1", "-F1")
            rows.append(row_cls(f"bare_{key}_{metric.split('_')[0]}",
                                f"{spec['data']}, bare taxonomy ({r['themes']} themes): zero-shot (model) vs "
                                f"keywords from the same text ('{r['keyword_mode']}' mode)", name, r["n"],
                                {"vader": None, "frozen_lr": None, "keywords": r["keywords"][metric],
                                 "model": r["zeroshot"][metric]}, None))
    return rows


def discovery_rows(ev: Any, row_cls: Any, targets: dict[str, float]) -> list[Any]:
    """Theme discovery on the negative airline tweets (no taxonomy): NMI, unclustered share, determinism.
    Validation split only: the shared encoder was trained on the train split's reasons (an auxiliary
    head), so its train tweets cluster by reason far better than unseen ones (0.48-0.50 against 0.36;
    scripts/discovery_stability.py)."""
    from ..themes import discover

    data = ds.split(ev.load("airline_reasons"), "val")
    texts, gold = [e.text for e in data], [e.label for e in data]
    vectors = ev.shared_vectors(texts)
    start = time.perf_counter()
    first = discover(texts, vectors)
    seconds = time.perf_counter() - start
    second = discover(list(reversed(texts)), vectors[::-1].copy())
    same = first.assignments == list(reversed(second.assignments))
    assigned = np.array([-1 if a is None else a for a in first.assignments])
    nmi = float(normalized_mutual_info_score(gold, assigned))
    n = len(texts)
    return [
        row_cls("discovery_nmi", f"negative airline tweets (val), {len(first.clusters)} clusters, {seconds:.1f}s",
                "NMI", n, {"vader": None, "frozen_lr": None, "model": nmi}, targets.get("discovery_nmi")),
        row_cls("discovery_unclustered", "share left unclustered (<= 0.10)", "share", n,
                {"vader": None, "frozen_lr": None, "model": first.unclustered_fraction}, None),
        row_cls("discovery_deterministic", "identical clusters on a rerun (1 = yes)", "bool", n,
                {"vader": None, "frozen_lr": None, "model": float(same)}, 1.0),
    ]
