"""``voiceminer evaluate``: every shipped model on the validation splits of the public
corpora, beside VADER and a frozen-encoder + logistic-regression baseline.

The ``model`` column is what a user gets: for sentiment, complaint, need and unmet-need rows each
validation text runs through the pipeline of ``voiceminer tag`` (segmentation, per-sentence
heads, comment-level aggregation, rules, thresholds; :mod:`.product`) and is read back from its
tag record. The ``head`` column is the head alone on the whole text, as trained. Rows with a
breakdown (``detail``) also give both by number of sentences (1 / 2 / 3+), and the unmet-need
row its precision and recall.

The validation split (``datasets.split(..., "val")``) is never used in training, so
these numbers estimate held-back performance. Model cards quote this table; rerunning
it reproduces them (fixed seeds, deterministic splits).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from . import datasets as ds


@dataclass
class Row:
    """One line of the table: a task, its metric, and each system's score (None: not applicable)."""

    task: str
    data: str
    metric: str
    n: int
    scores: dict[str, float | None] = field(default_factory=dict)
    target: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # breakdowns (by sentences, precision / recall)

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.task, "data": self.data, "metric": self.metric, "n": self.n,
                "target": self.target, **self.scores, **({"detail": self.detail} if self.detail else {})}


class VectorDiskCache:
    """Encoded vectors of evaluation texts under ``folder``, keyed by encoder key and text list hash."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, key: str, texts: Sequence[str], compute: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        if self.folder is None:
            return compute(texts)
        digest = hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:24]
        path = self.folder / key.replace("/", "_").replace("@", "_") / f"{digest}.npy"
        if path.exists():
            return np.load(path)
        vectors = compute(texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return float(np.mean([g == p for g, p in zip(gold, pred)])) if len(gold) else 0.0


def binary_f1(gold: Sequence[bool], pred: Sequence[bool]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(np.asarray(gold, bool), np.asarray(pred, bool), zero_division=0))


def vader_labels(texts: Sequence[str], two_way: bool = False) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = []
    for t in texts:
        c = sia.polarity_scores(t)["compound"]
        if two_way:
            out.append("positive" if c >= 0 else "negative")
        else:
            out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


def logreg(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray) -> list[str]:
    """The frozen-encoder baseline: L2-normalised vectors, logistic regression, fixed seed."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=2.0, max_iter=3000, random_state=0)
    clf.fit(_norm(train_x), list(train_y))
    return list(clf.predict(_norm(test_x)))


SENTIMENT_LOADERS = ("semeval_restaurants_sentiment", "semeval_laptops_sentiment", "airline_sentiment",
                     "uci_sentiment", "hu_liu_sentiment")
TARGETS = {"sentiment_2way": 0.94, "sentiment_3way_restaurants": 0.89, "sentiment_3way_airline": 0.87,
           "complaint": 0.87, "need": 0.82, "themes_semeval14": 0.90, "themes_airline_reasons": 0.65,
           "discovery_nmi": 0.35}
BREAKDOWN = ("sentiment_3way_airline", "complaint")  # rows that also give head vs product by sentences


class Evaluator:
    """Runs the evaluation tasks; encoders are loaded lazily and vectors cached on disk."""

    def __init__(self, root: Path | None = None, models_dir: Path | None = None,
                 cache_dir: Path | None = None, log: Callable[[str], None] = lambda s: None,
                 shared_model: str | None = None, skip_baseline: Sequence[str] = (), backend: str = "torch") -> None:
        from .product import cache_factory

        self.skip_baseline = set(skip_baseline)  # tasks whose frozen-encoder + LR baseline is not run
        self.root = ds.datasets_root(root)
        self.models_dir = models_dir
        self.shared_model = shared_model
        self.backend = backend  # how the shared model's encoders run (the baselines' MiniLM stays on torch)
        self.vector_cache = cache_factory(cache_dir)  # one vector per text hash, shared with the product path
        self.log = log
        self._base: Any = None
        self._shared: Any = None
        self._product: Any = None

    # -- encoders --------------------------------------------------------------
    @property
    def shared(self) -> Any:
        if self._shared is None:
            from ..models.shared import shared_path
            from ..pipeline.encode import load_shared

            # the same loaded model as the tag path's stages (load_shared caches by artifact path)
            self._shared = load_shared(str(shared_path(self.models_dir, self.shared_model)), self.backend)
        return self._shared

    @property
    def base(self) -> Any:
        if self._base is None:
            from ..models.encoder import SentenceEncoder

            self._base = SentenceEncoder().load()
        return self._base

    @property
    def product(self) -> Any:
        """The tag path (:class:`.product.ProductPath`) with this evaluator's model and vector cache."""
        if self._product is None:
            from ..pipeline import StageContext
            from .product import ProductPath

            self._product = ProductPath(StageContext(vector_cache=self.vector_cache, models_dir=self.models_dir,
                                                     shared_model=self.shared_model, backend=self.backend),
                                        log=self.log)
        return self._product

    def _vectors(self, key: str, texts: Sequence[str], encode: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        if self.vector_cache is None:
            return encode(texts)
        return self.vector_cache(key).vectors(texts, encode)

    def base_vectors(self, texts: Sequence[str]) -> np.ndarray:
        self.log(f"  base encoder: {len(texts)} texts")
        return self._vectors(self.base.key, texts, self.base.encode)

    def shared_vectors(self, texts: Sequence[str]) -> np.ndarray:
        self.log(f"  shared encoder: {len(texts)} texts")
        return self._vectors(self.shared.encoder_.vector_key, texts, self.shared.encode)

    def shared_sentiment(self, texts: Sequence[str]) -> np.ndarray:
        """The shared model's sentiment probabilities, with its companion mixed in (if any)."""
        companion = self.shared.companion_
        other = None
        if companion is not None:
            self.log(f"  sentiment companion {companion.artifact.name}: {len(texts)} texts")
            other = self._vectors(companion.encoder_.vector_key, texts, companion.encode)
        return self.shared.sentiment(self.shared_vectors(texts), other)

    def load(self, name: str) -> list[ds.Example]:
        return ds.ALL_LOADERS[name](root=self.root)

    # -- tasks -----------------------------------------------------------------
    def sentiment(self) -> list[Row]:
        data = {name: self.load(name) for name in SENTIMENT_LOADERS}
        train = [e for name in SENTIMENT_LOADERS for e in ds.split(data[name], "train")]
        lr = _LazyLR(self, [e.text for e in train], [e.label for e in train])
        two_way = [e for name in ("uci_sentiment", "hu_liu_sentiment", "semeval_restaurants_sentiment",
                                  "semeval_laptops_sentiment")
                   for e in ds.split(data[name], "val") if e.label != "neutral"]
        rows = [self._sentiment_row("sentiment_2way", "UCI + Hu&Liu + SemEval pos/neg sentences", two_way, lr, True)]
        for key, name, label in (("sentiment_3way_restaurants", "semeval_restaurants_sentiment",
                                  "SemEval 2014-16 restaurant sentences"),
                                 ("sentiment_3way_airline", "airline_sentiment", "airline tweets")):
            rows.append(self._sentiment_row(key, label, ds.split(data[name], "val"), lr, False))
        return rows

    def baseline(self, task: str, run: Callable[[], float]) -> float | None:
        """The frozen-encoder + LR baseline's score, or None for a task in ``skip_baseline``
        (``write_model_cards.py --keep-baselines`` keeps the earlier figure: it does not depend on
        the shipped model)."""
        return None if task in self.skip_baseline else run()

    def _sentiment_row(self, key: str, label: str, val: list[ds.Example], lr: "_LazyLR", two_way: bool) -> Row:
        from .product import sentiment_label

        texts, gold = [e.text for e in val], [e.label for e in val]
        probs = self.shared_sentiment(texts)
        if two_way:
            head = ["positive" if p[2] >= p[0] else "negative" for p in probs]
        else:
            head = [("negative", "neutral", "positive")[int(np.argmax(p))] for p in probs]
        records = self.product.records(texts)
        product = [sentiment_label(r, two_way) for r in records]
        return Row(key, label, "accuracy", len(val), {
            "vader": accuracy(gold, vader_labels(texts, two_way)),
            "frozen_lr": self.baseline(key, lambda: accuracy(gold, lr.predict_two_way(texts) if two_way
                                                             else lr.predict(texts))),
            "head": accuracy(gold, head), "model": accuracy(gold, product)}, TARGETS[key],
            self._breakdown(key, records, gold, head, product, accuracy))

    @staticmethod
    def _breakdown(key: str, records: list[dict[str, Any]], gold: Sequence[Any], head: Sequence[Any],
                   product: Sequence[Any], score: Callable[..., float]) -> dict[str, Any]:
        from .product import by_bucket

        return {"by_sentences": by_bucket(records, gold, head, product, score)} if key in BREAKDOWN else {}

    def binary(self) -> list[Row]:
        """Complaint and need-informative sentences (head and tag path), then, with the RE'21 app
        reviews, the request kind (head) and unmet needs (tag path)."""
        from .product import is_complaint, need_informative

        rows = []
        for key, loader, positive, label in (("complaint", "complaints", "complaint", "complaint tweets"),
                                             ("need", "needs", "need", "Amazon review sentences, need-informative")):
            data = self.load(loader)
            train, val = ds.split(data, "train"), ds.split(data, "val")
            texts, gold = [e.text for e in val], [e.label == positive for e in val]
            prob = self.shared.predict(self.shared_vectors(texts))[key][:, 1]
            head = (prob >= self.shared.thresholds[key]).tolist()
            records = self.product.records(texts)
            threshold = self.shared.thresholds[key]
            product = [is_complaint(r) if key == "complaint" else need_informative(r, threshold) for r in records]
            vader = [lab == "negative" for lab in vader_labels(texts)] if key == "complaint" else None
            rows.append(Row(key, label, "F1", len(val), {
                "vader": binary_f1(gold, vader) if vader is not None else None,
                "frozen_lr": self.baseline(key, partial(self._lr_f1, train, texts, gold, positive)),
                "head": binary_f1(gold, head),
                "model": binary_f1(gold, product)}, TARGETS[key],
                self._breakdown(key, records, gold, head, product, binary_f1)))
        try:
            return rows + [self.request_kind(), self.unmet_needs()]
        except ds.DatasetMissing as exc:  # the RE'21 app reviews are optional beside the other corpora
            self.log(f"  request_kind and unmet_need left out: {exc}")
            return rows

    def _lr_f1(self, train: list[ds.Example], texts: list[str], gold: list[bool], positive: str) -> float:
        base = logreg(self.base_vectors([e.text for e in train]), [e.label for e in train], self.base_vectors(texts))
        return binary_f1(gold, [p == positive for p in base])

    def unmet_needs(self) -> Row:
        """Unmet needs as ``tag`` gives them (``needs`` not empty) against the RE'21 app review
        sentences labelled ``feature`` (feature requests and missing features); defects (stability,
        performance), quality judgements and other sentences are negatives. Head: the request-kind
        head's ``feature`` (None without one); frozen_lr: feature vs the rest on the train split."""
        from ..models.request_kind import load_request_kind
        from ..models.shared import shared_path
        from .product import has_unmet_need, prf

        data = self.load("app_reviews_p3")
        train, val = ds.split(data, "train"), ds.split(data, "val")
        texts, gold = [e.text for e in val], [e.label == "feature" for e in val]
        product = [has_unmet_need(r) for r in self.product.records(texts)]
        kind = load_request_kind(shared_path(self.models_dir, self.shared_model), self.shared.encoder_.key)
        head = None
        if kind is not None:
            head = [p[0] == "feature" for p in kind.predict(_norm(self.shared_vectors(texts)), texts)]
        base = logreg(self.base_vectors([e.text for e in train]), [e.label == "feature" for e in train],
                      self.base_vectors(texts))
        found = prf(gold, product)
        return Row("unmet_need", "app review sentences (RE'21 P3): feature requests / missing features vs the rest",
                   "F1", len(val), {"vader": None, "frozen_lr": binary_f1(gold, base),
                                    "head": binary_f1(gold, head) if head is not None else None,
                                    "model": found["f1"]}, None,
                   {"precision": found["precision"], "recall": found["recall"], "positives": sum(gold)})

    def request_kind(self) -> Row:
        """The request-kind head beside the shared model (feature / defect / other) on RE'21 app
        review sentences; model None when the shared model has no such head."""
        from ..models.request_kind import LABEL_MAP, load_request_kind
        from ..models.shared import shared_path
        from .themes_eval import macro_f1

        data = self.load("app_reviews_p3")
        train, val = ds.split(data, "train"), ds.split(data, "val")
        texts, gold = [e.text for e in val], [LABEL_MAP[e.label] for e in val]
        head = load_request_kind(shared_path(self.models_dir, self.shared_model), self.shared.encoder_.key)
        model = None
        if head is not None:
            model = macro_f1(gold, [p[0] for p in head.predict(_norm(self.shared_vectors(texts)), texts)])
        base = logreg(self.base_vectors([e.text for e in train]), [LABEL_MAP[e.label] for e in train],
                      self.base_vectors(texts))
        return Row("request_kind", "app review sentences (RE'21 P3): feature / defect / other (head only)",
                   "macro-F1", len(val), {"vader": None, "frozen_lr": macro_f1(gold, base), "head": model,
                                          "model": None}, None)

    def themes(self) -> list[Row]:
        from .themes_eval import theme_rows

        return theme_rows(self, Row, TARGETS)

    def discovery(self) -> list[Row]:
        from .themes_eval import discovery_rows

        return discovery_rows(self, Row, TARGETS)


class _LazyLR:
    """The frozen + LR sentiment baseline, fitted on first use."""

    def __init__(self, ev: Evaluator, texts: list[str], labels: list[str]) -> None:
        self.ev, self.texts, self.labels, self.clf = ev, texts, labels, None

    def _fit(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        if self.clf is None:
            x = self.ev.base_vectors(self.texts)
            self.clf = LogisticRegression(C=2.0, max_iter=3000, random_state=0).fit(_norm(x), self.labels)
        return self.clf

    def predict(self, texts: Sequence[str]) -> list[str]:
        return list(self._fit().predict(_norm(self.ev.base_vectors(texts))))

    def predict_two_way(self, texts: Sequence[str]) -> list[str]:
        clf = self._fit()
        p = clf.predict_proba(_norm(self.ev.base_vectors(texts)))
        neg, pos = list(clf.classes_).index("negative"), list(clf.classes_).index("positive")
        return ["positive" if row[pos] >= row[neg] else "negative" for row in p]


def _norm(x: np.ndarray) -> np.ndarray:
    from ..models.encoder import l2_normalise

    return l2_normalise(x)


def _cell(v: float | None, w: int) -> str:
    return f"{v:>{w}.3f}" if v is not None else f"{'-':>{w}}"


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table: one row per task, one column per system, then the breakdowns."""
    head = (f"{'task':<28} {'metric':<9} {'n':>5} {'VADER':>7} {'keywords':>8} {'frozen+LR':>10} {'head':>7} "
            f"{'model':>7} {'target':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.task:<28} {r.metric:<9} {r.n:>5} {_cell(r.scores.get('vader'), 7)} "
                     f"{_cell(r.scores.get('keywords'), 8)} {_cell(r.scores.get('frozen_lr'), 10)} "
                     f"{_cell(r.scores.get('head'), 7)} {_cell(r.scores.get('model'), 7)} {_cell(r.target, 7)}")
    lines.append("model: through the tag path (sentences, aggregation, rules, thresholds) where a head column "
                 "stands beside it; head: the head alone on the whole text")
    return "\n".join(lines + format_details(rows))


def format_details(rows: Sequence[Row]) -> list[str]:
    """The breakdowns: head vs tag path by number of sentences, precision and recall of unmet needs."""
    lines = []
    for r in rows:
        for b in r.detail.get("by_sentences", []):
            lines.append(f"  {r.task:<26} {b['sentences'] + ' sentences':<14} n={b['n']:<5} head {b['head']:.3f}  "
                         f"tag path {b['product']:.3f}")
        if "precision" in r.detail:
            lines.append(f"  {r.task:<26} precision {r.detail['precision']:.3f}  recall {r.detail['recall']:.3f}  "
                         f"F1 {r.scores.get('model') or 0.0:.3f} ({r.detail.get('positives')} positives)")
    return (["by number of sentences / unmet needs"] + lines) if lines else []


GROUPS = ("sentiment", "binary", "themes", "discovery")


def evaluate(root: Path | None = None, models_dir: Path | None = None, cache_dir: Path | None = None,
             only: Sequence[str] | None = None, log: Callable[[str], None] = lambda s: None,
             shared_model: str | None = None, skip_baseline: Sequence[str] = (), backend: str = "torch") -> list[Row]:
    """Run the evaluation groups (all by default) with the shared model ``shared_model``
    (default ``models.shared.DEFAULT_SHARED``) on ``backend`` (torch, onnx, onnx-int8, torch-bf16) and return
    the table's rows (``skip_baseline``: tasks whose frozen-encoder + LR baseline is left out, None in the
    rows)."""
    from ..errors import ConfigError

    groups = list(only or GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ConfigError(f"unknown evaluation group(s) {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    ev = Evaluator(root, models_dir, cache_dir, log, shared_model, skip_baseline, backend)
    rows: list[Row] = []
    for group in groups:
        log(f"evaluating {group} ...")
        rows += getattr(ev, group)()
    return rows

