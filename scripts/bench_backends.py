#!/usr/bin/env python
"""Whole `tag` path rate per encoder backend (torch, onnx, onnx-int8, torch-bf16) on the same demo comments,
in one process: sentences/s and the ratio against torch, in wall time and in this process's CPU time
(voiceminer.models.benchmark.tag_rates).

ONNX graphs are built first if missing (not timed). Prints the load average before and after, since
the machine may be shared. By default every backend this CPU can run (torch-bf16 needs AMX or AVX-512 bf16: it is left
out, with the reason printed, where the CPU lacks it); a backend named with --backend is always run.
The torch backends' OpenMP threads spin while they wait for each other unless OMP_WAIT_POLICY=PASSIVE
is set before the run; where other jobs share the cores that decides much of their rate. This script
sets PASSIVE unless the environment says otherwise, as the CLI does, and the header prints it.

Usage:
    .venv/bin/python scripts/bench_backends.py [--comments 400] [--repeats 2] [--model shared-v2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI sets it (voiceminer.cli.main), before torch loads
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--model", default=None)
    ap.add_argument("--backend", action="append", help="backends to time (repeatable; default every one this "
                                                         "CPU can run)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from voiceminer.collectors import collect
    from voiceminer.models.benchmark import runnable_backends, tag_rates
    from voiceminer.types import Comment

    texts = [c.text for c in collect([ROOT / "corpora" / "demo" / "exports"]) if isinstance(c, Comment)]
    texts = texts[: args.comments]
    backends, skipped = (args.backend, {}) if args.backend else runnable_backends()
    load_before = os.getloadavg()
    rates = tag_rates(texts, backends, shared_model=args.model, repeats=args.repeats)
    result = {"rates": rates, "skipped": skipped, "loadavg_before": load_before,
              "loadavg_after": os.getloadavg(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
              "cores": len(os.sched_getaffinity(0))}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(texts)} comments, {next(iter(rates.values()))['sentences']} sentences, "
          f"{result['cores']} cores, load {load_before[0]:.2f} -> {result['loadavg_after'][0]:.2f}, "
          f"OMP_WAIT_POLICY={result['omp_wait_policy'] or '(unset)'}")
    print(f"{'backend':<10} {'seconds':>8} {'sent/s':>8} {'x torch':>8} {'cpu s':>8} {'cpu x torch':>12}")
    for backend, r in rates.items():
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        cpu_ratio = f"{r['cpu_ratio']:.2f}" if r["cpu_ratio"] is not None else "-"
        print(f"{backend:<10} {r['seconds']:>8.1f} {r['sentences_per_s']:>8.1f} {ratio:>8} "
              f"{r['cpu_seconds']:>8.1f} {cpu_ratio:>12}")
    for backend, why in skipped.items():
        print(f"{backend:<10} not run: {why}")


if __name__ == "__main__":
    main()
