"""Plain paho-mqtt clients for the benchmarks: queueing a backlog, and the raw baselines.

- :func:`open_session` leaves a persistent session (clean session off, QoS 1 subscription) on
  the broker, so what is published afterwards is queued for that client id.
- :func:`publish_all` publishes a list of messages at QoS 1 with up to ``inflight`` unacked and
  returns when the broker has acknowledged every one.
- :class:`RawReceiver` is the baseline: a paho client that only counts (and, for latency,
  notes the receive time of the messages a ``keep`` predicate selects). paho acknowledges each
  QoS 1 message itself, right after the callback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.runtime import wait_until

__all__ = ["RawReceiver", "open_session", "publish_all"]

OUTSTANDING_MAX = 20_000
"""Unacknowledged publishes paho may hold: its packet ids are 16 bit, and with more than 65,535
outstanding a new message silently replaces an old one in its table and is never acknowledged."""


def _client(client_id: str, *, clean: bool) -> paho.Client:
    return paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=paho.MQTTv311,
    )


def open_session(host: str, port: int, client_id: str, topic_filter: str) -> None:
    """Create (or keep) the persistent QoS 1 session of ``client_id``, then disconnect."""
    client = _client(client_id, clean=False)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(host, port)
    client.loop_start()
    client.subscribe(topic_filter, qos=1)
    if not subscribed.wait(10):
        raise TimeoutError(f"no SUBACK for {client_id}")
    client.disconnect()
    client.loop_stop()


def publish_all(
    host: str, port: int, messages: Sequence[tuple[str, bytes]], *, inflight: int = 1000
) -> float:
    """Publish at QoS 1; returns the seconds until the broker acknowledged the last one."""
    client = _client(f"bench-queue-{time.monotonic_ns()}", clean=True)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    acked = [0]
    client.on_publish = lambda *args: acked.__setitem__(0, acked[0] + 1)
    client.connect(host, port)
    client.loop_start()
    started = time.perf_counter()
    for sent, (topic, payload) in enumerate(messages):
        if sent - acked[0] >= OUTSTANDING_MAX:  # paho's message ids wrap at 65,535
            wait_until(lambda: sent - acked[0] < OUTSTANDING_MAX // 2, 60, 0.001)  # noqa: B023
        client.publish(topic, payload, qos=1)
    if not wait_until(lambda: acked[0] >= len(messages), 600, 0.01):
        raise TimeoutError(f"broker acknowledged {acked[0]} of {len(messages)}")
    took = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return took


class RawReceiver:
    """Counts messages; ``keep(topic)`` selects those whose (topic, receive time) are kept."""

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        topic_filter: str,
        *,
        persistent: bool = True,
        keep: Callable[[str], bool] | None = None,
    ) -> None:
        self.count = 0
        self.first: float | None = None
        self.kept: list[tuple[str, float]] = []
        self._keep = keep
        self._filter = topic_filter
        self._subscribed = threading.Event()
        self._client = _client(client_id, clean=not persistent)
        self._client.on_message = self._on_message
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._host, self._port = host, port
        self.marks: dict[int, float] = {}
        self._marks_wanted: set[int] = set()

    def mark_at(self, *counts: int) -> None:
        """Note the wall time at which the count reaches each of ``counts``."""
        self._marks_wanted.update(counts)

    def start(self) -> RawReceiver:
        self._client.connect(self._host, self._port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError("raw receiver: no SUBACK")
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: paho.Client, *args: Any) -> None:
        client.subscribe(self._filter, qos=1)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        now = time.time()
        if self.first is None:
            self.first = now
        self.count += 1
        if self.count in self._marks_wanted:
            self.marks[self.count] = now
        if self._keep is not None:
            topic = message.topic
            if self._keep(topic):
                self.kept.append((topic, now))
