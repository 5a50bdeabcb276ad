"""Contrastive fine-tuning of the shared encoder for one team's themes (``train-themes --fine-tune``).

SetFit's recipe on the project's encoder: low-rank adapters (peft LoRA) on the top layers of the
shared encoder are trained so that sentences of the same theme move together and sentences of
different themes apart (pairs scored by sentence-transformers' ``CosineSimilarityLoss``, target
1 for a pair that shares a theme and 0 for one that shares none), then the usual head
(:class:`~voiceminer.themes.trained.ThemeModel`) is fitted on the adapted vectors.

Pairs are drawn inside class-balanced batches: each step picks ``batch_size / per_theme`` themes
at random (rare themes as often as common ones) and ``per_theme`` sentences of each, encodes the
batch once and scores every pair in it, so one forward pass serves ``n (n - 1) / 2`` pairs.

The result is a small adapter delta saved in the themes model folder
(``encoder_adapter.safetensors``: the LoRA ``A``/``B`` matrices, about 1.8 MB at rank 8 on four layers) with its
peft configuration in ``config.json``. At load (:func:`themes_encoder`) it is merged into a copy
of the shared encoder's weights, so tagging costs one more plain encoder pass, and the adapted
encoder's key (``<shared key>+lora@<adapter sha256>``) keys its cached vectors, so fine-tuned
vectors never mix with the shared ones.

:func:`compare_oof` measures whether fine-tuning pays on a given file: k folds (fixed seed), each
fine-tuned on the other folds only, heads fitted on the same folds, and every theme's out-of-fold
F1 for the frozen and the fine-tuned vectors. ``--fine-tune auto`` keeps whichever wins.

Measured (``scripts/train_themes_eval.py trained --fine-tune --only airline --max-train 1000``, shared-v2,
default FineTuneConfig: rank 8 on the top 4 layers, 1 epoch, max length 48): out of fold inside 1,000
airline-reason train rows (2 folds, seed 13), macro-F1 frozen 0.635, fine-tuned 0.623; every theme within
0.02 except ``longlines`` (0.439 -> 0.359, 19 rows). The head fitted on those 1,000 rows, scored once on
the validation split: macro-F1 frozen 0.552, fine-tuned 0.551. SemEval-2014 categories, 400 train rows
(``--only semeval14 --max-train 400 --no-val``): out of fold micro-F1 frozen 0.804, fine-tuned 0.805 (210 s CPU
for the whole 2-fold comparison). shared-v2 was itself trained with these train splits as
an auxiliary task, so its frozen vectors already separate the reasons; this is why ``DEFAULT_MODE`` is
``off``, and why a team's own themes (which no shipped encoder saw) are where ``on``/``auto`` can pay.

``objective="classify"`` (:meth:`FineTuneConfig.classify`, ``--fine-tune-objective classify``) trains the
adapters with a linear layer on the pooled vector instead of pairs. Measured once on validation (full train
splits, ``scripts/train_themes_eval.py trained --fine-tune --objective classify --no-cv``): SemEval-2014
0.866 frozen -> 0.871, airline reasons 0.611 -> 0.581; in-file cross-validation after it reads 0.904 and
0.692 (the adapters saw every row), so only ``auto``'s out-of-fold comparison can judge it.

>>> cfg = FineTuneConfig(epochs=0.5, batch_size=8, per_theme=4)
>>> cfg.steps(100)
7
>>> pair_targets([["a"], ["a", "b"], ["c"]]).tolist()
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = [
    "ADAPTER_FILE",
    "DEFAULT_MODE",
    "MODES",
    "FineTuneConfig",
    "compare_oof",
    "fine_tune",
    "pair_targets",
    "save_adapter",
    "themes_encoder",
]

ADAPTER_FILE = "encoder_adapter.safetensors"
MODES = ("off", "on", "auto")
OBJECTIVES = ("contrastive", "classify")
# What train-themes does without --fine-tune: chosen by out-of-fold scores on the public sets (module doc).
DEFAULT_MODE = "off"
# The encoder's linear layers that get adapters (MPNet names; BERT names for the MiniLM base).
TARGET_MODULES = ("attn.q", "attn.k", "attn.v", "attn.o", "intermediate.dense", "output.dense",
                  "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")


@dataclass
class FineTuneConfig:
    """How much to train. Defaults fit 2,500 labeled sentences in well under 20 minutes on 2 cores
    (see :mod:`voiceminer.themes.finetune` and ``scripts/train_themes_eval.py finetune``)."""

    rank: int = 8              # LoRA rank
    alpha: float = 16.0        # LoRA scale numerator (scale = alpha / rank)
    top_layers: int = 4        # adapters on the top N transformer layers only: backward stops there
    max_length: int = 48       # tokens per sentence while training (encoding keeps the encoder's 128)
    epochs: float = 1.0        # sentences seen per labeled sentence
    batch_size: int = 16       # sentences per step (every pair inside a step is scored)
    per_theme: int = 4         # sentences of one theme per step
    lr: float = 2e-4
    warmup: float = 0.1        # share of steps with a rising learning rate
    seed: int = 13
    folds: int = 2             # folds of the out-of-fold comparison (--fine-tune auto)
    objective: str = "contrastive"  # or "classify": a linear layer on the pooled vector, trained with the adapters
    dropout: float = 0.0       # LoRA dropout
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"fine-tuning objective must be {' or '.join(OBJECTIVES)}, got {self.objective!r}")

    # What `train-themes --fine-tune-objective classify` uses (scripts/train_themes_eval.py trained --fine-tune
    # --objective classify): supervised, so every step sees whole batches of labels rather than pairs.
    @classmethod
    def classify(cls, **changes: Any) -> FineTuneConfig:
        """The ``classify`` recipe: rank 16 on the top 6 layers, 2 epochs, batches of 32 grouped by length."""
        base = {"objective": "classify", "rank": 16, "alpha": 32.0, "top_layers": 6, "max_length": 64,
                "epochs": 2.0, "batch_size": 32, "lr": 5e-4, "dropout": 0.1}
        return cls(**{**base, **changes})

    def steps(self, n: int) -> int:
        """Optimizer steps for ``n`` labeled sentences."""
        return max(1, math.ceil(self.epochs * n / self.batch_size))

    def lora(self, n_layers: int) -> dict[str, Any]:
        """peft ``LoraConfig`` arguments (stored in the model folder, so a load rebuilds the same adapters)."""
        top = max(1, min(self.top_layers, n_layers))
        return {"r": int(self.rank), "lora_alpha": float(self.alpha), "lora_dropout": float(self.dropout),
                "target_modules": list(TARGET_MODULES), "layers_to_transform": list(range(n_layers - top, n_layers)),
                "bias": "none"}


def leaf_sets(label_sets: Sequence[Sequence[str]]) -> list[frozenset[str]]:
    """Each row's most specific themes (a child stands for its parent); an unlabeled row is ``{""}``.

    >>> sorted(leaf_sets([["delivery", "delivery.late"], []])[0]), leaf_sets([[]])[0]
    (['delivery.late'], frozenset({''}))
    """
    out = []
    for labels in label_sets:
        leaves = {lab for lab in labels if not any(o.startswith(lab + ".") for o in labels)}
        out.append(frozenset(leaves or {""}))
    return out


def pair_targets(label_sets: Sequence[Sequence[str]]) -> np.ndarray:
    """Targets of every pair (i < j, row-major) of a batch: 1.0 where the rows share a theme, else 0.0."""
    leaves = leaf_sets(label_sets)
    return np.array([float(bool(leaves[i] & leaves[j])) for i in range(len(leaves))
                     for j in range(i + 1, len(leaves))], np.float32)


def _batches(leaves: list[frozenset[str]], cfg: FineTuneConfig, steps: int) -> list[list[int]]:
    """``steps`` class-balanced batches of row indices (fixed by ``cfg.seed``)."""
    rng = np.random.default_rng(cfg.seed)
    by_theme: dict[str, list[int]] = {}
    for i, s in enumerate(leaves):
        for lab in s:
            by_theme.setdefault(lab, []).append(i)
    themes = sorted(by_theme)
    if len(themes) < 2:
        raise ConfigError("fine-tuning needs at least two themes in the labeled file (pairs of different themes)")
    k = max(2, min(len(themes), cfg.batch_size // max(cfg.per_theme, 1)))
    out = []
    for _ in range(steps):
        rows: list[int] = []
        for theme in rng.choice(themes, size=k, replace=False):
            pool = by_theme[str(theme)]
            rows += [int(i) for i in rng.choice(pool, size=min(cfg.per_theme, len(pool)), replace=False)]
        out.append(list(dict.fromkeys(rows)))  # a row of two themes may come twice: keep it once
    return out


def _peft_model(model: Any, lora: dict[str, Any]) -> Any:
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(**lora))


def _n_layers(model: Any) -> int:
    return int(model.config.num_hidden_layers)


def fine_tune(encoder: Any, texts: Sequence[str], label_sets: Sequence[Sequence[str]],
              cfg: FineTuneConfig | None = None, *, progress: Any = None,
              task: str = "fine-tune encoder") -> tuple[dict[str, Any], dict[str, Any]]:
    """Train LoRA adapters on a copy of ``encoder``'s model (a loaded
    :class:`~voiceminer.models.encoder.SentenceEncoder`; it is left unchanged).

    Returns ``(adapter state, lora config)``: the peft state dict (float32 CPU tensors) and the
    ``LoraConfig`` arguments. ``progress`` is told each step.
    """
    import torch
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
    from transformers import get_linear_schedule_with_warmup

    from ..models.encoder import encoder_text

    cfg = cfg or FineTuneConfig()
    if len(texts) != len(label_sets):
        raise ConfigError(f"{len(texts)} texts but {len(label_sets)} label sets")
    if cfg.objective == "classify":
        return _fine_tune_classify(encoder, texts, label_sets, cfg, progress=progress, task=task)
    torch.manual_seed(cfg.seed)
    leaves = leaf_sets(label_sets)
    steps = cfg.steps(len(texts))
    batches = _batches(leaves, cfg, steps)
    model, lora, params = _trainable(encoder, cfg)
    opt = torch.optim.AdamW(params, lr=cfg.lr)
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup * steps), steps)
    loss_fn = CosineSimilarityLoss(model)  # the library's SetFit loss: MSE of cosine against 1 / 0

    def loss_of(rows: list[int]) -> Any:
        emb = _pooled(model, encoder, [encoder_text(texts[i]) for i in rows], cfg.max_length)
        i, j = np.triu_indices(len(rows), 1)
        target = torch.from_numpy(pair_targets([sorted(leaves[r]) for r in rows]))
        return loss_fn.compute_loss_from_embeddings([emb[torch.from_numpy(i)], emb[torch.from_numpy(j)]], target)

    return _train(model, params, opt, sched, batches, loss_of, progress, task), lora


def _trainable(encoder: Any, cfg: FineTuneConfig) -> tuple[Any, dict[str, Any], list[Any]]:
    """A copy of the encoder's torch model with ``cfg``'s LoRA adapters, in training mode: (model, its
    ``LoraConfig`` arguments, the parameters to train)."""
    base = torch_model(encoder)
    lora = cfg.lora(_n_layers(base))
    model = _peft_model(copy.deepcopy(base), lora)
    model.train()
    return model, lora, [p for p in model.parameters() if p.requires_grad]


def _pooled(model: Any, encoder: Any, prepared: list[str], max_length: int) -> Any:
    """The training model's sentence vectors of ``prepared`` texts: the encoder's own mean pooling."""
    batch = encoder.tokenizer_(prepared, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def _train(model: Any, params: list[Any], opt: Any, sched: Any, batches: list[list[int]], loss_of: Any,
           progress: Any, task: str) -> dict[str, Any]:
    """One optimizer step per batch on ``loss_of(rows)`` (gradients clipped at 1), telling ``progress``;
    returns the adapters' state (float32 CPU tensors)."""
    import torch
    from peft import get_peft_model_state_dict

    if progress is not None:
        progress.start(task, len(batches))
    try:
        for rows in batches:
            loss_of(rows).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            if progress is not None:
                progress.advance(1)
    finally:
        if progress is not None:
            progress.finish()
    return {k: v.detach().float().contiguous().clone() for k, v in get_peft_model_state_dict(model).items()}


def length_batches(lengths: Sequence[int], batch_size: int, steps: int, seed: int, group: int = 8) -> list[list[int]]:
    """``steps`` batches of row indices for the ``classify`` objective: each epoch a fresh shuffle, cut into
    chunks of ``group`` batches, each chunk sorted by length (little padding) and cut into batches, the
    batches shuffled (fixed by ``seed``).

    >>> b = length_batches([5, 1, 9, 3, 7, 2], 2, 3, seed=0, group=3)
    >>> len(b), sorted(i for x in b for i in x), all(len(x) == 2 for x in b)
    (3, [0, 1, 2, 3, 4, 5], True)
    """
    rng = np.random.default_rng(seed)
    out: list[list[int]] = []
    while len(out) < steps:
        perm = rng.permutation(len(lengths))
        epoch: list[list[int]] = []
        for c in range(0, len(perm), batch_size * group):
            chunk = sorted(perm[c:c + batch_size * group].tolist(), key=lambda i: lengths[i])
            epoch += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
        rng.shuffle(epoch)  # type: ignore[arg-type]
        out += epoch
    return out[:steps]


def _fine_tune_classify(encoder: Any, texts: Sequence[str], label_sets: Sequence[Sequence[str]],
                        cfg: FineTuneConfig, *, progress: Any = None,
                        task: str = "fine-tune encoder") -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``classify`` objective: a linear layer on the (scaled, normalised) pooled vector learns the themes
    together with the adapters, softmax cross-entropy where every row has exactly one theme, else one
    sigmoid per theme (rows without a theme are all-negative). Only the adapters are kept: the themes head
    is then fitted on the adapted vectors as usual."""
    import torch
    import torch.nn.functional as F
    from transformers import get_linear_schedule_with_warmup

    from ..models.encoder import encoder_text

    torch.manual_seed(cfg.seed)
    themes = sorted({lab for labels in label_sets for lab in labels})
    if len(themes) < 2:
        raise ConfigError("fine-tuning needs at least two themes in the labeled file")
    Y = torch.tensor([[lab in labels for lab in themes] for labels in label_sets], dtype=torch.float32)
    single = bool((Y.sum(1) == 1).all())
    prepared = [encoder_text(t) for t in texts]
    lengths = [len(ids) for ids in encoder.tokenizer_(prepared, truncation=True, max_length=cfg.max_length)["input_ids"]]
    steps = cfg.steps(len(texts))
    batches = length_batches(lengths, cfg.batch_size, steps, cfg.seed)
    model, lora, params = _trainable(encoder, cfg)
    head = torch.nn.Linear(int(model.config.hidden_size), len(themes))
    opt = torch.optim.AdamW([{"params": params, "lr": cfg.lr}, {"params": list(head.parameters()), "lr": 1e-3}],
                            weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup * steps), steps)

    def loss_of(rows: list[int]) -> Any:
        emb = F.normalize(_pooled(model, encoder, [prepared[i] for i in rows], cfg.max_length), dim=-1) * 10.0
        logits, target = head(emb), Y[rows]
        return (F.cross_entropy(logits, target.argmax(1)) if single
                else F.binary_cross_entropy_with_logits(logits, target))

    return _train(model, params, opt, sched, batches, loss_of, progress, task), lora


def merged_model(base_model: Any, state: dict[str, Any], lora: dict[str, Any]) -> Any:
    """A copy of ``base_model`` with the adapters ``state`` merged into its weights (peft's merge)."""
    from peft import set_peft_model_state_dict

    model = _peft_model(copy.deepcopy(base_model), lora)
    result = set_peft_model_state_dict(model, state)
    unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k]
    if unexpected:
        raise ConfigError(f"the adapter names layers the encoder lacks: {unexpected[:3]}")
    return model.merge_and_unload().eval()


def adapted(encoder: Any, state: dict[str, Any], lora: dict[str, Any], key: str) -> Any:
    """A :class:`~voiceminer.models.encoder.SentenceEncoder` like ``encoder`` whose weights carry the
    adapters, under ``key``."""
    from ..models.encoder import SentenceEncoder

    enc = SentenceEncoder(encoder.artifact, threads=encoder.threads)
    enc.tokenizer_, enc.dim = encoder.tokenizer_, encoder.dim
    enc.model_ = merged_model(torch_model(encoder), state, lora)
    enc.key_ = key
    return enc


def torch_model(encoder: Any) -> Any:
    """The fp32 torch weights of ``encoder``: its own, or, for an encoder that runs an ONNX graph (the
    ``onnx`` backends keep no torch model) or bf16 weights (``torch-bf16``), the same artifact loaded in
    torch fp32 (once per process). Adapters train and merge in torch; the adapted encoder then runs in
    torch."""
    if getattr(encoder, "model_", None) is not None and getattr(encoder, "backend", "torch") == "torch":
        return encoder.model_
    return _torch_twin(str(encoder.artifact) if encoder.artifact is not None else None, encoder.threads,
                       encoder.key).model_


@lru_cache(maxsize=2)
def _torch_twin(artifact: str | None, threads: int | None, key: str) -> Any:
    from ..models.encoder import SentenceEncoder

    twin = SentenceEncoder(artifact, threads=threads, backend="torch").load()
    if twin.key != key:
        raise ConfigError(f"the torch weights of {artifact} are {twin.key}, not {key}")
    return twin


def adapter_key(base_key: str, sha256: str) -> str:
    """The adapted encoder's key: the shared encoder's plus the adapter file's hash.

    >>> adapter_key("voiceminer-shared@eff796e22c30", "ab" * 32)
    'voiceminer-shared@eff796e22c30+lora@abababababab'
    """
    return f"{base_key}+lora@{sha256[:12]}"


def save_adapter(folder: str | Path, state: dict[str, Any], lora: dict[str, Any], base_key: str,
                 cfg: FineTuneConfig) -> dict[str, Any]:
    """Write the adapter into ``folder``; return the ``adapter`` entry of its config.json."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ADAPTER_FILE
    save_file(dict(sorted(state.items())), str(path))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"file": ADAPTER_FILE, "sha256": sha, "base_encoder_key": base_key, "encoder_key": adapter_key(base_key, sha),
            "lora": lora, "training": {k: v for k, v in asdict(cfg).items() if k != "extra"} | cfg.extra,
            "library": "peft"}


def load_adapter(folder: str | Path, spec: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The adapter state of a themes model folder and its file's sha256 (checked against ``spec``)."""
    from safetensors.torch import load_file

    path = Path(folder) / str(spec.get("file", ADAPTER_FILE))
    if not path.is_file():
        raise ConfigError(f"{folder}: the themes model was fine-tuned but its adapter {path.name} is missing")
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    if spec.get("sha256") and sha != spec["sha256"]:
        raise ConfigError(f"{path}: sha256 does not match config.json; the model folder was altered")
    return load_file(str(path)), sha


def adapter_spec(folder: str | Path) -> dict[str, Any] | None:
    """The ``adapter`` entry of a themes model folder's config.json (None: a frozen-encoder model)."""
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # ThemeModel.load reports a missing or broken config with its own message
    return config.get("adapter") or None


@lru_cache(maxsize=2)
def _themes_encoder(folder: str, sha: str, base: Any) -> Any:  # (folder, adapter sha, shared encoder): cache key
    spec = adapter_spec(folder) or {}
    state, _ = load_adapter(folder, spec)
    return adapted(base, state, spec["lora"], adapter_key(base.key, sha))


def themes_encoder(folder: str | Path, encoder: Any) -> Any:
    """The encoder a themes model reads: ``encoder`` itself, or for a fine-tuned model a copy with the
    model's adapter merged (cached per process). Refuses an adapter trained on another shared encoder."""
    spec = adapter_spec(folder)
    if spec is None:
        return encoder
    if spec.get("base_encoder_key") != encoder.key:
        raise ConfigError(f"{folder} was fine-tuned from encoder {spec.get('base_encoder_key')!r} but the loaded "
                          f"shared encoder is {encoder.key!r}; retrain it with `voiceminer train-themes --fine-tune`")
    _, sha = load_adapter(folder, spec)
    return _themes_encoder(str(Path(folder).resolve()), sha, encoder)


def encode_with(encoder: Any, texts: Sequence[str], progress: Any = None, task: str = "encode",
                chunk: int = 128) -> np.ndarray:
    """Normalised vectors of ``texts`` by ``encoder``, telling ``progress`` chunk by chunk."""
    from ..models.encoder import l2_normalise

    out = np.zeros((len(texts), encoder.dim), np.float32)
    if progress is not None:
        progress.start(task, len(texts))
    try:
        for start in range(0, len(texts), chunk):
            part = list(texts[start:start + chunk])
            out[start:start + len(part)] = encoder.encode(part)
            if progress is not None:
                progress.advance(len(part))
    finally:
        if progress is not None:
            progress.finish()
    return l2_normalise(out)


# ---- out-of-fold comparison -----------------------------------------------------------------
def _folds(label_sets: Sequence[Sequence[str]], k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    leaves = leaf_sets(label_sets)
    n = len(leaves)
    if all(len(s) == 1 for s in leaves):
        y = np.array([next(iter(s)) for s in leaves])
        if np.unique(y, return_counts=True)[1].min() >= k:
            return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(n), y))
    return list(KFold(k, shuffle=True, random_state=seed).split(np.zeros(n)))


def oof_scores(labels: list[str], gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
               single: bool) -> dict[str, Any]:
    """The headline score (single-label: macro-F1 over the leaf themes; multi-label: micro-F1) and each
    theme's precision, recall, F1 and support, from label sets (parents included)."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    from .trained import leaf_columns

    Y = np.array([[lab in g for lab in labels] for g in gold], np.int8)
    P = np.array([[lab in p for lab in labels] for p in pred], np.int8)
    prec, rec, f1, support = precision_recall_fscore_support(Y, P, average=None, zero_division=0)
    per = {lab: {"precision": round(float(prec[j]), 4), "recall": round(float(rec[j]), 4),
                 "f1": round(float(f1[j]), 4), "support": int(support[j])} for j, lab in enumerate(labels)}
    if single:
        leaf = leaf_columns(labels)
        score = float(f1_score(Y[:, leaf].argmax(1), P[:, leaf].argmax(1), average="macro",
                               labels=sorted(set(Y[:, leaf].argmax(1).tolist())), zero_division=0))
        metric = "macro_f1"
    else:
        score, metric = float(f1_score(Y, P, average="micro", zero_division=0)), "micro_f1"
    return {metric: round(score, 4), "per_theme": per}


def compare_oof(encoder: Any, frozen: np.ndarray, texts: Sequence[str], label_sets: Sequence[Sequence[str]],
                cfg: FineTuneConfig | None = None, *, head_params: dict[str, Any] | None = None,
                progress: Any = None) -> dict[str, Any]:
    """Out-of-fold frozen vs fine-tuned on one labeled file: ``cfg.folds`` folds (seed ``cfg.seed``);
    for each, adapters fine-tuned on the other folds, and the head fitted there on the frozen
    (``frozen``: normalised shared vectors of ``texts``) and on the adapted vectors, then scored on the
    fold. Returns both arms' headline score and per-theme scores, the winner and the seconds taken."""
    from .trained import ThemeModel, expand_parents

    cfg = cfg or FineTuneConfig()
    started, cpu = time.perf_counter(), time.process_time()
    sets = expand_parents(label_sets)
    labels = sorted({lab for s in sets for lab in s})
    single = all(len(s) == 1 for s in leaf_sets(label_sets)) and all(label_sets)
    pred: dict[str, list[list[str]]] = {"frozen": [[] for _ in texts], "fine_tuned": [[] for _ in texts]}
    splits = _folds(label_sets, cfg.folds, cfg.seed)
    for f, (tr, va) in enumerate(splits, 1):
        tr_texts, va_texts = [texts[i] for i in tr], [texts[i] for i in va]
        tr_sets = [list(label_sets[i]) for i in tr]
        state, lora = fine_tune(encoder, tr_texts, tr_sets, cfg, progress=progress,
                                task=f"fold {f}/{len(splits)}: fine-tune")
        enc = adapted(encoder, state, lora, adapter_key(encoder.key, f"fold{f}"))
        X = encode_with(enc, [texts[i] for i in np.concatenate([tr, va])], progress,
                        task=f"fold {f}/{len(splits)}: encode")
        for arm, Xtr, Xva in (("frozen", frozen[tr], frozen[va]), ("fine_tuned", X[:len(tr)], X[len(tr):])):
            head = ThemeModel(**(head_params or {})).fit(Xtr, tr_sets, texts=tr_texts)
            for i, p in zip(va, head.predict(Xva, va_texts)):
                pred[arm][i] = p
        del enc
    out = {arm: oof_scores(labels, sets, pred[arm], single) for arm in pred}
    metric = "macro_f1" if single else "micro_f1"
    winner = "fine_tuned" if out["fine_tuned"][metric] > out["frozen"][metric] else "frozen"
    return {"folds": len(splits), "seed": cfg.seed, "metric": metric, **out, "winner": winner,
            "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(time.process_time() - cpu, 1)}


def comparison_lines(result: dict[str, Any]) -> list[str]:
    """A printable table of :func:`compare_oof`'s result: headline, then each theme, frozen -> fine-tuned."""
    metric = result["metric"]
    fz, ft = result["frozen"], result["fine_tuned"]
    head = (f"out-of-fold ({result['folds']} folds, seed {result['seed']}) {metric}: frozen {fz[metric]:.3f}, "
            f"fine-tuned {ft[metric]:.3f} -> {result['winner'].replace('_', '-')} ({result['seconds']:.0f} s, "
            f"{result.get('cpu_seconds', 0):.0f} s CPU)")
    lines = [head]
    themes = sorted(fz["per_theme"], key=lambda t: (fz["per_theme"][t]["f1"], t))
    width = max([len(t) for t in themes] + [5])
    lines.append(f"  {'theme':<{width}}  F1 frozen  fine-tuned   rows")
    for t in themes:
        a, b = fz["per_theme"][t], ft["per_theme"].get(t, {"f1": 0.0})
        lines.append(f"  {t:<{width}}  {a['f1']:>9.3f}  {b['f1']:>10.3f}  {a['support']:>5}")
    return lines
