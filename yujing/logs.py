"""Logging set up once for the process: one JSON formatter (or a plain one for humans)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event phrase and the bound fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        base = f"{record.levelname.lower():7} {record.name}: {record.getMessage()}"
        return f"{base} {fields}".rstrip()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not when logging was set
    up: a command run with its stderr captured (a test runner, an embedding program) must not
    leave the process logging into a stream that has since been closed."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def setup_logging(level: str = "warning", fmt: str = "plain") -> None:
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else PlainFormatter())
    root = logging.getLogger()
    # ours replaces ours (set up twice: one handler); other handlers (a host's, a test
    # runner's) stay
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, StderrHandler)] + [handler]
    root.setLevel(level.upper())
    for noisy in ("amqtt", "transitions", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def current_logging() -> tuple[str, str] | None:
    """``(level, fmt)`` as :func:`setup_logging` last set them, for a spawned child process to
    log the same way (None: never set up here)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, StderrHandler):
            fmt = "json" if isinstance(handler.formatter, JsonFormatter) else "plain"
            return logging.getLevelName(root.level).lower(), fmt
    return None
