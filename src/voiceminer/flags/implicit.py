"""Implicit need statements: a sentence that states a lack or an obstacle, said as the need.

A sentence without a need cue that the need head is sure of ("We finally installed it and
the straps are impossible to tighten") is an implicit need only through what it lacks; its
statement must say that need ("make the straps easier to tighten"), not retell the story
("instal it and the straps ..."). :func:`implicit_statement` looks at the sentence's clauses
(split where a new subject starts: ", and the", "; ", " but ") and rewrites the first one that
states an obstacle or a lack with a few explainable rules:

- "X is impossible / hard / a pain to V" -> "make X easier to V"
- "X is too small / slow / expensive ..." -> "make X bigger / faster / cheaper"; "too many X" -> "fewer X"
- "I can't / we're unable to V" -> "V"
- "X doesn't have / come with Y" -> "add Y"; "X doesn't support Y" -> "support Y"; "X doesn't fit" ->
  "make X fit"; "X is not supported" -> "support X"
- "there is no X", "there wasn't a X", "still no X", "X is missing", "lacks X", "it needs X" -> "add X"; "not enough X" -> "more X"

None when no clause does: a story ("We ordered twice and got the wrong size", "Veg was covered in mud"),
a bug report or a verdict states no need, and without an explicit cue such a sentence is no unmet need
(:func:`voiceminer.pipeline.heads.unmet_need`).

>>> implicit_statement("We finally installed it and the straps are impossible to tighten")
'make the straps easier to tighten'
>>> implicit_statement("The portions are way too small for the price.")
'make the portions bigger for the price'
>>> implicit_statement("Another update and still no iphone 6 support.")
'add iphone 6 support'
>>> implicit_statement("We ordered it twice last month.") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_FLAGS = re.IGNORECASE
# a new clause starts at ; . ! ? or where ", and" / "and" / "but" / "so" is followed by a new subject
_SPLIT = re.compile(r"[;.!?]+\s*|\s*,?\s+(?:and|but|so|because|although|though|while|since)\s+"
                    r"(?=(?:the|my|our|your|his|her|their|its|it|they|we|i|you|this|that|these|those|there|"
                    r"still|no|one)\b)|\s*,\s+(?=(?:the|my|our|it|they|we|i|this|there|still|no|can'?t|cannot)\b)", _FLAGS)
_BE = r"(?:is|are|was|were|'s|'re|seems?|seemed|looks?|felt|feels?)"
_INTENS = r"(?:(?:so|really|very|just|quite|rather|pretty|extremely|a\s+bit|a\s+little|almost|nearly|" \
          r"virtually|literally|way|far|much|still|also|always|often)\s+)*"
_SUBJECT = r"(?P<x>(?:[\w'&-]+\s+){0,6}?[\w'&-]+)"
_COMPARATIVE = {"small": "bigger", "big": "smaller", "large": "smaller", "expensive": "cheaper", "pricey": "cheaper",
                "dear": "cheaper", "slow": "faster", "long": "shorter", "short": "longer", "heavy": "lighter",
                "loud": "quieter", "hard": "easier", "difficult": "easier", "complicated": "simpler",
                "complex": "simpler", "late": "earlier", "early": "later", "thin": "thicker", "thick": "thinner",
                "tight": "looser", "loose": "tighter", "bright": "dimmer", "dark": "brighter", "narrow": "wider",
                "wide": "narrower", "low": "higher", "high": "lower", "few": "more", "weak": "stronger",
                "flimsy": "sturdier", "cold": "warmer", "hot": "cooler", "sweet": "less sweet",
                "salty": "less salty", "bulky": "smaller", "fragile": "sturdier", "cramped": "roomier"}
_CANT_NOT = {"believe", "wait", "recommend", "stand", "say", "thank", "tell", "understand", "imagine", "complain",
             "fault", "be", "get", "praise", "rate", "express", "describe", "stop", "help", "live", "beat"}
_PRONOUNS = {"it", "they", "this", "that", "these", "those", "he", "she", "them"}


_TAIL = re.compile(r"(?:,?\s+(?:though|too|as\s+well|please|pls|thanks|thank\s+you)\W*)+$", _FLAGS)


def _clean(text: str) -> str:
    return _TAIL.sub("", re.sub(r"\s+", " ", text).strip(" ,:;-\u2013.!?")).strip(" ,:;-\u2013.!?")


def _subject(x: str) -> str:
    """The subject as it reads mid-sentence: "The portions" -> "the portions" (not "iOS", "EU")."""
    x = x.strip()
    return x[:1].lower() + x[1:] if x[1:2].islower() else x


def _hard(m: re.Match[str]) -> str:
    return f"make {_subject(m['x'])} easier to {m['v']}"


def _too(m: re.Match[str]) -> str:
    adj = m["adj"].lower()
    comp = _COMPARATIVE.get(adj, f"less {adj}")
    return f"make {_subject(m['x'])} {comp}{m['rest']}"


def _too_many(m: re.Match[str]) -> str:
    return f"{'fewer' if m['q'].lower() == 'many' else 'less'} {m['n']}"


def _cant(m: re.Match[str]) -> str | None:
    verb = m["v"].split()[0].lower()
    return None if verb in _CANT_NOT else m["v"]


def _doesnt(m: re.Match[str]) -> str:
    verb, rest = m["verb"].lower(), m["rest"].strip()
    if verb in ("have", "include", "offer", "provide", "come with", "give"):
        return f"add {rest}" if rest else f"make {_subject(m['x'])} {verb}"
    if m["x"].lower() in _PRONOUNS or rest and verb not in ("fit", "hold", "stay", "close", "open"):
        return f"{verb} {rest}".strip()
    return f"make {_subject(m['x'])} {verb} {rest}".strip()


def _add(m: re.Match[str]) -> str:
    return f"add {m['n']}"


def _more(m: re.Match[str]) -> str:
    return f"more {m['n']}"


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = tuple(
    (re.compile(p, _FLAGS), build) for p, build in (
        ((rf"^{_SUBJECT}\s+{_BE}\s+{_INTENS}(?:impossible|hard|difficult|tricky|awkward|fiddly|confusing|"
          rf"a\s+(?:real\s+)?(?:pain|nightmare|struggle|hassle)|complicated|not\s+easy)\s+to\s+(?P<v>\w.*)$"), _hard),
        (rf"^{_SUBJECT}\s+{_BE}\s+{_INTENS}too\s+(?P<adj>[a-z-]+)\b(?P<rest>.*)$", _too),
        (r"\btoo\s+(?P<q>many|much)\s+(?P<n>\w.*)$", _too_many),
        ((r"\b(?:i|we|you|customers|users|one)\s+(?:still\s+|just\s+|simply\s+)?(?:can'?t|cannot|can\s+not|"
          r"couldn'?t|could\s+not|(?:am|'m|are|'re|was|were)\s+unable\s+to)\s+(?:even\s+|ever\s+)?(?P<v>\w.*)$"),
         _cant),
        ((rf"^{_SUBJECT}\s+(?:doesn'?t|does\s+not|don'?t|do\s+not|won'?t|will\s+not)\s+"
          r"(?:even\s+|always\s+|really\s+)?(?P<verb>have|include|offer|provide|come\s+with|give|support|show|let|"
          r"allow|fit|hold|stay|close|open|remember|save|sync|list|accept|work\s+with)\b(?P<rest>.*)$"), _doesnt),
        (r"\bthere(?:\s+(?:is|are|was|were)|'s)\s+(?:still\s+)?no\s+(?P<n>\w.*)$", _add),
        (r"\bthere\s+(?:isn'?t|aren'?t|wasn'?t|weren'?t|is\s+not|are\s+not|was\s+not|were\s+not)\s+(?:still\s+)?"
         r"(?:any|an?)\s+(?P<n>\w.*)$", _add),
        (r"(?:^(?:(?:and|but)\s+)?|\s[-:\u2013]\s*|\bstill\s+)no\s+(?P<n>\w.*)$", _add),
        (rf"^{_SUBJECT}\s+(?:is|are|was|were|'s|'re)\s+(?:still\s+|also\s+)?missing$", lambda m: f"add {_subject(m['x'])}"),
        (rf"^{_SUBJECT}\s+(?:is|are|isn't|aren't)\s+(?:still\s+)?(?:not\s+)?(?:yet\s+)?supported$",
         lambda m: f"support {_subject(m['x'])}"),
        (r"\b(?:lacks?|lacked|is\s+lacking|are\s+lacking|lacking)\s+(?:in\s+)?(?P<n>\w.*)$", _add),
        (r"\b(?:not\s+enough|too\s+few|too\s+little)\s+(?P<n>\w.*)$", _more),
        (rf"^(?:{_SUBJECT}\s+)?(?:still\s+|really\s+|desperately\s+|also\s+)?needs\s+(?!to\b)(?P<n>\w.*)$", _add),
    ))


def clauses(text: str) -> list[str]:
    """The sentence's clauses, where a new subject starts (see the module doc)."""
    return [c for c in (_clean(p) for p in _SPLIT.split(text.replace("\u2019", "'"))) if c]


@lru_cache(maxsize=8192)
def implicit_statement(text: str) -> str | None:
    """The need an obstacle or lack in ``text`` implies, or None (see the module doc); cached, since the
    needs stage asks it first and :func:`~voiceminer.flags.needs.need_statement` then words the need from it."""
    for clause in clauses(text):
        for regex, build in _RULES:
            m = regex.search(clause)
            if m and (statement := build(m)):
                return _clean(statement)
    return None
