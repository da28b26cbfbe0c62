"""Memory: resident set size per 1,000 stations of pipeline state.

Each size runs in a fresh child process (``python -m bench.memory --child N HOURS``): it imports
everything, builds the pipeline (decoder, first- and second-tier detectors, the pure alert book)
for ``N`` stations of the city network (all reporting every 60 s), feeds ``HOURS`` of quiet
readings through :meth:`yujing.pipeline.Pipeline.process`, collects garbage and reads ``VmRSS``.
The figure is the slope between the two sizes (so the interpreter and imports cancel out); the
baseline is the size of the same state serialized (``Pipeline.snapshot()`` as compact JSON).
Rain windows keep 24 h: after 1 h each gauge holds 60 of its up to 1,440 increments.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import REPO, Figure, Options, Result, summarize

NAME = "memory"
TITLE = "Memory: RSS per 1,000 stations of pipeline state"


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def child(stations: int, hours: float) -> dict[str, Any]:
    from bench.network import city_registry, templates
    from yujing.config import load_ladders, load_quantities
    from yujing.config.settings import IngestSettings
    from yujing.pipeline import Pipeline, RawMessage

    registry = city_registry(stations, interval_s=60.0)
    shapes = templates(registry, 7)
    ladders = load_ladders(REPO / "configs" / "ladders")
    pipeline = Pipeline(
        registry, ladders, load_quantities(REPO / "configs" / "quantities.yaml"), IngestSettings()
    )
    start = time.time() - hours * 3600.0
    steps = int(hours * 60)
    for step in range(steps):
        ts = start + 60.0 * step
        batch = [
            RawMessage(
                topic,
                (
                    f'{{"station":"{sid}","ts":{int(ts * 1000)},"seq":{step},'
                    f'"values":{values},"quality":"ok"}}'
                ).encode(),
                ts,
            )
            for sid, (topic, values) in shapes.items()
        ]
        for i in range(0, len(batch), 2000):
            pipeline.process(batch[i : i + 2000], ts)
        pipeline.tick(ts + 30.0)
    gc.collect()
    rss = _rss_bytes()
    state = len(json.dumps(pipeline.snapshot(), separators=(",", ":")))
    return {
        "rss": rss,
        "state_json": state,
        "stations": len(registry),
        "readings": steps * len(shapes),
    }


def _measure(stations: int, hours: float) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--child", str(stations), str(hours)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(options: Options) -> Result:
    small, large, hours = (30, 90, 0.1) if options.quick else (500, 1_500, 0.5)
    result = Result(
        NAME,
        TITLE,
        params={"sizes": [small, large], "hours_of_readings": hours, "interval_s": 60.0},
    )
    per_k, json_per_k = [], []
    for _ in range(options.reps):
        a, b = _measure(small, hours), _measure(large, hours)
        span = b["stations"] - a["stations"]
        per_k.append((b["rss"] - a["rss"]) / span * 1000 / 2**20)
        json_per_k.append((b["state_json"] - a["state_json"]) / span * 1000 / 2**20)
        result.notes.append(
            f"RSS {a['stations']} stations {a['rss'] / 2**20:.1f} MiB, "
            f"{b['stations']} stations {b['rss'] / 2**20:.1f} MiB"
        )
    result.figures.append(
        Figure(
            f"RSS per 1,000 stations after {hours:g} h of readings",
            "MiB",
            summarize(per_k),
            better="lower",
            baseline=summarize(json_per_k),
            baseline_name="same state as compact JSON",
        )
    )
    return result


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]), float(sys.argv[3]))))
