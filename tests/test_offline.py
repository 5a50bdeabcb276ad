"""Everything runs offline: ``mine``, ``report``, the service and (marked ``models``) loading the real
models for ``tag`` make no outbound network connection.

In process, a guard replaces ``socket.socket.connect``/``connect_ex``/``sendto``,
``socket.create_connection``, ``getaddrinfo`` and ``gethostbyname``: anything not aimed at a
loopback address (or a Unix socket) is recorded and refused, and the tests assert nothing was
recorded. Code outside Python's socket module (a C or Rust HTTP client) would slip past that
guard, so where ``unshare -n`` works the CLI also runs in a network namespace that has no
network at all.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from voiceminer import jobs
from voiceminer.cli.main import app
from voiceminer.config import LEXICON_PIPELINE, Settings

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "testserver"}


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """Records and refuses every attempt to reach a non-loopback address."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def check(self, what: str, address: Any) -> None:
        if isinstance(address, (str, bytes)):  # AF_UNIX path
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not _is_local(host):
            self.attempts.append(f"{what} {address!r}")
            raise OSError(f"outbound network access in an offline test: {what} {address!r}")

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_sendto, real_create = socket.socket.sendto, socket.create_connection
        real_getaddrinfo, real_gethostbyname = socket.getaddrinfo, socket.gethostbyname
        guard = self

        def connect(sock: socket.socket, address: Any) -> Any:
            guard.check("connect", address)
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            guard.check("connect_ex", address)
            return real_connect_ex(sock, address)

        def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
            guard.check("sendto", args[-1])
            return real_sendto(sock, data, *args)

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check("create_connection", address)
            return real_create(address, *args, **kwargs)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not _is_local(host):
                guard.attempts.append(f"getaddrinfo {host!r}")
                raise socket.gaierror(f"name lookup in an offline test: {host!r}")
            return real_getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host: str) -> str:
            if not _is_local(host):
                guard.attempts.append(f"gethostbyname {host!r}")
                raise socket.gaierror(f"name lookup in an offline test: {host!r}")
            return real_gethostbyname(host)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket.socket, "sendto", sendto)
        monkeypatch.setattr(socket, "create_connection", create_connection)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "gethostbyname", gethostbyname)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    guard = NetworkGuard()
    guard.install(monkeypatch)
    yield guard


def _export(path: Path, weeks: int = 6) -> Path:
    today = date.today()
    texts = ["The courier was late again and the box was damaged.", "Great value, lovely fresh food.",
             "Billing charged me twice, please refund me.", "The app keeps crashing at checkout.",
             "Customer service was rude and unhelpful.", "Delivery on time, well packed."]
    rows = ["id,date,rating,text"]
    for week in range(weeks):
        for i, text in enumerate(texts):
            rows.append(f"{week}-{i},{(today - timedelta(days=7 * week + i)).isoformat()},{1 + (i * 2) % 5},"
                        f"\"{text}\"")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_guard_refuses_and_records_outbound_but_allows_loopback(offline: NetworkGuard) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        socket.create_connection(server.getsockname(), timeout=2).close()  # loopback: fine
    assert offline.attempts == []
    # The decision first, with no I/O, and the wiring: only then the real calls below, so a broken
    # guard fails here instead of letting a packet or a name lookup leave the machine.
    with pytest.raises(OSError, match="offline test"):
        offline.check("connect", ("192.0.2.1", 443))
    offline.attempts.clear()
    assert socket.create_connection.__module__ == __name__ and socket.getaddrinfo.__module__ == __name__
    with pytest.raises(OSError, match="offline test"):
        socket.create_connection(("192.0.2.1", 443), timeout=0.1)
    with pytest.raises(OSError, match="offline test"):
        socket.getaddrinfo("example.com", 443)
    import urllib.request

    with pytest.raises(OSError, match="offline test"):
        urllib.request.urlopen("http://example.com/", timeout=0.5)  # noqa: S310 - the guard must stop it
    assert len(offline.attempts) == 3 and "example.com" in offline.attempts[-1]


def test_mine_report_and_service_make_no_outbound_connection(offline: NetworkGuard, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from voiceminer.report import build_report
    from voiceminer.service import create_app
    from voiceminer.triage import add_user, create_token

    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE, batch_size=16, redact_pii=True)
    result = jobs.mine(settings, [_export(tmp_path / "in.csv")])
    assert result.ingest.counts.stored == 36 and result.report
    store = jobs.open_store(settings)
    report = build_report(settings, store=store, formats=("json", "html", "md", "csv", "xlsx"))
    assert all(Path(p).exists() for p in report.paths.values())
    add_user(store, "vic", "viewer", "correct horse battery")
    headers = {"authorization": f"Bearer {create_token(store, 'vic')}"}
    with TestClient(create_app(settings, store=store)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/login").status_code == 200
        for path in ("/api/me", "/api/queue", "/api/search?q=courier", "/api/themes", "/api/reports",
                     "/api/you-said-we-did"):
            assert client.get(path, headers=headers).status_code == 200, path
    assert offline.attempts == []


@pytest.mark.models
@pytest.mark.slow
def test_tag_with_the_real_models_makes_no_outbound_connection(offline: NetworkGuard, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the code must not need these from outside
        monkeypatch.delenv(key, raising=False)
    src = tmp_path / "two.csv"
    src.write_text("id,text\n1,The courier left my parcel in the rain.\n2,Lovely food and great value.\n")
    out = tmp_path / "tags.jsonl"
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "tag", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 2
    assert offline.attempts == []


def _no_network_namespace() -> list[str] | None:
    """The command prefix that runs a process without any network, when this machine allows it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ([unshare, "-n"], [unshare, "-rn"]):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return None


@pytest.mark.slow
def test_mine_and_report_run_in_a_namespace_without_network(tmp_path: Path) -> None:
    prefix = _no_network_namespace()
    if prefix is None:
        pytest.skip("unshare -n is not permitted here")
    env = {**os.environ, "VOICEMINER_PIPELINE": ",".join(LEXICON_PIPELINE)}
    cli = [str(Path(sys.executable).with_name("voiceminer"))]  # the virtualenv's console script
    data = ["--data-dir", str(tmp_path / "data")]
    mined = subprocess.run([*prefix, *cli, *data, "mine", str(_export(tmp_path / "in.csv")), "--json"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert mined.returncode == 0, mined.stderr[-2000:]
    assert json.loads(mined.stdout)["ingest"]["stored"] == 36
    reported = subprocess.run([*prefix, *cli, *data, "report", "--json"], capture_output=True, text=True,
                              env=env, timeout=300)
    assert reported.returncode == 0, reported.stderr[-2000:]
