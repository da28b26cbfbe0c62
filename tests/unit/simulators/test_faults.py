"""Fault injection on the delivered stream: each fault does what the table in
simulators/faults.py says, windows still join, and ``readings`` is what ingest decodes from
``deliveries``."""

from __future__ import annotations

import json
import math
from collections import Counter
from types import MappingProxyType

import numpy as np
import pytest

from ingest import Decoder
from simulators import Scenario, SensorSimulator, demo_registry
from simulators.faults import Fault, FaultKind
from simulators.network import merge_registries
from tests.unit.simulators.helpers import REPO, START
from yujing.config import load_quantities
from yujing.contracts import Kind

GAS, RAIN, QUAKE = "CY-GS-006", "HD-RN-023", "HD-SM-007"


def simulator(*faults: Fault) -> SensorSimulator:
    registry = merge_registries([s for s in demo_registry() if s.id in (GAS, RAIN, QUAKE)])
    scenario = Scenario("faults", "", 1200.0, MappingProxyType({}), faults=faults)
    return SensorSimulator(registry, scenario, 7, START)


def of(messages: list, station: str) -> list:  # type: ignore[type-arg]
    return [m for m in messages if m.station == station]


def value(message: object) -> float:
    body = json.loads(message.payload)  # type: ignore[attr-defined]
    return float(next(iter(body["values"].values())))


CLEAN = simulator()
WINDOW = (START, START + 1200.0)


def test_dropout_and_destroyed() -> None:
    sim = simulator(
        Fault(FaultKind.DROPOUT, GAS, 100.0, 200.0), Fault(FaultKind.DESTROYED, QUAKE, 50.0)
    )
    gas = [m.ts - START for m in of(sim.deliveries(*WINDOW), GAS)]
    assert gas and not [t for t in gas if 100.0 <= t < 200.0]
    assert len(gas) == len(of(CLEAN.deliveries(*WINDOW), GAS)) - 10
    assert max(m.ts - START for m in of(sim.deliveries(*WINDOW), QUAKE)) < 50.0


def test_stuck_spike_drift_change_values_only_where_said() -> None:
    sim = simulator(
        Fault(FaultKind.STUCK, GAS, 300.0, 500.0),
        Fault(FaultKind.SPIKE, GAS, at_s=(600.0,), value=40.0),
        Fault(FaultKind.DRIFT, GAS, 700.0, 1000.0, value=36.0),
    )
    clean = of(CLEAN.deliveries(*WINDOW), GAS)
    faulty = of(sim.deliveries(*WINDOW), GAS)
    assert [m.seq for m in clean] == [m.seq for m in faulty]
    for c, f in zip(clean, faulty, strict=True):
        t = c.ts - START
        if 300.0 <= t < 500.0:
            assert value(f) == value(next(m for m in clean if m.ts - START >= 300.0))
        elif 600.0 <= t < 610.0:
            assert value(f) == pytest.approx(value(c) + 40.0, abs=0.101)
        elif 700.0 <= t < 1000.0:
            assert value(f) == pytest.approx(value(c) + 36.0 * (t - 700.0) / 3600, abs=0.101)
        else:
            assert f.payload == c.payload


def test_clock_skew_moves_event_time_not_arrival() -> None:
    sim = simulator(Fault(FaultKind.CLOCK_SKEW, RAIN, 0.0, 600.0, value=-90.0))
    skewed = of(sim.deliveries(*WINDOW), RAIN)
    clean = of(CLEAN.deliveries(*WINDOW), RAIN)
    for c, s in zip(clean, skewed, strict=True):
        assert s.arrival == c.arrival
        assert s.ts == pytest.approx(c.ts - (90.0 if c.ts - START < 600.0 else 0.0))


def test_duplicates_arrive_twice_byte_for_byte() -> None:
    sim = simulator(Fault(FaultKind.DUPLICATE, GAS, 0.0, 300.0, value=2.0))
    counts = Counter(m.payload for m in of(sim.deliveries(*WINDOW), GAS))
    assert sum(1 for n in counts.values() if n == 2) == 30
    first, copy = [m for m in sim.deliveries(*WINDOW) if m.station == GAS][:2]
    assert first.payload == copy.payload and copy.arrival == first.arrival + 2.0


def test_reorder_shuffles_within_its_window() -> None:
    sim = simulator(Fault(FaultKind.REORDER, GAS, 0.0, 600.0, value=120.0))
    shuffled = of(sim.deliveries(*WINDOW), GAS)
    assert sorted(m.payload for m in shuffled) == sorted(
        m.payload for m in of(CLEAN.deliveries(*WINDOW), GAS)
    )
    seqs = [m.seq for m in shuffled if m.ts - START < 600.0]
    assert seqs != sorted(seqs)
    assert all(0.0 <= m.arrival - m.ts <= 120.0 for m in shuffled)


def test_buffered_upload_arrives_when_the_outage_ends_in_seq_order() -> None:
    sim = simulator(Fault(FaultKind.BUFFERED_UPLOAD, RAIN, 120.0, 600.0),
                    Fault(FaultKind.BUFFERED_UPLOAD, QUAKE, 100.0, 110.0))  # fmt: skip
    rain = of(sim.deliveries(*WINDOW), RAIN)
    held = [m for m in rain if 120.0 <= m.ts - START < 600.0]
    assert held and all(m.arrival == START + 600.0 for m in held)
    assert [m.seq for m in held] == sorted(m.seq for m in held)
    quake = [m for m in of(sim.deliveries(*WINDOW), QUAKE) if 100.0 <= m.ts - START < 110.0]
    assert len(quake) == 30 and all(m.arrival == START + 110.0 for m in quake)


def test_windows_join_with_faults() -> None:
    sim = simulator(
        Fault(FaultKind.BUFFERED_UPLOAD, RAIN, 120.0, 600.0),
        Fault(FaultKind.REORDER, GAS, 0.0, 600.0, value=120.0),
        Fault(FaultKind.DUPLICATE, QUAKE, 0.0, 30.0, value=0.5),
    )
    whole = sim.deliveries(START, START + 900.0)
    cuts = [START, START + 0.5, START + 119.999, START + 600.0, START + 601.3, START + 900.0]
    parts = [m for a, b in zip(cuts, cuts[1:], strict=False) for m in sim.deliveries(a, b)]
    assert parts == whole
    arrivals = [m.arrival for m in whole]
    assert arrivals == sorted(arrivals)


def test_readings_are_what_ingest_decodes_from_deliveries() -> None:
    sim = simulator(Fault(FaultKind.SPIKE, GAS, at_s=(60.0,), value=7.0),
                    Fault(FaultKind.DUPLICATE, QUAKE, 0.0, 5.0))  # fmt: skip
    limits = load_quantities(REPO / "configs" / "quantities.yaml")
    delivered = sim.deliveries(START, START + 90.0)
    made = sim.readings(START, START + 90.0)
    assert len(delivered) == len(made)
    for message, reading in zip(delivered, made, strict=True):
        decoded = Decoder(sim.registry, limits).decode(  # a fresh history: copies decode too
            message.topic, message.payload, message.arrival + 1.0, received=message.arrival
        )
        assert (
            decoded.station,
            decoded.ts,
            decoded.seq,
            dict(decoded.values),
            decoded.quality,
            decoded.received,
        ) == (
            reading.station,
            reading.ts,
            reading.seq,
            dict(reading.values),
            reading.quality,
            reading.received,
        )
        if reading.kind is Kind.SEISMIC:
            assert decoded.waveform is not None and reading.waveform is not None
            assert decoded.waveform.channel == reading.waveform.channel
            assert np.array_equal(decoded.waveform.samples, reading.waveform.samples)
            assert not reading.waveform.samples.flags.writeable
    assert not math.isnan(made[0].received)
