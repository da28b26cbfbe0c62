"""The synchronous heart shared by every runtime: raw messages → readings → findings → notices.

No I/O here. The embedded runtime feeds it batches from MQTT, replay feeds it from a recording on a
virtual clock, the Faust agents call the same stages; all get identical output for identical input.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from alerting import PolicyGrader
from detectors import Detector, build_detectors, build_second_tier
from ingest import DeadLetter, Decoder, reading_topic
from yujing.config import LadderBook, QuantityLimits, Registry
from yujing.config.settings import IngestSettings
from yujing.contracts import Alert, Finding, Notice, PayloadRejected, Reading, RejectReason
from yujing.metrics import Metrics

log = logging.getLogger(__name__)

COMPLETENESS_EVERY_S = 10.0
"""How often the per-station completeness gauges are refreshed: a gauge per station is work
per station, and Prometheus scrapes every 15 s or so."""


class Grader(Protocol):
    """The alerting stage as the pipeline sees it: findings and time in, notices out.

    The default is :class:`alerting.PolicyGrader` (pure, state in :meth:`Pipeline.snapshot`);
    the embedded runtime passes :class:`alerting.AlertingService`, which journals every step
    before sending and keeps its state out of the snapshot (``snapshot()`` returns None).
    """

    def apply(self, findings: Sequence[Finding], now: float) -> list[Notice]: ...
    def advance(self, now: float) -> list[Notice]: ...
    def alerts(self) -> list[Alert]: ...
    def snapshot(self) -> dict[str, Any] | None: ...
    def restore(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as it came off the wire: topic, payload bytes, ingest wall time."""

    topic: str
    payload: bytes
    received: float


class WireMessage(Protocol):
    """What the pipeline reads of a message: :class:`RawMessage`, or the MQTT receiver's own
    (``ingest.RawMessage``, which the runtime passes on as it is rather than copy each one)."""

    @property
    def topic(self) -> str: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def received(self) -> float: ...


@dataclass(slots=True)
class StepResult:
    """What one batch (or one tick) produced."""

    readings: list[Reading] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    rejected: list[DeadLetter] = field(default_factory=list)

    def extend(self, other: StepResult) -> None:
        self.readings.extend(other.readings)
        self.findings.extend(other.findings)
        self.notices.extend(other.notices)
        self.rejected.extend(other.rejected)


class Pipeline:
    """Decoder + per-station detectors (first tier) + area/network/chain detectors (second
    tier, :mod:`detectors.tier2`) + alert book, with metrics observed on the side."""

    def __init__(
        self,
        registry: Registry,
        ladders: LadderBook,
        limits: QuantityLimits,
        ingest: IngestSettings,
        *,
        topic_prefix: str = "yujing/v1",
        metrics: Metrics | None = None,
        grader: Grader | None = None,
    ) -> None:
        self.registry = registry
        self.metrics = metrics
        self.decoder = Decoder(
            registry,
            limits,
            prefix=topic_prefix,
            max_payload_bytes=ingest.max_payload_bytes,
            future_tolerance_s=ingest.future_tolerance_s,
            allowed_lateness_s=ingest.allowed_lateness_s,
        )
        self.detectors: dict[str, list[Detector]] = {
            station.id: build_detectors(station, ladders.for_station(station))
            for station in registry
        }
        self.areas = build_second_tier(registry, ladders)
        self.book: Grader = grader if grader is not None else PolicyGrader()
        self._completeness_at: float | None = None

    def process(self, messages: Iterable[WireMessage], now: float) -> StepResult:
        """Decode, detect and grade a batch of messages at time ``now``."""
        out = self._feed(messages, now)
        self.grade(out, now)
        return out

    def process_readings(self, readings: Iterable[Reading], now: float) -> StepResult:
        """Like :meth:`process` for readings decoded elsewhere (replay makes them straight from
        a scenario, skipping JSON): ingest's post-decode checks (``future_timestamp``, the
        station history's ``duplicate`` and ``too_late``) still apply (:func:`_admit`)."""
        out = StepResult()
        for _, reading in self.admitted_at(readings, now, out, wire=False):
            self.second_tier(reading, self.first_tier(reading), out)
        self.grade(out, now)
        return out

    def recover(self, messages: Iterable[WireMessage] | None, now: float) -> None:
        """Feed the detectors a batch (or, ``messages`` None, a tick) they already saw before a
        crash, without grading: the book's own journal already holds what they decided
        (:mod:`yujing.runtime.recovery`)."""
        if messages is None:
            self.areas.advance(now, self.first_tier_advance(now))
        else:
            self._feed(messages, now)

    def tick(self, now: float) -> StepResult:
        """Let time pass: silence, window expiry, book housekeeping."""
        return self.tick_after(now, self.first_tier_advance(now))

    # -- the stages, for runtimes that split them (yujing.replay.split) ------------------------

    def admitted(
        self, items: Iterable[Reading | WireMessage], now: float, out: StepResult, *, wire: bool
    ) -> Iterator[Reading]:
        """The readings ingest admits (decoded from messages when ``wire``); the others become
        dead letters in ``out``. Admission is deterministic: run on the same items in the same
        order, two pipelines admit the same readings."""
        for _, reading in self.admitted_at(items, now, out, wire=wire):
            yield reading

    def admitted_at(
        self, items: Iterable[Reading | WireMessage], now: float, out: StepResult, *, wire: bool
    ) -> Iterator[tuple[int, Reading]]:
        """:meth:`admitted`, each reading with its item's position among ``items``."""
        if wire:
            for position, message in enumerate(items):
                assert not isinstance(message, Reading)
                try:
                    decoded = self.decoder.decode(
                        message.topic, message.payload, now, received=message.received
                    )
                except PayloadRejected as rejected:
                    out.rejected.append(_dead_letter(rejected, message))
                    continue
                yield position, decoded
            return
        decoder = self.decoder
        latest = now + decoder.future_tolerance_s
        admit = decoder.history.admit
        for position, reading in enumerate(items):  # admit(), written out: runs for every reading
            assert isinstance(reading, Reading)
            try:
                if reading.ts > latest:
                    _admit(decoder, reading, now)  # raises future_timestamp
                wave = reading.waveform
                channel = "" if wave is None else wave.channel
                admit(reading.station, channel, reading.seq, reading.ts)
            except PayloadRejected as rejected:
                out.rejected.append(self._refused(reading, rejected))
                continue
            yield position, reading

    def admit(self, reading: Reading, now: float, out: StepResult) -> bool:
        """Does ingest admit ``reading`` (made without JSON)? If not, its dead letter goes to
        ``out``. One reading of :meth:`admitted`, for runtimes that admit each station's
        readings where its detectors run (:mod:`yujing.replay.split`)."""
        try:
            _admit(self.decoder, reading, now)
        except PayloadRejected as rejected:
            out.rejected.append(self._refused(reading, rejected))
            return False
        return True

    def _refused(self, reading: Reading, rejected: PayloadRejected) -> DeadLetter:
        topic = reading_topic(self.decoder.prefix, reading.district, reading.kind, reading.station)
        return _dead_letter(rejected, RawMessage(topic, b"", reading.received))

    def first_tier(self, reading: Reading) -> list[Finding]:
        """The per-station detectors of the reading's station: their findings."""
        first: list[Finding] = []
        for detector in self.detectors[reading.station]:
            try:
                first.extend(detector.update(reading))
            except Exception:  # a detector bug must not stop the other stations
                self._detector_failed(detector, reading.station)
        return first

    def second_tier(self, reading: Reading, first: list[Finding], out: StepResult) -> None:
        """Area, network and chain detectors on one admitted reading and what the first tier
        found in it; what goes on towards the book lands in ``out``."""
        out.readings.append(reading)
        out.findings.extend(self.areas.update(reading, first))

    def first_tier_advance(
        self, now: float, stations: Sequence[str] | None = None
    ) -> list[Finding]:
        """Time passes for every per-station detector (or those of ``stations``, in registry
        order): their time-driven findings."""
        first: list[Finding] = []
        every = self.detectors
        for station in every if stations is None else stations:
            for detector in every[station]:
                try:
                    found = detector.advance(now)
                except Exception:  # a detector bug must not stop the other stations
                    self._detector_failed(detector, station)
                    continue
                if found:  # most stations, most ticks: nothing
                    first.extend(found)
        return first

    def tick_after(self, now: float, first: list[Finding]) -> StepResult:
        """The rest of a tick, given the first tier's time-driven findings at ``now``."""
        out = StepResult()
        out.findings.extend(self.areas.advance(now, first))
        out.notices.extend(self.book.apply(out.findings, now))
        out.notices.extend(self.book.advance(now))  # escalation, repeats, expiry
        self._observe(out)
        if self._completeness_at is None or now - self._completeness_at >= COMPLETENESS_EVERY_S:
            self._completeness_at = now
            self._observe_completeness()
        return out

    def grade(self, out: StepResult, now: float) -> None:
        """The alert book on a step's findings; metrics of the whole step."""
        out.notices.extend(self.book.apply(out.findings, now))
        self._observe(out)

    def _feed(self, messages: Iterable[WireMessage], now: float) -> StepResult:
        out = StepResult()
        for reading in self.admitted(messages, now, out, wire=True):
            self.second_tier(reading, self.first_tier(reading), out)
        return out

    def _detector_failed(self, detector: Detector, station: str) -> None:
        name = type(detector).__name__
        log.exception("detector failed", extra={"detector": name, "station": station})
        if self.metrics is not None:
            self.metrics.detector_errors.labels(name).inc()

    def _observe(self, out: StepResult) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        # per kind, one increment per step: a labelled counter costs ~1 µs per call
        for kind, count in Counter(reading.kind for reading in out.readings).items():
            metrics.ingested.labels(kind.value).inc(count)
        for letter in out.rejected:
            metrics.rejected.labels(letter.reason.value).inc()
        for finding in out.findings:
            metrics.findings.labels(finding.hazard.value, finding.grade.value).inc()
        for notice in out.notices:
            metrics.notices.labels(
                notice.hazard.value, notice.grade.value, notice.reason.value
            ).inc()
        if out.notices:
            self.refresh_active_gauge()

    def _observe_completeness(self) -> None:
        """Received / expected reports per station and per district (and kind), on each tick."""
        if self.metrics is None:
            return
        book = self.areas.completeness
        stations = book.stations()
        self.metrics.completeness.set(stations, book.districts(stations))

    def refresh_active_gauge(self) -> None:
        if self.metrics is None:
            return
        counts: dict[tuple[str, str], int] = {}
        for alert in self.book.alerts():
            label = (alert.key.hazard.value, alert.grade.value)
            counts[label] = counts.get(label, 0) + 1
        gauge = self.metrics.alerts_active
        gauge.clear()
        for (hazard, grade), count in counts.items():
            gauge.labels(hazard, grade).set(count)

    def snapshot(self) -> dict[str, Any]:
        """Plain-JSON state of decoder, detectors and book."""
        return {
            "decoder": self.decoder.snapshot(),
            "detectors": {
                station: [d.snapshot() for d in detectors]
                for station, detectors in self.detectors.items()
            },
            "areas": self.areas.snapshot(),
            "book": self.book.snapshot(),  # None when the grader journals its own state
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.decoder.restore(state["decoder"])
        for station, snapshots in state["detectors"].items():
            detectors = self.detectors.get(station)
            if detectors is None or len(detectors) != len(snapshots):
                continue  # registry changed: that station starts fresh
            for detector, snap in zip(detectors, snapshots, strict=True):
                detector.restore(snap)
        if "areas" in state:
            self.areas.restore(state["areas"])
        if state.get("book") is not None:
            self.book.restore(state["book"])


def _dead_letter(rejected: PayloadRejected, message: WireMessage) -> DeadLetter:
    return DeadLetter(
        received=message.received,
        topic=message.topic,
        reason=rejected.reason,
        detail=rejected.detail,
        payload=message.payload,
    )


def _admit(decoder: Decoder, reading: Reading, now: float) -> None:
    """The checks :meth:`ingest.Decoder.decode` makes after parsing (future event time, then
    duplicate / too late against the station history), for a reading made without JSON."""
    if reading.ts > now + decoder.future_tolerance_s:
        raise PayloadRejected(
            RejectReason.FUTURE_TIMESTAMP,
            f"ts {reading.ts:.3f} is {reading.ts - now:.3f} s ahead of now {now:.3f} "
            f"(tolerance {decoder.future_tolerance_s:g} s)",
        )
    channel = "" if reading.waveform is None else reading.waveform.channel
    decoder.history.admit(reading.station, channel, reading.seq, reading.ts)


def latencies(notices: Sequence[Notice], now: float) -> list[tuple[str, float]]:
    """(hazard, seconds from sensor event time to ``now``) for notices that carry one."""
    return [
        (n.hazard.value, max(0.0, now - n.source_ts)) for n in notices if n.source_ts is not None
    ]
