"""Test-only stage for the Dask engine tests: it kills its own worker process, once, on a marked comment.

Imported by the tests and, through :class:`RegisterStages`, by every Dask worker (also a worker the
nanny restarts), so the stage is known wherever the pipeline is built.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from distributed import WorkerPlugin

from voiceminer.pipeline.base import Analysed, register_stage

KILL_MARK = "[kill-this-worker]"


def marker(comment_id: str) -> Path:
    """The file whose existence says the worker was already killed on this comment."""
    return Path(tempfile.gettempdir()) / f"vm-kill-{comment_id.replace(':', '_')}"


@register_stage
class KillOnceStage:
    """Passes every batch through; a comment with KILL_MARK ends the process the first time it is seen."""

    name: ClassVar[str] = "test.kill_once.v1"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("sentences",)
    produces: ClassVar[tuple[str, ...]] = ()

    def load(self) -> KillOnceStage:
        return self

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        for a in batch:
            if KILL_MARK in a.comment.text and not marker(a.comment.id).exists():
                marker(a.comment.id).write_text("killed")
                os._exit(1)  # the worker process dies mid-unit, holding its claim
        return list(batch)


class RegisterStages(WorkerPlugin):
    """Unpickling this plugin on a worker imports this module, which registers the stage there."""

    def setup(self, worker: object) -> None:
        pass
