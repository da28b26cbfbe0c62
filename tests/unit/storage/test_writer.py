"""The writer's promises that need no database: submit never blocks, errors are classified."""

from __future__ import annotations

import urllib3.exceptions
from influxdb_client.rest import ApiException as _ApiException

from yujing.broker import free_port
from yujing.config.storage import StorageSettings
from yujing.contracts import Kind, Reading
from yujing.metrics import Metrics
from yujing.pipeline import StepResult
from yujing.storage.writer import StorageWriter, _classify


def ApiException(status: int) -> _ApiException:  # noqa: N802 - reads like the class
    return _ApiException(status=status)  # type: ignore[no-untyped-call]


def test_failures_are_classified_and_only_bad_batches_are_refused() -> None:
    assert _classify(ApiException(status=400)) == ("http_400", True)
    assert _classify(ApiException(status=413)) == ("http_413", True)
    assert _classify(ApiException(status=404)) == ("http_404", False)  # bucket not there yet
    assert _classify(ApiException(status=503)) == ("http_503", False)
    assert _classify(urllib3.exceptions.NewConnectionError(None, "refused")) == (  # type: ignore[arg-type]
        "connection",
        False,
    )
    assert _classify(urllib3.exceptions.ReadTimeoutError(None, "/", "slow")) == (  # type: ignore[arg-type]
        "timeout",
        False,
    )
    assert _classify(ConnectionResetError()) == ("connection", False)
    assert _classify(RuntimeError()) == ("other", False)


def test_with_nothing_listening_every_point_is_accounted_for() -> None:
    settings = StorageSettings(
        enabled=True,
        url=f"http://127.0.0.1:{free_port()}",
        queue_max_points=1000,
        retry_base_s=0.05,
        retry_max_s=0.1,
    )
    metrics = Metrics()
    writer = StorageWriter(settings, metrics).start()
    readings = [Reading("G1", Kind.GAS, "d", 1e9 + i, i, {"ch4_pct_lel": 1.0}) for i in range(5000)]
    for i in range(0, 5000, 500):
        writer.submit(StepResult(readings=readings[i : i + 500]))
    writer.close(drain_s=0.2)
    dropped = {
        reason: metrics.registry.get_sample_value(
            "yujing_storage_points_dropped_total", {"reason": reason}
        )
        or 0.0
        for reason in ("queue_full", "shutdown")
    }
    assert dropped["queue_full"] >= 5000 - 1000 - settings.batch_size
    assert dropped["queue_full"] + dropped["shutdown"] == 5000  # every point accounted for
    assert metrics.registry.get_sample_value("yujing_storage_up") == 0
