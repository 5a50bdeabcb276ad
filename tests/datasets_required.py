"""The labeled datasets for tests that read them: a skip where they are missing, a failure on CI.

On CI (``CI`` set, as ``.ci/run`` runs) a missing folder must not turn every dataset test
into a pass-by-skip; elsewhere (a laptop without ../shared/datasets) it is a skip that says why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def datasets_or_skip(*parts: str) -> Path:
    """``datasets_root()`` (joined with ``parts``, which must exist); skip, or fail on CI, when missing."""
    from voiceminer.evaluation.datasets import DatasetMissing, datasets_root

    try:
        return datasets_root().joinpath(*parts).resolve(strict=True)
    except (DatasetMissing, FileNotFoundError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the labeled datasets are required on CI: {exc}")
        pytest.skip(f"labeled datasets not available: {exc}")
