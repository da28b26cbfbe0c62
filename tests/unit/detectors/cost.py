"""Per-call cost of the detectors (not a test; run it):

    .venv/bin/python -m tests.unit.detectors.cost

Prints microseconds per call for: a rain reading in order with a full 24 h window (1-min gauge,
1440 increments kept), a late rain reading, a rain tick, a gas reading, and a 100-sample seismic
packet, quiet and in strong shaking.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from detectors import IntensityDetector, LadderDetector, RainDetector
from tests.unit.detectors.helpers import packet, reading, rules, station
from yujing.contracts import Kind, Reading

T = TypeVar("T")


def per_call_us(label: str, call: Callable[[T], object], args: Sequence[T]) -> None:
    start = time.perf_counter()
    for arg in args:
        call(arg)
    elapsed = time.perf_counter() - start
    print(f"{label:<48} {elapsed / len(args) * 1e6:8.1f} µs/call  ({len(args)} calls)")


def rain() -> None:
    spec = station(Kind.RAIN, "R1", interval_s=60.0, silence_factor=1e6)
    detector = RainDetector(spec, rules(spec))
    warm = [reading(spec, 60.0 * i, i, rain_mm=0.2) for i in range(1, 1441)]
    for r in warm:
        detector.update(r)
    base = 1441
    stream = [reading(spec, 60.0 * (base + i), base + i, rain_mm=0.2) for i in range(20_000)]
    per_call_us("rain reading, in order (1440 kept)", detector.update, stream)
    now = stream[-1].ts
    ticks = [now + 0.5 * (k + 1) for k in range(20_000)]
    per_call_us("rain advance (tick, windows expire)", detector.advance, ticks)
    # late readings: seq from an old counter epoch would be a restart; use fresh seqs below
    late = [
        reading(spec, ticks[-1] - 1800.0 - k * 0.01, 10_000_000 + k, rain_mm=0.0)
        for k in range(2000)
    ]
    detector.advance(ticks[-1] + 1.0)
    per_call_us("rain reading, late by 30 min", detector.update, late)


def gas() -> None:
    spec = station(Kind.GAS, "G1", interval_s=1.0, silence_factor=1e6)
    detector = LadderDetector(spec, rules(spec))
    values = 20 + 10 * np.sin(np.arange(20_000) / 50.0)
    stream = [reading(spec, float(i), i, ch4_pct_lel=float(v)) for i, v in enumerate(values)]
    per_call_us("gas reading", detector.update, stream)


def seismic() -> None:
    spec = station(Kind.SEISMIC, "Q1", interval_s=1.0, silence_factor=1e6)
    rng = np.random.default_rng(1)

    def packets(amplitude: float, count: int) -> list[Reading]:
        return [
            packet(spec, "HNN", 1000.0 + k, amplitude * rng.standard_normal(100), k)
            for k in range(count)
        ]

    quiet = IntensityDetector(spec, rules(spec, IntensityDetector))
    per_call_us(
        "seismic packet, 100 samples, quiet",
        quiet.update,
        packets(0.002, 5000),
    )
    strong = IntensityDetector(spec, rules(spec, IntensityDetector))
    shaking = packets(1.0, 5000)  # ~intensity VI–VII: many band crossings per packet
    per_call_us(
        "seismic packet, 100 samples, strong shaking",
        strong.update,
        shaking,
    )


if __name__ == "__main__":
    rain()
    gas()
    seismic()
