"""The triage service's API: every route as nobody, viewer, triager and admin (walking the OpenAPI
schema), bad input, conflicts, CSRF, sessions, login limits and security headers, on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")

from datetime import UTC

from fastapi.testclient import TestClient

from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.service import create_app
from voiceminer.service.security import LoginLimiter
from voiceminer.storage import Store
from voiceminer.storage.store import AnalysisResult
from voiceminer.triage import add_team, add_user, create_token, list_cases, open_cases
from voiceminer.types import Annotation, Comment, Sentence

PASSWORD = "correct horse battery"
ROLES = {"vic": "viewer", "tia": "triager", "root": "admin"}
SCRIPT_TEXT = "<script>alert('pwned')</script> <b>Billing</b> charged me twice for one box!"
COURIER_TEXT = ("The courier left my box in the rain again. I am cancelling my subscription. "
                "Please let me choose a delivery slot.")


def _comment(cid: str, text: str, day: int, customer: str | None = None, channel: str = "review") -> Comment:
    from datetime import datetime

    return Comment(id=cid, text=text, source="shop", channel=channel,
                   created_at=datetime(2026, 11, day, 9, tzinfo=UTC),
                   metadata={"customer_id": customer} if customer else {})


def _analysis(c: Comment, priority: str, theme: str, cause: str, cause_span: tuple[int, int] | None = None,
              cue: tuple[str, int, int] | None = None, need: tuple[int, int] | None = None) -> AnalysisResult:
    """Sentences split at '. ', a theme on the first sentence, optional cause evidence, cue and need."""
    sentences, start = [], 0
    for i, part in enumerate(re.split(r"(?<=[.!?]) ", c.text)):
        begin = c.text.index(part, start)
        sentences.append(Sentence(c.id, i, begin, begin + len(part), part))
        start = begin + len(part)
    first = sentences[0]
    ann = [Annotation(c.id, "complaint", "complaint", 0.9, "test", "1",
                      data={"priority": priority, "priority_score": {"high": 0.9, "medium": 0.6}.get(priority, 0.2),
                            "reasons": [f"complaint ({priority})"]}),
           Annotation(c.id, "complaint", "complaint", 0.9, "test", "1", sentence_index=0,
                      span=(first.start, first.end)),
           Annotation(c.id, "theme", theme, 0.8, "test", "1", sentence_index=0, span=(first.start, first.end),
                      data={"cause": cause, "cause_evidence": list(cause_span) if cause_span else None})]
    if cue:
        ann.append(Annotation(c.id, "cue", cue[0], 1.0, "test", "1", sentence_index=1, span=(cue[1], cue[2])))
    if need:
        ann.append(Annotation(c.id, "need", "choose a delivery slot", 0.7, "test", "1", sentence_index=2, span=need))
    return AnalysisResult(c.id, tuple(sentences), tuple(ann))


def seed(settings: Settings, store: Store) -> dict[str, Any]:
    """Users, a team, and cases opened from hand-written analysed comments (one holds HTML/script)."""
    run = store.begin_run("mine", {})
    courier = _comment("shop:1", COURIER_TEXT, 20, customer="C-1")
    script = _comment("shop:2", SCRIPT_TEXT, 21, channel="email")
    crash = _comment("shop:3", "The app crashes at checkout every time. Fix it please.", 22, customer="C-1",
                     channel="app")
    happy = _comment("shop:4", "Lovely fresh veg, thank you.", 22)
    extra = [_comment(f"shop:{i}", f"Refund number {i} still missing after two weeks.", 10 + i % 10)
             for i in range(5, 12)]
    store.ingest_batch(run, [courier, script, crash, happy, *extra])
    cancel = COURIER_TEXT.index("cancelling")
    slot = COURIER_TEXT.index("Please")
    results = [
        _analysis(courier, "high", "delivery", "delivery.courier", cause_span=(4, 41),
                  cue=("churn", cancel, cancel + len("cancelling")), need=(slot, len(COURIER_TEXT))),
        _analysis(script, "medium", "billing", "billing.overcharged"),
        _analysis(crash, "medium", "digital", "digital.crash"),
        _analysis(happy, "low", "product", "product.food_drink"),
        *[_analysis(c, "medium", "billing", "billing.refund_delay") for c in extra],
    ]
    store.save_analysis(run, "test", results)
    for name, role in ROLES.items():
        add_user(store, name, role, PASSWORD)
    add_user(store, "tom", "triager", PASSWORD)
    add_team(store, "Logistics", lead="root", members=["tia", "tom"])
    opened = open_cases(store, settings.with_(routing={"delivery": "Logistics"}), run)
    store.finish_run(run, "completed", {})
    cases = {c.comment_id: c for c in list_cases(store, limit=100)[0]}
    reports = settings.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "report_week_2026-11-02_2026-11-23.json").write_text(
        '{"meta": {"period": "week", "first_day": "2026-11-02", "last_day": "2026-11-23"}, "themes": ['
        '{"id": "delivery", "label": "Delivery", "comments": 3, "share": 0.3, "net_sentiment": -50.0, '
        '"series": [{"period": "2026-11-16", "comments": 1}, {"period": "2026-11-23", "comments": 2}]}], '
        '"root_causes": [], "causes": [], "quotes": {}}', encoding="utf-8")
    (reports / "report_week_2026-11-02_2026-11-23.md").write_text("# Report\n", encoding="utf-8")
    (reports / "report_week_2026-11-02_2026-11-23.html").write_text(
        "<!doctype html><style>h1{color:red}</style><h1>Report</h1>", encoding="utf-8")
    (settings.data_dir / "secret.txt").write_text("not a report", encoding="utf-8")
    return {"opened": opened, "courier": cases["shop:1"], "script": cases["shop:2"], "cases": cases}


@pytest.fixture
def service(tmp_path: Path, db_url: str) -> dict[str, Any]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, pipeline=LEXICON_PIPELINE)
    settings.data_dir.mkdir(parents=True)
    store = Store.open(db_url)
    data = seed(settings, store)
    app = create_app(settings, store=store)
    yield {"app": app, "settings": settings, "store": store, **data}
    store.close()


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the next page's meta tag)."""
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/queue"},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    queue = client.get("/queue")
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', queue.text).group(1)


def test_cases_opened_from_flags(service: dict[str, Any]) -> None:
    assert service["opened"] == 10  # every high/medium complaint; the 'low' praise opens none
    assert service["courier"].team == "Logistics" and service["courier"].priority == "high"


# -- the role table: every route in the schema must be listed here ----------------------------
ANON, VIEWER, TRIAGER, ADMIN = None, "viewer", "triager", "admin"
ACCESS = {
    ("GET", "/healthz"): ANON, ("GET", "/login"): ANON, ("POST", "/login"): ANON,
    ("GET", "/openapi.json"): VIEWER, ("POST", "/logout"): VIEWER,
    ("GET", "/api/me"): VIEWER, ("GET", "/api/queue"): VIEWER, ("GET", "/api/cases/{case_id}"): VIEWER,
    ("PATCH", "/api/cases/{case_id}"): TRIAGER, ("GET", "/api/cases/{case_id}/history"): VIEWER,
    ("POST", "/api/cases/{case_id}/labels"): TRIAGER, ("POST", "/cases/{case_id}/labels"): TRIAGER,
    ("GET", "/api/search"): VIEWER, ("GET", "/api/themes"): VIEWER, ("GET", "/api/themes/{theme_id}"): VIEWER,
    ("GET", "/api/reports"): VIEWER, ("GET", "/api/reports/{name}"): VIEWER,
    ("GET", "/api/you-said-we-did"): VIEWER, ("GET", "/api/labels/export"): TRIAGER,
    ("GET", "/api/users"): ADMIN, ("POST", "/api/users"): ADMIN, ("PATCH", "/api/users/{name}"): ADMIN,
    ("GET", "/api/teams"): VIEWER, ("POST", "/api/teams"): ADMIN,
    ("GET", "/"): VIEWER, ("GET", "/queue"): VIEWER, ("GET", "/cases/{case_id}"): VIEWER,
    ("POST", "/cases/{case_id}"): TRIAGER, ("GET", "/search"): VIEWER, ("GET", "/themes"): VIEWER,
    ("GET", "/themes/{theme_id}"): VIEWER, ("GET", "/reports"): VIEWER, ("GET", "/outcomes"): VIEWER,
    ("GET", "/admin"): ADMIN, ("POST", "/admin/users"): ADMIN, ("POST", "/admin/users/{name}"): ADMIN,
    ("POST", "/admin/teams"): ADMIN,
}
RANK = {ANON: 0, VIEWER: 1, TRIAGER: 2, ADMIN: 3}


def _schema_routes(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    schema = client.get("/openapi.json", headers=headers).json()
    return sorted((method.upper(), path) for path, ops in schema["paths"].items() for method in ops)


def _call(client: TestClient, svc: dict[str, Any], method: str, path: str, who: str | None,
          csrf: str | None) -> Any:
    """One call of ``method path`` with valid parameters for the route, as the client's session."""
    case = svc["courier"]
    url = path.format(case_id=case.id, theme_id="delivery", name="tom")
    if path == "/api/reports/{name}":
        url = "/api/reports/report_week_2026-11-02_2026-11-23.md"
    params = {"q": "courier"} if path == "/api/search" else None
    headers = {"x-csrf-token": csrf} if csrf and path.startswith("/api/") else {}
    version = svc["store_version"]()
    tag = who or "anon"
    json_body = {("PATCH", "/api/cases/{case_id}"): {"version": version, "reply": f"hello from {tag}"},
                 ("POST", "/api/users"): {"name": f"new-{tag}", "role": "viewer", "password": PASSWORD},
                 ("PATCH", "/api/users/{name}"): {"role": "triager"},
                 ("POST", "/api/teams"): {"name": f"team-{tag}", "members": ["tom"]},
                 ("POST", "/api/cases/{case_id}/labels"): {"kind": "sentiment", "value": "negative"}
                 }.get((method, path))
    form = {("POST", "/cases/{case_id}"): {"version": str(version), "reply": f"form reply from {tag}"},
            ("POST", "/admin/users"): {"name": f"form-{tag}", "role": "viewer", "password": PASSWORD},
            ("POST", "/admin/users/{name}"): {"role": "triager", "active": "true"},
            ("POST", "/admin/teams"): {"name": f"form-team-{tag}", "members": "tom"},
            ("POST", "/cases/{case_id}/labels"): {"kind": "need", "value": "need"},
            ("POST", "/logout"): {}}.get((method, path))
    if form is not None and csrf:
        form = {**form, "csrf": csrf}
    if path == "/login" and method == "POST":
        return None  # the login form is exercised by its own tests
    return client.request(method, url, params=params, json=json_body, data=form, headers=headers,
                          follow_redirects=False)


def _refused(resp: Any, path: str, who: str | None) -> bool:
    if who is None and not (path.startswith("/api/") or path == "/openapi.json"):
        return resp.status_code == 303 and resp.headers["location"].startswith("/login")
    return resp.status_code == (401 if who is None else 403)


def test_every_route_as_every_role(service: dict[str, Any]) -> None:
    app, store = service["app"], service["store"]
    from voiceminer.triage import get_case

    service["store_version"] = lambda: get_case(store, service["courier"].id).version
    admin_client = TestClient(app)
    login(admin_client, "root")
    routes = _schema_routes(admin_client, {})
    assert set(routes) == set(ACCESS), f"classify new routes: {set(routes) ^ set(ACCESS)}"
    for who in (None, "vic", "tia", "root"):
        client = TestClient(app)
        csrf = login(client, who) if who else None
        rank = RANK[ROLES.get(who)] if who else 0
        for method, path in routes:
            if (method, path) == ("POST", "/logout"):
                continue  # last, below: it ends the session
            resp = _call(client, service, method, path, who, csrf)
            if resp is None:
                continue
            needed = RANK[ACCESS[(method, path)]]
            where = f"{method} {path} as {who or 'nobody'}: {resp.status_code} {resp.text[:200]}"
            assert resp.status_code < 500, where
            if rank >= needed:
                assert not _refused(resp, path, who) and resp.status_code in (200, 201, 303), where
            else:
                assert _refused(resp, path, who), where
        if who:
            resp = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
            assert resp.status_code == 303 and resp.headers["location"] == "/login"
            assert client.get("/api/me").status_code == 401  # the cookie is gone


def test_bearer_tokens_for_scripts(service: dict[str, Any]) -> None:
    store = service["store"]
    client = TestClient(service["app"])
    viewer = {"authorization": f"Bearer {create_token(store, 'vic')}"}
    tri = {"authorization": f"Bearer {create_token(store, 'tia')}"}
    assert client.get("/api/me", headers=viewer).json()["role"] == "viewer"
    case = service["courier"]
    assert client.patch(f"/api/cases/{case.id}", json={"version": case.version, "status": "acknowledged"},
                        headers=viewer).status_code == 403
    ok = client.patch(f"/api/cases/{case.id}", json={"version": case.version, "status": "acknowledged"},
                      headers=tri)  # no CSRF token needed: a browser never sends a bearer token by itself
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"
    bad = client.get("/api/me", headers={"authorization": "Bearer vm_not-a-token"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/me", headers={"authorization": "Basic dmljOng="}).status_code == 401


def test_queue_page_count_is_capped(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer.service import web

    client = TestClient(service["app"])
    login(client, "vic")
    assert "<strong>10</strong> cases" in client.get("/queue").text  # under the cap: the exact count
    monkeypatch.setattr(web, "QUEUE_COUNT_CAP", 3)
    assert "<strong>more than 3</strong> cases" in client.get("/queue").text
    assert "<strong>1</strong> case," in client.get("/queue", params={"channel": "email"}).text


def test_queue_pagination_and_filters(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    headers = {"authorization": f"Bearer {create_token(service['store'], 'vic')}"}
    first = client.get("/api/queue", params={"limit": 4}, headers=headers).json()
    assert first["items"][0]["priority"] == "high" and first["next_cursor"]
    seen = [c["id"] for c in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/api/queue", params={"limit": 4, "cursor": cursor}, headers=headers).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 10
    only = client.get("/api/queue", params={"team": "Logistics", "status": "new"}, headers=headers).json()
    assert [c["comment_id"] for c in only["items"]] == ["shop:1"]
    email = client.get("/api/queue", params={"channel": "email", "theme": "billing"}, headers=headers).json()
    assert [c["comment_id"] for c in email["items"]] == ["shop:2"]


BAD_INPUT = [
    ("GET", "/api/queue?status=bogus", None),
    ("GET", "/api/queue?priority=urgent", None),
    ("GET", "/api/queue?limit=0", None),
    ("GET", "/api/queue?limit=abc", None),
    ("GET", "/api/queue?since=yesterday", None),
    ("GET", "/api/queue?since=2026-12-01&until=2026-01-01", None),
    ("GET", "/api/queue?cursor=%%%garbage", None),
    ("GET", "/api/queue?cursor=WzEsMl0", None),
    ("GET", "/api/queue?overdue=maybe", None),
    ("GET", "/api/queue?period=fortnight", None),
    ("GET", "/api/cases/999999", None),
    ("GET", "/api/cases/abc", None),
    ("GET", "/api/cases/999999/history", None),
    ("GET", "/api/search?q=", None),
    ("GET", "/api/search?q=%21%21%21", None),
    ("GET", "/api/search?q=refund&cursor=bad", None),
    ("GET", "/api/themes/no-such-theme", None),
    ("GET", "/api/reports/..%2Fsecret.txt", None),
    ("GET", "/api/reports/%2E%2E", None),
    ("GET", "/api/reports/nope.html", None),
    ("GET", "/api/you-said-we-did?period=decade", None),
    ("PATCH", "/api/cases/{id}", {"status": "resolved"}),
    ("PATCH", "/api/cases/{id}", {"version": 1, "status": "exploded"}),
    ("PATCH", "/api/cases/{id}", {"version": 1, "status": "resolved", "theme": "", "action": ""}),
    ("PATCH", "/api/cases/{id}", {"version": 1, "assignee": "nobody-here"}),
    ("PATCH", "/api/cases/{id}", {"version": 1, "team": "No such team"}),
    ("PATCH", "/api/cases/{id}", {"version": 1, "surprise": True}),
    ("PATCH", "/api/cases/{id}", {"version": "one"}),
    ("PATCH", "/api/cases/{id}", {"version": 1, "action": "x" * 6000}),
    ("PATCH", "/api/cases/999999", {"version": 1, "status": "acknowledged"}),
    ("POST", "/api/cases/{id}/labels", {"kind": "theme", "value": "delivery"}),
    ("POST", "/api/cases/{id}/labels", {"kind": "sentiment", "value": "furious"}),
    ("POST", "/api/cases/999999/labels", {"kind": "need", "value": "need"}),
    ("POST", "/api/users", {"name": "x", "role": "god", "password": PASSWORD}),
    ("POST", "/api/users", {"name": "x", "role": "viewer", "password": "short"}),
    ("POST", "/api/users", {"name": "tom", "role": "viewer", "password": PASSWORD}),
    ("POST", "/api/users", {"name": "   ", "role": "viewer", "password": PASSWORD}),
    ("PATCH", "/api/users/ghost", {"role": "viewer"}),
    ("POST", "/api/teams", {"name": "T", "lead": "ghost"}),
    ("POST", "/api/teams", {"name": "T", "members": "tom"}),
]


def test_bad_input_is_a_4xx_with_a_reason(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    headers = {"authorization": f"Bearer {create_token(service['store'], 'root')}"}
    for method, url, body in BAD_INPUT:
        if isinstance(body, dict) and body.get("version") == 1:
            body = {**body, "version": service["courier"].version}
        resp = client.request(method, url.replace("{id}", str(service["courier"].id)), json=body, headers=headers)
        assert 400 <= resp.status_code < 500, (url, body, resp.status_code, resp.text)
        detail = resp.json()["detail"]
        assert isinstance(detail, str) and len(detail) > 5, (url, resp.text)


def test_bad_json_body_is_422(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    headers = {"authorization": f"Bearer {create_token(service['store'], 'tia')}",
               "content-type": "application/json"}
    resp = client.patch(f"/api/cases/{service['courier'].id}", content=b"{not json", headers=headers)
    assert resp.status_code == 422 and resp.json()["detail"]


def test_second_writer_gets_a_conflict_with_the_current_case(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    ana = {"authorization": f"Bearer {create_token(service['store'], 'tia')}"}
    tom = {"authorization": f"Bearer {create_token(service['store'], 'tom')}"}
    case = service["courier"]
    assert case.assignee == "tia"  # round-robin in Logistics
    first = client.patch(f"/api/cases/{case.id}", json={"version": case.version, "action": "Called the courier"},
                         headers=ana)
    assert first.status_code == 200 and first.json()["version"] == case.version + 1
    second = client.patch(f"/api/cases/{case.id}", json={"version": case.version, "assignee": "tom"}, headers=tom)
    assert second.status_code == 409
    assert second.json()["current"]["action"] == "Called the courier"
    assert second.json()["current"]["version"] == case.version + 1
    now = client.get(f"/api/cases/{case.id}", headers=tom).json()["case"]
    assert now["assignee"] == "tia" and now["version"] == case.version + 1  # not overwritten


def test_conflict_on_the_case_page_shows_the_current_state(service: dict[str, Any]) -> None:
    a, b = TestClient(service["app"]), TestClient(service["app"])
    csrf_a, csrf_b = login(a, "tia"), login(b, "tom")
    case = service["courier"]
    ok = a.post(f"/cases/{case.id}", data={"csrf": csrf_a, "version": case.version, "action": "Called the courier"},
                follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == f"/cases/{case.id}?saved=1"
    late = b.post(f"/cases/{case.id}", data={"csrf": csrf_b, "version": case.version, "action": "Refunded"})
    assert late.status_code == 409
    assert "changed by someone else" in late.text and "Called the courier" in late.text
    assert f'name="version" value="{case.version + 1}"' in late.text


def test_resolving_needs_root_cause_and_action_and_is_audited(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    csrf = login(client, "tia")
    case = service["script"]
    refused = client.post(f"/cases/{case.id}", data={"csrf": csrf, "version": case.version, "status": "resolved"})
    assert refused.status_code == 400 and "action taken" in refused.text
    done = client.post(f"/cases/{case.id}", data={"csrf": csrf, "version": case.version, "status": "resolved",
                                                  "theme": "billing", "cause": "billing.refund_delay",
                                                  "action": "Refunded the double charge"}, follow_redirects=False)
    assert done.status_code == 303
    history = client.get(f"/api/cases/{case.id}/history", headers={"x-csrf-token": csrf}).json()
    changed = {(e["field"], e["to"], e["user"]) for e in history}
    assert {("status", "resolved", "tia"), ("action", "Refunded the double charge", "tia"),
            ("root_cause", "billing.refund_delay", "tia")} <= changed
    labels = client.get("/api/labels/export")
    assert labels.status_code == 200 and labels.headers["content-type"].startswith("text/csv")
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(labels.text)))
    assert [(r["comment_id"], r["themes"]) for r in rows] == [("shop:2", "billing;billing.refund_delay")]


def test_csrf_is_required_for_session_writes(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    csrf = login(client, "tia")
    case = service["courier"]
    no_token = client.post(f"/cases/{case.id}", data={"version": case.version, "status": "acknowledged"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = client.patch(f"/api/cases/{case.id}", json={"version": case.version, "status": "acknowledged"},
                         headers={"x-csrf-token": "forged"})
    assert wrong.status_code == 403 and "CSRF" in wrong.json()["detail"]
    missing = client.patch(f"/api/cases/{case.id}", json={"version": case.version, "status": "acknowledged"})
    assert missing.status_code == 403
    ok = client.patch(f"/api/cases/{case.id}", json={"version": case.version, "status": "acknowledged"},
                      headers={"x-csrf-token": csrf})
    assert ok.status_code == 200
    # the login form has its own token, bound to a cookie set with the form
    fresh = TestClient(service["app"])
    resp = fresh.post("/login", data={"name": "tia", "password": PASSWORD, "csrf": "guess"}, follow_redirects=False)
    assert resp.status_code == 403 and "vm_session" not in resp.headers.get("set-cookie", "")


def test_session_cookie_flags_and_tampering(service: dict[str, Any]) -> None:
    client = TestClient(service["app"], base_url="https://testserver")
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf": token},
                       follow_redirects=False)
    cookie = next(h for h in resp.headers.get_list("set-cookie") if h.startswith("vm_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    plain = TestClient(service["app"])
    login(plain, "vic")
    value = plain.cookies.get("vm_session")
    payload, rest = value.split(".", 1)
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + rest  # another user id, same signature
    fresh = TestClient(service["app"])
    assert fresh.get("/api/me", headers={"cookie": f"vm_session={value}"}).status_code == 200
    assert fresh.get("/api/me", headers={"cookie": f"vm_session={forged}"}).status_code == 401
    resp = fresh.get("/queue", headers={"cookie": f"vm_session={forged}"}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login?next=%2Fqueue"


def test_secret_file_is_private_and_reused(service: dict[str, Any]) -> None:
    path = service["settings"].data_dir / "service-secret"
    assert path.stat().st_mode & 0o777 == 0o600
    again = create_app(service["settings"], store=service["store"])
    client = TestClient(service["app"])
    login(client, "vic")
    other = TestClient(again, cookies=client.cookies)
    assert other.get("/api/me").json()["name"] == "vic"  # same install, same secret: sessions survive a restart


def test_login_attempts_are_rate_limited(service: dict[str, Any]) -> None:
    # two apps over one store stand for two worker processes of one service: the limit is the store's
    apps = [create_app(service["settings"], store=service["store"],
                       limiter=LoginLimiter(service["store"], max_failures=3, window=60)) for _ in range(2)]
    workers = [TestClient(app) for app in apps]

    def attempt(client: TestClient, password: str) -> Any:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        return client.post("/login", data={"name": "tia", "password": password, "csrf": token},
                           follow_redirects=False)

    assert [attempt(workers[i % 2], "wrong password").status_code for i in range(3)] == [401, 401, 401]
    for client in workers:  # both workers see the three failures; even the right password waits
        blocked = attempt(client, PASSWORD)
        assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 60
    client = workers[1]
    page = client.get("/login")  # another name from the same address is not blocked
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf": token},
                       follow_redirects=False).status_code == 303


def test_login_redirects_only_to_local_paths(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    page = client.get("/login?next=//evil.example/x")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf": token,
                                       "next": "https://evil.example/"}, follow_redirects=False)
    assert resp.headers["location"] == "/queue"


@pytest.mark.parametrize("path", ["/healthz", "/login", "/static/app.js", "/api/me", "/queue", "/nope"])
def test_security_headers_on_every_response(service: dict[str, Any], path: str) -> None:
    resp = TestClient(service["app"]).get(path, follow_redirects=False)
    csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "same-origin"


def test_healthz_is_anonymous_and_openapi_needs_a_user(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/docs").status_code in (303, 404)  # no docs UI (it would need a CDN)


def test_customer_html_is_escaped_on_pages(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    login(client, "vic")
    for url in (f"/cases/{service['script'].id}", "/queue", "/search?q=charged"):
        page = client.get(url).text
        assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page, url
        assert "<b>Billing</b>" not in page


def test_case_page_highlights_evidence_by_kind(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    login(client, "vic")
    page = client.get(f"/cases/{service['courier'].id}").text
    assert re.search(r'<mark class="ev [^"]*ev-cue[^"]*"[^>]*>cancelling</mark>', page)
    assert re.search(r'<mark class="ev [^"]*ev-cause[^"]*"[^>]*>courier left my box in the rain again</mark>', page)
    assert re.search(r'<mark class="ev [^"]*ev-need[^"]*"[^>]*>Please let me choose a delivery slot.</mark>', page)
    assert "The app crashes at checkout" in page  # the same customer's other comment
    assert "Viewers can read cases but not change them" in page


def test_case_page_says_when_the_comment_is_not_in_english(service: dict[str, Any]) -> None:
    """A comment tagged by language.langid.v1 as another language: the case page and the API say that the
    English models' tags may be wrong; other cases say nothing."""
    import sqlalchemy as sa

    from voiceminer.storage import schema as t

    store, case = service["store"], service["script"]
    with store.engine.begin() as conn:
        run = conn.execute(sa.select(t.annotations.c.run_id).where(t.annotations.c.comment_id == case.comment_id)
                           ).scalar()
        conn.execute(t.annotations.insert().values(comment_id=case.comment_id, layer="language", label="fr",
                                                   score=0.99, producer="language.langid.v1", producer_version="1",
                                                   run_id=run, data={}))
    client = TestClient(service["app"])
    login(client, "vic")
    page = client.get(f"/cases/{case.id}").text
    assert "<strong>Not in English (fr):</strong> the models read English" in page
    assert client.get(f"/api/cases/{case.id}").json()["language"] == "fr"
    assert 'id="language"' not in client.get(f"/cases/{service['courier'].id}").text


def test_reports_list_and_download_stay_in_the_folder(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    login(client, "vic")
    names = [r["name"] for r in client.get("/api/reports").json()]
    assert "secret.txt" not in names and len(names) == 3
    html = client.get("/api/reports/report_week_2026-11-02_2026-11-23.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in html.headers or "inline" in html.headers["content-disposition"]
    csp = html.headers["content-security-policy"]  # the report styles itself inline; still no script, no frames
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script" not in csp
    assert html.headers.get_list("content-security-policy") == [csp]
    md = client.get("/api/reports/report_week_2026-11-02_2026-11-23.md")
    assert md.status_code == 200 and md.text == "# Report\n" and "attachment" in md.headers["content-disposition"]
    for bad in ("../secret.txt", "..%2Fsecret.txt", "%2e%2e%2fsecret.txt", ".hidden.md"):
        assert client.get(f"/api/reports/{bad}").status_code == 404, bad
    theme = client.get("/api/themes/delivery").json()
    assert theme["summary"]["comments"] == 3 and [c["comment_id"] for c in theme["cases"]] == ["shop:1"]


def test_request_bodies_are_limited(service: dict[str, Any]) -> None:
    client = TestClient(service["app"])
    headers = {"authorization": f"Bearer {create_token(service['store'], 'root')}",
               "content-type": "application/json"}
    big = b'{"name": "' + b"x" * 1_100_000 + b'"}'
    resp = client.post("/api/users", content=big, headers=headers)
    assert resp.status_code == 413 and "too large" in resp.json()["detail"]
    assert resp.headers["x-content-type-options"] == "nosniff"

    def chunks():  # no content-length: counted while streaming
        for _ in range(12):
            yield b"x" * 100_000

    streamed = client.post("/api/users", content=chunks(), headers=headers)
    assert streamed.status_code == 413 and "too large" in streamed.json()["detail"]


def test_sentiment_and_need_corrections_are_labels(service: dict[str, Any]) -> None:
    from voiceminer.triage import list_labels

    client = TestClient(service["app"])
    csrf = login(client, "tia")
    case = service["courier"]
    form = client.post(f"/cases/{case.id}/labels", data={"csrf": csrf, "kind": "sentiment", "value": "negative"},
                       follow_redirects=False)
    assert form.status_code == 303
    api = client.post(f"/api/cases/{case.id}/labels", json={"kind": "need", "value": "need"},
                      headers={"x-csrf-token": csrf})
    assert api.status_code == 201
    got = [(r["comment_id"], r["kind"], r["value"], r["user"], r["case_id"]) for r in list_labels(service["store"])]
    assert got == [("shop:1", "sentiment", "negative", "tia", case.id), ("shop:1", "need", "need", "tia", case.id)]
    bad = client.post(f"/cases/{case.id}/labels", data={"csrf": csrf, "kind": "need", "value": "maybe"})
    assert bad.status_code == 400 and "need must be" in bad.text


def test_a_busy_store_is_a_503_not_a_traceback(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy as sa

    from voiceminer import triage

    def locked(*_a: Any, **_k: Any) -> Any:
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(triage, "list_cases", locked)
    client = TestClient(service["app"])
    headers = {"authorization": f"Bearer {create_token(service['store'], 'vic')}"}
    resp = client.get("/api/queue", headers=headers)
    assert resp.status_code == 503 and "locked" not in resp.text and resp.headers["retry-after"] == "2"


def test_logout_ends_the_session_on_the_server(service: dict[str, Any]) -> None:
    browser = TestClient(service["app"])
    csrf = login(browser, "tia")
    other = TestClient(service["app"])
    login(other, "tia")  # the same user in a second browser
    copied = TestClient(service["app"], cookies={"vm_session": browser.cookies["vm_session"]})
    assert copied.get("/api/me").json()["name"] == "tia"  # a copy of the cookie works while the session lives
    out = browser.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert copied.get("/api/me").status_code == 401  # the copy died with the session, on the server
    assert copied.get("/queue", follow_redirects=False).headers["location"].startswith("/login")
    assert other.get("/api/me").json()["name"] == "tia"  # the other browser's session lives on


def test_sessions_end_when_the_password_changes_or_the_account_is_off(service: dict[str, Any]) -> None:
    from voiceminer.triage import set_password, update_user

    store = service["store"]
    ana, ben = TestClient(service["app"]), TestClient(service["app"])
    login(ana, "tia")
    login(ben, "tom")
    assert ana.get("/api/me").status_code == 200 and ben.get("/api/me").status_code == 200
    set_password(store, "tia", "a brand new passphrase")
    assert ana.get("/api/me").status_code == 401  # the old session died with the old password
    login(ana, "tia", "a brand new passphrase")
    assert ana.get("/api/me").json()["name"] == "tia"
    update_user(store, "tom", active=False)
    assert ben.get("/api/me").status_code == 401


def test_a_comment_not_in_english_shows_why_in_the_queue_and_on_its_case(service: dict[str, Any]) -> None:
    """A case opened because the comment is not in English has no theme: the queue and the case page say why."""
    store = service["store"]
    run = store.begin_run("mine", {})
    french = _comment("shop:fr", "Il manquait la moitié de ma commande et le service client ne répond pas.", 23)
    store.ingest_batch(run, [french])
    result = _analysis(french, "low", "speed", "speed.queue")
    store.save_analysis(run, "test", [AnalysisResult(french.id, result.sentences, result.annotations + (
        Annotation(french.id, "language", "fr", 0.99, "language.langid.v1", "1"),))])
    assert open_cases(store, service["settings"], run) == 1
    case = next(c for c in list_cases(store, limit=100)[0] if c.comment_id == "shop:fr")
    assert (case.theme, case.priority) == (None, "low")
    client = TestClient(service["app"])
    login(client, "tom")
    queue = client.get("/queue", params={"q": "manquait"}).text
    assert '<small class="muted">not in English (fr)</small>' in queue
    page = client.get(f"/cases/{case.id}").text
    assert "Not in English (fr)" in page and "No theme" not in page
