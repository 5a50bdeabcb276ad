"""Trained themes (``themes.trained.v2``): a small head over the shared encoder's features.

:class:`ThemeModel` learns one score per theme id from labeled sentences. Labels
may be any ids; a child id implies its parent (``delivery.late`` implies
``delivery``). Multi-label data get one-vs-rest logistic regression (``head="logreg"``,
``C`` chosen by cross-validation on the training data only) or a one-hidden-layer
MLP (``head="mlp"``); per-theme thresholds come from out-of-fold scores of the
same training data. When every training text has at least one theme, so does every prediction
(``min_labels``; the theme whose score is closest to its threshold fills an empty row).
When every training text has exactly one leaf label the model is
single-label (``mode_ == "single"``): one softmax regression over the leaves picks the
best theme, and a parent scores the sum of its children. Classes are weighted inversely
to their frequency by default (``class_weight="balanced"``) so rare causes are not
drowned by common ones.

Given the training texts, the head also reads a lexical block: TF-IDF word 1-2-grams of
the sentence (:class:`~voiceminer.themes.lexical.Lexicon`) beside the vector, so a single
naming word ("luggage", "refund") counts fully. Its weight is chosen with ``C`` by
cross-validation on the training data (``lexical=None``, the default: 1, 0.5 or 2; a number
fixes it, 0 turns the block off). Such a
model then needs the sentence texts at prediction time too (``predict(X, texts)``);
the pipeline passes them. Artifacts with the block are ``themes.trained.v2``; v1
folders (vector only) still load and behave as before.

Validation figures (``voiceminer evaluate``, shared encoder): airline complaint reasons
macro-F1 0.563 (v1: one-vs-rest, vector only) -> 0.596 (softmax + lexical block, shared-v1).
With shared-v2: airline reasons 0.586 -> 0.611 once the block's weight is chosen by
cross-validation (it picks 0.5), but 0.596 -> 0.565 with shared-v1: both encoders saw these
train splits through auxiliary heads, which biases cross-validation on them towards the
vector. SemEval-2014 categories 0.863 -> 0.866 with at least one theme per sentence
(``min_labels``; shared-v1 0.850 -> 0.852). Cross-validated on the train splits alone the block adds
1.3 and 1.5 points (``scripts/train_themes_eval.py trained`` prints both, block off and on).

The artifact is a folder (no pickles): ``config.json`` (factory, labels,
thresholds, encoder key, feature set, training-data sha256, CV scores),
``weights.npz``, ``MODEL_CARD.md`` and, with the lexical block, ``lexicon.json``. :meth:`ThemeModel.load` refuses a folder
trained on another encoder key, because its vectors would mean something else.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(1, .3, (20, 4)), rng.normal(-1, .3, (20, 4))]).astype(np.float32)
>>> m = ThemeModel(C=1.0, cv_folds=2).fit(X, [["delivery.late"]] * 20 + [["price"]] * 20)
>>> m.labels_
['delivery', 'delivery.late', 'price']
>>> m.predict(X[:1])
[['delivery', 'delivery.late']]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from .taxonomy import Taxonomy, parent_of

__all__ = ["FACTORY", "ThemeDataWarning", "ThemeModel", "expand_parents", "head_proba", "leaf_columns"]


class ThemeDataWarning(UserWarning):
    """Something about the labeled data a team should fix (unknown ids, too few examples)."""

FACTORY = "themes.trained.v2"
FACTORIES = ("themes.trained.v1", FACTORY)  # v1: vector-only artifacts, still readable
_THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)
LEXICAL_GRID = (1.0, 0.5, 2.0)  # lexical block weights cross-validation picks from (1.0 first: ties keep it)


def expand_parents(label_sets: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each label set with the parents its child ids imply, sorted.

    >>> expand_parents([["delivery.late"], []])
    [['delivery', 'delivery.late'], []]
    """
    return [sorted({*labels, *(parent_of(lab) for lab in labels if parent_of(lab))}) for labels in label_sets]


class ThemeModel:
    """Per-theme classifier head over feature vectors (see module doc)."""

    name: ClassVar[str] = FACTORY
    version: ClassVar[str] = "2.0.0"

    def __init__(self, *, head: str = "logreg", C: float | None = None, Cs: Sequence[float] = (0.5, 2.0, 8.0),
                 hidden: int = 512, alpha: float = 1e-3, class_weight: str | None = "balanced",
                 cv_folds: int = 3, random_state: int = 0, features: str = "mean",
                 lexical: float | None = None, lexical_grid: Sequence[float] = LEXICAL_GRID,
                 min_labels: int | None = None) -> None:
        self.head = head
        self.C = C
        self.Cs = tuple(Cs)
        self.hidden = hidden
        self.alpha = alpha
        self.class_weight = class_weight
        self.cv_folds = cv_folds
        self.random_state = random_state
        self.features = features
        self.lexical = lexical
        self.lexical_grid = tuple(lexical_grid)
        self.lexical_ = 0.0
        self.min_labels = min_labels
        self.min_labels_ = 0
        self.lexicon_: Any = None
        self.labels_: list[str] = []
        self.thresholds_: np.ndarray = np.zeros(0)
        self.weights_: dict[str, np.ndarray] = {}
        self.mode_ = "multi"
        self.C_: float | None = None
        self.cv_scores_: dict[str, float] = {}
        self.cv_per_theme_: dict[str, dict[str, float]] = {}  # out-of-fold precision/recall/F1/support
        self.encoder_key_ = ""
        self.weights_sha256_ = ""  # of the saved weights.npz, once saved or loaded
        self.meta_: dict[str, Any] = {}

    # ---- fitting -------------------------------------------------------------------------
    def fit(self, X: np.ndarray, label_sets: Sequence[Sequence[str]], taxonomy: Taxonomy | None = None, *,
            texts: Sequence[str] | None = None, encoder_key: str = "",
            meta: dict[str, Any] | None = None) -> ThemeModel:
        """Fit on feature rows ``X`` and one label set per row (``texts`` enable the lexical block)."""
        X = np.asarray(X, dtype=np.float32)
        if len(X) != len(label_sets):
            raise ConfigError(f"{len(X)} feature rows but {len(label_sets)} label sets")
        if texts is not None and len(texts) != len(X):
            raise ConfigError(f"{len(X)} feature rows but {len(texts)} texts")
        sets = expand_parents(label_sets)
        self.labels_ = sorted({lab for s in sets for lab in s})
        _check_labels(self.labels_, sets, taxonomy)
        Y = np.array([[lab in s for lab in self.labels_] for s in sets], dtype=np.int8)
        leaves = [[lab for lab in s if not any(o.startswith(lab + ".") for o in s)] for s in sets]
        self.mode_ = "single" if all(len(leaf) == 1 for leaf in leaves) else "multi"
        self.min_labels_ = (self.min_labels if self.min_labels is not None
                            else int(all(len(s) > 0 for s in sets)))
        X, oof = self._choose_lexical(X, Y, texts)
        self.thresholds_ = _best_thresholds(Y, oof) if self.mode_ == "multi" else np.full(len(self.labels_), 0.5)
        self.cv_per_theme_ = self._per_theme(Y, oof)
        self.weights_ = self._fit_head(X, Y, self.C_)
        self.encoder_key_, self.meta_ = encoder_key, dict(meta or {})
        return self

    def _choose_lexical(self, X: np.ndarray, Y: np.ndarray, texts: Sequence[str] | None) -> tuple[Any, np.ndarray]:
        """Fit the lexical block (with texts) and choose its weight with C by cross-validation.

        ``lexical=None`` tries each weight of ``lexical_grid`` (ties keep the earlier one);
        a number fixes it (0: vector only). Returns the head's input and the out-of-fold scores.
        """
        from .training import cross_validate

        weights = [0.0] if texts is None else list(self.lexical_grid if self.lexical is None else [self.lexical])
        self.lexicon_ = None
        if any(w > 0 for w in weights):
            from .lexical import Lexicon
            self.lexicon_ = Lexicon().fit(texts or [])
        best: tuple[float, float, Any, np.ndarray] | None = None
        for w in weights:
            self.lexical_ = float(w)
            Xw = self._inputs(X, texts)
            C, oof, scores = cross_validate(self, Xw, Y)
            score = scores.get("cv_micro_f1", scores.get("cv_macro_f1", 0.0))
            if best is None or score > best[0] + 1e-9:
                best, self.C_, self.cv_scores_ = (score, self.lexical_, Xw, oof), C, scores
        assert best is not None
        self.lexical_ = best[1]
        if len(weights) > 1:
            self.cv_scores_ = {**self.cv_scores_, "lexical_weight": self.lexical_}  # chosen: the card says which
        if self.lexical_ == 0:
            self.lexicon_ = None
        return best[2], best[3]

    def _per_theme(self, Y: np.ndarray, oof: np.ndarray) -> dict[str, dict[str, float]]:
        """Each theme's precision, recall, F1 and support over the out-of-fold scores, decided as the
        saved model decides (its thresholds or best leaf, a theme for every row where ``min_labels``):
        which themes a team can trust and which need more examples.

        Out-of-fold thresholds were chosen on these same scores, so multi-label figures lean a little
        optimistic; the rows' own labels were never seen by the head that scored them.
        """
        from sklearn.metrics import precision_recall_fscore_support

        picks = self.decide(oof)
        P = np.array([[lab in p for lab in self.labels_] for p in picks], dtype=np.int8).reshape(Y.shape)
        prec, rec, f1, support = precision_recall_fscore_support(Y, P, average=None, zero_division=0)
        return {lab: {"precision": round(float(prec[j]), 4), "recall": round(float(rec[j]), 4),
                      "f1": round(float(f1[j]), 4), "support": int(support[j])}
                for j, lab in enumerate(self.labels_)}

    def _fit_head(self, X: np.ndarray, Y: np.ndarray, C: float | None) -> dict[str, np.ndarray]:
        if self.head == "mlp":
            from sklearn.neural_network import MLPClassifier
            mlp = MLPClassifier((self.hidden,), alpha=self.alpha, max_iter=200, early_stopping=True,
                                random_state=self.random_state).fit(X, Y)
            return {"w0": mlp.coefs_[0], "b0": mlp.intercepts_[0], "w1": mlp.coefs_[1], "b1": mlp.intercepts_[1]}
        if self.head != "logreg":
            raise ConfigError(f"unknown theme head {self.head!r}; use 'logreg' or 'mlp'")
        from sklearn.linear_model import LogisticRegression
        if self.mode_ == "single":
            return self._fit_softmax(X, Y, C)
        coef = np.zeros((Y.shape[1], X.shape[1]), np.float32)
        intercept = np.zeros(Y.shape[1], np.float32)
        for j in range(Y.shape[1]):
            if Y[:, j].min() == Y[:, j].max():  # constant label: a bias-only model
                intercept[j] = 20.0 if Y[0, j] else -20.0
                continue
            lr = LogisticRegression(C=C, max_iter=3000, class_weight=self.class_weight,
                                    random_state=self.random_state).fit(X, Y[:, j])
            coef[j], intercept[j] = lr.coef_[0], lr.intercept_[0]
        return {"coef": coef, "intercept": intercept}

    def _inputs(self, X: np.ndarray, texts: Sequence[str] | None) -> Any:
        """The head's input: ``X``, or ``[X | lexical * tfidf(texts)]`` (sparse) with the lexical block."""
        X = np.asarray(X, dtype=np.float32)
        if self.lexicon_ is None:
            return X
        if texts is None:
            raise ConfigError("this themes model reads the sentence text too (lexical block); "
                              "pass texts to predict()/predict_proba()")
        if len(texts) != len(X):
            raise ConfigError(f"{len(X)} feature rows but {len(texts)} texts")
        import scipy.sparse as sp
        return sp.hstack([sp.csr_matrix(X), self.lexical_ * self.lexicon_.transform(texts)], format="csr")

    def _fit_softmax(self, X: Any, Y: np.ndarray, C: float | None) -> dict[str, np.ndarray]:
        """Single-label: one multinomial logistic regression over the leaf themes.

        A parent's score is the sum of its children's (``tree`` maps leaves to labels). On the
        airline complaint reasons this beats one-vs-rest heads, most of all with the lexical block.
        """
        from sklearn.linear_model import LogisticRegression

        leaf = leaf_columns(self.labels_)
        y = Y[:, leaf].argmax(1)
        coef = np.zeros((len(leaf), X.shape[1]), np.float32)
        intercept = np.full(len(leaf), -30.0, np.float32)  # classes absent from this fit: never picked
        present = np.unique(y)
        if len(present) == 1:
            intercept[present[0]] = 0.0
        else:
            lr = LogisticRegression(C=C, max_iter=3000, class_weight=self.class_weight,
                                    random_state=self.random_state).fit(X, y)
            rows = lr.classes_.astype(int)
            if len(rows) == 2:  # sklearn keeps one row for two classes: split it symmetrically
                coef[rows[1]], coef[rows[0]] = lr.coef_[0] / 2, -lr.coef_[0] / 2
                intercept[rows[1]], intercept[rows[0]] = lr.intercept_[0] / 2, -lr.intercept_[0] / 2
            else:
                coef[rows], intercept[rows] = lr.coef_, lr.intercept_
        tree = np.array([[lab == self.labels_[k] or self.labels_[k].startswith(lab + ".") for k in leaf]
                         for lab in self.labels_], np.float32)
        return {"coef": coef, "intercept": intercept, "tree": tree}

    # ---- predicting ----------------------------------------------------------------------
    def predict_proba(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """``(n, len(labels_))`` scores in [0, 1]; ``texts`` are required with the lexical block."""
        if not self.labels_:
            raise ConfigError("ThemeModel is not fitted; call fit() or ThemeModel.load(dir)")
        return head_proba(self.weights_, self._inputs(X, texts))

    def predict(self, X: np.ndarray, texts: Sequence[str] | None = None) -> list[list[str]]:
        """Theme ids per row (parents included), sorted."""
        return self.decide(self.predict_proba(X, texts))

    def decide(self, proba: np.ndarray) -> list[list[str]]:
        """Theme ids per row of :meth:`predict_proba` scores (thresholds or best leaf)."""
        if self.mode_ == "single":
            leaf = leaf_columns(self.labels_)
            picks = [[self.labels_[leaf[int(np.argmax(p[leaf]))]]] for p in proba]
            return expand_parents(picks)
        picks = []
        for row in proba:
            ids = [lab for lab, p, t in zip(self.labels_, row, self.thresholds_) if p >= t]
            if not ids and self.min_labels_:  # every training row had a theme: take the nearest to its threshold
                ids = [self.labels_[int(np.argmax(row / np.maximum(self.thresholds_, 1e-6)))]]
            picks.append(ids)
        return expand_parents(picks)

    # ---- artifact ------------------------------------------------------------------------
    def save(self, out_dir: str | Path) -> Path:
        """Write ``config.json``, ``weights.npz`` and ``MODEL_CARD.md`` into ``out_dir``."""
        from .training import write_artifact
        return write_artifact(self, Path(out_dir))

    @classmethod
    def load(cls, model_dir: str | Path, *, encoder_key: str | None = None) -> ThemeModel:
        """Reload a saved model; with ``encoder_key``, refuse one trained on another encoder."""
        from .training import read_artifact
        return read_artifact(cls, Path(model_dir), encoder_key)


def head_proba(weights: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Scores of a logreg (``coef``/``intercept``: sigmoid; with ``tree``: softmax over leaves) or MLP
    (``w0,b0,w1,b1``) head.

    ``X`` is a dense array or a scipy sparse matrix.
    """
    if not hasattr(X, "tocsr"):
        X = np.asarray(X, dtype=np.float32)
    if "tree" in weights:  # single-label softmax over leaves; parents sum their children
        z = np.asarray(X @ weights["coef"].T) + weights["intercept"]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return ((e / e.sum(axis=1, keepdims=True)) @ weights["tree"].T).astype(np.float32)
    if "coef" in weights:
        z = np.asarray(X @ weights["coef"].T) + weights["intercept"]
    else:
        z = np.maximum(np.asarray(X @ weights["w0"]) + weights["b0"], 0) @ weights["w1"] + weights["b1"]
    return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)


def leaf_columns(labels: Sequence[str]) -> list[int]:
    """Indices of labels that are no other label's parent."""
    return [j for j, lab in enumerate(labels) if not any(o.startswith(lab + ".") for o in labels)]


def _check_labels(labels: list[str], sets: list[list[str]], taxonomy: Taxonomy | None) -> None:
    if len(labels) < 1:
        raise ConfigError("no theme labels in the training data")
    if taxonomy is not None:
        unknown = [lab for lab in labels if lab not in taxonomy]
        if unknown:
            warnings.warn(f"theme ids not in taxonomy {taxonomy.name!r}: {', '.join(unknown)} "
                          "(they are trained anyway; add them to the taxonomy to describe them)", ThemeDataWarning,
                          stacklevel=3)
    counts = {lab: sum(lab in s for s in sets) for lab in labels}
    rare = [lab for lab, n in counts.items() if n < 5]
    if rare:
        warnings.warn(f"themes with fewer than 5 examples will be unreliable: {', '.join(rare)}", ThemeDataWarning,
                      stacklevel=3)


def _best_thresholds(Y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per-label threshold maximising F1 of out-of-fold ``scores`` (ties -> 0.5-nearest)."""
    out = np.full(Y.shape[1], 0.5)
    for j in range(Y.shape[1]):
        y = Y[:, j].astype(bool)
        if y.all() or not y.any():
            continue
        best = (-1.0, 0.0)
        for t in _THRESHOLD_GRID:
            p = scores[:, j] >= t
            tp = float((p & y).sum())
            f1 = 2 * tp / max(float(p.sum() + y.sum()), 1.0)
            key = (round(f1, 6), -abs(t - 0.5))
            if key > best:
                best, out[j] = key, t
    return out
