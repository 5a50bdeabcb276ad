"""Running an exported encoder graph (:mod:`.onnx_export`) with ONNX Runtime on the CPU.

One session per graph, with as many intra-op threads as this process may use
(``os.sched_getaffinity``: a container or ``taskset`` limit counts, not the machine's core
count) and one inter-op thread (the graph is a chain: parallelism is inside each matrix product);
idle threads do not spin.

>>> available_cores() >= 1
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingDependencyError


def available_cores() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxSession:
    """An ONNX Runtime session of an encoder graph: ``(input_ids, attention_mask) -> vectors``."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependencyError("onnxruntime", "ml") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: no notes on stderr
        # idle threads sleep instead of spinning: on a shared machine (other jobs, Dask workers beside us)
        # spinning threads take the cores the busy ones need
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = Path(path)
        self.threads = options.intra_op_num_threads
        self.session_: Any = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Mean-pooled vectors, float32 ``(batch, dim)``."""
        return self.session_.run(["vector"], {"input_ids": np.ascontiguousarray(input_ids, np.int64),
                                              "attention_mask": np.ascontiguousarray(attention_mask, np.int64)})[0]
