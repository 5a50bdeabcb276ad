"""Explainable cue detection: churn, urgency, safety, legal and vulnerability phrases.

``flags.cues.v1`` finds short phrases that a support lead wants surfaced whatever the
trained heads say. Every cue carries its character span into the text, so
``text[start:end] == cue.phrase`` always holds.

Why compiled regexes and not spaCy's ``Matcher``: the cues are short, fixed phrases
whose inflections are listed explicitly, regexes give character spans directly, and
they need no tokenizer pass (about 20x faster than ``spacy.blank("en")`` + Matcher on
short comments). Patterns are case-insensitive; the few that need case (``sue`` vs.
the name ``Sue``, brand names after "switching to") use ``(?-i:...)``.

Decisions worth knowing:

- **Company-side actions are not churn.** "The flight was cancelled", "they cancelled
  my order", "you cancelled my subscription without telling me" give no churn cue:
  the cancel patterns need a possessive object ("my subscription") or a first-person
  threat ("I'm going to cancel"), and a third-person agent (they/he/she/it, or "you"
  with a past-tense verb) or a trailing "without telling me" vetoes the match.
  "Can you cancel my subscription" is a request, so it *is* churn.
- **Cancelling one order is weak churn.** "I cancelled my order because it was late"
  is a lost sale and an unhappy customer, but not the account-level exit that
  "cancelling my subscription" is, so it gets ``strength="weak"``; so does
  "unsubscribe" (usually marketing e-mail). :mod:`.priority` weighs weak churn like
  urgency, not like a real churn threat.
- **Negation.** A negator shortly before the cue in the same clause ("not",
  "n't", "never", "no", "nobody", "without", "no intention of", "not planning to")
  cancels it: "not cancelling", "no intention of switching", "nobody was hurt",
  "nothing urgent". Only a short list of filler words may sit between the negator
  and the cue, so "I can't believe I got food poisoning" keeps its cue. Phrases that
  contain their own negation ("never ordering again", "no response", "not safe")
  are matched as a whole and are not vetoed by it.
- **Deliberately left out:** "scam" (mostly hyperbole about prices), bare "fire"
  (Fire TV), bare "court" (food court), "moving to <Place>" (moving house), bare
  "today" (only "by today", "need it today" count), "anxiety"/"depression" (mostly
  figurative).

>>> [(c.kind, c.phrase) for c in find_cues("I'm cancelling my subscription and switching to Ocado.")]
[('churn', 'cancelling my subscription'), ('churn', 'switching to Ocado')]
>>> find_cues("The flight was cancelled, not cancelling my membership though.")
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

__all__ = ["KINDS", "NAME", "VERSION", "Cue", "find_cues"]

NAME = "flags.cues.v1"
VERSION = "1.0.0"
KINDS = ("churn", "urgency", "safety", "legal", "vulnerability")
Strength = Literal["strong", "weak"]


@dataclass(frozen=True)
class Cue:
    """One cue phrase: its kind, character span into the text, and the phrase itself.

    ``strength`` is "strong" except for weak churn (one cancelled order, unsubscribe).

    >>> Cue("legal", (0, 6), "lawyer")
    Cue(kind='legal', span=(0, 6), phrase='lawyer', strength='strong')
    """

    kind: str
    span: tuple[int, int]
    phrase: str
    strength: Strength = "strong"


class _Rule(NamedTuple):
    kind: str
    strength: Strength
    patterns: tuple[re.Pattern[str], ...]
    gate: re.Pattern[str]  # all patterns in one alternation: a cheap "anything here?" test
    agent_check: bool = False  # veto when a third party did it ("they cancelled my order")


_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|a\s+few|few)"
_CANCEL = r"cancel(?:l?ed|l?ing|s)?"
_END = rf"(?:{_CANCEL}|terminat(?:e|ed|es|ing)|end(?:ed|ing|s)?|clos(?:e|ed|es|ing)|delet(?:e|ed|es|ing)|quit(?:ting|s)?)"
_DET = r"(?:my|our|the|this|that)"
_MOD = r"(?:\s+[\w'-]+){0,3}?"
_STRONG_OBJ = r"(?:subscriptions?|account|membership|contract|plan|direct\s+debit|standing\s+order|policy|sub)"
_WEAK_OBJ = r"(?:orders?|booking|appointment|delivery|deliveries|purchase|reservation|items?|trial|box)"
_BIZ = r"(?:provider|supplier|company|bank|network|service|shop|store|retailer|brand|app|platform|one|airline|courier|broadband|gym|insurer|supermarket)s?"
_RIVAL_GENERIC = (r"(?:another|a\s+different|a\s+new|a\s+rival|a\s+competitor|a\s+cheaper|your\s+competitors?"
                  rf"|the\s+competition)(?:\s+(?:[\w-]+\s+)?{_BIZ})?")
_RIVAL = rf"(?:{_RIVAL_GENERIC}|(?-i:[A-Z][\w&'-]*)(?:\s+(?-i:[A-Z][\w&'-]*))?)"
_FIRST = r"\b(?:i|we)(?:'ll|'m|'ve|'d|\s+will|\s+shall|\s+am|\s+are|\s+have|\s+had|\s+would)?"
_THREAT_FILL = r"(?:\s+(?:just|already|now|definitely|probably|might|may|must|want|wanna|going|gonna|to|like|need|be|really|seriously|about|thinking|considering|of|will|soon|have|had))*"
_NO_OBJ = r"\b(?!\s+(?:my|our|the|this|that|a|an|it|them|his|her|their|your)\b)"

# Things the customer does (cancel, switch, move, leave): vetoed when someone else did them.
_CHURN_ACTION = [
    rf"\b{_END}\s+{_DET}{_MOD}\s+{_STRONG_OBJ}\b",
    rf"\bswitch(?:ing|ed|es)?\s+(?:over\s+)?to\s+{_RIVAL}",
    rf"\bswitch(?:ing|ed)?\s+{_BIZ}\b",
    r"\bmov(?:e|ed|ing)\s+my\s+(?:account|business|custom|money|savings|mortgage)\s+(?:over\s+)?to\b",
    (rf"\bmov(?:e|ed|ing)\s+(?:my\s+(?:account|business|custom|money|subscription|savings|mortgage|everything)\s+)?"
    rf"(?:over\s+to\s+{_RIVAL}|to\s+{_RIVAL_GENERIC})"),
    rf"\b(?:find|found|finding|use|using|try|trying|go|going)\s+(?:to\s+)?(?:another|a\s+different|a\s+new|a\s+competitor|a\s+rival)\s+(?:[\w-]+\s+)?{_BIZ}\b",
    r"\b(?:go(?:ing)?|shop(?:ping)?|look(?:ing)?|buy(?:ing)?|order(?:ing)?)\s+elsewhere\b",
    r"\btak(?:e|ing|en)\s+my\s+(?:business|custom|money|orders?)\s+(?:elsewhere|somewhere\s+else|to\b)",
    r"\bleav(?:e|ing)\s+(?:you(?:\s+guys)?|this\s+(?:company|bank|provider|supplier|network|service|shop|store))\b",
    r"\bport(?:ing)?\s+my\s+number\b",
]
# Statements and threats that carry their own subject or need none.
_CHURN_STATEMENT = [
    rf"{_FIRST}{_THREAT_FILL}\s+{_CANCEL}{_NO_OBJ}",
    rf"\b(?:considering|thinking\s+(?:of|about)|about\s+to|going\s+to|gonna|want\s+to|wanna|ready\s+to|tempted\s+to)\s+{_CANCEL}{_NO_OBJ}",
    r"\bhow\s+(?:do\s+i|can\s+i|to|do\s+we|can\s+we)\s+cancel\b",
    r"\bnever\s+again\b",
    r"\b(?:never|won'?t|will\s+not|not\s+going\s+to|shan'?t)\s+(?:be\s+|ever\s+)?(?:order|buy|shop|use|book|return|come|recommend|purchase|deal|fly|stay|eat|visit)\w*\b[^.!?\n]{0,40}?\b(?:again|anymore|any\s+more)\b",
    r"\bno\s+longer\s+(?:be\s+)?(?:a\s+customer|using|ordering|buying|shopping|use|order|shop)\b",
    r"(?:(?<=\bis\s)|(?<='s\s)|(?<=\bwas\s)|(?<=\bbe\s))(?:the|my|our)\s+(?:very\s+)?last\s+(?:time|order|purchase)\b",
    r"\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:so\s+|totally\s+|completely\s+|absolutely\s+)?(?:done|finished|through)\s+with\s+(?:you|your|this|these|them|(?-i:[A-Z]\w+))\b",
    r"\bdone\s+with\s+you\b",
    r"\blost\s+(?:a|another|one|me\s+as\s+a|my)\s+(?:\w+\s+)?(?:customer|custom|client|business)\b",
    r"\b(?:ex-customer|former\s+customer)\b",
]
_CHURN_WEAK = [
    rf"\b{_CANCEL}\s+{_DET}{_MOD}\s+{_WEAK_OBJ}\b",
    r"\bunsubscrib(?:e|ed|es|ing)\b",
]
_URGENCY = [
    r"\burgen(?:t|tly|cy)\b", r"\basap\b", r"\bas\s+soon\s+as\s+possible\b", r"\bimmediate(?:ly)?\b",
    r"\bright\s+away\b", r"\bemergency\b", r"\btime[- ]sensitive\b", r"\bdeadline\b",
    r"\bescalat(?:e|ed|es|ing|ion)\b", r"\blast\s+chance\b",
    (r"\bstill\s+(?:waiting|not\s+(?:received|arrived|heard|fixed|resolved|sorted|refunded)"
    r"|haven'?t\s+(?:received|heard|had|got)|no\s+(?:sign|refund|reply|response|word|news|update))\b"),
    rf"\b(?:waiting|waited|been\s+waiting)\s+(?:for\s+)?(?:over\s+|more\s+than\s+|nearly\s+|almost\s+|about\s+)?{_NUM}\s+(?:\w+\s+)?(?:days?|weeks?|months?)\b",
    rf"\b{_NUM}\s+(?:days?|weeks?|months?)\s+(?:later|on)\s+(?:and\s+)?(?:still|no|nothing)\b",
    r"\b(?:third|fourth|fifth|sixth|seventh|tenth|umpteenth|nth|\d+(?:rd|th))\s+time\b",
    (r"\b(?:called|rang|phoned|emailed|contacted|chased|messaged|written|wrote|complained|asked)\s+(?:\w+\s+)?"
    r"(?:\d+|three|four|five|six|seven|eight|nine|ten|several|multiple|numerous|countless|many|so\s+many)\s+times\b"),
    r"\b(?:\d+|three|four|five|six|several|multiple|numerous|countless)\s+(?:calls|phone\s+calls|emails|e-mails|messages|chats|complaints)\b",
    r"\bno\s+(?:response|reply|answer|replies|responses|call\s*back|follow[- ]up)\b",
    r"\b(?:no\s+one|no-one|nobody)\s+(?:has\s+|have\s+|ever\s+)?(?:got|gotten|come|came|gets|get|bothered|replied|responded|called|rang)\b(?:\s+back)?",
    (r"\b(?:never|haven'?t|have\s+not|hasn'?t|has\s+not|didn'?t|did\s+not)\s+(?:\w+\s+)?(?:heard\s+back|got\s+back|replied|responded"
    r"|received\s+(?:a|any)\s+(?:response|reply|answer|call))\b"),
    r"\bignor(?:ed|ing)\s+(?:my|me|our|us)\b",
    (r"\b(?:need|needs|want)\s+(?:this|it|them|my\s+\w+)\s+(?:fixed|sorted|resolved|done|delivered|replaced|refunded|back)\s+"
    r"(?:now|today|immediately|asap|urgently|right\s+away|by\s+\w+)\b"),
    r"\b(?:by|before)\s+(?:the\s+end\s+of\s+)?(?:today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    r"\b(?:need|needed|needs|must\s+have)\s+(?:it|this|them|the\s+\w+|my\s+\w+)\s+(?:for\s+)?(?:today|tonight|tomorrow)\b",
    r"\bchas(?:ing|ed)\s+(?:this|you|it|them|up)\b",
]
_SAFETY = [
    r"\ballergic(?:\s+reaction)?\b", r"\banaphyla\w+", r"\b(?:undeclared|unlabell?ed|hidden)\s+allergens?\b",
    r"\bfood\s+poisoning\b",
    (r"\b(?:sick|ill|vomiting|vomited|threw\s+up|throwing\s+up|diarrh(?:o)?ea|stomach\s+(?:ache|pains?|cramps?|bug))\s+"
    r"(?:\w+\s+){0,3}?after\s+(?:eating|drinking|having|consuming|taking|using)\b"),
    r"\bmade\s+(?:me|us|him|her|them|my\s+\w+)\s+(?:really\s+|very\s+|so\s+)?(?:sick|ill|vomit|throw\s+up)\b",
    r"\binjur(?:y|ies|ed|e|ing)\b", r"\b(?:got|was|were|been|get|getting)\s+hurt\b",
    r"\bhurt\s+(?:myself|himself|herself|themselves|ourselves)\b",
    (r"\b(?:cut|burn(?:ed|t)?|scald(?:ed)?)\s+(?:myself|himself|herself|(?:my|his|her|their)\s+"
    r"(?:hands?|fingers?|arms?|legs?|face|mouth|lips?|tongue|feet|foot|skin|child|son|daughter|baby))\b"),
    r"\bscald(?:ed|ing|s)?\b", r"\bburns\b",
    r"\b(?:caught|catching|catch|catches|set\s+on|on)\s+fire\b", r"\bfire\s+(?:hazard|risk|brigade|service)\b",
    r"\b(?:burst\s+into\s+)?flames\b", r"\b(?:started|starting|start)\s+a\s+fire\b",
    r"\bburn(?:ing|t)\s+(?:smell|plastic|electrical)\b", r"\bsmell(?:ed|s|ing)?\s+(?:of\s+)?burning\b",
    r"(?<!non-)\bsmok(?:e|ing)\b(?!\s+(?:alarms?|detectors?|free|break|area|room|section|outside|ban|policy))",
    r"\bspark(?:s|ing|ed)\b(?!\s+(?:card|points))", r"\belectric(?:al)?\s+shock\b", r"\belectrocut\w*",
    r"\bgave\s+(?:me|him|her|us)\s+(?:a|an)\s+(?:electric\s+)?shock\b", r"\bexplo(?:de|ded|des|ding|sion)\b",
    r"\boverheat(?:ed|ing|s)?\b", r"\bchok(?:e|ed|ing)\b(?!\s+(?:up|back))",
    r"\bglass\s+in\s+(?:my|the|our|his|her)\s+\w+", r"\bchok(?:e|ing)\s+hazard\b",
    r"\b(?:pieces?|shards?|bits?|fragments?|chunks?)\s+of\s+(?:glass|metal|plastic|wire|bone)\b",
    r"\bforeign\s+(?:object|body|bodies|material)\b", r"\bmou?ld(?:y|ed)?\b",
    r"\b(?:unsafe|not\s+safe|dangerous(?:ly)?|danger|hazard(?:ous|s)?|health\s+risk|safety\s+(?:issue|risk|concern|hazard))\b",
    r"\b(?:expired|out[- ]of[- ]date)\s+(?:\w+\s+)?(?:medication|medicine|medicines|drugs?|pills?|tablets?|prescription|insulin|formula|baby\s+food)\b",
    r"\b(?:wrong|incorrect)\s+(?:medication|medicine|prescription|dosage|dose|pills?|tablets?)\b",
    r"\bundercooked\s+(?:chicken|meat|pork|burger|sausages?|eggs?)\b", r"\b(?:raw|pink)\s+(?:chicken|pork)\b",
    r"\b(?:cockroach(?:es)?|maggots?|mice|mouse\s+droppings|droppings)\b",
    r"\b(?:insects?|bugs?|worms?|hair)\s+in\s+(?:my|the|our)\s+(?:food|meal|salad|sandwich|drink|soup)\b",
    r"\bcontaminat(?:ed|ion)\b", r"\bproduct\s+recall\b", r"\bambulance\b",
    r"\b(?:ended\s+up|landed|rushed|taken|went)\s+(?:\w+\s+)?(?:in|to)\s+(?:the\s+)?(?:hospital|a&e|a\s+and\s+e|emergency\s+room|er)\b",
    r"\bbleed(?:ing)?\b", r"\bsharp\s+edges?\b",
]
_LEGAL = [
    r"\b(?:lawyers?|solicitors?|attorneys?|barristers?|lawsuit|law\s+suit|class\s+action)\b",
    r"\blegal\s+(?:action|advice|team|proceedings|route|letter|steps)\b",
    r"\b(?:(?-i:sue|SUE)|(?-i:Sue)(?=\s+(?:you|them|your|the|this|for)\b)|su(?:ing|ed))\b",
    r"\b(?:take|taking|took|see|seeing)\s+(?:you|them|this|it|the\s+company|you\s+guys)\s+(?:to|in)\s+court\b",
    r"\b(?:small\s+claims|county\s+court|court\s+action|court\s+claim)\b", r"\btrading\s+standards\b",
    r"\bombudsman\b", r"\bconsumer\s+(?:rights|protection|law|council)\b", r"\bcharge[- ]?backs?\b",
    r"\bdispute\s+(?:the|this|a)\s+(?:charge|payment|transaction)\b",
    r"\breport(?:ing|ed)?\s+(?:you|them|this|it|your\s+company|the\s+company|you\s+guys|this\s+company)\s+to\b",
    r"\b(?:gdpr|data\s+protection|data\s+breach|subject\s+access\s+request|(?-i:ICO|DSAR)|information\s+commissioner)\b",
    r"\bdiscriminat(?:e|ed|es|ing|ion|ory)\b", r"\b(?:racist|racism|sexist|sexism|homophobic|ableist)\b",
    r"\bfraud(?:ulent|ulently|sters?)?\b", r"\b(?:illegal(?:ly)?|unlawful(?:ly)?)\b", r"\bbreach\s+of\s+contract\b",
    r"\b(?:misleading|false)\s+advertising\b", r"\bpolice\b", r"\bbetter\s+business\s+bureau\b",
    r"\bcitizens\s+advice\b", r"\b(?-i:FCA|FTC|CFPB|BBB|Ofcom|Ofgem|Ofwat|ASA|CMA)\b",
]
_VULNERABILITY = [
    r"\b(?:elderly|frail|pensioners?|(?-i:OAPs?))\b", r"\b(?:[7-9]\d|1[01]\d)[- ]years?[- ]old\b",
    r"\bin\s+(?:his|her|my|their)\s+(?:70s|80s|90s|seventies|eighties|nineties)\b",
    r"\bdisabilit(?:y|ies)\b", r"\bblue\s+badge\b", r"\bwheelchair\b",
    r"\bdisabled\s+(?:person|people|customer|son|daughter|mother|father|mum|dad|wife|husband|partner|child|children|parking|access|badge|toilet|bay|user)s?\b",
    r"\b(?:i'?m|i\s+am|we\s+are|as\s+a|being)\s+(?:\w+\s+)?disabled\b",
    r"\b(?:mobility\s+(?:issues?|problems?|scooter)|registered\s+blind|visually\s+impaired|partially\s+sighted|hard\s+of\s+hearing|deaf)\b",
    r"\b(?:pregnant|pregnancy|newborn|new\s+born|infant|toddler)\b",
    r"\bbab(?:y|ies)\b(?!\s+(?:spinach|carrots?|corn|leaf|leaves|potatoes|tomatoes|plum|gem|back|bel|shark|steps?)\b)",
    r"\b(?:carers?|caregivers?|care\s+home|nursing\s+home|sheltered\s+housing|care\s+package)\b",
    r"\bmedical\s+(?:condition|needs?|equipment|reasons?)\b", r"\bchronic(?:ally)?\s+(?:ill|illness|pain|condition)\b",
    r"\b(?:cancer|chemo(?:therapy)?|dementia|alzheimer'?s|diabet(?:ic|es)|epilep(?:sy|tic)|dialysis|oxygen)\b",
    r"\b(?:terminal(?:ly)?\s+ill|heart\s+condition|mental\s+health|autis(?:m|tic)|housebound|bed[- ]?bound|immunocompromised|vulnerable)\b",
    r"\b(?:bereave(?:d|ment)|passed\s+away|widow(?:ed|er)?|single\s+(?:parent|mum|mom|dad|mother|father)|low\s+income|on\s+benefits)\b",
    r"\b(?:can'?t|cannot)\s+afford\b",
]


def _compile(patterns: list[str]) -> tuple[tuple[re.Pattern[str], ...], re.Pattern[str]]:
    # One regex per pattern (an alternation stops at its first matching branch, not the
    # longest), plus one alternation that gates them: most sentences have no cue at all.
    gate = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns), gate


# Strong rules come before weak ones of the same kind, so an overlapping weak match is dropped.
_RULES: tuple[_Rule, ...] = (
    _Rule("churn", "strong", *_compile(_CHURN_ACTION), agent_check=True),
    _Rule("churn", "strong", *_compile(_CHURN_STATEMENT)),
    _Rule("churn", "weak", *_compile(_CHURN_WEAK), agent_check=True),
    _Rule("urgency", "strong", *_compile(_URGENCY)),
    _Rule("safety", "strong", *_compile(_SAFETY)),
    _Rule("legal", "strong", *_compile(_LEGAL)),
    _Rule("vulnerability", "strong", *_compile(_VULNERABILITY)),
)

_FILLER = (r"(?:be|been|being|was|were|is|are|am|going|gonna|planning|plan|plans|thinking|think|intending|intend|"
           r"intention|about|want|wanting|wanted|need|needing|have|having|had|ever|really|actually|even|currently|"
           r"yet|any|at\s+all|to|of|on|whatsoever|a|an|the|got|get|getting|signs?|evidence|risk|real|seriously|"
           r"considering|consider|will|would|like|it|in|for|there|so|too|very|remotely|single|serious|take|taking|make|"
           r"making|raise|raising|file|filing|go|do|bother|bothering)")
_NEG_TAIL = re.compile(
    rf"(?:\b(?:not|no|never|nobody|nothing|without|nor|neither|no\s+one|cannot|dont|wont|cant|didnt|isnt|wasnt)|n't)\s+(?:{_FILLER}\s+){{0,4}}$",
    re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.!?;:,\n]|\b(?:but|however|although|though|yet)\b", re.IGNORECASE)
_AGENT = re.compile(r"\b(?:i|we|you|they|he|she|it|someone|somebody|company|store|shop|airline|driver)\b", re.IGNORECASE)
_COMPANY_DID_IT = re.compile(r"\s+(?:without|on\s+me\b|for\s+no\s+reason|by\s+(?:you|them|the)\b)", re.IGNORECASE)
_BASE_VERBS = {"cancel", "end", "close", "delete", "terminate", "quit"}


def _clause_before(text: str, start: int) -> str:
    """The text from the start of the cue's clause up to the cue."""
    head = text[max(0, start - 120):start]
    breaks = list(_CLAUSE_BREAK.finditer(head))
    return head[breaks[-1].end():] if breaks else head


def _negated(text: str, start: int) -> bool:
    return bool(_NEG_TAIL.search(_clause_before(text, start)))


def _someone_else_did_it(text: str, start: int, end: int) -> bool:
    """True when the cancelling was done to the customer, not by them."""
    if _COMPANY_DID_IT.match(text, end):
        return True
    agents = list(_AGENT.finditer(_clause_before(text, start)))
    if not agents:
        return False
    agent = agents[-1].group().lower()
    if agent in ("i", "we"):
        return False
    if agent == "you":
        # "can you cancel my account" is a request; "you cancelled my order" is not churn.
        after = text[agents[-1].end():start].strip().lower()
        verb = text[start:end].split()[0].lower()
        return not (after.startswith("to") or verb in _BASE_VERBS)
    return True


def _rule_cues(text: str, norm: str, rule: _Rule) -> list[Cue]:
    out: list[Cue] = []
    if not rule.gate.search(norm):
        return out
    for m in (m for regex in rule.patterns for m in regex.finditer(norm)):
        start, end = m.span()
        if end <= start or _negated(norm, start):
            continue
        if rule.agent_check and _someone_else_did_it(norm, start, end):
            continue
        out.append(Cue(rule.kind, (start, end), text[start:end], rule.strength))
    return out


def find_cues(text: str) -> list[Cue]:
    """All non-negated cues in ``text``, sorted by position, with character spans.

    Overlapping matches of the same kind are merged into the first, longest one
    (strong churn wins over weak churn); cues of different kinds may overlap.

    >>> text = "Third time asking. My baby had an allergic reaction; my solicitor will be in touch."
    >>> [(c.kind, c.phrase) for c in find_cues(text)]
    [('urgency', 'Third time'), ('vulnerability', 'baby'), ('safety', 'allergic reaction'), ('legal', 'solicitor')]
    >>> c = find_cues("I cancelled my order because it was late")[0]
    >>> (c.kind, c.strength, c.span)
    ('churn', 'weak', (2, 20))
    """
    norm = text.replace("\u2019", "'").replace("\u2018", "'")  # same length: spans stay valid
    kept: list[Cue] = []
    for rule in _RULES:
        same_kind = [c for c in kept if c.kind == rule.kind]
        for cue in sorted(_rule_cues(text, norm, rule), key=lambda c: (c.span[0], -c.span[1])):
            if not any(_overlap(cue.span, k.span) for k in same_kind):
                kept.append(cue)
                same_kind.append(cue)
    return sorted(kept, key=lambda c: (c.span[0], -c.span[1], KINDS.index(c.kind)))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
