"""The demo path end to end: simulator → real mosquitto → embedded runtime → real webhook
receiver, on the shipped demo district and scenario, accelerated."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from simulators import Publisher, SensorSimulator, demo_scenario
from tests.support.runtime import RunningRuntime
from tests.support.services import HttpReceiver, wait_for
from yujing.broker import Broker, free_port
from yujing.clock import ScaledClock
from yujing.config import load_settings
from yujing.runtime import load_parts

REPO = Path(__file__).resolve().parents[2]
NEAR = {"HD-SM-007", "HD-SM-004", "HD-SM-008"}  # the three stations nearest the epicentre
SPEED = 10.0  # the demo speed: the quake (sim t = 300 s) arrives 30 s after start


def graded(receiver: HttpReceiver, hazard: str, grade: str) -> list[dict[str, Any]]:
    return [b for b in receiver.bodies() if b["hazard"] == hazard and b["grade"] == grade]


def test_simulated_district_reaches_the_webhook(
    tmp_path: Path, mosquitto: Broker, http_receiver: HttpReceiver, monkeypatch: Any
) -> None:
    monkeypatch.setenv("YUJING_MQTT__URL", mosquitto.url)
    monkeypatch.setenv("YUJING_MQTT__START_BROKER", "never")
    monkeypatch.setenv("YUJING_METRICS__PORT", str(free_port()))
    monkeypatch.setenv("YUJING_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("YUJING_INGEST__DEAD_LETTER_PATH", str(tmp_path / "dead.jsonl"))
    monkeypatch.setenv("YUJING_NOTIFY__CONSOLE", "false")
    monkeypatch.setenv(
        "YUJING_NOTIFY__WEBHOOKS", f'[{{"name": "duty", "url": "{http_receiver.url}"}}]'
    )
    settings = load_settings(REPO / "configs" / "demo" / "yujing.yaml")
    parts = load_parts(settings)
    clock = ScaledClock(origin=time.time(), speed=SPEED)
    runtime = RunningRuntime(settings, parts=parts, clock=clock).start()
    simulator = SensorSimulator(parts.registry, demo_scenario(), seed=7, start=clock.origin)
    publisher = Publisher(mosquitto.url, simulator, clock, client_id="e2e-sim").start()
    try:
        gas = wait_for(lambda: graded(http_receiver, "gas_leak", "blue"), 60)
        quake = wait_for(
            lambda: [
                b for b in graded(http_receiver, "earthquake", "red") if set(b["stations"]) & NEAR
            ],
            90,
        )
    finally:
        publisher.stop()
        runtime.stop()
    # the network declared the event red too (earthquake/event for the district)
    assert any(b["rule"] == "event" for b in graded(http_receiver, "earthquake", "red"))
    assert "CY-GS-006" in {s for body in gas for s in body["stations"]}  # the leak's station
    # every delivered notice carries its idempotency key, no key twice
    keys = [r.headers["Idempotency-Key"] for r in http_receiver.requests]
    assert len(keys) == len(set(keys))
    # the quake's red notice left within seconds of the waves reaching the station
    first_red = min(quake, key=lambda b: b["ts"])
    assert first_red["source_ts"] is not None
