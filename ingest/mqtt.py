"""The MQTT edge: a paho-mqtt 2 client that loses nothing across crashes and broker restarts.

- Persistent session (MQTT 3.1.1 ``clean_session=False``; MQTT 5 ``clean_start=False`` with a
  session expiry) under a fixed client id: the broker queues QoS 1 messages while we are away.
- Manual acks: paho's network thread only puts a :class:`RawMessage` on a queue. The runtime
  decodes and processes off that thread and calls :meth:`MqttSource.ack` afterwards; a crash in
  between leaves the message unacknowledged and the broker delivers it again. Redeliveries are
  duplicates the decoder drops by (station, seq, event time).
- Automatic reconnect with exponential backoff (paho's ``reconnect_delay_set``), resubscribing on
  every connect in case the broker lost the session.

Unacknowledged messages also pace the broker: it holds back more than its in-flight window
(mosquitto ``max_inflight_messages``, MQTT 5 receive maximum) until acks arrive, so ack each batch
as soon as it is processed.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ingest.topics import subscription
from yujing.broker import parse_mqtt_url
from yujing.config.settings import MqttSettings

log = logging.getLogger(__name__)

WEEK_S = 7 * 24 * 3600


class Protocol(enum.StrEnum):
    """MQTT protocol version; 3.1.1 also works with the in-process amqtt fallback broker."""

    V311 = "3.1.1"
    V5 = "5"


class RawMessage(NamedTuple):
    """A message as it came off the wire. ``received`` is wall epoch seconds.

    ``generation`` counts connections: a packet id only means something on the connection it came
    on, so :meth:`MqttSource.ack` skips messages from an earlier one (the broker redelivers those).
    A NamedTuple, not a frozen dataclass: it is built on paho's thread for every message, and
    the tuple is three times cheaper to build.
    """

    topic: str
    payload: bytes
    received: float
    mid: int
    qos: int
    generation: int = 0


def read_password(path: Path | None) -> str | None:
    """The secret in ``password_file`` (first line), or None when there is no file."""
    if path is None:
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0] if lines else ""


def connect_client(
    url: str,
    client_id: str,
    *,
    username: str | None = None,
    password: str | None = None,
    protocol: Protocol = Protocol.V311,
    persistent: bool = True,
    session_expiry_s: int = WEEK_S,
    keepalive_s: int = 30,
    manual_ack: bool = False,
    reconnect_min_s: int = 1,
    reconnect_max_s: int = 30,
) -> paho.Client:
    """A paho client (callback API 2) set up to connect to ``url`` once its loop starts.

    Set callbacks, then call ``loop_start()``: the loop connects, retries and reconnects with
    backoff between ``reconnect_min_s`` and ``reconnect_max_s``.
    """
    host, port = parse_mqtt_url(url)
    properties: Properties | None = None
    clean_start: paho.CleanStartOption = paho.MQTT_CLEAN_START_FIRST_ONLY
    if protocol is Protocol.V5:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv5,
            manual_ack=manual_ack,
        )
        clean_start = not persistent
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = session_expiry_s if persistent else 0
    else:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            protocol=paho.MQTTv311,
            manual_ack=manual_ack,
        )
    if username is not None:
        client.username_pw_set(username, password)
    client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
    client.connect_async(
        host, port, keepalive=keepalive_s, clean_start=clean_start, properties=properties
    )
    return client


class MqttSource:
    """Receives every reading under the topic prefix (or ``topic_filters``) into :attr:`messages`.

    Thread-safety: :meth:`ack`, :meth:`publish` and :meth:`get_batch` may be called from any
    thread; callbacks run on paho's network thread and never block beyond a queue put.
    """

    def __init__(
        self,
        settings: MqttSettings,
        topic_filters: Sequence[str] | None = None,
        *,
        protocol: Protocol = Protocol.V311,
        session_expiry_s: int = WEEK_S,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 30,
        clock: Callable[[], float] = time.time,
        generation_base: int = 0,
    ) -> None:
        """``generation_base``: where :attr:`RawMessage.generation` starts counting; a receiver
        process (:mod:`ingest.mqtt_process`) gives each of its incarnations its own range."""
        self.settings = settings
        self.messages: queue.SimpleQueue[RawMessage] = queue.SimpleQueue()
        """Unbounded, but QoS ≥ 1 traffic cannot outrun acks by more than the in-flight window.
        A SimpleQueue (C) costs 1/20 of a ``queue.Queue`` per message."""
        self.connected = threading.Event()
        """Set once subscribed (ready to receive); cleared when the connection drops."""
        self.connects = 0
        self.last_error: str | None = None
        self.topic_filters = tuple(topic_filters or (subscription(settings.topic_prefix),))
        self._clock = clock
        self._generation = generation_base
        self._stopping = False  # a disconnect we asked for is not worth a warning
        self._lock = threading.Lock()
        self._client = connect_client(
            settings.url,
            settings.client_id,
            username=settings.username,
            password=read_password(settings.password_file),
            protocol=protocol,
            session_expiry_s=session_expiry_s,
            keepalive_s=settings.keepalive_s,
            manual_ack=True,
            reconnect_min_s=reconnect_min_s,
            reconnect_max_s=reconnect_max_s,
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Start paho's network thread; it keeps connecting until :meth:`stop`."""
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect (the session and unacked messages stay with the broker) and join."""
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()

    def get_batch(self, max_items: int, timeout_s: float) -> list[RawMessage]:
        """Wait up to ``timeout_s`` for one message, then take what else is queued (≤ max)."""
        try:
            batch = [self.messages.get(timeout=timeout_s)]
        except queue.Empty:
            return []
        while len(batch) < max_items:
            try:
                batch.append(self.messages.get_nowait())
            except queue.Empty:
                break
        return batch

    def ack(self, messages: Iterable[RawMessage]) -> int:
        """Acknowledge processed messages; returns how many acks were sent.

        QoS 0 messages need none. Messages from an earlier connection are skipped: the broker
        has already redelivered them on the current one (to be acked when seen again).
        """
        return self.ack_ids((m.mid, m.qos, m.generation) for m in messages)

    def ack_ids(self, ids: Iterable[tuple[int, int, int]]) -> int:
        """:meth:`ack` by ``(mid, qos, generation)`` (what crosses a process boundary)."""
        sent = 0
        with self._lock:
            current = self._generation
            for mid, qos, generation in ids:
                if qos > 0 and generation == current:
                    self._client.ack(mid, qos)
                    sent += 1
        return sent

    def queued(self) -> int:
        """Messages received and not yet taken by :meth:`get_batch`."""
        return self.messages.qsize()

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> paho.MQTTMessageInfo:
        """Publish on this client (dead letters, for instance); QoS ≥ 1 survives reconnects."""
        return self._client.publish(topic, payload, qos=qos)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.last_error = f"connect refused: {reason}"
            log.error("mqtt connect refused", extra={"reason": str(reason)})
            return
        with self._lock:
            self._generation += 1
        self.connects += 1
        log.info(
            "mqtt connected",
            extra={"client_id": self.settings.client_id, "session_present": flags.session_present},
        )
        filters: list[tuple[str, int]] = [(t, self.settings.qos) for t in self.topic_filters]
        client.subscribe(filters)

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(reason.is_failure for reason in reasons):
            self.last_error = f"subscribe to {self.topic_filters} refused: {reasons}"
            log.error("mqtt subscribe refused", extra={"filters": self.topic_filters})
            return
        self.last_error = None
        self.connected.set()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            self._generation += 1
        self.connected.clear()
        level = logging.INFO if self._stopping else logging.WARNING
        log.log(level, "mqtt disconnected", extra={"reason": str(reason)})

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "\ufffd(topic is not UTF-8)"
        payload = message.payload
        if type(payload) is not bytes:
            payload = bytes(payload)
        self.messages.put(
            RawMessage(topic, payload, self._clock(), message.mid, message.qos, self._generation)
        )
