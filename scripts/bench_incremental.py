#!/usr/bin/env python
"""Rerun cost of the weekly job: `voiceminer mine` on a fresh store, then again on the same inputs.

Runs the real command (a new process each time, as cron would) with the default pipeline on the demo
exports, and prints each run's wall time and CPU time (user + system of the child process) and the
rerun's share of the first run (target: under 5%). The rerun must find nothing new: the script
fails if it stored or analysed anything. Wall times depend on what else the machine runs; the CPU
times are the steadier figure on a shared machine.

Usage:
    .venv/bin/python scripts/bench_incremental.py [--inputs corpora/demo/exports]
        [--config corpora/demo/voiceminer.toml] [--reruns 2] [--data-dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def timed_mine(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Run `voiceminer mine --json` once; its wall and CPU seconds and what it did."""
    cmd = [sys.executable, "-m", "voiceminer.cli.main", "--data-dir", str(data_dir)]
    if args.config:
        cmd += ["--config", str(args.config)]
    cmd += ["mine", *map(str, args.inputs), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"mine failed ({done.returncode}):\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "stored": out["ingest"]["stored"],
            "analysed": out["analyse"]["analysed"], "rows": out["ingest"]["rows"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", nargs="+", type=Path, default=[ROOT / "corpora" / "demo" / "exports"])
    ap.add_argument("--config", type=lambda s: Path(s) if s else None, default=ROOT / "corpora" / "demo" / "voiceminer.toml",
                    help="settings file (empty: none)")
    ap.add_argument("--reruns", type=int, default=2, help="reruns after the first run (the fastest is kept)")
    ap.add_argument("--data-dir", type=Path, default=None, help="store folder (default: a temporary one, removed)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vm-bench-incremental-"))
    if any(data_dir.iterdir()) if data_dir.exists() else False:
        raise SystemExit(f"{data_dir} is not empty: the first run needs a fresh store")
    try:
        first = timed_mine(args, data_dir)
        reruns = [timed_mine(args, data_dir) for _ in range(args.reruns)]
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    busy = [r for r in reruns if r["stored"] or r["analysed"]]
    if busy:
        raise SystemExit(f"a rerun stored or analysed comments, so it was not a rerun: {busy}")
    best = min(reruns, key=lambda r: r["wall_s"])
    result = {"first": first, "reruns": reruns, "rerun_share_wall": round(best["wall_s"] / first["wall_s"], 4),
              "rerun_share_cpu": round(best["cpu_s"] / first["cpu_s"], 4), "cores": os.cpu_count(),
              "load_average_1m": round(os.getloadavg()[0], 2)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"first run: {first['rows']} rows, {first['stored']} stored, {first['analysed']} analysed: "
          f"{first['wall_s']:.1f} s wall, {first['cpu_s']:.1f} s CPU")
    for i, r in enumerate(reruns, 1):
        print(f"rerun {i}: {r['stored']} stored, {r['analysed']} analysed: {r['wall_s']:.2f} s wall, "
              f"{r['cpu_s']:.2f} s CPU")
    print(f"rerun / first run (fastest rerun): {result['rerun_share_wall']:.2%} of the wall time, "
          f"{result['rerun_share_cpu']:.2%} of the CPU time (target < 5%)")
    print(f"({result['cores']} cores, load average {result['load_average_1m']} at the end)")


if __name__ == "__main__":
    main()
