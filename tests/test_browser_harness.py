"""The headless-Chromium harness (tests/browser.py) must be able to fail: errors and requests are seen."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import render, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()  # skip locally, fail on CI


def _page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>{body}</body></html>',
        encoding="utf-8",
    )
    return path


def test_console_error_is_reported(tmp_path: Path) -> None:
    result = render(_page(tmp_path, '<p>hi</p><script>console.error("boom")</script>'))
    assert any("boom" in e for e in result.console_errors), result.console_errors
    assert result.scripts == 1
    assert not result.clean


def test_network_request_is_reported(tmp_path: Path) -> None:
    result = render(_page(tmp_path, '<img src="http://example.invalid/x.png" alt="x">'))
    assert "http://example.invalid/x.png" in result.requests, result.requests
    assert not result.clean


def test_clean_page_with_escaped_markup(tmp_path: Path) -> None:
    result = render(_page(tmp_path, "<h1>Report</h1><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"))
    assert result.console_errors == []
    assert result.requests == []
    assert result.scripts == 0
    assert result.clean
    assert "<script>alert(1)</script>" in result.text
    assert result.screenshot is None


def test_full_page_screenshot_is_a_png(tmp_path: Path) -> None:
    shot = tmp_path / "shots" / "page.png"
    body = "<h1>Report</h1>" + "<p>row</p>" * 80  # taller than the viewport
    result = render(_page(tmp_path, body), screenshot=shot, width=800, height=600)
    assert result.screenshot == shot
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) > 1024
    # full page, not just the viewport: PNG IHDR height (bytes 20..24) exceeds the 600px viewport
    assert int.from_bytes(data[20:24], "big") > 600
