"""PII redaction: each detector's checks, and the measured precision/recall with floors so a
regression fails (the same measurement as scripts/privacy_eval.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from voiceminer.privacy import Redactor, find_pii, iban_valid, redact, redact_comment
from voiceminer.types import Comment

ROOT = Path(__file__).resolve().parents[1]
CORPORA = sorted((ROOT / "tests" / "privacy").glob("pii_*.jsonl"))  # three development files and a holdout


def _eval_module() -> Any:
    spec = importlib.util.spec_from_file_location("privacy_eval", ROOT / "scripts" / "privacy_eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("text", "expected"), [
    ("card 4111 1111 1111 1111 declined", "card [CARD] declined"),
    ("card 4111 1111 1111 1112 declined", "card 4111 1111 1111 1112 declined"),  # fails Luhn
    ("order 4111111111111111 late", "order 4111111111111111 late"),  # an order reference, by its cue
    ("batch 9876543210987654", "batch 9876543210987654"),
    ("pay GB82 WEST 1234 5698 7654 32 please", "pay [IBAN] please"),
    ("pay GB82 WEST 1234 5698 7654 33 please", "pay GB82 WEST 1234 5698 7654 33 please"),  # mod-97 fails
    ("call 07700 900123 now", "call [PHONE] now"),
    ("order number is 100234567890", "order number is 100234567890"),
    ("delivered 2024-03-15 14:32", "delivered 2024-03-15 14:32"),
    ("price went from 1,299.00 to 1,499.00", "price went from 1,299.00 to 1,499.00"),
    ("sent to 12 Baker Street, London NW1 6XE today", "sent to [ADDRESS] today"),
    ("a 5 minute drive from 3 days the whole way", "a 5 minute drive from 3 days the whole way"),
    ("mail jo@example.com", "mail [EMAIL]"),
])
def test_regex_detectors(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_iban_check_digits() -> None:
    assert iban_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_valid("DE89 3704 0044 0532 0130 01")
    assert not iban_valid("DE12 ABCD 3456")


def test_spans_do_not_overlap_and_email_wins() -> None:
    spans = find_pii("Emily Carter, emily.carter@gmail.com, 27 Station Road, Bristol BS1 4DJ")
    assert [s.kind for s in spans] == ["email", "address"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


def test_redact_comment_covers_metadata_and_keeps_id() -> None:
    c = Comment(id="t:1", text="ring 07700 900123", source="t", metadata={"email": "a@b.com", "n": 3})
    out = redact_comment(c)
    assert (out.id, out.text, out.metadata) == ("t:1", "ring [PHONE]", {"email": "[EMAIL]", "n": 3})


def test_corpus_loader_rejects_a_span_not_in_the_text(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "hello", "pii": [["email", "x@y.com"]]}) + "\n")
    with pytest.raises(ValueError, match="not in the text"):
        _eval_module().load_corpus(bad)


def test_regex_kinds_meet_their_floors() -> None:
    """Emails, phones, cards and IBANs: precision and recall >= 0.9 on every corpus; addresses >= 0.8."""
    module = _eval_module()
    assert len(CORPORA) == 4
    for corpus in CORPORA:
        kinds = module.evaluate(module.load_corpus(corpus), Redactor(names=False))["kinds"]
        for kind in ("email", "phone", "card", "iban"):
            figures = kinds[kind]
            assert figures["recall"] >= 0.9 and figures["precision"] >= 0.9, (corpus.name, kind, figures)
        assert kinds["address"]["recall"] >= 0.8 and kinds["address"]["precision"] >= 0.8, kinds["address"]
        assert kinds["name"]["tp"] + kinds["name"]["fp"] == 0  # no names without the model


@pytest.mark.slow
def test_names_with_spacy_meet_their_floors() -> None:
    module, redactor = _eval_module(), Redactor()
    for corpus in CORPORA:
        result = module.evaluate(module.load_corpus(corpus), redactor)
        names = result["kinds"]["name"]
        assert names["recall"] >= 0.85 and names["precision"] >= 0.8, (corpus.name, names)
        assert result["leak"] <= 0.06, (corpus.name, result["leak"])


@pytest.mark.slow
def test_redactor_loads_spacy_lazily_once_per_object() -> None:
    r = Redactor(keep=("Evri",))
    assert r._nlp is None
    assert r.redact("Tom in customer service was rude") == "[NAME] in customer service was rude"
    nlp = r._nlp
    assert nlp is not None
    assert r.redact("Evri lost it, spoke to kevin about it") == "Evri lost it, spoke to [NAME] about it"
    assert r._nlp is nlp and Redactor()._nlp is None
    assert Redactor(names=False).redact("Tom in customer service") == "Tom in customer service"


@pytest.mark.slow
@pytest.mark.parametrize(("text", "expected"), [
    ("Order turned up early and everything was fine.", "Order turned up early and everything was fine."),
    ("Hi,\n\nBread was squashed flat.", "Hi,\n\nBread was squashed flat."),
    ("Sent proof ValueMart was cheaper.", "Sent proof ValueMart was cheaper."),
    ("Thank you Hearth & Harvest!", "Thank you Hearth & Harvest!"),
    ("The so-called price match guarantee is a joke.", "The so-called price match guarantee is a joke."),
    ("Customer called. Charged twice for one box.", "Customer called. Charged twice for one box."),
    ("Can someone call me back?\n\nMegan", "Can someone call me back?\n\n[NAME]"),
    ("Our driver Aisha is always so friendly", "Our driver [NAME] is always so friendly"),
    ("Spoke to someone called raj", "Spoke to someone called [NAME]"),
])
def test_names_in_customer_text(text: str, expected: str, redactor: Redactor) -> None:
    assert redactor.redact(text) == expected


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()
