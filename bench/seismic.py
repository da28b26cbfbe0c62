"""Seismic path: a strong-motion grid (3 channels at 100 Hz, 1 s packets) while a synthetic
quake crosses it, through the live embedded runtime.

The sensor simulator (:class:`simulators.SensorSimulator`, its earthquake model) generates every
packet in a child process (:mod:`bench.load`), which publishes the packets of second k together
at wall time ``start + k + 1``, as real digitisers send a packet once it is full. The M5.8 source
is 10 km deep under the centre of a grid cell (the farthest point from any station).

Measured (yujing pass, then a raw paho subscriber on the same schedule as baseline):

- processing latency: packet arrival at yujing's MQTT client → batch processed, journaled and
  acknowledged (the runtime's ``on_batch`` hook); target p99 ≤ 100 ms;
- burst → processed: the wall time its second's packets began to be published → processed
  (yujing) or received (raw paho), in the 20 s after the origin;
- CPU share of this process (runtime threads) in one core, quiet and while the quake crosses,
  against the raw subscriber's share on the same stream;
- origin → first red notice at the recording notifier, against the data floor (the first packet
  whose horizontal peak reaches the red intensity's PGA is complete); target ≤ 7 s;
- packet arrival → notice for every earthquake notice.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

from bench.harness import REPO, Figure, Options, Result, Target, percentile, summarize
from bench.mqtt import RawReceiver
from bench.network import seismic_registry
from bench.runtime import BatchLog, LiveRuntime, bench_settings, wait_until
from yujing.broker import Broker, free_port, start_mosquitto
from yujing.contracts import Grade, Hazard

NAME = "seismic"
TITLE = "Seismic path: 3-channel 100 Hz grid, quake crossing, processing and notice latency"
# GB/T 17742 I = 3.17 lg(PGA) + 6.59; red from intensity VII (configs/ladders/seismic.yaml)
RED_PGA_MS2 = 10 ** ((7.0 - 6.59) / 3.17)


def _plan(options: Options) -> dict[str, Any]:
    if options.quick:
        return {"stations": 9, "spacing_km": 10.0, "origin_s": 2.0, "duration_s": 8.0}
    return {"stations": 300, "spacing_km": 10.0, "origin_s": 25.0, "duration_s": 45.0}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _drive(
    broker: Broker, plan: dict[str, Any], seed: int, work: Path, tag: str
) -> tuple[dict[str, Any], list[tuple[float, float]]]:
    """Run the seismic load; sample this process's CPU time meanwhile."""
    margin = 2.0 + 0.0004 * plan["stations"] * plan["duration_s"]  # time to generate packets
    start = math.floor(time.time() + margin)
    spec = {
        "mode": "seismic",
        "host": broker.host,
        "port": broker.port,
        "seed": seed,
        "start": start,
        "red_pga_ms2": RED_PGA_MS2,
        "out": str(work / f"{tag}.json"),
        **plan,
    }
    spec_path = work / f"{tag}.spec.json"
    spec_path.write_text(json.dumps(spec))
    child = subprocess.Popen([sys.executable, "-m", "bench.load", str(spec_path)], cwd=REPO)
    samples: list[tuple[float, float]] = []
    while child.poll() is None:
        samples.append((time.time(), _cpu()))
        time.sleep(0.25)
    if child.returncode != 0:
        raise RuntimeError(f"seismic load generator exited with {child.returncode}")
    report: dict[str, Any] = json.loads(Path(spec["out"]).read_text())
    report["start"] = start
    return report, samples


def _share(samples: list[tuple[float, float]], t0: float, t1: float) -> float:
    inside = [s for s in samples if t0 <= s[0] <= t1]
    if len(inside) < 2:
        return float("nan")
    (w0, c0), (w1, c1) = inside[0], inside[-1]
    return (c1 - c0) / (w1 - w0)


def _yujing(
    broker: Broker, plan: dict[str, Any], seed: int, work: Path, rep: int
) -> dict[str, Any]:
    registry = seismic_registry(plan["stations"], plan["spacing_km"])
    settings = bench_settings(work / "runtime", broker.url, f"bench-quake-{rep}")
    log = BatchLog(keep_messages=True)
    live = LiveRuntime(settings, registry, log).start()
    try:
        report, samples = _drive(broker, plan, seed, work, "yujing")
        wait_until(lambda: log.count >= report["messages"], 30, 0.01)
    finally:
        live.stop()
    start, origin = report["start"], report["start"] + plan["origin_s"]
    arrivals: dict[tuple[str, int], float] = {}
    processing, burst = [], []
    bursts = {int(k): v[0] for k, v in report["per_second"].items()}
    for message, done in log.messages:
        body = json.loads(message.payload)
        k = round(body["t0"] / 1000 - start)
        key = (body["station"], k)
        arrivals[key] = min(arrivals.get(key, math.inf), message.received)
        processing.append(done - message.received)
        if origin <= done <= origin + 20 and k in bursts:
            burst.append(done - bursts[k])
    quakes = [(t, n) for t, n in live.notifier.sent if n.hazard is Hazard.EARTHQUAKE]
    reds = [t for t, n in quakes if n.grade is Grade.RED]
    to_notice = [
        t - arrivals[(n.key.area, round((n.source_ts or 0) - start))]
        for t, n in quakes
        if (n.key.area, round((n.source_ts or 0) - start)) in arrivals
    ]
    return {
        "processing": processing,
        "burst": burst,
        "cpu_quiet": _share(samples, start + plan["origin_s"] / 2, origin),
        "cpu_quake": _share(samples, origin, origin + 20),
        "first_red": (min(reds) - origin) if reds else math.nan,
        "floor": (report["floor"] - origin) if report["floor"] else math.nan,
        "to_notice": to_notice,
        "notices": len(quakes),
        "late_start_s": report["late_start_s"],
        "messages": report["messages"],
        "processed": log.count,
    }


def _raw(broker: Broker, plan: dict[str, Any], seed: int, work: Path, rep: int) -> dict[str, Any]:
    receiver = RawReceiver(
        broker.host,
        broker.port,
        f"bench-quake-raw-{rep}",
        "yujing/v1/#",
        persistent=False,
        keep=lambda topic: True,
    ).start()
    try:
        report, samples = _drive(broker, plan, seed, work, "raw")
        wait_until(lambda: receiver.count >= report["messages"], 30, 0.01)
    finally:
        receiver.stop()
    start, origin = report["start"], report["start"] + plan["origin_s"]
    ordered = sorted((v[0], int(k)) for k, v in report["per_second"].items())
    begins = [b for b, _ in ordered]
    burst = []
    for _, received in receiver.kept:
        if origin <= received <= origin + 20:
            i = bisect_left(begins, received) - 1  # the burst that was being published
            if i >= 0:
                burst.append(received - begins[i])
    return {
        "burst": burst,
        "cpu_quiet": _share(samples, start + plan["origin_s"] / 2, origin),
        "cpu_quake": _share(samples, origin, origin + 20),
    }


def run(options: Options) -> Result:
    plan = _plan(options)
    result = Result(
        NAME,
        TITLE,
        params={
            **plan,
            "channels": 3,
            "sr_hz": 100,
            "packet_s": 1,
            "magnitude": 5.8,
            "depth_km": 10.0,
            "red_pga_ms2": round(RED_PGA_MS2, 3),
        },
    )
    ours: list[dict[str, Any]] = []
    raws: list[dict[str, Any]] = []
    for rep in range(options.reps):
        work = options.work / f"seismic-{rep}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        broker = start_mosquitto("127.0.0.1", free_port(), work / "broker", persistence=False)
        try:
            ours.append(_yujing(broker, plan, options.seed + rep, work, rep))
            raws.append(_raw(broker, plan, options.seed + rep, work, rep))
        finally:
            broker.stop()
    ms = 1000.0
    for q in (50, 95, 99):
        result.figures.append(
            Figure(
                f"processing p{q}: packet arrival → processed",
                "ms",
                summarize([ms * percentile(o["processing"], q) for o in ours]),
                better="lower",
                target=Target(100.0, "figure", "p99 ≤ 100 ms") if q == 99 else None,
            )
        )
    result.figures.append(
        Figure(
            "p99 burst published → processed (20 s after origin)",
            "ms",
            summarize([ms * percentile(o["burst"], 99) for o in ours]),
            better="lower",
            baseline=summarize([ms * percentile(r["burst"], 99) for r in raws]),
            baseline_name="raw paho receive",
        )
    )
    for phase in ("quiet", "quake"):
        result.figures.append(
            Figure(
                f"CPU share ({phase}), of one core",
                "core",
                summarize([o[f"cpu_{phase}"] for o in ours]),
                better="lower",
                baseline=summarize([r[f"cpu_{phase}"] for r in raws]),
                baseline_name="raw paho receive",
            )
        )
    result.figures.append(
        Figure(
            "origin → first red notice",
            "s",
            summarize([o["first_red"] for o in ours]),
            better="lower",
            baseline=summarize([o["floor"] for o in ours]),
            baseline_name="data floor (first red packet complete)",
            target=Target(7.0, "figure", "≤ 7 s"),
        )
    )
    result.figures.append(
        Figure(
            "p99 packet arrival → earthquake notice",
            "ms",
            summarize([ms * percentile(o["to_notice"], 99) for o in ours]),
            better="lower",
        )
    )
    for i, o in enumerate(ours):
        result.notes.append(
            f"rep {i}: {o['processed']} of {o['messages']} packets processed, "
            f"{o['notices']} earthquake notices, generator late by {o['late_start_s']:.2f} s"
        )
    return result
