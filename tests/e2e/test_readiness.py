"""``/readyz``: a runtime that is not subscribed to its broker is alive but not ready.

A reading published before the runtime's first subscription is lost to it (the broker has no
session to keep it in yet), so deployments and tests wait for ``/readyz``, not ``/healthz``;
and a probe sees a lost broker connection as not ready until the runtime is subscribed again.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.runtime import ChildRuntime, Sender, write_settings
from tests.support.services import wait_for
from yujing.broker import free_port, start_mosquitto


def test_not_ready_while_the_broker_is_away_and_ready_again_after(tmp_path: Path) -> None:
    port = free_port()
    broker = start_mosquitto("127.0.0.1", port, tmp_path / "mosquitto")
    station = {"id": "G1", "kind": "gas", "district": "d1", "lat": 40.0, "lon": 116.3}
    settings = write_settings(
        tmp_path,
        broker_url=broker.url,
        stations=[{**station, "interval_s": 60}],
        extra={"api": {"port": free_port()}},
    )
    runtime = ChildRuntime(settings, tmp_path / "runtime.log").start()  # waits for /readyz 200
    try:
        assert runtime.answers("/healthz") == 200
        assert runtime.metric("yujing_mqtt_subscribed") == 1
        broker.stop()
        wait_for(lambda: runtime.answers("/readyz") == 503, 20)
        assert runtime.answers("/healthz") == 200  # alive all along
        wait_for(lambda: runtime.metric("yujing_mqtt_subscribed") == 0, 5)
        broker = start_mosquitto("127.0.0.1", port, tmp_path / "mosquitto")
        wait_for(lambda: runtime.answers("/readyz") == 200, 30)
        sender = Sender("127.0.0.1", port)
        body = {
            "station": "G1",
            "ts": int(time.time() * 1000),
            "seq": 0,
            "values": {"ch4_pct_lel": 1.0},
        }
        sender.reading("d1", "gas", "G1", body)
        wait_for(lambda: runtime.ingested("gas") >= 1, 20)
        assert runtime.metric("yujing_mqtt_connects") == 2
        sender.close()
    finally:
        runtime.stop()
        broker.stop()
