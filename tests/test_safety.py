"""Privacy redaction and spreadsheet-formula neutralisation."""

import pytest

from voiceminer.privacy import redact
from voiceminer.textsafety import safe_cell


@pytest.mark.parametrize("text, expected", [
    ("mail a.b+c@shop.co.uk now", "mail [EMAIL] now"),
    ("ring 020 7946 0958 today", "ring [PHONE] today"),
    ("ring +1 (415) 555-2671", "ring [PHONE]"),
    ("card 5500-0000-0000-0004 declined", "card [CARD] declined"),
    ("pay to GB82 WEST 1234 5698 7654 32", "pay to [IBAN]"),
    ("delivered 2026-09-28 at 14:22", "delivered 2026-09-28 at 14:22"),
    ("order 4411 1111 1111 1112 (bad Luhn) and #123456", "order 4411 1111 1111 1112 (bad Luhn) and #123456"),
    ("3 stars, £12.50 for 4 portions", "3 stars, £12.50 for 4 portions"),
])
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("value, expected", [
    ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
    ("+SUM(A1)", "'+SUM(A1)"), ("@cmd", "'@cmd"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("\t=1", "'\t=1"), ("-12.5", "-12.5"), ("+44", "+44"), ("fine text", "fine text"), (7, 7), ("", ""),
])
def test_safe_cell(value, expected) -> None:
    assert safe_cell(value) == expected
