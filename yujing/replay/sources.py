"""What a replay is fed: a scenario (generated on the fly) or a recording, as items in arrival
order for any window of arrival time.

- :class:`ScenarioSource` — a :class:`~simulators.SensorSimulator`'s deliveries (faults applied).
  ``wire=False`` (default) makes :class:`~yujing.contracts.Reading` objects directly, as ingest
  would decode them; ``wire=True`` makes the JSON messages and lets the pipeline decode them
  (what live does; slower, and the tests check both give the same notices).
- :class:`RecordingSource` — a recording's (arrival, topic, payload) rows
  (:mod:`simulators.recording`).
"""

from __future__ import annotations

import bisect
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from simulators import SensorSimulator
from simulators.recording import Recording, read_recording
from simulators.rows import Rows
from yujing.config import Registry
from yujing.contracts import Kind, Reading
from yujing.pipeline import RawMessage

__all__ = ["RecordingSource", "ReplaySource", "ScenarioSource"]

Item = Reading | RawMessage
CHUNK_MESSAGES = 100_000


class ReplaySource(Protocol):
    registry: Registry
    first: float  # arrival time of the first item
    end: float  # virtual time up to which the replay runs (ticks included)
    wire: bool  # items are RawMessage (True) or Reading (False)

    def items(self, t0: float, t1: float) -> list[Item]:
        """Items arriving in [t0, t1), in arrival order (``received`` is the arrival time)."""
        ...


@dataclass
class ScenarioSource:
    simulator: SensorSimulator
    wire: bool = False
    kinds: Collection[Kind] | None = None
    stations: Collection[str] | None = None
    tail_s: float = 0.0

    def __post_init__(self) -> None:
        self.registry = self.simulator.registry
        self.first = self.simulator.first_arrival
        self.end = self.simulator.end + self.tail_s
        # generate about CHUNK_MESSAGES at a time: fewer, larger numpy calls, bounded memory
        rate = sum(
            (3.0 if s.kind is Kind.SEISMIC else 1.0) / s.interval_s
            for s in self.registry
            if (self.kinds is None or s.kind in self.kinds)
            and (self.stations is None or s.id in self.stations)
        )
        self.chunk_s = min(3600.0, max(60.0, CHUNK_MESSAGES / max(rate, 1e-9)))

    def items(self, t0: float, t1: float) -> list[Item]:
        if self.wire:
            kinds = self.kinds
            return [
                RawMessage(m.topic, m.payload, m.arrival)
                for m in self.simulator.deliveries(t0, t1, kinds)
                if self.stations is None or m.station in self.stations
            ]
        return list(self.simulator.readings(t0, t1, self.kinds, self.stations))

    def rows(self, t0: float, t1: float) -> Rows:
        """What :meth:`items` makes its readings of (direct path only), as columns: cheap to
        send to another process (:mod:`yujing.replay.split`), which makes them with
        :meth:`items_of`."""
        assert not self.wire
        return self.simulator.delivered_rows(t0, t1, self.kinds, self.stations)

    def items_of(self, rows: Rows) -> list[Item]:
        """The items of :meth:`rows`: what :meth:`items` gives for the same window."""
        return list(self.simulator.readings_of(rows))


class RecordingSource:
    """A recording replayed through the wire path (decode included)."""

    wire = True

    def __init__(self, recording: Recording, registry: Registry, tail_s: float = 0.0) -> None:
        self.recording = recording
        self.registry = registry
        self._arrivals = [row.arrival for row in recording.rows]
        self.first = self._arrivals[0] if self._arrivals else 0.0
        last = self._arrivals[-1] if self._arrivals else 0.0
        self.end = max(last, float(recording.header.get("end", last))) + tail_s

    @classmethod
    def open(cls, path: Path, registry: Registry, tail_s: float = 0.0) -> RecordingSource:
        return cls(read_recording(path), registry, tail_s)

    def items(self, t0: float, t1: float) -> list[Item]:
        lo = bisect.bisect_left(self._arrivals, t0)
        hi = bisect.bisect_left(self._arrivals, t1)
        return [
            RawMessage(row.topic, row.payload, row.arrival) for row in self.recording.rows[lo:hi]
        ]
