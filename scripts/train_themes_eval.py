"""Measure the theme models on the development data and print the numbers.

    .venv/bin/python scripts/train_themes_eval.py calibrate   # zero-shot constants, TRAIN split only
                                                              # (--write: into the shared artifact's config;
                                                              # --objective public: without the taxonomy's examples)
    .venv/bin/python scripts/train_themes_eval.py calibrate-confirm [--write]  # the confirming classifiers: their C, the cause share and choice
    .venv/bin/python scripts/train_themes_eval.py zeroshot    # zero-shot on the VAL split
    .venv/bin/python scripts/train_themes_eval.py trained     # ThemeModel: fit on train, measure on val
                                                              # (first: the lexical block off / on)
    .venv/bin/python scripts/train_themes_eval.py trained --fine-tune [--only semeval14|airline] [--max-train N]
                                          # frozen vs contrastively fine-tuned encoder: out-of-fold inside
                                          # TRAIN, then VAL once (see trained_fine_tune for the options)
    .venv/bin/python scripts/train_themes_eval.py discover    # NMI / unclustered / determinism / time
    .venv/bin/python scripts/train_themes_eval.py calibrate-bare [--max-train N] [--write]
                                          # bare-taxonomy constants (z-scores), TRAIN splits only
    .venv/bin/python scripts/train_themes_eval.py bare        # bare taxonomies: zero-shot vs keywords, VAL split
    .venv/bin/python scripts/train_themes_eval.py all

Datasets come from voiceminer.evaluation.datasets (``../shared/datasets``); encoder
features are cached under ``$VOICEMINER_CACHE`` (default /tmp/voiceminer-theme-cache).
Zero-shot themes are mapped onto the datasets' labels by MAPPING below.

With the shipped shared encoder (models/shared-v1) and the background phrases, zero-shot on val:
  SemEval-14 micro-F1 0.754, airline reasons macro-F1 0.490 (without them, VOICEMINER_NO_BACKGROUND=1:
  0.592 and 0.466). `voiceminer evaluate` prints the same rows.
shared-v2, `zeroshot` on val: the shipped calibration (margin 0.03, no cause lead) SemEval-14 micro-F1 0.786,
  airline macro-F1 0.486 (accuracy 0.613); what `calibrate` now chooses (objective with the taxonomy's own
  examples, F0.5: margin 0, cause lead 0.15; not shipped, see ZeroShotThemes' module doc) 0.767, 0.485
  (0.621). The vectorised rule calibrate searches with (Ranked.decide) is checked against
  hits_from_scores on every run.

Bare taxonomies (src/voiceminer/evaluation/bare_*.yaml: labels + one-line descriptions, no examples),
through the product path (sentences, union per comment), shared-v2, VAL split (`bare`; micro / macro F1):
                         keywords (same text)   zero-shot      precision kw / zs
  airline reasons (9)    0.395 / 0.348          0.425 / 0.376  0.305 / 0.318
  SemEval-14 (4)         0.597 / 0.587          0.741 / 0.713  0.759 / 0.666
  MAMS-ACSA (7)          0.678 / 0.704          0.687 / 0.670  0.691 / 0.646   (macro lower)
  SemEval-15/16 rest (5) 0.631 / 0.551          0.652 / 0.505  0.710 / 0.568   (macro lower)
  SemEval-15/16 lapt (18) 0.521 / 0.500         0.531 / 0.478  0.439 / 0.495   (macro lower)
Constants from `calibrate-bare --max-train 400 --write` (train splits only; objective: the smallest lead in
micro-F1 over keywords, across the sets; zeroshot 2.1.0: sentence-centred raw scores, a bar growing with
ln(number of themes), label/description words +4/+3). Train micro-F1 vs keywords: airline 0.427/0.388,
SemEval-14 0.743/0.596, MAMS 0.670/0.652, restaurants 0.669/0.622, laptops 0.550/0.520. Leave one taxonomy
out (constants chosen on the other four): airline 0.414, SemEval-14 0.743, MAMS 0.636 (under keywords),
restaurants 0.669, laptops 0.550. Before (2.0.0: z >= 3, no centring, +3/+1) val was airline 0.460/0.406,
SemEval-14 0.711/0.658, MAMS 0.655/0.643, restaurants 0.705/0.539, laptops 0.446/0.388. The full-taxonomy
zero-shot rows are unchanged by the bare path (themes with examples keep their rules).

Earlier, with the base all-MiniLM-L6-v2 encoder (2 shared CPU cores, busy; before the background phrases):
  zero-shot, val:  SemEval-14 categories micro-F1 0.651; airline reasons macro-F1 0.321 (accuracy 0.399)
  trained, val:    SemEval-14 micro-F1 0.823 (mean, LR) / 0.837 (rich, LR) / 0.843 (rich, MLP)
                   airline macro-F1 0.501 (mean, LR) / 0.529 (rich, LR) / 0.530 (rich, MLP)
  discover:        NMI 0.243 raw tweets, 0.259 with @handles/URLs removed; 5% unclustered; ~8-10 s
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import f1_score, normalized_mutual_info_score

from voiceminer.evaluation.datasets import airline_reasons, semeval14_categories, split
from voiceminer.models.encoder import SentenceEncoder
from voiceminer.themes import ThemeModel, ZeroShotThemes, calibration_for, discover
from voiceminer.themes.features import rich_features
from voiceminer.themes.zeroshot import CALIBRATED

MAPPING = yaml.safe_load("""
semeval14:            # taxonomy theme (or cause) -> SemEval-2014 category; nothing mapped -> anecdotes/miscellaneous
  product: food
  availability.range: food
  staff: service
  professionalism: service
  speed: service
  support: service
  price: price
  cleanliness: ambience
  environment: ambience
airline:              # first mapped hit wins (cause before theme); no hit -> Can't Tell
  disruption.delayed: Late Flight
  speed.queue: longlines
  speed.hold_time: Customer Service Issue
  delivery.lost: Lost Luggage
  delivery.damaged: Damaged Luggage
  delivery: Lost Luggage
  disruption: Cancelled Flight
  support: Customer Service Issue
  communication: Customer Service Issue
  professionalism: Customer Service Issue
  staff: Flight Attendant Complaints
  booking: Flight Booking Problems
  billing: Customer Service Issue
  environment: Bad Flight
  product: Bad Flight
  cleanliness: Bad Flight
  speed: Late Flight
""")
RICH = "mean+max+mean-2+mean-3"
_SHARED: list = []  # (encoder, heads or None), loaded once


def _loaded() -> tuple:
    if not _SHARED:
        which = os.environ.get("VOICEMINER_THEMES_ENCODER", "")
        if which in ("base", "base-mpnet"):  # an experiment: a plain base encoder, not fine-tuned
            base = "all-mpnet-base-v2" if which == "base-mpnet" else None
            _SHARED.append((SentenceEncoder(base=base, backend=os.environ.get("VOICEMINER_BACKEND", "torch")).load(),
                            None))
        else:
            from voiceminer.models.shared import SharedModel
            shared = SharedModel(companion=False).load()
            _SHARED.append((shared.encoder_, shared.heads_))
    return _SHARED[0]


def encoder() -> SentenceEncoder:
    """The shipped shared encoder (what the pipeline uses); VOICEMINER_THEMES_ENCODER=base for the plain PyPI
    MiniLM, base-mpnet for the plain all-mpnet-base-v2 (shared-v2's base, not fine-tuned)."""
    return _loaded()[0]


def heads():
    """The shared model's heads (None with the PyPI encoder): zero-shot projects some of them out."""
    return _loaded()[1]


def project_out() -> tuple[str, ...]:
    """``--project-out a,b`` for calibrate: the heads whose directions zero-shot removes."""
    if "--project-out" not in sys.argv:
        return ()
    return tuple(t for t in sys.argv[sys.argv.index("--project-out") + 1].split(",") if t)


def features(texts: list[str], name: str) -> np.ndarray:
    """Encoder features, cached per (encoder, feature set, text list)."""
    cache = Path(os.environ.get("VOICEMINER_CACHE", "/tmp/voiceminer-theme-cache"))
    cache.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(("\x1f".join([encoder().key, name, *texts])).encode()).hexdigest()[:20]
    path = cache / f"{name}-{key}.npy"
    if path.exists():
        return np.load(path)
    enc = encoder()
    X = enc.encode(texts, normalize=True) if name == "mean" else rich_features(enc, texts, name)
    np.save(path, X)
    return X


def data(which: str) -> dict:
    rest = split(semeval14_categories(), which)
    air = split(airline_reasons(), which)
    return {"rest_t": [e.text for e in rest], "rest_y": [list(e.label) for e in rest],
            "air_t": [e.text for e in air], "air_y": [e.label for e in air]}


# ---- zero-shot -------------------------------------------------------------------------------
def semeval_matrices(hits, gold) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(categories, gold, predicted) indicator matrices of zero-shot hits mapped onto SemEval-14's categories."""
    cats = sorted({c for g in gold for c in g} | {"anecdotes/miscellaneous"})
    pred = []
    for hs in hits:
        p = {MAPPING["semeval14"].get(h.cause_id) or MAPPING["semeval14"].get(h.id) for h in hs} - {None}
        pred.append(p or {"anecdotes/miscellaneous"})
    Y = np.array([[c in g for c in cats] for g in gold]); P = np.array([[c in p for c in cats] for p in pred])
    return cats, Y, P


def zs_semeval(hits, gold) -> float:
    _, Y, P = semeval_matrices(hits, gold)
    return float(f1_score(Y, P, average="micro"))


def zs_airline(hits, gold) -> tuple[float, float]:
    pred = []
    for hs in hits:
        mapped = [MAPPING["airline"].get(h.cause_id) or MAPPING["airline"].get(h.id) for h in hs]
        pred.append(next((m for m in mapped if m), "Can't Tell"))
    return float(f1_score(gold, pred, average="macro")), float(np.mean(np.array(pred) == np.array(gold)))


def zs_eval(zs: ZeroShotThemes, d: dict, rest_s=None, air_s=None) -> dict:
    rest_v, air_v = features(d["rest_t"], "mean"), features(d["air_t"], "mean")
    rest_s = zs.scores(rest_v) if rest_s is None else rest_s
    air_s = zs.scores(air_v) if air_s is None else air_s

    def hits(s, v):  # ZeroShotThemes.predict(v) from precomputed scores s
        return zs.hits_from_scores(s, zs.background_scores(v), zs.confirmation(v), zs.cause_confirmation(v))

    mf1, acc = zs_airline(hits(air_s, air_v), d["air_y"])
    rest = hits(rest_s, rest_v)
    return {"semeval14_micro_f1": zs_semeval(rest, d["rest_y"]), "airline_macro_f1": mf1, "airline_accuracy": acc}


# ---- calibration: a vectorised ZeroShotThemes.hits_from_scores (themes with examples only) ----------------
class Decided:
    """Per sentence, what :meth:`ZeroShotThemes.hits_from_scores` decides for one set of constants, as arrays:
    ``themes[:, r]`` the column of the r-th assigned theme (-1: none), ``causes[:, r]`` its cause (-1: none).
    Built from :class:`Ranked` (the constant-free part, computed once per score matrix)."""

    def __init__(self, themes: np.ndarray, causes: np.ndarray) -> None:
        self.themes, self.causes = themes, causes


class Ranked:
    """The parts of the decision that do not depend on threshold, margin, lead, child threshold and cause
    lead: top-level themes sorted per sentence, each theme's best cause and the gap to its next sibling."""

    def __init__(self, zs: ZeroShotThemes, scores: np.ndarray, background: np.ndarray | None) -> None:
        tax = zs.taxonomy_
        self.max_themes = zs.max_themes
        top = np.array([i for i, t in enumerate(tax) if t.parent is None], np.int64)
        st = scores[:, top]
        order = np.argsort(-st, 1, kind="stable")[:, :max(zs.max_themes, 2)]
        self.cols = top[order]                                   # (n, r) taxonomy columns, best first
        self.vals = np.take_along_axis(st, order, 1)
        self.bg_ok = np.ones(len(scores), bool) if background is None else background < self.vals[:, 0]
        n, T = scores.shape
        self.cause = np.full((n, T), -1, np.int64)
        self.cause_score = np.full((n, T), -np.inf, np.float32)
        self.cause_gap = np.full((n, T), np.inf, np.float32)
        for j in top:
            kids = np.array([tax.ids.index(c) for c in tax.themes[j].children], np.int64)
            if not len(kids):
                continue
            ks = scores[:, kids]
            o = np.argsort(-ks, 1, kind="stable")
            self.cause[:, j] = kids[o[:, 0]]
            self.cause_score[:, j] = ks[np.arange(n), o[:, 0]]
            if len(kids) > 1:
                self.cause_gap[:, j] = self.cause_score[:, j] - ks[np.arange(n), o[:, 1]]

    def decide(self, threshold: float, margin: float, child_threshold: float, lead: float = 0.0,
               cause_lead: float = 0.0) -> Decided:
        best = self.vals[:, 0]
        ok = self.bg_ok & ((best - self.vals[:, 1] >= lead) if lead > 0 else True)
        r = min(self.max_themes, self.vals.shape[1])
        assigned = ok[:, None] & (self.vals[:, :r] >= threshold) & (self.vals[:, :r] >= best[:, None] - margin)
        themes = np.where(assigned, self.cols[:, :r], -1)
        rows = np.arange(len(best))[:, None]
        cols = np.maximum(themes, 0)
        has = (themes >= 0) & (self.cause[rows, cols] >= 0) & (self.cause_score[rows, cols] >= child_threshold)
        if cause_lead > 0:
            has &= self.cause_gap[rows, cols] >= cause_lead
        return Decided(themes, np.where(has, self.cause[rows, cols], -1))


def _lookup(zs: ZeroShotThemes, table: dict, names: list[str]) -> np.ndarray:
    """Per taxonomy column, the index in ``names`` of what ``table`` maps it to (-1: nothing)."""
    return np.array([names.index(table[i]) if i in table else -1 for i in zs.taxonomy_.ids], np.int64)


def fast_semeval(zs: ZeroShotThemes, dec: Decided, gold: list, scores: bool = False):
    """:func:`zs_semeval` from a :class:`Decided` (``scores``: (micro-F1, precision, recall))."""
    cats = sorted({c for g in gold for c in g} | {"anecdotes/miscellaneous"})
    lut = _lookup(zs, MAPPING["semeval14"], cats)
    mapped = np.where(dec.causes >= 0, lut[np.maximum(dec.causes, 0)], -1)
    mapped = np.where((mapped < 0) & (dec.themes >= 0), lut[np.maximum(dec.themes, 0)], mapped)
    P = np.zeros((len(gold), len(cats)), bool)
    for r in range(mapped.shape[1]):
        hit = mapped[:, r] >= 0
        P[np.flatnonzero(hit), mapped[hit, r]] = True
    P[~P.any(1), cats.index("anecdotes/miscellaneous")] = True
    Y = np.array([[c in g for c in cats] for g in gold])
    if scores:
        tp = (P & Y).sum()
        return float(f1_score(Y, P, average="micro")), float(tp / max(P.sum(), 1)), float(tp / max(Y.sum(), 1))
    return float(f1_score(Y, P, average="micro"))


def fast_airline(zs: ZeroShotThemes, dec: Decided, gold: list) -> tuple[float, float]:
    """:func:`zs_airline` from a :class:`Decided`."""
    names = sorted(set(MAPPING["airline"].values()) | {"Can't Tell"})
    lut = _lookup(zs, MAPPING["airline"], names)
    mapped = np.where(dec.causes >= 0, lut[np.maximum(dec.causes, 0)], -1)
    mapped = np.where((mapped < 0) & (dec.themes >= 0), lut[np.maximum(dec.themes, 0)], mapped)
    first = np.full(len(gold), names.index("Can't Tell"))
    for r in reversed(range(mapped.shape[1])):
        first = np.where(mapped[:, r] >= 0, mapped[:, r], first)
    pred = np.array(names)[first]
    return float(f1_score(gold, pred, average="macro")), float(np.mean(pred == np.array(gold)))


def taxonomy_counts(zs: ZeroShotThemes, dec: Decided, owner: np.ndarray) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of the taxonomy's own examples, each scored with
    itself left out (:meth:`ZeroShotThemes.example_scores`). Labels are themes and causes: an example of a
    cause should get its theme and that cause, one of a theme its theme (any of its causes is then neither
    right nor wrong); anything else is a false positive. ``owner`` -1: a background phrase (wants nothing)."""
    tax = zs.taxonomy_
    col = {t: i for i, t in enumerate(tax.ids)}
    parent = np.array([col[t.parent] if t.parent else i for i, t in enumerate(tax)], np.int64)
    tp = fp = fn = 0
    for i, o in enumerate(owner):
        got = {int(x) for x in dec.themes[i] if x >= 0} | {int(x) for x in dec.causes[i] if x >= 0}
        if o < 0:
            fp += len(got)
            continue
        want = {int(o), int(parent[o])}
        neutral = {col[c] for c in tax.themes[o].children} if parent[o] == o else set()
        tp += len(got & want)
        fn += len(want - got)
        fp += len(got - want - neutral)
    return tp, fp, fn


def f_beta(tp: int, fp: int, fn: int, beta: float = 0.5) -> float:
    b2 = beta * beta
    return (1 + b2) * tp / max((1 + b2) * tp + b2 * fn + fp, 1)


# The grid calibrate searches; `--objective public` drops the taxonomy's own examples from the objective (the
# calibration before 2.2.0: it only sees the themes SemEval-14 and the airline reasons map to).
CALIBRATE_GRID = {"desc_weight": (0.0, 0.3, 0.5), "leaf": (False, True),
                  "threshold": tuple(round(float(t), 3) for t in np.arange(0.3, 0.71, 0.05)),
                  "margin": (0.0, 0.03, 0.06), "child_threshold": (0.3, 0.4, 0.5),
                  "lead": (0.0, 0.02, 0.04, 0.06, 0.08), "cause_lead": (0.0, 0.03, 0.06, 0.1, 0.15),
                  "geometry_mix": (0.0, 0.25, 0.5, 0.75)}  # only with a geometry map (--geometry FILE); under 1


def calibrate() -> None:
    """Zero-shot constants for the shared encoder, on TRAIN data only. Objective (2.2.0): the mean of
    SemEval-14 micro-F1, airline-reason macro-F1 (train split) and the micro-F0.5 of the taxonomy's own
    example phrases, each scored with itself left out (and the background phrases, which should get no
    theme): the public sets only see the themes they map to, the examples see every theme, and F0.5
    because a wrong theme costs more than a missing one (issue 14)."""
    d = data("train")
    objective = _arg("--objective", "with-taxonomy")
    out = project_out()
    g = dict(CALIBRATE_GRID)
    for item in _arg("--fix", "").split(","):  # --fix cause_lead=0,leaf=false: search the rest of the grid
        if item:
            name, value = item.split("=", 1)
            if name not in g:
                raise SystemExit(f"--fix {name}: not a grid dimension ({', '.join(g)})")
            g[name] = (json.loads(value),)
    geometry = _arg("--geometry")  # a geometry map (scripts/encoder_geometry.py --write): its mix is searched too
    if geometry is None:
        g["geometry_mix"] = (0.0,)
    else:
        from voiceminer.themes.zeroshot import load_geometry_map

        geometry_map = load_geometry_map(geometry)  # read once, for every mix
    rest_v, air_v = features(d["rest_t"], "mean"), features(d["air_t"], "mean")
    best, checked = (-1.0, None), False
    for w, leaf, mix in itertools.product(g["desc_weight"], g["leaf"], g["geometry_mix"]):
        zs = ZeroShotThemes(desc_weight=w, top_k=3, project_out=out, leaf=leaf, geometry_mix=mix,
                            geometry_map=geometry_map if mix else None).fit_encoder(encoder(), heads())
        rv, av = zs._project(rest_v), zs._project(air_v)
        rest, air = Ranked(zs, zs._scores(rv), zs._background(rv)), Ranked(zs, zs._scores(av), zs._background(av))
        ex_s, owner, ex_bg = zs.example_scores()
        bgs, bg_bg = zs.background_example_scores()
        tax = Ranked(zs, np.vstack([ex_s, bgs]), np.concatenate([ex_bg, bg_bg]))
        owner = np.concatenate([owner, np.full(len(bgs), -1)])
        for t, m, c, ld, cl in itertools.product(g["threshold"], g["margin"], g["child_threshold"], g["lead"],
                                                 g["cause_lead"]):
            if not checked:  # the vectorised rule is the stage's rule
                zs.threshold, zs.margin, zs.child_threshold, zs.lead, zs.cause_lead = t, m, c, ld, cl
                slow = zs.hits_from_scores(zs._scores(rv[:300]), zs._background(rv[:300]))
                dec = Ranked(zs, zs._scores(rv[:300]), zs._background(rv[:300])).decide(t, m, c, ld, cl)
                assert [[(h.id, h.cause_id) for h in row] for row in slow] == [
                    [(zs.taxonomy_.ids[a], zs.taxonomy_.ids[b] if b >= 0 else None) for a, b in zip(ta, ca) if a >= 0]
                    for ta, ca in zip(dec.themes, dec.causes)]
                checked = True
            se = fast_semeval(zs, rest.decide(t, m, c, ld, cl), d["rest_y"])
            am, acc = fast_airline(zs, air.decide(t, m, c, ld, cl), d["air_y"])
            tp, fp, fn = taxonomy_counts(zs, tax.decide(t, m, c, ld, cl), owner)
            ex = f_beta(tp, fp, fn)
            obj = (se + am + ex) / 3 if objective == "with-taxonomy" else (se + am) / 2
            if obj > best[0]:
                best = (obj, {"desc_weight": w, "top_k": 3, "leaf": leaf, "threshold": t, "margin": m,
                              "child_threshold": c, "lead": ld, "cause_lead": cl, "project_out": list(out),
                              "geometry_mix": mix, "geometry_map": Path(geometry).name if mix else None,
                              "semeval14_micro_f1": round(se, 4), "airline_macro_f1": round(am, 4),
                              "airline_accuracy": round(acc, 4), "taxonomy_examples_f05": round(ex, 4),
                              "taxonomy_examples_precision": round(tp / max(tp + fp, 1), 4),
                              "taxonomy_examples_recall": round(tp / max(tp + fn, 1), 4), "objective": objective})
        print(f"  desc_weight {w} leaf {leaf} geometry_mix {mix}: best so far {best[1]}", flush=True)
    print("calibrate (train split): best", best[1], flush=True)
    artifact = getattr(encoder(), "artifact", None)
    if "--write" in sys.argv and artifact is not None:  # the encoder artifact carries its own calibration
        cfg_path = Path(artifact) / "config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        command = "python scripts/train_themes_eval.py calibrate" + (f" --project-out {','.join(out)}" if out else "") \
            + (f" --objective {objective}" if objective != "with-taxonomy" else "") \
            + (f" --fix {_arg('--fix')}" if _arg("--fix") else "") \
            + (f" --geometry {_arg('--geometry')}" if geometry else "") + " --write"
        cfg["zero_shot"] = {k: v for k, v in cfg.get("zero_shot", {}).items()
                            if k not in CALIBRATED or k in BARE_KEYS + CONFIRM_KEYS} | {
            k: best[1][k] for k in CALIBRATED
            if k in best[1] and best[1][k] is not None and (k != "project_out" or out)} | {
            "command": command, "train_split": {k: v for k, v in best[1].items() if k not in CALIBRATED}}
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        print(f"wrote the calibration into {cfg_path}")


CONFIRM_KEYS = ("confirm", "confirm_c", "cause_confirm", "cause_confirm_c", "cause_pick")  # written by calibrate-confirm
CONFIRM_CS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
CAUSE_SHARES = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
CAUSE_PICKS = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)


def _cv_c(x: np.ndarray, y: np.ndarray) -> tuple[float, dict[float, float]]:
    """The C of a multinomial logistic regression with the lowest 5-fold cross-validated log-loss, and the
    loss per C."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    cv = LogisticRegressionCV(Cs=list(CONFIRM_CS), cv=StratifiedKFold(5, shuffle=True, random_state=0),
                              scoring="neg_log_loss", max_iter=5000).fit(x, y)
    losses = -next(iter(cv.scores_.values())).mean(0)
    return float(cv.C_[0]), {cc: round(float(loss), 4) for cc, loss in zip(CONFIRM_CS, losses)}


def cause_share_curve(zs: ZeroShotThemes, c: float) -> dict[tuple[float, float], dict[str, float]]:
    """Cause-level precision, recall and F0.5 on the taxonomy's own example phrases for each cause share in
    CAUSE_SHARES and cause-choice weight in CAUSE_PICKS (keys ``(share, pick)``): each phrase's cause as the
    product's rule gives it (``ZeroShotThemes._hit``) from its scores with
    the phrase left out of the pools (:meth:`ZeroShotThemes.example_scores`) and the cause classifier's
    out-of-fold probabilities (5 folds, inverse regularisation ``c``). A cause's phrase is right with its own
    cause only; a top-level theme's own phrase (its general reading) with no cause."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from voiceminer.themes.zeroshot import proba_columns

    x, y = zs.confirm_data(by_node=True)
    proba = cross_val_predict(LogisticRegression(C=c, max_iter=5000), x, y, method="predict_proba",
                              cv=StratifiedKFold(5, shuffle=True, random_state=0))
    tax = zs.taxonomy_
    oof = proba_columns(proba, np.unique(y), len(tax), 0.0)
    scores, owner, _ = zs.example_scores()
    bare, before = zs.bare_mask(), (zs.cause_confirm, zs.cause_pick)
    curve = {}
    try:
        for share, pick in ((s, p) for s in CAUSE_SHARES for p in CAUSE_PICKS):
            zs.cause_confirm, zs.cause_pick = share, pick
            tp = fp = fn = 0
            for r, o in enumerate(owner):
                node = tax.themes[o]
                theme = tax[node.parent] if node.parent else node
                if not theme.children:
                    continue
                cause = zs._hit(theme, 0.0, scores[r], bare, oof[r] if share > 0 or pick > 0 else None).cause_id
                truth = node.id if node.parent else None
                tp += cause is not None and cause == truth
                fp += cause is not None and cause != truth
                fn += truth is not None and cause != truth
            p, r_ = float(tp / max(tp + fp, 1)), float(tp / max(tp + fn, 1))
            curve[share, pick] = {"precision": round(p, 4), "recall": round(r_, 4),
                            "f05": round(1.25 * p * r_ / max(0.25 * p + r_, 1e-9), 4)}
    finally:
        zs.cause_confirm, zs.cause_pick = before
    return curve


def calibrate_confirm() -> None:
    """The confirming classifiers (``confirm`` and ``cause_confirm`` in the zero-shot calibration, see
    ZeroShotThemes), chosen on the taxonomy's example phrases and the background phrases (nothing else is read):
    each one's C by 5-fold cross-validated log-loss; the theme threshold fixed at 0.5 (the theme more likely than
    every other theme and no theme together); the cause share by the cause-level F0.5 of out-of-fold
    probabilities (:func:`cause_share_curve`), then at that share the weight the cause classifier has in choosing
    the cause (``cause_pick``) by the same figure. Prints the train split's SemEval-14 and airline figures without
    and with them; ``--write`` stores the five constants."""
    constants = {k: v for k, v in calibration_for(encoder()).items() if k not in CONFIRM_KEYS}
    zs = ZeroShotThemes(**constants).fit_encoder(encoder(), heads())
    c, losses = _cv_c(*zs.confirm_data())
    print("confirm: 5-fold log-loss per C on the taxonomy's phrases:", losses, "-> C", c, flush=True)
    cause_c, losses = _cv_c(*zs.confirm_data(by_node=True))
    print("cause_confirm: 5-fold log-loss per C on the phrases labelled by node:", losses, "-> C", cause_c, flush=True)
    curve = cause_share_curve(zs, cause_c)
    # Two decisions, taken in turn: whether a cause stands (the share, with the cosine's choice of cause), then
    # which cause (the weight, at that share). Searched jointly, the phrases' F0.5 moves the share to 0.1 with
    # weight 1 (0.545 against 0.535): more causes stand, and on the demo the themes under 0.85 went from 5 to 7.
    share = max(CAUSE_SHARES, key=lambda s: (curve[s, 0.0]["f05"], -s))
    pick = max(CAUSE_PICKS, key=lambda p: (curve[share, p]["f05"], -p))
    print("cause_confirm, cause_pick: cause-level figures on the phrases per (share, pick):",
          {f"{s},{p}": v for (s, p), v in curve.items()}, "-> share", share, "pick", pick, flush=True)
    from sklearn.metrics import precision_score

    d = data("train")
    rest_v = features(d["rest_t"], "mean")
    for label, confirm, cause_confirm, cause_pick in (
            ("without confirm", 0.0, 0.0, 0.0), ("with confirm 0.5", 0.5, 0.0, 0.0),
            (f"with confirm 0.5, cause_confirm {share} and cause_pick {pick}", 0.5, share, pick)):
        zs.confirm, zs.confirm_c, zs.cause_confirm, zs.cause_confirm_c = confirm, c, cause_confirm, cause_c
        zs.cause_pick = cause_pick
        result = zs_eval(zs.fit_confirm(), d)
        cats, Y, P = semeval_matrices(zs.predict(rest_v), d["rest_y"])
        precision = precision_score(Y, P, average=None, zero_division=0)
        print(f"train split {label}:", {k: round(v, 4) for k, v in result.items()},
              "SemEval-14 precision per category:", {k: round(float(v), 3) for k, v in zip(cats, precision)},
              flush=True)
    after = result
    artifact = getattr(encoder(), "artifact", None)
    if "--write" in sys.argv and artifact is not None:
        cfg_path = Path(artifact) / "config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        cfg["zero_shot"] |= {"confirm": 0.5, "confirm_c": c, "cause_confirm": share, "cause_confirm_c": cause_c,
                             "cause_pick": pick,
                             "confirm_command": "python scripts/train_themes_eval.py calibrate-confirm --write",
                             "confirm_train_split": {k: round(v, 4) for k, v in after.items()}}
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        print(f"wrote the confirmation into {cfg_path}")


BARE_KEYS = ("view_weights", "z_threshold", "z_margin", "label_weight", "description_weight", "centre", "size_weight")


def zeroshot() -> None:
    if os.environ.get("VOICEMINER_NO_BACKGROUND"):
        r = zs_eval(ZeroShotThemes(background=()).fit_encoder(encoder()), data("val"))
        print("zeroshot without background phrases (val split):", {k: round(v, 4) for k, v in r.items()})
    zs = ZeroShotThemes(**calibration_for(encoder())).fit_encoder(encoder(), heads())
    r = zs_eval(zs, data("val"))
    print("zeroshot (val split):", {k: round(v, 4) for k, v in r.items()}, flush=True)


# ---- bare taxonomies (labels + descriptions, no examples) ------------------------------------
BARE_GRID = {"view_weights": ((.5, .5, 0), (1 / 3, 1 / 3, 1 / 3)), "centre": (0.0, 0.5),
             "size_weight": (0.0, 1.0, 1.5, 2.0, 2.5),
             "z_threshold": tuple(round(float(t), 2) for t in np.arange(-1.5, 3.51, 0.25)),
             "z_margin": (99.0,), "label_weight": (2.0, 3.0, 4.0, 6.0),
             "description_weight": (0.0, 1.0, 2.0, 3.0)}


def sentence_vectors(texts: list[str]) -> np.ndarray:
    """Encoder vectors of sentences, cached per text (``$VOICEMINER_CACHE/bare-<encoder>.pkl``)."""
    import pickle

    cache_dir = Path(os.environ.get("VOICEMINER_CACHE", "/tmp/voiceminer-theme-cache"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"bare-{encoder().key.replace('/', '_').replace('@', '_')}.pkl"
    cache = pickle.loads(path.read_bytes()) if path.exists() else {}
    todo = [t for t in dict.fromkeys(texts) if t not in cache]
    for start in range(0, len(todo), 512):
        chunk = todo[start:start + 512]
        cache.update(zip(chunk, encoder().encode(chunk)))
        path.write_bytes(pickle.dumps(cache))
        print(f"  encoded {start + len(chunk)}/{len(todo)} sentences", flush=True)
    v = np.stack([cache[t] for t in texts]).astype(np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def bare_sets(which: str, cap: int | None) -> dict:
    """Per bare taxonomy: its split (first ``cap`` comments), sentences, vectors and gold sets."""
    from voiceminer.evaluation import themes_eval
    from voiceminer.evaluation.datasets import ALL_LOADERS
    from voiceminer.themes import load_taxonomy
    from voiceminer.themes.lexical import KeywordThemes

    out = {}
    for key, spec in themes_eval.MAPPING["bare"].items():
        data = split(ALL_LOADERS[spec["loader"]](), which)[:cap]
        tax = load_taxonomy(Path(themes_eval.__file__).with_name(spec["taxonomy"]))
        sentences, owner = themes_eval.segmented([e.text for e in data])
        zs = ZeroShotThemes(tax, project_out=calibration_for(encoder()).get("project_out", ())).fit_encoder(
            encoder(), heads())
        ids = [t.id for t in tax.top]
        gold = themes_eval.bare_gold(data, spec["labels"])
        owners = np.zeros((len(data), len(sentences)), np.float32)
        owners[owner, np.arange(len(sentences))] = 1
        out[key] = {"zs": zs, "v": zs._project(sentence_vectors(sentences)), "sentences": sentences,
                    "words": zs.bare.words(sentences), "owners": owners,
                    "gold": np.array([[t in g for t in ids] for g in gold], bool)}
        mode = themes_eval.keyword_mode(tax, split(ALL_LOADERS[spec["loader"]](), "train"), spec["labels"])
        found = KeywordThemes(tax, mode).predict(sentences)
        out[key]["keywords"] = set_micro_f1(out[key], np.array([[i in row for i in ids] for row in found], bool))
    return out


def set_micro_f1(d: dict, fire: np.ndarray) -> float:
    """Comment-level micro-F1 of per-sentence theme flags ``fire`` (union per comment)."""
    pred, gold = (d["owners"] @ fire.astype(np.float32)) > 0, d["gold"]
    tp, wrong = (pred & gold).sum(), (pred ^ gold).sum()
    return float(2 * tp / max(2 * tp + wrong, 1))


def bare_f1(d: dict, z: np.ndarray, threshold: float, margin: float, max_themes: int = 3) -> float:
    """Comment-level micro-F1 of the bare rule (vectorised ZeroShotThemes.hits_from_scores)."""
    rank = np.argsort(np.argsort(-z, 1, kind="stable"), 1)
    return set_micro_f1(d, (z >= threshold) & (z >= z.max(1, keepdims=True) - margin) & (rank < max_themes))


def calibrate_bare() -> None:
    """Choose the bare-theme constants on the TRAIN splits: the largest smallest lead in micro-F1 over the
    keyword baseline (same text) across the bare taxonomies, and, to show they carry to a taxonomy never
    seen, each taxonomy scored with the constants chosen on the others (leave one taxonomy out)."""
    cap = int(sys.argv[sys.argv.index("--max-train") + 1]) if "--max-train" in sys.argv else None
    sets = bare_sets("train", cap)
    table = {}  # constants -> {taxonomy: micro-F1}
    for w, c in itertools.product(BARE_GRID["view_weights"], BARE_GRID["centre"]):
        for d in sets.values():
            d["zs"].bare.centre = c
        zs = {k: d["zs"].bare.reweight(w) for k, d in sets.items()}
        base = {k: zs[k].z(d["v"]) for k, d in sets.items()}  # label words added below
        for sw, lw, dw, t, m in itertools.product(BARE_GRID["size_weight"], BARE_GRID["label_weight"],
                                                  BARE_GRID["description_weight"], BARE_GRID["z_threshold"],
                                                  BARE_GRID["z_margin"]):
            table[(tuple(round(x, 3) for x in w), t, m, lw, dw, c, sw)] = {
                k: bare_f1(d, base[k] + lw * d["words"][0] + dw * d["words"][1],
                           t + sw * np.log(base[k].shape[1]), m) for k, d in sets.items()}
    lead = lambda scores, keys: min(scores[k] - sets[k]["keywords"] for k in keys)
    mean = lambda scores, keys: float(np.mean([scores[k] for k in keys]))
    best = max(table, key=lambda c: (lead(table[c], sets), mean(table[c], sets)))
    print("keywords (train):", {k: round(d["keywords"], 3) for k, d in sets.items()}, flush=True)
    for held in sets:
        others = [k for k in sets if k != held]
        chosen = max(table, key=lambda c: (lead(table[c], others), mean(table[c], others)))
        print(f"  held out {held}: constants chosen on the others {chosen} -> {table[chosen][held]:.3f} "
              f"(best possible {max(v[held] for v in table.values()):.3f})", flush=True)
    names = ("view_weights", "z_threshold", "z_margin", "label_weight", "description_weight", "centre", "size_weight")
    found = dict(zip(names, [list(best[0]), *best[1:]]))
    print("calibrate-bare (train split" + (f", first {cap} comments per set" if cap else "") + "): best", found,
          {k: round(v, 3) for k, v in table[best].items()}, f"mean {mean(table[best], sets):.3f}", flush=True)
    artifact = getattr(encoder(), "artifact", None)
    if "--write" in sys.argv and artifact is not None:
        cfg_path = Path(artifact) / "config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        cfg["zero_shot"] |= found | {
            "bare_command": "python scripts/train_themes_eval.py calibrate-bare"
                            + (f" --max-train {cap}" if cap else "") + " --write",
            "bare_train_split_micro_f1": {k: round(v, 4) for k, v in table[best].items()}}
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        print(f"wrote the bare-theme calibration into {cfg_path}")


def bare() -> None:
    """Bare taxonomies on the VAL split: zero-shot (the shipped calibration) vs keywords, as evaluate prints."""
    from voiceminer.evaluation import themes_eval
    from voiceminer.evaluation.datasets import ALL_LOADERS

    shared = type("Shared", (), {"encoder_": encoder(), "heads_": heads()})()
    print(f"{'bare taxonomy':<26} {'n':>5} {'themes':>6}  {'keywords micro/macro':>21}  {'zero-shot micro/macro':>22}"
          f"  {'precision kw/zs':>16}")
    for key, spec in themes_eval.MAPPING["bare"].items():
        r = themes_eval.bare_scores(shared, sentence_vectors, spec, ALL_LOADERS[spec["loader"]]())
        kw, zs = r["keywords"], r["zeroshot"]
        print(f"{key:<26} {r['n']:>5} {r['themes']:>6}  {kw['micro_f1']:>10.3f} / {kw['macro_f1']:.3f}  "
              f"{zs['micro_f1']:>11.3f} / {zs['macro_f1']:.3f}  {kw['precision']:>7.3f} / {zs['precision']:.3f}"
              f"   (keywords: '{r['keyword_mode']}')", flush=True)


# ---- trained -------------------------------------------------------------------------------
def trained() -> None:
    tr, va = data("train"), data("val")
    fix = lambda ys: [[y.replace("anecdotes/miscellaneous", "misc") for y in g] for g in ys]
    lexical_block(tr, va, fix)
    for feat, head, cw in (("mean", "logreg", None), (RICH, "logreg", None), (RICH, "mlp", None)):
        t = time.time()
        m = ThemeModel(head=head, features=feat, class_weight=cw).fit(features(tr["rest_t"], feat), fix(tr["rest_y"]))
        pred = m.predict(features(va["rest_t"], feat))
        Y = [[lab in g for lab in m.labels_] for g in fix(va["rest_y"])]
        P = [[lab in p for lab in m.labels_] for p in pred]
        print(f"trained semeval14 {feat} {head}: val micro-F1 {f1_score(Y, P, average='micro'):.4f} "
              f"(C={m.C_}, cv {m.cv_scores_}, {time.time() - t:.0f}s)", flush=True)
    for feat, head, cw in (("mean", "logreg", "balanced"), (RICH, "logreg", "balanced"), (RICH, "mlp", None)):
        t = time.time()
        m = ThemeModel(head=head, features=feat, class_weight=cw).fit(
            features(tr["air_t"], feat), [[_slug(y)] for y in tr["air_y"]])
        pred = [p[0] for p in m.predict(features(va["air_t"], feat))]
        print(f"trained airline {feat} {head} {cw}: val macro-F1 "
              f"{f1_score([_slug(y) for y in va['air_y']], pred, average='macro'):.4f} "
              f"(C={m.C_}, cv {m.cv_scores_}, {time.time() - t:.0f}s)", flush=True)


def _arg(name: str, default: str | None = None) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def trained_fine_tune() -> None:
    """``trained --fine-tune``: train-themes' recipe on frozen vs contrastively fine-tuned vectors.

    Per dataset: the out-of-fold comparison inside the TRAIN split (what ``--fine-tune auto`` prints;
    hyperparameters are judged here), then, unless ``--no-val``, the head fitted on the whole train
    split and scored once on VAL, frozen and fine-tuned. Options: ``--only semeval14|airline``,
    ``--max-train N`` (a fixed random subset of the train split), ``--epochs E``, ``--folds K``,
    ``--top-layers N``, ``--rank R``, ``--lr X``, ``--max-length T``, ``--objective contrastive|classify``
    (classify: ``FineTuneConfig.classify()``'s defaults), ``--no-cv``, ``--no-val``.
    """
    from voiceminer.evaluation.themes_eval import macro_f1, multilabel_micro_f1
    from voiceminer.themes.finetune import (
        FineTuneConfig,
        adapted,
        adapter_key,
        compare_oof,
        comparison_lines,
        encode_with,
        fine_tune,
    )

    defaults = FineTuneConfig.classify() if _arg("--objective") == "classify" else FineTuneConfig()
    cfg = replace(defaults, epochs=float(_arg("--epochs", str(defaults.epochs))),
                  folds=int(_arg("--folds", str(defaults.folds))),
                  top_layers=int(_arg("--top-layers", str(defaults.top_layers))),
                  rank=int(_arg("--rank", str(defaults.rank))), lr=float(_arg("--lr", str(defaults.lr))),
                  max_length=int(_arg("--max-length", str(defaults.max_length))))
    cap = int(_arg("--max-train", "0")) or None
    print(f"fine-tune config: {cfg}", flush=True)
    tr, va = data("train"), data("val")
    sets = {"semeval14": ("rest", lambda ys: [sorted(_slug(y) for y in g) for g in ys], True),
            "airline": ("air", lambda ys: [[_slug(y)] for y in ys], False)}
    for name, (key, labels_of, multi) in sets.items():
        if _arg("--only") not in (None, name):
            continue
        texts, labels = tr[f"{key}_t"], labels_of(tr[f"{key}_y"])
        if cap and cap < len(texts):
            keep = sorted(np.random.default_rng(0).choice(len(texts), cap, replace=False))
            texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
        X = features(texts, "mean")
        print(f"{name}: {len(texts)} train rows", flush=True)
        if "--no-cv" not in sys.argv:
            result = compare_oof(encoder(), X, texts, labels, cfg)
            for line in comparison_lines(result):
                print(f"  {line}", flush=True)
        if "--no-val" in sys.argv:
            continue
        vt, vy = va[f"{key}_t"], labels_of(va[f"{key}_y"])
        t, c = time.time(), time.process_time()
        state, lora = fine_tune(encoder(), texts, labels, cfg)
        t_ft, c_ft = time.time() - t, time.process_time() - c
        enc = adapted(encoder(), state, lora, adapter_key(encoder().key, "eval"))
        t, c = time.time(), time.process_time()
        Xt = encode_with(enc, texts)
        t_enc, c_enc = time.time() - t, time.process_time() - c
        Xv = encode_with(enc, vt)
        for arm, A, B in (("frozen", X, features(vt, "mean")), ("fine-tuned", Xt, Xv)):
            m = ThemeModel().fit(A, labels, texts=texts)
            pred = m.predict(B, vt)
            score = (multilabel_micro_f1(vy, pred) if multi else macro_f1([y[0] for y in vy], [p[0] for p in pred]))
            print(f"  val {name} {arm}: {'micro' if multi else 'macro'}-F1 {score:.4f} (cv {m.cv_scores_})",
                  flush=True)
        print(f"  fine-tune {t_ft:.0f} s wall / {c_ft:.0f} s CPU for {len(texts)} rows ({cfg.steps(len(texts))} "
              f"steps), encode them {t_enc:.0f} s wall / {c_enc:.0f} s CPU (CPU / 2: the wall time on 2 idle cores)",
              flush=True)


def lexical_block(tr: dict, va: dict, fix) -> None:
    """The train-themes recipe (mean vector, defaults) without and with the word n-gram block."""
    for lexical in (0.0, 1.0):
        m = ThemeModel(lexical=lexical).fit(features(tr["rest_t"], "mean"), fix(tr["rest_y"]), texts=tr["rest_t"])
        pred = m.predict(features(va["rest_t"], "mean"), va["rest_t"])
        Y = [[lab in g for lab in m.labels_] for g in fix(va["rest_y"])]
        P = [[lab in p for lab in m.labels_] for p in pred]
        print(f"train-themes semeval14 lexical={lexical}: val micro-F1 {f1_score(Y, P, average='micro'):.4f} "
              f"(cv {m.cv_scores_})", flush=True)
        m = ThemeModel(lexical=lexical).fit(features(tr["air_t"], "mean"), [[_slug(y)] for y in tr["air_y"]],
                                            texts=tr["air_t"])
        pred = [p[0] for p in m.predict(features(va["air_t"], "mean"), va["air_t"])]
        print(f"train-themes airline lexical={lexical}: val macro-F1 "
              f"{f1_score([_slug(y) for y in va['air_y']], pred, average='macro'):.4f} (cv {m.cv_scores_})", flush=True)


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


# ---- discovery -----------------------------------------------------------------------------
def discovery() -> None:
    ex = airline_reasons()
    texts = [e.text for e in ex]
    y = [e.label for e in ex]
    clean = [re.sub(r"\s+", " ", re.sub(r"@\w+|https?://\S+|&amp;", " ", t)).strip() or t for t in texts]
    for name, V in (("raw tweets", features(texts, "mean")), ("@handles/URLs removed", features(clean, "mean"))):
        t = time.time()
        d1 = discover(texts, V)
        secs = time.time() - t
        d2 = discover(texts[::-1], V[::-1])
        a = np.array([-1 if x is None else x for x in d1.assignments])
        print(f"discover ({name}, {len(texts)} tweets): {len(d1.clusters)} clusters, unclustered "
              f"{d1.unclustered_fraction:.3f}, NMI all {normalized_mutual_info_score(y, a):.3f}, NMI clustered "
              f"{normalized_mutual_info_score(np.array(y)[a >= 0], a[a >= 0]):.3f}, {secs:.1f}s beyond encoding, "
              f"identical on rerun (reversed input): {d2.assignments[::-1] == d1.assignments and d2.clusters == d1.clusters}",
              flush=True)
    for c in d1.clusters:
        print(f"  {c.id:2d} {c.size:5d}  {c.label}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    steps = {"calibrate": [calibrate], "calibrate-confirm": [calibrate_confirm], "zeroshot": [zeroshot],
             "trained": [trained_fine_tune if "--fine-tune" in sys.argv else trained], "discover": [discovery],
             "calibrate-bare": [calibrate_bare], "bare": [bare],
             "all": [calibrate, zeroshot, trained, discovery, calibrate_bare, bare]}
    for step in steps[what]:
        step()
