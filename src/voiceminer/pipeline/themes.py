"""``themes.v1``: themes and their causes per sentence, from the shared vectors.

With a trained themes model (``voiceminer train-themes``; ``themes_model`` setting or
``--themes-model``) the stage uses it (a fine-tuned one with its own encoder: the shared encoder
with the model's adapter merged, its vectors cached under that encoder's key); otherwise it scores sentences zero-shot against
the taxonomy's text. Either way the lower taxonomy level is the cause, and causal cue
clauses ("because ...", "since ...", "after ...") are kept as evidence spans.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..models.encoder import l2_normalise as _normalise
from ..themes.causes import RULES_VERSION as CAUSE_RULES
from ..types import Annotation
from .base import Analysed, StageContext, register_stage
from .encode import context_shared, shared_artifact

# Zero-shot models fitted in this process, by (encoder vector key, shared artifact, taxonomy sha256,
# calibration basis); the oldest go first. A fitted model is read-only when it predicts.
_ZEROSHOT_FITS: dict[tuple[str, ...], Any] = {}
_ZEROSHOT_FITS_KEPT = 4


def clear_fitted() -> None:
    """Forget the zero-shot models fitted in this process (benchmarks time a first run's fit)."""
    _ZEROSHOT_FITS.clear()


def taxonomy_vector_key(vector_key: str) -> str:
    """The vector cache key of an encoder's vectors of taxonomy texts (descriptions, examples, generic
    sentences): kept apart from the comments' sentence vectors under the encoder's own key.

    >>> taxonomy_vector_key("voiceminer-shared@abc+onnx")
    'voiceminer-shared@abc+onnx#taxonomy'
    """
    return f"{vector_key}#taxonomy"


class CachedEncoder:
    """An encoder whose ``encode`` goes through a vector cache (None: no cache); ``key`` is the encoder's."""

    def __init__(self, encoder: Any, cache: Any = None) -> None:
        self.encoder, self.cache = encoder, cache

    @property
    def key(self) -> str:
        return self.encoder.key

    def encode(self, texts: Sequence[str], *, normalize: bool = False) -> np.ndarray:
        from ..types import text_hash
        from .encode import cached_vectors

        if self.cache is None:
            return self.encoder.encode(texts, normalize=normalize)
        found = cached_vectors(self.encoder, self.cache, texts)
        out = np.stack([found[text_hash(t)] for t in texts]) if len(texts) else np.zeros((0, self.encoder.dim),
                                                                                          np.float32)
        return _normalise(out) if normalize else out


@register_stage
class ThemesStage:
    """Multi-label themes per sentence, each with its cause (child theme) and evidence."""

    name: ClassVar[str] = "themes.v1"
    version: str = "1"
    requires: ClassVar[tuple[str, ...]] = ("sentences", "vectors")
    produces: ClassVar[tuple[str, ...]] = ("themes",)

    def __init__(self, context: StageContext | None = None) -> None:
        self.context = context or StageContext()
        self.taxonomy_: Any = None
        self.model_: Any = None
        self.kind_ = ""
        self.encoder_: Any = None  # a fine-tuned themes model's own encoder (None: the shared vectors serve)
        self.cache_: Any = None

    def load(self) -> ThemesStage:
        from ..themes import ThemeModel, ZeroShotThemes, calibration_for, load_taxonomy

        shared = context_shared(self.context)
        encoder = shared.encoder_
        self.taxonomy_ = load_taxonomy(self.context.taxonomy)
        calibration = ""
        self.encoder_, self.cache_ = None, None
        if self.context.themes_model:
            from ..themes.finetune import themes_encoder

            tuned = themes_encoder(self.context.themes_model, encoder)  # a fine-tuned model: its adapter merged
            if tuned is not encoder:  # it reads its own vectors, cached under the adapted encoder's key
                encoder, self.encoder_ = tuned, tuned
                if self.context.vector_cache is not None:
                    self.cache_ = self.context.vector_cache(tuned.key)
            self.model_ = ThemeModel.load(self.context.themes_model, encoder_key=encoder.key)
            self.kind_ = "trained"
            # a retrained model redoes results, and so do new cause-evidence rules (the spans are stored too)
            calibration = ":" + hashlib.sha256(f"{artifact_sha256(self.context.themes_model)}|{CAUSE_RULES}".encode()
                                               ).hexdigest()[:6]
        else:
            constants = calibration_for(encoder)
            # the algorithm, its calibration, the background phrases and (for bare themes) the generic
            # sentences decide the themes too: stored results are redone when any of them changes
            from ..themes.zeroshot import background_sha256, calibration_key
            from ..themes.zeroshot_background import generic_sha256

            basis = json.dumps([ZeroShotThemes.version, calibration_key(constants), generic_sha256(),
                                background_sha256(), f"causes{CAUSE_RULES}"],
                               sort_keys=True)
            calibration = ":" + hashlib.sha256(basis.encode()).hexdigest()[:6]
            self.model_ = self._zeroshot(shared, constants, basis)
            self.kind_ = "zeroshot"
        self.version = f"{self.kind_}:{self.taxonomy_.sha256[:10]}:{encoder.key.rsplit('@', 1)[-1]}{calibration}"
        return self

    def _zeroshot(self, shared: Any, constants: dict[str, Any], basis: str) -> Any:
        """The zero-shot model fitted on the taxonomy's texts (about 600 of them with the default taxonomy:
        as many characters as a few hundred comments). Fitted once per process for the same encoder, model,
        taxonomy and calibration (a process that builds the pipeline again reuses it), and the texts' vectors
        come from the store's vector cache when there is one (under :func:`taxonomy_vector_key`, apart from
        the comments' sentence vectors), so a later run does not encode them again."""
        from ..themes import ZeroShotThemes

        encoder = shared.encoder_
        key = (encoder.vector_key, shared_artifact(self.context), self.taxonomy_.sha256, basis)
        model = _ZEROSHOT_FITS.get(key)
        if model is None:
            cache = None
            if self.context.vector_cache is not None:
                cache = self.context.vector_cache(taxonomy_vector_key(encoder.vector_key))
            model = ZeroShotThemes(self.taxonomy_, **constants).fit_encoder(CachedEncoder(encoder, cache),
                                                                           shared.heads_)
            _ZEROSHOT_FITS[key] = model
            while len(_ZEROSHOT_FITS) > _ZEROSHOT_FITS_KEPT:
                _ZEROSHOT_FITS.pop(next(iter(_ZEROSHOT_FITS)))
        return model

    def hits(self, vectors: np.ndarray,
             texts: Sequence[str] | None = None) -> list[list[tuple[str, float, str | None, float | None]]]:
        """Per sentence: (theme id, score, cause id or None, cause score or None).

        ``texts`` (the sentences) are needed by a trained model with a lexical block, and count
        for bare zero-shot themes (words of their labels and descriptions).
        """
        if not len(vectors):
            return []
        vectors = _normalise(vectors)
        if self.kind_ == "zeroshot":  # the texts let a bare theme's own words count
            return [[(h.id, h.score, h.cause_id, h.cause_score) for h in row]
                    for row in self.model_.predict(vectors, texts)]
        proba = self.model_.predict_proba(vectors, texts)
        col = {lab: j for j, lab in enumerate(self.model_.labels_)}
        out = []
        for row, ids in zip(proba, self.model_.decide(proba)):  # predictions include the parents
            hits = []
            for theme in (i for i in ids if "." not in i):
                cause = max((c for c in ids if c.startswith(theme + ".")), key=lambda c: row[col[c]], default=None)
                hits.append((theme, float(row[col[theme]]), cause, float(row[col[cause]]) if cause else None))
            out.append(hits)
        return out

    def _vectors(self, scored: Sequence[Analysed], texts: list[str]) -> np.ndarray:
        """The sentences' vectors: the shared ones, or a fine-tuned model's own (cached by its key)."""
        if self.encoder_ is None:
            return np.concatenate([a.vectors for a in scored])
        from ..types import text_hash
        from .encode import cached_vectors

        found = cached_vectors(self.encoder_, self.cache_, texts)
        return np.stack([found[text_hash(t)] for t in texts])

    def label(self, theme_id: str | None) -> str | None:
        if theme_id is None:
            return None
        return self.taxonomy_[theme_id].label if theme_id in self.taxonomy_ else theme_id

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        from ..themes import cause_spans

        scored = [a for a in batch if a.vectors is not None and len(a.vectors)]
        texts = [s.text for a in scored for s in a.sentences]
        all_hits = iter(self.hits(self._vectors(scored, texts), texts) if scored else [])  # one pass per batch
        out = []
        for a in batch:
            anns = []
            for s in (a.sentences if a.vectors is not None and len(a.vectors) else ()):
                hits = next(all_hits)
                evidence = [[s.start + x, s.start + y] for x, y in cause_spans(s.text)] if hits else []
                for theme, score, cause, cause_score in hits:
                    anns.append(Annotation(
                        comment_id=a.comment.id, layer="theme", label=theme, score=round(score, 4),
                        producer=self.name, producer_version=self.version, sentence_index=s.index,
                        span=(s.start, s.end), data={"label": self.label(theme), "cause": cause,
                                                     "cause_label": self.label(cause), "cause_score": cause_score,
                                                     "cause_evidence": evidence[0] if evidence else None}))
            out.append(a.add(annotations=anns))
        return out


def artifact_sha256(folder: Any) -> str:
    """sha256 over a model folder's files (names and bytes; the model card aside): any retraining changes it.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "config.json").write_text("{}")
    >>> len(artifact_sha256(d))
    64
    """
    from pathlib import Path

    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name != "MODEL_CARD.md"):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
