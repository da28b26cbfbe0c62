"""The sensor simulator: deterministic bytes, any windowing, wire format, order, seq, speed."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import fields

import pytest

from simulators import Scenario, SensorSimulator
from simulators.generator import SimMessage, _rounded_column, _scalar_reading
from simulators.sources import RainSource, batched_field
from tests.unit.simulators.helpers import START, check_wire
from yujing.config import QuantityLimits, Registry
from yujing.contracts import Kind, Reading


def test_same_seed_gives_the_same_bytes(registry: Registry, scenario: Scenario) -> None:
    window = (START + 295.0, START + 315.0)  # gas, chem, ponding events and the P/S waves
    one = SensorSimulator(registry, scenario, 7, START).messages(*window)
    two = SensorSimulator(registry, scenario, 7, START).messages(*window)
    other = SensorSimulator(registry, scenario, 8, START).messages(*window)
    assert one == two
    assert one != other


def test_windows_join_to_the_same_messages(simulator: SensorSimulator) -> None:
    whole = simulator.messages(START - 100.0, START + 40.0)
    cuts = [START - 100.0, START - 37.123, START + 0.0005, START + 3.3, START + 40.0]
    parts = [m for a, b in zip(cuts, cuts[1:], strict=False) for m in simulator.messages(a, b)]
    assert parts == whole
    assert simulator.messages(START + 5.0, START + 5.0) == []


def test_every_message_fits_the_wire_format_and_limits(
    demo_messages: list[SimMessage], registry: Registry, limits: QuantityLimits
) -> None:
    for message in demo_messages:
        body = check_wire(message.topic, message.payload, registry, limits)
        assert body["ts"] == round(message.ts * 1000) and body["seq"] == message.seq


def test_messages_come_in_event_time_order(demo_messages: list[SimMessage]) -> None:
    times = [m.ts for m in demo_messages]
    assert times == sorted(times)


def test_seq_counts_from_zero_without_gaps_per_station(
    demo_messages: list[SimMessage], registry: Registry
) -> None:
    seqs: dict[str, list[int]] = defaultdict(list)
    for message in demo_messages:
        seqs[message.station].append(message.seq)
    assert set(seqs) == set(registry.stations)
    for station, numbers in seqs.items():
        assert numbers == list(range(len(numbers))), station


def test_rain_gauges_publish_three_hours_of_history_the_others_start_at_zero(
    demo_messages: list[SimMessage], registry: Registry
) -> None:
    first: dict[str, float] = {}
    for message in demo_messages:
        first.setdefault(message.station, message.ts)
    for spec in registry:
        offset = first[spec.id] - START
        if spec.kind is Kind.RAIN:
            assert -10800.0 <= offset < -10800.0 + spec.interval_s
        else:
            assert 0.0 <= offset < spec.interval_s


def test_seismic_packets_are_one_second_of_three_channels(
    simulator: SensorSimulator, registry: Registry
) -> None:
    packets = [m for m in simulator.stream(START, START + 2.0) if m.kind is Kind.SEISMIC]
    assert len(packets) == 2 * 3 * len(registry.of_kind(Kind.SEISMIC))
    bodies = [json.loads(m.payload) for m in packets if m.station == "HD-SM-007"]
    assert [(b["channel"], b["seq"], b["t0"]) for b in bodies] == [
        ("HNZ", 0, 1_784_613_600_000),
        ("HNN", 1, 1_784_613_600_000),
        ("HNE", 2, 1_784_613_600_000),
        ("HNZ", 3, 1_784_613_601_000),
        ("HNN", 4, 1_784_613_601_000),
        ("HNE", 5, 1_784_613_601_000),
    ]


def test_a_minute_of_the_demo_district_is_every_station_at_its_interval(
    simulator: SensorSimulator, registry: Registry
) -> None:
    per_station = Counter(m.station for m in simulator.stream(START + 1000.0, START + 1060.0))
    for spec in registry:
        reports = 60.0 / spec.interval_s * (3 if spec.kind is Kind.SEISMIC else 1)
        assert per_station[spec.id] in (math.floor(reports), math.ceil(reports)), spec.id
    assert per_station.total() > 60 * 60  # ~69 messages per scenario second (bench/ times it)


def test_a_reading_made_slot_by_slot_is_what_the_constructor_makes() -> None:
    made = _scalar_reading("R1", Kind.RAIN, "d1", 1.5, 7, {"rain_mm": 0.2}, 2.0)
    built = Reading("R1", Kind.RAIN, "d1", 1.5, 7, {"rain_mm": 0.2}, "ok", None, 2.0)
    assert made == built
    assert repr(made) == repr(built)
    assert [getattr(made, f.name) for f in fields(Reading)] == [
        getattr(built, f.name) for f in fields(Reading)
    ]


def test_remembered_rounding_is_round() -> None:
    values = [0.0, -0.0, 0.1, 0.30000000000000004, 2.675, -1.005, 1e-9, 123.456789, math.inf]
    for digits in (1, 2, 3):
        for _ in range(2):  # computed, then remembered
            got = _rounded_column(values * 3, digits)
            want = [round(x, digits) + 0.0 for x in values * 3]
            assert [repr(x) for x in got] == [repr(x) for x in want]
    assert math.isnan(_rounded_column([math.nan], 1)[0])


def test_rain_gauges_made_together_are_the_gauges_made_one_by_one(
    simulator: SensorSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's gauges, through a storm, made in one go per rain field (rain_values) and one
    gauge at a time: the same rows, the same values to the last bit."""
    windows = [(START + 3600.0 * h, START + 3600.0 * (h + 1)) for h in range(0, 6, 2)]
    rain = {Kind.RAIN}
    gauges = [simulator.source(s.id) for s in simulator.registry.of_kind(Kind.RAIN)]
    assert gauges and all(isinstance(g, RainSource) and batched_field(g.parts) for g in gauges)
    together = [simulator.delivered_rows(a, b, rain) for a, b in windows]
    monkeypatch.setattr("simulators.generator.batched_field", lambda parts: False)
    alone = [simulator.delivered_rows(a, b, rain) for a, b in windows]
    assert any(
        p.get("rain_mm", 0.0) > 0 for rows in together for p in rows.payload if isinstance(p, dict)
    )
    for a, b in zip(together, alone, strict=True):
        assert (a.arrival, a.ts_ms, a.order, a.channel, a.seq) == (
            b.arrival, b.ts_ms, b.order, b.channel, b.seq,
        )  # fmt: skip
        assert [repr(p) for p in a.payload] == [repr(p) for p in b.payload]
