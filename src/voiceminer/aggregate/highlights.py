"""What a report points at, computed once for every view (the report and the service): the
current period's alerts, the emerging topics outside the taxonomy, and the quotes (the clearest
voices of the period and each top theme's most typical sentences).

Results are dataclasses; ``as_dict()`` gives the report's JSON form (same keys, same order).

>>> spike = {"period": "w2", "level": "theme", "key": "delivery", "label": "Delivery", "test": "volume",
...          "ratio": 2.5, "count": 30, "of": 100, "q_value": 0.001}
>>> [a.as_dict() for a in current_alerts([spike], None, [], "w2")][0]["message"]
'Delivery: mentions 2.5x the baseline (30 of 100; q=0.001)'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .frames import MAX_SENTENCES, load_vectors, sample_rows
from .quotes import representative
from .signals import SpikeRules, emerging_clusters


@dataclass(frozen=True)
class Alert:
    """Something that needs attention in the current period: a spike, an emerging topic or a
    broken promise raised more than before. ``level`` and ``test`` are set for spikes only."""

    kind: str
    key: str
    label: str
    severity: str
    message: str
    level: str | None = None
    test: str | None = None

    def as_dict(self) -> dict[str, Any]:
        head = {"kind": self.kind}
        if self.level is not None:
            head["level"] = self.level
        head.update(key=self.key, label=self.label)
        if self.test is not None:
            head["test"] = self.test
        return {**head, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class EmergingTopics:
    """Clusters of sentences outside the taxonomy (None when they cannot be computed) and a
    one-line note on what was clustered or why nothing was."""

    clusters: list[dict[str, Any]] | None
    note: str


@dataclass(frozen=True)
class Quote:
    """A sentence that stands for a theme (``span``: the sentence within the comment's text)."""

    comment_id: str
    period: str | None
    channel: str | None
    text: str
    span: list[int] | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Voice:
    """A whole comment among the period's clearest (strongest sentiment)."""

    comment_id: str
    text: str
    channel: str | None
    period: str | None
    score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def current_alerts(spikes: list[dict[str, Any]], emerging: list[dict[str, Any]] | None,
                   promises: list[dict[str, Any]], current: str | None,
                   causes: list[dict[str, Any]] | None = None) -> list[Alert]:
    """What needs attention in the current period: its spikes (with the words that set a cause's
    spike apart), emerging clusters, and broken promises raised more than before."""
    terms = {c["id"]: c["distinctive_terms"] for rc in causes or [] for c in rc["causes"]
             if c.get("spike") and c["spike"]["period"] == current}
    out = [_spike_alert(s, terms.get(s["key"])) for s in spikes if s["period"] == current]
    for e in emerging or []:
        if e["emerging"]:
            out.append(Alert("emerging", f"cluster-{e['id']}", e["label"], "medium",
                             f"New topic outside the taxonomy: \"{e['label']}\" ({e['current']} sentences "
                             f"this period, {e['ratio']:.1f}x before)"))
    for p in promises:  # a broken promise is in the report every week; it alerts when it is raised more
        c = p.get("current") or {}
        if p["verdict"] == "raised and going badly" and c.get("q_value", 1) <= 0.05 and c["ratio_vs_before"] >= 1.5:
            out.append(Alert("promise", p["id"], p["label"], "medium",
                             f"Promise \"{p['label']}\": {c['mentions']} mentions this period, "
                             f"{c['ratio_vs_before']:.1f}x the rate before; {p['negative_share']:.0%} "
                             "negative overall"))
    return out


def _spike_alert(s: dict[str, Any], terms: list[str] | None) -> Alert:
    what = "mentions" if s["test"] == "volume" else "negative share"
    why = f"; they name {', '.join(repr(t) for t in terms[:3])}" if terms else ""
    return Alert("spike", s["key"], s["label"], "high" if s["ratio"] >= 2 else "medium",
                 f"{s['label']}: {what} {s['ratio']:.1f}x the baseline "
                 f"({s['count']} of {s['of']}; q={s['q_value']:.2g}){why}", level=s["level"], test=s["test"])


def emerging_topics(comments: pd.DataFrame, sentences: pd.DataFrame, mentions: pd.DataFrame,
                    vectors: dict[str, np.ndarray], current: str | None, rules: SpikeRules) -> EmergingTopics:
    """Cluster the sentences no theme covers (three words or more, no small talk, dated) and
    mark the clusters that grew in the current period (``comments`` needs a ``period`` column)."""
    from ..themes import is_small_talk

    if current is None or sentences.empty:
        return EmergingTopics(None, "No analysed sentences in this range.")
    free, total = (sentences if vectors else sentences.iloc[:0]), 0
    known = free.iloc[:0]
    if not free.empty:  # the sentences no theme covers (a sample of them in a very large range)
        covered = mentions[["comment_id", "sentence_idx"]].drop_duplicates().rename(columns={"sentence_idx": "idx"})
        seen = free[["comment_id", "idx"]].merge(covered, how="left", indicator=True)["_merge"] == "both"
        known = sample_rows(free[seen.to_numpy()], MAX_SENTENCES["background"])
        free = free[~seen.to_numpy()]
        total = len(free)
        free = sample_rows(free, MAX_SENTENCES["emerging"])
        load_vectors(vectors, free["text_hash"])
        free = free[[h in vectors for h in free["text_hash"]]]
    if free.empty:
        return EmergingTopics(None, "Emerging topics need sentence vectors in the store (the default model "
                                    "pipeline stores them).")
    info = comments[["id", "text", "period"]].set_index("id")
    texts = [info.at[c, "text"][s:e] for c, s, e in zip(free["comment_id"], free["start"], free["end"])]
    chat = [is_small_talk(t) for t in texts]
    keep = [len(t.split()) >= 3 and not c for t, c in zip(texts, chat)]
    free = free[keep]
    texts = [t for t, k in zip(texts, keep) if k]
    periods = [info.at[c, "period"] for c in free["comment_id"]]
    ok = [isinstance(p, str) for p in periods]
    X = (np.vstack([vectors[h] for h in free["text_hash"]])[ok] if len(free)
         else np.zeros((0, len(next(iter(vectors.values()))))))
    texts = [t for t, k in zip(texts, ok) if k]
    periods = [p for p in periods if isinstance(p, str)]
    # what the taxonomy covers is the labels' background: a word common everywhere ("flight" in an airline's
    # tweets) is no new topic
    background = [info.at[c, "text"][s:e] for c, s, e in zip(known["comment_id"], known["start"], known["end"])]
    found = emerging_clusters(texts, X, periods, current, rules, background=background)
    n_chat = sum(chat)
    sampled = f" (a uniform sample of the {total:,} in this range)" if total > MAX_SENTENCES["emerging"] else ""
    return EmergingTopics(found, f"{len(texts):,} sentences outside the taxonomy were clustered{sampled}"
                          + (f"; {n_chat:,} without a topic of their own (greetings, thanks, order numbers, bare "
                             "verdicts such as \"Not good enough.\") were left out." if n_chat else "."))


def clearest_voices(comments: pd.DataFrame, current: str | None, n: int = 3) -> dict[str, list[Voice]]:
    """The current period's clearest comments: strongest sentiment among readable lengths."""
    pool = comments[(comments["period"] == current) & comments["text"].str.len().between(20, 400)
                    & comments["sentiment_score"].notna()].drop_duplicates("text")
    out = {}
    for label, ascending in (("negative", True), ("positive", False)):
        top = pool[pool["sentiment"] == label].sort_values(["sentiment_score", "id"], ascending=[ascending, True])
        out[label] = [Voice(r.id, r.text, r.channel, r.period, r.sentiment_score) for r in top.head(n).itertuples()]
    return out


def theme_quotes(comments: pd.DataFrame, mentions: pd.DataFrame, sentences: pd.DataFrame,
                 vectors: dict[str, np.ndarray], theme_ids: list[str], n: int = 2) -> dict[str, dict[str, list[Quote]]]:
    """Per theme, its most representative negative and positive sentences: nearest the centre
    of that theme's mentions of that polarity (by stored vectors), readable lengths. A sentence is not
    quoted from a comment of the other polarity: a "positive" sentence in a negative comment is often
    sarcasm or a concession ("I didn't miss my flight. They gave my ticket away."), not praise."""
    if mentions.empty:
        return {}
    m = mentions[mentions["theme"].isin(theme_ids) & mentions["sentence_sentiment"].isin(["negative", "positive"])]
    m = m.merge(sentences.rename(columns={"idx": "sentence_idx"})[["comment_id", "sentence_idx",
                                                                          "text_hash"]],
                       on=["comment_id", "sentence_idx"], how="left")
    keep = ["id", "text", "period", "channel"] + (["sentiment"] if "sentiment" in comments else [])
    m = m.merge(comments[keep].rename(columns={"sentiment": "comment_sentiment"}), left_on="comment_id",
                right_on="id")
    out: dict[str, dict[str, list[Quote]]] = {}
    for theme in theme_ids:
        out[theme] = {}
        for polarity in ("negative", "positive"):
            g = m[(m["theme"] == theme) & (m["sentence_sentiment"] == polarity)]
            g = g[g["text"].str.len().between(20, 400)]
            if "comment_sentiment" in g:  # never from a comment of the other polarity
                g = g[g["comment_sentiment"] != ("positive" if polarity == "negative" else "negative")]
            if vectors:  # the vectors are what a large theme would hold in memory; by score, every row counts
                g = sample_rows(g, MAX_SENTENCES["quotes"])
            out[theme][polarity] = [
                Quote(r.comment_id, r.period, r.channel, r.text, [int(r.start), int(r.end)] if pd.notna(r.start) else None)
                for r in representative(g, vectors, n).itertuples()]
    return out
