"""The real embedded runtime under measurement, and what the benchmarks observe of it.

- :class:`RecordingNotifier` is a real notification channel (the :class:`alerting.Notifier`
  protocol): it keeps the wall time at which the dispatcher handed it each delivery. It is the
  point where a notice is *emitted*: after the journal commit, as a webhook would see it.
- :class:`BatchLog` is the runtime's ``on_batch`` hook: per processed batch, the wall time the
  batch was done (processed, journaled, acked) and each message's receive time.
- :class:`LiveRuntime` runs an :class:`~yujing.runtime.EmbeddedRuntime` on its own event-loop
  thread, built from a registry object (no registry file) and the shipped ladders.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alerting import Delivery
from bench.harness import REPO
from ingest import RawMessage as SourceMessage
from yujing.config import Registry, Settings, load_ladders, load_quantities
from yujing.config.settings import IngestSettings, MetricsSettings, MqttSettings, NotifySettings
from yujing.contracts import Notice
from yujing.pipeline import StepResult
from yujing.runtime import EmbeddedRuntime
from yujing.runtime.embedded import RuntimeParts

__all__ = ["BatchLog", "LiveRuntime", "RecordingNotifier", "bench_settings", "wait_until"]


def wait_until(condition: Callable[[], object], timeout_s: float, poll_s: float = 0.002) -> bool:
    """Poll ``condition`` until true or ``timeout_s`` passes; returns whether it came true."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True


@dataclass(slots=True)
class RecordingNotifier:
    """Records ``(wall time, notice)`` for every delivery it is handed; never fails."""

    name: str = "bench-recorder"
    is_public: bool = False
    sent: list[tuple[float, Notice]] = field(default_factory=list)

    async def send(self, delivery: Delivery) -> None:
        self.sent.append((time.time(), delivery.notice))

    async def close(self) -> None:
        return None


@dataclass(slots=True)
class BatchLog:
    """Per batch: done time, number of messages, earliest receive time; optionally every
    message with its batch's done time when ``keep_messages``."""

    keep_messages: bool = False
    batches: list[tuple[float, int, float]] = field(default_factory=list)
    messages: list[tuple[SourceMessage, float]] = field(default_factory=list)
    count: int = 0

    def __call__(self, raw: list[SourceMessage], result: StepResult) -> None:
        done = time.time()
        self.count += len(raw)
        self.batches.append((done, len(raw), min(m.received for m in raw)))
        if self.keep_messages:
            self.messages.extend((m, done) for m in raw)


def bench_settings(
    work: Path, broker_url: str, client_id: str, *, tick_s: float = 1.0, batch_max: int = 2000
) -> Settings:
    """Settings for a runtime under test: no console, no metrics port, state under ``work``."""
    return Settings(
        ladders=REPO / "configs" / "ladders",
        quantities=REPO / "configs" / "quantities.yaml",
        state_dir=work / "state",
        tick_s=tick_s,
        mqtt=MqttSettings(url=broker_url, client_id=client_id, start_broker="never"),
        ingest=IngestSettings(
            dead_letter_path=work / "state" / "dead-letters.jsonl",
            dead_letter_topic=None,
            batch_max=batch_max,
        ),
        metrics=MetricsSettings(port=0),
        notify=NotifySettings(console=False),
    )


class LiveRuntime:
    """An EmbeddedRuntime with a recording notifier, on its own event-loop thread."""

    def __init__(self, settings: Settings, registry: Registry, log: BatchLog | None = None) -> None:
        parts = RuntimeParts(
            registry, load_ladders(settings.ladders), load_quantities(settings.quantities)
        )
        self.notifier = RecordingNotifier()
        self.log = log or BatchLog()
        self.runtime = EmbeddedRuntime(
            settings, parts=parts, notifiers=[self.notifier], on_batch=self.log
        )
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="bench-runtime", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def go() -> None:
            self._stop = asyncio.Event()
            await self.runtime.run(self._stop)

        try:
            self._loop.run_until_complete(go())
        except BaseException as exc:  # surfaced by start()/stop()
            self._error = exc

    def start(self, timeout_s: float = 60.0) -> LiveRuntime:
        self._thread.start()
        if not wait_until(lambda: self.runtime.connected.is_set() or self._error, timeout_s):
            raise TimeoutError("runtime did not connect")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        self._loop.close()
        if self._error is not None:
            raise self._error
