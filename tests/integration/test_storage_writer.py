"""The storage writer against a real VictoriaMetrics (InfluxDB v2 write API): our schema arrives
intact; when the database hangs or dies mid-stream the pipeline keeps its pace and its exact
output, drops are counted exactly, and the backlog arrives once the database is back."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import wait_for
from tests.support.streams import (
    FAMILIES,
    build_pipeline,
    every_family,
    gas_batches,
    gas_stations,
    parts,
    registry_file,
)
from tests.support.tsdb import VictoriaMetrics
from yujing.config.storage import StorageSettings
from yujing.contracts import Notice
from yujing.metrics import Metrics
from yujing.storage import StorageWriter, finding_line, notice_line, reading_line

_SERIES = re.compile(r"^((?:[^ \\]|\\.)*) .* (\d+)$")


def unique_points(lines: list[str | None]) -> int:
    """Points as a database counts them: one per (series, timestamp)."""
    keys = set()
    for line in lines:
        if line is not None:
            match = _SERIES.match(line)
            assert match, line
            keys.add((match.group(1), match.group(2)))
    return len(keys)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def settings_for(vm: VictoriaMetrics, **overrides: float) -> StorageSettings:
    values: dict[str, float | str | bool] = {
        "enabled": True,
        "url": vm.url,
        "batch_size": 2000,
        "flush_interval_s": 0.1,
        "timeout_s": 0.5,
        "retry_base_s": 0.05,
        "retry_max_s": 0.5,
        "station_every_s": 3600,
    }
    values.update(overrides)
    return StorageSettings.model_validate(values)


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    vm = VictoriaMetrics(tmp_path / "vm").start()
    yield vm
    vm.stop()


def test_every_measurement_arrives_in_our_schema(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    path = registry_file(tmp_path / "cfg", FAMILIES)
    registry, ladders = parts(path)
    metrics = Metrics()
    pipeline = build_pipeline(path)
    writer = StorageWriter(
        settings_for(victoria), metrics, registry=registry, ladders=ladders
    ).start()
    now = time.time()
    result = pipeline.process(every_family(now), now)
    writer.submit(result)
    writer.close(drain_s=10)

    assert sample(metrics, "yujing_storage_up") == 1
    assert victoria.count("reading_seq") == len(result.readings)
    assert victoria.count("derived_grade_rank") == len(result.findings)
    assert victoria.count("alert_version") == len(result.notices)
    assert victoria.count("station_lat") >= len(FAMILIES)  # at start and after each notice
    assert victoria.count("threshold_enter") > 0
    # tags became labels; the seismic packet carries its peak
    levels = victoria.export("reading_level_m")
    assert levels[0]["metric"] == {
        "__name__": "reading_level_m",
        "station": "W1",
        "kind": "water_level",
        "district": "d1",
    }
    peaks = victoria.export("reading_peak_ms2")
    assert max(max(series["values"]) for series in peaks) == pytest.approx(2.0)
    totals = victoria.export("derived_rain_3h_mm")
    assert max(max(series["values"]) for series in totals) == pytest.approx(102.0)
    red = [s for s in victoria.export("station_grade_rank") if s["metric"]["station"] == "S1"]
    assert red and red[0]["values"][-1] == 4  # the map's colour for the quake station
    assert sample(metrics, "yujing_storage_points_written_total", measurement="alert") == len(
        result.notices
    )


def test_outage_mid_stream_neither_slows_nor_changes_alerting(
    tmp_path: Path, victoria: VictoriaMetrics
) -> None:
    stations = gas_stations(200)
    path = registry_file(tmp_path / "cfg", stations)
    registry, _ = parts(path)
    start = time.time() - 3000.0
    rounds = 60  # per phase; 200 stations → 12,000 readings per phase
    phases = ["up", "hung", "down", "back"]
    batches = list(gas_batches(stations, rounds * len(phases), start))

    # reference: the same stream through a pipeline with no writer at all
    reference = build_pipeline(path)
    ref_notices: list[Notice] = []
    ref_batch_s = []
    for batch in batches:
        t0 = time.perf_counter()
        ref_notices.extend(reference.process(batch, time.time()).notices)
        ref_batch_s.append(time.perf_counter() - t0)

    metrics = Metrics()
    pipeline = build_pipeline(path, metrics)
    writer = StorageWriter(settings_for(victoria), metrics, registry=registry).start()
    notices: list[Notice] = []
    lines: dict[str, list[str | None]] = {"reading": [], "derived": [], "alert": []}
    batch_s: dict[str, float] = {}  # median wall time of process + submit, per phase
    batch_cpu_s: dict[str, float] = {}  # median CPU time of this thread for the same
    submit_s: dict[str, float] = {}  # median wall time of submit alone
    submit_max_s: dict[str, float] = {}
    for p, phase in enumerate(phases):
        if phase == "hung":
            victoria.pause()  # accepts connections, never answers
        elif phase == "down":
            victoria.resume()
            victoria.stop()  # connection refused
        elif phase == "back":
            victoria.start()
            back_at, written_before = time.monotonic(), writer.written
        spent, cpu, submitting = [], [], []
        for batch in batches[p * rounds : (p + 1) * rounds]:
            t0, c0 = time.perf_counter(), time.thread_time()
            result = pipeline.process(batch, time.time())
            t1 = time.perf_counter()
            writer.submit(result)  # what the embedded runtime does after each batch
            t2, c2 = time.perf_counter(), time.thread_time()
            spent.append(t2 - t0)
            cpu.append(c2 - c0)
            submitting.append(t2 - t1)
            notices.extend(result.notices)
            lines["reading"].extend(map(reading_line, result.readings))
            lines["derived"].extend(map(finding_line, result.findings))
            lines["alert"].extend(notice_line(n) for n in result.notices)
        batch_s[phase] = statistics.median(spent)
        batch_cpu_s[phase] = statistics.median(cpu)
        submit_s[phase] = statistics.median(submitting)
        submit_max_s[phase] = max(submitting)
        if phase == "hung":
            wait_for(lambda: sample(metrics, "yujing_storage_write_errors_total", error="timeout"))
            assert sample(metrics, "yujing_storage_up") == 0
        if phase == "down":
            wait_for(
                lambda: sample(metrics, "yujing_storage_write_errors_total", error="connection")
            )
            assert sample(metrics, "yujing_storage_up") == 0
            backlog = sample(metrics, "yujing_queue_depth", queue="storage")
            assert backlog > rounds * len(stations)  # two phases' readings wait in the queue

    # detection and alerting were untouched: the same notices, in the same order
    assert [(n.key, n.version, n.reason) for n in notices] == [
        (n.key, n.version, n.reason) for n in ref_notices
    ]
    assert len(notices) > 4 * 50  # alerts kept coming in every phase
    # Full speed while the database hung or was gone: the pipeline did no more work per batch
    # than while it was up (its own CPU time, which other load on the machine does not skew),
    # and submit() never waited for the database: its slowest call stays far below one write
    # timeout (what a blocking submit would take against the hung server) and its median is a
    # small share of a batch. Wall-clock batch times are printed, not asserted.
    timeout_s = writer.settings.timeout_s
    for phase in ("hung", "down"):  # medians of 60 batches vary ~15 % on a busy 2-core box
        assert batch_cpu_s[phase] <= 1.5 * batch_cpu_s["up"], batch_cpu_s
    for phase in phases:
        assert submit_s[phase] <= 0.1 * batch_s[phase], (phase, submit_s, batch_s)
        assert submit_max_s[phase] <= 0.5 * timeout_s, submit_max_s

    # catch-up: everything arrives, nothing was dropped
    expected = {m: unique_points(v) for m, v in lines.items()}
    wait_for(lambda: victoria.count("reading_seq") == expected["reading"], 60, 0.2)
    caught_up_s = time.monotonic() - back_at
    assert victoria.count("derived_grade_rank") == expected["derived"]
    assert victoria.count("alert_version") == expected["alert"]
    assert sample(metrics, "yujing_storage_up") == 1
    dropped = sum(
        sample(metrics, "yujing_storage_points_dropped_total", reason=r)
        for r in ("queue_full", "rejected", "invalid", "shutdown")
    )
    assert dropped == 0
    rate = (writer.written - written_before) / caught_up_s
    writer.close(drain_s=5)
    per_s = {phase: round(len(stations) / t) for phase, t in batch_s.items()}
    print(
        f"\nstorage outage: readings/s by phase {per_s} "
        f"(no writer: {round(len(stations) / statistics.median(ref_batch_s))}); "
        f"median submit { ({k: f'{v * 1e3:.2f} ms' for k, v in submit_s.items()}) } "
        f"(max { ({k: f'{v * 1e3:.1f} ms' for k, v in submit_max_s.items()}) }), "
        f"pipeline CPU per batch { ({k: f'{v * 1e3:.1f} ms' for k, v in batch_cpu_s.items()}) } "
        f"of a {statistics.median(ref_batch_s) * 1e3:.1f} ms batch; backlog written "
        f"{caught_up_s:.2f} s after restart at {rate:.0f} points/s while the pipeline ran"
    )


def test_a_full_queue_drops_oldest_counts_exactly_and_keeps_alerts(
    tmp_path: Path, victoria: VictoriaMetrics
) -> None:
    stations = gas_stations(100)
    path = registry_file(tmp_path / "cfg", stations)
    registry, _ = parts(path)
    metrics = Metrics()
    pipeline = build_pipeline(path, metrics)
    writer = StorageWriter(
        settings_for(victoria, queue_max_points=3000), metrics, registry=registry
    ).start()
    wait_for(lambda: victoria.count("station_lat") == len(stations))  # first heartbeat written
    victoria.stop()
    readings = findings = 0
    alert_lines: list[str | None] = []
    for batch in gas_batches(stations, 120, time.time() - 3000.0):
        result = pipeline.process(batch, time.time())
        writer.submit(result)
        readings += len(result.readings)
        findings += len(result.findings)
        alert_lines.extend(notice_line(n) for n in result.notices)
    dropped = sample(metrics, "yujing_storage_points_dropped_total", reason="queue_full")
    # held back: at most the queue's bound plus the one batch being retried
    assert dropped >= readings + findings - 3000 - 2000
    victoria.start()
    wait_for(
        lambda: (
            victoria.count("reading_seq") + victoria.count("derived_grade_rank") + dropped
            == readings + findings
        ),
        30,
        0.2,
    )
    assert victoria.count("alert_version") == unique_points(alert_lines)  # alerts kept
    # the newest readings survived (drop-oldest): the last round is all there
    newest = victoria.export("reading_seq")
    assert sum(1 for s in newest if 119 in s["values"]) == len(stations)
    writer.close(drain_s=5)
