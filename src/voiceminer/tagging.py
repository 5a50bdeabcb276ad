"""``voiceminer tag``: tag any collector input without touching the store.

One JSON object per input row, in input order, each with the export's own ``id`` (null when the
export has no id column), its ``line`` and the ``stored_id`` that ``mine`` would store it under. A row
that could not be read gives ``{"id": ..., "line": ..., "stored_id": null, "rejected": {...}}``, so the
output joins back to the input on every row.

>>> from voiceminer.types import Annotation, Comment, Sentence
>>> from voiceminer.pipeline import Analysed
>>> c = Comment(id="c1", text="Late again.", source="t")
>>> a = Analysed(c, (Sentence("c1", 0, 0, 11, "Late again."),),
...              (Annotation("c1", "sentiment", "negative", -0.8, "s", "1", 0, (0, 11)),
...               Annotation("c1", "sentiment", "negative", -0.8, "s", "1", None, (0, 11))))
>>> record(a)["sentiment"], record(a)["sentences"][0]["sentiment"]
({'label': 'negative', 'score': -0.8}, {'label': 'negative', 'score': -0.8})
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from .config import DEFAULT_PIPELINE, Settings
from .pipeline import Analysed, Pipeline, StageContext
from .types import Annotation, Comment, Reject

TAG_PIPELINE = DEFAULT_PIPELINE


def _span(a: Annotation) -> list[int] | None:
    return list(a.span) if a.span else None


def _sentiment(anns: Sequence[Annotation]) -> dict[str, Any] | None:
    return {"label": anns[0].label, "score": anns[0].score} if anns else None


def record(a: Analysed) -> dict[str, Any]:
    """The tag output for one analysed comment."""
    by_sentence: dict[int | None, dict[str, list[Annotation]]] = {}
    for ann in a.annotations:
        by_sentence.setdefault(ann.sentence_index, {}).setdefault(ann.layer, []).append(ann)
    comment_level = by_sentence.get(None, {})
    themes = [_theme(t, by_sentence) for t in sorted(a.layer("theme"), key=lambda t: (t.span or (0, 0), t.label))]
    complaint = next((c for c in comment_level.get("complaint", [])), None)
    need_scores = _need_scores(comment_level, a.sentences)
    return {
        "id": a.comment.source_id,
        "line": a.comment.source_line,
        "stored_id": a.comment.id,
        # the comment's language when it is surely not English (the models read English), else None
        "language": next((x.label for x in comment_level.get("language", [])), None),
        "sentiment": _sentiment(comment_level.get("sentiment", [])),
        "themes": themes,
        "needs": [{"text": n.label, "kind": n.data.get("kind", "explicit" if n.data.get("cues") else "implicit"),
                   "span": _span(n), "score": n.score} for n in a.layer("need")],
        "complaint": {"is_complaint": complaint.label == "complaint", "score": complaint.score,
                      "priority": complaint.data.get("priority"), "reasons": complaint.data.get("reasons", []),
                      "cues": [{"kind": c.label, "span": _span(c), "phrase": c.data.get("phrase")}
                               for c in comment_level.get("cue", [])]} if complaint else None,
        "sentences": [_sentence(s.index, s.start, s.end, by_sentence.get(s.index, {}), need_scores.get(s.index))
                      for s in a.sentences],
    }


def _need_scores(comment_level: dict[str, list[Annotation]], sentences: Sequence[Any]) -> dict[int, float]:
    """The need head's score per sentence index, from the needs stage's ``need_scores`` annotation."""
    found = comment_level.get("need_scores", [])
    scores = found[0].data.get("scores", []) if found else []
    return {s.index: float(p) for s, p in zip(sentences, scores)}


def _theme(t: Annotation, by_sentence: dict[int | None, dict[str, list[Annotation]]]) -> dict[str, Any]:
    senti = by_sentence.get(t.sentence_index, {}).get("sentiment", [])
    return {"id": t.label, "label": t.data.get("label", t.label), "score": t.score,
            "sentiment": senti[0].label if senti else None, "span": _span(t), "cause": t.data.get("cause"),
            "cause_evidence": t.data.get("cause_evidence")}


def _sentence(index: int, start: int, end: int, layers: dict[str, list[Annotation]],
              need_score: float | None) -> dict[str, Any]:
    need = layers.get("need", [])
    return {"span": [start, end], "sentiment": _sentiment(layers.get("sentiment", [])),
            "themes": [t.label for t in layers.get("theme", [])],
            "need": {"text": need[0].label, "kind": need[0].data.get("kind"), "score": need[0].score} if need else None,
            "need_score": need_score}


@dataclass
class TagResult:
    out: Path
    rows: int
    tagged: int
    rejected: int
    layouts: list[dict[str, Any]] = field(default_factory=list)  # per file: which column fed which field

    def as_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "rows": self.rows, "tagged": self.tagged, "rejected": self.rejected,
                "layouts": self.layouts}


def tag(settings: Settings, inputs: Sequence[str | Path], out: str | Path, *, taxonomy: str | Path | None = None,
        themes_model: str | Path | None = None, progress: Any = None, **collect_options: Any) -> TagResult:
    """Tag ``inputs`` and write JSON lines to ``out``; nothing is stored."""
    from .collectors import collect, expand_inputs
    from .jobs import NullProgress, batched

    context = StageContext(taxonomy=taxonomy or settings.taxonomy, themes_model=themes_model or settings.themes_model,
                           models_dir=settings.models_dir, shared_model=settings.shared_model,
                           backend=settings.backend)
    pipeline = Pipeline.from_names(TAG_PIPELINE, context)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = TagResult(out, 0, 0, 0)
    progress = progress or NullProgress()
    progress.start("tag", None)
    items = collect(expand_inputs(inputs), timezone=settings.timezone, on_layout=result.layouts.append,
                    **collect_options)
    if settings.redact_pii:  # the output quotes need and cue phrases: redact them as ingest would
        from .jobs import _redact
        from .privacy import Redactor

        redactor = Redactor()
        items = (_redact(item, redactor) for item in items)
    with out.open("w", encoding="utf-8") as fh:
        for batch in batched(items, settings.batch_size):
            for line in _tag_batch(pipeline, batch, result):
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            progress.advance(len(batch))
    progress.finish()
    return result


def _tag_batch(pipeline: Pipeline, batch: list[Comment | Reject], result: TagResult) -> Iterator[dict[str, Any]]:
    comments = [i for i in batch if isinstance(i, Comment)]
    done = iter(pipeline.run(comments))
    for item in batch:
        result.rows += 1
        if isinstance(item, Reject):
            result.rejected += 1
            yield {"id": item.source_id, "line": item.line, "stored_id": None,
                   "rejected": {"file": item.source_file, "line": item.line, "field": item.field,
                                "reason": item.reason}}
        else:
            result.tagged += 1
            yield record(next(done))
