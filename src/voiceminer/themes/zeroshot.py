"""Zero-shot themes (``themes.zeroshot.v1``): score sentences against a taxonomy's text alone.

Every theme is described by its ``"label: description"`` and its example phrases.
A sentence's score for a theme blends the mean of its ``top_k`` highest cosines
to the theme's example phrases (a parent also owns its children's examples)
with its cosine to the description. A top-level theme is assigned when its
score reaches :data:`THRESHOLD` and lies within :data:`MARGIN` of the sentence's
best theme (at most :data:`MAX_THEMES`); its cause is the best-scoring child if
that child reaches :data:`CHILD_THRESHOLD`.

The constants were calibrated once, on the *train* split of the development
data (SemEval-2014 restaurant categories and airline complaint reasons), by::

    .venv/bin/python scripts/train_themes_eval.py calibrate

and are never tuned on the validation split (see that script's docstring for
the numbers). Changing them means a new version of this stage. Cosines depend on
the encoder, so an encoder artifact may carry its own calibration (``"zero_shot"``
in its ``config.json``, written by the same script): :func:`calibration_for`
reads it, and the module constants are the calibration of ``models/shared-v1``.

A fine-tuned shared encoder also learnt how a sentence feels (its sentiment, complaint and
need heads read that from the vectors), and praise then sits near praise whatever it is about:
"Everything was super fresh and the chicken katsu kit was delicious." scored Speed and
Atmosphere above Product quality, whose examples are less glowing. A calibration may name
heads to ``project_out``: their directions (:func:`voiceminer.models.shared.head_basis`) are
removed from every vector, taxonomy and sentences alike, before the cosines.
``scripts/train_themes_eval.py calibrate --project-out sentiment,complaint,need`` chooses the
constants with the projection, on the train split.

>>> import numpy as np
>>> from voiceminer.themes.taxonomy import parse_taxonomy
>>> tax = parse_taxonomy({"themes": [
...     {"id": "a", "label": "A", "description": "a", "examples": ["x"]},
...     {"id": "b", "label": "B", "description": "b", "examples": ["y"]}]})
>>> zs = ZeroShotThemes(tax).fit_vectors(np.eye(2, dtype=np.float32), [[1, 0], [0, 1]] * 1)
>>> [h.id for h in zs.predict(np.array([[1.0, 0.1]], dtype=np.float32))[0]]
['a']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["CHILD_THRESHOLD", "DESC_WEIGHT", "MARGIN", "THRESHOLD", "TOP_K", "ThemeHit", "ZeroShotThemes"]

# Calibrated by `scripts/train_themes_eval.py calibrate` on the train split, with the shipped shared
# encoder (models/shared-v1), whose vectors the pipeline uses (see module doc).
# Grid: desc_weight {0, .3, .5} x top_k {1, 3} x threshold .25-.85 step .025 x margin {.03, .06, .1, .15}
# x child_threshold {.3, .4}; objective: mean of SemEval-14 micro-F1 and airline-reason macro-F1 (train
# split, shared encoder v1.1, with the BACKGROUND phrases below: 0.762 and 0.523; without them the best was
# threshold 0.55, margin 0.06: 0.583 and 0.505). The description cosine did not help once examples exist
# (weight 0 won).
THRESHOLD = 0.425
MARGIN = 0.10
CHILD_THRESHOLD = 0.30
DESC_WEIGHT = 0.0
TOP_K = 3
MAX_THEMES = 3
# Topic-free things customers write (greetings, thanks, bare verdicts, order numbers). A sentence
# closer to these than to a theme's examples gets no theme: without them, "Thank you!" or
# "Not good enough." lands on whichever theme has the most emotional examples.
BACKGROUND = (
    "Thank you so much!", "Many thanks", "Thanks for your help.", "Hi there,", "Hello,", "Kind regards",
    "Not good enough.", "Not impressed at all.", "Very disappointed.", "Terrible.", "Awful experience.",
    "Great, love it!", "Brilliant, five stars.", "Keep up the good work.", "Would recommend.",
    "Please sort this out.", "What are you going to do about it?", "Can someone call me back?",
    "Customer called.", "Order number 123456.", "See attached.", "Ok.", "No comment.", "N/A",
)


CALIBRATED = ("threshold", "margin", "child_threshold", "desc_weight", "top_k", "project_out")


def calibration_for(encoder: Any) -> dict[str, Any]:
    """The zero-shot constants calibrated for ``encoder`` (its artifact's ``"zero_shot"``), or {}
    for the module defaults. ``ZeroShotThemes(tax, **calibration_for(enc))``.

    >>> calibration_for(object())
    {}
    """
    from pathlib import Path

    from ..models.encoder import artifact_config

    artifact = getattr(encoder, "artifact", None)
    if artifact is None or not (Path(artifact) / "config.json").is_file():
        return {}
    found = artifact_config(Path(artifact)).get("zero_shot", {})
    return {k: found[k] for k in CALIBRATED if k in found}


@dataclass(frozen=True)
class ThemeHit:
    """A theme assigned to one sentence; ``cause_id`` is the child (cause) theme, if any."""

    id: str
    label: str
    score: float
    cause_id: str | None = None
    cause_label: str | None = None
    cause_score: float | None = None


class ZeroShotThemes:
    """Taxonomy-only theme scorer over L2-normalised sentence vectors."""

    name: ClassVar[str] = "themes.zeroshot.v1"
    version: ClassVar[str] = "1.0.0"

    def __init__(self, taxonomy: Taxonomy | None = None, *, threshold: float = THRESHOLD,
                 margin: float = MARGIN, child_threshold: float = CHILD_THRESHOLD,
                 desc_weight: float = DESC_WEIGHT, top_k: int = TOP_K, max_themes: int = MAX_THEMES,
                 background: Sequence[str] = BACKGROUND, project_out: Sequence[str] = ()) -> None:
        self.taxonomy = taxonomy
        self.project_out = tuple(project_out)  # shared-model heads whose directions leave the vectors
        self.basis_: np.ndarray | None = None
        self.background = tuple(background)
        self.background_vectors_: np.ndarray | None = None
        self.threshold = threshold
        self.margin = margin
        self.child_threshold = child_threshold
        self.desc_weight = desc_weight
        self.top_k = top_k
        self.max_themes = max_themes
        self.taxonomy_: Taxonomy | None = None
        self.desc_vectors_: np.ndarray | None = None
        self.example_vectors_: np.ndarray | None = None
        self.pools_: list[np.ndarray] = []
        self.encoder_key_: str = ""

    def load(self, encoder: Any = None) -> ZeroShotThemes:
        """Embed the taxonomy with ``encoder`` (default: the base SentenceEncoder)."""
        if encoder is None:
            from ..models.encoder import SentenceEncoder
            encoder = SentenceEncoder().load()
        return self.fit_encoder(encoder)

    def fit_encoder(self, encoder: Any, heads: Any = None) -> ZeroShotThemes:
        """Embed theme texts and examples with ``encoder.encode(texts, normalize=True)``.

        With ``project_out``, ``heads`` (the shared model's :class:`~voiceminer.models.shared.LinearHeads`)
        give the directions removed from every vector, the taxonomy's and the sentences' alike.
        """
        if self.project_out:
            if heads is None:
                raise ConfigError(f"zero-shot themes project out the {', '.join(self.project_out)} head(s): "
                                  "pass the shared model's heads to fit_encoder")
            from ..models.shared import head_basis
            self.basis_ = head_basis(heads, self.project_out)
        tax = self.taxonomy or load_taxonomy()
        examples = [e for t in tax for e in t.examples]
        vectors = self._project(encoder.encode([t.text for t in tax] + examples + list(self.background),
                                               normalize=True))
        self.encoder_key_ = getattr(encoder, "key", "")
        n = len(tax) + len(examples)
        self.background_vectors_ = vectors[n:] if self.background else None
        return self._fit(tax, vectors[:len(tax)], vectors[len(tax):n])

    def fit_vectors(self, desc_vectors: np.ndarray, example_vectors: Sequence[Sequence[float]]) -> ZeroShotThemes:
        """Fit from precomputed vectors: one description vector per theme (taxonomy order),
        example vectors in taxonomy order (tests and caches use this)."""
        tax = self.taxonomy or load_taxonomy()
        return self._fit(tax, np.asarray(desc_vectors, np.float32), np.asarray(example_vectors, np.float32))

    def _fit(self, tax: Taxonomy, desc: np.ndarray, examples: np.ndarray) -> ZeroShotThemes:
        if len(desc) != len(tax):
            raise ConfigError(f"{len(desc)} description vectors for {len(tax)} themes")
        owner: list[int] = [i for i, t in enumerate(tax) for _ in t.examples]
        if len(owner) != len(examples):
            raise ConfigError(f"{len(examples)} example vectors for {len(owner)} example phrases")
        owner_arr = np.array(owner, dtype=np.int64)
        pools = []
        for i, theme in enumerate(tax):
            members = [i] + [tax.ids.index(c) for c in theme.children]
            pools.append(np.flatnonzero(np.isin(owner_arr, members)))
        self.taxonomy_, self.desc_vectors_, self.example_vectors_, self.pools_ = tax, desc, examples, pools
        return self

    def _project(self, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` without the ``project_out`` directions, L2-normalised again (as given without)."""
        v = np.asarray(vectors, dtype=np.float32)
        if self.basis_ is None:
            return v
        v = v - (v @ self.basis_) @ self.basis_.T
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """``(n, len(taxonomy))`` scores for L2-normalised ``vectors``, columns in taxonomy order."""
        return self._scores(self._project(vectors))

    def _scores(self, v: np.ndarray) -> np.ndarray:
        if self.taxonomy_ is None:
            raise ConfigError("ZeroShotThemes is not loaded; call load() or fit_encoder() first")
        desc = v @ self.desc_vectors_.T
        sims = v @ self.example_vectors_.T
        out = np.empty_like(desc)
        for j, pool in enumerate(self.pools_):
            if len(pool) == 0:
                out[:, j] = desc[:, j]
                continue
            k = min(self.top_k, len(pool))
            top = -np.partition(-sims[:, pool], k - 1, axis=1)[:, :k]
            out[:, j] = (1 - self.desc_weight) * top.mean(1) + self.desc_weight * desc[:, j]
        return out

    def background_scores(self, vectors: np.ndarray) -> np.ndarray | None:
        """Per sentence, the mean of its ``top_k`` cosines to the topic-free background phrases."""
        return self._background(self._project(vectors))

    def _background(self, v: np.ndarray) -> np.ndarray | None:
        if self.background_vectors_ is None or not len(self.background_vectors_):
            return None
        sims = v @ self.background_vectors_.T
        k = min(self.top_k, sims.shape[1])
        return -np.partition(-sims, k - 1, axis=1)[:, :k].mean(1)

    def predict(self, vectors: np.ndarray) -> list[list[ThemeHit]]:
        """Themes (with causes) per sentence, best first; [] where no theme is confident."""
        v = self._project(vectors)
        return self.hits_from_scores(self._scores(v), self._background(v))

    def hits_from_scores(self, scores: np.ndarray, background: np.ndarray | None = None) -> list[list[ThemeHit]]:
        """Hits from theme scores; a sentence whose background score beats its best theme gets none."""
        tax = self.taxonomy_
        top_idx = np.array([i for i, t in enumerate(tax) if t.parent is None])
        col = {t: i for i, t in enumerate(tax.ids)}
        out = []
        for r, row in enumerate(scores):
            parent_scores = row[top_idx]
            best = float(parent_scores.max()) if len(parent_scores) else 0.0
            if background is not None and background[r] >= best:
                out.append([])
                continue
            order = top_idx[np.argsort(-parent_scores, kind="stable")][:self.max_themes]
            hits = []
            for j in order:
                s = float(row[j])
                if s < self.threshold or s < best - self.margin:
                    break
                hits.append(self._hit(tax.themes[j], s, row, col))
            out.append(hits)
        return out

    def _hit(self, theme: Any, score: float, row: np.ndarray, col: dict[str, int]) -> ThemeHit:
        if not theme.children:
            return ThemeHit(theme.id, theme.label, round(score, 4))
        cid = max(theme.children, key=lambda c: row[col[c]])
        cscore = float(row[col[cid]])
        if cscore < self.child_threshold:
            return ThemeHit(theme.id, theme.label, round(score, 4))
        return ThemeHit(theme.id, theme.label, round(score, 4), cid, self.taxonomy_[cid].label, round(cscore, 4))
