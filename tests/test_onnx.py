"""The ONNX Runtime backends of the shared model (voiceminer.models.onnx_export): the fp32 graph gives
the torch path's vectors, the int8 graph nearly so with the heads' decisions mostly equal, the
backend setting reaches the pipeline, and vectors are cached per backend.

Graphs are built once per test session into a temporary folder (about a minute on 2 idle cores for
all-mpnet-base-v2, its int8 graph and the MiniLM sentiment companion's).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from encoder_texts import TEXTS
from typer.testing import CliRunner

from voiceminer.cli.main import app
from voiceminer.config import DEFAULT_BACKEND, Settings
from voiceminer.errors import ConfigError
from voiceminer.models import onnx_export
from voiceminer.models.shared import SharedModel, shared_path

pytestmark = pytest.mark.models

FP32_MIN_COSINE, FP32_MAX_ABS = 0.9999, 1e-3
# int8 (activations per row, feed-forward output projections kept fp32): on these texts cosine to torch
# 0.9973-0.9999, mean 0.9993 (7-bit weights, for CPUs without VNNI: 0.9957-0.9998, mean 0.9985); the
# earlier recipe, one activation scale per tensor, gave 0.984-0.999, mean 0.993
INT8_MIN_COSINE, INT8_MEAN_COSINE = 0.993, 0.997


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx-graphs")
    before = os.environ.get(onnx_export.ENV_VAR)
    os.environ[onnx_export.ENV_VAR] = str(folder)
    yield folder
    if before is None:
        os.environ.pop(onnx_export.ENV_VAR, None)
    else:
        os.environ[onnx_export.ENV_VAR] = before


@pytest.fixture(scope="session")
def models(onnx_dir: Path) -> dict[str, SharedModel]:
    """shared-v2 (without its companion) on each backend; the ONNX graphs built into ``onnx_dir``."""
    backends = ("torch", "onnx", "onnx-int8")  # torch-bf16: tests/test_bf16.py
    return {b: SharedModel(shared_path(), companion=False, backend=b).load() for b in backends}


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_fp32_graph_gives_the_torch_vectors(models: dict[str, SharedModel], onnx_dir: Path) -> None:
    torch_v, onnx_v = models["torch"].encode(TEXTS), models["onnx"].encode(TEXTS)
    assert models["onnx"].encoder_.session_ is not None and models["onnx"].encoder_.model_ is None
    assert str(models["onnx"].encoder_.session_.path).startswith(str(onnx_dir))
    assert onnx_v.shape == torch_v.shape == (len(TEXTS), 768)
    assert _cosine(torch_v, onnx_v).min() > FP32_MIN_COSINE
    assert np.abs(torch_v - onnx_v).max() < FP32_MAX_ABS
    # order and batching do not change a text's vector (batches are grouped by token count)
    one_by_one = np.stack([models["onnx"].encode([t])[0] for t in TEXTS[::-1]])[::-1]
    assert np.abs(one_by_one - onnx_v).max() < 1e-4


def test_int8_graph_stays_close_and_keeps_the_heads_decisions(models: dict[str, SharedModel]) -> None:
    torch_v, int8_v = models["torch"].encode(TEXTS), models["onnx-int8"].encode(TEXTS)
    cos = _cosine(torch_v, int8_v)
    assert cos.min() > INT8_MIN_COSINE and cos.mean() > INT8_MEAN_COSINE, cos
    assert np.abs(torch_v - int8_v).max() > 1e-6  # it is a different graph, not the fp32 one again
    ref, got = models["torch"].predict(torch_v), models["onnx-int8"].predict(int8_v)
    thresholds = models["torch"].thresholds
    for task in ref:
        if ref[task].shape[1] == 2:
            same = (ref[task][:, 1] >= thresholds[task]) == (got[task][:, 1] >= thresholds[task])
        else:
            same = ref[task].argmax(1) == got[task].argmax(1)
        assert same.all(), (task, ref[task], got[task])
        assert np.abs(ref[task] - got[task]).max() < 0.1  # measured 0.05 (sentiment), 0.02-0.03 (complaint, need)


def _rows_reference(x: np.ndarray, w: np.ndarray, qmax: int) -> np.ndarray:
    """x @ w with x quantized to uint8 per row (scale and zero point) and w to int8 per column, in numpy."""
    lo, hi = np.minimum(x.min(-1, keepdims=True), 0), np.maximum(x.max(-1, keepdims=True), 0)
    scale = np.maximum((hi - lo) / 255, 1e-8)
    zero = -np.round(lo / scale)
    q = np.clip(np.round(x / scale) + zero, 0, 255)
    w_scale = np.abs(w).max(0) / qmax
    return ((q - zero) * scale) @ (np.clip(np.round(w / w_scale), -qmax, qmax) * w_scale)


@pytest.mark.parametrize("qmax", [127, 63])
def test_int8_graph_quantizes_each_row_on_its_own(tmp_path: Path, qmax: int) -> None:
    """The int8 recipe's arithmetic (voiceminer.models.onnx_int8) on a two-product graph: each token gets its
    own activation range, so a row of large values does not crush a row of small ones (one scale per
    tensor, ONNX Runtime's dynamic quantization, would); products reading one input share one quantization,
    and a product named in ``keep`` stays fp32."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from voiceminer.models.onnx_export import int8_variant
    from voiceminer.models.onnx_int8 import quantize_rows
    from voiceminer.models.onnx_runtime import OnnxSession

    if qmax == 127 and int8_variant() == "rr":  # the recipe this CPU gets is the 7-bit one (qmax 63), tested below
        pytest.skip("full-range int8 weights saturate in ONNX Runtime's uint8 x int8 products on a CPU without "
                    "VNNI (avx512_vnni / avx_vnni); VoiceMiner builds 7-bit weights there")
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(8, 5)).astype(np.float32), rng.normal(size=(8, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["y1"], name="/a/MatMul"),
         helper.make_node("MatMul", ["x", "w2"], ["y2"], name="/b/MatMul"),
         helper.make_node("MatMul", ["y1", "w3"], ["y3"], name="/keep/MatMul")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, 8])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y1", "y2", "y3")],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
         numpy_helper.from_array(np.eye(5, dtype=np.float32), "w3")])
    fp32 = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(fp32))
    out = quantize_rows(fp32, tmp_path / "g8.onnx", keep="/keep/", qmax=qmax)
    model = onnx.load(str(out))
    assert [n.op_type for n in model.graph.node].count("MatMulInteger") == 2
    assert [n.op_type for n in model.graph.node].count("ReduceMax") == 1  # x is quantized once for both
    assert [n.name for n in model.graph.node if n.op_type == "MatMul"] == ["/keep/MatMul"]

    x = rng.normal(size=(2, 4, 8)).astype(np.float32)
    x[0, 0] *= 1000.0  # one loud token
    x[1, 2] = np.abs(x[1, 2])  # a row with no negative value: its zero point is 0
    session = OnnxSession(out, threads=1).session_
    y1, y2, y3 = session.run(None, {"x": x})
    for got, w in ((y1, w1), (y2, w2)):
        np.testing.assert_allclose(got, _rows_reference(x, w, qmax), rtol=1e-4, atol=1e-4)
        exact = x @ w
        quiet = np.abs(got[0, 1:] - exact[0, 1:]).max() / np.abs(exact[0, 1:]).max()
        assert quiet < (0.03 if qmax == 127 else 0.06), quiet  # the quiet tokens beside the loud one stay precise
    np.testing.assert_allclose(y3, y1, rtol=1e-6)  # the kept product ran in fp32 on the int8 one's output


def test_int8_recipe_follows_the_cpu(tmp_path: Path) -> None:
    """Without VNNI, ONNX Runtime's uint8 x int8 products saturate: the weights get 7 bits there, in their own
    file and under their own vector key (a store shared by both kinds of CPU never mixes them)."""
    assert onnx_export.int8_variant({"avx2", "avx512_vnni"}) == "" and onnx_export.int8_variant({"avx2"}) == "rr"
    assert onnx_export.int8_variant({"avx_vnni"}) == ""
    tag = onnx_export.backend_tag("onnx-int8")  # names the per-row scheme: earlier int8 vectors are not reused
    assert tag == ("onnx-int8-rows" if onnx_export.int8_variant() == "" else "onnx-int8-rows-rr")
    assert onnx_export.backend_tag("onnx") == "onnx" and onnx_export.backend_tag("torch-bf16") == "torch-bf16"


def test_graphs_are_built_once_and_keyed_by_the_weights(models: dict[str, SharedModel], onnx_dir: Path) -> None:
    encoder = models["onnx-int8"].encoder_
    folder = encoder.session_.path.parent
    int8_file = onnx_export.INT8_RR_FILE if onnx_export.int8_variant() == "rr" else onnx_export.INT8_FILE
    assert folder.parent == onnx_dir and {p.name for p in folder.glob("*.onnx")} == {"encoder.onnx", int8_file}

    def refuse() -> None:
        raise AssertionError("the graph exists: nothing may be rebuilt")

    weights = ("0" * 64, "")  # other weights: another folder
    assert onnx_export.graph_dir_name(*weights) != folder.name
    for backend in ("onnx", "onnx-int8"):
        again = SharedModel(shared_path(), companion=False, backend=backend)
        again.load()  # the graphs exist: loads without torch
        assert again.encoder_.model_ is None and again.encoder_.session_.path.parent == folder
    with pytest.raises(ConfigError, match="no ONNX graph"):
        onnx_export.graph_path(weights, "torch", refuse)


def test_backend_reaches_the_pipeline_and_keys_the_vector_cache(models: dict[str, SharedModel], tmp_path: Path) -> None:
    from voiceminer import jobs
    from voiceminer.config import DEFAULT_PIPELINE
    from voiceminer.storage.vectors import VectorCache
    from voiceminer.types import Comment

    settings = Settings(data_dir=tmp_path / "data", pipeline=DEFAULT_PIPELINE, backend="onnx-int8")
    store = jobs.open_store(settings)
    pipeline = jobs.build_pipeline(settings, store)
    encode = next(s for s in pipeline.stages if s.name == "encode.shared.v1")
    encoder = encode.model_.encoder_
    assert encoder.backend == "onnx-int8" and encoder.session_ is not None
    assert encode.model_.companion_.encoder_.backend == "onnx-int8"  # the sentiment companion's pass too
    assert encoder.key == models["torch"].encoder_.key  # the same weights: trained themes models still load ...
    tag = onnx_export.backend_tag("onnx-int8")  # onnx-int8-rows, or onnx-int8-rows-rr on a CPU without VNNI
    assert encode.version == f"{encoder.key}+{tag}"  # ... but the pipeline key names the backend
    assert any(v.startswith(f"encode.shared.v1@{encoder.key}+{tag}") for v in pipeline.spec)
    done = pipeline.run([Comment(id="c1", text="Delivery was late again. The box was soaked.", source="t")])
    assert done[0].vectors.shape == (2, 768)
    assert VectorCache(store, f"{encoder.key}+{tag}").count() == 3  # two sentences and the whole text
    assert VectorCache(store, encoder.key).count() == 0  # nothing under the torch key: int8 never mixes with fp32


def test_backend_setting_is_checked(tmp_path: Path) -> None:
    assert Settings.load(env={"VOICEMINER_BACKEND": "onnx-int8"}, config_path=None).backend == "onnx-int8"
    assert DEFAULT_BACKEND == "auto"
    # the suite pins auto to onnx (tests/conftest.py): what a CPU without AMX gets
    assert Settings.load(env={}, config_path=None).backend == "onnx"
    assert Settings(data_dir=tmp_path, backend="torch").with_(backend="auto").backend == "onnx"
    with pytest.raises(ConfigError, match="backend must be auto or one of torch, onnx, onnx-int8"):
        Settings(data_dir=tmp_path, backend="tensorrt")
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "evaluate", "--backend", "int4", "--only",
                                      "sentiment"])
    assert result.exit_code == 4 and "backend must be auto or one of" in result.output


@pytest.mark.auto_backend
def test_auto_backend_is_bf16_exactly_where_the_cpu_multiplies_bf16(tmp_path: Path) -> None:
    from voiceminer.config import bf16_ready
    from voiceminer.models.encoder import missing_bf16_features

    expected = "torch-bf16" if not missing_bf16_features() else "onnx"
    assert bf16_ready() == (expected == "torch-bf16")  # /proc/cpuinfo + arch_prctl agree with torch's view
    assert Settings.load(env={}, config_path=None).backend == expected
    assert Settings(data_dir=tmp_path).backend == expected
    assert Settings.load(env={"VOICEMINER_BACKEND": "auto"}, config_path=None).backend == expected
    assert Settings.load(env={"VOICEMINER_BACKEND": "torch"}, config_path=None).backend == "torch"
