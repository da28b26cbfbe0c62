"""PGA → intensity → ladder, against the definition evaluated at every sample."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from detectors import IntensityDetector
from detectors.ladder import LadderState, next_grade
from detectors.seismic import component, intensity, trailing_pga, trailing_pga_reference
from tests.unit.detectors.helpers import (
    changes,
    feed,
    packet,
    play_beside_the_gates,
    rules,
    station,
)
from yujing.contracts import Finding, Grade, Kind, Reading

SITE = station(Kind.SEISMIC, "Q1", interval_s=1.0)
SLOPE, INTERCEPT = 3.17, 6.59  # GB/T 17742-2020 Appendix A, as in configs/ladders/seismic.yaml
T0 = 1_700_000_000.0
SR = 128.0  # sample times t0 + i/128 are exact binary fractions: chunkings agree to the bit


def detector() -> IntensityDetector:
    return IntensityDetector(SITE, rules(SITE, IntensityDetector))


def gb17742(pga_ms2: float) -> float:
    return min(12.0, max(1.0, SLOPE * math.log10(pga_ms2) + INTERCEPT))


@pytest.mark.parametrize("pga", [0.01, 0.152, 0.5, 1.0, 1.35, 4.0, 100.0])
def test_intensity_follows_the_standard_formula(pga: float) -> None:
    assert float(intensity(np.array([pga]), SLOPE, INTERCEPT)[0]) == pytest.approx(gb17742(pga))


def test_intensity_is_clipped_to_the_scale_and_zero_is_quiet() -> None:
    values = intensity(np.array([0.0, 1e-9, 1e6]), SLOPE, INTERCEPT)
    assert values.tolist() == [1.0, 1.0, 12.0]


def test_trailing_pga_matches_its_reference_across_packets() -> None:
    rng = np.random.default_rng(5)
    for width in (1, 2, 7, 128):
        signal = np.abs(rng.normal(size=1000))
        fast, slow = [], []
        tail = np.empty(0)
        for cut in np.split(signal, [13, 14, 300, 301, 302, 700]):
            fast.append(trailing_pga(cut, tail, width))
            slow.append(trailing_pga_reference(cut, tail, width))
            tail = np.concatenate((tail, cut))[-(width - 1) :] if width > 1 else np.empty(0)
        assert np.array_equal(np.concatenate(fast), np.concatenate(slow))
        assert np.array_equal(np.concatenate(fast), trailing_pga(signal, np.empty(0), width))


def test_component_from_channel_code() -> None:
    assert [component(c) for c in ("HNN", "HNE", "HN1", "HN2", "HNZ", "HN3", "LOG")] == [
        "horizontal",
        "horizontal",
        "horizontal",
        "horizontal",
        "vertical",
        "vertical",
        None,
    ]


def test_a_packet_with_a_known_peak_gives_its_intensity_and_grade() -> None:
    samples = np.zeros(100)
    samples[37] = -0.5  # PGA 0.5 m/s² → I = 5.64 → degree VI (5.5 ≤ I < 6.5) → orange
    out = detector().update(packet(SITE, "HNE", T0, samples, 1, sr_hz=100.0))
    assert [(f.grade, f.ts) for f in out] == [(Grade.NONE, T0), (Grade.ORANGE, T0 + 0.37)]
    yellow = out[1]
    assert yellow.value == pytest.approx(gb17742(0.5))
    assert yellow.value == pytest.approx(5.6357, abs=1e-4)
    assert (yellow.threshold, yellow.quantity) == (5.5, "intensity")
    assert yellow.evidence["pga_ms2"] == 0.5
    assert yellow.evidence["peak_ts"] == T0 + 0.37
    assert yellow.evidence["channel"] == "HNE"
    assert yellow.message == "intensity 5.6 ≥ 5.5 (orange)"
    assert (yellow.hazard.value, yellow.rule) == ("earthquake", "intensity")


def test_a_sine_packet_climbs_the_rungs_once_up_to_its_peak_intensity() -> None:
    t = np.arange(100) / 100.0
    out = detector().update(packet(SITE, "HNN", T0, np.sin(2 * np.pi * 5 * t), 1, sr_hz=100.0))
    assert [f.grade for f in out] == [
        Grade.NONE,
        Grade.YELLOW,  # the second sample, 0.31 m/s²: I = 4.97 (V), past blue at once
        Grade.ORANGE,
        Grade.RED,  # peak 1 m/s²: I = 6.59, degree VII
    ]
    assert out[-1].evidence["packet_intensity"] == pytest.approx(6.59)
    assert all(
        f.value is not None and f.threshold is not None and f.value >= f.threshold for f in out[1:]
    )


def quake(seconds: float = 420.0, seed: int = 2) -> npt.NDArray[np.float64]:
    """Noise, a P onset at 10 s, S at 16 s peaking near 1.6 m/s² (VII), a long coda."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    envelope = (
        0.003
        + 0.08 * (t > 10) * np.exp(-np.clip(t - 10, 0, None) / 4)
        + 1.6 * (t > 16) * np.clip(t - 16, 0, 2) / 2 * np.exp(-np.clip(t - 18, 0, None) / 90)
    )
    return (
        envelope
        * np.sin(2 * np.pi * 3.0 * t + rng.uniform(0, 6.28))
        * rng.uniform(0.8, 1.0, t.size)
    )


def chunked(
    trace: npt.NDArray[np.float64], sizes: list[int], channel: str = "HNN"
) -> list[Reading]:
    out, start, seq = [], 0, 1
    for size in sizes:
        if start >= trace.size:
            break
        out.append(packet(SITE, channel, T0 + start / SR, trace[start : start + size], seq, SR))
        start, seq = start + size, seq + 1
    return out


def per_sample_reference(trace: npt.NDArray[np.float64]) -> list[tuple[Any, ...]]:
    """The definition: trailing 1 s PGA, intensity, next_grade at every single sample."""
    ladder = rules(SITE, IntensityDetector)[0].ladder
    pga = trailing_pga_reference(np.abs(trace), np.empty(0), round(1.0 * SR))
    values = intensity(pga, SLOPE, INTERCEPT)
    state, published = LadderState(), Grade.UNKNOWN
    out: list[tuple[Any, ...]] = []
    for i, value in enumerate(values.tolist()):
        ts = T0 + i / SR
        state = next_grade(ladder, state, {"intensity": value}, ts)
        if state.grade is not published:
            rung = ladder.rung_for(state.grade)
            threshold = rung.enter if rung is not None else None
            out.append((round(ts, 6), "intensity", state.grade.value, round(value, 6), threshold))
            published = state.grade
    return out


def test_findings_equal_the_per_sample_definition_up_and_down() -> None:
    trace = quake()
    expected = per_sample_reference(trace)
    grades = [g for _, _, g, _, _ in expected]
    assert grades[:5] == ["none", "blue", "yellow", "orange", "red"]
    assert len(grades) > 6  # and it steps down again after 60 s dwells
    findings = feed(detector(), chunked(trace, [int(SR)] * 1000))
    assert changes(findings) == expected


def test_chunking_does_not_matter() -> None:
    trace = quake()
    whole = changes(feed(detector(), chunked(trace, [trace.size])))
    rng = random.Random(9)
    for sizes in ([int(SR)] * 1000, [1] * 300 + [rng.randint(1, 400) for _ in range(2000)]):
        assert changes(feed(detector(), chunked(trace, sizes))) == whole


def test_vertical_only_station_uses_z_until_a_horizontal_channel_appears() -> None:
    quake_det = detector()
    spike = np.zeros(100)
    spike[10] = 0.5
    out = quake_det.update(packet(SITE, "HNZ", T0, spike, 1, sr_hz=100.0))
    assert out[-1].grade is Grade.ORANGE
    assert out[-1].evidence["component"] == "Z (no horizontal channel)"
    quake_det.update(packet(SITE, "HNE", T0 + 1, np.zeros(100), 1, sr_hz=100.0))
    big = np.full(100, 3.0)
    assert quake_det.update(packet(SITE, "HNZ", T0 + 1, big, 2, sr_hz=100.0)) == []


def three_channel_events(seed: int) -> list[tuple[str, Any]]:
    """A 3-channel station's packets, shuffled within each second, with redeliveries, a 40 s
    outage of the horizontals (the vertical goes on), a 40 s outage of all channels, and ticks."""
    rng = random.Random(seed)
    trace = quake(seconds=200.0, seed=seed)
    events: list[tuple[str, Any]] = []
    seq = 0
    for second in range(200):
        block = trace[second * int(SR) : (second + 1) * int(SR)]
        horizontals_out = 60 <= second < 100
        if 140 <= second < 180:
            events.append(("t", T0 + second + 1.0))
            continue
        channels = ["HNZ"] if horizontals_out else ["HNZ", "HNN", "HNE"]
        rng.shuffle(channels)
        for channel in channels:
            seq += 1
            gain = 1.0 if channel == "HNZ" else rng.uniform(0.5, 1.5)
            reading = packet(SITE, channel, T0 + second, block * gain, seq, SR)
            events.append(("r", reading))
            if rng.random() < 0.1:
                events.append(("r", reading))  # a redelivery
        events.append(("t", T0 + second + 1.0))
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vertical_packets_skipping_the_gates_change_nothing(seed: int) -> None:
    """The fast path for vertical packets once a horizontal channel is seen gives the findings
    of the full path through the gates (silence included: the vertical keeps the station from
    being silent while the horizontals are out)."""
    fast_out, full_out = play_beside_the_gates(
        detector(), detector(), three_channel_events(seed), without_gate
    )
    assert fast_out == full_out
    assert {f.grade for f in fast_out} >= {Grade.UNKNOWN, Grade.RED}  # silence, then the quake


def without_gate(state: dict[str, Any]) -> dict[str, Any]:
    """A detector's state but its ``seq`` gate (which remembers packets for redeliveries)."""
    return {key: value for key, value in state.items() if key != "gate"}


def test_an_older_packet_of_another_channel_can_only_raise_at_the_current_time() -> None:
    quake_det = detector()
    quiet = quake_det.update(packet(SITE, "HNN", T0, np.zeros(100), 1, sr_hz=100.0))
    assert [f.grade for f in quiet] == [Grade.NONE]
    spike = np.zeros(100)
    spike[37] = 0.5
    out: list[Finding] = quake_det.update(packet(SITE, "HNE", T0, spike, 1, sr_hz=100.0))
    assert [(f.grade, f.ts) for f in out] == [(Grade.ORANGE, T0 + 0.99)]
    assert out[0].evidence["peak_ts"] == T0 + 0.37


def test_missing_intensity_params_are_a_config_error() -> None:
    from dataclasses import replace
    from types import MappingProxyType

    from yujing.contracts import ConfigError

    spec = rules(SITE, IntensityDetector)[0]
    with pytest.raises(ConfigError, match="intensity_slope"):
        IntensityDetector(SITE, [replace(spec, params=MappingProxyType({}))])


def test_trailing_pga_one_window_path_equals_the_sliding_filter() -> None:
    """A full tail and a packet of at most one window take the accumulation path; its values
    must be the filter's to the bit, NaN and infinity included."""
    from scipy.ndimage import maximum_filter1d

    def sliding(cut: npt.NDArray[np.float64], tail: npt.NDArray[np.float64], width: int) -> Any:
        joined = np.concatenate((tail, cut))
        out = maximum_filter1d(joined, size=width, origin=(width - 1) // 2, mode="nearest")
        return out[tail.size :]

    rng = np.random.default_rng(11)
    for _ in range(2000):
        width = int(rng.integers(2, 40))
        cut = np.abs(rng.normal(size=int(rng.integers(1, width + 1))))
        tail = np.abs(rng.normal(size=width - 1))
        if rng.random() < 0.3:  # ties
            cut, tail = np.round(cut, 1), np.round(tail, 1)
        if rng.random() < 0.1:
            cut[rng.integers(cut.size)] = np.nan
        if rng.random() < 0.1:
            tail[rng.integers(tail.size)] = rng.choice([np.nan, np.inf])
        np.testing.assert_array_equal(trailing_pga(cut, tail, width), sliding(cut, tail, width))


def test_the_carried_tail_peak_is_the_tails_maximum() -> None:
    """Each channel's cached tail peak is what scanning its tail gives, after every packet
    (peak first or not, ties, packets shorter and longer than the window, out of order), and
    after a snapshot is restored; the findings are those of an uninterrupted detector."""
    from detectors._sampled import peak

    rng = np.random.default_rng(4)
    carried, restored = detector(), detector()
    carried_out: list[Finding] = []
    restored_out: list[Finding] = []
    t = T0
    for seq in range(400):
        n = int(rng.choice([1, 40, 127, 128, 128, 128, 300]))
        samples = np.round(rng.normal(size=n) * 0.3 * rng.choice([0.1, 1.0]), 2)
        if rng.random() < 0.2:
            samples[0] = 2.0 * np.abs(samples).max()  # the peak first: it leaves the tail
        if rng.random() < 0.05:
            t -= 1.0  # an old packet
        reading = packet(SITE, "HNE", t, samples, seq, SR)
        t += n / SR
        carried_out.extend(carried.update(reading))
        restored_out.extend(restored.update(reading))
        if seq % 50 == 0:
            snapshot = restored.snapshot()
            restored = detector()
            restored.restore(snapshot)
        for d in (carried, restored):
            for state in d._channels.values():
                assert state.tail_peak == (peak(state.tail) if state.tail.size else 0.0)
    assert changes(carried_out) == changes(restored_out)
    assert {f.grade for f in carried_out} >= {Grade.NONE, Grade.RED}
