"""Capacity of the scale-out runtime's agents on this machine, without Kafka.

Each agent runs in Faust's own test harness (``agent.test_context()``: real Faust streams,
events, memory tables and changelog records in Faust's producer buffer; checkpoints every
second, as in production); what it sends goes to an in-process
:class:`~yujing.runtime.kafka.MemoryLog`. The same records also go through the same stage
objects in a plain loop (no Faust: the baseline, i.e. what Faust's stream machinery costs), and
the readings through the embedded runtime's :class:`~yujing.pipeline.Pipeline` for reference.

Records: the demo district (224 stations) under the demo scenario, every family including
20 seismic stations at 100 Hz × 3 channels (one packet per channel and second), arrival order.

Not measured (no Kafka here): broker round trips, fetch and produce batching, compression,
changelog replication, consumer-group rebalances. The figures are the CPU ceiling of one agent
on one core; see docs/operations.md for how they turn into partition and worker counts.

    .venv/bin/python -m bench faust_agents            # the harness: bench/results/faust_agents.json
    .venv/bin/python -m bench.faust_agents            # the same figures as JSON on stdout
    .venv/bin/python -m bench.faust_agents --quick    # CI size
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Figure, Options, Result, summarize
from simulators import DEMO_REGISTRY, SensorSimulator, demo_scenario
from yujing.config import Settings
from yujing.config.settings import KafkaSettings, MetricsSettings, NotifySettings
from yujing.contracts import Finding, Grade, Hazard, PayloadRejected
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline, RawMessage
from yujing.runtime import RuntimeParts, load_parts
from yujing.runtime.faust.alerts import AlertStage
from yujing.runtime.faust.app import StreamApp, alerting_config
from yujing.runtime.faust.network import NetworkStage
from yujing.runtime.faust.records import (
    FindingBatch,
    decode_station,
    encode_delivery,
    encode_findings,
    encode_station,
    partition_for,
    reading_headers,
)
from yujing.runtime.faust.state import DictTable
from yujing.runtime.faust.stations import StationStage, stateless_decoder
from yujing.runtime.kafka import LogRecord, MemoryLog

__all__ = ["NAME", "TITLE", "measure", "run"]

NAME = "faust_agents"
TITLE = "Faust agents vs a plain loop over the same records (Faust's test harness, no Kafka)"

REPO = Path(__file__).resolve().parent.parent
START = 1_800_000_000.0
PARTITIONS = 8
CHECKPOINT_S = 1.0  # kafka.checkpoint_every_s default


def _settings(work: Path) -> Settings:
    return Settings(
        registry=DEMO_REGISTRY,
        ladders=REPO / "configs" / "ladders",
        quantities=REPO / "configs" / "quantities.yaml",
        state_dir=work,
        metrics=MetricsSettings(port=0),
        notify=NotifySettings(console=True),
        kafka=KafkaSettings(partitions=PARTITIONS, checkpoint_every_s=CHECKPOINT_S),
    )


def _readings(
    parts: RuntimeParts, settings: Settings, seconds: float
) -> list[tuple[str, bytes, float]]:
    simulator = SensorSimulator(parts.registry, demo_scenario(), seed=7, start=START)
    messages = simulator.deliveries(START + 250.0, START + 250.0 + seconds)
    decoder = stateless_decoder(parts.registry, parts.limits, settings.ingest, "yujing/v1")
    out = []
    for m in messages:
        try:
            decoder.decode(m.topic, m.payload, m.arrival, received=m.arrival)
        except PayloadRejected:
            continue
        out.append((m.topic, m.payload, m.arrival))
    return out


def _findings(count: int) -> list[FindingBatch]:
    """``count`` batches, one finding each, every one a grade change (a notice each)."""
    grades = (Grade.YELLOW, Grade.NONE, Grade.ORANGE, Grade.NONE)
    batches = []
    for i in range(count):
        station = f"S{i % 50:03d}"
        grade = grades[(i // 50) % len(grades)]
        finding = Finding(station, "bench", Hazard.FLOOD, "level", grade, START + i,
                          value=4.0, threshold=3.0, station=station)  # fmt: skip
        batches.append(FindingBatch("bench", "network", i + 1, START + i, (finding,)))
    return batches


async def _through(agent: Any, records: list[tuple[bytes, bytes | None, int, Any]]) -> float:
    """Seconds for ``agent`` (a test context) to finish every record, fed without waiting."""
    started = time.perf_counter()
    for value, key, partition, headers in records:
        await agent.put(value, key=key, partition=partition, headers=headers, wait=False)
    async with agent.new_value_processed:
        await agent.new_value_processed.wait_for(lambda: agent.processed_offset >= len(records))
    return time.perf_counter() - started


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("nan")


def _loop(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


async def _faust(
    settings: Settings, parts: RuntimeParts, readings: list[tuple[str, bytes, float]],
    batches: list[FindingBatch],
) -> tuple[dict[str, float], list[LogRecord]]:  # fmt: skip
    log = MemoryLog()
    app = StreamApp(settings, parts=parts, producer=log, metrics=Metrics())
    seconds: dict[str, float] = {}
    async with app.detect.test_context() as detect:
        seconds["detect"] = await _through(detect, [
            (payload, topic.rsplit("/", 1)[1].encode(),
             partition_for(topic.rsplit("/", 1)[1], PARTITIONS), dict(reading_headers(topic, at)))
            for topic, payload, at in readings
        ])  # fmt: skip
    network_records = log.confirmed(app.network.get_topic_name())
    async with app.network_agent.test_context() as network:
        seconds["network"] = await _through(
            network, [(r.value, r.key, 0, r.header_map) for r in network_records]
        )
    async with app.alert.test_context() as alert:
        encoded = [encode_findings(b) for b in batches]
        p = partition_for("bench", PARTITIONS)
        seconds["alert"] = await _through(
            alert, [(value, b"bench", p, dict(headers)) for value, headers in encoded]
        )
    return seconds, network_records


def _baselines(
    settings: Settings, parts: RuntimeParts, readings: list[tuple[str, bytes, float]],
    network_records: list[LogRecord], batches: list[FindingBatch],
) -> dict[str, float]:  # fmt: skip
    """The same stages in a plain loop, encoding what they send and checkpointing at the same
    cadence; and the embedded runtime's pipeline on the same readings."""
    seconds: dict[str, float] = {}
    stations = StationStage(parts.registry, parts.ladders, parts.limits, settings.ingest,
                            topic_prefix="yujing/v1", partitions=PARTITIONS)  # fmt: skip
    table = DictTable()

    def first_tier() -> None:
        last = time.monotonic()
        for offset, (topic, payload, at) in enumerate(readings):
            for record in stations.reading(table, offset, topic, payload, at).records:
                encode_station(record)  # the agent sends each one
            if time.monotonic() - last >= CHECKPOINT_S:
                stations.checkpoint(table)
                last = time.monotonic()
        stations.checkpoint(table)

    seconds["detect"] = _loop(first_tier)
    tier = NetworkStage(parts.registry, parts.ladders, partitions=PARTITIONS)
    decoded = [decode_station(r.value) for r in network_records]

    def second_tier() -> None:
        last = time.monotonic()
        for offset, record in enumerate(decoded):
            for batch in tier.station(table, offset, record).batches:
                encode_findings(batch)
            if time.monotonic() - last >= CHECKPOINT_S:
                tier.checkpoint(table)
                last = time.monotonic()
        tier.checkpoint(table)

    seconds["network"] = _loop(second_tier)
    alerts = AlertStage(alerting_config(settings, parts, Metrics()))
    p = partition_for("bench", PARTITIONS)

    def books() -> None:
        last = time.monotonic()
        for offset, batch in enumerate(batches):
            for delivery in alerts.findings(table, p, offset, batch).step.deliveries:
                encode_delivery(delivery, batch.now)
            if time.monotonic() - last >= CHECKPOINT_S:
                alerts.checkpoint(table)
                last = time.monotonic()
        alerts.checkpoint(table)

    seconds["alert"] = _loop(books)
    pipeline = Pipeline(parts.registry, parts.ladders, parts.limits, settings.ingest)

    def embedded() -> None:
        for topic, payload, at in readings:
            pipeline.process([RawMessage(topic, payload, at)], at)

    seconds["embedded"] = _loop(embedded)
    return seconds


UNITS = {"detect": "readings/s", "network": "records/s", "alert": "finding batches/s"}


def measure(quick: bool, reps: int) -> tuple[dict[str, int], dict[str, list[float]]]:
    """Record counts per agent, and per figure (``<agent>`` in Faust, ``<agent>-loop`` in the
    plain loop, ``embedded``) its rate in each repetition."""
    faust_runs: list[dict[str, float]] = []
    loop_runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        settings = _settings(Path(folder))
        parts = load_parts(settings)
        readings = _readings(parts, settings, 20.0 if quick else 120.0)
        batches = _findings(500 if quick else 3000)
        for _ in range(reps):  # interleaved, so machine noise hits both alike
            faust, network_records = asyncio.run(_faust(settings, parts, readings, batches))
            faust_runs.append(faust)
            loop_runs.append(_baselines(settings, parts, readings, network_records, batches))
    counts = {"detect": len(readings), "network": len(network_records), "alert": len(batches)}
    counts["seismic_readings"] = sum(1 for topic, _, _ in readings if "/seismic/" in topic)
    rates: dict[str, list[float]] = {}
    for agent in UNITS:
        rates[agent] = [_rate(counts[agent], run[agent]) for run in faust_runs]
        rates[f"{agent}-loop"] = [_rate(counts[agent], run[agent]) for run in loop_runs]
    rates["embedded"] = [_rate(counts["detect"], run["embedded"]) for run in loop_runs]
    return counts, rates


def run(options: Options) -> Result:
    """The harness's entry (``python -m bench faust_agents``): each agent in Faust against the
    same stages in a plain loop, same run; the embedded pipeline on the same readings."""
    counts, rates = measure(options.quick, options.reps)
    figures = [
        Figure(
            f"{agent} agent in Faust's test harness",
            UNITS[agent],
            summarize(rates[agent]),
            baseline=summarize(rates[f"{agent}-loop"]),
            baseline_name="the same stages in a plain loop",
        )
        for agent in UNITS
    ]
    figures.append(
        Figure(
            "embedded pipeline on the detect agent's readings",
            "readings/s",
            summarize(rates["embedded"]),
        )
    )
    return Result(
        NAME,
        TITLE,
        figures=figures,
        params={"records": counts, "slice_s": 20.0 if options.quick else 120.0},
        notes=[
            "Not measured (no Kafka here): broker round trips, fetch and produce batching, "
            "compression, changelog replication, consumer-group rebalances."
        ],
    )


def _json(quick: bool) -> dict[str, Any]:
    """What ``python -m bench.faust_agents`` prints: medians, slowest and fastest."""
    reps = 1 if quick else 3
    counts, rates = measure(quick, reps)

    def spread(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {"median": statistics.median(ordered), "low": ordered[0], "high": ordered[-1]}

    figures = []
    for agent in UNITS:
        faust, loop = spread(rates[agent]), spread(rates[f"{agent}-loop"])
        figures.append({
            "name": f"{agent} agent", "unit": UNITS[agent], "records": counts[agent],
            "faust": faust, "plain_loop": loop,
            "faust_over_loop": round(faust["median"] / loop["median"], 3),
        })  # fmt: skip
    return {
        "benchmark": NAME,
        "quick": quick,
        "repetitions": reps,
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
        },  # fmt: skip
        "records": counts,
        "figures": figures,
        "embedded_pipeline": {"unit": "readings/s", **spread(rates["embedded"])},
    }


if __name__ == "__main__":
    print(json.dumps(_json("--quick" in sys.argv), indent=2))
