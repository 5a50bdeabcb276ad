"""Training helpers for :class:`~voiceminer.themes.trained.ThemeModel`: cross-validation,
the artifact folder, and training from a labeled CSV (``text,themes``).

``train_from_csv`` is what ``voiceminer train-themes`` calls:

>>> metrics = train_from_csv("L.csv", "T.yaml", "models/themes-acme", encoder)  # doctest: +SKIP
>>> sorted(metrics)                                                             # doctest: +SKIP
['cv_macro_f1', 'cv_micro_f1', 'labels', 'rows']
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from .trained import FACTORIES, FACTORY, ThemeDataWarning, head_proba, leaf_columns

__all__ = ["cross_validate", "read_artifact", "read_labeled_csv", "train_from_csv", "write_artifact"]

ARTIFACT_FORMAT = 2  # 2: optional lexical block (lexicon.json + lex_idf in weights.npz)


def cross_validate(model: Any, X: np.ndarray, Y: np.ndarray) -> tuple[float | None, np.ndarray, dict[str, float]]:
    """Choose C by K-fold CV on (X, Y); return (C, out-of-fold scores at that C, CV scores)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    leaf = leaf_columns(model.labels_)
    strat = Y[:, leaf].argmax(1) if model.mode_ == "single" else Y.argmax(1)
    folds = max(2, min(model.cv_folds, int(np.bincount(strat).min()) if model.mode_ == "single" else model.cv_folds))
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=model.random_state) if model.mode_ == "single"
                else KFold(folds, shuffle=True, random_state=model.random_state))
    split_list = list(splitter.split(X, strat))
    grid = [model.C] if (model.C is not None or model.head == "mlp") else list(model.Cs)
    best: tuple[float, float | None, np.ndarray] = (-1.0, None, np.zeros(Y.shape, np.float32))
    for C in grid:
        oof = np.zeros(Y.shape, np.float32)
        for tr, va in split_list:
            oof[va] = head_proba(model._fit_head(X[tr], Y[tr], C), X[va])
        score = _score(model.mode_, Y, oof, leaf)
        if score > best[0]:
            best = (score, C, oof)
    key = "cv_micro_f1" if model.mode_ == "multi" else "cv_macro_f1"
    return best[1], best[2], {key: round(best[0], 4), "cv_folds": folds}


def _score(mode: str, Y: np.ndarray, scores: np.ndarray, leaf: list[int]) -> float:
    from sklearn.metrics import f1_score

    if mode == "single":
        return float(f1_score(Y[:, leaf].argmax(1), scores[:, leaf].argmax(1), average="macro"))
    return float(f1_score(Y, scores >= 0.5, average="micro", zero_division=0))


def write_artifact(model: Any, out: Path) -> Path:
    """Write the model folder (config.json, weights.npz, MODEL_CARD.md[, lexicon.json]); returns ``out``."""
    if not model.labels_:
        raise ConfigError("cannot save an unfitted ThemeModel; call fit() first")
    out.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v, np.float32) for k, v in model.weights_.items()}
    lexical = None
    if model.lexicon_ is not None:
        arrays["lex_idf"] = model.lexicon_.idf_
        (out / "lexicon.json").write_text(json.dumps(model.lexicon_.state(), ensure_ascii=False) + "\n",
                                          encoding="utf-8")
        lexical = {"weight": model.lexical_, "file": "lexicon.json",
                   "sha256": hashlib.sha256((out / "lexicon.json").read_bytes()).hexdigest()}
    else:
        (out / "lexicon.json").unlink(missing_ok=True)
    np.savez(out / "weights.npz", **arrays)
    config = {
        "factory": FACTORY, "version": model.version, "format": ARTIFACT_FORMAT,
        "labels": model.labels_, "thresholds": [float(t) for t in model.thresholds_], "mode": model.mode_,
        "min_labels": model.min_labels_,
        "encoder_key": model.encoder_key_, "features": model.features, "lexical": lexical,
        "params": {"head": model.head, "C": model.C_, "hidden": model.hidden, "alpha": model.alpha,
                   "class_weight": model.class_weight, "cv_folds": model.cv_folds,
                   "random_state": model.random_state},
        "scores": model.cv_scores_, "per_theme": model.cv_per_theme_, **model.meta_,
        "weights_sha256": hashlib.sha256((out / "weights.npz").read_bytes()).hexdigest(),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out / "MODEL_CARD.md").write_text(_card(config), encoding="utf-8")
    model.weights_sha256_ = config["weights_sha256"]
    return out


def _card(c: dict[str, Any]) -> str:
    scores = "\n".join(f"- {k}: {v}" for k, v in sorted(c.get("scores", {}).items())) or "- (none)"
    lex = (f" plus a lexical block (TF-IDF word 1-2-grams, weight {c['lexical']['weight']}, `lexicon.json`)"
           if c.get("lexical") else "")
    return (f"# Theme model ({c['factory']} {c['version']})\n\n"
            f"Head `{c['params']['head']}` over `{c['features']}` features of encoder `{c['encoder_key']}`{lex}; "
            f"{c['mode']}-label, {len(c['labels'])} themes (parents implied by children).\n\n"
            f"## Training data\n\n- rows: {c.get('rows', '?')}\n- sha256: {c.get('data_sha256', '?')}\n"
            f"- source: {c.get('data_source', '?')}\n- trained: {c.get('trained_at', '?')}\n"
            f"- command: `{c.get('command', 'ThemeModel.fit')}`\n\n"
            + _fine_tune_section(c) +
            f"## Cross-validated scores on the training data\n\n{scores}\n\n"
            + _per_theme_table(c.get("per_theme") or {})
            + "".join(f"- warning: {w}\n" for w in c.get("warnings", [])) + ("\n" if c.get("warnings") else "")
            + "## Labels and thresholds\n\n"
            + "\n".join(f"- `{lab}`: {t:.2f}" for lab, t in zip(c["labels"], c["thresholds"])) + "\n\n"
            + ("Every training row had a theme, so every prediction gets at least one (the theme closest to "
               "its threshold when none passes).\n\n" if c.get("min_labels") and c["mode"] == "multi" else "")
            + "Reload with `ThemeModel.load(dir, encoder_key=...)`; it refuses another encoder.\n")


def _fine_tune_section(c: dict[str, Any]) -> str:
    tuned, adapter = c.get("fine_tune") or {}, c.get("adapter")
    if not tuned and not adapter:
        return ""
    text = "## Encoder fine-tuning\n\n"
    if adapter:
        lora, tr = adapter["lora"], adapter.get("training", {})
        how = "contrastively" if tr.get("objective", "contrastive") == "contrastive" else "with a classification layer"
        text += (f"The shared encoder `{adapter['base_encoder_key']}` was fine-tuned {how} on this file "
                 f"(peft LoRA rank {lora['r']} on layers {lora['layers_to_transform']}, {tr.get('epochs')} epoch(s), "
                 f"max length {tr.get('max_length')}); the adapter `{adapter['file']}` is merged at load and its "
                 "vectors are cached under the encoder key above. The cross-validated scores below were computed "
                 "on vectors of an encoder that saw every row's label, so they lean optimistic; the out-of-fold "
                 "comparison is the honest one.\n\n")
    else:
        text += "Fine-tuning was measured and not used: the frozen encoder won out of fold.\n\n"
    comp = tuned.get("comparison")
    if comp:
        m = comp["metric"]
        text += (f"Out of fold ({comp['folds']} folds, seed {comp['seed']}, adapters trained on the other folds): "
                 f"{m} frozen {comp['frozen'][m]:.3f}, fine-tuned {comp['fine_tuned'][m]:.3f}.\n\n"
                 "| theme | F1 frozen | F1 fine-tuned | rows |\n|---|---|---|---|\n"
                 + "".join(f"| `{t}` | {s['f1']:.3f} | {comp['fine_tuned']['per_theme'][t]['f1']:.3f} | "
                           f"{s['support']} |\n" for t, s in sorted(comp["frozen"]["per_theme"].items()))
                 + "\n")
    return text


# A theme whose out-of-fold F1 is under WEAK_F1, or that has fewer than FEW_EXAMPLES training rows,
# is flagged for more labeled examples (the card and ``train-themes`` say which).
WEAK_F1, FEW_EXAMPLES = 0.6, 20


def weak_theme(scores: dict[str, float]) -> str:
    """Why a theme's out-of-fold ``scores`` call for more examples ("" when they do not).

    >>> weak_theme({"f1": 0.4, "support": 50}), weak_theme({"f1": 0.9, "support": 8}), weak_theme({"f1": 0.9, "support": 80})
    ('low F1', 'few examples', '')
    """
    reasons = [r for r, bad in (("low F1", scores["f1"] < WEAK_F1), ("few examples", scores["support"] < FEW_EXAMPLES))
               if bad]
    return ", ".join(reasons)


def weakest_first(per_theme: dict[str, dict[str, float]]) -> list[tuple[str, dict[str, float], str]]:
    """(theme, its out-of-fold scores, :func:`weak_theme`) by rising F1: how the card and
    ``train-themes`` list them.

    >>> [t for t, _, why in weakest_first({"a": {"f1": 0.9, "support": 50}, "b": {"f1": 0.5, "support": 50}})]
    ['b', 'a']
    """
    return [(lab, s, weak_theme(s)) for lab, s in sorted(per_theme.items(), key=lambda kv: (kv[1]["f1"], kv[0]))]


def _per_theme_table(per_theme: dict[str, dict[str, float]]) -> str:
    if not per_theme:
        return ""
    rows = "\n".join(f"| `{lab}` | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} | "
                     f"{why and 'needs more examples: ' + why} |" for lab, s, why in weakest_first(per_theme))
    return ("## Per theme (out-of-fold, weakest first)\n\n| theme | precision | recall | F1 | rows | |\n"
            "|---|---|---|---|---|---|\n" + rows + "\n\n")


def read_artifact(cls: type, folder: Path, encoder_key: str | None) -> Any:
    """Rebuild a ThemeModel from a folder written by :func:`write_artifact`."""
    path = folder / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{folder} is not a theme model: {path.name} is missing") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    if config.get("factory") not in FACTORIES:
        raise ConfigError(f"{path}: factory is {config.get('factory')!r}, expected one of {', '.join(FACTORIES)}")
    if encoder_key is not None and config.get("encoder_key") != encoder_key:
        hint = ("; it was fine-tuned: load its encoder with voiceminer.themes.finetune.themes_encoder"
                if config.get("adapter") else "")
        raise ConfigError(f"{folder} was trained on encoder {config.get('encoder_key')!r} but the loaded "
                          f"encoder is {encoder_key!r}; retrain it with `voiceminer train-themes` "
                          f"or load the matching encoder{hint}")
    p = config["params"]
    model = cls(head=p["head"], C=p["C"], hidden=p["hidden"], alpha=p["alpha"], class_weight=p["class_weight"],
                cv_folds=p["cv_folds"], random_state=p["random_state"], features=config["features"],
                lexical=float(config["lexical"]["weight"]) if config.get("lexical") else 0.0)
    model.lexical_ = model.lexical
    with np.load(folder / "weights.npz") as data:
        model.weights_ = {k: data[k] for k in data.files if k != "lex_idf"}
        idf = data["lex_idf"] if "lex_idf" in data.files else None
    model.lexicon_ = _read_lexicon(folder, config.get("lexical"), idf)
    model.labels_, model.mode_, model.C_ = list(config["labels"]), config["mode"], p["C"]
    model.min_labels_ = int(config.get("min_labels", 0))  # older artifacts: none
    model.thresholds_ = np.asarray(config["thresholds"], dtype=np.float64)
    model.encoder_key_, model.cv_scores_ = config["encoder_key"], config.get("scores", {})
    model.cv_per_theme_ = config.get("per_theme", {})  # older artifacts: none
    model.weights_sha256_ = str(config.get("weights_sha256", ""))
    return model


def _read_lexicon(folder: Path, spec: dict[str, Any] | None, idf: np.ndarray | None) -> Any:
    if not spec:
        return None
    from .lexical import Lexicon

    path = folder / spec.get("file", "lexicon.json")
    if idf is None or not path.is_file():
        raise ConfigError(f"{folder}: the model has a lexical block but {path.name} or its IDF weights are missing")
    raw = path.read_bytes()
    if spec.get("sha256") and hashlib.sha256(raw).hexdigest() != spec["sha256"]:
        raise ConfigError(f"{path}: sha256 does not match config.json; the model folder was altered")
    return Lexicon.from_state(json.loads(raw.decode("utf-8")), idf)


def read_labeled_csv(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """Read ``text,themes`` rows (themes ``;``-separated ids); errors name the line and field.

    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "L.csv")
    >>> _ = open(f, "w").write("text,themes\\nLate again,delivery.late; price\\n")
    >>> read_labeled_csv(f)
    (['Late again'], [['delivery.late', 'price']])
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("the labeled file does not exist", path=str(path))
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "themes"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"the header must have columns text,themes; missing {sorted(missing)}",
                             path=str(path), line=1)
        for row in reader:
            line = reader.line_num
            text, themes = (row.get("text") or "").strip(), (row.get("themes") or "").strip()
            if not text:
                raise InputError("the text is empty", path=str(path), line=line, field="text")
            ids = [t.strip() for t in themes.split(";") if t.strip()]
            bad = [t for t in ids if not t.replace("_", "").replace(".", "").isalnum()]
            if bad:
                raise InputError(f"theme id {bad[0]!r} is not an id (letters, digits, '_', '.')",
                                 path=str(path), line=line, field="themes")
            texts.append(text)
            labels.append(ids)
    if not texts:
        raise InputError("no labeled rows", path=str(path))
    return texts, labels


def train_from_csv(labeled_csv: str | Path, taxonomy: Any, out_dir: str | Path, encoder: Any, *,
                   features: str = "mean", head: str = "logreg",
                   encode: Callable[[list[str]], np.ndarray] | None = None, progress: Any = None,
                   command: str | None = None, fine_tune: str = "off", fine_tune_config: Any = None,
                   **params: Any) -> dict:
    """Train a ThemeModel on a labeled CSV and save it to ``out_dir``; return its metrics.

    ``taxonomy`` is a Taxonomy, a YAML path, or None (ids are then free-form). ``encode`` turns
    the texts into the head's features (default :func:`features_of` with ``encoder``: the
    ``train-themes`` job passes one that reads the store's vector cache and shows progress);
    ``progress`` (``start``/``advance``/``finish``) is told while the head is cross-validated.
    The metrics hold the CV scores, each theme's out-of-fold scores (``per_theme``) and the
    training data's warnings (``warnings``: ids not in the taxonomy, themes with few examples),
    which the model card repeats. ``command`` is recorded on the card as how it was trained.

    ``fine_tune`` (:mod:`voiceminer.themes.finetune`): ``"off"`` fits the head on the frozen shared
    vectors; ``"on"`` first fine-tunes low-rank adapters of the encoder contrastively on the file
    (``fine_tune_config``: a FineTuneConfig) and fits the head on the adapted vectors, saving the
    adapter in ``out_dir``; ``"auto"`` measures both out of fold (k folds inside the file) and keeps
    the winner. The metrics then carry ``fine_tune`` (mode, whether it was used, the comparison).
    """
    from .finetune import (
        ADAPTER_FILE,
        MODES,
        FineTuneConfig,
        adapted,
        compare_oof,
        encode_with,
        load_adapter,
        save_adapter,
    )
    from .finetune import fine_tune as run_fine_tune
    from .taxonomy import Taxonomy, load_taxonomy
    from .trained import ThemeModel

    tax = taxonomy if isinstance(taxonomy, Taxonomy) or taxonomy is None else load_taxonomy(taxonomy)
    texts, labels = read_labeled_csv(labeled_csv)
    if encode is not None and features != "mean":
        raise ConfigError(f"a custom encode gives the sentence vector; feature set {features!r} needs features_of")
    if fine_tune not in MODES:
        raise ConfigError(f"fine_tune must be one of {', '.join(MODES)}, got {fine_tune!r}")
    if fine_tune != "off" and features != "mean":
        raise ConfigError(f"fine-tuning trains the sentence vector; feature set {features!r} cannot use it")
    X = encode(texts) if encode is not None else features_of(encoder, texts, features)
    cfg = fine_tune_config or FineTuneConfig()
    tuned: dict[str, Any] = {"mode": fine_tune, "used": fine_tune == "on"}
    if fine_tune == "auto":
        tuned["comparison"] = compare_oof(encoder, X, texts, labels, cfg, head_params={"head": head, **params},
                                          progress=progress)
        tuned["used"] = tuned["comparison"]["winner"] == "fine_tuned"
    out_path = Path(out_dir)
    encoder_key, adapter = encoder.key, None
    if tuned["used"]:
        started = time.perf_counter()
        state, lora = run_fine_tune(encoder, texts, labels, cfg, progress=progress)
        adapter = save_adapter(out_path, state, lora, encoder.key, cfg)
        saved, _ = load_adapter(out_path, adapter)  # the head reads exactly what tagging will merge
        tuned_encoder = adapted(encoder, saved, lora, adapter["encoder_key"])
        X = encode_with(tuned_encoder, texts, progress, task="encode (fine-tuned)")
        encoder_key = tuned_encoder.key
        tuned["seconds"] = round(time.perf_counter() - started, 1)
        del tuned_encoder
    else:
        (out_path / ADAPTER_FILE).unlink(missing_ok=True)  # a frozen retrain leaves no stale adapter
    meta = {"rows": len(texts), "data_sha256": _sha256_file(Path(labeled_csv)), "data_source": str(labeled_csv),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "taxonomy": None if tax is None else {"name": tax.name, "sha256": tax.sha256}}
    if command:
        meta["command"] = command
    if adapter is not None:
        meta["adapter"] = adapter
    if fine_tune != "off":
        meta["fine_tune"] = tuned
    if progress is not None:
        progress.start("cross-validate and fit", None)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ThemeDataWarning)
            model = ThemeModel(head=head, features=features, **params).fit(X, labels, tax, texts=texts,
                                                                          encoder_key=encoder_key, meta=meta)
    finally:
        if progress is not None:
            progress.finish()
    notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, ThemeDataWarning)))
    for w in caught:  # anything else (a solver's convergence, say) goes on as it came
        if not issubclass(w.category, ThemeDataWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    model.meta_["warnings"] = notes
    model.save(out_dir)
    return {"rows": len(texts), "labels": len(model.labels_), **model.cv_scores_,
            "per_theme": model.cv_per_theme_, "warnings": notes,
            **({"fine_tune": tuned} if fine_tune != "off" else {})}


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def features_of(encoder: Any, texts: Sequence[str], name: str) -> np.ndarray:
    """Features ``name`` for ``texts`` (``"mean"`` is the plain normalised sentence vector)."""
    from .features import rich_features
    return encoder.encode(list(texts), normalize=True) if name == "mean" else rich_features(encoder, texts, name)
