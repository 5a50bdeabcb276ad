"""Loaders for the aspect-based corpora: SemEval-2014/15/16 ABSA XML, MAMS-ACSA and
Hu & Liu (2004) customer reviews. See ``datasets.py`` for the public API."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path

from voiceminer.evaluation.datasets_base import Example, corpus_dir, corpus_file, finalize, normalize

SENTIMENTS = ("positive", "negative", "neutral")
_DOMAINS = ("restaurants", "laptops")
_SEMEVAL_FILES = {
    (2014, "restaurants"): ("semeval2014_absa", "Restaurants_Train_v2.xml"),
    (2014, "laptops"): ("semeval2014_absa", "Laptop_Train_v2.xml"),
    (2015, "restaurants"): ("semeval2015_absa", "ABSA-15_Restaurants_Train_Final.xml"),
    (2015, "laptops"): ("semeval2015_absa", "ABSA-15_Laptops_Train_Data.xml"),
    # 2016: SB1 (sentence level) only; SB2 is review level.
    (2016, "restaurants"): ("semeval2016_absa", "ABSA16_Restaurants_Train_SB1_v2.xml"),
    (2016, "laptops"): ("semeval2016_absa", "ABSA16_Laptops_Train_SB1_v2.xml"),
}


def _check_domain(domain: str) -> None:
    if domain not in _DOMAINS:
        raise ValueError(f"domain must be one of {_DOMAINS}, got {domain!r}")


def _semeval_sentences(root: Path | None, year: int, domain: str) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
    """(sentence id, text, [(category or term, polarity), ...]) for one SemEval file.

    2014: aspect terms (``term:<t>``) and aspect categories; 2015/16: Opinions
    (``category`` = ENTITY#ATTRIBUTE). Out-of-scope sentences have no opinions.
    """
    if (year, domain) not in _SEMEVAL_FILES:
        raise ValueError(f"no SemEval {year} {domain} data (years: 2014, 2015, 2016)")
    folder_name, file_name = _SEMEVAL_FILES[(year, domain)]
    path = corpus_file(corpus_dir(root, folder_name), file_name)
    for sentence in ET.parse(path).getroot().iter("sentence"):
        text = sentence.findtext("text") or ""
        opinions: list[tuple[str, str]] = []
        if year == 2014:
            for term in sentence.iter("aspectTerm"):
                opinions.append((f"term:{term.get('term', '')}", term.get("polarity", "")))
            for cat in sentence.iter("aspectCategory"):
                opinions.append((cat.get("category", ""), cat.get("polarity", "")))
        else:
            for op in sentence.iter("Opinion"):
                opinions.append((op.get("category", ""), op.get("polarity", "")))
        yield sentence.get("id", ""), text, opinions


def _agreed(polarities: Sequence[str]) -> str | None:
    """The one polarity all opinions share, or None (none, conflict, disagreement)."""
    found = {p for p in polarities if p}
    if len(found) != 1:
        return None
    (only,) = found
    return only if only in SENTIMENTS else None


def _category_polarities(opinions: Sequence[tuple[str, str]]) -> dict[str, str]:
    """{category: polarity}; a category given different polarities becomes 'conflict'."""
    out: dict[str, str] = {}
    for cat, pol in opinions:
        if cat.startswith("term:") or not cat:
            continue
        out[cat] = pol if out.get(cat, pol) == pol else "conflict"
    return out


def semeval_sentence_sentiment(domain: str = "restaurants", years: Sequence[int] = (2014, 2015, 2016),
                               root: Path | None = None) -> list[Example]:
    """Sentence-level positive/negative/neutral: kept only when every polarity-bearing
    opinion (2014: aspect terms + categories; 2015/16: Opinions) agrees. Sentences with
    conflict, disagreement or no opinions are dropped. Dataset ``semeval{yy}_{domain}``."""
    _check_domain(domain)
    examples = []
    for year in years:
        dataset = f"semeval{year % 100:02d}_{domain}"
        for sid, text, opinions in _semeval_sentences(root, year, domain):
            label = _agreed([pol for _, pol in opinions])
            if label is not None:
                examples.append(Example(text, label, dataset, {"id": sid, "year": year}))
    return finalize(examples)


SEMEVAL14_CATEGORIES = ("ambience", "anecdotes/miscellaneous", "food", "price", "service")


def semeval14_categories(domain: str = "restaurants", root: Path | None = None) -> list[Example]:
    """SemEval-2014 restaurant aspect categories per sentence (sorted tuple), with
    ``meta["polarities"] = {category: polarity}`` (polarity may be 'conflict')."""
    if domain != "restaurants":
        raise ValueError("SemEval-2014 has aspect categories for restaurants only")
    examples = []
    for sid, text, opinions in _semeval_sentences(root, 2014, domain):
        polarities = _category_polarities(opinions)
        if polarities:
            examples.append(Example(text, tuple(sorted(polarities)), "semeval14_restaurants",
                                    {"id": sid, "polarities": polarities}))
    return finalize(examples)


def semeval1516_categories(domain: str = "restaurants", root: Path | None = None) -> list[Example]:
    """SemEval-2015 + 2016 (SB1) ENTITY#ATTRIBUTE categories per sentence (sorted tuple),
    deduped by text (2015 first). Sentences without opinions are skipped. Auxiliary data.
    Dataset ``semeval1516_{domain}``; ``meta["polarities"]`` as for 2014."""
    _check_domain(domain)
    seen: set[str] = set()
    examples = []
    for year in (2015, 2016):
        for sid, text, opinions in _semeval_sentences(root, year, domain):
            polarities = _category_polarities(opinions)
            key = normalize(text)
            if not polarities or key in seen:
                continue
            seen.add(key)
            examples.append(Example(text, tuple(sorted(polarities)), f"semeval1516_{domain}",
                                    {"id": sid, "year": year, "polarities": polarities}))
    return finalize(examples)


MAMS_CATEGORIES = ("ambience", "food", "menu", "miscellaneous", "place", "price", "service", "staff")


def mams_categories(root: Path | None = None) -> list[Example]:
    """MAMS-ACSA categories per sentence (sorted tuple) with ``meta["polarities"]``,
    from the train and val files that are present. Dataset ``mams``."""
    folder = corpus_dir(root, "mams_absa") / "MAMS-ACSA"
    files = [folder / f"{part}.xml" for part in ("train", "val") if (folder / f"{part}.xml").is_file()]
    if not files:
        corpus_file(folder, "train.xml")  # raises DatasetMissing naming it
    examples = []
    for path in files:
        for sentence in ET.parse(path).getroot().iter("sentence"):
            opinions = [(c.get("category", ""), c.get("polarity", "")) for c in sentence.iter("aspectCategory")]
            polarities = _category_polarities(opinions)
            if polarities:
                examples.append(Example(sentence.findtext("text") or "", tuple(sorted(polarities)), "mams",
                                        {"file": path.stem, "polarities": polarities}))
    return finalize(examples)


# "feature[+2]", "feature[-1][p]", typos seen in the data: "[+]", "[+1}", "[-3[p]", "[2]".
_SIGNED = re.compile(r"\[\s*([+-])\s*(\d)?")
_UNSIGNED = re.compile(r"\[(\d)\]")
_HU_LIU_SKIP = {"readme.txt", "provenance.txt"}


def hu_liu_sentiment(root: Path | None = None) -> list[Example]:
    """Hu & Liu (2004) sentences with feature opinions: 'positive' when every opinion
    strength is > 0, 'negative' when every one is < 0, otherwise dropped (mixed, or no
    opinion). Dataset ``hu_liu``; meta has the product and the feature annotation."""
    folder = corpus_dir(root, "hu_liu_customer_reviews")
    files = sorted(p for p in folder.glob("*.txt") if p.name.casefold() not in _HU_LIU_SKIP)
    if not files:
        raise ValueError(f"no review files (*.txt) in {folder}")
    examples = []
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if "##" not in line or line.lstrip().startswith(("[t]", "*")):
                continue
            annotation, _, sentence = line.partition("##")
            signs = [sign for sign, _ in _SIGNED.findall(annotation)] + ["+"] * len(_UNSIGNED.findall(annotation))
            if not signs or len(set(signs)) != 1:
                continue
            label = "positive" if signs[0] == "+" else "negative"
            examples.append(Example(sentence, label, "hu_liu",
                                    {"product": path.stem, "features": annotation.strip()}))
    return finalize(examples)
