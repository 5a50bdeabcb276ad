"""``voiceminer discover``: cluster what the taxonomy does not cover into candidate themes.

Each comment is represented by the mean of the vectors of its sentences that no
theme covers (all its sentences when no taxonomy is given); comments whose every
sentence is covered get no cluster. Sentences without a topic of their own (greetings,
thanks, order numbers, bare verdicts: :func:`~voiceminer.themes.is_small_talk`) are left
out too: they are no missing theme. Clustering is deterministic: the same input gives
the same clusters and labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .config import Settings
from .types import Comment, Reject

BACKGROUND = 1_500  # covered sentences the cluster labels are compared with


@dataclass
class DiscoverResult:
    out: Path
    comments: int
    rejected: int
    clustered: int
    clusters: int
    coverage: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "comments": self.comments, "rejected": self.rejected,
                "clustered": self.clustered, "clusters": self.clusters, "taxonomy_coverage": self.coverage}


def discover_file(settings: Settings, inputs: Sequence[str | Path], out: str | Path, *,
                  taxonomy: str | Path | None = None, **collect_options: Any) -> DiscoverResult:
    """Write one ``{"id", "cluster"}`` line per input row, then one line per cluster."""
    from .collectors import collect, expand_inputs
    from .pipeline import Pipeline, StageContext
    from .themes import discover, is_small_talk

    items = list(collect(expand_inputs(inputs), timezone=settings.timezone, **collect_options))
    comments = [i for i in items if isinstance(i, Comment)]
    names = ["segment.sentencizer.v1", "encode.shared.v1"] + (["themes.v1"] if taxonomy else [])
    context = StageContext(taxonomy=taxonomy, models_dir=settings.models_dir, shared_model=settings.shared_model,
                           backend=settings.backend)
    analysed = Pipeline.from_names(names, context).run(comments)
    units, texts, known, n_sent, n_covered = [], [], [], 0, 0
    for a in analysed:
        covered = {t.sentence_index for t in a.layer("theme")}
        n_sent += len(a.sentences)
        n_covered += len(covered)
        known += [s.text for s in a.sentences if s.index in covered]
        keep = [i for i, s in enumerate(a.sentences) if s.index not in covered and not is_small_talk(s.text)]
        if keep:
            v = a.vectors[keep].mean(0)
            units.append((a.comment.id, v / max(float(np.linalg.norm(v)), 1e-12)))
            texts.append(" ".join(a.sentences[i].text for i in keep))
    # the covered sentences are the labels' background (every n-th, at most BACKGROUND): what the taxonomy
    # already holds is common there, so it names no missing theme
    background = known[::max(1, -(-len(known) // BACKGROUND))]
    found = discover(texts, np.stack([v for _, v in units]), background=background) if len(units) >= 2 else None
    cluster_of = {cid: (found.assignments[i] if found else None) for i, (cid, _) in enumerate(units)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for item in items:
            if isinstance(item, Reject):
                line = {"id": None, "cluster": None, "rejected": {"file": item.source_file, "line": item.line,
                                                                  "reason": item.reason}}
            else:
                line = {"id": item.id, "cluster": cluster_of.get(item.id)}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        for c in (found.clusters if found else []):
            fh.write(json.dumps({"type": "cluster", "cluster": c.id, "label": c.label, "label_share": c.label_share,
                                 "size": c.size, "key_phrases": list(c.key_phrases), "examples": list(c.examples)},
                                ensure_ascii=False) + "\n")
    coverage = round(n_covered / n_sent, 4) if taxonomy and n_sent else None
    clustered = sum(1 for v in cluster_of.values() if v is not None)
    return DiscoverResult(out, len(comments), len(items) - len(comments), clustered,
                          len(found.clusters) if found else 0, coverage)
