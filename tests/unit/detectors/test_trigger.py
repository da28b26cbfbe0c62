"""The P-wave trigger detector: onsets, warm-up and gaps unknown, dead (flat) stretches, channel
choice, and the trigger's grade never paging on its own (the network consumes it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from detectors import StaLtaDetector
from detectors.trigger import flat_mask, no_long_run
from tests.unit.detectors.helpers import feed, packet, play_beside_the_gates, rules, station
from yujing.contracts import Finding, Grade, Kind

SITE = station(Kind.SEISMIC, "Q1", interval_s=1.0)
T0 = 1_700_000_000.0


def detector() -> StaLtaDetector:
    return StaLtaDetector(SITE, rules(SITE, StaLtaDetector))


def seconds(
    count: int,
    seed: int = 1,
    loud: tuple[int, ...] = (),
    channel: str = "HHZ",
    start: float = T0,
    dead: tuple[int, ...] = (),
) -> list:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        samples = rng.normal(size=100)
        if k in loud:
            samples *= 40.0
        if k in dead:
            samples[:] = 0.0
        out.append(packet(SITE, channel, start + k, samples, k))
    return out


def grades(findings: list[Finding]) -> list[tuple[float, Grade]]:
    return [(round(f.ts - T0, 2), f.grade) for f in findings]


def test_warm_up_is_silent_then_none_then_a_trigger_at_the_onset() -> None:
    out = feed(detector(), seconds(30, loud=(20, 21)))
    assert grades(out)[0] == (10.0, Grade.NONE)  # lta_s = 10 s of samples first: no finding
    on = [f for f in out if f.grade is Grade.BLUE]
    assert len(on) == 1 and 20.0 <= on[0].ts - T0 < 20.2  # band-pass delay + STA build-up
    assert on[0].value is not None and on[0].value >= on[0].threshold == 5.0  # type: ignore[operator]
    assert on[0].evidence["channel"] == "HHZ" and on[0].evidence["off_ratio"] == 1.0
    assert (on[0].hazard.value, on[0].rule) == ("earthquake", "trigger")


def test_a_gap_turns_the_trigger_unknown_until_warmed_up_again() -> None:
    first = seconds(15)
    later = seconds(15, seed=2, start=T0 + 100.0)  # 85 s missing
    out = feed(detector(), first + later)
    assert grades(out) == [(10.0, Grade.NONE), (100.0, Grade.UNKNOWN), (110.0, Grade.NONE)]
    assert "gap" in out[1].message


def test_a_dead_flat_stretch_does_not_trigger_on_its_end() -> None:
    """Zeros then noise (a telemetry gap filled upstream) would look like an onset to a plain
    STA/LTA; here the flat stretch restarts the warm-up."""
    out = feed(detector(), seconds(40, dead=tuple(range(12, 20))))
    assert Grade.BLUE not in {f.grade for f in out}
    assert [g for _, g in grades(out)] == [Grade.NONE, Grade.UNKNOWN, Grade.NONE]


def test_only_the_vertical_channel_is_filtered() -> None:
    horizontal = seconds(30, loud=(5,), channel="HHN")
    vertical = seconds(30, seed=3, loud=(22,), channel="HHZ")
    mixed = [p for pair in zip(horizontal, vertical, strict=True) for p in pair]
    out = feed(detector(), mixed)
    on = [f for f in out if f.grade is Grade.BLUE]
    assert [f.evidence["channel"] for f in on] == ["HHZ"]
    assert 22.0 <= on[0].ts - T0 < 22.1


def test_an_old_or_overlapping_packet_is_ignored() -> None:
    d = detector()
    feed(d, seconds(15))
    assert d.update(packet(SITE, "HHZ", T0 + 3.0, np.ones(100), 99)) == []
    assert d.ignored_packets == 1


def flat_mask_reference(
    samples: list[float], previous: float | None, run: int, min_run: int
) -> tuple[list[bool], float, int]:
    """The definition, one sample at a time: the length of the run of equal values ending at
    each sample (the carried run included), and whether it has reached ``min_run``."""
    mask, length, last = [], run, previous
    for x in samples:
        length = length + 1 if last is not None and x == last else 1
        last = x
        mask.append(length >= min_run)
    return mask, samples[-1], length


def random_packets(
    seed: int, count: int
) -> Iterator[tuple[npt.NDArray[np.float64], float | None, int, int]]:
    """Packets of quantised noise with scattered repeats and flat stretches of every length,
    with the run carried in from the previous packet: ``(samples, previous, run, min_run)``."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.choice([1, 2, 3, 10, 100]))
        samples = np.round(rng.normal(size=n) * rng.choice([1.0, 3.0, 30.0])) / 10.0
        if rng.random() < 0.3:
            start = int(rng.integers(0, n))
            samples[start : start + int(rng.integers(1, 60))] = samples[start]
        previous = None if rng.random() < 0.1 else float(rng.choice([samples[0], 0.05]))
        run = 0 if previous is None else int(rng.integers(1, 60))
        yield samples, previous, run, int(rng.choice([2, 5, 50]))


@pytest.mark.parametrize("seed", range(4))
def test_flat_mask_equals_its_definition(seed: int) -> None:
    """Quantised noise with scattered repeats, flat stretches of every length, runs carried in
    from the previous packet (the fast count and the run lengths must agree)."""
    for samples, previous, run, min_run in random_packets(seed, 400):
        mask, value, carried = flat_mask(samples, previous, run, min_run)
        want_mask, want_value, want_run = flat_mask_reference(
            samples.tolist(), previous, run, min_run
        )
        assert mask.tolist() == want_mask
        assert (value, carried) == (want_value, want_run)


def no_long_run_before(
    samples: npt.NDArray[np.float64], previous: float | None, run: int, min_run: int
) -> bool:
    """The fast case as it was decided before :func:`no_long_run`: no repeat at all, or
    :func:`flat_mask`'s count over its ``same`` flags (the packet then takes the live path)."""
    if samples[0] != previous and not (samples[1:] == samples[:-1]).any():
        return True
    same = np.empty(samples.size, dtype=np.bool_)
    same[0] = previous is not None and samples[0] == previous
    np.equal(samples[1:], samples[:-1], out=same[1:])
    repeats = int(np.count_nonzero(same))
    if repeats == 0:
        return True
    longest = (run if same[0] else 1) + repeats
    return bool(same.size > 1 and longest < min_run and not same[-1])


@pytest.mark.parametrize("seed", range(4))
def test_no_long_run_is_flat_masks_fast_case(seed: int) -> None:
    """When it says a packet is live, the definition masks nothing and carries a run of 1;
    and it says so exactly when the checks it replaced did."""
    live = 0
    for samples, previous, run, min_run in random_packets(seed, 2000):
        fast = no_long_run(samples, previous, run, min_run)
        assert fast == no_long_run_before(samples, previous, run, min_run)
        if fast:
            live += 1
            mask, value, carried = flat_mask_reference(samples.tolist(), previous, run, min_run)
            assert not any(mask) and carried == 1
    assert live > 100


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_packets_through_the_fast_update_equal_the_gates(seed: int) -> None:
    """:meth:`SampledDetector.update`'s path for packets gives the findings and state of
    the general path through the gates: redeliveries, a gap, a dead stretch, silence."""
    rng = np.random.default_rng(seed)
    events: list[tuple[str, Any]] = []
    for k, reading in enumerate(seconds(60, seed, loud=(30, 31), dead=(12, 13, 14))):
        if not 40 <= k < 45:  # else a gap: the station goes silent, the trigger warms up again
            events.append(("r", reading))
            if rng.random() < 0.1:
                events.append(("r", reading))  # a redelivery
        events.append(("t", reading.ts + 1.0))
    fast_out, full_out = play_beside_the_gates(detector(), detector(), events)
    assert fast_out == full_out
    assert {f.grade for f in fast_out} >= {Grade.UNKNOWN, Grade.NONE, Grade.BLUE}
