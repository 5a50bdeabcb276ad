"""Settings: defaults <- TOML file <- environment <- CLI overrides.

One typed object, passed explicitly; nothing is read at import time.

The TOML file is ``voiceminer.toml`` in the working directory, or the path in
``VOICEMINER_CONFIG`` or ``--config``. Keys live under ``[voiceminer]``::

    [voiceminer]
    data_dir = "voiceminer-data"
    database_url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    timezone = "Europe/London"
    batch_size = 256
    pipeline = ["segment.sentencizer.v1", "encode.shared.v1", "sentiment.shared.v2",
                "themes.v1", "needs.shared.v1", "complaint.shared.v1"]
    # or pipeline = "lexical": no encoder (keyword themes + VADER sentiment), for very large runs
    taxonomy = "my-taxonomy.yaml"   # optional; default: corpora/taxonomy/cx_default.yaml
    themes_model = "models/my-themes"  # optional; trained with `voiceminer train-themes`
    backend = "auto"               # how the shared model's encoders run: auto (default: torch-bf16 where
                                   # the CPU has bf16 products, else onnx), onnx (ONNX Runtime fp32), onnx-int8
                                   # (int8 weights and dot products: fastest without AMX, one row 1.1 points
                                   # lower), torch, or torch-bf16 (bf16 weights: needs AMX, an Intel Xeon 4th
                                   # generation or later, or AVX-512 bf16, an AMD EPYC 4th generation or
                                   # later); ONNX graphs are built on first use
                                   # (voiceminer.models.onnx_export; scripts/export_onnx.py ahead of time)
    redact_pii = true
    retention_days = 730           # comments older than this are deleted (0: keep forever)
    promises = "promises.yaml"     # optional; what the company promises (see voiceminer.aggregate.promises)
    alert_webhook = "https://hooks.example.com/voiceminer"  # optional; alerts are POSTed here as JSON
    service_url = "https://voice.example.com"  # optional; theme names in the report link to its theme pages
    case_priorities = ["high", "medium"]   # complaint priorities that open a triage case
    case_cues = ["churn", "safety", "legal", "vulnerability"]   # ... and cues that open one whatever the priority
    case_other_languages = true    # a comment not in English opens a case for a person to read (unless rated high)
    sla_hours = { high = 4, medium = 24, low = 72 }             # a case is due this long after it opens
    routing = { delivery = "Logistics", billing = "Billing" }    # theme (or theme.cause) -> team
    default_team = "Support"                                     # team of cases no route matches
    baseline_periods = 8           # earlier periods a period is compared with
    min_volume = 10                # mentions a spike needs before it can be an alert
    report_chunk = 100000          # a report reads its range this many comments at a time (bounded memory)
    report_sample = 250000         # above this many comments in a range, the detail figures read a sample

Every key can be set by an environment variable ``VOICEMINER_<KEY>`` (upper
case); lists are comma-separated, booleans ``1/true/yes``.

>>> s = Settings.load(env={}, config_path=None, overrides={"batch_size": 10})
>>> s.batch_size, s.database_url.startswith("sqlite:///")
(10, True)
"""

from __future__ import annotations

import os
import platform
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DEFAULT_PIPELINE = ("segment.sentencizer.v1", "language.langid.v1", "encode.shared.v1", "sentiment.shared.v2",
                    "themes.v1", "needs.shared.v1", "complaint.shared.v1")
LEXICON_PIPELINE = ("segment.sentencizer.v1", "sentiment.vader.v1")  # no models: fast, for tests and triage
# pipeline = "lexical": no encoder (VADER sentiment, keyword themes): cheap, for very large runs
LEXICAL_PIPELINE = ("segment.sentencizer.v1", "sentiment.vader.v1", "themes.keywords.v1")
PIPELINE_PRESETS = {"default": DEFAULT_PIPELINE, "lexical": LEXICAL_PIPELINE}
CONFIG_FILENAME = "voiceminer.toml"
BACKENDS = ("torch", "onnx", "onnx-int8", "torch-bf16")  # voiceminer.models.onnx_export.BACKENDS
# The default, "auto", is the fastest backend that keeps every validation row within 0.5 points of torch
# fp32 on this CPU (voiceminer evaluate --backend B; README, "Inference backends"): torch-bf16 where the CPU
# has AMX (3.3x torch fp32) or AVX-512 bf16 (1.9x, onnx 1.6x), rows within 0.2 points on both, else onnx
# (fp32: torch's figures). onnx-int8 is faster than either on a CPU without AMX (2.3-2.6x) and within 0.3
# points on six rows, but costs 1.1 points (one sentence of 151) on unmet needs, more than the 0.5
# allowed, so it is opt-in.
AUTO_BACKEND = "auto"
# What the torch-bf16 backend needs from the CPU: AMX tiles with bf16 dot products (Intel Xeon 4th generation,
# Sapphire Rapids, and later), where oneDNN runs the bf16 matrix products as AMX tile kernels, or AVX-512 bf16
# dot products (AMD EPYC 4th generation, Zen 4, and later; Intel Cooper Lake), where it runs them with
# VDPBF16PS (measured on a Zen 4 EPYC: bf16 products 2.3x fp32's rate, vectors as close to fp32 as on AMX).
# Without either torch emulates bf16, slower than fp32, so the backend refuses to load instead
# (voiceminer.models.encoder.missing_bf16_features).
BF16_CPU_FEATURES = ("amx_tile", "amx_bf16")
BF16_AVX512_FEATURE = "avx512_bf16"
DEFAULT_BACKEND = AUTO_BACKEND
DEFAULT_SLA_HOURS = {"high": 4.0, "medium": 24.0, "low": 72.0}
# voiceminer.flags.cues.KINDS (a test keeps them equal): named here so that checking case_cues does not
# import the flags package (numpy and a hundred regular expressions: a fifth of a second per command)
CUE_KINDS = ("churn", "urgency", "safety", "legal", "vulnerability")


@dataclass(frozen=True)
class Settings:
    """Everything a job, the CLI or the API needs to know."""

    data_dir: Path = Path("voiceminer-data")
    database_url: str = ""  # empty -> sqlite file inside data_dir
    timezone: str = "UTC"
    batch_size: int = 256
    pipeline: tuple[str, ...] = DEFAULT_PIPELINE
    redact_pii: bool = False
    retention_days: int = 0  # delete comments (and all derived data) older than this many days; 0: keep forever
    report_period: str = "week"
    taxonomy: Path | None = None  # theme taxonomy YAML; None: the built-in customer-experience taxonomy
    themes_model: Path | None = None  # trained themes model folder (voiceminer train-themes); None: zero-shot
    models_dir: Path | None = None  # folder of the shipped model artifacts; None: the project's models/
    shared_model: str = "shared-v2"  # the shared encoder + heads artifact inside models_dir (shared-v1: MiniLM, faster)
    backend: str = DEFAULT_BACKEND  # how the shared model's encoders run: auto (resolved at load, see
    # resolve_backend), torch, onnx, onnx-int8, torch-bf16
    promises: Path | None = None  # YAML list of promises / expected topics to measure (report)
    alert_webhook: str = ""  # URL that receives the alerts as JSON (POST); empty: no webhook
    service_url: str = ""  # base URL of `voiceminer serve`: report theme names link to its /themes/{id}; empty: none
    baseline_periods: int = 8  # how many earlier periods form the baseline of a period
    min_volume: int = 10  # minimum mentions before a spike is an alert
    # A report holds this many comments' rows at a time: volumes, sentiment, themes and spikes add up chunk by
    # chunk (exact for any range); the detail figures (quotes, needs, emerging topics)
    # read a uniform sample of report_sample comments when the range holds more (voiceminer.aggregate.partials).
    report_chunk: int = 100_000
    report_sample: int = 250_000
    # Triage (voiceminer.triage): which flagged comments open a case, how soon each is due, and where it goes.
    case_priorities: tuple[str, ...] = ("high", "medium")  # complaint priorities that open a case
    case_cues: tuple[str, ...] = ("churn", "safety", "legal", "vulnerability")  # any of these cues opens one too
    # A comment the language stage finds is not in English: the English models cannot judge it, so it opens a case
    # for a person to read (voiceminer.triage.cases.language_case) instead of trusting their flag.
    case_other_languages: bool = True
    sla_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SLA_HOURS), hash=False)
    routing: Mapping[str, str] = field(default_factory=dict, hash=False)  # theme id (or prefix) -> team name
    default_team: str = ""  # team for cases whose theme has no route; empty: none
    config_path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.database_url:
            db = (self.data_dir / "voiceminer.db").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{db}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {self.batch_size}")
        if isinstance(self.retention_days, bool) or not isinstance(self.retention_days, int) \
                or self.retention_days < 0:
            raise ConfigError(f"retention_days must be a whole number of days >= 0 (0: keep forever), "
                              f"got {self.retention_days!r}")
        if self.baseline_periods < 1 or self.min_volume < 1:
            raise ConfigError("baseline_periods and min_volume must be at least 1")
        if self.report_chunk < 1 or self.report_sample < 1:
            raise ConfigError(f"report_chunk and report_sample must be at least 1, got {self.report_chunk} "
                              f"and {self.report_sample}")
        if self.alert_webhook and not self.alert_webhook.startswith(("http://", "https://")):
            raise ConfigError(f"alert_webhook must be an http(s) URL, got {self.alert_webhook!r}")
        if self.service_url and not self.service_url.startswith(("http://", "https://")):
            raise ConfigError(f"service_url must be an http(s) URL, got {self.service_url!r}")
        _check_triage(self)
        if self.backend not in (AUTO_BACKEND, *BACKENDS):
            raise ConfigError(f"backend must be {AUTO_BACKEND} or one of {', '.join(BACKENDS)}, got {self.backend!r}")
        # "auto" is resolved here, once: the pipeline key, the vector cache and the models all see the backend
        # that really runs, so a store mined on a bf16 machine and then on one without re-analyses nothing
        # silently under the wrong key
        object.__setattr__(self, "backend", resolve_backend(self.backend))
        if self.report_period not in ("day", "week", "month", "quarter"):
            raise ConfigError(f"report_period must be day, week, month or quarter, got {self.report_period!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"timezone {self.timezone!r} is not a known IANA zone (e.g. 'Europe/London')") from None

    # -- derived locations -------------------------------------------------
    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def load(cls, *, config_path: str | Path | None = None, env: Mapping[str, str] | None = None,
             overrides: Mapping[str, Any] | None = None) -> Settings:
        """Build settings from defaults, the TOML file, the environment and overrides (in that order)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = _find_config(config_path, env)
        if path is not None:
            values.update(_read_toml(path))
            values["config_path"] = path
        values.update(_from_env(env))
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls(**_coerce(values))


def resolve_backend(name: str) -> str:
    """The backend ``name`` stands for: itself, or for ``auto`` the fastest backend that keeps every
    validation row within half a point of torch fp32 on this CPU: ``torch-bf16`` where the CPU multiplies
    bf16 natively (:func:`bf16_ready`), else ``onnx``.

    >>> resolve_backend("onnx-int8")
    'onnx-int8'
    >>> resolve_backend("auto") in ("torch-bf16", "onnx")
    True
    """
    if name != AUTO_BACKEND:
        return name
    return "torch-bf16" if bf16_ready() else "onnx"


@lru_cache(maxsize=1)
def proc_cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none), without importing torch."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def bf16_ready() -> bool:
    """Whether ``torch-bf16`` runs natively here: AMX bf16 (:func:`amx_bf16_ready`; 3.3x torch fp32 on the
    whole tag path) or AVX-512 bf16 (``avx512_bf16``: 1.9x, against 1.6x for onnx, on a Zen 4 EPYC), with
    every validation row within 0.2 points of fp32 on both. Without importing torch."""
    return amx_bf16_ready() or BF16_AVX512_FEATURE in proc_cpu_flags()


@lru_cache(maxsize=1)
def amx_bf16_ready() -> bool:
    """Whether this CPU has AMX bf16 (``amx_tile`` and ``amx_bf16`` in /proc/cpuinfo) and Linux grants this
    process the AMX tile state (``arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)``, what
    ``torch.cpu._init_amx`` asks). Without importing torch: every command loads settings."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    if not set(BF16_CPU_FEATURES) <= proc_cpu_flags():
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA = 158, 0x1023, 18
        return libc.syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0
    except (OSError, AttributeError):
        return False


def _check_triage(s: Settings) -> None:
    levels = ("high", "medium", "low")
    if bad := [p for p in s.case_priorities if p not in levels]:
        raise ConfigError(f"case_priorities: unknown priority {bad[0]!r}; choose from {', '.join(levels)}")
    if bad := [c for c in s.case_cues if c not in CUE_KINDS]:
        raise ConfigError(f"case_cues: unknown cue {bad[0]!r}; choose from {', '.join(CUE_KINDS)}")
    sla = {**DEFAULT_SLA_HOURS, **dict(s.sla_hours)}
    if set(sla) - set(levels) or any(not isinstance(v, (int, float)) or v <= 0 for v in sla.values()):
        raise ConfigError(f"sla_hours: give positive hours for high, medium and low, got {dict(s.sla_hours)!r}")
    object.__setattr__(s, "sla_hours", {k: float(v) for k, v in sla.items()})
    routing = dict(s.routing)
    if any(not isinstance(k, str) or not isinstance(v, str) or not v for k, v in routing.items()):
        raise ConfigError(f"routing: map theme ids to team names, got {routing!r}")
    object.__setattr__(s, "routing", routing)


def _find_config(config_path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if config_path is None:
        config_path = env.get("VOICEMINER_CONFIG")
        if config_path is None:
            default = Path(CONFIG_FILENAME)
            return default if default.is_file() else None
    path = Path(config_path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    section = data.get("voiceminer", {})
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [voiceminer] must be a table")
    _check_keys(section, f"config file {path}")
    for key in ("data_dir", "taxonomy", "themes_model", "models_dir", "promises"):  # relative to the config file
        if key in section:
            section[key] = (path.parent / section[key]).as_posix()
    return dict(section)


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in _public_fields():
        key = f"VOICEMINER_{f.upper()}"
        if key in env and env[key] != "":
            out[f] = env[key]
    return out


def _public_fields() -> list[str]:
    return [f.name for f in fields(Settings) if f.name != "config_path"]


def _check_keys(section: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(section) - set(_public_fields()))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(_public_fields())}")


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for key in ("batch_size", "baseline_periods", "min_volume", "retention_days", "report_chunk", "report_sample"):
        try:
            if key in out:
                out[key] = int(out[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {out[key]!r}") from None
    for key in ("case_priorities", "case_cues"):
        if isinstance(out.get(key), str):
            out[key] = tuple(p.strip() for p in out[key].split(",") if p.strip())
        elif key in out:
            out[key] = tuple(out[key])
    for key, cast in (("sla_hours", float), ("routing", str)):
        if isinstance(out.get(key), str):  # from the environment: "high=4,medium=24"
            try:
                out[key] = {k.strip(): cast(v.strip()) for k, v in
                            (pair.split("=", 1) for pair in out[key].split(",") if pair.strip())}
            except ValueError:
                raise ConfigError(f"{key} must look like 'name=value,name=value', got {out[key]!r}") from None
    if isinstance(out.get("pipeline"), str):
        out["pipeline"] = tuple(p.strip() for p in out["pipeline"].split(",") if p.strip())
    elif "pipeline" in out:
        out["pipeline"] = tuple(out["pipeline"])
    if "pipeline" in out and len(out["pipeline"]) == 1 and out["pipeline"][0] in PIPELINE_PRESETS:
        out["pipeline"] = PIPELINE_PRESETS[out["pipeline"][0]]  # pipeline = "lexical" / "default"
    for key in ("taxonomy", "themes_model", "models_dir", "promises"):
        if out.get(key):
            out[key] = Path(out[key])
    for key in ("redact_pii", "case_other_languages"):
        if isinstance(out.get(key), str):
            out[key] = out[key].strip().lower() in ("1", "true", "yes", "on")
    return out
