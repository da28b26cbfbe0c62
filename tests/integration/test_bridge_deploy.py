"""The deployed broker configuration (deploy/mosquitto) on a real mosquitto, started through the
deploy entrypoint (which writes the password file from the secrets), with the real bridge logged
in as ``yujing-bridge``: a station may publish only under its own id, anonymous clients are
refused on the station listener, and the internal listener takes the simulator's readings."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.integration.test_bridge_mqtt import CLIENT, STATIONS, bridge_running, until
from tests.support.runtime import write_settings
from yujing.broker import free_port, port_answers
from yujing.config import load_settings
from yujing.runtime.kafka import MemoryLog

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "mosquitto"


@pytest.fixture
def deployed_broker(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """mosquitto from deploy/mosquitto (ports and paths moved), via deploy's entrypoint.sh."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "mqtt_bridge_password").write_text("bridge-secret\n")
    (secrets / "mqtt_stations").write_text("# id:password\nR1:r1-secret\nG1:g1-secret\n")
    stations, internal = free_port(), free_port()
    conf = (DEPLOY / "mosquitto.conf").read_text()
    conf = conf.replace("listener 1883\n", f"listener {stations} 127.0.0.1\n")
    conf = conf.replace("listener 1884\n", f"listener {internal} 127.0.0.1\n")
    conf = conf.replace("/mosquitto/data/", f"{tmp_path}/data/")
    conf = conf.replace("/mosquitto/config/", f"{DEPLOY}/")
    conf = conf.replace("log_dest stdout", f"log_dest file {tmp_path}/mosquitto.log")
    if os.geteuid() == 0:  # as root mosquitto drops to user "mosquitto", who cannot read tmp_path
        conf = "user root\n" + conf
    (tmp_path / "mosquitto.conf").write_text(conf)
    env = {
        **os.environ,
        "SECRETS_DIR": str(secrets),
        "PASSWD_FILE": str(tmp_path / "data" / "passwd"),
        "MOSQUITTO_CONF": str(tmp_path / "mosquitto.conf"),
    }
    process = subprocess.Popen(["sh", str(DEPLOY / "entrypoint.sh")], env=env)
    try:
        deadline = time.monotonic() + 10
        while not (
            port_answers("127.0.0.1", stations, 0.2) and port_answers("127.0.0.1", internal, 0.2)
        ):
            assert process.poll() is None, (tmp_path / "mosquitto.log").read_text()
            assert time.monotonic() < deadline, "deployed mosquitto did not listen"
            time.sleep(0.05)
        yield stations, internal, secrets
    finally:
        process.terminate()
        process.wait(10)


def client(port: int, user: str | None = None, password: str | None = None) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{user or 'anon'}-{port}")
    if user is not None:
        c.username_pw_set(user, password)
    return c


def connect_reason(port: int, user: str | None = None, password: str | None = None) -> Any:
    """The broker's answer to a connection attempt (CONNACK reason)."""
    answered = threading.Event()
    reasons: list[Any] = []

    def on_connect(c: mqtt.Client, data: Any, flags: Any, reason: Any, props: Any) -> None:
        reasons.append(reason)
        answered.set()

    c = client(port, user, password)
    c.on_connect = on_connect
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        assert answered.wait(5), "no CONNACK"
    finally:
        c.loop_stop()
        c.disconnect()
    return reasons[0]


def reading(station: str, seq: int) -> bytes:
    values = {"rain_mm": 0.5} if station == "R1" else {"ch4_pct_lel": 2.0}
    body = {"station": station, "ts": int(time.time() * 1000), "seq": seq, "values": values}
    return json.dumps(body).encode()


def test_stations_publish_only_their_own_topic_and_the_bridge_logs_in(
    tmp_path: Path, deployed_broker: tuple[int, int, Path]
) -> None:
    stations_port, internal_port, secrets = deployed_broker
    extra = {
        "mqtt": {
            "client_id": CLIENT,
            "username": "yujing-bridge",
            "password_file": str(secrets / "mqtt_bridge_password"),
        }
    }
    path = write_settings(
        tmp_path / "bridge", broker_url=f"mqtt://127.0.0.1:{stations_port}",
        stations=STATIONS, extra=extra,
    )  # fmt: skip
    settings = load_settings(path)

    health = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["mosquitto"]
    probe = health["healthcheck"]["test"][1].replace("$$", "$").replace("1884", str(internal_port))
    assert subprocess.run(["sh", "-c", probe], timeout=10).returncode == 0  # compose's probe
    assert connect_reason(stations_port).is_failure  # no anonymous clients on 1883
    assert connect_reason(stations_port, "R1", "wrong").is_failure
    assert not connect_reason(stations_port, "R1", "r1-secret").is_failure

    station = client(stations_port, "R1", "r1-secret")
    station.connect("127.0.0.1", stations_port)
    station.loop_start()
    simulator = client(internal_port)
    simulator.connect("127.0.0.1", internal_port)
    simulator.loop_start()

    async def main() -> MemoryLog:
        log = MemoryLog()
        async with bridge_running(settings, log) as bridge:

            def send(c: mqtt.Client, topic: str, payload: bytes) -> None:
                c.publish(topic, payload, qos=1).wait_for_publish(5)

            await asyncio.to_thread(send, station, "yujing/v1/d1/rain/R1", reading("R1", 1))
            # R1 writing G1's topic: the broker drops it (the ACL), then R1's marker follows
            await asyncio.to_thread(send, station, "yujing/v1/d2/gas/G1", reading("G1", 1))
            await asyncio.to_thread(send, station, "yujing/v1/d1/rain/R1", reading("R1", 2))
            await asyncio.to_thread(send, simulator, "yujing/v1/d2/gas/G1", reading("G1", 7))
            await until(lambda: bridge.acked >= 3)
        return log

    try:
        log = asyncio.run(main())
    finally:
        for c in (station, simulator):
            c.loop_stop()
            c.disconnect()
    records = log.confirmed(settings.kafka.topic("readings"))
    got = [(r.key, json.loads(r.value)["seq"]) for r in records]
    assert sorted(got) == [(b"G1", 7), (b"R1", 1), (b"R1", 2)]
