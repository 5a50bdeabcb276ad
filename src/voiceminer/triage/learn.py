"""Corrections teach the models: ``voiceminer train-themes --from-store``.

Triagers' theme and cause corrections (:mod:`voiceminer.triage.labels`) are split by a hash
of the comment id into training rows and held-out rows (``holdout``, default 20%). The themes
model is trained on the training rows (plus an optional labeled file), then both the themes the
store holds for the held-out comments (what the current model said) and the new model's themes,
run through the same path as ``tag`` (segmentation, shared encoder, themes stage), are scored
against the corrections: each theme's F1 before and after.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..config import Settings
from ..errors import TriageError
from ..storage import Store
from ..storage import schema as t
from ..textsafety import safe_cell
from ..types import Comment
from .labels import theme_rows

MIN_CORRECTIONS = 5


def in_holdout(comment_id: str, share: float) -> bool:
    """Deterministic: the same comment is held out on every run.

    >>> in_holdout("abc", 0.0), in_holdout("abc", 1.0)
    (False, True)
    """
    return int(hashlib.sha256(comment_id.encode("utf-8")).hexdigest()[:8], 16) % 1000 < share * 1000


def per_theme_f1(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, dict[str, float]]:
    """Per theme id: precision, recall, F1 and support over the rows (sets of ids).

    >>> per_theme_f1([["a"], ["a", "b"]], [["a"], ["b"]])["a"]
    {'precision': 1.0, 'recall': 0.5, 'f1': 0.667, 'support': 2}
    """
    out = {}
    for theme in sorted({x for row in list(gold) + list(pred) for x in row}):
        tp = sum(theme in g and theme in p for g, p in zip(gold, pred))
        fp = sum(theme not in g and theme in p for g, p in zip(gold, pred))
        fn = sum(theme in g and theme not in p for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[theme] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3),
                      "support": tp + fn}
    return out


def stored_themes(store: Store, comment_ids: Sequence[str]) -> dict[str, list[str]]:
    """The themes and causes the store holds for these comments (the current model's output)."""
    out: dict[str, set[str]] = {cid: set() for cid in comment_ids}
    a = t.annotations.c
    query = sa.select(a.comment_id, a.label, a.data).where(  # by comment id, not by the layer's index
        a.comment_id.in_(list(comment_ids)), t.layer_in(t.annotations, "theme"))
    for row in store.query(query):
        data = row["data"] if isinstance(row["data"], dict) else {}
        out[row["comment_id"]].add(row["label"])
        if data.get("cause"):
            out[row["comment_id"]].add(data["cause"])
    return {k: sorted(v) for k, v in out.items()}


def tagged_themes(settings: Settings, store: Store, model_dir: Path, comments: list[Comment]) -> dict[str, list[str]]:
    """The themes and causes a themes model gives these comments through the tag path."""
    from ..jobs import build_pipeline

    pipe = build_pipeline(settings.with_(themes_model=model_dir, pipeline=(
        "segment.sentencizer.v1", "encode.shared.v1", "themes.v1")), store)
    out = {}
    for done in pipe.run(comments):
        ids = set()
        for ann in done.layer("theme"):
            ids.add(ann.label)
            if ann.data.get("cause"):
                ids.add(ann.data["cause"])
        out[done.comment.id] = sorted(ids)
    return out


def train_from_corrections(settings: Settings, out: str | Path, *, store: Store, labeled: str | Path | None = None,
                           holdout: float = 0.2, progress: Any = None, **params: Any) -> dict[str, Any]:
    """Train a themes model on the store's corrections (plus ``labeled``) and score it on the
    held-out corrections against the current model; returns the training metrics and ``holdout``."""
    from ..jobs import train_themes
    from ..themes.training import read_labeled_csv

    rows = theme_rows(store)
    if len(rows) < MIN_CORRECTIONS and labeled is None:
        raise TriageError(f"the store holds {len(rows)} theme correction(s); correct at least "
                          f"{MIN_CORRECTIONS} cases' themes first, or add --labeled FILE")
    held = [r for r in rows if in_holdout(r[0], holdout)]
    train = [r for r in rows if not in_holdout(r[0], holdout)]
    if len(held) < 2:  # too few to score: train on everything and say so
        train, held = rows, []
    path = settings.data_dir / "cache" / "corrections-train.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "themes"])
        if labeled is not None:
            for text, ids in zip(*read_labeled_csv(labeled)):
                writer.writerow([text, ";".join(ids)])
        for _, text, ids in train:
            writer.writerow([safe_cell(text), ";".join(ids)])
    metrics = train_themes(settings, path, out, store=store, progress=progress, **params)
    result: dict[str, Any] = {**metrics, "corrections": len(rows), "trained_on_corrections": len(train),
                              "holdout": None}
    if held:
        ids = [r[0] for r in held]
        gold = [r[2] for r in held]
        comments = [Comment(id=cid, text=text, source="corrections") for cid, text, _ in held]
        before, after = stored_themes(store, ids), tagged_themes(settings, store, Path(out), comments)
        result["holdout"] = {"rows": len(held), "before": per_theme_f1(gold, [before[i] for i in ids]),
                             "after": per_theme_f1(gold, [after[i] for i in ids])}
    return result
