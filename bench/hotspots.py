"""Where the throughput path spends its time, without a broker: ``python -m bench.hotspots``.

Builds the pipeline for the city network (:func:`bench.network.city_registry`), warms it with
one message per station, then profiles :meth:`yujing.pipeline.Pipeline.process` over
``--messages`` messages in batches of 2,000 (cProfile, sorted by cumulative time), and times one
:meth:`~yujing.pipeline.Pipeline.snapshot` plus its JSON encoding (what the embedded runtime
writes as a checkpoint every minute, in a forked child), and one full garbage collection
over the state's objects (the stall the runtime avoids with ``gc.freeze()``). For the live
runtime with its threads, use py-spy on the benchmark instead (docs/performance.md)::

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

from bench.harness import REPO
from bench.network import city_messages, city_registry
from yujing.config import load_ladders, load_quantities
from yujing.config.settings import IngestSettings
from yujing.pipeline import Pipeline, RawMessage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots", description=__doc__)
    parser.add_argument("--stations", type=int, default=5_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    registry = city_registry(args.stations)
    messages = city_messages(registry, args.stations + args.messages, time.time(), 7)
    pipeline = Pipeline(
        registry,
        load_ladders(REPO / "configs" / "ladders"),
        load_quantities(REPO / "configs" / "quantities.yaml"),
        IngestSettings(),
    )
    now = time.time()
    pipeline.process([RawMessage(t, p, now) for t, p in messages[: args.stations]], now)
    batches = [
        [RawMessage(t, p, now) for t, p in messages[i : i + 2000]]
        for i in range(args.stations, len(messages), 2000)
    ]
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


if __name__ == "__main__":
    raise SystemExit(main())
