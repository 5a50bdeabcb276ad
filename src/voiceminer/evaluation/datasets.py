"""Labeled-dataset loaders for training and validating VoiceMiner's models.

The corpora live outside the repository (``../shared/datasets`` next to the project
root, or ``$VOICEMINER_DATASETS``); nothing here copies them. Every loader takes
``root`` (the datasets folder, default :func:`datasets_root`), returns a list of
:class:`Example` in a deterministic order, drops empty texts and repeats of a
(text, label) pair within one dataset. Use :func:`split` for train/validation: the
side is a hash of the text, identical across datasets and runs.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from voiceminer.evaluation.datasets_absa import (
    MAMS_CATEGORIES,
    SEMEVAL14_CATEGORIES,
    hu_liu_sentiment,
    mams_categories,
    semeval14_categories,
    semeval1516_categories,
    semeval_sentence_sentiment,
)
from voiceminer.evaluation.datasets_base import (
    ENV_VAR,
    DatasetMissing,
    Example,
    corpus_dir,
    corpus_file,
    datasets_root,
    finalize,
    in_tune_slice,
    split,
    split_of,
)

__all__ = [
    "ALL_LOADERS",
    "APP_REVIEW_LABELS",
    "ENV_VAR",
    "MAMS_CATEGORIES",
    "SEMEVAL14_CATEGORIES",
    "DatasetMissing",
    "Example",
    "airline_reasons",
    "airline_sentiment",
    "app_reviews",
    "complaints",
    "datasets_root",
    "hu_liu_sentiment",
    "in_tune_slice",
    "mams_categories",
    "needs",
    "semeval14_categories",
    "semeval1516_categories",
    "semeval_sentence_sentiment",
    "split",
    "split_of",
    "uci_sentiment",
]


def _csv_rows(path: Path, **reader_args: object) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.reader(handle, **reader_args)  # type: ignore[arg-type]


def _csv_dicts(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _binary(value: str, one: str, zero: str, where: str) -> str:
    value = value.strip()
    if value in ("1", "1.0"):
        return one
    if value in ("0", "0.0"):
        return zero
    raise ValueError(f"{where}: unexpected label {value!r} (expected 0 or 1)")


def uci_sentiment(root: Path | None = None) -> list[Example]:
    """UCI 'Sentiment Labelled Sentences', Amazon and Yelp: 'positive' / 'negative'.
    Datasets ``uci_amazon``, ``uci_yelp``. (``sentence<TAB>0|1``, CRLF, no quoting.)"""
    folder = corpus_dir(root, "uci_sentiment_labelled_sentences")
    examples = []
    for dataset, name in (("uci_amazon", "amazon_cells_labelled.txt"), ("uci_yelp", "yelp_labelled.txt")):
        path = corpus_file(folder, name)
        for line_no, row in enumerate(_csv_rows(path, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row:
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{line_no}: expected 'sentence<TAB>label', got {row!r}")
            label = _binary(row[1], "positive", "negative", f"{path}:{line_no}")
            examples.append(Example(row[0], label, dataset))
    return finalize(examples)


def _tweets(root: Path | None) -> Iterator[dict[str, str]]:
    yield from _csv_dicts(corpus_file(corpus_dir(root, "twitter_airline_sentiment"), "Tweets.csv"))


def _tweet_meta(row: dict[str, str]) -> dict[str, str]:
    return {"tweet_id": row["tweet_id"], "airline": row["airline"],
            "negativereason": (row.get("negativereason") or "").strip()}


def airline_sentiment(root: Path | None = None) -> list[Example]:
    """Twitter US Airline Sentiment: 'positive' / 'negative' / 'neutral'. Dataset ``airline``;
    meta has tweet_id, airline and negativereason ('' unless negative)."""
    return finalize(Example(row["text"], row["airline_sentiment"].strip(), "airline", _tweet_meta(row))
                    for row in _tweets(root))


def airline_reasons(root: Path | None = None) -> list[Example]:
    """Negative airline tweets with a complaint reason; label = the reason exactly as in the
    data ('Customer Service Issue', 'Late Flight', ..., including "Can't Tell"). Dataset
    ``airline_reasons``."""
    return finalize(Example(row["text"], row["negativereason"].strip(), "airline_reasons", _tweet_meta(row))
                    for row in _tweets(root)
                    if row["airline_sentiment"].strip() == "negative" and (row["negativereason"] or "").strip())


def complaints(root: Path | None = None) -> list[Example]:
    """Complaints on social media (Preotiuc-Pietro et al. 2019): 'complaint' (1) /
    'not_complaint' (0). No header: tweet_id, text, label, domain. Dataset ``complaints``."""
    path = corpus_file(corpus_dir(root, "complaints_social_media"), "complaints-data.csv")
    examples = []
    for line_no, row in enumerate(_csv_rows(path), 1):
        if not row:
            continue
        if len(row) != 4:
            raise ValueError(f"{path}:{line_no}: expected 4 fields (id, text, label, domain), got {len(row)}")
        tweet_id, text, label, domain = row
        examples.append(Example(text, _binary(label, "complaint", "not_complaint", f"{path}:{line_no}"),
                                "complaints", {"tweet_id": tweet_id, "domain": domain.strip()}))
    return finalize(examples)


def needs(root: Path | None = None) -> list[Example]:
    """HICSS-2023 customer needs: 'need' (1: the sentence expresses a customer need) /
    'not_need' (0). Dataset ``needs``; meta category (product category) when present."""
    path = corpus_file(corpus_dir(root, "customer_needs_hicss2023"), "combined.csv")
    examples = []
    for line_no, row in enumerate(_csv_dicts(path), 2):
        meta = {"category": row["category"].strip()} if (row.get("category") or "").strip() else {}
        examples.append(Example(row["sentence"], _binary(row["label"], "need", "not_need", f"{path}:{line_no}"),
                                "needs", meta))
    return finalize(examples)


# P1/P2 are Van Vliet et al.'s (2020) crowd gold standard; the files only say "0/1", the
# meaning below is read off the data (1 = reports a problem, asks for a feature or judges a
# quality of the app, i.e. useful to requirements engineering; 0 = praise/chat only).
APP_REVIEW_LABELS = {
    "P1": ("requirements_relevant", "not_relevant"),   # whole reviews
    "P2": ("requirements_relevant", "not_relevant"),   # single sentences
    "P3": ("quality", "stability", "feature", "performance", "none"),  # sentences
}


def app_reviews(part: str = "P3", root: Path | None = None) -> list[Example]:
    """RE'21 app-review gold standards. P1 (reviews) and P2 (sentences): 'requirements_relevant'
    / 'not_relevant'. P3 (sentences): 'quality', 'stability', 'feature', 'performance', 'none'
    (lower-cased from the ``labels`` column). Dataset ``app_reviews_p1`` etc."""
    if part not in APP_REVIEW_LABELS:
        raise ValueError(f"part must be one of {tuple(APP_REVIEW_LABELS)}, got {part!r}")
    path = corpus_file(corpus_dir(root, "app_review_requirements_re21"), f"{part}-Golden.csv")
    dataset = f"app_reviews_{part.lower()}"
    examples = []
    for line_no, row in enumerate(_csv_dicts(path), 2):
        if part == "P3":
            label = row["labels"].strip().lower()
            if label not in APP_REVIEW_LABELS["P3"]:
                raise ValueError(f"{path}:{line_no}: unexpected P3 label {row['labels']!r}")
        else:
            label = _binary(row["Judgement"], *APP_REVIEW_LABELS[part], f"{path}:{line_no}")
        examples.append(Example(row["reviews"], label, dataset))
    return finalize(examples)


ALL_LOADERS: dict[str, Callable[..., list[Example]]] = {
    "uci_sentiment": uci_sentiment,
    "semeval_restaurants_sentiment": lambda root=None: semeval_sentence_sentiment("restaurants", root=root),
    "semeval_laptops_sentiment": lambda root=None: semeval_sentence_sentiment("laptops", root=root),
    "semeval14_categories": semeval14_categories,
    "semeval1516_restaurants_categories": lambda root=None: semeval1516_categories("restaurants", root=root),
    "semeval1516_laptops_categories": lambda root=None: semeval1516_categories("laptops", root=root),
    "mams_categories": mams_categories,
    "airline_sentiment": airline_sentiment,
    "airline_reasons": airline_reasons,
    "complaints": complaints,
    "needs": needs,
    "hu_liu_sentiment": hu_liu_sentiment,
    "app_reviews_p1": lambda root=None: app_reviews("P1", root=root),
    "app_reviews_p2": lambda root=None: app_reviews("P2", root=root),
    "app_reviews_p3": lambda root=None: app_reviews("P3", root=root),
}
