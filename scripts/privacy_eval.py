"""Precision and recall of PII redaction per kind on a labeled corpus (span level, overlap match).

Each line of the corpus is ``{"text": ..., "pii": [[kind, substring], ...]}`` (substrings are
found in order, so a repeated one is listed twice). A predicted span counts as a true positive
when it overlaps a not-yet-matched gold span of the same kind; ``leak`` is the share of gold
PII characters (any kind) left unredacted, the figure that matters for privacy.

    .venv/bin/python scripts/privacy_eval.py                    # every tests/privacy/*.jsonl, pooled
    .venv/bin/python scripts/privacy_eval.py tests/privacy/pii_holdout.jsonl   # one file
    .venv/bin/python scripts/privacy_eval.py --no-names         # regex detectors only
    .venv/bin/python scripts/privacy_eval.py --errors           # list misses and false alarms
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from voiceminer.privacy import KINDS, Redactor, Span

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "tests" / "privacy"


def load_corpus(path: Path) -> list[tuple[str, list[Span]]]:
    """(text, gold spans) per line; a listed substring that is not in the text is an error."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        text, spans, pos = row["text"], [], 0
        for kind, piece in row["pii"]:
            start = text.find(piece, pos)
            if start < 0 or kind not in KINDS:
                raise ValueError(f"{path}:{n}: {kind} {piece!r} not in the text (or unknown kind)")
            spans.append(Span(start, start + len(piece), kind))
            pos = start + len(piece)
        out.append((text, spans))
    return out


def evaluate(corpus: list[tuple[str, list[Span]]], redactor: Redactor) -> dict[str, Any]:
    """Per kind: tp, fp, fn, precision, recall; plus ``leak`` and the errors for inspection."""
    counts = {k: {"tp": 0, "fp": 0, "fn": 0} for k in KINDS}
    gold_chars = leaked = 0
    errors: list[str] = []
    for text, gold in corpus:
        predicted = redactor.find(text)
        matched: set[int] = set()
        for p in predicted:
            hit = next((i for i, g in enumerate(gold) if i not in matched and g.kind == p.kind
                        and p.start < g.end and g.start < p.end), None)
            if hit is None:
                counts[p.kind]["fp"] += 1
                errors.append(f"FP {p.kind:7} {text[p.start:p.end]!r} in {text!r}")
            else:
                matched.add(hit)
                counts[p.kind]["tp"] += 1
        for i, g in enumerate(gold):
            if i not in matched:
                counts[g.kind]["fn"] += 1
                errors.append(f"FN {g.kind:7} {text[g.start:g.end]!r} in {text!r}")
            covered = {c for p in predicted for c in range(max(p.start, g.start), min(p.end, g.end))}
            gold_chars += g.end - g.start
            leaked += g.end - g.start - len(covered)
    for c in counts.values():
        c["precision"] = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        c["recall"] = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    return {"kinds": counts, "leak": leaked / gold_chars if gold_chars else 0.0,
            "sentences": len(corpus), "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="*", type=Path,
                        help="JSONL files (default: every tests/privacy/*.jsonl)")
    parser.add_argument("--no-names", action="store_true", help="regex detectors only (no spaCy)")
    parser.add_argument("--errors", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    files = args.corpus or sorted(CORPUS_DIR.glob("*.jsonl"))
    result = evaluate([row for f in files for row in load_corpus(f)], Redactor(names=not args.no_names))
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "errors"}, indent=2))
        return 0
    print(f"{', '.join(f.name for f in files)}: {result['sentences']} sentences; span level, a prediction "
          "counts when it overlaps a gold span of its kind")
    print(f"{'kind':8} {'gold':>5} {'pred':>5} {'tp':>4} {'precision':>9} {'recall':>7}")
    for kind, c in result["kinds"].items():
        print(f"{kind:8} {c['tp'] + c['fn']:5d} {c['tp'] + c['fp']:5d} {c['tp']:4d} "
              f"{c['precision']:9.3f} {c['recall']:7.3f}")
    print(f"leak: {result['leak']:.3f} of gold PII characters left unredacted")
    if args.errors:
        print("\n".join(result["errors"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
