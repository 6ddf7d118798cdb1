"""Logging: structlog to standard error, console on a terminal and JSON otherwise.

Standard output belongs to what the user asked for (a plan, one JSON document), so every log line
goes to stderr. Each event carries the run id and the ESM UUID once they are bound. A redaction
processor runs last before rendering: values under secret-looking keys are masked, and any value
registered with `register_secret` is scrubbed from every string, wherever it would appear.

structlog is imported, and configured, only when an event at or above the configured level is
logged: importing it imports rich, and most runs log nothing at the default level (warning), so
they never pay for either.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

REDACTED = "[REDACTED]"
_SECRET_KEY = re.compile(
    r"(password|passwd|secret_?string|secret_?value|private_?key|token|credential)", re.I
)
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a secret value (and each of its lines) so it is scrubbed from logs and output."""
    candidates = [value, *value.splitlines()]
    with _secrets_lock:
        _secrets.update(c for c in (s.strip() for s in candidates) if len(c) >= 6)


def redact(text: str) -> str:
    """Scrub every registered secret value from `text`, longest first."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_scrub(v) for v in value]
    return value


def redaction_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-looking keys and registered secret values."""
    for key in list(event_dict):
        event_dict[key] = REDACTED if _SECRET_KEY.search(key) else _scrub(event_dict[key])
    return event_dict


@dataclass(frozen=True)
class _Config:
    fmt: Literal["auto", "console", "json"]
    level: int
    color: bool
    stream: Any


_config: _Config | None = None  # None: never configured, structlog's own defaults apply
_applied = False
_apply_lock = threading.Lock()
_bound: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "remediate_log_bound", default=()
)
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "warn": logging.WARNING}
_LEVELS.update({"error": logging.ERROR, "exception": logging.ERROR, "critical": logging.CRITICAL})


def configure(
    fmt: Literal["auto", "console", "json"] = "auto",
    level: str = "warning",
    *,
    color: bool = True,
    stream: Any = None,
) -> None:
    """Configure logging once per process (or run); `auto` picks console on a terminal, JSON otherwise.

    The configuration is applied to structlog when the first event that passes `level` is logged.
    """
    global _config, _applied
    out = stream if stream is not None else sys.stderr
    with _apply_lock:
        _config = _Config(fmt, logging.getLevelName(level.upper()), color, out)
        _applied = False


def _structlog() -> Any:
    """structlog, with the configuration of `configure` applied."""
    global _applied
    import structlog

    with _apply_lock:
        if _config is not None and not _applied:
            _apply(structlog, _config)
            _applied = True
    return structlog


def _apply(structlog: Any, config: _Config) -> None:
    use_json = config.fmt == "json" or (config.fmt == "auto" and not _isatty(config.stream))
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _merge_bound,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redaction_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=config.color and _isatty(config.stream))
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(config.level),
        logger_factory=structlog.PrintLoggerFactory(file=config.stream),
        cache_logger_on_first_use=False,
    )


def _merge_bound(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: add what `bind_run` bound in this context (explicit keys win)."""
    for key, value in _bound.get():
        event_dict.setdefault(key, value)
    return event_dict


def bind_run(run_id: str | None = None, esm_uuid: str | None = None) -> None:
    """Bind the run id and ESM UUID to every event logged from now on in this context."""
    values = {**dict(_bound.get()), **{k: v for k, v in (("run_id", run_id), ("esm_uuid", esm_uuid)) if v}}
    _bound.set(tuple(values.items()))


def _drop(*_args: Any, **_kwargs: Any) -> None:
    """An event below the configured level."""


class _LazyLogger:
    """A logger that imports structlog only for an event that will be logged."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        config = _config
        if config is not None and _LEVELS.get(method, logging.CRITICAL) < config.level:
            return _drop
        return getattr(_structlog().get_logger(self._name), method)


def get_logger(name: str) -> Any:
    return _LazyLogger(name)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
