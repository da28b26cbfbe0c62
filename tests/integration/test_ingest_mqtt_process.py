"""The MQTT client in a child process (ingest/mqtt_process.py) against a real mosquitto.

What the runtime relies on: batches arrive, nothing is acknowledged that was not handed to
``ack``, a dead child is replaced and what it had not acknowledged comes again, and the child
never outlives the process that started it (it would hold the session's client id).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest import RawMessage
from ingest.mqtt_process import ProcessMqttSource
from tests.integration.test_ingest_mqtt import RAIN_TOPIC, connect_publisher, publish, rain
from tests.support.services import wait_for
from yujing.broker import Broker
from yujing.config.settings import MqttSettings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sources() -> Iterator[list[ProcessMqttSource]]:
    started: list[ProcessMqttSource] = []
    yield started
    for source in started:
        source.stop()


def start(sources: list[ProcessMqttSource], broker: Broker, client_id: str) -> ProcessMqttSource:
    source = ProcessMqttSource(MqttSettings(url=broker.url, client_id=client_id), batch_max=50)
    sources.append(source)
    source.start()
    wait_for(source.connected.is_set, timeout_s=20)
    return source


def take(source: ProcessMqttSource, count: int, timeout_s: float = 15.0) -> list[RawMessage]:
    got: list[RawMessage] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count:
        assert time.monotonic() < deadline, f"received {len(got)} of {count} messages"
        got.extend(source.get_batch(count, 0.2))
    return got


def run_source(url: str, client_id: str, then: str, **popen: Any) -> subprocess.Popen[str]:
    """A Python process that starts a ProcessMqttSource, waits until it is subscribed, then
    runs ``then`` (with ``s`` the source)."""
    script = (
        "import time\n"
        "from ingest.mqtt_process import ProcessMqttSource\n"
        "from yujing.config.settings import MqttSettings\n"
        f"s = ProcessMqttSource(MqttSettings(url={url!r}, client_id={client_id!r}))\n"
        "s.start()\n"
        "while not s.connected.wait(0.1): pass\n"
    ) + then
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
        **popen,
    )


def nothing_more(source: ProcessMqttSource) -> bool:
    return source.get_batch(10, 1.0) == []


def test_batches_in_order_and_acked_ones_never_come_again(
    mosquitto: Broker, sources: list[ProcessMqttSource]
) -> None:
    source = start(sources, mosquitto, "process-acks")
    publisher = connect_publisher(mosquitto.host, mosquitto.port)
    for seq in range(120):
        publish(publisher, RAIN_TOPIC, rain(seq))
    got = take(source, 120)
    assert [m.payload for m in got] == [rain(seq) for seq in range(120)]
    assert all(m.topic == RAIN_TOPIC and m.qos == 1 for m in got)
    source.ack(got[:100])  # the last 20 "crash" unprocessed
    source.stop()

    again = start(sources, mosquitto, "process-acks")
    assert [m.payload for m in take(again, 20)] == [rain(seq) for seq in range(100, 120)]
    assert nothing_more(again)
    publisher.disconnect()


def test_a_killed_child_is_replaced_and_its_unacked_messages_come_again(
    mosquitto: Broker, sources: list[ProcessMqttSource]
) -> None:
    source = start(sources, mosquitto, "process-killed")
    publisher = connect_publisher(mosquitto.host, mosquitto.port)
    publish(publisher, RAIN_TOPIC, rain(1))
    (first,) = take(source, 1)
    assert source._process is not None
    os.kill(source._process.pid, signal.SIGKILL)
    wait_for(lambda: source.restarts == 1 and source.connected.is_set(), timeout_s=20)
    (again,) = take(source, 1)  # never acknowledged: the broker sends it again
    assert again.payload == first.payload
    source.ack([first])  # from the dead child's connection: skipped, not a wrong packet id
    source.ack([again])
    publish(publisher, RAIN_TOPIC, rain(2))
    (second,) = take(source, 1)
    source.ack([second])
    source.stop()

    fresh = start(sources, mosquitto, "process-killed")
    assert nothing_more(fresh)  # everything acknowledged exactly once reached the broker
    publisher.disconnect()


def test_the_child_exits_when_its_parent_is_killed(mosquitto: Broker, tmp_path: Path) -> None:
    then = "print(s._process.pid, flush=True)\ntime.sleep(60)\n"
    parent = run_source(mosquitto.url, "orphan", then)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait(10)

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{child}/stat") as stat:  # reaped by init later: a zombie is gone
            return stat.read().split(") ")[1].startswith("Z")

    wait_for(gone, timeout_s=10)


def test_ctrl_c_stops_the_runtime_not_its_child_first(mosquitto: Broker) -> None:
    """Ctrl-C goes to the whole process group: the child waits for the runtime's stop."""
    then = (
        "try:\n"
        "    print('ready', flush=True)\n"  # inside: Ctrl-C may come right after it
        "    time.sleep(60)\n"
        "except KeyboardInterrupt:\n"
        "    s.stop()\n"
        "    print('stopped', s._process.returncode, flush=True)\n"
    )
    group = run_source(
        mosquitto.url, "ctrl-c", then, stderr=subprocess.PIPE, start_new_session=True
    )
    assert group.stdout is not None
    assert group.stdout.readline().strip() == "ready"
    os.killpg(group.pid, signal.SIGINT)
    out, err = group.communicate(timeout=20)
    assert out.strip() == "stopped 0"  # the child exited on the stop command, cleanly
    assert "Traceback" not in err
