"""With ``redact_pii`` on, nothing personal reaches the store, the ledger, the quarantine file or
the output of ``tag``; names included (one Redactor, so spaCy loads once per job)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from voiceminer import jobs, tagging
from voiceminer.config import LEXICON_PIPELINE, Settings

ROWS = [
    "id,date,text",
    "1,2026-10-05,Tom in customer service gave me his number 07700 900123 and never called back.",
    "2,call me on 07700 900456,Email jo.bloggs@example.com about card 4111 1111 1111 1111 please.",
    "3,2026-10-06,Deliver to 12 Baker Street London NW1 6XE next time - Sarah Jenkins",
]
SECRETS = ("Tom", "07700 900123", "07700 900456", "jo.bloggs@example.com", "4111 1111 1111 1111",
           "12 Baker Street", "NW1 6XE", "Sarah Jenkins")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.mark.slow
def test_ingest_redacts_text_ledger_and_quarantine(export: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", redact_pii=True, pipeline=LEXICON_PIPELINE)
    result = jobs.ingest(settings, [export])
    assert (result.counts.stored, result.counts.rejected) == (2, 1)
    store = jobs.open_store(settings)
    texts = sorted(c.text for c in store.iter_comments())
    assert texts == ["Deliver to [ADDRESS] next time - [NAME]",
                     "[NAME] in customer service gave me his number [PHONE] and never called back."]
    ledger = json.dumps(store.rejects(result.run_id)) + json.dumps(result.as_dict())
    assert "[PHONE]" in ledger and _leaks(ledger) == []
    with result.quarantine_file.open(encoding="utf-8") as fh:
        quarantined = list(csv.DictReader(fh))
    assert len(quarantined) == 1 and _leaks(json.dumps(quarantined)) == []
    assert "[EMAIL]" in quarantined[0]["raw"] and "[CARD]" in quarantined[0]["raw"]


def test_without_the_setting_nothing_is_redacted(export: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE)
    jobs.ingest(settings, [export])
    stored = " ".join(c.text for c in jobs.open_store(settings).iter_comments())
    assert "07700 900123" in stored and "Sarah Jenkins" in stored


@pytest.mark.slow
def test_tag_output_is_redacted(export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tagging, "TAG_PIPELINE", LEXICON_PIPELINE)  # the models are not what is tested
    out = tmp_path / "tags.jsonl"
    settings = Settings(data_dir=tmp_path / "data", redact_pii=True)
    result = tagging.tag(settings, [export], out)
    assert (result.tagged, result.rejected) == (2, 1)
    written = out.read_text(encoding="utf-8")
    assert "[PHONE]" in written and _leaks(written) == []
