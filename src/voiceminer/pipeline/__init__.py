"""The mining pipeline: stage protocol, runner and the built-in stages.

Importing this package registers the built-in stages in ``voiceminer.registry.stages``.
"""

from . import encode, heads, keywords, language, segment, sentiment, themes  # noqa: F401  (registers the built-in stages)
from .base import Analysed, Pipeline, Stage, StageContext, register_stage

__all__ = ["Analysed", "Pipeline", "Stage", "StageContext", "register_stage"]
