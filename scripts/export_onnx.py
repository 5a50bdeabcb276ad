#!/usr/bin/env python
"""Build the ONNX graphs of a shared model's encoders (and its sentiment companion's) ahead of time.

The ``onnx`` and ``onnx-int8`` backends build them on first use anyway; this runs that step now
(after install, or in an image build) and prints where each graph is. Graphs land in
``$VOICEMINER_ONNX_DIR`` or ``<venv>/share/voiceminer/onnx`` (see voiceminer.models.onnx_export).

Usage:
    .venv/bin/python scripts/export_onnx.py [--model shared-v2] [--backend onnx --backend onnx-int8]
"""

from __future__ import annotations

import argparse
import logging
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="shared model inside the models folder (default: shared-v2)")
    ap.add_argument("--backend", action="append", choices=["onnx", "onnx-int8"],
                    help="graphs to build (repeatable; default both)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    from voiceminer.models.shared import SharedModel, shared_path

    for backend in args.backend or ["onnx", "onnx-int8"]:
        start = time.perf_counter()
        model = SharedModel(shared_path(None, args.model), backend=backend).load()
        for encoder in filter(None, [model.encoder_, model.companion_ and model.companion_.encoder_]):
            print(f"{backend:<10} {encoder.vector_key:<45} {encoder.session_.path}")
        print(f"{backend}: ready in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
