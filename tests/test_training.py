"""scripts/train_shared.py end to end on a few examples: both recipes (changed layers, adapters)
write an artifact that the pipeline's SharedModel loads (on MiniLM, the fast base)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from datasets_required import datasets_or_skip

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("extra", [[], ["--lora-rank", "4", "--lora-alpha", "8", "--lr", "1e-3"]],
                         ids=["layers", "adapters"])
def test_train_shared_writes_a_loadable_artifact(tmp_path: Path, extra: list[str]) -> None:
    from voiceminer.models.shared import SharedModel

    datasets_or_skip("complaints_social_media")  # a skip here, a failure on CI
    out = tmp_path / "model"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_shared.py"), "--limit", "24", "--epochs", "1",
                          "--out", str(out), *extra], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["base_name"] == "all-MiniLM-L6-v2"
    assert ("encoder_adapters" in config) == bool(extra)
    model = SharedModel(out).load()
    probs = model.predict(model.encode(["The courier was late again."]))
    assert set(probs) == {"sentiment", "complaint", "need"} and probs["sentiment"].shape == (1, 3)
    assert model.encoder_.key.startswith("voiceminer-shared@")
