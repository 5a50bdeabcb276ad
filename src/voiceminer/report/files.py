"""Report files are replaced whole or not at all.

A report (or ``mine``) killed while writing must never leave a truncated file under a report's
name: a later ``mine`` reuses the files of an unchanged report (:mod:`voiceminer.engine.reuse`)
and a reader opens whatever is there. Each file is written to a temporary name in the same
folder, flushed to disk, then renamed over the old one (atomic on POSIX and Windows).

>>> import tempfile
>>> from pathlib import Path
>>> p = Path(tempfile.mkdtemp()) / "r.md"
>>> atomic_write_text(p, "old")
>>> def broken(tmp):
...     tmp.write_text("half a rep")
...     raise OSError("disk full")
>>> try:
...     atomic_write(p, broken)
... except OSError:
...     pass
>>> p.read_text(), sorted(x.name for x in p.parent.iterdir())
('old', ['r.md'])
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "atomic_write_text"]


def atomic_write(path: Path, write: Callable[[Path], Any]) -> Path:
    """``write(tmp)`` fills a temporary file beside ``path``, which then replaces ``path``."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)  # mkstemp makes it 0600
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """``path.write_text(text, encoding="utf-8")``, replaced whole or not at all."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
