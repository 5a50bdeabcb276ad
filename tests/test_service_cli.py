"""`voiceminer users`, `voiceminer tokens` and `voiceminer serve`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceminer.cli.main import app

pytest.importorskip("uvicorn")
runner = CliRunner()


def vm(tmp_path: Path, *args: str, stdin: str | None = None):
    return runner.invoke(app, ["--data-dir", str(tmp_path / "data"), *args], input=stdin)


def test_users_add_list_and_tokens(tmp_path: Path) -> None:
    added = vm(tmp_path, "users", "add", "ana", "--role", "triager", "--password-stdin",
               stdin="correct horse battery\n")
    assert added.exit_code == 0, added.output
    assert "added triager ana" in added.stdout
    prompted = vm(tmp_path, "users", "add", "ben", "--role", "viewer", stdin="long enough pw\nlong enough pw\n")
    assert prompted.exit_code == 0, prompted.output
    short = vm(tmp_path, "users", "add", "cy", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.exit_code == 3 and "at least 8 characters" in short.output
    bad_role = vm(tmp_path, "users", "add", "cy", "--role", "boss", "--password-stdin", stdin="long enough pw\n")
    assert bad_role.exit_code == 3 and "unknown role" in bad_role.output
    listed = vm(tmp_path, "users", "list", "--json")
    assert [(u["name"], u["role"]) for u in json.loads(listed.stdout)] == [("ana", "triager"), ("ben", "viewer")]

    token = vm(tmp_path, "tokens", "create", "--user", "ana")
    assert token.exit_code == 0 and token.stdout.startswith("vm_")
    from voiceminer.storage import Store
    from voiceminer.triage import authenticate, user_for_token

    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'voiceminer.db'}")
    assert user_for_token(store, token.stdout.strip()).name == "ana"
    assert authenticate(store, "ben", "long enough pw").role == "viewer"
    store.close()
    missing = vm(tmp_path, "tokens", "create", "--user", "nobody")
    assert missing.exit_code == 3 and "no user" in missing.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_answers_health_and_refuses_anonymous(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "VOICEMINER_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "voiceminer.cli.main", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    health = json.load(resp)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not come up: {proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.3)
        assert health["status"] == "ok"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/queue", timeout=5)
        assert refused.value.code == 401
        assert refused.value.headers["x-content-type-options"] == "nosniff"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (tmp_path / "data" / "service-secret").stat().st_mode & 0o777 == 0o600
