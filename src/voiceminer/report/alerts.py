"""Alerts of the current period: written as JSON and Markdown, POSTed to a webhook once.

A webhook receives each distinct alert set once: a marker named after the payload's
hash is written after a successful POST, so rerunning the weekly job does not notify
twice. A failing webhook never fails the job; the outcome is returned and printed.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def alert_payload(figures: dict[str, Any]) -> dict[str, Any]:
    meta = figures["meta"]
    return {"source": "voiceminer", "period": meta["period"], "current_period": meta["current_period"],
            "range": [meta["first_day"], meta["last_day"]], "alerts": figures["alerts"]}


def alerts_markdown(payload: dict[str, Any]) -> str:
    lines = [f"# VoiceMiner alerts: {payload['period']} of {payload['current_period']}", ""]
    if not payload["alerts"]:
        lines.append("No alerts this period.")
    from .exports import md_text

    for a in payload["alerts"]:
        lines.append(f"- **{a['severity']}** ({a['kind']}): {md_text(a['message'])}")
    return "\n".join(lines) + "\n"


def deliver_alerts(figures: dict[str, Any], out_dir: Path, webhook: str = "",
                   timeout: float = 10.0) -> tuple[dict[str, str], dict[str, Any]]:
    payload = alert_payload(figures)
    stem = f"alerts_{payload['period']}_{payload['current_period'] or 'none'}"
    body = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    from .files import atomic_write_text

    atomic_write_text(out_dir / f"{stem}.json", body)
    atomic_write_text(out_dir / f"{stem}.md", alerts_markdown(payload))
    paths = {"alerts_json": str(out_dir / f"{stem}.json"), "alerts_md": str(out_dir / f"{stem}.md")}
    if not webhook or not payload["alerts"]:
        return paths, {}
    digest = hashlib.sha256((webhook + "\n" + body).encode()).hexdigest()[:16]
    marker = out_dir / ".sent" / f"{stem}_{digest}"
    if marker.exists():
        return paths, {"status": "already sent", "url": webhook}
    request = urllib.request.Request(webhook, data=body.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "voiceminer"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except (urllib.error.URLError, OSError) as exc:
        return paths, {"status": "failed", "url": webhook, "error": str(exc)}
    marker.parent.mkdir(exist_ok=True)
    marker.write_text(str(status), encoding="utf-8")
    return paths, {"status": "sent", "url": webhook, "http_status": status}
