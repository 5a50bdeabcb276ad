"""The taxonomy overlap check: causes of different themes that name one concept twice."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from voiceminer.themes.taxonomy import load_taxonomy, overlaps, parse_taxonomy

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_taxonomy.py"


def _node(tid: str, *kids: dict) -> dict:
    return {"id": tid, "label": tid, "description": f"about {tid}", "examples": [f"{tid} example"],
            "children": list(kids)}


def _toy():
    return parse_taxonomy({"themes": [
        _node("delivery", _node("delivery.late"), _node("delivery.damaged")),
        _node("speed", _node("speed.queue"), _node("speed.delayed"))]})


def _encoder(directions: dict[str, list[float]]):
    """Each theme's texts get its direction (a little noise per text): encode() for the toy taxonomy."""
    rng = np.random.default_rng(0)

    def encode(texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            tid = text.split(":")[0].split(" ")[0].removeprefix("about ").strip()
            v = np.asarray(directions[tid], float) + rng.normal(0, 0.01, len(directions[tid]))
            rows.append(v / np.linalg.norm(v))
        return np.array(rows)
    return encode


def test_a_concept_named_under_two_themes_is_found() -> None:
    tax = _toy()
    dirs = {"delivery": [1, 0, 0, 0], "delivery.late": [1, 0.2, 0, 0], "delivery.damaged": [1, -0.2, 0.1, 0],
            "speed": [0, 0, 1, 0], "speed.queue": [0, 0, 1, 0.2],
            "speed.delayed": [1, 0.25, 0, 0]}  # "delayed" reads as late delivery, not as queues
    found = overlaps(tax, _encoder(dirs))
    assert [(o.a, o.b) for o in found] == [("delivery.late", "speed.delayed")]
    assert found[0].similarity > max(found[0].a_siblings, found[0].b_siblings)
    assert "delivery.late ~ speed.delayed" in str(found[0])


def test_distinct_causes_pass_and_margin_is_respected() -> None:
    tax = _toy()
    dirs = {"delivery": [1, 0, 0, 0], "delivery.late": [1, 0.2, 0, 0], "delivery.damaged": [1, -0.2, 0.1, 0],
            "speed": [0, 0, 1, 0], "speed.queue": [0, 0, 1, 0.2], "speed.delayed": [0.1, 0, 1, -0.3]}
    assert overlaps(tax, _encoder(dirs)) == []
    close = dict(dirs, **{"speed.delayed": [1, 0.25, 0, 0]})
    assert overlaps(tax, _encoder(close), margin=0.5) == []  # not closer by more than the margin


@pytest.mark.models
def test_default_taxonomy_has_no_overlapping_causes() -> None:
    spec = importlib.util.spec_from_file_location("check_taxonomy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_taxonomy"] = module
    spec.loader.exec_module(module)
    tax = load_taxonomy()
    found = overlaps(tax, module.projected_encoder())
    assert found == [], [str(o) for o in found]
    # one late-delivery concept: delayed trips and appointments are not deliveries
    assert "delivery.late" in tax and "delivery.scheduling" in tax
    assert not {"delivery", "order", "parcel"} & set(" ".join(tax["disruption.delayed"].examples).lower().split())
