"""Headless-Chromium harness for tests: render a local HTML file and report what it did.

Not a test module. Tests call :func:`render` (or :func:`require_chromium` first) and assert on the
returned :class:`PageResult`: console errors (including CSP violations), outgoing network requests,
the visible text, the number of ``<script>`` elements, and optionally a full-page PNG screenshot.

It drives Debian's ``chromium`` over the Chrome DevTools Protocol with ``websocket-client`` only
(no Selenium/Playwright). When chromium is missing the test is skipped locally, but fails when
``CI`` is set, so a broken install on CI cannot go green silently.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["BrowserSession", "PageResult", "chromium_path", "on_ci", "render", "require_chromium"]

CHROMIUM_NAMES = ("chromium", "chromium-browser")
_DEVTOOLS_RE = re.compile(r"DevTools listening on (ws://[^\s]+)")


@dataclass
class PageResult:
    """What a page did while loading in headless Chromium."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    text: str = ""
    scripts: int = 0
    screenshot: Path | None = None

    @property
    def clean(self) -> bool:
        """No console errors and no outgoing requests."""
        return not self.console_errors and not self.requests


def chromium_path() -> str | None:
    """The chromium executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def on_ci() -> bool:
    value = os.environ.get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> str:
    """Return the chromium executable; skip the test when absent locally, fail on CI."""
    exe = chromium_path()
    if exe is None:
        reason = "Debian's chromium is not installed (apt-get install chromium)"
        if on_ci():
            pytest.fail(f"chromium is required on CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return exe


class _CDP:
    """A minimal, synchronous Chrome DevTools Protocol client for one page target."""

    def __init__(self, ws_url: str, deadline: float) -> None:
        import websocket  # websocket-client; imported lazily so doctest collection never needs it

        self._websocket = websocket
        self.deadline = deadline
        # Chromium >= 111 rejects DevTools websockets that send an Origin header.
        self.ws = websocket.create_connection(ws_url, timeout=self._remaining(), suppress_origin=True)
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def _remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("chromium did not finish in time")
        return left

    def _recv(self, timeout: float) -> dict[str, Any] | None:
        self.ws.settimeout(max(timeout, 0.001))
        try:
            raw = self.ws.recv()
        except self._websocket.WebSocketTimeoutException:
            return None
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        while True:
            msg = self._recv(self._remaining())
            if msg is None:
                continue
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"CDP {method} failed: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str) -> dict[str, Any]:
        for msg in self.events:
            if msg["method"] == event:
                return msg
        while True:
            msg = self._recv(self._remaining())
            if msg is not None and "method" in msg:
                self.events.append(msg)
                if msg["method"] == event:
                    return msg

    def drain(self, quiet: float = 0.25) -> None:
        """Collect events until none arrives for ``quiet`` seconds (or the deadline)."""
        while True:
            msg = self._recv(min(quiet, self._remaining()))
            if msg is None:
                return
            if "method" in msg:
                self.events.append(msg)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


def _remote_object_text(obj: dict[str, Any]) -> str:
    if "value" in obj:
        value = obj["value"]
        return value if isinstance(value, str) else json.dumps(value)
    return str(obj.get("description") or obj.get("unserializableValue") or obj.get("type", ""))


def _console_errors(events: list[dict[str, Any]]) -> list[str]:
    errors: list[str] = []
    for msg in events:
        method, params = msg["method"], msg.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(_remote_object_text(arg) for arg in params.get("args", []))
            errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exc = details.get("exception") or {}
            errors.append(f"exception: {exc.get('description') or details.get('text', '')}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                where = f" ({entry['url']})" if entry.get("url") else ""
                errors.append(f"log.{entry.get('source', '?')}: {entry.get('text', '')}{where}")
    return errors


def _requests(events: list[dict[str, Any]], page_url: str) -> list[str]:
    own = page_url.split("#", 1)[0]
    urls: list[str] = []
    for msg in events:
        if msg["method"] != "Network.requestWillBeSent":
            continue
        url = msg.get("params", {}).get("request", {}).get("url", "")
        if url.split("#", 1)[0] == own or url.startswith("data:"):
            continue
        urls.append(url)
    return urls


def _browser_port(
    proc: subprocess.Popen[str], user_data: Path, stderr_lines: list[str], deadline: float
) -> int:
    port_file = user_data / "DevToolsActivePort"
    while time.monotonic() < deadline:
        for line in list(stderr_lines):
            m = _DEVTOOLS_RE.search(line)
            if m:
                return int(m.group(1).split("/")[2].rsplit(":", 1)[1])
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(port_file.read_text().splitlines()[0])
        if proc.poll() is not None:
            tail = "".join(stderr_lines[-20:])
            raise RuntimeError(f"chromium exited with {proc.returncode} before DevTools was up:\n{tail}")
        time.sleep(0.05)
    raise TimeoutError("chromium did not open its DevTools port in time:\n" + "".join(stderr_lines[-20:]))


def _page_ws_url(port: int, deadline: float) -> str:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as resp:
                targets = json.load(resp)
            for target in targets:
                if target.get("type") == "page" and target.get("webSocketDebuggerUrl"):
                    return target["webSocketDebuggerUrl"]
        except OSError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"no page target on DevTools port {port}: {last}")


def _collect_lines(stream: Any, lines: list[str]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            lines.append(line)  # noqa: PERF402 - one at a time, the caller polls it meanwhile


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop chromium and every helper it spawned (it runs in its own process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    # Renderer/zygote helpers may outlive the main process briefly; the group id is ours.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def render(
    path: Path,
    screenshot: Path | None = None,
    width: int = 1200,
    height: int = 900,
    timeout: float = 30.0,
) -> PageResult:
    """Load ``path`` in headless Chromium and report console errors, requests, text and scripts.

    ``screenshot``: where to write a full-page PNG, if given. Raises ``TimeoutError`` when the
    page does not finish loading within ``timeout`` seconds, ``RuntimeError`` on navigation or
    protocol errors. Skips (locally) or fails (on CI) the calling test when chromium is missing.
    """
    exe = require_chromium()
    deadline = time.monotonic() + timeout
    page_url = Path(path).resolve().as_uri()
    user_data = Path(tempfile.mkdtemp(prefix="vm-chromium-"))
    args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-port=0",
        f"--user-data-dir={user_data}",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "about:blank",
    ]
    proc: subprocess.Popen[str] | None = None
    reader: threading.Thread | None = None
    cdp: _CDP | None = None
    stderr_lines: list[str] = []
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        stderr = proc.stderr
        assert stderr is not None
        # Keep draining stderr so chromium never blocks on a full pipe.
        reader = threading.Thread(target=_collect_lines, args=(stderr, stderr_lines), daemon=True)
        reader.start()

        port = _browser_port(proc, user_data, stderr_lines, deadline)
        cdp = _CDP(_page_ws_url(port, deadline), deadline)
        for domain in ("Runtime", "Log", "Network", "Page"):
            cdp.call(f"{domain}.enable")
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        nav = cdp.call("Page.navigate", {"url": page_url})
        if nav.get("errorText"):
            raise RuntimeError(f"navigation to {page_url} failed: {nav['errorText']}")
        cdp.wait_for("Page.loadEventFired")
        cdp.drain()  # late console messages / CSP reports / failed-request logs

        def evaluate(expr: str) -> Any:
            res = cdp.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
            if "exceptionDetails" in res:
                raise RuntimeError(f"evaluating {expr!r} failed: {res['exceptionDetails']}")
            return res.get("result", {}).get("value")

        text = evaluate("document.body ? document.body.innerText : ''") or ""
        scripts = int(evaluate("document.scripts.length") or 0)

        shot: Path | None = None
        if screenshot is not None:
            metrics = cdp.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            clip = {
                "x": 0,
                "y": 0,
                "width": max(1, int(size["width"] + 0.999)),
                "height": max(1, int(size["height"] + 0.999)),
                "scale": 1,
            }
            png = cdp.call(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True, "clip": clip},
            )
            shot = Path(screenshot)
            shot.parent.mkdir(parents=True, exist_ok=True)
            shot.write_bytes(base64.b64decode(png["data"]))
        cdp.drain(quiet=0.05)

        return PageResult(
            url=page_url,
            console_errors=_console_errors(cdp.events),
            requests=_requests(cdp.events, page_url),
            text=text,
            scripts=scripts,
            screenshot=shot,
        )
    finally:
        if cdp is not None:
            cdp.close()
        if proc is not None:
            _stop(proc)
            if reader is not None:
                reader.join(timeout=2)
            if proc.stderr is not None:
                with contextlib.suppress(OSError):
                    proc.stderr.close()
        shutil.rmtree(user_data, ignore_errors=True)


# -- an interactive session: navigate, type, press keys, evaluate, screenshot -----------------
_KEYS = {  # key -> (code, windowsVirtualKeyCode, text)
    "Enter": ("Enter", 13, "\r"), "Tab": ("Tab", 9, ""), "Escape": ("Escape", 27, ""),
    "ArrowUp": ("ArrowUp", 38, ""), "ArrowDown": ("ArrowDown", 40, ""), "/": ("Slash", 191, "/"),
}


class BrowserSession:
    """One headless Chromium page driven step by step (for tests of a live local web app).

    Use as a context manager: ``with BrowserSession() as b: b.goto(url); b.press("j")``. Console
    errors (CSP violations included) and requests collect in ``b.cdp.events`` across pages.
    """

    def __init__(self, width: int = 1366, height: int = 800, timeout: float = 90.0) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        self.proc: subprocess.Popen[str] | None = None
        self.cdp: _CDP | None = None
        self._reader: threading.Thread | None = None
        self._user_data = Path(tempfile.mkdtemp(prefix="vm-chromium-"))

    def __enter__(self) -> "BrowserSession":
        exe = require_chromium()
        deadline = time.monotonic() + self.timeout
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
                f"--user-data-dir={self._user_data}", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--disable-dev-shm-usage", f"--window-size={self.width},{self.height}", "about:blank"]
        stderr_lines: list[str] = []
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
        self._reader = threading.Thread(target=_collect_lines, args=(self.proc.stderr, stderr_lines), daemon=True)
        self._reader.start()
        try:
            port = _browser_port(self.proc, self._user_data, stderr_lines, deadline)
            self.cdp = _CDP(_page_ws_url(port, deadline), deadline)
            for domain in ("Runtime", "Log", "Network", "Page"):
                self.cdp.call(f"{domain}.enable")
            self.cdp.call("Emulation.setDeviceMetricsOverride",
                          {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.cdp is not None:
            self.cdp.close()
        if self.proc is not None:
            _stop(self.proc)
            if self._reader is not None:
                self._reader.join(timeout=2)
            if self.proc.stderr is not None:
                with contextlib.suppress(OSError):
                    self.proc.stderr.close()
        shutil.rmtree(self._user_data, ignore_errors=True)

    def evaluate(self, expr: str, await_promise: bool = False) -> Any:
        assert self.cdp is not None
        res = self.cdp.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                                 "awaitPromise": await_promise})
        if "exceptionDetails" in res:
            raise RuntimeError(f"evaluating {expr!r} failed: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def wait_until(self, expr: str, timeout: float = 15.0) -> Any:
        """Poll ``expr`` until it is truthy; returns its value (TimeoutError with the last value)."""
        end = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < end:
            with contextlib.suppress(RuntimeError):  # a page in the middle of navigating
                value = self.evaluate(expr)
                if value:
                    return value
            time.sleep(0.1)
        raise TimeoutError(f"{expr!r} still {value!r} after {timeout} s")

    def goto(self, url: str) -> None:
        assert self.cdp is not None
        nav = self.cdp.call("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise RuntimeError(f"navigation to {url} failed: {nav['errorText']}")
        self.wait_until("document.readyState === 'complete'")

    def type(self, text: str) -> None:
        """Type ``text`` into the focused element."""
        assert self.cdp is not None
        self.cdp.call("Input.insertText", {"text": text})

    def press(self, key: str, ctrl: bool = False) -> None:
        """Press and release one key ('j', '5', 'Enter', 'Tab', 'ArrowUp', '/', ...), optionally with Ctrl."""
        assert self.cdp is not None
        if key in _KEYS:
            code, vk, text = _KEYS[key]
        elif len(key) == 1 and key.isalnum():
            code = f"Key{key.upper()}" if key.isalpha() else f"Digit{key}"
            vk, text = ord(key.upper()), key
        else:
            raise ValueError(f"no key mapping for {key!r}")
        base = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk,
                "modifiers": 2 if ctrl else 0}
        down = {**base, "type": "keyDown" if text and not ctrl else "rawKeyDown"}
        if text and not ctrl:
            down.update(text=text, unmodifiedText=text)
        self.cdp.call("Input.dispatchKeyEvent", down)
        self.cdp.call("Input.dispatchKeyEvent", {**base, "type": "keyUp"})

    def screenshot(self, path: Path) -> Path:
        """A full-page PNG of the current page."""
        assert self.cdp is not None
        metrics = self.cdp.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": max(1, int(size["width"] + 0.999)),
                "height": max(1, int(size["height"] + 0.999)), "scale": 1}
        png = self.cdp.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(png["data"]))
        return path

    def console_errors(self) -> list[str]:
        assert self.cdp is not None
        self.cdp.drain(quiet=0.1)
        return _console_errors(self.cdp.events)

    def requests(self) -> list[str]:
        """Every URL the pages requested (navigations included)."""
        assert self.cdp is not None
        return [m.get("params", {}).get("request", {}).get("url", "") for m in self.cdp.events
                if m["method"] == "Network.requestWillBeSent"]

    def dialogs(self) -> list[dict[str, Any]]:
        assert self.cdp is not None
        return [m for m in self.cdp.events if m["method"] == "Page.javascriptDialogOpening"]
