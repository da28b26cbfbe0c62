"""Where the throughput path spends its time, without a broker: ``python -m bench.hotspots``.

Builds the pipeline for the city network (:func:`bench.network.city_registry`), warms it with
one message per station, then profiles :meth:`yujing.pipeline.Pipeline.process` over
``--messages`` messages in batches of 2,000 (cProfile, sorted by cumulative time), and times one
:meth:`~yujing.pipeline.Pipeline.snapshot` plus its JSON encoding (what the embedded runtime
writes as a checkpoint every minute, in a forked child), and one full garbage collection
over the state's objects (the stall the runtime avoids with ``gc.freeze()``). With ``--gc``,
instead: the same messages through two fresh pipelines without a profiler, one with CPython's
default collector and one with the live loop's (:mod:`yujing.heap`), and the time each spent
collecting. With ``--aged HOURS``, instead: the same last messages through a pipeline that saw
one message per station before them and through one that saw HOURS of readings (the windows of
trends, anomaly scores and drift full, as in a long run; ``--stations 1000`` keeps it to a
minute or two). For the live runtime with its threads, use py-spy on the benchmark instead
(docs/performance.md)::

    .venv/bin/py-spy record -r 50 -f raw -o /tmp/prof.txt -- \\
        .venv/bin/python -m bench throughput --reps 1
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import time
from contextlib import nullcontext

from bench.harness import REPO
from bench.network import city_messages, city_registry
from yujing.config import Registry, load_ladders, load_quantities
from yujing.config.settings import IngestSettings
from yujing.heap import rare_collections
from yujing.pipeline import Pipeline, RawMessage
from yujing.runtime.embedded import LIVE_YOUNG_COLLECTION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots", description=__doc__)
    parser.add_argument("--stations", type=int, default=5_000)
    parser.add_argument(
        "--interval", type=float, default=10.0, help="every station's report interval, s"
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--gc", action="store_true", help="the collector's cost instead")
    parser.add_argument(
        "--aged", type=float, metavar="HOURS", help="fresh state against HOURS of it instead"
    )
    args = parser.parse_args(argv)
    registry = city_registry(args.stations, args.interval)
    if args.aged:
        fresh, aged = _aged_cost(registry, args.aged, args.messages)
        print(
            f"{args.messages:,} messages after one per station: {fresh * 1e6:.1f} µs per message; "
            f"after {args.aged:g} h of readings: {aged * 1e6:.1f} µs per message "
            f"({aged / fresh:.2f} ×)"
        )
        return 0
    messages = city_messages(registry, args.stations + args.messages, time.time(), 7)
    if args.gc:
        for name, young in (
            ("CPython's default", None),
            ("the live loop's", LIVE_YOUNG_COLLECTION),
        ):
            took, collecting = _collector_cost(registry, messages, args.stations, young)
            print(
                f"{name} collector: {took / args.messages * 1e6:.1f} µs per message, "
                f"{collecting / args.messages * 1e6:.1f} of them collecting"
            )
        return 0
    pipeline, batches = _warm(registry, messages, args.stations)
    now = time.time()
    profile = cProfile.Profile()
    began = time.perf_counter()
    profile.enable()
    for batch in batches:
        pipeline.process(batch, now)
    profile.disable()
    took = time.perf_counter() - began
    print(f"process: {args.messages / took:,.0f} messages/s under cProfile ({took:.1f} s)")
    began = time.perf_counter()
    state = pipeline.snapshot()
    built = time.perf_counter() - began
    encoded = json.dumps(state, separators=(",", ":"))
    print(
        f"snapshot of {args.stations} stations: built in {built:.2f} s, encoded in "
        f"{time.perf_counter() - began - built:.2f} s, {len(encoded) / 2**20:.1f} MiB"
    )
    del state, encoded
    began = time.perf_counter()
    gc.collect()
    print(
        f"full garbage collection over {len(gc.get_objects()):,} objects: "
        f"{(time.perf_counter() - began) * 1000:.0f} ms (the runtime freezes them after loading)"
    )
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    return 0


def _warm(
    registry: Registry, messages: list[tuple[str, bytes]], stations: int
) -> tuple[Pipeline, list[list[RawMessage]]]:
    """A pipeline that has seen one message per station, and the rest in batches of 2,000."""
    pipeline = Pipeline(
        registry,
        load_ladders(REPO / "configs" / "ladders"),
        load_quantities(REPO / "configs" / "quantities.yaml"),
        IngestSettings(),
    )
    now = time.time()
    pipeline.process([RawMessage(t, p, now) for t, p in messages[:stations]], now)
    batches = [
        [RawMessage(t, p, now) for t, p in messages[i : i + 2000]]
        for i in range(stations, len(messages), 2000)
    ]
    return pipeline, batches


def _aged_cost(registry: Registry, hours: float, count: int) -> tuple[float, float]:
    """Seconds per message for the same last ``count`` messages through a pipeline that saw one
    message per station before them, and through one that saw ``hours`` of them (windows of
    trends, anomaly scores and drift full, as in a long run)."""
    per_s = sum(1.0 / s.interval_s for s in registry)
    history = int(per_s * hours * 3600.0)
    messages = city_messages(registry, history + count, time.time(), 7)
    fresh, batches = _warm(registry, messages[-(len(registry) + count) :], len(registry))
    aged, _ = _warm(registry, messages[: len(registry)], len(registry))
    now = time.time()
    for i in range(len(registry), len(messages) - count, 2000):
        stop = min(i + 2000, len(messages) - count)
        aged.process([RawMessage(t, p, now) for t, p in messages[i:stop]], now)
    gc.collect()
    out = []
    for pipeline in (fresh, aged):
        began = time.perf_counter()
        with rare_collections(LIVE_YOUNG_COLLECTION):
            for batch in batches:
                pipeline.process(batch, now)
        out.append((time.perf_counter() - began) / count)
    return out[0], out[1]


def _collector_cost(
    registry: Registry, messages: list[tuple[str, bytes]], stations: int, young: int | None
) -> tuple[float, float]:
    """Seconds to process the batches, and seconds of it in garbage collections."""
    pipeline, batches = _warm(registry, messages, stations)
    gc.collect()
    collecting, started = [0.0], [0.0]

    def clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collecting[0] += time.perf_counter() - started[0]

    now = time.time()
    gc.callbacks.append(clock)
    try:
        began = time.perf_counter()
        with rare_collections(young) if young is not None else nullcontext():
            for batch in batches:
                pipeline.process(batch, now)
        took = time.perf_counter() - began
    finally:
        gc.callbacks.remove(clock)
    return took, collecting[0]


if __name__ == "__main__":
    raise SystemExit(main())
