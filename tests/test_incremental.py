"""Incremental runs: a rerun with nothing new loads no model; anything the key derives from (stages,
code, model files, the themes model) changing makes the comments pending again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from voiceminer import jobs
from voiceminer.config import Settings
from voiceminer.engine import pipeline_fingerprint


def _export(path: Path, n: int) -> Path:
    rows = [f"{i},{'Great service' if i % 2 else 'Late delivery and cold food'} number {i},2026-03-0{1 + i % 9}"
            for i in range(n)]
    path.write_text("id,text,date\n" + "\n".join(rows) + "\n")
    return path


def test_a_rerun_with_nothing_pending_builds_no_pipeline(settings: Settings, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    export = _export(tmp_path / "a.csv", 30)
    assert jobs.mine(settings, [export]).analyse.analysed == 30
    built = []
    real = jobs.build_pipeline
    monkeypatch.setattr(jobs, "build_pipeline", lambda *a, **k: built.append(1) or real(*a, **k))
    again = jobs.mine(settings, [export])
    assert again.analyse.analysed == 0 and built == []  # the key came from the store: no model loaded
    assert [s.split("@")[0] for s in again.analyse.pipeline] == list(settings.pipeline)
    more = tmp_path / "c.csv"
    more.write_text("id,text,date\nnew-1,Brand new comment,2026-03-09\n")
    assert jobs.mine(settings, [more]).analyse.analysed == 1 and built == [1]


def test_another_pipeline_redoes_every_comment(settings: Settings, tmp_path: Path) -> None:
    export = _export(tmp_path / "a.csv", 20)
    jobs.mine(settings, [export])
    shorter = settings.with_(pipeline=("segment.sentencizer.v1",))
    assert jobs.analyse(shorter).analysed == 20
    assert jobs.analyse(shorter).analysed == 0
    assert jobs.analyse(settings).analysed == 20  # back to the first pipeline: its key again, redone


def test_the_fingerprint_follows_the_themes_model_and_taxonomy_files(tmp_path: Path) -> None:
    model = tmp_path / "themes"
    model.mkdir()
    (model / "config.json").write_text('{"thresholds": [0.5]}')
    taxonomy = tmp_path / "tax.yaml"
    taxonomy.write_text("themes: []\n")
    s = Settings(data_dir=tmp_path / "d", themes_model=model, taxonomy=taxonomy)
    first = pipeline_fingerprint(s)
    assert pipeline_fingerprint(s) == first
    (model / "config.json").write_text('{"thresholds": [0.6]}')  # retrained in place
    second = pipeline_fingerprint(s)
    assert second != first
    taxonomy.write_text("themes: [] # edited\n")
    assert pipeline_fingerprint(s) not in (first, second)
    assert pipeline_fingerprint(s.with_(shared_model="shared-v1")) != pipeline_fingerprint(s)


@pytest.mark.models
@pytest.mark.slow
def test_swapping_the_themes_model_changes_the_key_and_redoes_the_comments(tmp_path: Path) -> None:
    from voiceminer.models.shared import shared_path
    from voiceminer.pipeline.encode import load_shared
    from voiceminer.themes import ThemeModel, load_taxonomy

    encoder = load_shared(str(shared_path())).encoder_
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, encoder.dim)).astype(np.float32)
    y = [["delivery.late"], ["price"], ["staff.rude"]] * 20
    for name, C in (("a", 0.5), ("b", 4.0)):
        ThemeModel(C=C, cv_folds=2).fit(X, y, load_taxonomy(), encoder_key=encoder.key).save(tmp_path / name)
    settings = Settings(data_dir=tmp_path / "d", batch_size=50, themes_model=tmp_path / "a",
                        pipeline=("segment.sentencizer.v1", "encode.shared.v1", "themes.v1"))
    export = _export(tmp_path / "in.csv", 12)
    first = jobs.mine(settings, [export], report_formats=["json"])
    assert first.analyse.analysed == 12
    assert jobs.analyse(settings).analysed == 0
    swapped = jobs.analyse(settings.with_(themes_model=tmp_path / "b"))
    assert swapped.analysed == 12 and swapped.pipeline != first.analyse.pipeline
    # retrained in place: the folder's bytes change, so does the key
    shutil.rmtree(tmp_path / "a")
    shutil.copytree(tmp_path / "b", tmp_path / "a")
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    config["thresholds"] = [min(0.99, x + 0.05) for x in config["thresholds"]]
    (tmp_path / "a" / "config.json").write_text(json.dumps(config))
    retrained = jobs.analyse(settings)
    assert retrained.analysed == 12 and retrained.pipeline not in (first.analyse.pipeline, swapped.pipeline)


def test_a_rerun_reuses_the_report_until_something_it_reads_changes(settings: Settings, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer import report

    export = _export(tmp_path / "a.csv", 30)
    first = jobs.mine(settings, [export])
    built = []
    real = report.build_report
    monkeypatch.setattr(report, "build_report", lambda *a, **k: built.append(1) or real(*a, **k))
    again = jobs.mine(settings, [export])
    assert built == [] and again.report == first.report
    assert json.dumps(again.summary, default=str) == json.dumps(first.summary, default=str)
    Path(first.report["md"]).unlink()  # a file gone: written again
    jobs.mine(settings, [export])
    assert built == [1] and Path(first.report["md"]).exists()
    more = tmp_path / "c.csv"
    more.write_text("id,text,date\nnew-1,Brand new comment,2026-03-09\n")
    assert jobs.mine(settings, [more]).analyse.analysed == 1 and built == [1, 1]  # the store changed
    jobs.mine(settings.with_(report_period="month"), [export])
    assert built == [1, 1, 1]  # other settings
    jobs.mine(settings.with_(report_period="month"), [export])
    assert built == [1, 1, 1]
