"""Throughput ceiling: readings/s drained from a real mosquitto at QoS 1.

Method (per repetition, fresh mosquitto each time, in-memory broker persistence off):

1. ``N`` messages of the city network (:func:`bench.network.city_messages`: thousands of rain,
   water-level, ponding, gas and chem stations under the demo storm) are queued on the broker for
   a persistent session that is offline (publisher with 1,000 in flight; not timed).
2. Baseline: a raw paho client reconnects to that session and only counts (paho acks each
   message itself). Rate = N / (last message received − first message received).
3. yujing: the embedded runtime (MQTT receiver process → decode → detectors → alerting service
   with its SQLite journal → ack per batch) is first warmed with one message per station in a
   previous run (so every detector has published its first grade), stopped, and restarted on
   the queued backlog. Rate = N / (last batch processed and acked − the later of first message
   received and the runtime's loop running: the receiver connects while the runtime restores its
   state, and that start-up is not draining; what it can take early is bounded by the broker's
   in-flight window, since nothing is acknowledged before the loop has processed it).
4. The same with ``mqtt.receiver: thread`` (paho on a thread of the runtime's process): what
   the receiver process gains, in the same run.

All drain the same backlog through the same broker, one after the other, in the same process.
The notes give, per repetition, the loop's wall time per message inside its batches
(``yujing_pipeline_batch_seconds``): the rest of the drain is the hand-over between batches.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.harness import Figure, Options, Result, Target, summarize
from bench.mqtt import RawReceiver, open_session, publish_all
from bench.network import city_messages, city_registry
from bench.runtime import BatchLog, LiveRuntime, bench_settings, wait_until
from yujing.broker import Broker, free_port, start_mosquitto
from yujing.config import Settings

NAME = "throughput"
TITLE = "Throughput ceiling: embedded runtime vs raw paho, QoS 1 backlog"
TOPICS = "yujing/v1/#"


def _sizes(options: Options) -> tuple[int, int]:
    return (300, 3_000) if options.quick else (5_000, 30_000)


def _raw_rate(broker: Broker, messages: list[tuple[str, bytes]], rep: int) -> float:
    client_id = f"bench-raw-{rep}"
    open_session(broker.host, broker.port, client_id, TOPICS)
    publish_all(broker.host, broker.port, messages)
    receiver = RawReceiver(broker.host, broker.port, client_id, TOPICS)
    receiver.mark_at(len(messages))
    receiver.start()
    ok = wait_until(lambda: receiver.count >= len(messages), 300, 0.005)
    receiver.stop()
    if not ok or receiver.first is None:
        raise TimeoutError(f"raw receiver got {receiver.count} of {len(messages)}")
    return (len(messages) - 1) / (receiver.marks[len(messages)] - receiver.first)


def _runtime_rate(
    broker: Broker,
    registry_n: int,
    warm: list[tuple[str, bytes]],
    measured: list[tuple[str, bytes]],
    work: Path,
    client_id: str,
    receiver: str,
) -> tuple[float, dict[str, float]]:
    settings = _with_receiver(bench_settings(work, broker.url, client_id), receiver)
    registry = city_registry(registry_n)
    open_session(broker.host, broker.port, client_id, TOPICS)
    publish_all(broker.host, broker.port, warm)
    first = LiveRuntime(settings, registry).start()
    if not wait_until(lambda: first.log.count >= len(warm), 300, 0.01):
        raise TimeoutError("runtime did not drain the warm-up")
    first.stop()
    publish_all(broker.host, broker.port, measured)
    log = BatchLog()
    live = LiveRuntime(settings, registry, log).start()
    ready = time.time()  # its loop runs (the receiver connects during start-up already)
    ok = wait_until(lambda: log.count >= len(measured), 600, 0.005)
    live.stop()
    if not ok:
        raise TimeoutError(f"runtime processed {log.count} of {len(measured)}")
    began = max(log.batches[0][2], ready)
    ended = next(done for done, total, _ in _cumulative(log) if total >= len(measured))
    batch_s = live.runtime.metrics.registry.get_sample_value("yujing_pipeline_batch_seconds_sum")
    stats = {
        "batches": len(log.batches),
        "mean_batch": len(measured) / len(log.batches),
        "notices": len(live.notifier.sent),
        # the loop's wall time per message inside its batches (decode → book → log → acks)
        "batch_us": 1e6 * (batch_s or 0.0) / max(log.count, 1),
    }
    return (len(measured) - 1) / (ended - began), stats


def _with_receiver(settings: Settings, receiver: str) -> Settings:
    mqtt = settings.mqtt.model_copy(update={"receiver": receiver})
    return settings.model_copy(update={"mqtt": mqtt})


def _cumulative(log: BatchLog) -> list[tuple[float, int, float]]:
    total, out = 0, []
    for done, count, first in log.batches:
        total += count
        out.append((done, total, first))
    return out


def run(options: Options) -> Result:
    stations, count = _sizes(options)
    result = Result(NAME, TITLE)
    result.params = {
        "stations": stations,
        "messages": count,
        "qos": 1,
        "warmup_messages": stations,
        "broker": "mosquitto, persistence off",
    }
    registry = city_registry(stations)
    raw_rates: list[float] = []
    rt_rates: list[float] = []
    thread_rates: list[float] = []
    extra: list[dict[str, float]] = []
    for rep in range(options.reps):
        work = options.work / f"throughput-{rep}"
        shutil.rmtree(work, ignore_errors=True)
        messages = city_messages(registry, stations + count, time.time(), options.seed + rep)
        warm, measured = messages[:stations], messages[stations:]
        broker = start_mosquitto("127.0.0.1", free_port(), work / "broker", persistence=False)
        sides = ["raw", "process", "thread"]
        try:  # rotate the order, so no side always runs first on a cold box
            for side in sides[rep % 3 :] + sides[: rep % 3]:
                if side == "raw":
                    raw_rates.append(_raw_rate(broker, measured, rep))
                    continue
                rate, stats = _runtime_rate(
                    broker, stations, warm, measured, work / side, f"bench-{side}-{rep}", side
                )
                (rt_rates if side == "process" else thread_rates).append(rate)
                if side == "process":
                    extra.append(stats)
        finally:
            broker.stop()
    result.figures.append(
        Figure(
            "readings/s drained (decode → detect → alert book → ack)",
            "msg/s",
            summarize(rt_rates),
            baseline=summarize(raw_rates),
            baseline_name="raw paho count",
            target=Target(0.6, "ratio", "≥ 0.6 × raw"),
        )
    )
    result.figures.append(
        Figure(
            "the same, receiver process vs paho on a thread (mqtt.receiver: thread)",
            "msg/s",
            summarize(rt_rates),
            baseline=summarize(thread_rates),
            baseline_name="receiver on a thread",
        )
    )
    result.notes.append(
        "per repetition: "
        + "; ".join(
            f"rep {i}: yujing {r:,.0f}/s (receiver on a thread {t:,.0f}/s), raw {b:,.0f}/s, "
            f"{s['batches']:.0f} batches (mean {s['mean_batch']:.0f} msgs, "
            f"{s['batch_us']:.1f} µs per message inside them), {s['notices']:.0f} notices"
            for i, (r, t, b, s) in enumerate(
                zip(rt_rates, thread_rates, raw_rates, extra, strict=True)
            )
        )
    )
    return result
