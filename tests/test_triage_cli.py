"""`voiceminer labels export`, `cases open` and `train-themes --from-store` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceminer.cli.main import app
from voiceminer.storage import Store
from voiceminer.triage import add_user, list_cases, update_case

from test_triage import _analysed

runner = CliRunner()

DELIVERY = ["The van came three hours after the slot", "Driver never showed up with my order",
            "My groceries arrived a day late", "Courier left the order at the wrong house",
            "Delivery slot was missed again", "The driver was very late tonight", "Order turned up past midnight",
            "Still waiting for the delivery van", "Parcel was delivered to a neighbour by mistake",
            "The courier dumped the bags on the doorstep in the rain", "My delivery came late and cold",
            "Driver rang the wrong bell and left", "No sign of the delivery all evening",
            "They delivered to my old address", "Slot missed, no van came"]
BILLING = ["I was charged twice for one order", "The refund never reached my card",
           "My card was billed for an order I cancelled", "Invoice shows a fee I never agreed to",
           "Payment taken two times this week", "Still no refund after a month",
           "You overcharged me for the subscription", "The bill had a hidden service charge",
           "Charged the full price instead of the discount", "Refund was promised but not paid",
           "Double payment on my bank statement", "Why was I billed for delivery on a free plan",
           "My refund is still pending", "Card charged after I cancelled the plan", "Billing error again this month"]


def _cli(tmp_path: Path, *args: str, input: str | None = None):
    return runner.invoke(app, ["--data-dir", str(tmp_path / "data"), *args], input=input)


def _store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{(tmp_path / 'data' / 'voiceminer.db').resolve()}")


def test_labels_export_and_cases_open(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    store = _store(tmp_path)
    _analysed(store, "c1", "Charged twice for one order.", "high")
    result = _cli(tmp_path, "cases", "open", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["opened"] == 1
    assert json.loads(_cli(tmp_path, "cases", "open", "--json").stdout)["opened"] == 0  # once per comment
    ana = add_user(store, "ana", "triager", "password123")
    case = list_cases(store)[0][0]
    update_case(store, case.id, ana, case.version, theme="billing", cause="billing.overcharged")
    out = tmp_path / "labels.csv"
    result = _cli(tmp_path, "labels", "export", "--out", str(out))
    assert result.exit_code == 0 and "1 corrected comment" in result.output
    assert "billing;billing.overcharged" in out.read_text()
    refused = _cli(tmp_path, "train-themes", "--from-store", "--out", str(tmp_path / "m"))
    assert refused.exit_code == 3 and "correct at least 5" in refused.output


@pytest.mark.slow
@pytest.mark.models
def test_train_themes_from_store_scores_before_and_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEMINER_SHARED_MODEL", "shared-v1")  # the small encoder keeps this quick
    (tmp_path / "data").mkdir()
    store = _store(tmp_path)
    texts = [(f"d{i}", t, "delivery", "delivery.late") for i, t in enumerate(DELIVERY)]
    texts += [(f"b{i}", t, "delivery", "delivery.late") for i, t in enumerate(BILLING)]  # the model got these wrong
    for cid, text, theme, cause in texts:
        _analysed(store, cid, text, "high", theme=theme, cause=cause)
    assert _cli(tmp_path, "cases", "open").exit_code == 0
    ana = add_user(store, "ana", "triager", "password123")
    for case in list_cases(store, limit=100)[0]:
        if case.comment_id.startswith("b"):
            update_case(store, case.id, ana, case.version, theme="billing", cause="billing.overcharged")
        else:
            update_case(store, case.id, ana, case.version, status="resolved", action="Apologised")  # confirms
    model = tmp_path / "themes-from-store"
    result = _cli(tmp_path, "train-themes", "--from-store", "--holdout", "0.3", "--out", str(model), "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["corrections"] == 30 and metrics["holdout"]["rows"] >= 2
    before, after = metrics["holdout"]["before"], metrics["holdout"]["after"]
    assert before.get("billing", {}).get("f1", 0.0) == 0.0  # the store's themes never said billing
    assert after["billing"]["f1"] > 0.5 and after["delivery"]["f1"] > 0.5
    tagged = _cli(tmp_path, "--quiet", "tag", "--themes-model", str(model), str(_write(tmp_path)), "--out",
                  str(tmp_path / "t.jsonl"))
    assert tagged.exit_code == 0, tagged.output
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert "billing" in [t["id"] for t in rows[0]["themes"]]


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "new.csv"
    path.write_text("id,text\n1,They charged my card twice and the refund is missing\n", encoding="utf-8")
    return path


def test_users_passwd_changes_the_password(tmp_path: Path) -> None:
    from voiceminer.triage import authenticate

    assert _cli(tmp_path, "users", "add", "ana", "--role", "admin", "--password-stdin",
                input="first-password\n").exit_code == 0
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "users", "passwd", "ana", "--password-stdin"],
                           input="second-password\n")
    assert result.exit_code == 0 and "password of ana changed" in result.output
    store = _store(tmp_path)
    assert authenticate(store, "ana", "first-password") is None
    assert authenticate(store, "ana", "second-password").name == "ana"
    missing = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "users", "passwd", "bob", "--password-stdin"],
                            input="whatever-password\n")
    assert missing.exit_code == 3 and "no user 'bob'" in missing.output
