"""Latency under load: publish → notice emitted, at fixed rates, against the broker's own
publish → receive latency at the same rates.

Load (:mod:`bench.load`, a child process): background readings of a city network of
``stations`` (quiet values, round robin) at a fixed rate; after ``warm_s`` at that rate, 1 in
``probe_every`` messages is a *probe*: the first reading of a fresh ponding gauge at 60 cm, which
the detectors grade red at once and the alert book fires. The probe's latency is

- yujing: the wall time the recording notifier (a real channel, after the journal commit and
  the dispatcher) received the probe's notice − the wall time just before ``publish()``;
- baseline: the wall time a raw paho subscriber (QoS 1) received the probe − the same.

Per repetition: fresh mosquitto; the runtime is warmed with one reading per station, then each
rate runs in turn (the runtime keeps its state across rates, as a live system would); then the
raw subscriber gets the same schedule. The order of the two sides alternates per repetition.
Percentiles are per repetition; the figure is their median over repetitions (spread: min–max).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import REPO, Figure, Options, Result, Target, percentile, summarize
from bench.mqtt import RawReceiver, publish_all
from bench.network import city_registry, merge, probe_registry, templates
from bench.runtime import LiveRuntime, bench_settings, wait_until
from yujing.broker import Broker, free_port, start_mosquitto
from yujing.config import Registry

NAME = "latency"
TITLE = "Latency under load: publish → notice, vs broker publish → receive"
PERCENTILES = (50, 95, 99)


def _plan(options: Options) -> dict[str, Any]:
    if options.quick:
        return {
            "stations": 200,
            "rates": [300],
            "warm_s": 0.5,
            "duration_s": 1.5,
            "probe_every": 20,
        }
    return {
        "stations": 2_000,
        "rates": [1_000, 5_000, 10_000],
        "warm_s": 2.0,
        "duration_s": 10.0,
        "probe_every": 100,
    }


def _probes_per_rate(plan: dict[str, Any]) -> list[int]:
    return [int(r * plan["duration_s"] / plan["probe_every"]) + 10 for r in plan["rates"]]


def _drive(
    broker: Broker,
    plan: dict[str, Any],
    rate: float,
    probes: list[str],
    template_path: Path,
    work: Path,
) -> dict[str, Any]:
    """Run the load generator for one rate and return its report."""
    spec = {
        "mode": "paced",
        "host": broker.host,
        "port": broker.port,
        "rate": rate,
        "warm_s": plan["warm_s"],
        "duration_s": plan["duration_s"],
        "probe_every": plan["probe_every"],
        "probes": probes,
        "templates": str(template_path),
        "start_at": time.time() + 1.0,
        "out": str(work / f"load-{rate:.0f}.json"),
    }
    spec_path = work / f"load-{rate:.0f}.spec.json"
    spec_path.write_text(json.dumps(spec))
    subprocess.run(
        [sys.executable, "-m", "bench.load", str(spec_path)],
        cwd=REPO,
        check=True,
        timeout=plan["warm_s"] + plan["duration_s"] + 120,
    )
    report: dict[str, Any] = json.loads(Path(spec["out"]).read_text())
    return report


def _runtime_pass(
    broker: Broker,
    plan: dict[str, Any],
    registry: Registry,
    template_path: Path,
    work: Path,
    rep: int,
) -> dict[float, dict[str, Any]]:
    settings = bench_settings(work / "runtime", broker.url, f"bench-lat-{rep}")
    live = LiveRuntime(settings, registry).start()
    out: dict[float, dict[str, Any]] = {}
    try:
        tmpl = json.loads(template_path.read_text())
        warm = [
            (
                topic,
                (
                    f'{{"station":"{sid}","ts":{int(time.time() * 1000)},"seq":1,'
                    f'"values":{values},"quality":"ok"}}'
                ).encode(),
            )
            for sid, (topic, values) in tmpl.items()
        ]
        publish_all(broker.host, broker.port, warm)
        if not wait_until(lambda: live.log.count >= len(warm), 120, 0.01):
            raise TimeoutError("runtime did not take the warm-up readings")
        first = 0
        for rate, count in zip(plan["rates"], _probes_per_rate(plan), strict=True):
            probes = [s.id for s in probe_registry(count, start=first)]
            first += count
            seen = len(live.notifier.sent)
            report = _drive(broker, plan, rate, probes, template_path, work)
            wanted = set(report["published"])
            wait_until(lambda: _matched(live, wanted) >= len(wanted), 15, 0.05)  # noqa: B023
            got: dict[str, float] = {}
            for t, notice in live.notifier.sent[seen:]:
                if notice.key.area in wanted:
                    got.setdefault(notice.key.area, t)
            lat = [got[p] - t for p, t in report["published"].items() if p in got]
            out[rate] = {"latencies": lat, "lost": len(wanted) - len(lat), **_brief(report)}
    finally:
        live.stop()
    return out


def _matched(live: LiveRuntime, wanted: set[str]) -> int:
    return sum(1 for _, n in live.notifier.sent if n.key.area in wanted)


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "achieved_rate": report["achieved_rate"],
        "lag_max_s": report["lag_max_s"],
        "probes": len(report["published"]),
    }


def _raw_pass(
    broker: Broker, plan: dict[str, Any], template_path: Path, work: Path, rep: int
) -> dict[float, dict[str, Any]]:
    receiver = RawReceiver(
        broker.host,
        broker.port,
        f"bench-lat-raw-{rep}",
        "yujing/v1/#",
        persistent=False,
        keep=lambda topic: "/probe/" in topic,
    ).start()
    out: dict[float, dict[str, Any]] = {}
    try:
        for rate, count in zip(plan["rates"], _probes_per_rate(plan), strict=True):
            probes = [s.id for s in probe_registry(count, start=10**5)]
            kept = len(receiver.kept)
            report = _drive(broker, plan, rate, probes, template_path, work)
            wait_until(lambda: len(receiver.kept) - kept >= len(report["published"]), 10)  # noqa: B023
            got = {topic.rsplit("/", 1)[1]: t for topic, t in receiver.kept[kept:]}
            lat = [got[p] - t for p, t in report["published"].items() if p in got]
            out[rate] = {
                "latencies": lat,
                "lost": len(report["published"]) - len(lat),
                **_brief(report),
            }
    finally:
        receiver.stop()
    return out


def run(options: Options) -> Result:
    plan = _plan(options)
    result = Result(NAME, TITLE, params=dict(plan))
    bg = city_registry(plan["stations"])
    registry = merge(bg, probe_registry(sum(_probes_per_rate(plan))))
    reps: list[tuple[dict[float, dict[str, Any]], dict[float, dict[str, Any]]]] = []
    for rep in range(options.reps):
        work = options.work / f"latency-{rep}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        template_path = work / "templates.json"
        template_path.write_text(json.dumps(templates(bg, options.seed)))
        broker = start_mosquitto("127.0.0.1", free_port(), work / "broker", persistence=False)
        try:
            if rep % 2 == 0:
                raw = _raw_pass(broker, plan, template_path, work, rep)
                ours = _runtime_pass(broker, plan, registry, template_path, work, rep)
            else:
                ours = _runtime_pass(broker, plan, registry, template_path, work, rep)
                raw = _raw_pass(broker, plan, template_path, work, rep)
        finally:
            broker.stop()
        reps.append((ours, raw))
    for rate in plan["rates"]:
        for q in PERCENTILES:
            ours_q = [1000 * percentile(o[rate]["latencies"], q) for o, _ in reps]
            raw_q = [1000 * percentile(r[rate]["latencies"], q) for _, r in reps]
            target = Target(50.0, "figure", "p99 ≤ 50 ms") if (q == 99 and rate == 5000) else None
            result.figures.append(
                Figure(
                    f"p{q} publish → notice at {rate:,}/s",
                    "ms",
                    summarize(ours_q),
                    better="lower",
                    baseline=summarize(raw_q),
                    baseline_name="broker publish → receive",
                    target=target,
                )
            )
        for i, (o, r) in enumerate(reps):
            result.notes.append(
                f"rep {i} at {rate}/s: achieved {o[rate]['achieved_rate']:,.0f}/s (raw pass "
                f"{r[rate]['achieved_rate']:,.0f}/s), probes {o[rate]['probes']}, notices "
                f"matched {len(o[rate]['latencies'])}, none within the wait {o[rate]['lost']} "
                f"(raw: {r[rate]['lost']}; percentiles are of the matched only), "
                f"generator lag max {o[rate]['lag_max_s']:.3f} s"
            )
    return result
