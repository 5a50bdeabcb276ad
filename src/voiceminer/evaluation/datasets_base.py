"""Core of the labeled-dataset loaders: the :class:`Example` record, where the
data lives, and the deterministic train/validation split.

The split is a function of the text alone (sha256 of the casefolded,
whitespace-collapsed text), so the same sentence lands on the same side in
every dataset and in every run: a sentence duplicated across corpora (e.g.
SemEval-2015 and -2016 restaurants) can never leak from train into val.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceminer.errors import VoiceMinerError

ENV_VAR = "VOICEMINER_DATASETS"
SPLITS = ("train", "val")


@dataclass(frozen=True)
class Example:
    """One labeled text. ``label`` is a string, or a sorted tuple for multi-label."""

    text: str
    label: str | tuple[str, ...]
    dataset: str
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)


class DatasetMissing(VoiceMinerError):
    """The labeled datasets folder (or one corpus inside it) is not there."""

    exit_code = 3


def _repo_root() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return None


def _missing_message(what: str, looked: Iterable[Path]) -> str:
    places = ", ".join(str(p) for p in looked)
    return (
        f"{what} not found (looked for: {places}). Point the loaders at the folder "
        f"that holds the labeled corpora (semeval2014_absa/, twitter_airline_sentiment/, ...) "
        f"by passing root=... or setting {ENV_VAR}=/path/to/datasets; the default is "
        f"../shared/datasets next to the project root."
    )


def datasets_root(path: str | Path | None = None) -> Path:
    """The datasets folder: ``path`` > ``$VOICEMINER_DATASETS`` > ``<repo>/../shared/datasets``
    > ``<cwd>/../shared/datasets``. An explicit path or env value that does not exist is an
    error (no silent fallback). Raises :class:`DatasetMissing`."""
    if path is not None or os.environ.get(ENV_VAR):
        chosen = Path(path if path is not None else os.environ[ENV_VAR]).expanduser()
        if chosen.is_dir():
            return chosen.resolve()
        source = "the given path" if path is not None else f"${ENV_VAR}"
        raise DatasetMissing(_missing_message(f"labeled datasets folder ({source})", [chosen]))
    candidates: list[Path] = []
    repo = _repo_root()
    if repo is not None:
        candidates.append(repo.parent / "shared" / "datasets")
    candidates.append(Path.cwd().parent / "shared" / "datasets")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    raise DatasetMissing(_missing_message("labeled datasets folder", dict.fromkeys(candidates)))


def corpus_dir(root: Path | None, name: str) -> Path:
    """``<datasets root>/<name>``, or :class:`DatasetMissing` naming it."""
    folder = datasets_root(root) / name
    if not folder.is_dir():
        raise DatasetMissing(_missing_message(f"corpus folder {name!r}", [folder]))
    return folder


def corpus_file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise DatasetMissing(_missing_message(f"data file {name!r}", [path]))
    return path


def normalize(text: str) -> str:
    """Casefolded, whitespace-collapsed text: the key for splitting and dedup."""
    return " ".join(text.casefold().split())


def split_of(text: str, val_fraction: float = 0.2) -> str:
    """``"train"`` or ``"val"``, from sha256 of the normalized text. Monotone in
    ``val_fraction``: a text in val at 0.2 stays in val at 0.3."""
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be within [0, 1], got {val_fraction!r}")
    digest = hashlib.sha256(normalize(text).encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "val" if position < val_fraction else "train"


def in_tune_slice(text: str) -> bool:
    """About 8% of the train split, chosen by hash: held out of the shared models' training to
    pick their thresholds and the sentiment companion's weight (``scripts/train_shared.py``,
    ``scripts/fit_sentiment_companion.py``)."""
    return hashlib.sha256(("tune|" + " ".join(text.casefold().split())).encode()).digest()[0] < 20


def split(examples: Sequence[Example], which: str, val_fraction: float = 0.2) -> list[Example]:
    """The examples of one side (``"train"`` or ``"val"``), order kept."""
    if which not in SPLITS:
        raise ValueError(f"which must be one of {SPLITS}, got {which!r}")
    return [ex for ex in examples if split_of(ex.text, val_fraction) == which]


def finalize(examples: Iterable[Example]) -> list[Example]:
    """Strip texts, drop empty ones, and drop repeats of a (normalized text, label) pair
    within one dataset (the first occurrence is kept, so the order stays deterministic)."""
    seen: set[tuple[str, str, str | tuple[str, ...]]] = set()
    out: list[Example] = []
    for ex in examples:
        text = ex.text.strip()
        if not text:
            continue
        key = (ex.dataset, normalize(text), ex.label)
        if key in seen:
            continue
        seen.add(key)
        out.append(ex if text == ex.text else Example(text, ex.label, ex.dataset, ex.meta))
    return out
