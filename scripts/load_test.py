#!/usr/bin/env python
"""Load test of the triage service (loopback only, bounded in time).

For each backend: fill a fresh store with N comments (texts from the demo corpus, with complaint,
cue and theme annotations as the pipeline writes them, so the case rules open cases), start
``voiceminer serve`` on 127.0.0.1 in a child process (its default worker count, one per core, unless
--workers), start a writer process
that keeps ingesting and analysing new comments (a mining job writing: comments, annotations and
new cases), and run C concurrent clients for S seconds against the queue, case and search
endpoints with a bearer token (each client waits --think seconds between its requests, as a person
reading the page would; --think 0 makes it a stress test). Prints p50/p95/p99 latency as the clients
saw it, the server's own p95 (its server-timing header: from the request reaching the app to the
response starting), requests and errors per endpoint, the server's CPU per request, how late the
client's event loop ran (a starved client adds that to every latency it measures), the load average,
and what the writer wrote. Target on 2 cores: p95 under 200 ms, zero errors.

    .venv/bin/python scripts/load_test.py                        # SQLite and PostgreSQL, 100,000 comments
    .venv/bin/python scripts/load_test.py --backend sqlite --comments 20000 --seconds 20
    .venv/bin/python scripts/load_test.py --backend sqlite --workers 1    # a single server process

PostgreSQL: a throwaway database is created on the server of --pg-admin-url (loopback only) and
dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
THEMES = [("delivery", "delivery.late"), ("delivery", "delivery.damaged"), ("billing", "billing.refund_delay"),
          ("support", "support.unreachable"), ("price", "price.expensive"), ("account", "account.login"),
          ("product", "product.food_drink")]
WORDS = ["refund", "late", "driver", "courier", "login", "price", "missing", "damaged", "support", "slot"]
ENDPOINTS = ("queue", "case", "search")


def demo_texts() -> list[str]:
    from voiceminer.collectors import collect
    from voiceminer.types import Comment

    texts = [i.text for i in collect([ROOT / "corpora" / "demo" / "exports"]) if isinstance(i, Comment)]
    return [t for t in texts if len(t) < 2000]


def fill(store, texts: list[str], n: int, prefix: str, seed: int, run_kind: str = "ingest") -> list[str]:
    """Store ``n`` comments with complaint/cue/theme annotations; returns their ids."""
    from voiceminer.storage import AnalysisResult
    from voiceminer.types import Annotation, Comment, Sentence

    rng = random.Random(seed)
    start = datetime(2026, 8, 3, tzinfo=timezone.utc)
    ids = []
    for offset in range(0, n, 2000):
        run = store.begin_run(run_kind, {"load_test": True})
        batch, results = [], []
        for i in range(offset, min(n, offset + 2000)):
            cid = f"{prefix}:{i}"
            text = f"{rng.choice(texts)} (#{i})"
            batch.append(Comment(id=cid, text=text, source="load", channel=rng.choice(["email", "chat", "review"]),
                                 created_at=start + timedelta(minutes=rng.randrange(0, 14 * 24 * 60)),
                                 metadata={"customer_id": f"C-{rng.randrange(0, n // 4 + 1)}"}))
            prio = rng.choices(["high", "medium", "low"], [0.08, 0.2, 0.72])[0]
            theme, cause = rng.choice(THEMES)
            end = len(text)
            anns = [Annotation(cid, "complaint", "complaint" if prio != "low" else "not_complaint", 0.8, "load", "1",
                               None, (0, end), {"priority": prio, "priority_score": rng.random(), "reasons": [prio]}),
                    Annotation(cid, "theme", theme, 0.7, "load", "1", 0, (0, end),
                               {"label": theme, "cause": cause, "cause_evidence": None})]
            if rng.random() < 0.03:
                anns.append(Annotation(cid, "cue", "churn", 1.0, "load", "1", None, (0, min(end, 8)), {}))
            results.append(AnalysisResult(cid, (Sentence(cid, 0, 0, end, text),), tuple(anns)))
            ids.append(cid)
        store.ingest_batch(run, batch)
        store.save_analysis(run, "load-test", results)
        store.finish_run(run, "completed", {})
    return ids


def serve(url: str, data_dir: str, port: int, workers: int | None) -> subprocess.Popen:
    """``voiceminer serve`` on the store, as an operator starts it (its output goes to serve.log)."""
    env = {**os.environ, "VOICEMINER_DATABASE_URL": url}
    log = open(Path(data_dir) / "serve.log", "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
    command = [sys.executable, "-m", "voiceminer.cli.main", "--data-dir", data_dir, "serve", "--port", str(port)]
    return subprocess.Popen(command + (["--workers", str(workers)] if workers else []), env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=data_dir)


def writer(url: str, data_dir: str, texts: list[str], stop_at: float, out: "mp.Queue") -> None:
    """A mining job writing while the service serves: batches of new comments, analyses and cases."""
    from voiceminer.config import Settings
    from voiceminer.storage import Store
    from voiceminer.triage import open_cases

    store, settings = Store.open(url), Settings(data_dir=Path(data_dir), database_url=url)
    written, opened, errors, k = 0, 0, 0, 0
    while time.time() < stop_at:
        try:
            ids = fill(store, texts, 200, f"w{k}", 1000 + k, "mine")
            opened += open_cases(store, settings, store.begin_run("analyse", {}), comment_ids=ids)
            written += len(ids)
        except Exception as exc:  # noqa: BLE001 - counted and reported, the test goes on
            errors += 1
            print(f"writer error: {type(exc).__name__}: {exc}", file=sys.stderr)
        k += 1
        time.sleep(0.2)
    out.put({"comments": written, "cases_opened": opened, "errors": errors})


class Connection:
    """One keep-alive HTTP/1.1 connection of a client: a bare GET over asyncio streams. The load
    generator shares the machine's two cores with the service, so it is kept lean (httpx spent more
    CPU per request than the service itself did, and its own delays were counted as the service's)."""

    def __init__(self, port: int, headers: str) -> None:
        self.port, self.headers = port, headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n{self.headers}\r\n".encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            raise ConnectionError("a response without a length")
        if headers.get("connection", "").lower() == "close":
            self.writer.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def clients(port: int, token: str, case_ids: list[int], n: int, seconds: float,
                  think: float, lags: list[float] | None = None) -> dict[str, list]:
    """Rows (seconds, status, server ms or None) per endpoint; ``lags`` (if given) gets how late this
    process's event loop ran its timers, in seconds."""
    from urllib.parse import urlencode

    results: dict[str, list] = {e: [] for e in ENDPOINTS}
    stop = time.perf_counter() + seconds
    headers = f"authorization: Bearer {token}\r\naccept: application/json\r\n"

    async def one(worker: int) -> None:
        rng = random.Random(worker)
        i = worker
        conn = Connection(port, headers)
        while time.perf_counter() < stop:
            kind = ENDPOINTS[i % 3]
            i += 1
            if kind == "queue":
                params = rng.choice([{}, {"status": "new"}, {"priority": "high"}, {"theme": "delivery"},
                                     {"overdue": "true"}, {"channel": "email"}])
                path = "/api/queue"
            elif kind == "case":
                path, params = f"/api/cases/{rng.choice(case_ids)}", {}
            else:
                path, params = "/api/search", {"q": " ".join(rng.sample(WORDS, rng.choice([1, 2]))), "limit": 20}
            t0 = time.perf_counter()
            server_ms = None
            try:
                status, got, body = await asyncio.wait_for(conn.get(path + ("?" + urlencode(params) if params else "")),
                                                           timeout=30)
                if status == 200:
                    json.loads(body)  # a whole, well-formed answer
                timing = got.get("server-timing", "")
                if "dur=" in timing:
                    server_ms = float(timing.split("dur=")[1].split(";")[0].split(",")[0])
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                status = type(exc).__name__
                conn.close()
                conn = Connection(port, headers)
            results[kind].append((time.perf_counter() - t0, status, server_ms))
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
        conn.close()

    async def lag_probe() -> None:  # how late this (client) process's event loop runs its timers
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            await asyncio.sleep(0.05)
            lags.append(max(0.0, time.perf_counter() - t0 - 0.05))

    lags = [] if lags is None else lags
    await asyncio.gather(lag_probe(), *(one(w) for w in range(n)))
    return results


def tree_cpu_seconds(root: int) -> float | None:
    """CPU seconds (user + system) used so far by a process and its descendants (Linux /proc; None
    elsewhere): the server's CPU per request is a figure that other load on the machine hardly moves."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    except (OSError, ValueError, AttributeError):
        return None
    tree, total = {root}, 0.0
    for _ in range(4):  # the server, its uvicorn workers (and anything they start)
        tree |= {pid for pid, (ppid, _) in stats.items() if ppid in tree}
    for pid in tree:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit("the service process died while starting")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("the service did not start in time")


def pg_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    host = urlparse(admin_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing a non-loopback database host {host!r}: this load test stays on this machine")
    name = f"vm_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", name


def drop_pg(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_backend(backend: str, args: argparse.Namespace, texts: list[str]) -> dict:
    from voiceminer.config import Settings
    from voiceminer.storage import Store
    from voiceminer.triage import add_user, create_token, list_cases, open_cases

    tmp = tempfile.mkdtemp(prefix=f"vm-load-{backend}-")
    pg_name = None
    url = f"sqlite:///{tmp}/voiceminer.db"
    if backend == "postgres":
        url, pg_name = pg_database(args.pg_admin_url)
    server = None
    try:
        store = Store.open(url)
        t0 = time.perf_counter()
        fill(store, texts, args.comments, "c", 7)
        opened = open_cases(store, Settings(data_dir=Path(tmp), database_url=url), store.begin_run("analyse", {}))
        fill_s = time.perf_counter() - t0
        print(f"[{backend}] filled {args.comments:,} comments, {opened:,} cases in {fill_s:.0f} s", flush=True)
        if backend == "postgres":  # as autovacuum would by now on a store in use: fresh planner statistics
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        add_user(store, "loadtest", "triager", "load-test-password")
        token = create_token(store, "loadtest", "load test")
        case_ids = [c.id for c in list_cases(store, limit=500)[0]]
        store.close()
        port = free_port()
        ctx = mp.get_context("spawn")
        server = serve(url, tmp, port, args.workers)
        wait_up(port, server)
        workers = next((line.split(" with ")[1].split(" worker")[0] for line in
                        (Path(tmp) / "serve.log").read_text(encoding="utf-8").splitlines() if " with " in line), "?")
        out = ctx.Queue()
        stop_at = time.time() + args.seconds
        job = ctx.Process(target=writer, args=(url, tmp, texts, stop_at if args.writer else 0, out), daemon=True)
        job.start()
        cpu_before = tree_cpu_seconds(server.pid)
        lags: list[float] = []
        results = asyncio.run(clients(port, token, case_ids, args.clients, args.seconds, args.think, lags))
        cpu_after = tree_cpu_seconds(server.pid)
        served = sum(len(rows) for rows in results.values())
        cpu_ms = round((cpu_after - cpu_before) * 1000 / served, 1) if served and cpu_before is not None \
            and cpu_after is not None else None
        job.join(timeout=60)
        wrote = out.get(timeout=10) if not out.empty() else {"comments": 0, "cases_opened": 0, "errors": "?"}
        return {"backend": backend, "comments": args.comments, "cases": opened, "clients": args.clients,
                "think": args.think, "workers": workers, "server_cpu_ms_per_request": cpu_ms,
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "seconds": args.seconds, "writer": wrote, "endpoints": summarise(results),
                "client_lag": summarise({"lag": [(x, 200, None) for x in lags]})["lag"]}
    finally:
        if server is not None:
            server.terminate()  # uvicorn stops its workers on SIGTERM
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if pg_name:
            drop_pg(args.pg_admin_url, pg_name)
        if not args.keep:  # the SQLite store of 100,000 comments is 140 MB
            shutil.rmtree(tmp, ignore_errors=True)


def _quantiles(values: list[float]) -> list[float]:
    values = sorted(values)
    return statistics.quantiles(values, n=100) if len(values) >= 2 else [values[0] if values else 0.0] * 99


def summarise(results: dict[str, list]) -> dict[str, dict]:
    """Per endpoint: requests, errors, client-observed p50/p95/p99 and the server's own p50/p95 (its
    server-timing header)."""
    out = {}
    for kind, rows in results.items():
        q = _quantiles([t * 1000 for t, _, _ in rows])
        server = _quantiles([ms for _, _, ms in rows if ms is not None])
        errors = sum(1 for _, status, _ in rows if not (isinstance(status, int) and status < 400))
        out[kind] = {"requests": len(rows), "errors": errors, "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1),
                     "p99_ms": round(q[98], 1), "server_p50_ms": round(server[49], 1),
                     "server_p95_ms": round(server[94], 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--comments", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--think", type=float, default=1.0, help="mean seconds a client waits between requests")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (store, serve.log)")
    ap.add_argument("--no-writer", dest="writer", action="store_false", help="no mining job writing meanwhile")
    ap.add_argument("--workers", type=int, default=None, help="server worker processes (default: voiceminer "
                                                               "serve's, one per core)")
    ap.add_argument("--pg-admin-url", default=os.environ.get("VOICEMINER_TEST_PG_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    texts = demo_texts()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    report = [run_backend(b, args, texts) for b in backends]
    for r in report:
        print(f"\n{r['backend']}: {r['comments']:,} comments, {r['cases']:,} cases, {r['workers']} server worker(s), "
              f"{r['clients']} clients for "
              f"{r['seconds']:.0f} s (think {r['think']:g} s); the writer stored {r['writer']['comments']:,} comments and opened "
              f"{r['writer']['cases_opened']:,} cases meanwhile ({r['writer']['errors']} writer errors)")
        print(f"  server CPU per request: {r['server_cpu_ms_per_request']} ms; load average at the end "
              f"{' '.join(str(x) for x in r['load_average'])} on {os.cpu_count()} cores")
        lag = r["client_lag"]
        print(f"  the client's event loop ran late by p95 {lag['p95_ms']} ms (over {lag['requests']} probes): "
              f"client-side time that is in the latencies below")
        print(f"  {'endpoint':<8} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'server p50':>10} {'server p95':>10}")
        for kind, s in r["endpoints"].items():
            print(f"  {kind:<8} {s['requests']:>8} {s['errors']:>6} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} "
                  f"{s['p99_ms']:>8.1f} {s['server_p50_ms']:>10.1f} {s['server_p95_ms']:>10.1f}")
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
