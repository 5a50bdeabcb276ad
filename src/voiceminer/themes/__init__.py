"""Themes: the taxonomy, zero-shot and trained theme models, cause spans and discovery.

Library functions only (the pipeline stages and CLI commands live elsewhere):

- :func:`load_taxonomy` - validated YAML taxonomy (``corpora/taxonomy/cx_default.yaml`` by default)
- :class:`ZeroShotThemes` - ``themes.zeroshot.v1``, themes from the taxonomy text alone
- :class:`ThemeModel` - ``themes.trained.v2``, a head trained on labeled sentences (vector + word n-grams)
- :func:`train_from_csv` - train and save a ThemeModel from ``text,themes`` CSV
- :func:`cause_spans` - character spans of "because ..." style cause clauses
- :func:`discover` - deterministic clustering of sentences no theme covers

Submodules import their heavy dependencies (torch, sklearn) lazily.
"""

from .causes import cause_spans
from .discover import Cluster, Discovery, discover, is_small_talk
from .taxonomy import Taxonomy, Theme, load_taxonomy
from .trained import ThemeModel
from .training import train_from_csv
from .zeroshot import ThemeHit, ZeroShotThemes, calibration_for

__all__ = [
           "Cluster",
           "Discovery",
           "Taxonomy",
           "Theme",
           "ThemeHit",
           "ThemeModel",
           "ZeroShotThemes",
           "calibration_for",
           "cause_spans",
           "discover",
           "is_small_talk",
           "load_taxonomy",
           "train_from_csv",
]
