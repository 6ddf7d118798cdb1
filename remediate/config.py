"""Settings: defaults < `--config` TOML file < `REMEDIATE_*` environment < command-line flags.

pydantic-settings does the layering; we only decide the order of sources and turn a validation
failure into one line that names the offending key, because an operator at 3 a.m. needs the key,
not a pydantic traceback. Every setting is documented in `config.example.toml`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PositiveFloat, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from remediate.errors import ConfigError


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "remediate"


class Settings(BaseSettings):
    """Every tunable of a run. Field descriptions are the documentation of record."""

    model_config = SettingsConfigDict(env_prefix="REMEDIATE_", extra="forbid", frozen=True)

    profile: str | None = Field(None, description="AWS profile; default: the standard chain")
    region: str | None = Field(None, description="AWS region; default: the standard chain")
    state_dir: Path = Field(default_factory=_default_state_dir, description="journals and locks")
    output: Literal["text", "json"] = "text"
    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    color: bool = True
    max_workers: int = Field(
        24,
        ge=4,
        le=64,
        description="concurrent AWS reads during observation (an MSK mapping's widest step is some 20 reads)",
    )
    retry_attempts: int = Field(6, ge=1, le=20, description="attempts per AWS call, first one included")
    retry_base_delay: float = Field(0.5, gt=0, le=30, description="seconds; backoff unit (full jitter)")
    retry_max_delay: float = Field(20.0, gt=0, le=300, description="seconds; cap of one backoff wait")
    esm_transition_timeout: float = Field(
        900.0, gt=0, le=7200, description="seconds to wait for an ESM to leave Updating/Enabling/Disabling"
    )
    lock_ttl: float = Field(
        3600.0, gt=0, le=86400, description="seconds an apply's ESM lock lasts if its run dies"
    )
    esm_poll_interval: float = Field(5.0, gt=0, le=120, description="seconds between ESM state reads")
    playbooks_dir: Path | None = Field(None, description="extra playbooks; default: the shipped ones")
    journal_bucket: str | None = Field(
        None,
        description="S3 bucket of SSM runs' journals; rollback and apply --resume read a run's from it",
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
    )
    scan_workers: int = Field(16, ge=1, le=128, description="mappings `remediate scan` observes at once")
    api_rates: dict[str, PositiveFloat] = Field(
        default_factory=lambda: {
            # issue 26: the buckets AWS publishes (bench/throttle.py cites each): Lambda's control plane
            # 15/s with GetFunction apart at 100/s; EC2 20/s per Describe API; GetMetricData 50/s.
            "lambda": 15.0,
            "lambda:get_function": 100.0,
            "ec2:*": 20.0,
            "kafka": 10.0,
            "iam": 10.0,
            "secretsmanager": 50.0,
            "cloudwatch": 10.0,
            "cloudwatch:get_metric_data": 50.0,
            # issue 15: conservative pacing, not a published rate (both services publish higher ones).
            "kms": 10.0,
            "glue": 10.0,
        },
        description=(
            "client-side pacing: calls per second per AWS service and region, or per operation "
            "('lambda:get_function'; 'ec2:*': each operation apart); others unpaced"
        ),
    )
    api_burst: float = Field(10.0, ge=1, le=1000, description="calls a service may make back to back")
    metrics_window: int = Field(
        60,
        ge=0,
        le=1440,
        description="minutes of CloudWatch broker and function metrics a diagnosis reads; 0: none",
    )
    # issue 25 (item 7)
    stray_disabled_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="days a mapping may stay disabled before it is reported as a stray; 0: never",
    )
    # issue 25 (item 8)
    monitoring_fix: bool = Field(
        False,
        description="read the function's alarms and plan CloudWatch alarms and the mapping's metrics where "
        "missing (as --fix-with monitoring)",
    )

    # issue 23: timeouts of each AWS request, and how often a long wait says it is still waiting.
    connect_timeout: float = Field(
        5.0,
        gt=0,
        le=300,
        description="seconds to open a connection to an AWS endpoint (as --cli-connect-timeout)",
    )
    read_timeout: float = Field(
        30.0,
        gt=0,
        le=900,
        description="seconds to wait for an AWS answer before retrying (as --cli-read-timeout)",
    )
    progress_interval: float = Field(
        10.0, gt=0, le=600, description="seconds of silence after which a retry or a long wait prints a line"
    )

    @field_validator("state_dir", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        # An empty value would become Path("."): journals scattered into whatever directory the
        # command happens to run in, where `rollback` and `--resume` would later not find them.
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty (unset it to use the default)")
        return value

    @field_validator("state_dir", "playbooks_dir", mode="after")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags arrive as init kwargs and the TOML file is merged into them by `load_settings`
        # underneath the flags, so the effective order is flags > env > file > defaults.
        return (_FlagsSource(settings_cls, init_settings), env_settings)


class _FlagsSource(PydanticBaseSettingsSource):
    """Init kwargs split in two layers: explicit flags (above env) and file values (below env)."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._init = init

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = dict(self._init())
        file_values: dict[str, Any] = values.pop("_file", {}) or {}
        env_names = {f"REMEDIATE_{name}".upper() for name in self.settings_cls.model_fields}
        present = {k.upper() for k in os.environ} & env_names
        merged = {k: v for k, v in file_values.items() if f"REMEDIATE_{k}".upper() not in present}
        merged.update(values)
        return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    # Accept both a flat file and one with a [remediate] table, the usual shape of tool configs.
    table = data.get("remediate", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [remediate] must be a table")
    return dict(table)


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Build the effective settings; raise ConfigError with one line naming the bad key."""
    file_values = _read_toml(config_file) if config_file else {}
    unknown = sorted(set(file_values) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"config file {config_file}: unknown key {unknown[0]!r}")
    explicit = {k: v for k, v in flags.items() if v is not None}
    try:
        return Settings(_file=file_values, **explicit)  # type: ignore[call-arg]
    except SettingsError as exc:
        # pydantic-settings parses dictionary settings from the environment as JSON before
        # validating, and says only "error parsing value for field X from source Y".
        key = next((name for name in Settings.model_fields if f'"{name}"' in str(exc)), "?")
        raise ConfigError(
            f"invalid setting {key!r} (environment REMEDIATE_{key.upper()}): not valid JSON, "
            'expected an object like {"ec2": 10}'
        ) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"] if p != "_file") or "?"
        origin = _origin(key, explicit, config_file)
        raise ConfigError(f"invalid setting {key!r}{origin}: {err['msg']}") from None


def _origin(key: str, explicit: dict[str, Any], config_file: Path | None) -> str:
    key = key.split(".", 1)[0]  # `api_rates.lambda` comes from the setting `api_rates` (operator-hunt N27)
    if key in explicit:
        return " (command line)"
    if f"REMEDIATE_{key}".upper() in {k.upper() for k in os.environ}:
        return f" (environment REMEDIATE_{key.upper()})"
    if config_file:
        return f" (in {config_file})"
    return ""
