"""The first tier of the scale-out runtime, without Faust: the readings and ticks of a readings
partition in, one :class:`~.records.StationRecord` per accepted reading and one
:class:`~.records.TickPart` per tick out, each station's state in a table.

The same objects as the embedded runtime do the work: the :class:`~ingest.Decoder` (its checks),
a :class:`~ingest.StationHistory` per station (duplicates and lateness, the decoder's last check)
and ``build_detectors(station, ladders.for_station(station))``. What the embedded runtime keeps in
one :class:`~yujing.pipeline.Pipeline`, this stage keeps per station, as the table value

``{"format", "token", "history", "detectors": [snapshot, ...], "emitted", "offset",
"advanced_to"}``

where ``emitted`` counts the readings the station sent on (the ``n`` of the next one) and
``offset`` is the last source offset applied (a replayed record at or below it is skipped).

Live objects are cached per station and trusted only while the table holds the token they last
wrote: after a rebalance another worker may have moved the station on, and then the objects are
rebuilt from the table. :meth:`StationStage.checkpoint` writes the stations changed since the
last checkpoint (:mod:`.state` says when, and why that order is crash-safe).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from detectors import Detector, build_detectors
from ingest import DeadLetter, Decoder, StationHistory
from yujing.config import LadderBook, QuantityLimits, Registry, StationSpec
from yujing.config.settings import IngestSettings
from yujing.contracts import Finding, PayloadRejected, Reading
from yujing.runtime.faust.records import StationRecord, TickPart, partition_for
from yujing.runtime.faust.state import StateTable

__all__ = ["STATE_FORMAT", "StationStage", "StationStep", "stateless_decoder"]

STATE_FORMAT = 1


def _every_partition(partition: int) -> bool:
    return True


class _AdmitAll(StationHistory):
    """A history that admits everything: the bridge checks a message on its own, the worker
    owning the station's partition applies the station's history."""

    def admit(self, station: str, channel: str, seq: int, ts: float) -> None:
        return None


def stateless_decoder(
    registry: Registry, limits: QuantityLimits, ingest: IngestSettings, topic_prefix: str
) -> Decoder:
    """The embedded runtime's decoder with every check but the per-station history
    (``duplicate`` and ``too_late``), which needs the station's state."""
    decoder = Decoder(
        registry,
        limits,
        prefix=topic_prefix,
        max_payload_bytes=ingest.max_payload_bytes,
        future_tolerance_s=ingest.future_tolerance_s,
        allowed_lateness_s=ingest.allowed_lateness_s,
    )
    decoder.history = _AdmitAll(ingest.allowed_lateness_s)
    return decoder


@dataclass(slots=True)
class _Unit:
    """One station's live objects and bookkeeping."""

    spec: StationSpec
    partition: int
    history: StationHistory
    detectors: list[Detector]
    emitted: int = 0
    offset: int = -1
    advanced_to: float | None = None
    token: str = ""

    def snapshot(self, token: str) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "token": token,
            "history": self.history.snapshot(),
            "detectors": [d.snapshot() for d in self.detectors],
            "emitted": self.emitted,
            "offset": self.offset,
            "advanced_to": self.advanced_to,
        }


@dataclass(slots=True)
class StationStep:
    """What one record produced."""

    readings: list[Reading] = field(default_factory=list)
    records: list[StationRecord] = field(default_factory=list)
    tick: TickPart | None = None
    rejected: list[DeadLetter] = field(default_factory=list)
    replayed: bool = False  # the state already holds this record: skipped

    @property
    def findings(self) -> list[Finding]:
        found = [f for record in self.records for f in record.findings]
        if self.tick is not None:
            found += [f for _, findings in self.tick.stations for f in findings]
        return found


class StationStage:
    """Per-station decode → history → detectors (see the module docstring).

    ``partitions`` is the readings topic's partition count: a tick of partition ``p`` advances
    the stations whose key Kafka's partitioner puts there. ``writer`` names this process in
    state tokens.
    """

    def __init__(
        self,
        registry: Registry,
        ladders: LadderBook,
        limits: QuantityLimits,
        ingest: IngestSettings,
        *,
        topic_prefix: str,
        partitions: int,
        writer: str | None = None,
    ) -> None:
        self.registry = registry
        self.ladders = ladders
        self.decoder = stateless_decoder(registry, limits, ingest, topic_prefix)
        self.allowed_lateness_s = ingest.allowed_lateness_s
        self.partitions = partitions
        self.by_partition: dict[int, list[str]] = {}
        for spec in registry:
            self.by_partition.setdefault(partition_for(spec.id, partitions), []).append(spec.id)
        self._writer = writer or uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        self._units: dict[str, _Unit] = {}
        self._dirty: set[str] = set()

    # ---- records ----------------------------------------------------------------------------

    def reading(
        self, table: StateTable, offset: int, mqtt_topic: str, payload: bytes, received: float
    ) -> StationStep:
        """One reading record (source ``offset``); ``received`` is the bridge's receive time,
        which is also ``now`` for the decoder (the bridge already checked the clock with it)."""
        step = StationStep()
        try:
            reading = self.decoder.decode(mqtt_topic, payload, received, received=received)
        except PayloadRejected as rejected:  # only when the bridge's registry differs
            step.rejected.append(DeadLetter.of(rejected, mqtt_topic, payload, received))
            return step
        unit = self._unit(table, reading.station)
        if offset <= unit.offset:
            step.replayed = True
            return step
        unit.offset = offset
        self._dirty.add(unit.spec.id)
        channel = "" if reading.waveform is None else reading.waveform.channel
        try:
            unit.history.admit(reading.station, channel, reading.seq, reading.ts)
        except PayloadRejected as rejected:
            step.rejected.append(DeadLetter.of(rejected, mqtt_topic, payload, received))
            return step
        step.readings.append(reading)
        findings: list[Finding] = []
        for detector in unit.detectors:
            findings.extend(detector.update(reading))
        unit.emitted += 1
        step.records.append(
            StationRecord(unit.spec.id, unit.emitted, received, reading, tuple(findings))
        )
        return step

    def tick(self, table: StateTable, partition: int, now: float) -> StationStep:
        """Let time pass to ``now`` for every station of ``partition`` (silence, window expiry);
        the step's :class:`~.records.TickPart` says what that did, findings or not.

        A station's state is marked for the next checkpoint only when the tick made findings:
        ``advance`` is idempotent, so an advance lost in a crash is redone by the next tick.
        """
        step = StationStep()
        stations: list[tuple[str, tuple[Finding, ...]]] = []
        for station in self.by_partition.get(partition, ()):
            unit = self._unit(table, station)
            if unit.advanced_to is not None and now <= unit.advanced_to:
                continue
            findings: list[Finding] = []
            for detector in unit.detectors:
                findings.extend(detector.advance(now))
            unit.advanced_to = now
            if findings:
                stations.append((station, tuple(findings)))
                self._dirty.add(station)
        step.tick = TickPart(partition, now, tuple(stations))
        return step

    def checkpoint(self, table: StateTable, owns: Callable[[int], bool] = _every_partition) -> int:
        """Write the stations changed since the last checkpoint; returns how many.

        ``owns(partition)`` says whether this worker still holds a partition: a station whose
        partition moved away meanwhile is dropped, never written (its next owner replays).
        """
        written = 0
        for station in sorted(self._dirty):
            unit = self._units.get(station)
            if unit is None:  # forgotten since (rebalance): its next owner replays
                continue
            if not owns(unit.partition):
                del self._units[station]
                continue
            token = f"{self._writer}:{next(self._counter)}"
            table.put(unit.partition, station, unit.snapshot(token))
            unit.token = token
            written += 1
        self._dirty.clear()
        return written

    def forget(self, partition: int | None = None) -> None:
        """Drop live objects (of one partition's stations, or all): rebuilt from the table.

        When a rebalance takes the partition away: changes not checkpointed go with them; their
        records were not committed, so the partition's next owner replays them.
        """
        if partition is None:
            self._units.clear()
            self._dirty.clear()
            return
        for station in self.by_partition.get(partition, ()):
            self._units.pop(station, None)
            self._dirty.discard(station)

    # ---- state ------------------------------------------------------------------------------

    def _unit(self, table: StateTable, station: str) -> _Unit:
        """The station's live objects, rebuilt from the table unless the cache is current."""
        unit = self._units.get(station)
        if unit is not None and station in self._dirty:
            return unit  # ahead of the table until the checkpoint
        stored = table.get(station)
        token = "" if stored is None else str(stored.get("token", ""))
        if unit is not None and unit.token == token:
            return unit
        unit = self._fresh(station)
        if stored is not None:
            self._restore(unit, stored)
        self._units[station] = unit
        return unit

    def _fresh(self, station: str) -> _Unit:
        spec = self.registry.get(station)
        if spec is None:
            raise KeyError(f"station {station!r} is not in the registry")
        detectors = build_detectors(spec, self.ladders.for_station(spec))
        return _Unit(
            spec,
            partition_for(station, self.partitions),
            StationHistory(self.allowed_lateness_s),
            detectors,
        )

    def _restore(self, unit: _Unit, stored: dict[str, Any]) -> None:
        if stored.get("format") != STATE_FORMAT:
            raise ValueError(f"station state format {stored.get('format')!r} is not 1")
        unit.history.restore(stored["history"])
        snapshots = stored["detectors"]
        if len(snapshots) == len(unit.detectors):  # else the rules changed: detectors start fresh
            for detector, snap in zip(unit.detectors, snapshots, strict=True):
                detector.restore(snap)
        unit.emitted = int(stored["emitted"])
        unit.offset = int(stored["offset"])
        advanced = stored.get("advanced_to")
        unit.advanced_to = None if advanced is None else float(advanced)
        unit.token = str(stored["token"])
