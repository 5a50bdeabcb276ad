#!/usr/bin/env python3
"""Per-theme precision and recall of a mined demo store against the demo's per-comment truth.

The demo generator writes ``corpora/demo/truth_comments.jsonl`` (each comment's planted topics and
the aspects its template sentences add); ``corpora/demo/theme_truth.yaml`` says which taxonomy
themes are right for each topic and aspect. For every theme and cause the pipeline assigned, this
prints how many comments it tagged (mentions), how many of those the truth accepts (precision) and,
where the truth expects the theme, how many of the expected comments it tagged (recall). A theme
that no topic or aspect of a comment accepts is a false positive there, whatever it is.

    voiceminer --config corpora/demo/voiceminer.toml --data-dir /tmp/vm mine corpora/demo/exports
    .venv/bin/python scripts/demo_theme_precision.py --data-dir /tmp/vm [--examples 5] [--json]

``--rescore`` scores the themes again from the store's cached sentence vectors, with ``--taxonomy``
(a taxonomy being edited) and ``--set name=value`` zero-shot constants (a calibration being tried),
without mining again: it reproduces what ``themes.v1`` would store, so a change is checked in seconds,
and ``--late-week 9`` adds how many of that week's planted late comments carry Late delivery.

Exit status 1 when a theme with ``--min-mentions`` (20) or more mentions is under
``--min-precision`` (0.85). ``tests/test_demo.py`` runs :func:`score` on the mined demo.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "corpora" / "demo"


@dataclass
class ThemeScore:
    """One theme's figures; ``recall`` is None when the truth expects the theme nowhere."""

    id: str
    label: str
    mentions: int
    correct: int
    expected: int
    found: int
    false_positives: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.mentions if self.mentions else 0.0

    @property
    def recall(self) -> float | None:
        return self.found / self.expected if self.expected else None


def load_truth(path: Path = DEMO / "truth_comments.jsonl") -> dict[str, dict]:
    """Per-comment truth rows by store id."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {r["id"]: r for r in rows}


def _expand(ids: list[str], tax) -> set[str]:
    """Theme ids a list names: a cause adds its parent, ``x.*`` is x and all its causes."""
    out: set[str] = set()
    for i in ids:
        if i.endswith(".*"):
            top = i[:-2]
            out |= {top, *tax[top].children}
            continue
        if i not in tax:
            raise ValueError(f"theme_truth.yaml names {i!r}, which the taxonomy does not have")
        out.add(i)
        if tax[i].parent:
            out.add(tax[i].parent)
    return out


def judge(row: dict, mapping: dict, tax) -> tuple[set[str], set[str]]:
    """(expected, accepted) theme ids for one truth row; accepted includes expected."""
    expected: set[str] = set()
    accepted: set[str] = set()
    for topic in row["topics"]:
        rule = mapping["topics"][topic]
        exp = _expand(rule.get("expect", []), tax)
        expected |= exp
        accepted |= exp | _expand(rule.get("accept", []), tax)
    for aspect in row["aspects"]:
        accepted |= _expand(mapping["aspects"][aspect], tax)
    return expected, accepted


def assigned_themes(store) -> dict[str, set[str]]:
    """Per comment id, the themes and causes its theme annotations carry."""
    import sqlalchemy as sa

    from voiceminer.storage import schema as t

    out: dict[str, set[str]] = defaultdict(set)
    rows = store.query(sa.select(t.annotations.c.comment_id, t.annotations.c.label, t.annotations.c.data)
                       .where(t.annotations.c.layer == "theme"))
    for r in rows:
        r = dict(r._mapping) if hasattr(r, "_mapping") else dict(r)
        _add(out, r["comment_id"], r["label"], (r["data"] or {}).get("cause"))
    return out


def _add(out: dict[str, set[str]], comment_id: str, theme: str, cause: str | None) -> None:
    """A theme and its cause (if any) on a comment."""
    out[comment_id].add(theme)
    if cause:
        out[comment_id].add(cause)


def score(assigned: dict[str, set[str]], comment_ids, truth: dict[str, dict], mapping: dict, tax,
          texts: dict[str, str] | None = None, examples: int = 0) -> list[ThemeScore]:
    """Per theme (assigned or expected somewhere), over the stored comments that have a truth row."""
    stats: dict[str, ThemeScore] = {}

    def get(tid: str) -> ThemeScore:
        if tid not in stats:
            stats[tid] = ThemeScore(tid, tax[tid].label if tid in tax else tid, 0, 0, 0, 0)
        return stats[tid]

    for cid in sorted(comment_ids):
        row = truth.get(cid)
        if row is None:
            continue
        expected, accepted = judge(row, mapping, tax)
        got = assigned.get(cid, set())
        for tid in got:
            s = get(tid)
            s.mentions += 1
            if tid in accepted:
                s.correct += 1
            elif len(s.false_positives) < examples:
                s.false_positives.append(f"[{'+'.join(row['topics']) or '-'}] {(texts or {}).get(cid, cid)[:160]}")
        for tid in expected:
            s = get(tid)
            s.expected += 1
            s.found += tid in got
    return sorted(stats.values(), key=lambda s: (-s.mentions, s.id))


def failures(scores: list[ThemeScore], min_mentions: int = 20, min_precision: float = 0.85) -> list[ThemeScore]:
    """Themes with at least ``min_mentions`` mentions and precision under ``min_precision``."""
    return [s for s in scores if s.mentions >= min_mentions and s.precision < min_precision]


def pooled_precision(scores: list[ThemeScore], min_mentions: int = 20) -> float:
    """Precision over all mentions of the themes with at least ``min_mentions`` mentions."""
    busy = [s for s in scores if s.mentions >= min_mentions]
    return sum(s.correct for s in busy) / max(sum(s.mentions for s in busy), 1)


def mean_recall(scores: list[ThemeScore]) -> float:
    """The mean, over the themes the truth expects somewhere, of each one's recall."""
    recalls = [s.recall for s in scores if s.recall is not None]
    return sum(recalls) / max(len(recalls), 1)


def rescored_themes(settings, overrides: dict | None = None, base_encoder: bool = False) -> dict[str, set[str]]:
    """Per comment id, the themes and causes zero-shot ``themes.v1`` gives its stored sentences from the
    store's cached vectors, with ``settings.taxonomy`` and the shared encoder's calibration updated by
    ``overrides`` (as :func:`assigned_themes` reads them from the annotations). New taxonomy texts are
    encoded (and cached apart). ``base_encoder``: an experiment instead, the sentences encoded again by the
    plain PyPI MiniLM (:class:`~voiceminer.models.encoder.SentenceEncoder` without an artifact: not fine-tuned;
    not shared-v2's own base, all-mpnet-base-v2), with only ``overrides`` as constants (calibrate them with
    ``VOICEMINER_THEMES_ENCODER=base scripts/train_themes_eval.py calibrate``, which loads the same encoder)."""
    import numpy as np

    from voiceminer import jobs
    from voiceminer.themes import ZeroShotThemes, calibration_for, load_taxonomy

    store = jobs.open_store(settings)
    rows, sentences = _stored_sentences(store)
    taxonomy = load_taxonomy(settings.taxonomy)
    if base_encoder:
        from voiceminer.models.encoder import SentenceEncoder

        encoder = SentenceEncoder().load()
        zs = ZeroShotThemes(taxonomy, **(overrides or {})).fit_encoder(encoder)
        return _assigned(rows, zs.predict(np.asarray(encoder.encode(sentences, normalize=True)), sentences))

    from voiceminer.models.shared import SharedModel
    from voiceminer.pipeline.themes import CachedEncoder, taxonomy_vector_key
    from voiceminer.storage.vectors import VectorCache

    shared = SharedModel(companion=False, backend=settings.backend).load()
    encoder = shared.encoder_
    found = VectorCache(store, encoder.vector_key).get(h for *_, h in rows)
    kept = [k for k, (*_, h) in enumerate(rows) if h in found]
    if not kept:
        raise SystemExit(f"no cached sentence vectors under {encoder.vector_key}: mine the demo with this backend first")
    rows, sentences = [rows[k] for k in kept], [sentences[k] for k in kept]
    constants = calibration_for(encoder) | (overrides or {})
    zs = ZeroShotThemes(taxonomy, **constants).fit_encoder(
        CachedEncoder(encoder, VectorCache(store, taxonomy_vector_key(encoder.vector_key))), shared.heads_)
    return _assigned(rows, zs.predict(np.stack([found[h] for *_, h in rows]), sentences))


def _stored_sentences(store) -> tuple[list[tuple], list[str]]:
    """The store's sentences: ``(comment_id, start, end, text_hash)`` rows and their texts."""
    import sqlalchemy as sa

    from voiceminer.storage import schema as t

    texts = {c.id: c.text for c in store.iter_comments()}
    rows = [(r["comment_id"], r["start"], r["end"], r["text_hash"]) for r in store.query(
        sa.select(t.sentences.c.comment_id, t.sentences.c.start, t.sentences.c.end, t.sentences.c.text_hash))]
    return rows, [texts[c][a:b] for c, a, b, _ in rows]


def _assigned(rows: list[tuple], hits: list) -> dict[str, set[str]]:
    """Per comment id, the themes and causes of its sentences' ``hits`` (one list per row)."""
    out: dict[str, set[str]] = defaultdict(set)
    for (cid, *_), row in zip(rows, hits):
        for h in row:
            _add(out, cid, h.id, h.cause_id)
    return out


def late_share(assigned: dict[str, set[str]], truth: dict[str, dict], week: int) -> tuple[int, int]:
    """(planted late comments of ``week`` tagged Late delivery, planted late comments of ``week``)."""
    late = [cid for cid, r in truth.items() if r["week"] == week and {"late", "cause"} & set(r["topics"])]
    return sum("delivery.late" in assigned.get(cid, ()) for cid in late), len(late)


def score_store(settings, truth_path: Path = DEMO / "truth_comments.jsonl",
                mapping_path: Path = DEMO / "theme_truth.yaml", examples: int = 0,
                assigned: dict[str, set[str]] | None = None) -> list[ThemeScore]:
    """:func:`score` for the store ``settings`` point at, with the settings' taxonomy; ``assigned``: the
    themes to judge (default: those stored, :func:`assigned_themes`)."""
    from voiceminer import jobs
    from voiceminer.themes import load_taxonomy

    store = jobs.open_store(settings)
    texts = {c.id: " ".join(c.text.split()) for c in store.iter_comments()}
    mapping = yaml.safe_load(mapping_path.read_text(encoding="utf-8"))
    return score(assigned_themes(store) if assigned is None else assigned, texts.keys(), load_truth(truth_path), mapping,
                 load_taxonomy(settings.taxonomy), texts=texts, examples=examples)


def _table(scores: list[ThemeScore], min_mentions: int, min_precision: float) -> str:
    lines = [f"{'theme':<32} {'label':<34} {'mentions':>8} {'precision':>9} {'expected':>8} {'recall':>6}"]
    for s in scores:
        flag = " <" if s.mentions >= min_mentions and s.precision < min_precision else ""
        recall = f"{s.recall:.2f}" if s.recall is not None else "-"
        precision = f"{s.precision:.3f}" if s.mentions else "-"
        lines.append(f"{s.id:<32} {s.label[:34]:<34} {s.mentions:>8} {precision:>9} {s.expected:>8} {recall:>6}{flag}")
        lines += [f"    fp: {fp}" for fp in s.false_positives]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True, help="data dir of a store the demo was mined into")
    ap.add_argument("--config", default=str(DEMO / "voiceminer.toml"))
    ap.add_argument("--truth", default=str(DEMO / "truth_comments.jsonl"))
    ap.add_argument("--mapping", default=str(DEMO / "theme_truth.yaml"))
    ap.add_argument("--taxonomy", default=None, help="the taxonomy the store was mined with (default: the config's)")
    ap.add_argument("--min-mentions", type=int, default=20)
    ap.add_argument("--min-precision", type=float, default=0.85)
    ap.add_argument("--examples", type=int, default=0, help="false positives to show per theme")
    ap.add_argument("--rescore", action="store_true",
                    help="score themes again from the cached vectors (with --taxonomy and --set) instead of reading them")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="with --rescore: a zero-shot constant (threshold, margin, child_threshold, lead, cause_lead, ...)")
    ap.add_argument("--base-encoder", action="store_true",
                    help="with --rescore, an experiment: the plain MiniLM's vectors (not fine-tuned), constants from --set only")
    ap.add_argument("--late-week", type=int, default=None, help="also print the planted late comments of this week on Late delivery")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from voiceminer.config import Settings

    overrides = {"data_dir": Path(args.data_dir)} | ({"taxonomy": args.taxonomy} if args.taxonomy else {})
    settings = Settings.load(config_path=Path(args.config), overrides=overrides)
    from voiceminer import jobs

    if args.rescore:
        assigned = rescored_themes(settings, {k: json.loads(v) for k, v in (i.split("=", 1) for i in args.set)},
                                   base_encoder=args.base_encoder)
    else:
        assigned = assigned_themes(jobs.open_store(settings))
    scores = score_store(settings, Path(args.truth), Path(args.mapping), examples=args.examples, assigned=assigned)
    bad = failures(scores, args.min_mentions, args.min_precision)
    if args.json:
        print(json.dumps([asdict(s) | {"precision": round(s.precision, 4), "recall": s.recall} for s in scores],
                         indent=1))
    else:
        print(_table(scores, args.min_mentions, args.min_precision))
        print(f"\npooled precision over the themes with >= {args.min_mentions} mentions: "
              f"{pooled_precision(scores, args.min_mentions):.3f}")
        print(f"mean recall of the expected themes: {mean_recall(scores):.3f}")
        print(f"{len(bad)} theme(s) with >= {args.min_mentions} mentions under precision {args.min_precision}"
              + (": " + ", ".join(f"{s.id} {s.precision:.2f}" for s in bad) if bad else ""))
    if args.late_week is not None:
        got, planted = late_share(assigned, load_truth(Path(args.truth)), args.late_week)
        print(f"week {args.late_week}: {got} of {planted} planted late comments on Late delivery ({got / max(planted, 1):.0%})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
