"""A lexical block for trained heads: TF-IDF over word 1-2-grams of the sentence text.

The shared sentence vector summarises meaning, but a theme is often named by one
word ("luggage", "refund", "waiter"), and mean pooling blurs single words. A sparse
block of word n-grams next to the vector lets a trained head weigh those words
directly. It costs nothing at run time beside the encoder (a vocabulary lookup per
sentence) and needs no second model pass.

Measured with ``voiceminer evaluate`` (train-themes on the shared vectors, validation
splits): airline complaint reasons macro-F1 0.563 -> 0.596 (with the softmax head of
single-label models); SemEval-2014 categories unchanged at 0.850 (shared-v1). The head
chooses the block's weight by cross-validation (see :mod:`voiceminer.themes.trained`).
``scripts/train_themes_eval.py trained`` prints the recipe with the block off and on.
The shared model's complaint, need and sentiment heads stay vector-only: a trial of the
block beside them gained nothing beyond noise on validation.

The fitted block is data, not code: the term list (column order) and the IDF
weights, so it is saved as JSON + numpy and rebuilt exactly.

>>> lex = Lexicon(min_df=1).fit(["late delivery", "delivery was late again", "great food"])
>>> lex.transform(["late delivery!"]).shape == (1, len(lex.terms_))
True
>>> again = Lexicon.from_state(lex.state(), lex.idf_)
>>> bool((again.transform(["late food"]) != lex.transform(["late food"])).nnz == 0)
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["KeywordThemes", "Lexicon", "content_stems", "stem"]


class Lexicon:
    """Word n-gram TF-IDF (sublinear tf, L2-normalised rows), fitted on training texts."""

    def __init__(self, *, ngram_max: int = 2, min_df: int = 2, max_terms: int = 50000) -> None:
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_terms = max_terms
        self.terms_: list[str] = []
        self.idf_: np.ndarray = np.zeros(0, np.float32)
        self._vec: Any = None

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(ngram_range=(1, self.ngram_max), min_df=1 if vocabulary else self.min_df,
                               max_features=None if vocabulary else self.max_terms, sublinear_tf=True,
                               lowercase=True, strip_accents="unicode", vocabulary=vocabulary, dtype=np.float32)

    def fit(self, texts: Sequence[str]) -> Lexicon:
        """Learn the vocabulary and IDF weights from ``texts``; returns self."""
        vec = self._vectorizer()
        try:
            vec.fit(list(texts))
        except ValueError:  # every term below min_df: fall back to all terms
            vec = self._vectorizer()
            vec.min_df = 1
            vec.fit(list(texts))
        self.terms_ = [str(t) for t in vec.get_feature_names_out()]
        self.idf_ = np.asarray(vec.idf_, np.float32)
        self._vec = vec
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        """CSR matrix ``(len(texts), len(terms_))``."""
        if self._vec is None:
            raise ConfigError("the lexical block is not fitted")
        return self._vec.transform(list(texts)).tocsr()

    # ---- artifact ------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-able settings and terms (the IDF weights travel as an array)."""
        return {"ngram_max": self.ngram_max, "min_df": self.min_df, "max_terms": self.max_terms,
                "terms": list(self.terms_)}

    @classmethod
    def from_state(cls, state: dict[str, Any], idf: np.ndarray) -> Lexicon:
        """Rebuild a fitted block from :meth:`state` and its IDF array."""
        terms = list(state["terms"])
        if len(terms) != len(idf):
            raise ConfigError(f"lexical block: {len(terms)} terms but {len(idf)} IDF weights")
        lex = cls(ngram_max=int(state["ngram_max"]), min_df=int(state["min_df"]),
                  max_terms=int(state.get("max_terms", 50000)))
        lex.terms_, lex.idf_ = terms, np.asarray(idf, np.float32)
        vec = lex._vectorizer({t: i for i, t in enumerate(terms)})
        vec.idf_ = lex.idf_
        lex._vec = vec
        return lex


# ---- keyword matching from a taxonomy's own words -------------------------------------------------
_STOP = frozenset("""a about above after again all also am an and any are as at be because been before being
both but by can could did do does doing down during each every few for from further get gets getting got had has
have having he her here hers him his how i if in into is it its itself just me more most my no nor not of off on
once only or other our ours out over own same she should so some such than that the their theirs them then there
these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours it's its' etc whether own us one ones thing things""".split())  # noqa: SIM905
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "edly", "ness", "ies", "ied", "ers", "ed", "er",
             "es", "ly", "s", "e", "y")


def stem(word: str) -> str:
    """A light suffix-stripping stem (no dependency): the same stem for the usual inflections.

    >>> [stem(w) for w in ("delays", "delayed", "delay", "cancelled", "cancellation", "charging", "charger")]
    ['dela', 'dela', 'dela', 'cancell', 'cancell', 'charg', 'charg']
    """
    word = word.lower().split("'")[0]
    for _ in range(2):  # "delays" -> "delay" -> "dela", as "delay" -> "dela"
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "ls":
        word = word[:-1]  # "stopp(ed)" -> "stop"
    return word


def content_stems(text: str) -> set[str]:
    """Stems of the words of ``text`` that are not stop words.

    >>> sorted(content_stems("The flight was delayed or arrived late."))
    ['arriv', 'dela', 'flight', 'lat']
    """
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


class KeywordThemes:
    """The keyword baseline of a taxonomy: a sentence takes a theme when it holds a word of the
    theme's label or description (stop words dropped, both sides stemmed by :func:`stem`).

    ``mode``: ``"any"`` (every theme with a matching word), ``"best"`` (the themes with the most
    matching words) or ``"label"`` (words of the labels only). Top-level themes only.

    >>> from voiceminer.themes.taxonomy import parse_taxonomy
    >>> tax = parse_taxonomy({"themes": [
    ...     {"id": "late", "label": "Late flight", "description": "The flight was delayed."},
    ...     {"id": "bags", "label": "Lost luggage", "description": "Bags that were lost."}]})
    >>> KeywordThemes(tax).predict(["Delayed again", "They lost my bag", "Thanks!"])
    [['late'], ['bags'], []]
    """

    MODES: tuple[str, ...] = ("any", "best", "label")

    def __init__(self, taxonomy: Any, mode: str = "any") -> None:
        if mode not in self.MODES:
            raise ConfigError(f"keyword mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode
        top = [t for t in taxonomy if t.parent is None]
        self.ids = [t.id for t in top]
        self.keywords = [content_stems(t.label if mode == "label" else f"{t.label} {t.description}") for t in top]

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """Theme ids per text (taxonomy order), [] when no word matches."""
        out = []
        for text in texts:
            words = content_stems(text)
            counts = [len(words & k) for k in self.keywords]
            least = max(max(counts, default=0), 1) if self.mode == "best" else 1
            out.append([i for i, c in zip(self.ids, counts) if c >= least])
        return out
