"""What a rerun of the weekly job costs (issue 16.3: under 5% of the first run): a `voiceminer mine`
on data already mined still ingests every row (as duplicates), checks that nothing is pending under the
current pipeline key and returns the same report, but imports no numerical or model library and no
Alembic. Each check runs the real command in a child process and reads what that process imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from voiceminer.config import Settings

# Libraries the first run needs (models, the report's frames, migrations) and a rerun with nothing new
# must not load: each costs a tenth of a second to seconds of a rerun that is mostly process start.
HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "torch", "transformers", "onnxruntime", "spacy",
         "vaderSentiment", "openpyxl", "matplotlib", "plotly", "alembic", "rich", "voiceminer.pipeline",
         "voiceminer.flags", "voiceminer.aggregate", "voiceminer.report", "voiceminer.models.shared")

# Runs the CLI like the `voiceminer` script and writes the names of the modules it imported to argv[1].
DRIVER = """
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from voiceminer.cli.main import main
sys.argv[0] = "voiceminer"
main()
"""


def _export(path: Path, n: int) -> Path:
    rows = [f"{i},{'Great service and thanks' if i % 3 else 'Late delivery and the food was cold'} {i},"
            f"2026-03-{1 + i % 20:02d}" for i in range(n)]
    path.write_text("id,text,date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _mine(tmp_path: Path, export: Path, name: str, env: dict[str, str]) -> tuple[dict, set[str]]:
    """One `voiceminer mine --json` in a new process: its summary and the modules it imported."""
    modules = tmp_path / f"{name}.modules.json"
    done = subprocess.run([sys.executable, "-c", DRIVER, str(modules), "--data-dir", str(tmp_path / "data"),
                           "mine", str(export), "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), set(json.loads(modules.read_text()))


def _heavy(modules: set[str]) -> list[str]:
    """The entries of HEAVY that ``modules`` holds (the library or any of its submodules)."""
    return sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))


def _check_rerun(tmp_path: Path, env: dict[str, str], first_needs: tuple[str, ...]) -> None:
    export = _export(tmp_path / "a.csv", 40)
    first, first_modules = _mine(tmp_path, export, "first", env)
    assert first["ingest"]["stored"] == 40 and first["analyse"]["analysed"] == 40
    # the probe sees imports: the first run loaded what it needed
    assert set(first_needs) <= set(_heavy(first_modules)), _heavy(first_modules)
    again, modules = _mine(tmp_path, export, "again", env)
    assert again["ingest"]["rows"] == 40 and again["ingest"]["duplicate"] == 40 and again["ingest"]["stored"] == 0
    assert again["analyse"]["analysed"] == 0 and again["analyse"]["pipeline"] == first["analyse"]["pipeline"]
    assert again["report"] == first["report"] and again["summary"] == first["summary"]
    assert _heavy(modules) == [], f"a rerun with nothing new imported {_heavy(modules)}"


def test_a_rerun_imports_no_heavy_library(tmp_path: Path) -> None:
    # the lexicon pipeline (conftest sets VOICEMINER_PIPELINE): VADER, numpy and pandas on the first run
    _check_rerun(tmp_path, dict(os.environ), ("numpy", "pandas", "vaderSentiment", "alembic", "voiceminer.pipeline"))


@pytest.mark.models
@pytest.mark.slow
def test_a_rerun_of_the_default_pipeline_loads_no_model(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VOICEMINER_PIPELINE"}  # the default pipeline
    _check_rerun(tmp_path, env, ("numpy", "pandas", "onnxruntime", "voiceminer.models.shared"))


def test_config_names_the_cue_kinds_of_the_flags() -> None:
    from voiceminer.config import CUE_KINDS
    from voiceminer.flags.cues import KINDS

    assert CUE_KINDS == KINDS


def test_case_cues_are_still_checked() -> None:
    from voiceminer.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown cue 'anger'"):
        Settings(data_dir="/tmp/vm-unused", case_cues=("churn", "anger"))


def test_head_revision_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from voiceminer.storage.store import MIGRATIONS, head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert [head_revision()] == ScriptDirectory.from_config(cfg).get_heads()


def test_a_store_behind_the_newest_migration_is_still_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from voiceminer.storage import Store
    from voiceminer.storage.store import MIGRATIONS, head_revision

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store.open(url, migrate=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")  # a store written by the first release
    assert old.schema_revision() == "0001"
    assert Store.open(url).schema_revision() == head_revision() != "0001"


def test_head_revision_gives_way_to_alembic_on_a_branch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer.storage import store

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision: str = "b"\ndown_revision = "a"\n')
    monkeypatch.setattr(store, "MIGRATIONS", tmp_path)
    store.head_revision.cache_clear()
    try:
        assert store.head_revision() == "b"
        (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')  # a second head
        store.head_revision.cache_clear()
        assert store.head_revision() is None
        (versions / "c.py").write_text('revision = "c"\ndown_revision = ("a", "b")\n')  # a merge
        store.head_revision.cache_clear()
        assert store.head_revision() is None
    finally:
        store.head_revision.cache_clear()


def test_the_fingerprint_follows_a_stage_registered_from_outside_the_package(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer.engine import pipeline_fingerprint
    from voiceminer.registry import stages

    plugin = tmp_path / "vm_rerun_plugin.py"
    plugin.write_text("def make():\n    return None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import vm_rerun_plugin

    monkeypatch.setitem(stages._items, "test.rerun-plugin.v1", vm_rerun_plugin.make)
    s = Settings(data_dir=tmp_path / "d", pipeline=("segment.sentencizer.v1", "test.rerun-plugin.v1"))
    first = pipeline_fingerprint(s)
    plugin.write_text("def make():\n    return 1\n")  # the stage's code changed
    assert pipeline_fingerprint(s) != first


def _themes_model(tmp_path: Path) -> tuple[Settings, Path]:
    model = tmp_path / "themes"
    model.mkdir()
    weights = model / "weights.bin"
    weights.write_bytes(b"\1" * (3 * 2**20))  # large enough for its digest to be remembered
    return Settings(data_dir=tmp_path / "data", themes_model=model), weights


def test_the_fingerprint_remembers_large_files_and_sees_them_change(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from voiceminer.engine import keys

    s, weights = _themes_model(tmp_path)
    s.data_dir.mkdir()
    monkeypatch.setattr(keys, "_SETTLED_NS", 0)  # the files here were written a moment ago
    read = []
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda fh, name: read.append(Path(fh.name).name) or real(fh, name))
    first = keys.pipeline_fingerprint(s)
    assert "weights.bin" in read and (s.data_dir / keys.DIGESTS).is_file()
    read.clear()
    assert keys.pipeline_fingerprint(s) == first and "weights.bin" not in read  # remembered, not read
    before = weights.stat()
    import time

    time.sleep(0.05)  # past the file clock's tick
    weights.write_bytes(b"\2" * (3 * 2**20))  # retrained in place: same size ...
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))  # ... and its old modification time
    assert keys.pipeline_fingerprint(s) != first and "weights.bin" in read
    # the record changes nothing but the reading: without it, the same fingerprint
    assert keys.pipeline_fingerprint(s.with_(data_dir=tmp_path / "elsewhere")) == keys.pipeline_fingerprint(s)


def test_a_file_changed_just_now_is_not_remembered(tmp_path: Path) -> None:
    from voiceminer.engine import keys

    s, weights = _themes_model(tmp_path)
    s.data_dir.mkdir()
    first = keys.pipeline_fingerprint(s)
    weights.write_bytes(b"\2" * (3 * 2**20))  # possibly within the same tick of the file clock
    assert keys.pipeline_fingerprint(s) != first
    record = s.data_dir / keys.DIGESTS  # it may hold the shipped models' files, written long ago
    assert not record.exists() or not [k for k in json.loads(record.read_text()) if k.endswith("weights.bin")]


def test_the_fingerprint_loads_the_plugins_to_find_their_stages(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer import registry
    from voiceminer.engine import pipeline_fingerprint

    plugin = tmp_path / "vm_rerun_ep_plugin.py"
    code = "from voiceminer.registry import stages\n\n\n@stages.register('test.rerun-ep.v1')\ndef make():\n    return {}\n"
    plugin.write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))

    class EntryPoint:  # what an installed plugin package declares in the voiceminer.plugins group
        def load(self) -> object:
            import vm_rerun_ep_plugin

            return vm_rerun_ep_plugin

    monkeypatch.setattr(registry, "_plugin_entry_points", [EntryPoint()])
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry.stages, "_items", dict(registry.stages._items))  # registrations undone after
    s = Settings(data_dir=tmp_path / "d", pipeline=("segment.sentencizer.v1", "test.rerun-ep.v1"))
    assert not registry.stages.registered_now("test.rerun-ep.v1")
    first = pipeline_fingerprint(s)
    assert registry.stages.registered_now("test.rerun-ep.v1")  # loaded to find its file
    plugin.write_text(code.replace("return {}", "return {'v': 2}"))
    assert pipeline_fingerprint(s) != first
