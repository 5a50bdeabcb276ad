"""Request kind: does a sentence ask for something missing, or report something broken?

The need head learns from HICSS-2023, where a sentence about what a product does counts
as a "need" whether it works or not, so "App keeps forgetting my saved favourites" and
"The app logs me out every time I close it" score as needs (0.87 and 0.86 with shared-v2)
while they are defects: the customer needs nothing new, something is broken. This small
head tells the two apart. It is trained on the RE'21 app-review requirements data
(``app_review_requirements_re21``, part P3), whose annotators sorted review sentences into
feature requests, stability and performance problems, quality remarks and none; here
``feature`` -> ``feature``, ``stability`` / ``performance`` -> ``defect``, the rest ->
``other``.

The needs stage uses it to keep defects out of the implicit needs: a sentence without an
explicit need cue that reads as a defect is no unmet need. (Taking sentences it reads as
feature requests as needs without a cue was tried on the demo corpus and dropped: beside
real needs it took complaints and sarcasm, "Support just copy-pastes a refusal.")

The head is a :class:`~voiceminer.themes.ThemeModel` (softmax regression over the shared
sentence vector and a TF-IDF word block, its C and block weight chosen by cross-validation
on the train split), saved in ``request_kind/`` inside the shared model's folder because its
vectors are that encoder's; ``scripts/train_request_kind.py`` writes it, with its card.
``voiceminer evaluate`` scores it on the validation split (row ``request_kind``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FOLDER = "request_kind"
LABEL_MAP = {"feature": "feature", "stability": "defect", "performance": "defect",
             "quality": "other", "none": "other"}
KINDS = ("defect", "feature", "other")


def kind_path(shared_dir: str | Path) -> Path:
    """Where the request-kind head of the shared model in ``shared_dir`` lives."""
    return Path(shared_dir) / FOLDER


def load_request_kind(shared_dir: str | Path, encoder_key: str) -> Any:
    """The head saved beside the shared model in ``shared_dir``, or None when it has none.
    A head trained on another encoder is refused (``ConfigError``)."""
    from ..themes import ThemeModel

    folder = kind_path(shared_dir)
    if not (folder / "config.json").is_file():
        return None
    return ThemeModel.load(folder, encoder_key=encoder_key)


def fit_request_kind(vectors: np.ndarray, texts: Sequence[str], labels: Sequence[str], *,
                     encoder_key: str = "", meta: dict[str, Any] | None = None) -> Any:
    """Fit the head on encoder ``vectors`` of ``texts`` with P3 ``labels`` (mapped by
    :data:`LABEL_MAP`)."""
    from ..themes import ThemeModel
    from .encoder import l2_normalise

    kinds = [[LABEL_MAP[lab]] for lab in labels]
    return ThemeModel(lexical=None, random_state=0).fit(l2_normalise(vectors), kinds, texts=list(texts),
                                                        encoder_key=encoder_key, meta=meta or {})


def kind_proba(model: Any, vectors: np.ndarray, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Per kind, its probability for each row of ``vectors`` (the sentences ``texts``)."""
    from .encoder import l2_normalise

    if not len(vectors):
        return {k: np.zeros(0, np.float32) for k in model.labels_}
    proba = model.predict_proba(l2_normalise(vectors), list(texts))
    return {k: proba[:, j] for j, k in enumerate(model.labels_)}
