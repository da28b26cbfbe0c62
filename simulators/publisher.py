"""Live publisher: the simulator's messages over real MQTT, paced by a (scaled) clock.

A background thread wakes every ``tick_s`` wall seconds, asks the simulator for everything whose
*arrival* time has passed since the last tick (:meth:`SensorSimulator.deliveries`: faults
applied) and hands it to paho (QoS 1 by default). A seismic packet leaves when its last sample is
due (start + 1 s), the other readings at their event time, a buffered upload when its outage
ends. The scenario's lead-in history arrives at the start, at once, in event-time order.

Broker loss: paho's network thread reconnects (backoff ``reconnect_min_s``..``reconnect_max_s``);
QoS ≥ 1 messages published meanwhile wait in paho's queue (at most ``max_queued``, beyond that
they are counted as ``dropped``) and are sent, or re-sent, after the reconnect: delivery is at
least once and the receiver dedupes on (station, seq).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from simulators.generator import SensorSimulator, SimMessage
from yujing.broker import parse_mqtt_url
from yujing.clock import ScaledClock

__all__ = ["Publisher", "PublisherStats"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """Counters since start. ``published`` = acknowledged by the broker (PUBACK for QoS 1, written
    to the socket for QoS 0); ``pending`` = handed to paho, not yet acknowledged."""

    submitted: int
    published: int
    dropped: int
    connects: int
    disconnects: int
    connected: bool
    cursor_ts: float  # arrival time up to which messages were handed over (exclusive)

    @property
    def pending(self) -> int:
        return self.submitted - self.published - self.dropped


class Publisher:
    """Publishes ``simulator``'s messages to the broker at ``url`` as ``clock`` advances."""

    def __init__(
        self,
        url: str,
        simulator: SensorSimulator,
        clock: ScaledClock,
        *,
        client_id: str,
        qos: int = 1,
        from_ts: float | None = None,
        tick_s: float = 0.05,
        keepalive_s: int = 30,
        max_inflight: int = 200,
        max_queued: int = 200_000,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 5,
    ) -> None:
        self._host, self._port = parse_mqtt_url(url)
        self._simulator = simulator
        self._clock = clock
        self._qos = qos
        self._tick_s = tick_s
        self._keepalive_s = keepalive_s
        self._cursor = simulator.first_arrival if from_ts is None else from_ts
        self._until: float | None = None
        self._lock = threading.Lock()
        self._acked = threading.Condition(self._lock)
        self._submitted = self._published = self._dropped = 0
        self._connects = self._disconnects = 0
        self._connected = False
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(max_queued)
        self._client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    # paho callbacks (network thread) -------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        with self._lock:
            self._connected = not reason.is_failure
            self._connects += self._connected  # successful CONNACKs only
        log.info(
            "publisher connected",
            extra={"host": self._host, "port": self._port, "reason": str(reason)},
        )

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        with self._lock:
            self._disconnects += 1
            self._connected = False
        level = logging.WARNING if reason.is_failure else logging.INFO
        log.log(level, "publisher disconnected", extra={"reason": str(reason)})

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        with self._acked:
            self._published += 1
            self._acked.notify_all()

    # control -------------------------------------------------------------------------------

    def start(self) -> Publisher:
        """Connect (asynchronously: a broker that is not up yet is retried) and start pacing."""
        if self._thread is not None:
            raise RuntimeError("publisher already started")
        self._client.connect_async(self._host, self._port, self._keepalive_s)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, name="yujing-publisher", daemon=True)
        self._thread.start()
        return self

    def stop(self, flush_timeout_s: float = 5.0) -> PublisherStats:
        """Stop pacing, wait up to ``flush_timeout_s`` for acknowledgements, disconnect.
        Calling it again does nothing more."""
        if self._stop.is_set():
            return self.stats()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.flush(flush_timeout_s)
            self._client.disconnect()
            self._client.loop_stop()
        return self.stats()

    def flush(self, timeout_s: float) -> bool:
        """Wait until every handed-over message is acknowledged (or dropped); True if so."""
        with self._acked:
            return self._acked.wait_for(
                lambda: self._submitted - self._published - self._dropped <= 0, timeout_s
            )

    def run_for(self, sim_seconds: float, *, flush_timeout_s: float = 10.0) -> PublisherStats:
        """Publish everything up to ``clock.now() + sim_seconds`` (event time), paced by the
        clock, then flush and stop. Blocks for about ``sim_seconds / speed`` wall seconds."""
        self._until = self._clock.now() + sim_seconds
        if self._thread is None:
            self.start()
        self._done.wait(self._clock.wall_delay(sim_seconds) + flush_timeout_s)
        return self.stop(flush_timeout_s)

    def stats(self) -> PublisherStats:
        with self._lock:
            return PublisherStats(
                self._submitted,
                self._published,
                self._dropped,
                self._connects,
                self._disconnects,
                self._connected,
                self._cursor,
            )

    # pacing thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock.now()
            until = now if self._until is None else min(now, self._until)
            if until > self._cursor:
                self._publish_window(self._cursor, until)
            if self._until is not None and self._cursor >= self._until:
                self._done.set()
                return
            self._stop.wait(self._tick_s)

    def _publish_window(self, t0: float, t1: float) -> None:
        for message in self._simulator.deliveries(t0, t1):
            self._send(message)
        with self._lock:
            self._cursor = t1

    def _send(self, message: SimMessage) -> None:
        info = self._client.publish(message.topic, message.payload, qos=self._qos)
        with self._lock:
            self._submitted += 1
            if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE or (
                self._qos == 0 and info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS
            ):
                self._dropped += 1
                self._acked.notify_all()
