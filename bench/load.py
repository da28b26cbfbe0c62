"""The load generator, a child process of the benchmark (so it never competes for the GIL of the
process under measurement): ``python -m bench.load SPEC.json``; writes ``spec["out"]``.

Modes (``spec["mode"]``):

``paced``
    Background readings of the city network at ``rate`` per second (round robin over the
    stations, fresh ``ts`` and ``seq``), first ``warm_s`` without probes, then ``duration_s``
    with every ``probe_every``-th message a probe (a ponding gauge's first reading of 60 cm,
    which pages red). Output: each probe's publish wall time, messages sent, achieved rate.
``seismic``
    The sensor simulator's packets for a seismic grid and one earthquake, with scenario time 0
    at wall time ``start``; the packets covering second k are published together as soon as
    that second is over (wall ``start + k + 1``). Output: publish wall time per second, and the
    data floor: when the first packet with red-level shaking (horizontal PGA ≥ ``red_pga_ms2``)
    was complete.

Publishing is QoS 1 with up to 1,000 messages in flight.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

__all__ = ["main"]


def _connect(host: str, port: int) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-load-{time.time_ns()}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    return client


def _sleep_until(t: float) -> None:
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.001 if left < 0.01 else left / 2))


def paced(spec: dict[str, Any]) -> dict[str, Any]:
    templates: dict[str, list[str]] = json.loads(Path(spec["templates"]).read_text())
    stations = list(templates.items())
    probes: list[str] = spec["probes"]
    rate, every = float(spec["rate"]), int(spec["probe_every"])
    warm_s, duration_s = float(spec["warm_s"]), float(spec["duration_s"])
    client = _connect(spec["host"], spec["port"])
    start = float(spec["start_at"])
    seq_base = int(start * 1000)
    seqs = [seq_base] * len(stations)
    published: dict[str, float] = {}
    _sleep_until(start)
    sent = probe_index = 0
    lag_max = 0.0
    end = start + warm_s + duration_s
    while True:
        now = time.time()
        if now >= end:
            break
        due = int((now - start) * rate) + 1
        lag_max = max(lag_max, (due - sent) / rate)
        while sent < due:
            i = sent % len(stations)
            station, (topic, values) = stations[i]
            ms = int(time.time() * 1000)
            if sent % every == 0 and now >= start + warm_s and probe_index < len(probes):
                probe = probes[probe_index]
                probe_index += 1
                body = (
                    f'{{"station":"{probe}","ts":{ms},"seq":0,'
                    f'"values":{{"depth_cm":60.0}},"quality":"ok"}}'
                )
                published[probe] = time.time()
                client.publish(f"yujing/v1/probe/ponding/{probe}", body.encode(), qos=1)
            else:
                seqs[i] += 1
                body = (
                    f'{{"station":"{station}","ts":{ms},"seq":{seqs[i]},'
                    f'"values":{values},"quality":"ok"}}'
                )
                client.publish(topic, body.encode(), qos=1)
            sent += 1
        _sleep_until(min(end, start + (sent + 1) / rate))
    took = time.time() - start
    client.disconnect()
    client.loop_stop()
    return {
        "published": published,
        "sent": sent,
        "achieved_rate": sent / took,
        "lag_max_s": lag_max,
    }


def seismic(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.network import quake_scenario, seismic_registry
    from simulators import SensorSimulator

    registry = seismic_registry(int(spec["stations"]), float(spec["spacing_km"]))
    scenario, _ = quake_scenario(registry, float(spec["origin_s"]), float(spec["duration_s"]))
    start = float(spec["start"])
    simulator = SensorSimulator(registry, scenario, int(spec["seed"]), start=start)
    seconds: dict[int, list[tuple[str, bytes]]] = {}
    floor: float | None = None
    red = float(spec["red_pga_ms2"])
    for message in simulator.stream(start, start + float(spec["duration_s"])):
        k = round(message.ts - start)
        seconds.setdefault(k, []).append((message.topic, message.payload))
        if floor is None or start + k + 1 < floor:
            body = json.loads(message.payload)
            if body["channel"] != "HNZ" and max(map(abs, body["samples"])) >= red:
                floor = start + k + 1
    ready = time.time()
    client = _connect(spec["host"], spec["port"])
    per_second: dict[int, list[float]] = {}
    for k in sorted(seconds):
        _sleep_until(start + k + 1)
        began = time.time()
        for topic, payload in seconds[k]:
            client.publish(topic, payload, qos=1)
        per_second[k] = [began, time.time()]
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    return {
        "per_second": per_second,
        "floor": floor,
        "late_start_s": max(0.0, ready - start - 1),
        "messages": sum(len(v) for v in seconds.values()),
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = json.loads(Path(args[0]).read_text())
    out = paced(spec) if spec["mode"] == "paced" else seismic(spec)
    Path(spec["out"]).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
