"""The product path in evaluation: dataset texts through the pipeline of ``voiceminer tag``.

``voiceminer evaluate`` scores what a user gets, not only the heads on whole texts: each
validation text becomes a :class:`~voiceminer.types.Comment`, runs through
``Pipeline.from_names(TAG_PIPELINE, context)`` (segmentation into sentences and clauses, the
heads per sentence, comment-level aggregation, rules and thresholds) and is read back from
:func:`voiceminer.tagging.record`, exactly as ``tag`` writes it. Vectors go through a disk
cache of one vector per text hash (:class:`TextVectorCache`), shared with the head-only rows,
so a text is encoded once across rows, groups and runs.

>>> import numpy as np, tempfile
>>> cache = TextVectorCache(Path(tempfile.mkdtemp()), "enc@1")
>>> cache.put({"h1": np.ones(2, np.float32)})
>>> sorted(TextVectorCache(cache.folder.parent, "enc@1").get(["h1", "h2"]))
['h1']
>>> sentence_bucket(1), sentence_bucket(2), sentence_bucket(7)
('1', '2', '3+')
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..types import text_hash


class TextVectorCache:
    """Vectors of one encoder by text hash, in append-only ``.npz`` shards under ``folder/<key>/``
    (the store's vector-cache interface: ``get(hashes)`` and ``put({hash: vector})``)."""

    def __init__(self, root: Path, encoder_key: str) -> None:
        self.folder = Path(root) / encoder_key.replace("/", "_").replace("@", "_")
        self._loaded: dict[str, np.ndarray] | None = None
        self._shards: set[str] = set()

    def _all(self, rescan: bool = False) -> dict[str, np.ndarray]:
        """Every cached vector; ``rescan`` also reads shards another process wrote since."""
        if self._loaded is None or rescan:
            self._loaded = self._loaded or {}
            for shard in sorted(self.folder.glob("shard-*.npz")):
                if shard.name not in self._shards:
                    with np.load(shard) as data:
                        self._loaded.update(zip(data["hashes"].tolist(), data["vectors"]))
                    self._shards.add(shard.name)
        return self._loaded

    def get(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(hashes)
        known = self._all()
        if any(h not in known for h in wanted):
            known = self._all(rescan=True)
        return {h: known[h] for h in wanted if h in known}

    def put(self, vectors: Mapping[str, np.ndarray]) -> None:
        fresh = {h: np.asarray(v, np.float32) for h, v in vectors.items() if h not in self._all()}
        if not fresh:
            return
        hashes = sorted(fresh)
        name = hashlib.sha256("".join(hashes).encode()).hexdigest()[:20]
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"tmp-{name}.npz"
        np.savez(tmp, hashes=np.array(hashes), vectors=np.stack([fresh[h] for h in hashes]))
        tmp.replace(self.folder / f"shard-{name}.npz")
        self._shards.add(f"shard-{name}.npz")
        self._all().update(fresh)

    def vectors(self, texts: Sequence[str], encode: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        """``encode(texts)`` row for row, encoding only the texts not cached yet."""
        from ..pipeline.encode import cached_vectors

        class _Model:  # cached_vectors wants an object with encode()
            pass

        model = _Model()
        model.encode = encode  # type: ignore[attr-defined]
        found = cached_vectors(model, self, texts)
        if not texts:
            return np.zeros((0, 0), np.float32)
        return np.stack([found[text_hash(t)] for t in texts])


def cache_factory(root: Path | None) -> Callable[[str], TextVectorCache] | None:
    """A ``StageContext.vector_cache`` over ``root`` (None: no cache)."""
    if root is None:
        return None
    caches: dict[str, TextVectorCache] = {}

    def factory(key: str) -> TextVectorCache:
        return caches.setdefault(key, TextVectorCache(root, key))

    return factory


def sentence_bucket(n: int) -> str:
    """The breakdown's bucket of a comment with ``n`` sentences (and clauses): 1, 2 or 3+."""
    return "1" if n <= 1 else "2" if n == 2 else "3+"


class ProductPath:
    """Runs texts through the tag pipeline, once per text, and keeps their tag records."""

    def __init__(self, context: Any, batch_size: int = 64, log: Callable[[str], None] = lambda s: None) -> None:
        self.context, self.batch_size, self.log = context, batch_size, log
        self._pipeline: Any = None
        self._records: dict[str, dict[str, Any]] = {}

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            from ..pipeline import Pipeline
            from ..tagging import TAG_PIPELINE

            self._pipeline = Pipeline.from_names(TAG_PIPELINE, self.context)
        return self._pipeline

    def records(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """The ``tag`` record of each text (in order)."""
        from ..tagging import record
        from ..types import Comment

        todo = list(dict.fromkeys(t for t in texts if t not in self._records))
        if todo:
            self.log(f"  product path: {len(todo)} texts through {len(self.pipeline.stages)} stages")
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start:start + self.batch_size]
            done = self.pipeline.run([Comment(id=f"eval:{start + i}", text=t, source="eval")
                                      for i, t in enumerate(chunk)])
            self._records.update((t, record(a)) for t, a in zip(chunk, done))
        return [self._records[t] for t in texts]


def sentiment_label(rec: dict[str, Any], two_way: bool = False) -> str:
    """The comment's sentiment as ``tag`` gives it; two-way: positive when P(pos) >= P(neg)."""
    senti = rec["sentiment"] or {"label": "neutral", "score": 0.0}
    if two_way:
        return "positive" if senti["score"] >= 0 else "negative"
    return str(senti["label"])


def is_complaint(rec: dict[str, Any]) -> bool:
    return bool(rec["complaint"] and rec["complaint"]["is_complaint"])


def need_informative(rec: dict[str, Any], threshold: float) -> bool:
    """Whether any sentence's need score reaches the need head's threshold."""
    return any((s.get("need_score") or 0.0) >= threshold for s in rec["sentences"])


def has_unmet_need(rec: dict[str, Any]) -> bool:
    return bool(rec["needs"])


def by_bucket(records: Sequence[dict[str, Any]], gold: Sequence[Any], head: Sequence[Any],
              product: Sequence[Any], score: Callable[[list[Any], list[Any]], float]) -> list[dict[str, Any]]:
    """Per sentence-count bucket (1 / 2 / 3+, and all): n, the head on the whole text and the
    product path, each scored by ``score(gold, predicted)``."""
    out = []
    for bucket in ("1", "2", "3+", "all"):
        idx = [i for i, r in enumerate(records) if bucket == "all" or sentence_bucket(len(r["sentences"])) == bucket]
        if idx:
            g = [gold[i] for i in idx]
            out.append({"sentences": bucket, "n": len(idx), "head": score(g, [head[i] for i in idx]),
                        "product": score(g, [product[i] for i in idx])})
    return out


def prf(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of the positive class."""
    tp = sum(1 for g, p in zip(gold, pred) if g and p)
    fp = sum(1 for g, p in zip(gold, pred) if p and not g)
    fn = sum(1 for g, p in zip(gold, pred) if g and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
