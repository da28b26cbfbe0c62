"""Per-stream sequencing in front of a detector: duplicates dropped, short reorders undone.

A *stream* is one counter of one station: the station itself, or one seismic channel (ingest keys
duplicates the same way, ``(channel, seq, ts)``).

- **Duplicates** (defence in depth; ingest already refuses them): a reading whose ``seq`` was
  applied before and whose ``ts`` is not newer than the stream's newest applied reading. Applied
  seqs are kept as merged ``[lo, hi]`` ranges (one range for a gap-free stream), at most
  :data:`MAX_RANGES`, oldest dropped first.
- **Counter restart** (a sensor reboot): a ``seq`` at or below what was applied but with a newer
  ``ts`` starts the counter afresh; nothing is dropped.
- **Waveform packets not held** (seismic: no room in the early-warning budget): one station's
  channels share its ``seq`` counter (DESIGN: ``seq`` is per station), so each channel's seqs
  have gaps by design and ranges of them would only pile up. A packet is a duplicate when its
  channel already applied one with the same start time ``t0`` and ``seq`` (the last
  :data:`MAX_RANGES` kept); anything else, late or not, is applied (the detector judges old
  and overlapping packets).
- **Hold** (optional, ``hold=True``): a reading whose ``seq`` is beyond the next expected one waits
  until the gap fills, so a shuffled burst (a gauge uploading its buffer) is applied in the
  sensor's own order. :meth:`SequenceGate.release` (called from ``advance``) hands over whatever
  still waits, in ``seq`` order, so a seq lost for good (e.g. refused at ingest) delays at most
  until the runtime's next tick. More than ``max_pending`` held readings are released at once.

>>> from yujing.contracts import Kind, Reading
>>> def r(seq, ts): return Reading("S1", Kind.RAIN, "d", ts, seq, {"rain_mm": 1.0})
>>> gate = SequenceGate()
>>> [x.seq for x in gate.admit(r(1, 60.0), hold=True)]
[1]
>>> [x.seq for x in gate.admit(r(3, 180.0), hold=True)]   # 2 is missing: wait
[]
>>> [x.seq for x in gate.admit(r(2, 120.0), hold=True)]   # gap filled: both, in order
[2, 3]
>>> gate.admit(r(2, 120.0), hold=True)                    # duplicate
[]
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yujing.contracts import Kind, Reading, Waveform

MAX_RANGES = 64
DEFAULT_MAX_PENDING = 1024


def _low(seq_range: list[int]) -> int:
    return seq_range[0]


@dataclass(slots=True)
class _Stream:
    expected: int | None = None
    head_ts: float | None = None
    ranges: list[list[int]] = field(default_factory=list)
    pending: dict[int, Reading] = field(default_factory=dict)

    def take_next(self, seq: int, ts: float) -> bool:
        """Apply ``seq`` if it is simply the next one (nothing held, newer than the head);
        False, and nothing changed, otherwise."""
        if (
            seq != self.expected
            or self.pending
            or (self.head_ts is not None and ts <= self.head_ts)
        ):
            return False
        ranges = self.ranges
        if ranges and ranges[-1][1] == seq - 1:
            ranges[-1][1] = seq
        else:
            self.mark(seq, ts)
        self.head_ts = ts
        self.expected = seq + 1
        return True

    def applied(self, seq: int) -> bool:
        i = bisect.bisect_right(self.ranges, seq, key=_low) - 1
        return i >= 0 and self.ranges[i][0] <= seq <= self.ranges[i][1]

    def mark(self, seq: int, ts: float) -> None:
        ranges = self.ranges
        i = bisect.bisect_left(ranges, seq, key=_low)
        ranges.insert(i, [seq, seq])
        if i + 1 < len(ranges) and ranges[i + 1][0] <= seq + 1:  # merge right
            ranges[i][1] = max(seq, ranges[i + 1][1])
            del ranges[i + 1]
        if i > 0 and ranges[i - 1][1] >= seq - 1:  # merge left
            ranges[i - 1][1] = max(ranges[i - 1][1], ranges[i][1])
            del ranges[i]
        if len(ranges) > MAX_RANGES:
            del ranges[0]
        self.head_ts = ts if self.head_ts is None else max(self.head_ts, ts)
        self.expected = seq + 1 if self.expected is None else max(self.expected, seq + 1)

    def drain(self) -> list[Reading]:
        out = []
        while self.expected is not None and self.expected in self.pending:
            reading = self.pending.pop(self.expected)
            self.mark(reading.seq, reading.ts)
            out.append(reading)
        return out

    def release(self) -> list[Reading]:
        out = [self.pending[s] for s in sorted(self.pending)]
        self.pending.clear()
        for reading in out:
            self.mark(reading.seq, reading.ts)
        return out


@dataclass(slots=True)
class _Packets:
    """A channel's recently applied packets: (start time, seq)."""

    order: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=MAX_RANGES))
    seen: set[tuple[float, int]] = field(default_factory=set)

    def admit(self, t0: float, seq: int) -> bool:
        """Apply the packet ``(t0, seq)``? False for one applied before (a redelivery); an
        old or overlapping packet with a new seq goes on to the detector, which counts it."""
        key = (t0, seq)
        if key in self.seen:
            return False
        if len(self.order) == MAX_RANGES:
            self.seen.discard(self.order[0])
        self.order.append(key)
        self.seen.add(key)
        return True


class SequenceGate:
    """Duplicate filter and reorder hold for one detector (see the module docstring)."""

    def __init__(self, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.max_pending = max_pending
        self._streams: dict[str, _Stream] = {}
        self._packets: dict[str, _Packets] = {}  # waveform channel -> packets, when not held
        self.held = 0  # readings pending over all streams (a tick with none held costs nothing)

    def in_order(self, reading: Reading) -> bool:
        """Take a scalar reading that is simply the next of its station's stream, as
        :meth:`admit` would (it would return just the reading); False, and nothing changed,
        for anything else. The common case, without building a list."""
        if reading.waveform is not None:
            return False
        stream = self._streams.get("")
        return stream is not None and stream.take_next(reading.seq, reading.ts)

    def admit(self, reading: Reading, *, hold: bool) -> list[Reading]:
        """Readings now ready to apply, in order (possibly none, possibly several)."""
        wave = reading.waveform
        if wave is not None and not hold:
            packets = self._packets.get(wave.channel)
            if packets is None:
                packets = self._packets[wave.channel] = _Packets()
            return [reading] if packets.admit(wave.t0, reading.seq) else []
        key = wave.channel if wave is not None else ""
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = _Stream()
        seq, ts = reading.seq, reading.ts
        if (
            seq == stream.expected
            and not stream.pending
            and (stream.head_ts is None or ts > stream.head_ts)
        ):  # the next one, in order: by far the most common case (take_next, written out)
            ranges = stream.ranges
            if ranges and ranges[-1][1] == seq - 1:
                ranges[-1][1] = seq
            else:
                stream.mark(seq, ts)
            stream.head_ts = ts
            stream.expected = seq + 1
            return [reading]
        if seq in stream.pending:
            return []
        seen = stream.applied(seq)
        newer = stream.head_ts is None or ts > stream.head_ts
        if seen and not newer:
            return []
        out: list[Reading] = []
        if newer and (seen or (stream.expected is not None and seq < stream.expected)):
            released = stream.release()  # counter restarted: start the stream afresh
            self.held -= len(released)
            out.extend(released)
            stream.ranges.clear()
            stream.expected = None
        if not hold or stream.expected is None or seq <= stream.expected:
            stream.mark(seq, ts)
            out.append(reading)
            drained = stream.drain()
            self.held -= len(drained)
            out.extend(drained)
            return out
        stream.pending[seq] = reading
        self.held += 1
        if self.held > self.max_pending:
            out.extend(self.release())
        return out

    def release(self) -> list[Reading]:
        """Everything held, stream by stream in ``seq`` order."""
        if not self.held:
            return []
        out: list[Reading] = []
        for stream in self._streams.values():
            out.extend(stream.release())
        self.held = 0
        return out

    def snapshot(self) -> dict[str, Any]:
        return {
            "streams": {
                key: {
                    "expected": s.expected,
                    "head_ts": s.head_ts,
                    "ranges": [list(r) for r in s.ranges],
                    "pending": [reading_to_json(s.pending[q]) for q in sorted(s.pending)],
                }
                for key, s in self._streams.items()
            },
            "packets": {
                channel: [list(key) for key in p.order] for channel, p in self._packets.items()
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._streams = {
            key: _Stream(
                s["expected"],
                s["head_ts"],
                [[int(lo), int(hi)] for lo, hi in s["ranges"]],
                {r.seq: r for r in map(reading_from_json, s["pending"])},
            )
            for key, s in state["streams"].items()
        }
        self._packets = {}
        for channel, starts in state["packets"].items():
            packets = self._packets[channel] = _Packets()
            for t0, seq in starts:
                packets.admit(float(t0), int(seq))
        self.held = sum(len(s.pending) for s in self._streams.values())


def reading_to_json(reading: Reading) -> dict[str, Any]:
    """Plain-JSON form of a reading (for held readings in snapshots)."""
    wave = reading.waveform
    return {
        "station": reading.station,
        "kind": reading.kind.value,
        "district": reading.district,
        "ts": reading.ts,
        "seq": reading.seq,
        "values": dict(reading.values),
        "quality": reading.quality,
        "received": reading.received,
        "waveform": None
        if wave is None
        else {
            "channel": wave.channel,
            "sr_hz": wave.sr_hz,
            "t0": wave.t0,
            "samples": wave.samples.tolist(),
        },
    }


def reading_from_json(data: dict[str, Any]) -> Reading:
    wave = data["waveform"]
    waveform = None
    if wave is not None:
        samples = np.asarray(wave["samples"], dtype=np.float64)
        samples.flags.writeable = False
        waveform = Waveform(wave["channel"], wave["sr_hz"], wave["t0"], samples)
    return Reading(
        data["station"],
        Kind(data["kind"]),
        data["district"],
        data["ts"],
        data["seq"],
        dict(data["values"]),
        data["quality"],
        waveform,
        data["received"],
    )
