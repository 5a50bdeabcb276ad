"""Where the model artifacts live. Standard library only, so that finding the folder (the pipeline
key's fingerprint does, on every run) loads no numerical library."""

from __future__ import annotations

import os
from pathlib import Path

REPO_MODELS = Path(__file__).resolve().parents[3] / "models"


def models_dir() -> Path:
    """The project's ``models/`` folder (``VOICEMINER_MODELS`` overrides)."""
    return Path(os.environ.get("VOICEMINER_MODELS", REPO_MODELS))
