"""Run a Faust app of the scale-out runtime as a process (``yujing worker``).

Faust's worker owns the process: its event loop, signal handling (SIGTERM/SIGINT stop it
cleanly) and exit code — non-zero when an agent crashed (``CrashingSupervisor``), so the
container's restart policy starts a fresh worker that recovers its tables from the changelogs.
Logging stays as :func:`yujing.logs.setup_logging` set it; metrics are served like the embedded
runtime's (``metrics.host``/``metrics.port``).
"""

from __future__ import annotations

import enum
from typing import Any

import faust
from prometheus_client import start_http_server

from yujing.config import Settings
from yujing.metrics import Metrics
from yujing.runtime.faust.app import StreamApp
from yujing.runtime.faust.notifier import NotifierApp

__all__ = ["Role", "run_worker"]


class Role(enum.StrEnum):
    STREAM = "stream"  # detect, network and alert agents
    NOTIFIER = "notifier"  # deliveries to the channels


def run_worker(settings: Settings, role: Role, log_level: str = "info") -> None:
    """Build the app for ``role`` and hand the process to Faust's worker (does not return)."""
    metrics = Metrics()
    built: StreamApp | NotifierApp
    if role is Role.STREAM:
        built = StreamApp(settings, metrics=metrics)
        if built.storage is not None:
            built.storage.start()
    else:
        built = NotifierApp(settings, metrics=metrics)
    if settings.metrics.port:
        start_http_server(settings.metrics.port, settings.metrics.host, registry=metrics.registry)
    options: dict[str, Any] = {
        "loglevel": log_level,
        "quiet": True,
        "redirect_stdouts": False,
        "override_logging": False,
    }
    faust.Worker(built.app, **options).execute_from_commandline()
