"""MqttSource against a real mosquitto: receive and decode, reconnect after a broker restart,
persistent session, manual-ack redelivery, password login. No sleeps: wait on conditions."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest import (
    EXAMPLES,
    DeadLetter,
    DeadLetterFile,
    Decoder,
    MqttSource,
    Protocol,
    RawMessage,
)
from tests.support.services import wait_for
from tests.unit.ingest.helpers import NOW, REPO, STATIONS
from yujing.broker import Broker, free_port, start_mosquitto
from yujing.config import Registry, load_quantities
from yujing.config.settings import MqttSettings
from yujing.contracts import Kind, PayloadRejected, RejectReason

RAIN_TOPIC = EXAMPLES[Kind.RAIN][0]


def rain(seq: int) -> bytes:
    body = {"station": "HD-R01", "ts": 1_784_613_900_000 + seq, "seq": seq,
            "values": {"rain_mm": 0.5}}  # fmt: skip
    return json.dumps(body).encode()


@pytest.fixture
def decoder() -> Decoder:
    limits = load_quantities(REPO / "configs" / "quantities.yaml")
    return Decoder(Registry.from_specs(STATIONS), limits)


@dataclass
class RestartableBroker:
    """The fixture's mosquitto, restartable on the same port and persistent data dir."""

    current: Broker
    data_dir: Path

    @property
    def host(self) -> str:
        return self.current.host

    @property
    def port(self) -> int:
        return self.current.port

    @property
    def url(self) -> str:
        return self.current.url

    def restart(self) -> None:
        """Stop (mosquitto saves its sessions on SIGTERM) and start anew on the same dir."""
        self.current.stop()
        self.current = start_mosquitto(self.host, self.port, self.data_dir)


@pytest.fixture
def broker(mosquitto: Broker) -> Iterator[RestartableBroker]:
    assert mosquitto.log_path is not None  # the fixture keeps config, db and log in one dir
    restartable = RestartableBroker(mosquitto, mosquitto.log_path.parent)
    yield restartable
    restartable.current.stop()


def connect_publisher(host: str, port: int) -> paho.Client:
    """A plain paho QoS 1 publisher that rides out broker restarts."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.reconnect_delay_set(1, 1)
    client.connect(host, port)
    client.loop_start()
    return client


@pytest.fixture
def publisher(broker: RestartableBroker) -> Iterator[paho.Client]:
    client = connect_publisher(broker.host, broker.port)
    yield client
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def sources() -> Iterator[list[MqttSource]]:
    """Sources the test started; stopped at the end, whatever happened."""
    started: list[MqttSource] = []
    yield started
    for source in started:
        source.stop()


def start_source(
    sources: list[MqttSource],
    url: str,
    client_id: str,
    protocol: Protocol,
    username: str | None = None,
    password_file: Path | None = None,
) -> MqttSource:
    settings = MqttSettings(
        url=url, client_id=client_id, username=username, password_file=password_file
    )
    source = MqttSource(settings, protocol=protocol, reconnect_min_s=1, reconnect_max_s=1)
    sources.append(source)
    source.start()
    wait_for(source.connected.is_set, timeout_s=10)
    return source


def publish(client: paho.Client, topic: str, payload: bytes) -> None:
    """QoS 1 publish, returning once the broker has acknowledged (taken charge of) it."""
    info = client.publish(topic, payload, qos=1)
    deadline = time.monotonic() + 10
    while not info.is_published():
        assert time.monotonic() < deadline, "broker did not acknowledge the publish"
        info.wait_for_publish(timeout=0.5)


def take(source: MqttSource, count: int, timeout_s: float = 10.0) -> list[RawMessage]:
    """Exactly the next ``count`` messages (fails after ``timeout_s``)."""
    got: list[RawMessage] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count:
        assert time.monotonic() < deadline, f"received {len(got)} of {count} messages"
        got.extend(source.get_batch(count - len(got), timeout_s=0.2))
    return got


def test_receives_and_decodes_every_kind(
    mosquitto: Broker, sources: list[MqttSource], decoder: Decoder, tmp_path: Path
) -> None:
    source = start_source(sources, mosquitto.url, "ingest-kinds", Protocol.V311)
    publisher = connect_publisher(mosquitto.host, mosquitto.port)
    for topic, body in EXAMPLES.values():
        publish(publisher, topic, json.dumps(body).encode())
    publish(publisher, RAIN_TOPIC, b"{not json")
    publisher.disconnect()
    publisher.loop_stop()
    raw = take(source, len(EXAMPLES) + 1)
    assert [m.topic for m in raw] == [topic for topic, _ in EXAMPLES.values()] + [RAIN_TOPIC]
    assert all(m.qos == 1 and m.received > 0 for m in raw)

    readings, letters = [], []
    for message in raw:
        try:
            readings.append(decoder.decode(message.topic, message.payload, NOW, message.received))
        except PayloadRejected as exc:
            letters.append(DeadLetter.of(exc, message.topic, message.payload, message.received))
    assert [r.kind for r in readings] == list(EXAMPLES)
    assert [letter.reason for letter in letters] == [RejectReason.MALFORMED]
    with DeadLetterFile(tmp_path / "dead.jsonl") as dead:
        dead.write_many(letters)
    assert json.loads((tmp_path / "dead.jsonl").read_text())["payload"] == "{not json"
    assert source.ack(raw) == len(raw)


@pytest.mark.parametrize("protocol", list(Protocol))
def test_reconnects_after_broker_restart_and_redelivers_unacked(
    broker: RestartableBroker,
    publisher: paho.Client,
    sources: list[MqttSource],
    protocol: Protocol,
) -> None:
    client_id = f"ingest-restart-{protocol.name}"
    source = start_source(sources, broker.url, client_id, protocol)
    publish(publisher, RAIN_TOPIC, rain(1))
    (first,) = take(source, 1)  # processed, but the "runtime" never acks it

    broker.restart()
    wait_for(lambda: source.connects == 2 and source.connected.is_set(), timeout_s=15)
    (again,) = take(source, 1)  # the broker kept it in the session across its restart
    assert (again.topic, again.payload) == (first.topic, first.payload)
    assert source.ack([first]) == 0  # its packet id belongs to the old connection
    assert source.ack([again]) == 1

    publish(publisher, RAIN_TOPIC, rain(2))
    (second,) = take(source, 1)
    assert second.payload == rain(2)
    assert source.ack([second]) == 1

    source.stop()  # everything acked: a new consumer gets only new messages
    fresh = start_source(sources, broker.url, client_id, protocol)
    publish(publisher, RAIN_TOPIC, rain(3))
    assert [m.payload for m in take(fresh, 1)] == [rain(3)]


@pytest.mark.parametrize("protocol", list(Protocol))
def test_persistent_session_keeps_what_was_published_while_away(
    broker: RestartableBroker,
    publisher: paho.Client,
    sources: list[MqttSource],
    decoder: Decoder,
    protocol: Protocol,
) -> None:
    client_id = f"ingest-away-{protocol.name}"
    crashed = start_source(sources, broker.url, client_id, protocol)
    publish(publisher, RAIN_TOPIC, rain(1))
    (seen,) = take(crashed, 1)
    decoder.decode(seen.topic, seen.payload, NOW)  # processed, then "crash" before the ack
    crashed.stop()

    for seq in (2, 3):  # nobody is subscribed right now: the session queues them
        publish(publisher, RAIN_TOPIC, rain(seq))
    broker.restart()
    revived = start_source(sources, broker.url, client_id, protocol)
    raw = take(revived, 3)
    assert [m.payload for m in raw] == [rain(1), rain(2), rain(3)]
    outcomes: list[int | str] = []
    for message in raw:
        try:
            outcomes.append(decoder.decode(message.topic, message.payload, NOW).seq)
        except PayloadRejected as exc:
            outcomes.append(exc.reason.value)
    assert outcomes == ["duplicate", 2, 3]  # the redelivered one is dropped, not re-applied
    assert revived.ack(raw) == 3


def test_password_login(sources: list[MqttSource], tmp_path: Path) -> None:
    passwd = shutil.which("mosquitto_passwd")
    if passwd is None:
        pytest.fail("mosquitto_passwd is not installed: run scripts/test, which installs it")
    hashed = tmp_path / "passwd"
    subprocess.run([passwd, "-b", "-c", str(hashed), "ingest", "s3cret"], check=True)  # noqa: S603
    secret = tmp_path / "mqtt-password"
    secret.write_text("s3cret\n")
    broker = start_mosquitto(
        "127.0.0.1",
        free_port(),
        tmp_path / "broker",
        extra_conf=f"allow_anonymous false\npassword_file {hashed}\n",
    )
    try:
        source = start_source(
            sources, broker.url, "ingest-auth", Protocol.V5,
            username="ingest", password_file=secret,
        )  # fmt: skip
        assert source.connected.is_set() and source.last_error is None
        (tmp_path / "wrong").write_text("guess\n")
        settings = MqttSettings(
            url=broker.url, client_id="ingest-auth-wrong", username="ingest",
            password_file=tmp_path / "wrong",
        )  # fmt: skip
        refused = MqttSource(settings, reconnect_min_s=1, reconnect_max_s=1)
        sources.append(refused)
        refused.start()
        wait_for(lambda: refused.last_error is not None, timeout_s=10)
        assert refused.last_error == "connect refused: Not authorized"
        assert not refused.connected.is_set()
    finally:
        for started in sources:
            started.stop()
        sources.clear()
        broker.stop()
