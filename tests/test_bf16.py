"""The ``torch-bf16`` backend (voiceminer.models.encoder): the shared model's encoders with bf16 weights,
run by oneDNN's AMX or AVX-512 bf16 kernels. Its vectors stay within a stated cosine of torch fp32's, the heads' decisions
stay the same, its vectors are cached under their own key (never mixed with fp32 ones), and a CPU without
bf16 products (neither AMX bf16 nor AVX-512 bf16) gets a clear refusal naming the missing features rather
than a slow emulation.

The tests that run bf16 are skipped, with the reason, on a CPU that lacks both; the refusal is tested
everywhere (the CPU's features are replaced).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from encoder_texts import TEXTS

from voiceminer.config import Settings
from voiceminer.errors import ConfigError
from voiceminer.models import encoder as encoder_mod
from voiceminer.models.benchmark import runnable_backends
from voiceminer.models.encoder import SentenceEncoder, missing_bf16_features
from voiceminer.models.shared import SharedModel, shared_path

pytestmark = pytest.mark.models

# bf16 keeps 8 bits of mantissa. Measured on these texts, cosine to torch fp32: shared-v2's mpnet + adapters
# 0.99996-0.99999 (mean 0.99997), the MiniLM sentiment companion 0.99996-0.99999; head probabilities move by
# at most 0.002 (the same on AMX and on a Zen 4 EPYC's AVX-512 bf16: mpnet worst 0.99995, companion 0.99996). On
# 200 whole demo comments the mpnet's worst was 0.998 (mean 0.99995). For scale, onnx-int8 gives mean 0.9993,
# worst 0.9973 on these texts (tests/test_onnx.py).
BF16_MIN_COSINE, BF16_MEAN_COSINE = 0.9995, 0.9999

MISSING = missing_bf16_features()
WHY = f"torch-bf16 needs AMX bf16 or AVX-512 bf16; this CPU lacks {', '.join(MISSING)}"
needs_bf16 = pytest.mark.skipif(bool(MISSING), reason=WHY)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def models() -> dict[str, SharedModel]:
    """shared-v2 with its sentiment companion, in torch fp32 and in torch-bf16."""
    if MISSING:
        pytest.skip(WHY)
    return {b: SharedModel(shared_path(), backend=b).load() for b in ("torch", "torch-bf16")}


@needs_bf16
def test_bf16_vectors_stay_close_to_fp32_and_keep_the_heads_decisions(models: dict[str, SharedModel]) -> None:
    import torch

    ref, bf16 = models["torch"], models["torch-bf16"]
    assert next(bf16.encoder_.model_.parameters()).dtype == torch.bfloat16
    assert next(ref.encoder_.model_.parameters()).dtype == torch.float32  # the fp32 model is untouched
    pairs = ((ref.encoder_, bf16.encoder_), (ref.companion_.encoder_, bf16.companion_.encoder_))
    for fp32_enc, bf16_enc in pairs:
        want, got = fp32_enc.encode(TEXTS), bf16_enc.encode(TEXTS)
        assert got.dtype == np.float32 and got.shape == want.shape
        cos = _cosine(want, got)
        assert cos.min() > BF16_MIN_COSINE and cos.mean() > BF16_MEAN_COSINE, cos
        assert np.abs(want - got).max() > 1e-6  # bf16 really ran: not the fp32 weights again
    want, got = ref.encode(TEXTS), bf16.encode(TEXTS)
    probs_ref, probs_got = ref.predict(want), bf16.predict(got)
    for task, thr in ref.thresholds.items():
        if probs_ref[task].shape[1] == 2:
            assert ((probs_ref[task][:, 1] >= thr) == (probs_got[task][:, 1] >= thr)).all(), task
        else:
            assert (probs_ref[task].argmax(1) == probs_got[task].argmax(1)).all(), task
        assert np.abs(probs_ref[task] - probs_got[task]).max() < 0.02, task


@needs_bf16
def test_bf16_keys_the_vector_cache_apart(models: dict[str, SharedModel], tmp_path: Path) -> None:
    from voiceminer import jobs
    from voiceminer.config import DEFAULT_PIPELINE
    from voiceminer.storage.vectors import VectorCache
    from voiceminer.types import Comment

    key = models["torch"].encoder_.key
    assert models["torch-bf16"].encoder_.key == key  # the same weights: trained themes models still load ...
    assert models["torch-bf16"].encoder_.vector_key == key + "+torch-bf16"
    assert models["torch"].encoder_.vector_key == key
    settings = Settings(data_dir=tmp_path / "data", pipeline=DEFAULT_PIPELINE, backend="torch-bf16")
    store = jobs.open_store(settings)
    pipeline = jobs.build_pipeline(settings, store)
    encode = next(s for s in pipeline.stages if s.name == "encode.shared.v1")
    assert encode.model_.encoder_.backend == encode.model_.companion_.encoder_.backend == "torch-bf16"
    assert encode.version == key + "+torch-bf16"  # ... but the pipeline key names the backend
    done = pipeline.run([Comment(id="c1", text="Delivery was late again. The box was soaked.", source="t")])
    assert done[0].vectors.shape == (2, 768) and done[0].vectors.dtype == np.float32
    assert VectorCache(store, key + "+torch-bf16").count() == 3  # two sentences and the whole text
    assert VectorCache(store, key).count() == 0  # nothing under the fp32 key: bf16 never mixes with fp32


def test_a_cpu_without_bf16_products_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert missing_bf16_features({"avx512_bf16", "avx512_vnni"}) == []  # AVX-512 bf16 (a Zen 4 EPYC)
    assert missing_bf16_features({"amx_tile", "amx_bf16", "avx2"}) == []  # AMX
    assert missing_bf16_features({"avx2", "avx512_vnni"}) == ["amx_tile", "amx_bf16", "avx512_bf16"]
    monkeypatch.setattr(encoder_mod, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_vnni"})
    with pytest.raises(ConfigError, match="torch-bf16 needs a CPU with bf16 products.*lacks amx_tile, amx_bf16, "
                                          "avx512_bf16"):
        SentenceEncoder(backend="torch-bf16").load()
    assert SentenceEncoder(backend="torch-bf16").model_ is None  # the setting is valid; loading refuses
    assert Settings(data_dir=tmp_path, backend="torch-bf16").backend == "torch-bf16"
    runnable, skipped = runnable_backends()
    assert "torch-bf16" not in runnable and "avx512_bf16" in skipped["torch-bf16"]
    assert runnable == ["torch", "onnx", "onnx-int8"]
