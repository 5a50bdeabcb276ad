#!/usr/bin/env python3
"""How a change to the cause-evidence rules (``voiceminer.themes.causes``) moves the spans on real text.

Reads the public texts (airline tweets, complaint tweets, SemEval restaurant and laptop sentences) from
``--datasets``, finds the cause spans with the rules of the working tree and with those of a git revision
(``--rev``, default: the commit that set rules 3), and prints how many spans each gives, how many the
current rules drop, shorten and add, and with ``--show N`` the first N changed texts.

    .venv/bin/python scripts/cause_rules_diff.py [--rev 0853034] [--datasets ../shared/datasets] [--show 20]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE = "src/voiceminer/themes/causes.py"


def public_texts(root: Path) -> list[str]:
    """The distinct texts of the corpora that carry complaints with reasons, in a fixed order."""
    texts: list[str] = []
    airline = root / "twitter_airline_sentiment" / "Tweets.csv"
    complaints = root / "complaints_social_media" / "complaints-data.csv"
    if not airline.exists() or not complaints.exists():
        raise SystemExit(f"public datasets not found under {root}: pass --datasets")
    with airline.open(newline="", encoding="utf-8") as fh:
        texts += [r["text"] for r in csv.DictReader(fh)]
    with complaints.open(newline="", encoding="utf-8") as fh:
        texts += [r[1] for r in csv.reader(fh) if len(r) > 1]
    for path in sorted(root.glob("semeval201*/*.xml")):
        texts += [e.text for e in ET.parse(path).getroot().iter("text") if e.text]
    return list(dict.fromkeys(texts))


def rules_at(rev: str):
    """The causes module as it was at ``rev`` (it imports only the standard library)."""
    source = subprocess.run(["git", "show", f"{rev}:{MODULE}"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout
    path = Path(tempfile.mkdtemp()) / "causes_then.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("causes_then", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["causes_then"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rev", default="0853034", help="git revision whose rules to compare with")
    ap.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    ap.add_argument("--show", type=int, default=0, help="print this many changed texts")
    args = ap.parse_args(argv)
    from voiceminer.themes import causes as now

    then = rules_at(args.rev)
    texts = public_texts(Path(args.datasets))
    dropped = shortened = added = before = after = shown = 0
    for text in texts:
        old, new = then.cause_spans(text), now.cause_spans(text)
        before, after = before + len(old), after + len(new)
        starts_new, starts_old = {s: e for s, e in new}, {s for s, _ in old}
        gone = [(s, e) for s, e in old if s not in starts_new]
        cut = [(s, e) for s, e in old if s in starts_new and starts_new[s] != e]
        more = [(s, e) for s, e in new if s not in starts_old]
        dropped, shortened, added = dropped + len(gone), shortened + len(cut), added + len(more)
        if (gone or cut or more) and shown < args.show:
            shown += 1
            print(f"- {text[:140]!r}\n    dropped {[text[s:e] for s, e in gone]} shortened "
                  f"{[(text[s:e], text[s:starts_new[s]]) for s, e in cut]} added {[text[s:e] for s, e in more]}")
    print(f"{len(texts):,} distinct public texts: {before:,} cause spans with the rules of {args.rev} "
          f"(rules {then.RULES_VERSION}), {after:,} with the working tree's (rules {now.RULES_VERSION}); "
          f"{dropped} dropped, {shortened} shortened, {added} added")
    return 0


if __name__ == "__main__":
    sys.exit(main())
