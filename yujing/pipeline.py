"""The synchronous heart shared by every runtime: raw messages → readings → findings → notices.

No I/O here. The embedded runtime feeds it batches from MQTT, replay feeds it from a recording on a
virtual clock, the Faust agents call the same stages; all get identical output for identical input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting import AlertBook
from detectors import Detector, build_detectors
from ingest import Decoder, DeadLetter
from yujing.config import LadderBook, QuantityLimits, Registry
from yujing.config.settings import IngestSettings
from yujing.contracts import Finding, Notice, PayloadRejected, Reading
from yujing.metrics import Metrics


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as it came off the wire: topic, payload bytes, ingest wall time."""

    topic: str
    payload: bytes
    received: float


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
    """Decoder + per-station detectors + alert book, with metrics observed on the side."""

    def __init__(
        self,
        registry: Registry,
        ladders: LadderBook,
        limits: QuantityLimits,
        ingest: IngestSettings,
        *,
        topic_prefix: str = "yujing/v1",
        metrics: Metrics | None = None,
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
        self.book = AlertBook()

    def process(self, messages: Iterable[RawMessage], now: float) -> StepResult:
        """Decode, detect and grade a batch of messages at time ``now``."""
        out = StepResult()
        for message in messages:
            try:
                reading = self.decoder.decode(
                    message.topic, message.payload, now, received=message.received
                )
            except PayloadRejected as rejected:
                out.rejected.append(
                    DeadLetter(
                        received=message.received,
                        topic=message.topic,
                        reason=rejected.reason,
                        detail=rejected.detail,
                        payload=message.payload,
                    )
                )
                continue
            out.readings.append(reading)
            for detector in self.detectors[reading.station]:
                out.findings.extend(detector.update(reading))
        self._grade(out)
        self._observe(out)
        return out

    def tick(self, now: float) -> StepResult:
        """Let time pass: silence, window expiry, book housekeeping."""
        out = StepResult()
        for detectors in self.detectors.values():
            for detector in detectors:
                out.findings.extend(detector.advance(now))
        self._grade(out)
        out.notices.extend(self.book.advance(now))
        self._observe(out)
        return out

    def _grade(self, out: StepResult) -> None:
        for finding in out.findings:
            out.notices.extend(self.book.apply(finding))

    def _observe(self, out: StepResult) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        for reading in out.readings:
            metrics.ingested.labels(reading.kind.value).inc()
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
            "book": self.book.snapshot(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.decoder.restore(state["decoder"])
        for station, snapshots in state["detectors"].items():
            detectors = self.detectors.get(station)
            if detectors is None or len(detectors) != len(snapshots):
                continue  # registry changed: that station starts fresh
            for detector, snap in zip(detectors, snapshots, strict=True):
                detector.restore(snap)
        self.book.restore(state["book"])


def latencies(notices: Sequence[Notice], now: float) -> list[tuple[str, float]]:
    """(hazard, seconds from sensor event time to ``now``) for notices that carry one."""
    return [
        (n.hazard.value, max(0.0, now - n.source_ts)) for n in notices if n.source_ts is not None
    ]
