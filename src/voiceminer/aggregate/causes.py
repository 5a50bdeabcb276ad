"""Root causes: for the themes customers complain about most, which causes, when, and why.

For each top complaint theme: its causes (child themes) with volumes per period, their
share of the theme's negative mentions, their peak against their own baseline, the words
that set the peak apart (e.g. a courier's name that appears only in the spike week),
and evidence quotes (causal clauses such as "since you switched to ..." first).

>>> peak = ["late again since the new courier", "courier ParcelDash lost it", "courier late"] * 3
>>> rest = ["late as usual", "late delivery again", "late and cold"] * 3
>>> distinctive_terms(peak, rest, min_count=2)
['courier']
>>> distinctive_terms(["@AmericanAir on hold 2 hours"] * 4, ["@united on hold again"] * 4, min_count=2)
['@americanair', 'hours']
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import pandas as pd

from .stats import trend_slope

# words, and @handles and #hashtags as written ("@americanair" says whose spike it is; "americanair" read as a word)
_WORD = re.compile(r"[@#]?[a-z][a-z0-9_'\-]{2,}")


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | {"n't", "don't", "didn't", "i'm", "it's", "won't", "can't", "i've",
                                            "doesn't", "isn't", "wasn't"}


def distinctive_terms(focus: list[str], rest: list[str], min_count: int = 3, top: int = 5) -> list[str]:
    """Words used by more of the ``focus`` texts than of the ``rest``: the log-odds ratio of their
    document frequencies (add-one smoothed) divided by its standard error, so a word named by
    half of the focus texts outranks one named by a handful (Monroe et al., "Fightin' Words").
    Only words in at least ``min_count`` focus texts and with a z-score above 2 are kept."""
    stop = _stop_words()

    def docs(texts: list[str]) -> Counter:
        c: Counter = Counter()
        for text in texts:
            c.update({w for w in _WORD.findall(text.casefold()) if w not in stop})
        return c

    f, r = docs(focus), docs(rest)
    nf, nr = max(len(focus), 1), max(len(rest), 1)
    scores = {}
    for word, a in f.items():
        if a < min_count:
            continue
        b = r.get(word, 0)
        log_odds = math.log((a + 1) / (nf - a + 1)) - math.log((b + 1) / (nr - b + 1))
        z = log_odds / math.sqrt(1 / (a + 1) + 1 / (nf - a + 1) + 1 / (b + 1) + 1 / (nr - b + 1))
        if z > 2.0:
            scores[word] = z
    return [w for w, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


class NegativeCounts:
    """Comments with a negative theme mention, per theme, per (theme, cause) and per (theme, cause, period),
    and per theme those whose negative mention names a cause: what :func:`root_causes` counts, added up over
    chunks of comments (:meth:`add` each chunk's comment and mention frames)."""

    def __init__(self) -> None:
        self.themes: dict[str, int] = {}
        self.with_cause: dict[str, int] = {}
        self.causes: dict[tuple[str, str], int] = {}
        self.periods: dict[tuple[str, str, str], int] = {}

    def add(self, comments: pd.DataFrame, mentions: pd.DataFrame) -> NegativeCounts:
        neg = mentions[mentions["sentence_sentiment"] == "negative"]
        if neg.empty:
            return self
        period_of = pd.Series(comments["period"].to_numpy(), index=comments["id"])
        for theme, n in neg.groupby("theme", observed=True)["comment_id"].nunique().items():
            self.themes[theme] = self.themes.get(theme, 0) + int(n)
        caused = neg.dropna(subset=["cause"])
        for theme, n in caused.groupby("theme", observed=True)["comment_id"].nunique().items():
            self.with_cause[theme] = self.with_cause.get(theme, 0) + int(n)
        for (theme, cause), group in caused.groupby(["theme", "cause"], observed=True):
            ids = group["comment_id"].unique()
            self.causes[(theme, cause)] = self.causes.get((theme, cause), 0) + len(ids)
            for period, n in pd.Series(ids).map(period_of).value_counts().items():
                key = (theme, cause, period)
                self.periods[key] = self.periods.get(key, 0) + int(n)
        return self


def root_causes(comments: pd.DataFrame, mentions: pd.DataFrame, cause_table: pd.DataFrame,
                spikes: list[dict[str, Any]], labels: dict[str, str], top_themes: int = 5,
                quotes: int = 3, counts: NegativeCounts | None = None) -> list[dict[str, Any]]:
    """The top complaint themes (by comments with a negative mention) and their causes. ``counts``: the
    range's :class:`NegativeCounts`, when ``comments`` and ``mentions`` hold a sample of it (the quotes and
    distinctive words then come from the sample); by default, counted in the frames."""
    counts = counts if counts is not None else NegativeCounts().add(comments, mentions)
    if not counts.themes:
        return []
    neg = mentions[mentions["sentence_sentiment"] == "negative"]
    period_of = pd.Series(comments["period"].to_numpy(), index=comments["id"])  # no copy of the whole frame
    text_of = pd.Series(comments["text"].array, index=comments["id"])
    spike_by_cause = {}
    for s in spikes:
        if s["level"] == "cause" and s["test"] == "volume":
            best = spike_by_cause.get(s["key"])
            if best is None or s["ratio"] > best["ratio"]:
                spike_by_cause[s["key"]] = s
    out = []
    for theme in sorted(counts.themes, key=lambda k: (-counts.themes[k], k))[:top_themes]:
        tneg = neg[neg["theme"] == theme]
        total = counts.themes[theme]
        causes = []
        for cause in sorted(c for t, c in counts.causes if t == theme):
            group = tneg[tneg["cause"] == cause]
            n_neg = counts.causes[(theme, cause)]
            negative_by_period = {p: n for (t, c, p), n in counts.periods.items() if t == theme and c == cause}
            rows = cause_table[cause_table["key"] == cause].sort_values("period")
            spike = spike_by_cause.get(cause)
            peak_period = spike["period"] if spike else (rows.loc[rows["comments"].idxmax(), "period"]
                                                          if len(rows) > 1 else None)  # one period: no peak
            all_cause = mentions[mentions["cause"] == cause]
            in_peak = all_cause[all_cause["comment_id"].map(period_of) == peak_period]
            others = all_cause[all_cause["comment_id"].map(period_of) != peak_period]
            terms = distinctive_terms([text_of[c] for c in in_peak["comment_id"].unique()],
                                      [text_of[c] for c in others["comment_id"].unique()]) if spike else []
            term_share = None
            if terms:
                peak_texts = [text_of[c].casefold() for c in in_peak["comment_id"].unique()]
                term_share = round(sum(any(t in x for t in terms[:2]) for x in peak_texts) / len(peak_texts), 3)
            causes.append({
                "id": cause, "label": labels.get(cause, cause), "negative_comments": n_neg,
                "share_of_theme": round(n_neg / total, 4) if total else 0.0,
                "trend_per_period": trend_slope(rows["comments"].tolist()),
                "series": [{"period": r.period, "comments": int(r.comments)} for r in rows.itertuples()],
                # what the section charts: the comments with a negative mention of the cause, per period
                "negative_series": [{"period": p, "comments": int(n)} for p, n in sorted(negative_by_period.items())],
                "peak_period": peak_period, "spike": spike, "distinctive_terms": terms,
                "share_of_peak_naming_terms": term_share,
                "quotes": _evidence(group, text_of, period_of, peak_period if spike else None, quotes),
            })
        causes.sort(key=lambda c: (-c["negative_comments"], c["id"]))
        out.append({"theme": theme, "label": labels.get(theme, theme), "negative_comments": total,
                    "with_cause": counts.with_cause.get(theme, 0), "causes": causes})
    return out


def _evidence(group: pd.DataFrame, text_of: pd.Series, period_of: pd.Series, peak: str | None,
              n: int) -> list[dict[str, Any]]:
    """Quotes for a cause: mentions with a causal evidence clause first, then those from the peak
    period, then the most confident; readable lengths; one per comment. ``evidence_span`` marks the
    evidence clause, or the mentioning sentence where the cause has no clause of its own."""
    g = group.assign(period=group["comment_id"].map(period_of), text=group["comment_id"].map(text_of))
    g = g[g["text"].str.len().between(20, 500)]
    g = g.assign(has_evidence=g["evidence"].notna(), in_peak=(g["period"] == peak) if peak else False)
    g = g.sort_values(["has_evidence", "in_peak", "score", "comment_id"], ascending=[False, False, False, True])
    out = []
    for r in g.drop_duplicates("comment_id").head(n).itertuples():
        evidence = r.evidence
        span = None  # the clause that names the cause, else the sentence that mentions it
        if isinstance(evidence, (list, tuple)) and len(evidence) == 2:
            span = [int(evidence[0]), int(evidence[1])]
        elif pd.notna(r.start) and pd.notna(r.end):
            span = [int(r.start), int(r.end)]
        out.append({"comment_id": r.comment_id, "period": r.period, "text": r.text, "evidence_span": span})
    return out
