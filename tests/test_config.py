from pathlib import Path

import pytest

from voiceminer.config import DEFAULT_PIPELINE, Settings
from voiceminer.errors import ConfigError


def test_defaults_put_sqlite_in_data_dir(tmp_path: Path) -> None:
    s = Settings.load(env={}, overrides={"data_dir": tmp_path / "d"})
    assert s.database_url == f"sqlite:///{(tmp_path / 'd' / 'voiceminer.db').resolve()}"
    assert s.quarantine_dir == tmp_path / "d" / "quarantine"
    assert s.pipeline == DEFAULT_PIPELINE and "encode.shared.v1" in s.pipeline


def test_precedence_toml_then_env_then_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "vm.toml"
    cfg.write_text('[voiceminer]\ndata_dir = "store"\ntimezone = "Europe/London"\nbatch_size = 10\n'
                   'pipeline = ["segment.sentencizer.v1"]\n')
    s = Settings.load(config_path=cfg, env={})
    assert s.data_dir == tmp_path / "store"  # relative to the config file
    assert (s.timezone, s.batch_size, s.pipeline) == ("Europe/London", 10, ("segment.sentencizer.v1",))
    s = Settings.load(config_path=cfg, env={"VOICEMINER_BATCH_SIZE": "20", "VOICEMINER_REDACT_PII": "yes"})
    assert (s.batch_size, s.redact_pii) == (20, True)
    s = Settings.load(config_path=cfg, env={"VOICEMINER_BATCH_SIZE": "20"}, overrides={"batch_size": 30})
    assert s.batch_size == 30


def test_config_from_environment_variable_path(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text('[voiceminer]\nreport_period = "month"\n')
    assert Settings.load(env={"VOICEMINER_CONFIG": str(cfg)}).report_period == "month"


@pytest.mark.parametrize("toml, message", [
    ('[voiceminer]\nbogus = 1\n', "unknown setting"),
    ('[voiceminer]\ntimezone = "Mars/Olympus"\n', "IANA"),
    ('[voiceminer]\nbatch_size = 0\n', "at least 1"),
    ('[voiceminer]\nbatch_size = "many"\n', "integer"),
    ('[voiceminer\n', "vm.toml"),
])
def test_bad_config_names_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    cfg = tmp_path / "vm.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        Settings.load(config_path=cfg, env={})


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(config_path=tmp_path / "nope.toml", env={})
