"""Redaction of personal data in customer text, applied before anything is stored
when ``redact_pii = true`` is set.

Emails, phone numbers, payment card numbers (Luhn-checked) and IBANs are replaced
by a typed placeholder, so analysts still see that a customer gave their number.

>>> redact("Call me on +44 7700 900123 or mail jo.bloggs@example.com")
'Call me on [PHONE] or mail [EMAIL]'
>>> redact("card 4111 1111 1111 1111, order 12345678")
'card [CARD], order 12345678'
"""

from __future__ import annotations

import re
from typing import Any

from .types import Comment

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ().-]{7,}\d\b")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[CARD]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[PHONE]" if 9 <= len(digits) <= 15 else match.group()


def redact(text: str) -> str:
    """Replace personal data in ``text`` with placeholders."""
    text = EMAIL.sub("[EMAIL]", text)
    text = IBAN.sub("[IBAN]", text)
    text = CARD.sub(_card, text)
    return PHONE.sub(_phone, text)


def redact_comment(comment: Comment) -> Comment:
    """The comment with its text and string metadata redacted (the id is kept)."""
    meta: dict[str, Any] = {k: redact(v) if isinstance(v, str) else v for k, v in comment.metadata.items()}
    return comment.with_(text=redact(comment.text), metadata=meta)
