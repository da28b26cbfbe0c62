"""Record a live run from a broker: every reading message under a prefix, with the wall-clock
time it was received as its arrival, written as a recording (:mod:`simulators.recording`).

The arrival is the capture's wall clock, so the recording replays faithfully when the sensors'
event times are on the wall clock too: real sensors, or ``yujing simulate`` at ×1. (A run at ×N
stamps its readings N times faster than the wall clock runs; replay it from its scenario.)

The filter is the runtime's own (``{prefix}/+/+/+``), so a runtime's dead letters published
under the prefix are not taken for readings. Rows are written as they come (a long capture
needs no memory for them); Ctrl-C ends the capture early and keeps what was received.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from simulators.recording import RecordedMessage, RecordingWriter
from yujing.contracts import ConfigError

__all__ = ["record_mqtt"]

SUBSCRIBE_TIMEOUT_S = 10.0


def record_mqtt(
    url: str,
    out: Path,
    *,
    duration_s: float,
    prefix: str = "yujing/v1",
    registry: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Capture ``duration_s`` wall seconds of readings from ``url`` into ``out``; returns the
    number of messages. ``on_ready`` is called once the broker has granted the subscription
    (what is published before that is not seen)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from ingest import subscription
    from yujing.broker import parse_mqtt_url

    host, port = parse_mqtt_url(url)
    received: queue.SimpleQueue[RecordedMessage] = queue.SimpleQueue()
    granted = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"yujing-record-{os.getpid()}")

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        received.put(RecordedMessage(time.time(), message.topic, bytes(message.payload)))

    client.on_connect = lambda c, *_: c.subscribe(subscription(prefix), qos=1)
    client.on_subscribe = lambda *_: granted.set()
    client.on_message = on_message
    try:
        client.connect(host, port)
    except OSError as exc:
        raise ConfigError(f"{url}: cannot connect to the broker ({exc})") from None
    header: dict[str, object] = {"source": f"mqtt {url}", "clock": "wall"}
    if registry is not None:
        header["registry"] = str(registry.resolve())
    client.loop_start()
    try:
        if not granted.wait(SUBSCRIBE_TIMEOUT_S):
            raise ConfigError(f"{url}: no subscription granted within {SUBSCRIBE_TIMEOUT_S:g} s")
        if on_ready is not None:
            on_ready()
        with RecordingWriter(out, header) as writer:
            _write_until(received, writer, time.monotonic() + duration_s)
            client.loop_stop()  # nothing arrives after this: write what is queued
            while not received.empty():
                writer.write(received.get_nowait())
    finally:
        client.loop_stop()
        client.disconnect()
    return writer.count


def _write_until(
    received: queue.SimpleQueue[RecordedMessage], writer: RecordingWriter, until: float
) -> None:
    """Write what arrives until the monotonic time ``until``; Ctrl-C ends the wait early."""
    try:
        while (wait := until - time.monotonic()) > 0:
            try:
                writer.write(received.get(timeout=min(wait, 0.2)))
            except queue.Empty:
                continue
    except KeyboardInterrupt:
        return
