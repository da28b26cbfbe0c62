"""The sequence gate: duplicates, reorder hold, counter restarts, bounded memory."""

from __future__ import annotations

import json

import numpy as np

from detectors._sequence import MAX_RANGES, SequenceGate, reading_from_json, reading_to_json
from yujing.contracts import Kind, Reading, Waveform


def r(seq: int, ts: float, channel: str | None = None) -> Reading:
    wave = None
    if channel is not None:
        wave = Waveform(channel, 100.0, ts, np.zeros(3))
    return Reading("S1", Kind.RAIN, "d", ts, seq, {"rain_mm": 1.0}, waveform=wave)


def seqs(readings: list[Reading]) -> list[int]:
    return [x.seq for x in readings]


def test_in_order_passes_and_duplicates_are_dropped() -> None:
    gate = SequenceGate()
    assert [seqs(gate.admit(r(i, 60.0 * i), hold=True)) for i in range(1, 4)] == [[1], [2], [3]]
    assert gate.admit(r(2, 120.0), hold=True) == []
    assert gate.admit(r(3, 180.0), hold=False) == []


def test_a_gap_holds_until_filled_or_released() -> None:
    gate = SequenceGate()
    gate.admit(r(1, 60.0), hold=True)
    assert gate.admit(r(4, 240.0), hold=True) == []
    assert gate.admit(r(3, 180.0), hold=True) == []
    assert gate.admit(r(3, 180.0), hold=True) == []  # duplicate of a held one
    assert seqs(gate.admit(r(2, 120.0), hold=True)) == [2, 3, 4]
    assert gate.admit(r(7, 420.0), hold=True) == []
    assert seqs(gate.release()) == [7]  # the tick: 5 and 6 are given up for now
    assert seqs(gate.admit(r(5, 300.0), hold=True)) == [5]  # a late fill still passes
    assert gate.admit(r(5, 300.0), hold=True) == []


def test_without_hold_everything_new_passes_at_once() -> None:
    gate = SequenceGate()
    assert seqs(gate.admit(r(5, 5.0, "HNN"), hold=False)) == [5]
    assert seqs(gate.admit(r(3, 3.0, "HNN"), hold=False)) == [3]
    assert seqs(gate.admit(r(5, 5.0, "HNE"), hold=False)) == [5]  # another channel, own stream
    assert gate.admit(r(5, 5.0, "HNE"), hold=False) == []


def test_a_counter_restart_is_not_a_duplicate() -> None:
    gate = SequenceGate()
    for i in range(1, 6):
        gate.admit(r(i, 60.0 * i), hold=True)
    assert seqs(gate.admit(r(0, 1000.0), hold=True)) == [0]  # reboot: seq 0, new event time
    assert seqs(gate.admit(r(1, 1060.0), hold=True)) == [1]
    assert gate.admit(r(1, 1060.0), hold=True) == []


def test_memory_is_bounded() -> None:
    gate = SequenceGate(max_pending=10)
    gate.admit(r(0, 0.0), hold=True)
    out = []
    for i in range(2, 40, 2):  # every other seq missing: held, then released at 11 pending
        out += gate.admit(r(i, float(i)), hold=True)
    assert seqs(out) == list(range(2, 24, 2))
    for i in range(1000, 1000 + 4 * MAX_RANGES, 2):
        gate.admit(r(i, float(i)), hold=False)
    assert len(gate.snapshot()["streams"][""]["ranges"]) <= MAX_RANGES


def test_snapshot_round_trips_held_readings() -> None:
    gate = SequenceGate()
    gate.admit(r(1, 60.0, "HNZ"), hold=True)
    gate.admit(r(3, 180.0, "HNZ"), hold=True)
    again = SequenceGate()
    again.restore(json.loads(json.dumps(gate.snapshot())))
    assert seqs(again.admit(r(2, 120.0, "HNZ"), hold=True)) == [2, 3]
    held = r(9, 9.0, "HNN")
    back = reading_from_json(json.loads(json.dumps(reading_to_json(held))))
    assert back.waveform is not None and held.waveform is not None
    assert np.array_equal(back.waveform.samples, held.waveform.samples)
    assert (back.station, back.kind, back.ts, back.seq, dict(back.values)) == (
        held.station,
        held.kind,
        held.ts,
        held.seq,
        dict(held.values),
    )


def test_packets_of_channels_sharing_one_counter_pass_and_stay_small() -> None:
    """A seismic station's three channels share its seq counter: each channel sees every third
    seq. Every packet passes once (late ones too), a redelivered one is dropped, and the gate
    keeps at most MAX_RANGES packets per channel, through a snapshot."""
    gate = SequenceGate()
    passed = []
    for second in range(3 * MAX_RANGES):
        for k, channel in enumerate(("HNZ", "HNN", "HNE")):
            passed += gate.admit(r(3 * second + k, float(second), channel), hold=False)
    assert len(passed) == 9 * MAX_RANGES
    last = 3 * MAX_RANGES - 1
    assert gate.admit(r(3 * last, float(last), "HNZ"), hold=False) == []  # redelivered
    assert seqs(gate.admit(r(10_000, float(last + 5), "HNZ"), hold=False)) == [10_000]
    assert seqs(gate.admit(r(9_999, float(last + 4), "HNZ"), hold=False)) == [9_999]  # late
    saved = json.loads(json.dumps(gate.snapshot()))
    assert all(len(starts) <= MAX_RANGES for starts in saved["packets"].values())
    again = SequenceGate()
    again.restore(saved)
    assert again.admit(r(9_999, float(last + 4), "HNZ"), hold=False) == []
    assert seqs(again.admit(r(10_003, float(last + 6), "HNZ"), hold=False)) == [10_003]
