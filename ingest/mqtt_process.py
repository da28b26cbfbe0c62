"""The MQTT client in a process of its own: paho's receive and acks off the runtime's GIL.

paho's network thread spends ~23 µs of interpreter time per message (a count-only client
receives ~44,000 messages/s here, docs/performance.md). In the runtime's process that time is
taken from the loop that decodes and detects, one GIL for both; in a child process it runs on
the other core, and the loop gets whole batches through a pipe.

The contract is :class:`~ingest.mqtt.MqttSource`'s, which the child runs: nothing is
acknowledged before :meth:`ProcessMqttSource.ack`, and acks of messages from an earlier
connection are skipped. Each incarnation of the child numbers its connections from its own
base, so an ack that reaches a restarted child for a message its predecessor received is
skipped too (the broker redelivers it). The child stops when it is told to, or when this
process dies (its end of the command pipe closes), so it never outlives the runtime holding
the session's client id. A child that dies is started again after a second.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest.mqtt import MqttSource, RawMessage
from ingest.topics import subscription
from yujing.config.settings import MqttSettings
from yujing.logs import current_logging, setup_logging

log = logging.getLogger(__name__)

_INCARNATION = 1 << 32  # generations of one child: [n << 32, (n + 1) << 32)
RESPAWN_DELAY_S = 1.0


class ProcessMqttSource:
    """:class:`~ingest.mqtt.MqttSource`'s interface, with the client in a spawned child.

    Thread-safety as there: :meth:`ack`, :meth:`publish` and :meth:`get_batch` may be called
    from any thread.
    """

    def __init__(
        self,
        settings: MqttSettings,
        topic_filters: Sequence[str] | None = None,
        *,
        batch_max: int = 2000,
    ) -> None:
        self.settings = settings
        self.topic_filters = tuple(topic_filters or (subscription(settings.topic_prefix),))
        self.batch_max = batch_max
        self.connected = threading.Event()
        """Set while the child is subscribed (ready to receive)."""
        self.connects = 0
        self.last_error: str | None = None
        self.restarts = 0
        self._earlier_connects = 0  # connections made by the children before this one
        self._batches: queue.SimpleQueue[list[RawMessage]] = queue.SimpleQueue()
        self._queued = 0
        self._held: list[RawMessage] | None = None  # taken off the queue, next in line
        self._incarnation = 0
        self._commands: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._send_lock = threading.Lock()
        self._stopping = False

    def start(self) -> None:
        self._spawn()

    def stop(self) -> None:
        """Let the child send the acks it was given, disconnect and exit."""
        self._stopping = True
        self._command(("stop",))
        if self._process is not None:
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self.connected.clear()

    def get_batch(self, max_items: int, timeout_s: float) -> list[RawMessage]:
        """What the child has sent: the first batch to come within ``timeout_s`` and those
        queued behind it, as long as they fit in ``max_items`` (the child sends small batches
        while it keeps up; one big batch here spares the loop per-batch costs)."""
        batch = self._held
        self._held = None
        if batch is None:
            try:
                batch = self._batches.get(timeout=timeout_s)
            except queue.Empty:
                return []
        while True:
            if self._held is None:
                try:
                    self._held = self._batches.get_nowait()
                except queue.Empty:
                    break
            if len(batch) + len(self._held) > max_items:
                break
            batch.extend(self._held)
            self._held = None
        self._queued -= len(batch)
        return batch

    def queued(self) -> int:
        """Messages received from the child and not yet taken (approximate)."""
        return max(self._queued, 0)

    def ack(self, messages: Iterable[RawMessage]) -> int:
        ids = [(m.mid, m.qos, m.generation) for m in messages if m.qos > 0]
        if ids:
            self._command(("ack", ids))
        return len(ids)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self._command(("publish", topic, payload, qos))

    def _command(self, command: tuple[Any, ...]) -> None:
        with self._send_lock:
            if self._commands is None:
                return
            try:
                self._commands.send(command)
            except OSError:  # the child is gone: the reader restarts it, the broker redelivers
                pass

    def _spawn(self) -> None:
        """Start ``python -m ingest.mqtt_process`` with two pipes: not ``multiprocessing``,
        whose children import the parent's ``__main__`` again (an embedding program's)."""
        commands_in, commands_out = os.pipe()
        events_in, events_out = os.pipe()
        package_root = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        self._incarnation += 1
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "ingest.mqtt_process", str(commands_in), str(events_out)],
            pass_fds=(commands_in, events_out),
            env={**os.environ, "PYTHONPATH": path},
        )
        os.close(commands_in)  # the child holds the only read end: our death is its EOF
        os.close(events_out)
        commands = Connection(commands_out, readable=False)
        setup = (
            self.settings,
            self.topic_filters,
            self.batch_max,
            self._incarnation * _INCARNATION,
            current_logging(),
        )
        with self._send_lock:
            self._commands, self._process = commands, process
            commands.send(setup)
        events = Connection(events_in, writable=False)
        threading.Thread(
            target=self._read, args=(events, process), name="mqtt-receiver-events", daemon=True
        ).start()

    def _read(self, events: Connection, process: subprocess.Popen[bytes]) -> None:
        while True:
            try:
                kind, *body = events.recv()
            except (EOFError, OSError):
                break
            if kind == "batch":
                batch: list[RawMessage] = body[0]
                self._queued += len(batch)
                self._batches.put(batch)
            else:  # "state"
                connected, connects, self.last_error = body
                self.connects = self._earlier_connects + connects
                if connected:
                    self.connected.set()
                else:
                    self.connected.clear()
        events.close()
        process.wait()
        self.connected.clear()
        if self._stopping:
            return
        self.restarts += 1
        self._earlier_connects = self.connects
        self.last_error = "mqtt receiver process died"
        log.error("mqtt receiver process died; starting another", extra={"restarts": self.restarts})
        time.sleep(RESPAWN_DELAY_S)
        if not self._stopping:
            self._spawn()


def _child(commands: Connection, events: Connection) -> None:
    """The child: an :class:`MqttSource` whose batches go up the pipe, commands come down.

    Ctrl-C and a service manager's SIGTERM reach the whole process group; the child ignores
    them and stops when the runtime says so, after the acks the runtime sent before it (or
    when the runtime is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    settings, topic_filters, batch_max, generation_base, logging_setup = commands.recv()
    if logging_setup is not None:
        setup_logging(*logging_setup)
    source = MqttSource(settings, topic_filters, generation_base=generation_base)
    source.start()
    done = threading.Event()
    forwarder = threading.Thread(
        target=_forward, args=(source, events, batch_max, done), name="mqtt-forward"
    )
    forwarder.start()
    try:
        while True:
            command = commands.recv()
            if command[0] == "ack":
                source.ack_ids(command[1])
            elif command[0] == "publish":
                source.publish(*command[1:])
            else:  # "stop"
                break
    except (EOFError, OSError):  # the runtime is gone: stop, acknowledging nothing more
        pass
    finally:
        done.set()
        forwarder.join()
        source.stop()


def _forward(source: MqttSource, events: Connection, batch_max: int, done: threading.Event) -> None:
    state: tuple[bool, int, str | None] | None = None
    try:
        while not done.is_set():
            batch = source.get_batch(batch_max, 0.05)
            now = (source.connected.is_set(), source.connects, source.last_error)
            if now != state:
                events.send(("state", *now))
                state = now
            if batch:
                events.send(("batch", batch))
    except (BrokenPipeError, OSError):  # the runtime is gone
        done.set()


if __name__ == "__main__":
    _child(
        Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
    )
