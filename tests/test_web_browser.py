"""The web UI in Debian's chromium against a live uvicorn server on loopback: log in, work a case
from the keyboard to resolved with a corrected root cause and an action, see the highlighted
evidence, find the correction in the labels export, and see a comment holding HTML and script
rendered as text. Screenshots of the queue and a case page are saved (path printed)."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")
from browser import BrowserSession, require_chromium
from test_service import PASSWORD, SCRIPT_TEXT, seed

from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.service import create_app
from voiceminer.storage import Store
from voiceminer.triage import get_case

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The service on a free loopback port, over a seeded SQLite store."""
    import uvicorn

    require_chromium()
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE)
    settings.data_dir.mkdir(parents=True)
    store = Store.open(settings.database_url)
    data = seed(settings, store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "store": store, "settings": settings, **data}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("VOICEMINER_TEST_ARTIFACTS") or tmp_path / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(b: BrowserSession, base: str, name: str) -> None:
    b.goto(f"{base}/queue")
    b.wait_until("location.pathname === '/login'")  # anonymous: sent to the login page
    b.evaluate("document.querySelector('input[name=name]').focus()")
    b.type(name)
    b.press("Tab")
    b.type(PASSWORD)
    b.press("Enter")
    b.wait_until("location.pathname === '/queue' && document.readyState === 'complete'")


def _selected(b: BrowserSession) -> int:
    return int(b.evaluate("document.querySelector('#queue tr.sel').dataset.id"))


def test_work_a_case_from_the_keyboard(live: dict[str, Any], tmp_path: Path) -> None:
    base, store, case_id = live["base"], live["store"], live["courier"].id
    shots = _artifacts(tmp_path)
    with BrowserSession() as b:
        _login(b, base, "tom")
        assert _selected(b) == case_id  # the high-priority case comes first
        b.press("j")
        second = _selected(b)
        assert second != case_id
        b.press("k")
        assert _selected(b) == case_id
        b.press("a")  # assign to me
        b.wait_until(f"document.querySelector('tr[data-id=\"{case_id}\"] .assignee').textContent === 'tom'")
        b.press("2")  # acknowledged
        b.wait_until(f"document.querySelector('tr[data-id=\"{case_id}\"] .status').textContent === 'acknowledged'")
        b.press("3")  # in progress
        b.wait_until(f"document.querySelector('tr[data-id=\"{case_id}\"] .status').textContent === 'in progress'")
        now = get_case(store, case_id)
        assert (now.assignee, now.status) == ("tom", "in_progress")
        b.press("5")  # resolving from the queue is refused: it needs a root cause and an action
        b.wait_until("!document.getElementById('toast').hidden && "
                     "document.getElementById('toast').textContent.includes('action taken')")
        assert get_case(store, case_id).status == "in_progress"
        queue_png = b.screenshot(shots / "queue.png")

        b.press("Enter")  # open the case
        b.wait_until(f"location.pathname === '/cases/{case_id}' && document.readyState === 'complete'")
        marks = b.evaluate("Array.from(document.querySelectorAll('#comment-text mark')).map("
                           "m => [m.className.trim(), m.textContent])")
        kinds = {k for cls, _ in marks for k in cls.split() if k.startswith("ev-")}
        assert {"ev-theme", "ev-cause", "ev-need", "ev-cue"} <= kinds, marks
        assert any("ev-cue" in cls and text == "cancelling" for cls, text in marks), marks
        colours = b.evaluate("['ev-theme','ev-cause','ev-need'].map(k => getComputedStyle("
                             "document.querySelector('#comment-text mark.' + k)).backgroundColor)")
        assert len(set(colours)) == 3 and "rgba(0, 0, 0, 0)" not in colours, colours  # styled, and distinct
        assert b.evaluate("document.getElementById('f-theme').value") == "delivery"  # prefilled from the model
        assert b.evaluate("document.getElementById('f-cause').value") == "delivery.courier"

        b.press("5")  # status: resolved
        assert b.evaluate("document.getElementById('f-status').value") == "resolved"
        b.press("t")  # root-cause theme; Tab to the cause; correct it by one option up
        b.press("Tab")
        b.press("ArrowUp")
        assert b.evaluate("document.getElementById('f-cause').value") == "delivery.lost"
        b.press("Tab")  # the action
        b.type("Found the parcel at the depot and redelivered it the same day")
        b.press("Tab")  # the reply
        b.type("Sorry about the rain-soaked box - a fresh one is on its way.")
        case_png = b.screenshot(shots / "case.png")
        b.press("Enter", ctrl=True)  # save
        b.wait_until("location.search === '?saved=1' && document.readyState === 'complete'")
        assert b.evaluate("document.getElementById('case-status').textContent") == "resolved"
        resolved_png = b.screenshot(shots / "case-resolved.png")

        done = get_case(store, case_id)
        assert (done.status, done.root_theme, done.root_cause) == ("resolved", "delivery", "delivery.lost")
        assert done.action == "Found the parcel at the depot and redelivered it the same day"
        assert done.reply.startswith("Sorry about the rain-soaked box")
        history = b.evaluate("document.querySelector('table.history').innerText")
        assert "root_cause" in history and "delivery.lost" in history and "tom" in history

        exported = b.evaluate("fetch('/api/labels/export').then(r => r.text())", await_promise=True)
        rows = list(csv.DictReader(io.StringIO(exported)))
        assert ("shop:1", "delivery;delivery.lost") in [(r["comment_id"], r["themes"]) for r in rows]

        errors = [e for e in b.console_errors()  # the refused resolve from the queue is the only failed request
                  if not ("status of 400" in e and e.endswith(f"/api/cases/{case_id})"))]
        assert errors == [], errors  # no CSP violation, no script error
        outside = [u for u in b.requests() if not u.startswith((base, "data:", "about:"))]
        assert outside == [], outside
    print(f"\nscreenshots: {queue_png} {case_png} {resolved_png}")


def test_customer_html_renders_as_text(live: dict[str, Any], tmp_path: Path) -> None:
    base = live["base"]
    with BrowserSession() as b:
        _login(b, base, "vic")
        b.goto(f"{base}/cases/{live['script'].id}")
        shown = b.evaluate("document.getElementById('comment-text').innerText")
        assert shown == SCRIPT_TEXT
        assert b.evaluate("document.querySelectorAll('#comment-text script, #comment-text b').length") == 0
        assert b.evaluate("Array.from(document.scripts).map(s => new URL(s.src).pathname)") == ["/static/app.js"]
        b.goto(f"{base}/queue")
        assert "<script>alert('pwned')</script>" in b.evaluate("document.getElementById('queue').innerText")
        b.press("/")  # focuses the search box
        assert b.evaluate("document.activeElement.id") == "search-box"
        shot = b.screenshot(_artifacts(tmp_path) / "queue-viewer.png")
        assert b.dialogs() == [] and b.console_errors() == []
        me = json.loads(b.evaluate("fetch('/api/me').then(r => r.text())", await_promise=True))
        assert me["role"] == "viewer"
    print(f"\nscreenshot: {shot}")


def test_every_page_renders_without_errors(live: dict[str, Any], tmp_path: Path) -> None:
    base = live["base"]
    shots = _artifacts(tmp_path)
    pages = {"queue-filtered": "/queue?status=new&priority=medium&theme=billing&period=90d",
             "search": "/search?q=refund", "themes": "/themes", "theme": "/themes/delivery",
             "reports": "/reports", "outcomes": "/outcomes", "admin": "/admin"}
    with BrowserSession() as b:
        _login(b, base, "root")
        for name, url in pages.items():
            b.goto(base + url)
            assert b.evaluate("location.pathname") == url.split("?")[0], name
            assert b.evaluate("document.querySelector('header.top') !== null"), name
            b.screenshot(shots / f"{name}.png")
        assert b.console_errors() == []
        assert [u for u in b.requests() if not u.startswith((base, "data:", "about:"))] == []
    print(f"\nscreenshots: {shots}")
