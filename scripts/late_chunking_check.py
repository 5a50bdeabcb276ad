#!/usr/bin/env python
"""An experiment (issue 16.5, the pipeline / encoder ratio): could each comment be encoded once?

Today a comment of several sentences costs two encoder passes: one per sentence (the theme, need and
sentence-sentiment heads read those vectors) and one over the whole text (the comment-level heads). "Late
chunking" would run only the whole-text pass and pool each sentence's vector out of its tokens there. This
script measures what that would do to the sentences of a mined demo store: the cosine of each pooled
vector to the sentence's own (cached) vector, and the demo theme precision (``demo_theme_precision.py``'s
scoring) with the sentence vectors replaced by the pooled ones. Sentences of one-sentence comments, of
comments over 500 characters and of comments with emoji keep their own vectors.

Measured on the demo (``scripts/demo.sh`` first), 2026-12-01: cosine 0.52 mean (10th percentile -0.13) on
6,978 of 8,581 sentences; pooled theme precision 0.930 with 5 themes under 0.85, against 0.940 and 3 with
the sentences' own vectors. So the second pass stays.

Usage:
    .venv/bin/python scripts/late_chunking_check.py [--data-dir voiceminer-data]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default="voiceminer-data")
    args = ap.parse_args()

    import demo_theme_precision as d
    import torch

    from voiceminer import jobs
    from voiceminer.config import Settings
    from voiceminer.models.encoder import encoder_text
    from voiceminer.models.shared import SharedModel
    from voiceminer.pipeline.themes import CachedEncoder, taxonomy_vector_key
    from voiceminer.storage.vectors import VectorCache
    from voiceminer.themes import ZeroShotThemes, calibration_for, load_taxonomy

    settings = Settings.load(env={}, config_path=ROOT / "corpora" / "demo" / "voiceminer.toml",
                             overrides={"data_dir": args.data_dir})
    store = jobs.open_store(settings)
    rows, sentences = d._stored_sentences(store)
    texts = {c.id: c.text for c in store.iter_comments()}
    shared = SharedModel(companion=False, backend=settings.backend).load()
    encoder = shared.encoder_
    found = VectorCache(store, encoder.vector_key).get(h for *_, h in rows)
    if len(found) < len({h for *_, h in rows}):
        raise SystemExit(f"the store lacks sentence vectors under {encoder.vector_key}: mine the demo first")
    own = np.stack([found[h] for *_, h in rows])
    plain = SharedModel(companion=False, backend="torch").load().encoder_  # token vectors need torch
    by_comment: dict[str, list[int]] = defaultdict(list)
    for k, (cid, *_) in enumerate(rows):
        by_comment[cid].append(k)
    pooled, late = own.copy(), []
    multi = [c for c, ks in by_comment.items()
             if len(ks) > 1 and len(texts[c]) <= 500 and encoder_text(texts[c]) == texts[c]]
    with torch.inference_mode():
        for start in range(0, len(multi), 16):
            part = multi[start:start + 16]
            batch = plain.tokenizer_([texts[c] for c in part], padding=True, truncation=True, max_length=128,
                                     return_tensors="pt", return_offsets_mapping=True)
            offsets = batch.pop("offset_mapping").numpy()
            hidden = plain.model_(**batch).last_hidden_state.float().numpy()
            lengths = batch["attention_mask"].numpy().sum(1)
            for r, c in enumerate(part):
                for k in by_comment[c]:
                    _, a, b, _ = rows[k]
                    tokens = [i for i in range(1, lengths[r] - 1) if offsets[r, i, 1] > a and offsets[r, i, 0] < b]
                    if tokens:
                        pooled[k] = hidden[r, tokens].mean(0)
                        late.append(k)

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    cos = (unit(pooled[late]) * unit(own[late])).sum(1)
    print(f"{len(late):,} of {len(rows):,} sentences pooled from their comment's pass: cosine to their own vectors "
          f"{cos.mean():.2f} mean, {np.percentile(cos, 10):.2f} 10th percentile")
    zs = ZeroShotThemes(load_taxonomy(settings.taxonomy), **calibration_for(encoder)).fit_encoder(
        CachedEncoder(encoder, VectorCache(store, taxonomy_vector_key(encoder.vector_key))), shared.heads_)
    for name, vectors in (("own sentence vectors", own), ("pooled (late chunking)", pooled)):
        scores = d.score_store(settings, assigned=d._assigned(rows, zs.predict(vectors, sentences)))
        under = d.failures(scores)
        print(f"{name}: pooled precision {d.pooled_precision(scores):.3f}, {len(under)} themes under 0.85: "
              + ", ".join(f"{s.id} {s.precision:.2f}" for s in under))


if __name__ == "__main__":
    main()
