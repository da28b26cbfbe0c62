"""The embedded runtime with storage on: real mosquitto, a real webhook receiver and a real
VictoriaMetrics. Alerts go out while the database is gone; the data follows when it is back."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.runtime import Sender, running, write_settings
from tests.support.services import HttpReceiver, wait_for
from tests.support.streams import FAMILIES, every_family, ms
from tests.support.tsdb import VictoriaMetrics
from yujing.broker import Broker
from yujing.runtime import EmbeddedRuntime


def notices_emitted(runtime: EmbeddedRuntime) -> int:
    """Every alert transition the runtime emitted (the writer sees each once)."""
    registry = runtime.metrics.registry
    return int(
        sum(
            s.value
            for metric in registry.collect()
            if metric.name == "yujing_notices"
            for s in metric.samples
            if s.name == "yujing_notices_total"
        )
    )


def test_runtime_writes_to_storage_and_alerts_through_its_outage(
    tmp_path: Path, mosquitto: Broker, http_receiver: HttpReceiver
) -> None:
    vm = VictoriaMetrics(tmp_path / "vm").start()
    try:
        settings = write_settings(
            tmp_path / "rt",
            broker_url=mosquitto.url,
            stations=FAMILIES,
            webhook_urls=[http_receiver.url],
            extra={
                "storage": {
                    "enabled": True,
                    "url": vm.url,
                    "flush_interval_s": 0.1,
                    "timeout_s": 1.0,
                    "retry_base_s": 0.05,
                    "retry_max_s": 0.3,
                }
            },
        )
        with running(settings) as rt:
            sender = Sender(mosquitto.host, mosquitto.port)
            now = time.time()
            storm = every_family(now)
            for message in storm:
                sender.raw(message.topic, message.payload)
            wait_for(lambda: vm.count("reading_seq") == len(storm), 20, 0.1)
            wait_for(lambda: vm.count("alert_version") == notices_emitted(rt.runtime), 20, 0.1)
            assert rt.metric("yujing_storage_up") == 1
            assert vm.count("station_lat") >= len(FAMILIES)
            assert vm.count("threshold_enter") > 0

            vm.stop()  # the database goes away; a gas leak starts elsewhere
            delivered = len(http_receiver.bodies())
            for seq, pct in enumerate([20.0, 60.0], start=10):
                body = {
                    "station": "G1",
                    "ts": ms(now - 100 + seq),
                    "seq": seq,
                    "values": {"ch4_pct_lel": pct},
                }
                sender.reading("d2", "gas", "G1", body)

            def red_at_g1() -> bool:
                return any(
                    b["grade"] == "red" and b["area"] == "G1" for b in http_receiver.bodies()
                )

            wait_for(red_at_g1, 20)
            wait_for(lambda: rt.metric("yujing_storage_up") == 0, 10)
            assert rt.metric("yujing_storage_write_errors_total", error="connection") >= 1
            assert rt.metric("yujing_queue_depth", queue="storage") > 0

            vm.start()  # back on the same port and data: the queued points follow
            wait_for(lambda: vm.count("reading_seq") == len(storm) + 2, 20, 0.1)
            assert len(http_receiver.bodies()) > delivered
            wait_for(lambda: vm.count("alert_version") == notices_emitted(rt.runtime), 20, 0.1)
            assert rt.metric("yujing_storage_points_dropped_total", reason="queue_full") == 0
            sender.close()
    finally:
        vm.stop()
