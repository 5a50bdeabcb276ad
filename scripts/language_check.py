#!/usr/bin/env python3
"""How well ``language.langid.v1`` tells comments that are not in English from English ones.

False alarms: the English texts of the public corpora (airline and complaint tweets, SemEval restaurant
and laptop sentences; ``--datasets``) that the stage flags, with the most confident ones. Hits: the demo
corpus's comments that its generator wrote in Spanish, French or German (``NON_ENGLISH`` in
``scripts/make_demo_corpus.py``) that the stage flags, and any other demo comment it flags.

    .venv/bin/python scripts/language_check.py [--datasets ../shared/datasets] [--show 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # make_demo_corpus (the demo's texts), cause_rules_diff (the public ones)


def demo_texts() -> tuple[list[str], list[bool]]:
    """The demo's comment texts and whether the generator wrote each in another language (its
    ``NON_ENGLISH`` list)."""
    from make_demo_corpus import NON_ENGLISH

    from voiceminer.collectors import collect
    from voiceminer.types import Comment

    written = {" ".join(text.split()) for _, _, text in NON_ENGLISH}
    texts, foreign, seen = [], [], set()
    for item in collect([ROOT / "corpora" / "demo" / "exports"]):
        if isinstance(item, Comment) and item.id not in seen:
            seen.add(item.id)
            texts.append(item.text)
            foreign.append(" ".join(item.text.split()) in written)
    return texts, foreign


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    ap.add_argument("--show", type=int, default=10)
    args = ap.parse_args(argv)
    from voiceminer.pipeline.language import MIN_CONFIDENCE, MIN_WORDS, LanguageStage
    from cause_rules_diff import public_texts

    stage = LanguageStage().load()
    english = public_texts(Path(args.datasets))
    alarms = [(t, found) for t in english if (found := stage.detect(t))]
    print(f"settings: probability >= {MIN_CONFIDENCE}, {MIN_WORDS}+ words")
    print(f"English public texts flagged: {len(alarms)} of {len(english):,}")
    for t, (code, p) in sorted(alarms, key=lambda x: -x[1][1])[:args.show]:
        print(f"  {code} {p:.3f} {t[:100]!r}")
    texts, foreign = demo_texts()
    flagged = [stage.detect(t) for t in texts]
    hits = sum(bool(f) and g for f, g in zip(flagged, foreign))
    print(f"demo comments written in another language flagged: {hits} of {sum(foreign)}"
          + (f" (least sure {min(f[1] for f, g in zip(flagged, foreign) if f and g):.2f})" if hits else ""))
    others = [(t, f) for t, f, g in zip(texts, flagged, foreign) if f and not g]
    print(f"other demo comments flagged: {len(others)}")
    for t, (code, p) in others[:args.show]:
        print(f"  {code} {p:.3f} {t[:100]!r}")
    missed = [t for t, f, g in zip(texts, flagged, foreign) if g and not f]
    for t in missed[:args.show]:
        print(f"  missed: {t[:100]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
