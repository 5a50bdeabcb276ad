"""Hostile and malformed input: every file ends as a clear InputError naming it, or as rows that
are stored, duplicates or quarantined with a reason; the ledger always adds up; memory stays
bounded; and property-based tests (hypothesis) check every collector's row accounting."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from voiceminer import jobs
from voiceminer.collectors import collect
from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.errors import InputError
from voiceminer.types import Comment, Reject, normalize_text

NASTY = Path(__file__).with_name("nasty")
EXPECTED_ERRORS = {"notjson.json": "invalid JSON", "number.json": "expected a JSON array",
                   "notaspreadsheet.xlsx": "cannot open as an .xlsx workbook"}


def _ingest(tmp_path: Path, path: Path, db_url: str | None = None):
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE,
                        **({"database_url": db_url} if db_url else {}))
    store = jobs.open_store(settings)
    return jobs.ingest(settings, [path], store=store), store


@pytest.mark.parametrize("name", sorted(p.name for p in NASTY.iterdir() if p.name != "README.md"))
def test_each_nasty_file_is_accounted_for(name: str, db_url: str, tmp_path: Path) -> None:
    path = NASTY / name
    if name in EXPECTED_ERRORS:
        with pytest.raises(InputError, match=EXPECTED_ERRORS[name]) as err:
            _ingest(tmp_path, path, db_url)
        assert name in str(err.value)  # the message names the file
        return
    result, store = _ingest(tmp_path, path, db_url)
    counts = result.counts
    assert counts.rows == counts.stored + counts.duplicate + counts.rejected
    assert store.ledger_counts(result.run_id) == {"stored": counts.stored, "duplicate": counts.duplicate,
                                                  "rejected": counts.rejected}
    assert all(r["reason"] for r in store.rejects(result.run_id))
    for comment in store.iter_comments():
        assert "\x00" not in comment.text and "\u202e" not in comment.text and "\u200b" not in comment.text


def test_what_the_nasty_files_become(tmp_path: Path) -> None:
    def items(name: str) -> list:
        return list(collect([NASTY / name]))

    truncated = items("truncated.csv")
    assert [type(i).__name__ for i in truncated] == ["Comment", "Reject"]
    assert "unterminated quote" in truncated[1].reason and truncated[1].line == 3
    assert [i.text for i in items("mixed.csv")] == ["café ok", "naïve cp1252"]
    nul = items("nul.csv")
    assert nul[0].text == "hello" and isinstance(nul[1], Reject) and nul[1].reason == "empty text"
    weird = {i.id.split(":")[-1]: i.text for i in items("weird.csv")}
    assert weird["1"] == "evil rtl text" and weird["2"] == "zerowidth\u200d"  # joiners stay (emoji need them)
    assert weird["3"].startswith("👩\u200d👩") and weird["4"] == "<script>alert(1)</script>"
    dates = [i for i in items("dates.csv") if isinstance(i, Reject)]
    assert sorted(r.reason.split(" is ")[1] for r in dates) == ["implausibly old (before 2000-01-01)", "in the future"]
    dupes, store = _ingest(tmp_path, NASTY / "dupes.csv")
    assert (dupes.counts.stored, dupes.counts.duplicate) == (1, 1)
    assert [c.text for c in store.iter_comments()] == ["first text"]


def test_injection_text_is_stored_verbatim_and_queries_stay_parameterised(tmp_path: Path) -> None:
    result, store = _ingest(tmp_path, NASTY / "weird.csv")
    texts = {c.text for c in store.iter_comments()}
    assert "'; DROP TABLE comments; --" in texts and len(texts) == result.counts.stored == 7


def test_large_inputs_keep_memory_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("id,text\n1," + "x" * (10 * 1024 * 1024) + "\n2,short one\n", encoding="utf-8")
    blank = tmp_path / "blank.csv"
    blank.write_text("id,text\n" + "\n" * 1_000_000 + "1,after a million blank lines\n", encoding="utf-8")
    tracemalloc.start()
    try:
        out = list(collect([big]))
        assert isinstance(out[0], Reject) and "over the limit" in out[0].reason and len(out[0].raw) <= 500
        assert out[1].text == "short one"
        lines = list(collect([blank]))
        assert len(lines) == 1 and lines[0].source_line == 1_000_002
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MB"


def _xlsx_bytes(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
        for cell in book.active[book.active.max_row]:
            if isinstance(cell.value, str):  # text as a spreadsheet stores it: openpyxl would make "=0" a formula
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_zip_bomb_and_truncated_workbooks_are_refused_before_expanding(tmp_path: Path) -> None:
    good = _xlsx_bytes([["id", "text"], [1, "hello"]])
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError, match="cannot open as an .xlsx workbook"):
        list(collect([truncated]))
    src = zipfile.ZipFile(io.BytesIO(good))
    bomb_bytes = io.BytesIO()
    with zipfile.ZipFile(bomb_bytes, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="3"><c r="A3" t="inlineStr"><is><t>'
                                    + b"A" * (64 * 2**20) + b"</t></is></c></row></sheetData>")
            out.writestr(item, data)
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(bomb_bytes.getvalue())
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="zip bomb"):
            list(collect([bomb]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


# -- property-based: any text, any format, the rows always add up ---------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


def _write(fmt: str, path: Path, texts: list[str]) -> None:
    if fmt in ("csv", "tsv"):
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter="," if fmt == "csv" else "\t")
            writer.writerow(["id", "text"])
            writer.writerows([[i, t] for i, t in enumerate(texts)])
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)), "utf-8")
    elif fmt == "json":
        path.write_text(json.dumps([{"id": i, "text": t} for i, t in enumerate(texts)]), "utf-8")
    else:
        path.write_bytes(_xlsx_bytes([["id", "text"], *[[i, t] for i, t in enumerate(texts)]]))


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json", "xlsx"])
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=8))
def test_every_row_is_a_comment_or_a_reject(fmt: str, texts: list[str], tmp_path: Path) -> None:
    if fmt == "xlsx":  # spreadsheet cells cannot hold control characters
        texts = [t.translate(dict.fromkeys([*range(0, 32), 127])) for t in texts]
    path = tmp_path / f"in.{fmt}"
    _write(fmt, path, texts)
    items = list(collect([path]))
    comments = [i for i in items if isinstance(i, Comment)]
    rejects = [i for i in items if isinstance(i, Reject)]
    expected = [normalize_text(t) for t in texts]
    assert len(items) == len(texts)  # every row carries an id, so none is blank
    assert [c.text for c in comments] == [t for t in expected if t]
    assert all(r.reason == "empty text" for r in rejects)


@hsettings(max_examples=40, deadline=None)
@given(text=st.text(max_size=200))
def test_normalised_text_is_stable_and_clean(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert not any(ord(ch) < 32 and ch not in "\t\n" for ch in once)
    assert "\u202e" not in once and "\ufeff" not in once
