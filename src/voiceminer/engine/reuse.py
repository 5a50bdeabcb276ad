"""What a rerun reuses: the last report, when nothing it is computed from has changed.

A report is a pure function of the store's content, the settings and the code (the report package
says so: same store and bounds, same report). :func:`report_basis` hashes those (the store's row
counts and latest change times, see :meth:`voiceminer.storage.Store.state_marks`; the settings; the
promises and taxonomy files; the package's files); :func:`reusable_report` returns the paths and
summary written for the same basis when every file is still there, so a weekly rerun on data
already mined does not recompute the figures. A report whose webhook delivery failed is not reused,
so the next run tries the delivery again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from ..storage import Store

STAMP = ".last-report.json"


def report_basis(settings: Settings, store: Store, formats: Sequence[str]) -> str:
    """sha256 of everything the report of ``settings`` over ``store`` is computed from."""
    from .. import __file__ as package_init
    from .keys import _hash_tree

    digest = hashlib.sha256(json.dumps({"store": store.state_marks(), "settings": repr(settings),
                                        "formats": sorted(formats)}, sort_keys=True).encode())
    for path in (Path(package_init).parent, settings.promises, settings.taxonomy):
        if path:
            _hash_tree(digest, Path(path))
    return digest.hexdigest()


def reusable_report(settings: Settings, basis: str) -> tuple[dict[str, str], dict[str, Any]] | None:
    """(paths, summary) of the report last written for ``basis``, or None."""
    try:
        stamp = json.loads((settings.reports_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stamp.get("basis") != basis or not all(Path(p).is_file() for p in stamp["paths"].values()):
        return None
    summary = stamp["summary"]
    webhook = summary.get("webhook") or {}
    if webhook.get("status") not in (None, "sent", "already sent"):
        return None
    if webhook:
        summary["webhook"] = {**webhook, "status": "already sent"}
    return stamp["paths"], summary


def remember_report(settings: Settings, basis: str, paths: dict[str, str], summary: dict[str, Any]) -> None:
    """Record the report written for ``basis`` (see :func:`reusable_report`)."""
    from ..report.files import atomic_write_text

    stamp = {"basis": basis, "paths": paths, "summary": summary}
    atomic_write_text(settings.reports_dir / STAMP, json.dumps(stamp, default=str))
