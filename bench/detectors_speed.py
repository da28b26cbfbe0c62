"""Detectors: per-reading cost of each detector, and STA/LTA samples/s next to ObsPy's C.

Run alone (``python -m bench.detectors_speed [--quick]``) or through the harness
(``python -m bench detectors_speed``); the result goes to ``bench/results/detectors_speed.json``.

Figures (medians over ``options.reps`` repetitions, each after a warm-up):

- STA/LTA kernel samples/s, ours vs ObsPy's C ``recursive_sta_lta`` on the same trace in the
  same run: the whole trace in one call, the trace in 1 s packets (the live shape: state carried
  between packets), and a bank of 60 channels (20 stations × 3) advanced together per packet
  against ObsPy called once per channel on whole traces;
- the trigger chain (causal band-pass + STA/LTA + trigger decision) in 1 s packets, against
  ObsPy's band-pass + ``recursive_sta_lta`` + ``trigger_onset`` on the whole trace;
- µs per reading (or per packet, per tick) of every per-station detector and second-tier stage
  on the shipped ladders.

The trace is the 2.6 h BW.KW1 noise record (``../shared/datasets/obspy_seismic``) when present,
else seeded Gaussian noise of the same length and rate.
"""

from __future__ import annotations

import gzip
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from obspy.signal.filter import bandpass
from obspy.signal.trigger import recursive_sta_lta, trigger_onset

from bench.harness import REPO, Figure, Options, Result, summarize, write_result
from detectors import (
    AnomalyDetector,
    IntensityDetector,
    LadderDetector,
    QualityDetector,
    RainDetector,
    SilenceDetector,
    StaLtaDetector,
)
from detectors.base import Detector
from detectors.drift import NeighbourDrift
from detectors.quality import QualitySpec
from detectors.stalta import CausalBandpass, RecursiveStaLta
from detectors.tier2 import build_second_tier
from yujing.config import load_ladders, load_registry
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Finding, Grade, Hazard, Kind, Reading, Waveform

NAME = "detectors_speed"
TITLE = "Detectors: per-reading cost; STA/LTA samples/s vs ObsPy's C on the same data"
BOOK = load_ladders(REPO / "configs" / "ladders")
SR = 100.0
DATASETS = Path(os.environ.get("YUJING_DATASETS", REPO.parent / "shared" / "datasets"))
KW1 = (
    DATASETS / "obspy_seismic" / "signal_tests_data" / "BW.KW1._.EHZ.D.2011.090_downsampled.asc.gz"
)


def trace(quick: bool, seed: int) -> tuple[np.ndarray, str]:
    if KW1.is_file():
        with gzip.open(KW1, "rt") as handle:
            samples = np.array(handle.read().split(), dtype=np.float64)
        source = "BW.KW1 2.6 h noise record (ObsPy test data)"
    else:
        samples = np.random.default_rng(seed).normal(size=936_001) * 500.0
        source = "seeded Gaussian noise (datasets not found)"
    if quick:
        samples = samples[:60_000]
    return samples, source


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def repeat(options: Options, call: Callable[[], object]) -> list[float]:
    call()  # warm-up
    return [timed(call) for _ in range(options.reps)]


def station(kind: Kind, sid: str, interval_s: float, **params: float) -> StationSpec:
    base: dict[str, float] = {"silence_factor": 1e9}
    if kind is Kind.WATER_LEVEL:
        base |= {"warning_level_m": 10.0, "guaranteed_level_m": 11.5, "record_level_m": 12.3}
    if kind is Kind.CHEM:
        base |= {"pressure_high_kpa": 300.0, "pressure_highhigh_kpa": 350.0,
                 "temp_high_c": 50.0, "temp_highhigh_c": 60.0}  # fmt: skip
    return StationSpec(sid, "", kind, "d1", 40.0, 116.3, interval_s, params={**base, **params})


def rules_of(spec: StationSpec, cls: type) -> list:  # type: ignore[type-arg]
    from detectors.factory import REGISTRY

    return [r for r in BOOK.for_station(spec) if REGISTRY.get((r.hazard, r.rule)) in (cls,)]


# -- STA/LTA against ObsPy -----------------------------------------------------------------------


def stalta_figures(options: Options, samples: np.ndarray) -> list[Figure]:
    n_sta, n_lta = 100, 1000
    n = samples.size
    obspy_whole = repeat(options, lambda: recursive_sta_lta(samples, n_sta, n_lta))

    def ours_whole() -> None:
        RecursiveStaLta(n_sta, n_lta).process(samples[None, :])

    def ours_packets() -> None:
        bank = RecursiveStaLta(n_sta, n_lta)
        for start in range(0, n, 100):
            bank.process(samples[None, start : start + 100])

    channels = 60
    block = np.tile(samples[: min(n, 360_000)], (channels, 1))
    m = block.shape[1]

    def ours_bank() -> None:
        bank = RecursiveStaLta(n_sta, n_lta, channels)
        for start in range(0, m, 100):
            bank.process(block[:, start : start + 100])

    def obspy_bank() -> None:
        for c in range(channels):
            recursive_sta_lta(block[c], n_sta, n_lta)

    def rate(seconds: list[float], count: int) -> list[float]:
        return [count / s for s in seconds]

    base = summarize(rate(obspy_whole, n))
    bank_base = summarize(rate(repeat(options, obspy_bank), channels * m))
    figures = [
        Figure(
            "STA/LTA kernel, whole trace in one call",
            "samples/s",
            summarize(rate(repeat(options, ours_whole), n)),
            "higher",
            base,
            "ObsPy recursive_sta_lta (C), whole trace",
        ),  # fmt: skip
        Figure(
            "STA/LTA kernel, 1 s packets, state carried",
            "samples/s",
            summarize(rate(repeat(options, ours_packets), n)),
            "higher",
            base,
            "ObsPy recursive_sta_lta (C), whole trace",
        ),  # fmt: skip
        Figure(
            "STA/LTA bank, 60 channels advanced together per 1 s packet",
            "samples/s",
            summarize(rate(repeat(options, ours_bank), channels * m)),
            "higher",
            bank_base,
            "ObsPy recursive_sta_lta (C), each channel's whole trace",
        ),  # fmt: skip
    ]

    def obspy_chain() -> None:
        filtered = bandpass(samples, 1.0, 20.0, SR, corners=4, zerophase=False)
        trigger_onset(recursive_sta_lta(filtered, n_sta, n_lta), 5.0, 1.0)

    spec = station(Kind.SEISMIC, "Q1", 1.0)
    packets = [
        Reading(
            "Q1",
            Kind.SEISMIC,
            "d1",
            s / SR,
            k,
            {},
            waveform=Waveform("HHZ", SR, s / SR, samples[s : s + 100]),
        )  # fmt: skip
        for k, s in enumerate(range(0, n, 100))
    ]

    def detector_chain() -> None:
        d = StaLtaDetector(spec, rules_of(spec, StaLtaDetector))
        for p in packets:
            d.update(p)

    def kernels_only() -> None:
        band, bank = CausalBandpass(1.0, 20.0, SR, 4), RecursiveStaLta(n_sta, n_lta)
        for start in range(0, n, 100):
            bank.process(band.process(samples[None, start : start + 100]))

    chain_base = summarize(rate(repeat(options, obspy_chain), n))
    figures += [
        Figure(
            "trigger detector (band-pass + STA/LTA + on/off), 1 s packets",
            "samples/s",
            summarize(rate(repeat(options, detector_chain), n)),
            "higher",
            chain_base,
            "ObsPy bandpass + recursive_sta_lta + trigger_onset, whole trace",
        ),  # fmt: skip
        Figure(
            "band-pass + STA/LTA kernels alone, 1 s packets",
            "samples/s",
            summarize(rate(repeat(options, kernels_only), n)),
            "higher",
            chain_base,
            "ObsPy bandpass + recursive_sta_lta + trigger_onset, whole trace",
        ),  # fmt: skip
    ]
    return figures


# -- per-reading cost ----------------------------------------------------------------------------


def per_call_us(options: Options, make: Callable[[], Detector], feed: list[Reading],
                ticks: list[float] | None = None) -> list[float]:  # fmt: skip
    def run() -> None:
        d = make()
        for r in feed:
            d.update(r)
        for t in ticks or ():
            d.advance(t)

    count = len(ticks) if ticks else len(feed)
    if ticks:  # time only the ticks: feed first, untimed
        samples = []
        for _ in range(options.reps + 1):
            d = make()
            for r in feed:
                d.update(r)
            samples.append(timed(lambda d=d: [d.advance(t) for t in ticks]))  # type: ignore[misc]
        return [s / count * 1e6 for s in samples[1:]]
    return [s / count * 1e6 for s in repeat(options, run)]


def cost_figures(options: Options) -> list[Figure]:
    n = 2000 if options.quick else 20_000
    rng = np.random.default_rng(options.seed)
    figures: list[Figure] = []

    def add(label: str, samples: list[float], unit: str = "µs/reading") -> None:
        figures.append(Figure(label, unit, summarize(samples), "lower"))

    rain = station(Kind.RAIN, "R1", 60.0)
    rain_feed = [Reading("R1", Kind.RAIN, "d1", 60.0 * k, k, {"rain_mm": 0.2})
                 for k in range(1, n + 1)]  # fmt: skip
    add(
        "RainDetector (1-min gauge, 24 h window full)",
        per_call_us(options, lambda: RainDetector(rain, rules_of(rain, RainDetector)), rain_feed),
    )
    add("RainDetector tick (windows expire)",
        per_call_us(options, lambda: RainDetector(rain, rules_of(rain, RainDetector)), rain_feed,
                    [60.0 * n + k for k in range(1, 2001)]), "µs/tick")  # fmt: skip
    gas = station(Kind.GAS, "G1", 10.0)
    gas_feed = [Reading("G1", Kind.GAS, "d1", 10.0 * k, k,
                        {"ch4_pct_lel": float(20 + 10 * math.sin(k / 50)),
                         "pressure_kpa": float(400 + rng.normal())}) for k in range(n)]  # fmt: skip
    add(
        "LadderDetector gas (level, persistence, rate rule)",
        per_call_us(options, lambda: LadderDetector(gas, rules_of(gas, LadderDetector)), gas_feed),
    )
    river = station(Kind.WATER_LEVEL, "W1", 300.0)
    river_feed = [Reading("W1", Kind.WATER_LEVEL, "d1", 300.0 * k, k,
                          {"level_m": float(8 + 0.001 * k + 0.01 * rng.normal())})
                  for k in range(n)]  # fmt: skip
    add("LadderDetector river (level, rise, projection; Hampel gate)",
        per_call_us(options, lambda: LadderDetector(river, rules_of(river, LadderDetector)),
                    river_feed))  # fmt: skip
    add("AnomalyDetector (seasonal median/MAD + conformal, 1000 scores)",
        per_call_us(options, lambda: AnomalyDetector(gas, rules_of(gas, AnomalyDetector)),
                    gas_feed))  # fmt: skip
    add(
        "SilenceDetector",
        per_call_us(options, lambda: SilenceDetector(gas, BOOK.for_station(gas)), gas_feed),
    )
    add(
        "QualityDetector",
        per_call_us(options, lambda: QualityDetector(gas, BOOK.for_station(gas)), gas_feed),
    )
    quake = station(Kind.SEISMIC, "Q1", 1.0)
    quiet = [Reading("Q1", Kind.SEISMIC, "d1", float(k), k, {},
                     waveform=Waveform("HNN", SR, float(k), 0.002 * rng.normal(size=100)))
             for k in range(n // 4)]  # fmt: skip
    strong = [Reading("Q1", Kind.SEISMIC, "d1", float(k), k, {},
                      waveform=Waveform("HNN", SR, float(k), 1.0 * rng.normal(size=100)))
              for k in range(n // 4)]  # fmt: skip
    make_i = lambda: IntensityDetector(quake, rules_of(quake, IntensityDetector))  # noqa: E731
    add(
        "IntensityDetector, 100-sample packet, quiet",
        per_call_us(options, make_i, quiet),
        "µs/packet",
    )
    add(
        "IntensityDetector, 100-sample packet, strong shaking",
        per_call_us(options, make_i, strong),
        "µs/packet",
    )
    vertical = [Reading("Q1", Kind.SEISMIC, "d1", float(k), k, {},
                        waveform=Waveform("HHZ", SR, float(k), rng.normal(size=100)))
                for k in range(n // 4)]  # fmt: skip
    add("StaLtaDetector, 100-sample Z packet",
        per_call_us(options, lambda: StaLtaDetector(quake, rules_of(quake, StaLtaDetector)),
                    vertical), "µs/packet")  # fmt: skip
    figures += tier2_figures(options, n)
    figures.append(drift_figure(options, n))
    return figures


def drift_figure(options: Options, n: int) -> Figure:
    """The drift check in a long run: 6 h windows full, at 1-min reports (a short run, as the
    other benchmarks make, never fills them)."""
    near = {"A": ("B", "C"), "B": ("A", "C"), "C": ("A", "B")}
    drift = NeighbourDrift(
        Registry.from_specs(
            [StationSpec(s, "", Kind.GAS, "d1", 0.0, 0.0, 60.0, neighbours=near[s]) for s in near]
        ),
        {"ch4_pct_lel": QualitySpec(drift_limit=5.0, drift_window_s=21600.0)},
    )
    noise = (1.0 + 0.2 * np.random.default_rng(options.seed).normal(size=997)).tolist()
    minute = [0]

    def minutes(count: int) -> None:
        for _ in range(count):
            i = minute[0]
            minute[0] += 1
            for k, name in enumerate(near):
                value = {"ch4_pct_lel": noise[(3 * i + k) % len(noise)]}
                drift.update(Reading(name, Kind.GAS, "d1", 60.0 * i, i, value))

    minutes(720)  # 12 h: both windows full from here on
    per = max(n // 3, 1)
    return Figure(
        "drift check per gas reading, 6 h windows full (1-min reports, 2 neighbours)",
        "µs/reading",
        summarize([s / (3 * per) * 1e6 for s in repeat(options, lambda: minutes(per))]),
        "lower",
    )


def tier2_figures(options: Options, n: int) -> list[Figure]:
    registry = load_registry(REPO / "configs" / "demo" / "stations.yaml")
    gauges = [s for s in registry if s.kind is Kind.RAIN]
    readings = [
        Reading(
            g.id,
            Kind.RAIN,
            g.district,
            60.0 * (k // len(gauges) + 1),
            k // len(gauges) + 1,
            {"rain_mm": 0.3},
        )  # fmt: skip
        for k, g in zip(range(n), gauges * (n // len(gauges) + 1), strict=False)
    ]
    trigger = Finding("HD-SM-001", "haidian", Hazard.EARTHQUAKE, "trigger", Grade.BLUE, 5.0,
                      value=6.0, threshold=5.0, station="HD-SM-001")  # fmt: skip

    def readings_only() -> None:
        tier = build_second_tier(registry, BOOK)
        for r in readings:
            tier.update(r, [])

    def with_ticks() -> None:
        tier = build_second_tier(registry, BOOK)
        for k, r in enumerate(readings):
            tier.update(r, [])
            if k % len(gauges) == len(gauges) - 1:
                tier.advance(r.ts + 1.0, [])

    def findings() -> None:
        tier = build_second_tier(registry, BOOK)
        for k in range(n):
            tier.advance(float(k), [trigger])

    return [
        Figure(
            "second tier per rain reading (demo registry: 90 gauges, 11 areas)",
            "µs/reading",
            summarize([s / n * 1e6 for s in repeat(options, readings_only)]),
            "lower",
        ),  # fmt: skip
        Figure(
            "second tier per rain reading incl. one tick per minute of data",
            "µs/reading",
            summarize([s / n * 1e6 for s in repeat(options, with_ticks)]),
            "lower",
        ),  # fmt: skip
        Figure(
            "second tier per first-tier finding (through all stages)",
            "µs/finding",
            summarize([s / n * 1e6 for s in repeat(options, findings)]),
            "lower",
        ),  # fmt: skip
    ]


def run(options: Options) -> Result:
    samples, source = trace(options.quick, options.seed)
    figures = stalta_figures(options, samples) + cost_figures(options)
    return Result(
        NAME,
        TITLE,
        figures=figures,
        params={
            "trace": source,
            "samples": int(samples.size),
            "sr_hz": SR,
            "sta_s": 1.0,
            "lta_s": 10.0,
            "band_hz": [1.0, 20.0],
        },  # fmt: skip
        notes=[
            "ObsPy 1.5.1 is called, never copied; its C kernel runs on the whole trace at once "
            "(the offline shape), ours carries state per channel across packets (the live shape).",
            "µs figures are wall time per call on this machine; the load average is in 'machine'.",
        ],
    )


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    options = Options(quick=quick, reps=1 if quick else 3)
    started = time.time()
    result = run(options)
    path = write_result(result, options, started)
    for f in result.figures:
        ratio = "" if f.ratio is None else f"  ({f.ratio:.2f} × {f.baseline_name})"
        print(f"{f.metric:<66} {f.value.median:>14,.1f} {f.unit}{ratio}")
    print(f"→ {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
