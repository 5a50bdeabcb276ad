#!/usr/bin/env python
"""Soak test of the triage service while the weekly job runs (loopback only, bounded in time).

For each backend: fill a fresh store with N comments and their cases (``load_test.fill``), start
``voiceminer serve`` on 127.0.0.1 in a child process (one worker by default, so one process's memory
is watched; --workers N sums the worker tree), then for S seconds at once:

- C readers (``load_test.clients``: queue, case and search with a bearer token, --think s apart);
- a triager changing cases through the API (read the case, send its version; a 409 is a conflict,
  not an error);
- the mining job: ``voiceminer mine`` processes one after another, each on a new export of M
  comments (pipeline "lexical": segmenter, VADER, keyword themes), each writing its report;

and sample the server's resident memory (RSS, from /proc) every --sample seconds. Prints requests,
5xx and transport errors, the jobs run, and RSS after warm-up, at the end and at its peak, with the
least-squares slope of the second half (MB per minute). Checks (exit code 1 when one fails): zero
5xx and transport errors, every job run completed, and memory bounded: the final RSS within
--max-growth-pct % + --max-growth-mb MB of the RSS after warm-up, and the second half's slope under
--max-slope-mb-min.

    .venv/bin/python scripts/soak.py --seconds 300                    # ~5 minutes on SQLite
    .venv/bin/python scripts/soak.py --backend postgres --seconds 300
    .venv/bin/python scripts/soak.py --seconds 40 --comments 2000 --clients 8   # what tests/test_soak.py runs

PostgreSQL: a throwaway database on --pg-admin-url's server (loopback only), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_test as lt  # (the load test's store filling, server, clients and helpers)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MB (Linux /proc)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration, ValueError):
            continue  # the process ended meanwhile
    return total / 1024


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 3:
        return 0.0
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def write_export(path: Path, texts: list[str], n: int, prefix: str, seed: int) -> None:
    """A review CSV of ``n`` new comments from the demo texts, dated over the last eight weeks."""
    rng = random.Random(seed)
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "date", "rating", "title", "review_text", "product"])
        for i in range(n):
            day = today - timedelta(days=rng.randrange(0, 56))
            w.writerow([f"{prefix}-{i}", day.strftime("%Y-%m-%d"), rng.randint(1, 5), "", rng.choice(texts), "box"])


def mining(url: str, data_dir: str, texts: list[str], per_job: int, stop_at: float, out: dict[str, Any]) -> None:
    """The weekly job, again and again until ``stop_at``: `voiceminer mine` on a new export each time."""
    env = {**os.environ, "VOICEMINER_DATABASE_URL": url, "VOICEMINER_PIPELINE": "lexical"}
    k = 0
    while time.time() < stop_at:
        export = Path(data_dir) / f"export_{k}.csv"
        write_export(export, texts, per_job, f"soak{k}", 500 + k)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "voiceminer.cli.main", "--data-dir", data_dir, "--quiet",
                               "mine", str(export)], env=env, capture_output=True, text=True, cwd=data_dir, check=False)
        out["runs"] += 1
        out["seconds"].append(round(time.perf_counter() - t0, 1))
        if done.returncode != 0:
            out["failed"] += 1
            out["errors"].append(done.stderr[-1000:])
        else:
            out["comments"] += per_job
        export.unlink(missing_ok=True)
        k += 1


def triaging(port: int, token: str, case_ids: list[int], stop_at: float, think: float, out: dict[str, Any]) -> None:
    """A triager working cases through the API: read a case, send its version with a change."""
    import httpx

    rng = random.Random(99)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                      headers={"authorization": f"Bearer {token}", "accept": "application/json"}) as http:
        while time.time() < stop_at:
            case_id = rng.choice(case_ids)
            try:
                got = http.get(f"/api/cases/{case_id}")
                out["statuses"][got.status_code] = out["statuses"].get(got.status_code, 0) + 1
                if got.status_code == 200:
                    version = got.json()["case"]["version"]
                    sent = http.patch(f"/api/cases/{case_id}", json={"version": version,
                                                                     "reply": f"Thanks, we are on it ({rng.random():.6f})"})
                    out["statuses"][sent.status_code] = out["statuses"].get(sent.status_code, 0) + 1
            except httpx.HTTPError as exc:
                out["transport_errors"] += 1
                out["last_error"] = f"{type(exc).__name__}: {exc}"
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))


def run_soak(backend: str, *, seconds: float, comments: int, clients: int, think: float, per_job: int,
             sample_s: float = 1.0, warmup_s: float | None = None, workers: int = 1,
             pg_admin_url: str = "postgresql://postgres@127.0.0.1:5432/test") -> dict[str, Any]:
    """One soak on ``backend``; returns its figures (see the module doc)."""
    from voiceminer.config import Settings
    from voiceminer.storage import Store
    from voiceminer.triage import add_user, create_token, list_cases, open_cases

    texts = lt.demo_texts()
    tmp = tempfile.mkdtemp(prefix=f"vm-soak-{backend}-")
    url, pg_name, server = f"sqlite:///{tmp}/voiceminer.db", None, None
    if backend == "postgres":
        url, pg_name = lt.pg_database(pg_admin_url)
    try:
        store = Store.open(url)
        lt.fill(store, texts, comments, "c", 7)
        open_cases(store, Settings(data_dir=Path(tmp), database_url=url), store.begin_run("analyse", {}))
        for name, role in (("reader", "viewer"), ("triager", "triager")):
            add_user(store, name, role, "soak-test-password")
        tokens = {name: create_token(store, name, "soak") for name in ("reader", "triager")}
        case_ids = [c.id for c in list_cases(store, limit=500)[0]]
        store.close()
        port = lt.free_port()
        server = lt.serve(url, tmp, port, workers)
        lt.wait_up(port, server)
        start = time.time()
        stop_at = start + seconds
        job: dict[str, Any] = {"runs": 0, "failed": 0, "comments": 0, "seconds": [], "errors": []}
        triage: dict[str, Any] = {"statuses": {}, "transport_errors": 0, "last_error": None}
        reads: dict[str, list] = {}
        threads = [
            threading.Thread(target=mining, args=(url, tmp, texts, per_job, stop_at, job), daemon=True),
            threading.Thread(target=triaging, args=(port, tokens["triager"], case_ids, stop_at, think, triage),
                             daemon=True),
            threading.Thread(target=lambda: reads.update(asyncio.run(lt.clients(
                port, tokens["reader"], case_ids, clients, seconds, think))), daemon=True),
        ]
        for th in threads:
            th.start()
        samples: list[tuple[float, float]] = []
        while time.time() < stop_at:
            samples.append((time.time() - start, tree_rss_mb(server.pid)))
            if server.poll() is not None:
                raise RuntimeError(f"the service process died during the soak (see {tmp}/serve.log)")
            time.sleep(sample_s)
        for th in threads:
            th.join(timeout=300)
        samples.append((time.time() - start, tree_rss_mb(server.pid)))
        return summarise(backend, seconds, samples, warmup_s, reads, triage, job,
                         {"comments": comments, "clients": clients, "think": think, "per_job": per_job,
                          "workers": workers})
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if pg_name:
            lt.drop_pg(pg_admin_url, pg_name)


def summarise(backend: str, seconds: float, samples: list[tuple[float, float]], warmup_s: float | None,
              reads: dict[str, list], triage: dict[str, Any], job: dict[str, Any],
              sizes: dict[str, Any]) -> dict[str, Any]:
    warmup_s = min(30.0, seconds * 0.2) if warmup_s is None else warmup_s
    after_warmup = [mb for t, mb in samples if t >= warmup_s][:3] or [samples[-1][1]]
    warm = statistics.median(after_warmup)
    final = statistics.median([mb for _, mb in samples[-3:]])
    second_half = [s for s in samples if s[0] >= seconds / 2]
    read_rows = [r[1] for rows in reads.values() for r in rows]  # load_test.clients rows: (seconds, status, ...)
    status_5xx = sum(1 for s in read_rows if isinstance(s, int) and s >= 500)
    status_5xx += sum(n for s, n in triage["statuses"].items() if s >= 500)
    transport = sum(1 for s in read_rows if not isinstance(s, int)) + triage["transport_errors"]
    other_4xx = sum(1 for s in read_rows if isinstance(s, int) and 400 <= s < 500)
    other_4xx += sum(n for s, n in triage["statuses"].items() if 400 <= s < 500 and s != 409)
    return {"backend": backend, "seconds": seconds, **sizes,
            "requests": len(read_rows) + sum(triage["statuses"].values()), "reads": len(read_rows),
            "triage_writes": {str(k): v for k, v in sorted(triage["statuses"].items())},
            "status_5xx": status_5xx, "transport_errors": transport, "unexpected_4xx": other_4xx,
            "last_transport_error": triage["last_error"],
            "jobs": {"runs": job["runs"], "failed": job["failed"], "comments": job["comments"],
                     "seconds": job["seconds"], "errors": job["errors"][:3]},
            "rss_mb": {"warm": round(warm, 1), "final": round(final, 1), "peak": round(max(mb for _, mb in samples), 1),
                       "start": round(samples[0][1], 1), "warmup_s": warmup_s,
                       "slope_second_half_mb_per_min": round(slope_mb_per_min(second_half), 2),
                       "samples": len(samples)},
            "read_p95_ms": {kind: s["p95_ms"] for kind, s in lt.summarise(reads).items()} if reads else {}}


def verdict(r: dict[str, Any], max_growth_pct: float, max_growth_mb: float, max_slope: float) -> list[str]:
    """What failed (empty: the soak passed)."""
    rss, bad = r["rss_mb"], []
    if r["status_5xx"] or r["transport_errors"] or r["unexpected_4xx"]:
        bad.append(f"{r['status_5xx']} 5xx, {r['transport_errors']} transport errors, "
                   f"{r['unexpected_4xx']} unexpected 4xx (want none)")
    if r["jobs"]["failed"] or not r["jobs"]["runs"]:
        bad.append(f"{r['jobs']['failed']} of {r['jobs']['runs']} mining jobs failed: {r['jobs']['errors'][:1]}")
    limit = rss["warm"] * (1 + max_growth_pct / 100) + max_growth_mb
    if rss["final"] > limit:
        bad.append(f"RSS grew from {rss['warm']} MB after warm-up to {rss['final']} MB (limit {limit:.1f} MB)")
    if rss["slope_second_half_mb_per_min"] > max_slope:
        bad.append(f"RSS still growing in the second half: {rss['slope_second_half_mb_per_min']} MB/min "
                   f"(limit {max_slope})")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--comments", type=int, default=10_000, help="comments in the store before the soak")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--think", type=float, default=0.5, help="mean seconds a client waits between requests")
    ap.add_argument("--per-job", type=int, default=500, help="new comments in each mining job's export")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes (RSS sums them)")
    ap.add_argument("--sample", type=float, default=1.0, help="seconds between RSS samples")
    ap.add_argument("--warmup", type=float, default=None, help="seconds before the baseline RSS "
                                                               "(default: 20%% of the run, at most 30)")
    ap.add_argument("--max-growth-pct", type=float, default=20.0)
    ap.add_argument("--max-growth-mb", type=float, default=40.0)
    ap.add_argument("--max-slope-mb-min", type=float, default=5.0)
    ap.add_argument("--pg-admin-url", default=os.environ.get("VOICEMINER_TEST_PG_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    failed = False
    for backend in backends:
        r = run_soak(backend, seconds=args.seconds, comments=args.comments, clients=args.clients, think=args.think,
                     per_job=args.per_job, sample_s=args.sample, warmup_s=args.warmup, workers=args.workers,
                     pg_admin_url=args.pg_admin_url)
        rss = r["rss_mb"]
        print(f"\n{backend}: {args.seconds:.0f} s, {r['comments']:,} comments, {r['clients']} readers (think "
              f"{r['think']:g} s) + 1 triager, {r['workers']} server worker(s)")
        print(f"  requests {r['requests']:,} (reads {r['reads']:,}; triage {r['triage_writes']}), 5xx "
              f"{r['status_5xx']}, transport errors {r['transport_errors']}, unexpected 4xx {r['unexpected_4xx']}")
        print(f"  mining jobs: {r['jobs']['runs']} run, {r['jobs']['failed']} failed, {r['jobs']['comments']:,} "
              f"comments mined (seconds each: {r['jobs']['seconds']})")
        print(f"  server RSS MB: start {rss['start']}, after warm-up ({rss['warmup_s']:.0f} s) {rss['warm']}, "
              f"end {rss['final']}, peak {rss['peak']}; second-half slope {rss['slope_second_half_mb_per_min']} "
              f"MB/min ({rss['samples']} samples)")
        print(f"  read p95 ms: {r['read_p95_ms']}")
        bad = verdict(r, args.max_growth_pct, args.max_growth_mb, args.max_slope_mb_min)
        print("  PASS" if not bad else "  FAIL: " + "; ".join(bad))
        failed |= bool(bad)
        if args.json:
            print(json.dumps(r, indent=2))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
