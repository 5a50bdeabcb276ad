"""Which comments are not in English: ``language.langid.v1``.

VoiceMiner's models read English. A French or Spanish comment run through them gets confident, wrong tags
(the demo's "Service client très agréable, problème réglé en cinq minutes." scored -0.88), so a report must
at least say how many of its comments the models could not read. This stage identifies the language of each
comment with py3langid (langid.py's naive Bayes model over byte n-grams, shipped in the package: no
download, about 0.1 ms a comment) and adds a comment-level ``language`` annotation, label the ISO 639-1
code, to the comments it is sure are not English. English and unsure comments get none.

Sure means: at least ``MIN_WORDS`` words once @handles, URLs and hashtags are removed, and a normalised
probability of at least ``MIN_CONFIDENCE`` for a language other than English. On the 20,279 distinct
English texts of the public corpora (airline and complaint tweets, SemEval reviews) no text is flagged at
these settings (the most confident mistake, 0.78, read "sometimes i get good food and ok service." as
Nigerian Pidgin); of the demo corpus, its 15 planted Spanish, French and German comments are, and no other
(the least sure at 0.88). ``scripts/language_check.py`` measures both.

>>> stage = LanguageStage().load()
>>> stage.detect("Il manquait la moitié de ma commande et le service client ne répond pas.")[0]
'fr'
>>> stage.detect("The delivery was late again and nobody called."), stage.detect("Muy bien")
(None, None)
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Sequence

from ..types import Annotation
from .base import Analysed, register_stage

MIN_WORDS = 4
MIN_CONFIDENCE = 0.8
_NOISE = re.compile(r"@\w+|#\w+|https?://\S+|www\.\S+")


@register_stage
class LanguageStage:
    """A ``language`` annotation on each comment that is surely not in English."""

    name: ClassVar[str] = "language.langid.v1"
    version: ClassVar[str] = f"1 (p>={MIN_CONFIDENCE}, {MIN_WORDS}+ words)"
    requires: ClassVar[tuple[str, ...]] = ()
    produces: ClassVar[tuple[str, ...]] = ("language",)

    def __init__(self) -> None:
        self.identifier_: Any = None

    def load(self) -> "LanguageStage":
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self.identifier_ = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return self

    def detect(self, text: str) -> tuple[str, float] | None:
        """(language code, probability) when ``text`` is surely not English, else None."""
        clean = _NOISE.sub(" ", text)
        if len(clean.split()) < MIN_WORDS:
            return None
        code, p = self.identifier_.classify(clean)
        return (str(code), float(p)) if code != "en" and p >= MIN_CONFIDENCE else None

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        out = []
        for a in batch:
            found = self.detect(a.comment.text)
            if found is None:
                out.append(a)
                continue
            code, p = found
            out.append(a.add(annotations=[Annotation(a.comment.id, "language", code, round(p, 4), self.name,
                                                     self.version, None, (0, len(a.comment.text)))]))
        return out
